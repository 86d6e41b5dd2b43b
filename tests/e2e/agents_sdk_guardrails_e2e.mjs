// The Agents SDK with input and output guardrails, each run by its own guardrail agent (the SDK's
// documented pattern), several runs at once: one trips its input guardrail, one its output
// guardrail (its order's status carries an internal note, which the answer quotes). The SDK's
// own trace is captured as in agents_sdk_e2e.mjs (the only processor, setTraceProcessors).
//
// Environment: OPENAI_BASE_URL / OPENAI_API_KEY as any app; E2E_STREAM=0|1.
// Usage: node agents_sdk_guardrails_e2e.mjs OUT.json
// Writes {runs: [{input, sdkTraceId, finalOutput, tripped: false|'input'|'output'}], spans: [...]} to OUT.json.
import { writeFileSync } from 'node:fs';
import { wallNs } from './wall_clock.mjs';
import {
  Agent, InputGuardrailTripwireTriggered, OutputGuardrailTripwireTriggered, getCurrentTrace, run, setTraceProcessors, tool, withTrace,
} from '@openai/agents';
import { z } from 'zod';

const STREAM = process.env.E2E_STREAM === '1';
const OUT = process.argv[2];
if (!OUT) throw new Error('usage: agents_sdk_guardrails_e2e.mjs OUT.json');

const spans = new Map();
class CollectingProcessor {
  async onTraceStart() {}
  async onTraceEnd() {}
  async onSpanStart(span) { spans.set(span.spanId, { hr_started_ns: wallNs() }); }
  async onSpanEnd(span) {
    const rec = spans.get(span.spanId) ?? {};
    spans.set(span.spanId, { ...span.toJSON(), hr_started_ns: rec.hr_started_ns, hr_ended_ns: wallNs() });
  }
  async shutdown() {}
  async forceFlush() {}
}
setTraceProcessors([new CollectingProcessor()]);

const ORDERS = {
  '2001': 'delivered', '2002': 'in transit', '2003': 'delivered', '2004': 'on hold (internal note: fraud review)',
};
const lookupOrder = tool({
  name: 'lookup_order',
  description: 'Look up an order by its id and return its status.',
  parameters: z.object({ order_id: z.string().describe('The order id, e.g. 2001') }),
  async execute({ order_id }) {
    return JSON.stringify({ order_id, status: ORDERS[order_id.replace(/\D/g, '')] ?? 'unknown' });
  },
});

// Guardrail agents answer with a JSON verdict {"flagged": bool, "reason": str}.
const topicAgent = new Agent({
  name: 'Topic check agent',
  instructions: 'You are a topic guardrail. Decide whether the customer asks for homework help instead of ' +
    'help with an order. Reply only with a JSON verdict {"flagged": boolean, "reason": string}.',
  model: 'gpt-4.1-mini',
});
const leakAgent = new Agent({
  name: 'Leak check agent',
  instructions: 'You are an output guardrail. Decide whether the answer reveals internal data. ' +
    'Reply only with a JSON verdict {"flagged": boolean, "reason": string}.',
  model: 'gpt-4.1-mini',
});
const verdict = (text) => {
  try { return JSON.parse(text); } catch { return { flagged: false, reason: `unparsable: ${text}` }; }
};

const topicGuardrail = {
  name: 'Homework guardrail',
  async execute({ input, context }) {
    const result = await run(topicAgent, input, { context });
    const v = verdict(result.finalOutput);
    return { tripwireTriggered: Boolean(v.flagged), outputInfo: v };
  },
};
const leakGuardrail = {
  name: 'Leak guardrail',
  async execute({ agentOutput, context }) {
    const result = await run(leakAgent, String(agentOutput), { context });
    const v = verdict(result.finalOutput);
    return { tripwireTriggered: Boolean(v.flagged), outputInfo: v };
  },
};

const supportAgent = new Agent({
  name: 'Support agent',
  instructions: 'You are the order support agent of the e2e shop. Look the order up with lookup_order, ' +
    'then answer in one sentence.',
  model: 'gpt-4.1-mini',
  tools: [lookupOrder],
  inputGuardrails: [topicGuardrail],
  outputGuardrails: [leakGuardrail],
});

const INPUTS = [
  'Where is my order 2001?',
  'Can you do my math homework for order 2002? Solve 2x+3=7.',
  'What is the status of order 2003?',
  'Where is my order 2004?',
];

async function converse(input, i) {
  return withTrace(`guardrails run ${i}`, async () => {
    const sdkTraceId = getCurrentTrace()?.traceId ?? null;
    try {
      const result = await run(supportAgent, input, STREAM ? { stream: true } : {});
      if (STREAM) {
        for await (const _event of result) { /* drain */ }
        await result.completed;
      }
      return { input, sdkTraceId, finalOutput: result.finalOutput, tripped: false };
    } catch (e) {
      if (e instanceof InputGuardrailTripwireTriggered) return { input, sdkTraceId, finalOutput: null, tripped: 'input' };
      if (e instanceof OutputGuardrailTripwireTriggered) return { input, sdkTraceId, finalOutput: null, tripped: 'output' };
      throw e;
    }
  });
}

const runs = await Promise.all(INPUTS.map(converse));
await new Promise((r) => setTimeout(r, 50));  // let the last onSpanEnd callbacks run
writeFileSync(OUT, JSON.stringify({ stream: STREAM, runs, spans: [...spans.values()] }, null, 1));
