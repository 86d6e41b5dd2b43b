// One configuration of the Agents SDK end-to-end test: a triage agent with a tool that hands billing
// questions to a billing agent with its own tool, several runs at once, with the SDK's own trace
// captured by a processor installed with setTraceProcessors (the only processor: the SDK's default
// exporter is replaced, tracing stays on).
//
// Environment: OPENAI_BASE_URL / OPENAI_API_KEY as any app; E2E_API=responses|chat; E2E_STREAM=0|1;
// E2E_SEED_BASE_URL (Responses only): each run continues, with previousResponseId, a response created
// first at that URL, so the SDK chains every call with previous_response_id and sends only new items.
// Usage: node agents_sdk_e2e.mjs OUT.json   (run from a directory whose node_modules has the SDK)
// Writes {runs: [{input, finalOutput, lastAgent, sdkTraceId}], spans: [...]} to OUT.json, where each
// span is the SDK's own toJSON() plus hr_started_ns / hr_ended_ns: sub-millisecond wall-clock times
// taken in the processor's callbacks, which the SDK calls synchronously right after it stamps its
// millisecond ISO times.
import { writeFileSync } from 'node:fs';
import { wallNs } from './wall_clock.mjs';
import {
  Agent, getCurrentTrace, run, setOpenAIAPI, setTraceProcessors, tool, withTrace,
} from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';

const API = process.env.E2E_API || 'responses';
const STREAM = process.env.E2E_STREAM === '1';
const SEED_BASE_URL = process.env.E2E_SEED_BASE_URL || '';
const OUT = process.argv[2];
if (!OUT) throw new Error('usage: agents_sdk_e2e.mjs OUT.json');
if (API === 'chat') setOpenAIAPI('chat_completions');
else if (API !== 'responses') throw new Error(`E2E_API must be responses or chat, not ${API}`);


const spans = new Map();  // spanId -> record
class CollectingProcessor {
  async onTraceStart() {}
  async onTraceEnd() {}
  async onSpanStart(span) {
    spans.set(span.spanId, { hr_started_ns: wallNs() });
  }
  async onSpanEnd(span) {
    const hrEnd = wallNs();
    const rec = spans.get(span.spanId) ?? {};
    // toJSON() serializes span_data as the SDK's exporter would send it.
    spans.set(span.spanId, { ...span.toJSON(), hr_started_ns: rec.hr_started_ns, hr_ended_ns: hrEnd });
  }
  async shutdown() {}
  async forceFlush() {}
}
setTraceProcessors([new CollectingProcessor()]);

const ORDERS = {
  '2001': { status: 'delivered', total_usd: 42.5, charged_times: 2 },
  '2002': { status: 'in transit', total_usd: 19.99, charged_times: 1 },
  '2003': { status: 'delivered', total_usd: 120.0, charged_times: 1 },
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lookupOrder = tool({
  name: 'lookup_order',
  description: 'Look up an order by its id and return its status, total and payment history.',
  parameters: z.object({ order_id: z.string().describe('The order id, e.g. 2001') }),
  async execute({ order_id }) {
    await sleep(25);
    const order = ORDERS[order_id.replace(/\D/g, '')];
    return JSON.stringify(order ? { order_id, ...order } : { order_id, error: 'not found' });
  },
});

const issueRefund = tool({
  name: 'issue_refund',
  description: 'Refund an order. Returns the refund confirmation.',
  parameters: z.object({
    order_id: z.string().describe('The order to refund'),
    reason: z.string().describe('Why the refund is issued'),
  }),
  async execute({ order_id, reason }) {
    await sleep(40);
    const order = ORDERS[order_id.replace(/\D/g, '')];
    return JSON.stringify(order ? { order_id, refunded: true, amount_usd: order.total_usd, reason }
                                : { order_id, refunded: false, error: 'unknown order' });
  },
});

const billingAgent = new Agent({
  name: 'Billing agent',
  handoffDescription: 'Handles refunds, invoices, double charges and other billing questions.',
  instructions: 'You are the billing specialist of the e2e shop. Use issue_refund when a customer ' +
    'was charged incorrectly, then confirm the refund briefly.',
  model: 'gpt-4.1-mini',
  tools: [issueRefund],
});

const triageAgent = Agent.create({
  name: 'Triage agent',
  instructions: 'You are the first-line support agent of the e2e shop. Look the order up with ' +
    'lookup_order. Hand billing and refund questions to the billing agent; answer the rest.',
  model: 'gpt-4.1-mini',
  tools: [lookupOrder],
  handoffs: [billingAgent],
});

const INPUTS = [
  'I was charged twice for order 2001, please refund me.',
  'Where is my order 2002? It is late.',
  'Order 2003 has a billing problem: I want a refund.',
];

async function converse(input, i) {
  // An explicit trace per run only to learn its id; run() would open the same kind of trace itself.
  return withTrace(`e2e run ${i}`, async () => {
    const sdkTraceId = getCurrentTrace()?.traceId ?? null;
    const options = STREAM ? { stream: true } : {};
    if (SEED_BASE_URL) {
      const seed = await new OpenAI({ baseURL: SEED_BASE_URL }).responses.create(
        { model: 'gpt-4.1-mini', input: 'Hello, I have a question about my order.' });
      options.previousResponseId = seed.id;
    }
    const result = await run(triageAgent, input, options);
    if (STREAM) {
      for await (const _event of result) { /* drain */ }
      await result.completed;
    }
    return { input, sdkTraceId, finalOutput: result.finalOutput, lastAgent: result.lastAgent?.name ?? null };
  });
}

const runs = await Promise.all(INPUTS.map(converse));
await new Promise((r) => setImmediate(r));  // let the last onSpanEnd callbacks run
writeFileSync(OUT, JSON.stringify({ api: API, stream: STREAM, chained: Boolean(SEED_BASE_URL), runs, spans: [...spans.values()] }, null, 1));
