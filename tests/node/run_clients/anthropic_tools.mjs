// A plain `@anthropic-ai/sdk` program: a tool-use loop (non-streamed call, then a streamed one).
// Reads ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL like any app; knows nothing about llmtap.
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic();
const model = process.env.TEST_MODEL || 'claude-sonnet-4-5';
const tools = [{
  name: 'lookup_order',
  description: 'Look up an order by id',
  input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
}];
const system = 'You are the support agent of an online shop. Use lookup_order.';
const messages = [{ role: 'user', content: 'Where is my order 1002?' }];
const first = await client.messages.create({ model, max_tokens: 512, system, messages, tools });
const use = first.content.find((b) => b.type === 'tool_use');
if (!use) throw new Error('expected a tool_use block');
messages.push({ role: 'assistant', content: first.content });
messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id,
                                          content: JSON.stringify({ order_id: use.input.order_id, status: 'in transit' }) }] });
const stream = client.messages.stream({ model, max_tokens: 512, system, messages, tools });
const final = await stream.finalMessage();
console.log(final.content.filter((b) => b.type === 'text').map((b) => b.text).join(''));
