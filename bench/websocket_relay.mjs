// WebSocket relay benchmark (printed, not a test): what llmtap adds to a WebSocket, against a direct
// connection, with the `ws` package on both ends over loopback.
//   latency     echo round trips of small text messages, one at a time: p50/p99 per path, and the
//               delay llmtap adds (both directions of the round trip together)
//   throughput  the upstream sends M x 1 MiB binary messages as fast as the client takes them: MB/s
// Paths: direct plain vs llmtap gateway route (plain in, plain up), direct TLS vs llmtap intercepting
// HTTPS_PROXY CONNECT (TLS in, TLS up). Rounds alternate between paths so load drifts hit all alike.
// Usage: node bench/websocket_relay.mjs --llmtap BIN [--rounds R] [--n N] [--bytes B] [--mib M] [--raw]
//   --raw prints machine-readable `ws ...` lines (bench/run-all) instead of the table.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const {
  Llmtap, Rng, clientRoute, loadWs, makeTestCa, openClient, parseArgs, percentile, scratchDir, startUpstream,
} = await import(path.join(here, '..', 'tests', 'websocket', 'ws_harness.mjs'));

const args = parseArgs(process.argv.slice(2));
if (!args.llmtap) throw new Error('--llmtap BIN required');
const WS = loadWs(args['node-modules']);
const ROUNDS = Number(args.rounds || 5);
const N = Number(args.n || 400);
const BYTES = Number(args.bytes || 64);
const MIB = Number(args.mib || 64);
const MiB = 1 << 20;
const chunk = new Rng(11).bytes(MiB);

function onConnection(ws, req) {
  ws.on('error', () => {});
  const url = new URL(req.url, 'http://x');
  if (url.pathname.endsWith('/stream')) {
    const total = Number(url.searchParams.get('mib'));
    let sent = 0;
    const pump = () => {
      while (sent < total && ws.readyState === WS.OPEN && ws.bufferedAmount < 4 * MiB) {
        ws.send(chunk, { binary: true });
        sent++;
      }
      if (sent < total && ws.readyState === WS.OPEN) setImmediate(pump);
    };
    ws.once('message', pump);  // start on the client's word, so connection setup is not timed
    return;
  }
  ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary }));
}

async function latencyRound(route, out) {
  const [url, opts] = route('/v1/echo');
  const { ws } = await openClient(WS, url, opts);
  const msg = 'x'.repeat(BYTES);
  let resolveOne;
  ws.on('message', () => resolveOne());
  const once = () => new Promise((r) => { resolveOne = r; ws.send(msg); });
  for (let i = 0; i < 50; i++) await once();  // warm-up
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await once();
    out.push((performance.now() - t) * 1000);
  }
  ws.close();
}

async function throughputRound(route, out) {
  const [url, opts] = route(`/v1/stream?mib=${MIB}`);
  const { ws } = await openClient(WS, url, opts);
  let got = 0;
  const t = performance.now();
  await new Promise((resolve) => {
    ws.on('message', (d) => { got += d.length; if (got >= MIB * MiB) resolve(); });
    ws.on('close', resolve);
    ws.send('go');
  });
  out.push(got / MiB / ((performance.now() - t) / 1000));
  ws.close();
}

const work = scratchDir('bench');
const certs = makeTestCa(`${work}/ca`);
const plain = await startUpstream(WS, { certs: null, onConnection });
const secure = await startUpstream(WS, { certs, onConnection });
const llmtap = await Llmtap.start(args.llmtap, { upstreams: { anthropic: plain.url, openai: secure.url }, ca: certs.ca,
                                                 workdir: work });
const route = (kind, up, provider) => (target) => clientRoute(kind, { up, llmtap, ca: certs.ca, provider, target });
const paths = [
  ['direct', route('direct', plain), null],
  ['llmtap_gateway', route('gateway', plain, 'anthropic'), 'direct'],
  ['direct_tls', route('direct', secure), null],
  ['llmtap_connect', route('connect', secure, 'openai'), 'direct_tls'],
];
const lat = Object.fromEntries(paths.map(([k]) => [k, []]));
const tput = Object.fromEntries(paths.map(([k]) => [k, []]));
// One round per path first, not counted: JIT, TLS session setup and socket buffers warm up.
for (const [, rt] of paths) { await latencyRound(rt, []); await throughputRound(rt, []); }
const rssBefore = llmtap.rssKb();
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...paths].reverse() : paths;
  for (const [k, rt] of order) await latencyRound(rt, lat[k]);
  for (const [k, rt] of order) await throughputRound(rt, tput[k]);
}
const rssPeak = llmtap.statusKb('VmHWM');
await llmtap.stop();
await plain.close();
await secure.close();

const stats = Object.fromEntries(paths.map(([k]) => {
  const s = [...lat[k]].sort((a, b) => a - b);
  const t = [...tput[k]].sort((a, b) => a - b);
  return [k, { p50: percentile(s, 50), p99: percentile(s, 99), n: s.length, mbps: percentile(t, 50) }];
}));
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
if (args.raw) {
  for (const [k, , base] of paths) {
    const s = stats[k];
    const b = base ? stats[base] : null;
    console.log(`ws ${k} ${f1(s.p50)} ${f1(s.p99)} ${b ? f1(s.p50 - b.p50) : '-'} ${b ? f1(s.p99 - b.p99) : '-'} ` +
                `${s.n} ${f1(s.mbps)} ${b ? (s.mbps / b.mbps).toFixed(2) : '-'}`);
  }
  console.log(`ws_rss ${rssBefore} ${rssPeak}`);
} else {
  console.log(`WebSocket echo round trip, ${BYTES} B text messages, ${N} x ${ROUNDS} rounds per path (microseconds);`);
  console.log(`throughput: ${MIB} x 1 MiB binary messages upstream -> client, median of ${ROUNDS} rounds (MB/s)`);
  console.log('path                         p50      p99   added p50  added p99      MB/s  vs direct');
  for (const [k, , base] of paths) {
    const s = stats[k];
    const b = base ? stats[base] : null;
    console.log(`${k.padEnd(22)} ${f1(s.p50).padStart(9)} ${f1(s.p99).padStart(8)} ` +
                `${(b ? f1(s.p50 - b.p50) : '-').padStart(11)} ${(b ? f1(s.p99 - b.p99) : '-').padStart(10)} ` +
                `${f1(s.mbps).padStart(9)} ${(b ? (s.mbps / b.mbps).toFixed(2) : '-').padStart(10)}`);
  }
  console.log(`llmtap RSS: ${rssBefore} kB at start, high-water mark ${rssPeak} kB`);
}
