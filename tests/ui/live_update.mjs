// Drives a headless Chromium over the DevTools protocol (the `ws` package of tests/node): opens
// URL, waits until the traces list has rendered, runs COMMAND (which writes a trace to the store),
// then waits for the list to show TRACE_ID without any reload. Prints one JSON line:
// {"before": [ids], "after": [ids], "navigations": n, "ms": time from the write to the new row}.
// Usage: node live_update.mjs CHROMIUM PROFILE URL TRACE_ID COMMAND...
import {spawn, execFileSync} from 'node:child_process';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const WebSocket = createRequire(path.join(here, '../node/package.json'))('ws');
const [chromium, profile, url, traceId, ...command] = process.argv.slice(2);

function fail(why) {
  console.error('live_update: ' + why);
  process.exit(1);
}

const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-extensions', '--disable-background-networking', '--disable-sync', '--disable-component-update',
  '--user-data-dir=' + profile, '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
  '--window-size=1400,1000', 'about:blank'], {stdio: ['ignore', 'ignore', 'pipe']});
const deadline = setTimeout(() => { browser.kill(); fail('timed out'); }, 90000);

const wsUrl = await new Promise((resolve) => {
  let err = '';
  browser.stderr.on('data', (d) => {
    err += d;
    const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  browser.on('exit', () => fail('chromium exited: ' + err.slice(-500)));
});

const ws = new WebSocket(wsUrl, {perMessageDeflate: false});
await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
let nextId = 1;
const pending = new Map();
let navigations = 0;
ws.on('message', (data) => {
  const msg = JSON.parse(data);
  if (msg.id && pending.has(msg.id)) {
    const {resolve, reject} = pending.get(msg.id);
    pending.delete(msg.id);
    msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
  } else if (msg.method === 'Page.frameNavigated' && !msg.params.frame.parentId) {
    ++navigations;
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  ws.send(JSON.stringify({id, method, params, sessionId}));
  return new Promise((resolve, reject) => pending.set(id, {resolve, reject}));
}

const {targetId} = await send('Target.createTarget', {url: 'about:blank'});
const {sessionId} = await send('Target.attachToTarget', {targetId, flatten: true});
await send('Page.enable', {}, sessionId);
const listed = async () => {
  const r = await send('Runtime.evaluate', {returnByValue: true, expression:
    `document.body && document.body.dataset.rendered === 'traces' && document.getElementById('trace-list')
       ? [...document.querySelectorAll('#trace-list tbody tr')].map((r) => r.dataset.traceId) : null`}, sessionId);
  return r.result.value;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred) {
  for (;;) {
    const ids = await listed();
    if (ids && pred(ids)) return ids;
    await sleep(100);
  }
}

await send('Page.navigate', {url}, sessionId);
const before = await waitFor(() => true);
const navigationsBefore = navigations;
execFileSync(command[0], command.slice(1), {stdio: 'inherit'});
const t0 = Date.now();
const after = await waitFor((ids) => ids.includes(traceId));
console.log(JSON.stringify({before, after, navigations: navigations - navigationsBefore, ms: Date.now() - t0}));
clearTimeout(deadline);
ws.close();
browser.kill();
process.exit(0);
