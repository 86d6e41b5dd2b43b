// Every way an app joins ANTHROPIC_BASE_URL must reach Anthropic's API: Anthropic's SDK appends
// /v1/messages; the Vercel AI SDK (@ai-sdk/anthropic) appends /messages to the same variable. A
// client's own non-model calls under the same base (Claude Code's bootstrap, a HEAD probe) go
// through untouched. Knows nothing about llmtap.
import Anthropic from '@anthropic-ai/sdk';

const base = process.env.ANTHROPIC_BASE_URL;
const model = process.env.TEST_MODEL || 'claude-sonnet-4-5';
const system = 'You are the support agent of an online shop.';

// 1. Anthropic's SDK: ${base}/v1/messages.
const client = new Anthropic();
const first = await client.messages.create({
  model, max_tokens: 256, system, messages: [{ role: 'user', content: 'Say hello.' }],
});
console.log('sdk:', first.content.filter((b) => b.type === 'text').map((b) => b.text).join(''));

// 2. The AI SDK's shape: ${base}/messages, same headers as @ai-sdk/anthropic sends.
const res = await fetch(`${base.replace(/\/$/, '')}/messages`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'x-api-key': process.env.ANTHROPIC_API_KEY,
    'anthropic-version': '2023-06-01',
  },
  body: JSON.stringify({ model, max_tokens: 256, system, messages: [{ role: 'user', content: 'Say hello again.' }] }),
});
if (!res.ok) throw new Error(`AI SDK path failed: ${res.status} ${await res.text()}`);
const second = await res.json();
console.log('ai-sdk path:', second.content.filter((b) => b.type === 'text').map((b) => b.text).join(''));

// 3. Non-model calls a client makes to the same host: forwarded, whatever they answer.
const boot = await fetch(`${base}/api/claude_cli/bootstrap`, { headers: { 'x-api-key': process.env.ANTHROPIC_API_KEY } });
const head = await fetch(`${base}/`, { method: 'HEAD' });
console.log('side calls:', boot.status, head.status);
