// A Vercel AI SDK program: two users' runs at once. Each planner run (generateText tool loop) calls
// a `research` tool whose execute() runs a sub-agent (its own generateText loop with an archive
// tool) on the tool's `task` argument. Both sub-agents look up the same archive entry, so they give
// the same answer: only the wire's evidence (the task argument is the sub-agent's prompt) tells
// which run each belongs to. Knows nothing about llmtap; reads OPENAI_BASE_URL like any app.
import { openai } from '@ai-sdk/openai';
import { generateText, stepCountIs, tool } from 'ai';
import { z } from 'zod';

const model = openai('gpt-4o-mini');
const lookupArchive = tool({
  description: 'Look a topic up in the archive',
  inputSchema: z.object({ query: z.string() }),
  execute: async () => ({ entry: 'archive-7', summary: 'the archive holds one report on this' }),
});
const research = tool({
  description: 'Delegate a research task to the research agent',
  inputSchema: z.object({ task: z.string() }),
  execute: async ({ task }) => {
    const sub = await generateText({
      model, system: 'You are the research agent. Use lookup_archive, then report.', prompt: task,
      tools: { lookup_archive: lookupArchive }, stopWhen: stepCountIs(3),
    });
    return sub.text;
  },
});

async function plan(user) {
  const result = await generateText({
    model, system: 'You are the planner agent. Delegate research with the research tool.', prompt: user,
    tools: { research }, stopWhen: stepCountIs(3),
  });
  return `${user} -> ${result.steps.length} steps`;
}

const done = await Promise.all([plan('Research the history of topic Alpha for me'),
                                plan('Research the history of topic Beta for me')]);
for (const line of done) console.log(line);
