// WebSocket through llmtap, with the `ws` package as client and as upstream server, on one path:
//   gateway-plain  ws://llmtap/anthropic/v1/ws -> plain upstream   (--upstream anthropic=http://...)
//   gateway-tls    ws://llmtap/openai/v1/ws    -> TLS upstream     (--upstream openai=https://...)
//   absolute       GET ws-as-http://upstream/... absolute-form to llmtap -> plain upstream
//   connect        CONNECT api.openai.com:443 (HTTPS_PROXY), intercepted -> TLS upstream
//   blind          CONNECT 127.0.0.1:PORT (not a provider): blind tunnel, the client sees the upstream's cert
//   direct         no llmtap (checks the test itself)
// Clients present the credential from the file llmtap's banner names (ws_harness.mjs proxyAccess);
// absolute and blind target loopback themselves, so llmtap runs with --allow-private-upstream there
// (and first, without it, must refuse them).
// For each case (text, binary, fragmented with pings in between, 1 MiB messages, many messages,
// ping/pong, close by either side) and each permessage-deflate mode (off, on, on without context
// takeover), both sides run a deterministic script; each checks the messages it got (order, type,
// SHA-256) and the close code and reason, and the raw bytes each side sent after the handshake must
// be exactly the bytes the other side received (SHA-256 and length), in both directions.
// Usage: node ws_relay_test.mjs --llmtap BIN --path NAME [--node-modules DIR] [--cases a,b] [--seed N]
import {
  Failures, Llmtap, Rng, clientRoute, log, loadWs, makeTestCa, meter, openClient, parseArgs, randomSeed, scratchDir,
  sha256, startUpstream,
} from './ws_harness.mjs';

const args = parseArgs(process.argv.slice(2));
const WS = loadWs(args['node-modules']);
const PATH = args.path || 'gateway-plain';
const SEED = args.seed ? Number(args.seed) : randomSeed();
const CASES = (args.cases || 'text,binary,fragmented,large,many,ping,server_close').split(',');
const DEFLATE = (args.deflate || 'off,on,nocontext').split(',');
const f = new Failures();

// ---- scripts: what each side sends, rebuilt identically by the receiver ----

// -> [{data: Buffer, binary, frags}] and [ping payloads], for DIR 'c2s' or 's2c'.
function script(name, seed, dir) {
  const r = new Rng(seed ^ (dir === 'c2s' ? 0x5a5a1111 : 0x3c3c2222));
  const msgs = [];
  const pings = [];
  const text = (n) => ({ data: Buffer.from(r.text(n)), binary: false, frags: 1 });
  const bin = (n) => ({ data: r.bytes(n), binary: true, frags: 1 });
  switch (name) {
    case 'text': for (let i = 0; i < 40; i++) msgs.push(text(r.int(3000))); break;
    case 'binary': for (let i = 0; i < 40; i++) msgs.push(bin(r.int(70000))); break;
    case 'fragmented':
      for (let i = 0; i < 12; i++) {
        const m = i % 2 ? bin(10 + r.int(20000)) : text(10 + r.int(20000));
        m.frags = 2 + r.int(4);
        msgs.push(m);
        pings.push(r.bytes(1 + r.int(100)));
      }
      break;
    case 'large': msgs.push(bin(1 << 20), text(1 << 20), bin(1 << 20)); break;
    case 'many': for (let i = 0; i < 2000; i++) msgs.push(text(r.int(64))); break;
    case 'ping':
      for (let i = 0; i < 6; i++) { msgs.push(text(100)); pings.push(r.bytes(i === 0 ? 0 : r.int(125))); }
      break;
    case 'server_close': for (let i = 0; i < 5; i++) msgs.push(bin(r.int(5000))); break;
    default: throw new Error(`unknown case ${name}`);
  }
  return { msgs, pings };
}

const digestList = (list) => list.map((m) => `${m.binary ? 'b' : 't'}:${m.data.length}:${sha256(m.data)}`);

// Sends MSGS in order; a fragmented message goes out as FRAGS frames with one ping between each.
async function sendScript(ws, { msgs, pings }, compress) {
  let p = 0;
  const send = (data, opts) => new Promise((res, rej) => ws.send(data, opts, (e) => (e ? rej(e) : res())));
  for (const m of msgs) {
    if (m.frags > 1) {
      const step = Math.ceil(m.data.length / m.frags);
      for (let off = 0; off < m.data.length; off += step) {
        const fin = off + step >= m.data.length;
        await send(m.data.subarray(off, off + step), { binary: m.binary, fin, compress });
        if (!fin && p < pings.length) ws.ping(pings[p++]);
      }
    } else {
      if (p < pings.length) ws.ping(pings[p++]);
      await send(m.data, { binary: m.binary, compress });
    }
  }
  while (p < pings.length) ws.ping(pings[p++]);
}

// Collects messages and pongs; resolves `all` once EXPECT messages arrived (or the connection closed).
function collect(ws, expect) {
  const got = { msgs: [], pongs: [] };
  got.all = new Promise((resolve) => {
    if (expect === 0) resolve();
    ws.on('close', resolve);
    ws.on('message', (data, isBinary) => {
      got.msgs.push({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data), binary: isBinary });
      if (got.msgs.length === expect) resolve();
    });
  });
  ws.on('pong', (d) => got.pongs.push(Buffer.from(d)));
  got.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return got;
}

// ---- server side ----

const serverSide = new Map();  // connection id -> {done: Promise<result>}

function onConnection(ws, req, meter) {
  const q = new URL(req.url, 'http://x').searchParams;
  const id = q.get('id');
  const name = q.get('case');
  const seed = Number(q.get('seed'));
  const mine = script(name, seed, 's2c');
  const theirs = script(name, seed, 'c2s');
  const got = collect(ws, theirs.msgs.length);
  ws.on('error', (e) => f.check(false, `${id}: server side: ${e.message}`));
  const done = (async () => {
    await sendScript(ws, mine, true);
    await got.all;
    if (name === 'server_close') ws.close(4002, 'server done');
    const closed = await got.closed;
    return { got, closed, raw: meter.digest(), extensions: req.headers['sec-websocket-extensions'] || '' };
  })().catch((e) => { f.check(false, `${id}: server side: ${e.message}`); return null; });
  serverSide.set(id, { done, name });
}

// ---- one case over one connection ----

async function runCase(route, name, deflate, n) {
  const id = `${name}-${deflate}-${n}`;
  const seed = (SEED + n * 7919) >>> 0;
  const [url, opts] = route(`/v1/ws?id=${id}&case=${name}&seed=${seed}`);
  const pmd = deflate === 'off' ? false
    : { threshold: 0, ...(deflate === 'nocontext' ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : {}) };
  const ws = new WS(url, { perMessageDeflate: pmd, maxPayload: 64 << 20, ...opts });
  const mine = script(name, seed, 'c2s');
  const theirs = script(name, seed, 's2c');
  const got = collect(ws, theirs.msgs.length);
  let raw = null;
  const opened = await new Promise((resolve) => {
    ws.once('open', () => { raw = meter(ws._socket); resolve(true); });
    ws.once('error', (e) => { f.check(false, `${id}: ${e.message}`); resolve(false); });
  });
  if (!opened) return;
  ws.on('error', (e) => f.check(false, `${id}: client side: ${e.message}`));
  f.check((ws.extensions.includes('permessage-deflate')) === (deflate !== 'off'),
          `${id}: permessage-deflate negotiated as asked (extensions '${ws.extensions}')`);
  await sendScript(ws, mine, true);
  await got.all;
  if (name !== 'server_close') ws.close(4001, `done ${id}`);
  const timeout = new Promise((r) => setTimeout(() => r(null), 30000));
  const closed = await Promise.race([got.closed, timeout]);
  const server = await Promise.race([serverSide.get(id)?.done, timeout]);
  if (!f.check(closed && server, `${id}: both sides closed within 30 s`)) return;
  const c = raw.digest();
  const s = server.raw;
  f.check(c.sent === s.recv && c.sentBytes === s.recvBytes,
          `${id}: client->server raw bytes identical (client sent ${c.sentBytes}, server got ${s.recvBytes})`);
  f.check(s.sent === c.recv && s.sentBytes === c.recvBytes,
          `${id}: server->client raw bytes identical (server sent ${s.sentBytes}, client got ${c.recvBytes})`);
  f.check(digestList(server.got.msgs).join() === digestList(mine.msgs).join(),
          `${id}: server got the client's ${mine.msgs.length} messages in order (got ${server.got.msgs.length})`);
  f.check(digestList(got.msgs).join() === digestList(theirs.msgs).join(),
          `${id}: client got the server's ${theirs.msgs.length} messages in order (got ${got.msgs.length})`);
  f.check(got.pongs.map(sha256).join() === mine.pings.map(sha256).join(),
          `${id}: the client's ${mine.pings.length} pings came back as pongs with their payloads`);
  f.check(server.got.pongs.map(sha256).join() === theirs.pings.map(sha256).join(),
          `${id}: the server's ${theirs.pings.length} pings came back as pongs with their payloads`);
  const want = name === 'server_close' ? { code: 4002, reason: 'server done' } : { code: 4001, reason: `done ${id}` };
  f.check(closed.code === want.code && closed.reason === want.reason,
          `${id}: client saw close ${want.code} '${want.reason}' (got ${closed.code} '${closed.reason}')`);
  f.check(server.closed.code === want.code && server.closed.reason === want.reason,
          `${id}: server saw close ${want.code} '${want.reason}' (got ${server.closed.code} '${server.closed.reason}')`);
  return c.sentBytes + c.recvBytes;
}

// ---- main ----

const work = scratchDir(PATH);
const certs = makeTestCa(`${work}/ca`);
const tlsUpstream = ['gateway-tls', 'connect', 'blind'].includes(PATH) || (PATH === 'direct' && args.tls);
const up = await startUpstream(WS, { certs: tlsUpstream ? certs : null, onConnection });
let llmtap = null;
if (PATH !== 'direct') {
  if (!args.llmtap) throw new Error('--llmtap BIN required');
  const upstreams = tlsUpstream ? { openai: up.url } : { anthropic: up.url };
  // absolute and blind name the loopback upstream themselves (an app-chosen private target): llmtap
  // refuses that by default, so a user who means it passes --allow-private-upstream, as here.
  const appChosen = PATH === 'absolute' || PATH === 'blind';
  if (appChosen) {
    const refusing = await Llmtap.start(args.llmtap, { upstreams, ca: certs.ca, workdir: `${work}/refusing` });
    const [url, opts] = clientRoute(PATH, { up, llmtap: refusing, ca: certs.ca, target: '/v1/ws' });
    const outcome = await openClient(WS, url, opts).then(({ ws }) => { ws.terminate(); return 'open'; },
                                                           (e) => e.message);
    f.check(outcome !== 'open', `${PATH}: without --allow-private-upstream the loopback target is refused`);
    log(`${PATH} without --allow-private-upstream: ${outcome}`);
    await refusing.stop();
  }
  llmtap = await Llmtap.start(args.llmtap, { upstreams, ca: certs.ca, workdir: work,
                                             extra: appChosen ? ['--allow-private-upstream'] : [] });
}
const kind = { 'gateway-plain': 'gateway', 'gateway-tls': 'gateway', absolute: 'absolute', connect: 'connect',
               blind: 'blind', direct: 'direct' }[PATH];
const provider = PATH === 'gateway-plain' ? 'anthropic' : 'openai';
const route = (target) => clientRoute(kind, { up, llmtap, ca: certs.ca, provider, target });
log(`ws relay test: path ${PATH}, seed ${SEED}, cases ${CASES.join(',')}, deflate ${DEFLATE.join(',')}`);

let n = 0;
let bytes = 0;
const t0 = Date.now();
for (const name of CASES) {
  for (const deflate of DEFLATE) {
    try {
      const b = await runCase(route, name, deflate, n++);
      if (b) bytes += b;
    } catch (e) {
      f.check(false, `${name}-${deflate}: ${e.message}`);
    }
  }
}
f.check(up.upgrades.length === n, `upstream saw ${n} upgrades (saw ${up.upgrades.length})`);
if (PATH === 'blind') {
  // A tunnel is opaque: the upstream sees the client's own handshake, Host included.
  f.check(up.upgrades.every((u) => u.headers.host === `127.0.0.1:${up.port}`), 'blind tunnel left Host untouched');
}
if (llmtap) {
  const r = await llmtap.stop();
  f.check(r.code === 0, `llmtap exited 0 on SIGTERM (got ${JSON.stringify(r)}); stderr: ${llmtap.stderr.slice(-2000)}`);
}
await up.close();
log(`SUMMARY path=${PATH} connections=${n} relayed_bytes=${bytes} seconds=${((Date.now() - t0) / 1000).toFixed(1)} ` +
    `failures=${f.items.length} seed=${SEED}`);
process.exit(f.items.length ? 1 : 0);
