// A Vercel AI SDK program: two users' runs at once. Each planner run (generateText tool loop) calls
// a `research` tool whose execute() runs a sub-agent (its own generateText loop with an archive
// tool) on the tool's `task` argument. Both sub-agents look up the same archive entry, so they give
// the same answer: only the wire's evidence (the task argument is the sub-agent's prompt) tells
// which run each belongs to. Timing makes the other hint misleading: Beta starts 1 s later, Alpha's
// tool prepares 1.5 s before it starts its sub-agent and Beta's tool post-processes 3 s after its
// sub-agent answered, so Beta's sub-agent runs first while both tool calls are open and Alpha's
// result (carrying the same text as Beta's) arrives first. Knows nothing about llmtap; reads
// OPENAI_BASE_URL like any app.
import { openai } from '@ai-sdk/openai';
import { generateText, stepCountIs, tool } from 'ai';
import { z } from 'zod';

const model = openai('gpt-4o-mini');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const lookupArchive = tool({
  description: 'Look a topic up in the archive',
  inputSchema: z.object({ query: z.string() }),
  execute: async () => ({ entry: 'archive-7', summary: 'the archive holds one report on this' }),
});
const researchTool = (prepareMs, afterMs) => tool({
  description: 'Delegate a research task to the research agent',
  inputSchema: z.object({ task: z.string() }),
  execute: async ({ task }) => {
    await sleep(prepareMs);
    const sub = await generateText({
      model, system: 'You are the research agent. Use lookup_archive, then report.', prompt: task,
      tools: { lookup_archive: lookupArchive }, stopWhen: stepCountIs(3),
    });
    await sleep(afterMs);
    return sub.text;
  },
});

async function plan(user, startMs, prepareMs, afterMs) {
  await sleep(startMs);
  const result = await generateText({
    model, system: 'You are the planner agent. Delegate research with the research tool.', prompt: user,
    tools: { research: researchTool(prepareMs, afterMs) }, stopWhen: stepCountIs(3),
  });
  return `${user} -> ${result.steps.length} steps`;
}

const done = await Promise.all([plan('Research the history of topic Alpha for me', 0, 1500, 0),
                                plan('Research the history of topic Beta for me', 1000, 0, 3000)]);
for (const line of done) console.log(line);
