// A plain `openai` SDK program: a tool-calling chat loop (non-streamed call, then a streamed one).
// Reads OPENAI_API_KEY / OPENAI_BASE_URL like any app; knows nothing about llmtap. Exits with
// $EXIT_CODE (default 0) so tests can check that `llmtap run` passes the code through.
import OpenAI from 'openai';

const client = new OpenAI();
const model = process.env.TEST_MODEL || 'gpt-4o-mini';
const tools = [{
  type: 'function',
  function: {
    name: 'lookup_order',
    description: 'Look up an order by id',
    parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
  },
}];
const messages = [
  { role: 'system', content: 'You are the support agent of an online shop. Use lookup_order.' },
  { role: 'user', content: 'Where is my order 1002?' },
];
const first = await client.chat.completions.create({ model, messages, tools });
const call = first.choices[0].message.tool_calls?.[0];
if (!call) throw new Error('expected a tool call');
messages.push(first.choices[0].message);
messages.push({ role: 'tool', tool_call_id: call.id,
                content: JSON.stringify({ order_id: JSON.parse(call.function.arguments).order_id, status: 'in transit' }) });
const stream = await client.chat.completions.create({
  model, messages, tools, stream: true, stream_options: { include_usage: true },
});
let text = '';
for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
console.log(text);
process.exitCode = Number(process.env.EXIT_CODE || 0);
