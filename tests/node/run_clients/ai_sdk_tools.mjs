// A Vercel AI SDK program: a generateText tool loop on Anthropic, then on OpenAI (Responses).
// The providers read ANTHROPIC_BASE_URL / OPENAI_BASE_URL like any app; knows nothing about llmtap.
import { anthropic } from '@ai-sdk/anthropic';
import { openai } from '@ai-sdk/openai';
import { generateText, stepCountIs, tool } from 'ai';
import { z } from 'zod';

const lookupOrder = tool({
  description: 'Look up an order by id',
  inputSchema: z.object({ order_id: z.string() }),
  execute: async ({ order_id }) => ({ order_id, status: 'in transit' }),
});
const system = 'You are the support agent of an online shop. Use lookup_order.';
for (const [label, model] of [['anthropic', anthropic('claude-sonnet-4-5')], ['openai', openai('gpt-4o-mini')]]) {
  const result = await generateText({
    model, system, prompt: 'Where is my order 1002?', tools: { lookup_order: lookupOrder }, stopWhen: stepCountIs(4),
  });
  console.log(`${label}: ${result.steps.length} steps: ${result.text}`);
}
