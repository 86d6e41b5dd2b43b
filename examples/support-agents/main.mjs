// A customer-support workflow built with the OpenAI Agents SDK: a triage agent that looks orders up
// and hands billing questions to a billing agent, which can issue refunds. Three conversations run
// concurrently. Plain application code: it reads OPENAI_API_KEY / OPENAI_BASE_URL like any app and
// knows nothing about llmtap.
//
// Options (environment): SUPPORT_MODEL (default gpt-4.1-mini), SUPPORT_API=responses|chat,
// SUPPORT_STREAM=1 to stream the model's output.
import { Agent, run, setOpenAIAPI, tool } from '@openai/agents';
import { z } from 'zod';

const MODEL = process.env.SUPPORT_MODEL || 'gpt-4.1-mini';
if (process.env.SUPPORT_API === 'chat') setOpenAIAPI('chat_completions');
const STREAM = process.env.SUPPORT_STREAM === '1';

// A tiny "backend" the tools talk to.
const ORDERS = {
  '1001': { status: 'delivered', total_usd: 42.5, charged_times: 2 },
  '1002': { status: 'in transit', total_usd: 19.99, charged_times: 1 },
  '1003': { status: 'delivered', total_usd: 120.0, charged_times: 1 },
};

const lookupOrder = tool({
  name: 'lookup_order',
  description: 'Look up an order by its id and return its status, total and payment history.',
  parameters: z.object({ order_id: z.string().describe('The order id, e.g. 1001') }),
  async execute({ order_id }) {
    await new Promise((r) => setTimeout(r, 30));  // a database round trip
    const order = ORDERS[order_id.replace(/\D/g, '')];
    return order ? JSON.stringify({ order_id, ...order }) : JSON.stringify({ order_id, error: 'not found' });
  },
});

const issueRefund = tool({
  name: 'issue_refund',
  description: 'Refund an order, fully or partly. Returns the refund confirmation.',
  parameters: z.object({
    order_id: z.string().describe('The order to refund'),
    reason: z.string().describe('Why the refund is issued'),
  }),
  async execute({ order_id, reason }) {
    await new Promise((r) => setTimeout(r, 50));  // the payment provider's API
    const order = ORDERS[order_id.replace(/\D/g, '')];
    if (!order) return JSON.stringify({ order_id, refunded: false, error: 'unknown order' });
    return JSON.stringify({ order_id, refunded: true, amount_usd: order.total_usd, reason,
                            refund_id: `rf_${order_id}` });
  },
});

const billingAgent = new Agent({
  name: 'Billing agent',
  handoffDescription: 'Handles refunds, invoices, double charges and other billing questions.',
  instructions: 'You are the billing specialist of an online shop. Use issue_refund when a customer ' +
    'was charged incorrectly, then confirm the refund in one or two sentences.',
  model: MODEL,
  tools: [issueRefund],
});

const triageAgent = Agent.create({
  name: 'Triage agent',
  instructions: 'You are the first-line support agent of an online shop. Look the order up with ' +
    'lookup_order. Hand billing, refund and invoice questions to the billing agent; answer the rest.',
  model: MODEL,
  tools: [lookupOrder],
  handoffs: [billingAgent],
});

const conversations = [
  'Hi, I was charged twice for order 1001. Can I get a refund?',
  'Where is my order 1002? It has been a week.',
  'Order 1003: the invoice shows the wrong billing address, please fix the billing.',
];

async function converse(text) {
  const result = await run(triageAgent, text, STREAM ? { stream: true } : {});
  if (STREAM) {
    for await (const _event of result) { /* drain the stream */ }
    await result.completed;
  }
  return { text, agent: result.lastAgent?.name, answer: result.finalOutput };
}

const results = await Promise.all(conversations.map(converse));
for (const [i, r] of results.entries()) {
  console.log(`[${i + 1}] customer: ${r.text}`);
  console.log(`    ${r.agent}: ${r.answer}`);
}
