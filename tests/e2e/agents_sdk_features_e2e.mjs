// Agents SDK features end-to-end (issue 14 items 5-6): human approval (approved, rejected, and
// approved after a wait longer than llmtap's idle timeout), the Conversations API (`conversationId`:
// turns joined while the trace is open; a later turn after it closed), and hosted tools (web search,
// hosted MCP). The SDK's own trace is captured as in agents_sdk_e2e.mjs (the only processor).
//
// Environment: OPENAI_BASE_URL / OPENAI_API_KEY; E2E_SCENARIO=approvals|conversation|hosted;
// E2E_STREAM=0|1; E2E_WAIT_MS: the long wait (the human deciding, the user coming back).
// Usage: node agents_sdk_features_e2e.mjs OUT.json
import { writeFileSync } from 'node:fs';
import { wallNs } from './wall_clock.mjs';
import {
  Agent, getCurrentTrace, hostedMcpTool, run, setTraceProcessors, tool, webSearchTool, withTrace,
} from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';

const SCENARIO = process.env.E2E_SCENARIO || 'approvals';
const STREAM = process.env.E2E_STREAM === '1';
const WAIT_MS = Number(process.env.E2E_WAIT_MS || '4000');
const OUT = process.argv[2];
if (!OUT) throw new Error('usage: agents_sdk_features_e2e.mjs OUT.json');

const spans = new Map();
setTraceProcessors([{
  async onTraceStart() {}, async onTraceEnd() {},
  async onSpanStart(span) { spans.set(span.spanId, { hr_started_ns: wallNs() }); },
  async onSpanEnd(span) {
    const hrEnd = wallNs();
    const rec = spans.get(span.spanId) ?? {};
    spans.set(span.spanId, { ...span.toJSON(), hr_started_ns: rec.hr_started_ns, hr_ended_ns: hrEnd });
  },
  async shutdown() {}, async forceFlush() {},
}]);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ORDERS = {
  '2001': { status: 'delivered', total_usd: 42.5 },
  '2002': { status: 'in transit', total_usd: 19.99 },
  '2003': { status: 'delivered', total_usd: 120.0 },
};
const orderOf = (id) => ORDERS[String(id).replace(/\D/g, '')];

async function runOnce(agent, input, options = {}) {
  const result = await run(agent, input, STREAM ? { ...options, stream: true } : options);
  if (STREAM) {
    for await (const _event of result) { /* drain */ }
    await result.completed;
  }
  return result;
}

async function approvals() {
  const issueRefund = tool({
    name: 'issue_refund',
    description: 'Refund an order. A human must approve every refund.',
    parameters: z.object({ order_id: z.string().describe('The order to refund') }),
    needsApproval: true,
    async execute({ order_id }) {
      await sleep(20);
      const o = orderOf(order_id);
      return JSON.stringify(o ? { order_id, refunded: true, amount_usd: o.total_usd } : { order_id, error: 'unknown order' });
    },
  });
  const agent = new Agent({
    name: 'Refund agent',
    instructions: 'You are the refund agent of the e2e shop. Refund orders with issue_refund when asked.',
    model: 'gpt-4.1-mini',
    tools: [issueRefund],
  });
  const plans = [
    { input: 'Please refund order 2001, I was charged twice.', decision: 'approve', waitMs: 0 },
    { input: 'Refund order 2002 please.', decision: 'reject', waitMs: 0 },
    { input: 'I want a refund for order 2003.', decision: 'approve', waitMs: WAIT_MS },
  ];
  return Promise.all(plans.map((p, i) => withTrace(`approval ${i}`, async () => {
    const sdkTraceId = getCurrentTrace()?.traceId ?? null;
    let result = await runOnce(agent, p.input);
    let interruptions = 0;
    while (result.interruptions?.length) {
      interruptions += result.interruptions.length;
      if (p.waitMs) await sleep(p.waitMs);  // the human is deciding
      for (const it of result.interruptions) {
        if (p.decision === 'approve') result.state.approve(it); else result.state.reject(it);
      }
      result = await runOnce(agent, result.state);
    }
    return { ...p, sdkTraceId, interruptions, finalOutput: result.finalOutput };
  })));
}

async function conversation() {
  const lookupOrder = tool({
    name: 'lookup_order',
    description: 'Look up an order by its id.',
    parameters: z.object({ order_id: z.string().describe('The order id, e.g. 2001') }),
    async execute({ order_id }) {
      await sleep(10);
      const o = orderOf(order_id);
      return JSON.stringify(o ? { order_id, ...o } : { order_id, error: 'not found' });
    },
  });
  const agent = new Agent({
    name: 'Order agent',
    instructions: 'You are the order desk of the e2e shop. Look orders up with lookup_order.',
    model: 'gpt-4.1-mini',
    tools: [lookupOrder],
  });
  const conv = await new OpenAI().conversations.create({ metadata: { e2e: 'conversation' } });
  const turns = [];
  const turn = async (input) => {
    const r = await runOnce(agent, input, { conversationId: conv.id });
    turns.push({ input, finalOutput: r.finalOutput });
  };
  let sdkTraceIds = [];
  await withTrace('conversation', async () => {
    sdkTraceIds.push(getCurrentTrace()?.traceId ?? null);
    await turn('Where is my order 2002?');
    await turn('And what about order 2003?');
  });
  await sleep(WAIT_MS);  // the user comes back after the trace closed
  await withTrace('conversation later', async () => {
    sdkTraceIds.push(getCurrentTrace()?.traceId ?? null);
    await turn('Thanks. Is order 2001 delivered?');
  });
  return [{ conversationId: conv.id, sdkTraceIds, turns }];
}

async function hosted() {
  const agent = new Agent({
    name: 'Research agent',
    instructions: 'You are the research agent of the e2e shop. Use web search and the docs server.',
    model: 'gpt-4.1-mini',
    tools: [
      webSearchTool(),
      hostedMcpTool({ serverLabel: 'docs', serverUrl: 'https://mcp.example.com/sse', allowedTools: ['search_docs'],
                      requireApproval: 'never' }),
    ],
  });
  const inputs = ['What is the refund policy of the e2e shop?', 'How long does shipping to Paris take?'];
  return Promise.all(inputs.map((input, i) => withTrace(`hosted ${i}`, async () => {
    const sdkTraceId = getCurrentTrace()?.traceId ?? null;
    const r = await runOnce(agent, input);
    const items = (r.newItems ?? []).map((it) => it.rawItem?.providerData?.type ?? it.rawItem?.type ?? it.type);
    return { input, sdkTraceId, finalOutput: r.finalOutput, items };
  })));
}

const scenarios = { approvals, conversation, hosted };
if (!scenarios[SCENARIO]) throw new Error(`unknown E2E_SCENARIO ${SCENARIO}`);
const runs = await scenarios[SCENARIO]();
await new Promise((r) => setImmediate(r));
writeFileSync(OUT, JSON.stringify({ scenario: SCENARIO, stream: STREAM, runs, spans: [...spans.values()] }, null, 1));
