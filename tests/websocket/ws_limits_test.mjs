// The WebSocket relay under pressure and around the upgrade, with the `ws` package on both ends:
//   slow_reader   the client stops reading while the upstream floods 1 MiB messages: the upstream
//                 must stall (back-pressure reached it) and llmtap's RSS must stay near its baseline;
//                 once the client reads again every message arrives intact. Gateway and CONNECT paths.
//   http_first    a plain HTTP exchange, then the upgrade, on one client connection. Gateway and
//                 CONNECT paths.
//   stop          SIGTERM to llmtap with relays open: the clients see their connections close and
//                 llmtap exits 0 promptly.
// Usage: node ws_limits_test.mjs --llmtap BIN [--node-modules DIR] [--only slow_reader,http_first,stop]
import net from 'node:net';
import { readFileSync } from 'node:fs';
import {
  Failures, Llmtap, PROVIDER_HOST, Rng, clientRoute, log, loadWs, makeTestCa, openClient, parseArgs, proxyAccess,
  scratchDir, sha256, startUpstream, tlsThroughTunnel,
} from './ws_harness.mjs';

const args = parseArgs(process.argv.slice(2));
const WS = loadWs(args['node-modules']);
if (!args.llmtap) throw new Error('--llmtap BIN required');
const ONLY = (args.only || 'slow_reader,http_first,stop').split(',');
const f = new Failures();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MiB = 1 << 20;

const FLOOD_MESSAGES = 96;
const payload = new Rng(7).bytes(MiB);
const floodMessage = (i) => { const b = Buffer.from(payload); b.writeUInt32LE(i, 0); return b; };

// The upstreams' behaviour, chosen by the request path.
function onConnection(ws, req) {
  const url = new URL(req.url, 'http://x');
  ws.on('error', () => {});
  if (url.pathname.endsWith('/flood')) {
    // Sends FLOOD_MESSAGES x 1 MiB as fast as its own socket takes them; counts what it handed over.
    const state = { sent: 0, written: 0 };
    floods.push(state);
    const pump = () => {
      while (state.sent < FLOOD_MESSAGES && ws.readyState === WS.OPEN && ws.bufferedAmount < 2 * MiB) {
        ws.send(floodMessage(state.sent++), { binary: true }, () => { state.written += MiB; });
      }
      if (state.sent < FLOOD_MESSAGES && ws.readyState === WS.OPEN) setTimeout(pump, 5);
    };
    pump();
    return;
  }
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));  // echo
}
const floods = [];

async function slowReader(route, label, llmtap) {
  floods.length = 0;
  const [url, opts] = route('/v1/flood');
  const { ws } = await openClient(WS, url, opts);
  ws.pause();  // stop reading: TCP back-pressure must reach the upstream
  await sleep(300);
  const baseline = llmtap.rssKb();
  let peak = baseline;
  for (let i = 0; i < 15; i++) {
    await sleep(200);
    peak = Math.max(peak, llmtap.rssKb());
  }
  const flood = floods[0];
  const stalledAt = flood ? flood.written : -1;
  log(`${label}: paused client; upstream handed ${(stalledAt / MiB).toFixed(1)} MiB of ${FLOOD_MESSAGES} MiB to its ` +
      `socket; llmtap RSS ${baseline} kB -> peak ${peak} kB`);
  f.check(flood && stalledAt < (FLOOD_MESSAGES / 2) * MiB,
          `${label}: the upstream stalls while the client does not read (wrote ${(stalledAt / MiB).toFixed(1)} MiB)`);
  f.check(peak - baseline < 24 * 1024, `${label}: llmtap RSS stays bounded (+${peak - baseline} kB while flooded)`);
  // Read again: every message arrives, in order, intact.
  let got = 0;
  let ok = true;
  const want = sha256(floodMessage(0).subarray(4));
  const done = new Promise((resolve) => {
    ws.on('message', (data) => {
      ok = ok && data.length === MiB && data.readUInt32LE(0) === got && sha256(data.subarray(4)) === want;
      if (++got === FLOOD_MESSAGES) resolve();
    });
    ws.on('close', resolve);
  });
  ws.resume();
  await Promise.race([done, sleep(120000)]);
  f.check(got === FLOOD_MESSAGES && ok, `${label}: all ${FLOOD_MESSAGES} flood messages arrived intact after resuming (got ${got})`);
  ws.close(1000);
}

// Reads one HTTP/1.1 response with a Content-Length body from SOCK; resolves {status, body}.
function readResponse(sock) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (b) => {
      buf = Buffer.concat([buf, b]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      const len = Number((head.match(/\r\ncontent-length:\s*(\d+)/i) || [])[1] || 0);
      if (buf.length < end + 4 + len) return;
      sock.off('data', onData);
      sock.off('error', reject);
      resolve({ status: Number(head.split(' ')[1]), body: buf.subarray(end + 4, end + 4 + len).toString(),
                rest: buf.subarray(end + 4 + len) });
    };
    sock.on('data', onData);
    sock.on('error', reject);
  });
}

// A plain request then the upgrade on the same connection SOCK (already connected). HTTP_PATH and
// WS_URL address the upstream as this path does.
async function httpThenUpgrade(label, sock, httpPath, wsUrl, up) {
  const before = up.httpRequests;
  sock.write(`GET ${httpPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  const r = await readResponse(sock);
  f.check(r.status === 200 && JSON.parse(r.body).ok === true && r.rest.length === 0,
          `${label}: the plain HTTP exchange before the upgrade works (status ${r.status})`);
  f.check(up.httpRequests === before + 1, `${label}: the upstream saw the plain request`);
  const { ws } = await openClient(WS, wsUrl, { createConnection: () => sock });
  const echoes = [];
  const got = new Promise((resolve) => ws.on('message', (d) => { echoes.push(Buffer.from(d)); if (echoes.length === 3) resolve(); }));
  const sent = [Buffer.from('first text'), new Rng(3).bytes(100000), Buffer.from('third')];
  for (const m of sent) ws.send(m);
  await Promise.race([got, sleep(20000)]);
  f.check(echoes.length === 3 && echoes.every((e, i) => sha256(e) === sha256(sent[i])),
          `${label}: messages echo back over the upgraded connection (${echoes.length}/3)`);
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  ws.close(4000, 'bye');
  f.check((await Promise.race([closed, sleep(10000)])) === 4000, `${label}: close code 4000 echoed back`);
}

function connectSocket(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

async function stopWithOpenRelays(binary, ups, certs, work) {
  const llmtap = await Llmtap.start(binary, { upstreams: { openai: ups.tls.url, anthropic: ups.plain.url }, ca: certs.ca,
                                             workdir: `${work}/stop` });
  const clients = [];
  for (const [kind, up, provider] of [['gateway', ups.plain, 'anthropic'], ['connect', ups.tls, 'openai']]) {
    const [url, opts] = clientRoute(kind, { up, llmtap, ca: certs.ca, provider, target: '/v1/echo' });
    const c = await openClient(WS, url, opts);
    c.closed = new Promise((resolve) => c.ws.on('close', (code) => resolve(code)));
    c.ws.on('error', () => {});
    c.kind = kind;
    clients.push(c);
  }
  const t0 = Date.now();
  const exit = llmtap.stop(20000);
  for (const c of clients) {
    const code = await Promise.race([c.closed, sleep(10000).then(() => 'open')]);
    f.check(code !== 'open', `stop: the ${c.kind} WebSocket closed when llmtap stopped (close code ${code})`);
  }
  const r = await exit;
  const secs = (Date.now() - t0) / 1000;
  log(`stop: llmtap exited ${JSON.stringify(r)} after ${secs.toFixed(1)} s with 2 relays open`);
  f.check(r.code === 0, `stop: llmtap exits 0 (got ${JSON.stringify(r)}); stderr: ${llmtap.stderr.slice(-1500)}`);
  f.check(secs < 10, `stop: llmtap stops within 10 s with relays open (${secs.toFixed(1)} s)`);
}

// ---- main ----

const work = scratchDir('limits');
const certs = makeTestCa(`${work}/ca`);
const ups = {
  plain: await startUpstream(WS, { certs: null, onConnection }),
  tls: await startUpstream(WS, { certs, onConnection }),
};
const llmtap = await Llmtap.start(args.llmtap, { upstreams: { openai: ups.tls.url, anthropic: ups.plain.url },
                                                 ca: certs.ca, workdir: work });
const routeOf = (kind, up, provider) => (target) => clientRoute(kind, { up, llmtap, ca: certs.ca, provider, target });

if (ONLY.includes('slow_reader')) {
  await slowReader(routeOf('gateway', ups.plain, 'anthropic'), 'slow_reader gateway', llmtap);
  await slowReader(routeOf('connect', ups.tls, 'openai'), 'slow_reader connect', llmtap);
}
if (ONLY.includes('http_first')) {
  const access = proxyAccess(llmtap);
  const gw = await connectSocket(access.port);
  await httpThenUpgrade('http_first gateway', gw, `${access.gatewayPrefix('anthropic')}/v1/hello`,
                        `ws://127.0.0.1:${access.port}${access.gatewayPrefix('anthropic')}/v1/echo`, ups.plain);
  const t = await tlsThroughTunnel(access, PROVIDER_HOST, 443, readFileSync(llmtap.caPath));
  await httpThenUpgrade('http_first connect', t, '/v1/hello', `wss://${PROVIDER_HOST}/v1/echo`, ups.tls);
}
const r = await llmtap.stop();
f.check(r.code === 0, `llmtap exited 0 (got ${JSON.stringify(r)}); stderr: ${llmtap.stderr.slice(-1500)}`);
if (ONLY.includes('stop')) await stopWithOpenRelays(args.llmtap, ups, certs, work);
await ups.plain.close();
await ups.tls.close();
log(`SUMMARY ws_limits ${ONLY.join(',')} failures=${f.items.length}`);
process.exit(f.items.length ? 1 : 0);
