// One pass of the LangGraph JS supervisor workflow for langgraph_e2e.py: a supervisor
// (@langchain/langgraph-supervisor) with two workers (createReactAgent with tools: research_expert's
// lookup_fact, math_expert's divide, which throws on a zero divisor, so ToolNode answers
// "Error: ... Please fix your mistakes."), three runs at once. ChatOpenAI reaches the provider through
// OPENAI_BASE_URL (set by `llmtap run`). LangGraph's own account, from a callback handler on every run:
// each chat model call (the node that made it, the response id, usage), each tool run (name, call id,
// start/end on the sub-millisecond wall clock, error), and the final messages (handoff call ids).
// Usage: node langgraph_e2e.mjs OUT.json
// E2E_STREAM=1 runs the graph with streamMode ["values", "messages"], which makes LangGraph stream every
// model call. (ChatOpenAI's own `streaming: true` with bound tools never resolved `invoke` in
// @langchain/openai 1.6.0 / @langchain/core 1.4.0 against the sim, with or without llmtap, while
// `.stream()` of the same bound model ends normally; not investigated further.)
import { writeFileSync } from "node:fs";
import { ChatOpenAI } from "@langchain/openai";
import { tool } from "@langchain/core/tools";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createSupervisor } from "@langchain/langgraph-supervisor";
import { z } from "zod";
import { wallMs } from "./wall_clock.mjs";

export const PROMPTS = [
  "Please ask the research_expert about the Eiffel tower, then ask the math_expert to divide 0 by 0.",
  "Please ask the math_expert to divide 0 by 0 for me.",
  "Please ask the research_expert about the Louvre museum.",
];

const now = wallMs; // ms, sub-millisecond, the system clock llmtap stamps with

class Recorder extends BaseCallbackHandler {
  name = "llmtap-e2e-recorder";
  constructor() {
    super();
    this.models = new Map();
    this.tools = new Map();
  }
  handleChatModelStart(_llm, _messages, runId, _parent, _extra, _tags, metadata) {
    const ns = String(metadata?.langgraph_checkpoint_ns ?? "");
    this.models.set(runId, { node: ns.split(":")[0], start: now() });
  }
  handleLLMEnd(output, runId) {
    const m = this.models.get(runId);
    if (!m) return;
    const msg = output.generations?.[0]?.[0]?.message;
    m.end = now();
    m.response_id = msg?.id ?? null;
    m.usage = msg?.usage_metadata ?? null;
    m.name = msg?.name ?? null;
  }
  handleToolStart(_tool, _input, runId, _parent, _tags, _metadata, runName, toolCallId) {
    this.tools.set(runId, { name: runName, call_id: toolCallId ?? null, start: now() });
  }
  handleToolEnd(output, runId) {
    const t = this.tools.get(runId);
    if (!t) return;
    t.end = now();
    t.status = output?.status ?? "success";
  }
  handleToolError(err, runId) {
    const t = this.tools.get(runId);
    if (!t) return;
    t.end = now();
    t.status = "error";
    t.error = String(err?.message ?? err);
  }
}

const stream = process.env.E2E_STREAM === "1";
const llm = () => new ChatOpenAI({ model: "gpt-4.1-mini", maxRetries: 0 });

const lookupFact = tool(async ({ topic }) => `Fact about ${topic}: it is well documented.`, {
  name: "lookup_fact", description: "Look up one fact about a topic.",
  schema: z.object({ topic: z.string().describe("what to look up") }),
});
const divide = tool(async ({ a, b }) => {
  if (b === 0) throw new Error("Division by zero");
  return String(a / b);
}, {
  name: "divide", description: "Divide a by b.",
  schema: z.object({ a: z.number(), b: z.number() }),
});

const workflow = createSupervisor({
  agents: [
    createReactAgent({ llm: llm(), tools: [lookupFact], name: "research_expert",
                       prompt: "You are a world-class researcher. Use lookup_fact." }),
    createReactAgent({ llm: llm(), tools: [divide], name: "math_expert",
                       prompt: "You are a math expert. Always use the divide tool." }),
  ],
  llm: llm(),
  prompt: "You are a team supervisor managing a research expert and a math expert. " +
          "Hand each question to the right expert.",
}).compile();

const runs = await Promise.all(PROMPTS.map(async (prompt) => {
  const rec = new Recorder();
  const start = now();
  const input = { messages: [{ role: "user", content: prompt }] };
  const config = { callbacks: [rec], recursionLimit: 40 };
  let state;
  if (stream) {
    // streamMode "messages" makes LangGraph stream every model call (token by token to the caller).
    for await (const [mode, chunk] of await workflow.stream(input, { ...config, streamMode: ["values", "messages"] }))
      if (mode === "values") state = chunk;
  } else {
    state = await workflow.invoke(input, config);
  }
  const messages = state.messages.map((m) => ({
    type: m._getType(), name: m.name ?? null, content: typeof m.content === "string" ? m.content : "",
    tool_calls: (m.tool_calls ?? []).map((tc) => ({ name: tc.name, id: tc.id })),
    tool_call_id: m.tool_call_id ?? null,
  }));
  return { prompt, start, end: now(), models: [...rec.models.values()], tools: [...rec.tools.values()], messages };
}));
writeFileSync(process.argv[2], JSON.stringify({ stream, runs }, null, 1));
