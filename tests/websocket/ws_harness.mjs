// Shared pieces of the WebSocket relay tests and benchmark: `llmtap proxy` as a process, a `ws`
// upstream server (plain or TLS with a throwaway test CA), and `ws` clients reaching it through each
// llmtap path (gateway route, absolute-form HTTP, HTTPS_PROXY-style CONNECT intercepted, CONNECT
// blind) or directly. Every raw byte a side writes or reads after the handshake is hashed, so tests
// compare the bytes each side sent with the bytes the other received, in both directions.
//
// How a client reaches the proxy (address, route prefix, and any proxy credential) lives in
// proxyAccess() alone (the credential comes from the file `llmtap proxy` names in its banner).
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const SKIP = 77;
// The provider host an intercepted CONNECT names; llmtap's --upstream openai=... sends it to the loopback upstream.
export const PROVIDER_HOST = 'api.openai.com';

export function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[a.slice(2)] = argv[++i];
      else out[a.slice(2)] = true;
    } else out._.push(a);
  }
  return out;
}

// Loads `ws` from tests/node/node_modules (or DIR); exits 77 when it is not installed.
export function loadWs(dir) {
  const modules = dir || path.join(ROOT, 'tests', 'node', 'node_modules');
  if (!existsSync(path.join(modules, 'ws', 'package.json'))) {
    console.log(`SKIP: ${modules} lacks ws (run scripts/setup)`);
    process.exit(SKIP);
  }
  const require = createRequire(path.join(modules, 'noop.js'));
  return require('ws');
}

export function log(...a) { console.log(...a); }

export class Failures {
  constructor() { this.items = []; }
  check(cond, msg) {
    if (!cond) { this.items.push(msg); console.log('FAIL:', msg); }
    return cond;
  }
}

export const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// Deterministic bytes (xorshift32), so each side can rebuild what the other must have sent.
export class Rng {
  constructor(seed) { this.s = (seed >>> 0) || 1; }
  next() {
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n) { return this.next() % n; }
  bytes(n) {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.next(), i);
    for (; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
  text(n) {
    const alphabet = ['a', 'b', 'z', ' ', '{', '"', '\\', 'é', 'ß', '€', '日本', '🙂', '\n'];
    const parts = [];
    for (let len = 0; len < n;) {
      const piece = alphabet[this.int(alphabet.length)];
      parts.push(piece);
      len += Buffer.byteLength(piece);
    }
    return parts.join('');
  }
}

// ---- raw byte accounting ----

// Hashes every byte SOCKET writes and reads from now on. Attach it synchronously in ws's 'open' or
// 'connection' handler: bytes that came with the handshake are re-emitted on the next tick. The read
// hook goes first because ws unmasks received frames in place.
export function meter(socket) {
  const m = { sent: createHash('sha256'), recv: createHash('sha256'), sentBytes: 0, recvBytes: 0 };
  const write = socket.write.bind(socket);
  socket.write = (chunk, ...rest) => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, typeof rest[0] === 'string' ? rest[0] : 'utf8') : chunk;
    m.sent.update(b);
    m.sentBytes += b.length;
    return write(chunk, ...rest);
  };
  socket.prependListener('data', (b) => { m.recv.update(b); m.recvBytes += b.length; });
  m.digest = () => ({ sent: m.sent.copy().digest('hex'), recv: m.recv.copy().digest('hex'),
                      sentBytes: m.sentBytes, recvBytes: m.recvBytes });
  return m;
}

// ---- test CA and upstream ----

export function scratchDir(tag) {
  const d = mkdtempSync(path.join(tmpdir(), `llmtap-ws-${tag}-`));
  if (!process.env.LLMTAP_WS_KEEP) process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function makeTestCa(dir) {
  execFileSync(path.join(ROOT, 'examples', 'sim-provider', 'make_test_ca.sh'), [dir]);
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

// A ws server on 127.0.0.1:0 (TLS when CERTS given), permessage-deflate accepted when offered.
// ON_CONNECTION(ws, req, meter) runs for each upgraded connection; plain HTTP requests get a small
// JSON answer (for the HTTP-before-upgrade test) and are counted.
export async function startUpstream(WS, { certs, onConnection }) {
  const handler = (req, res) => {
    up.httpRequests++;
    const body = JSON.stringify({ ok: true, path: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = certs
    ? https.createServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 60000;
  const wss = new WS.WebSocketServer({ server, perMessageDeflate: { threshold: 0 }, maxPayload: 64 << 20 });
  const up = { server, wss, httpRequests: 0, upgrades: [], tls: !!certs };
  wss.on('connection', (ws, req) => {
    up.upgrades.push({ url: req.url, headers: req.headers });
    const m = meter(ws._socket);
    onConnection(ws, req, m);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  up.port = server.address().port;
  up.url = `${certs ? 'https' : 'http'}://127.0.0.1:${up.port}`;
  up.close = () => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(); server.close(() => r()); server.closeAllConnections?.(); });
  return up;
}

// ---- llmtap ----

export class Llmtap {
  // UPSTREAMS: provider name -> URL (--upstream NAME=URL); CA: trusted for upstream TLS.
  static async start(binary, { upstreams, ca, workdir, extra = [] }) {
    const t = new Llmtap();
    mkdirSync(workdir, { recursive: true });
    t.dataDir = path.join(workdir, 'data');
    t.jsonl = path.join(workdir, 'spans.jsonl');
    const env = { ...process.env, LLMTAP_DATA_DIR: t.dataDir };
    for (const k of Object.keys(env))
      if (k.startsWith('OTEL_EXPORTER_OTLP') || /^(https?|all)_proxy$/i.test(k)) delete env[k];
    const args = ['proxy', '--listen', '127.0.0.1:0', '--export', `jsonl=${t.jsonl}`, '--trace-idle-ms', '1000',
                  '--no-collector', '--log-level', 'warn', ...extra];
    for (const [name, url] of Object.entries(upstreams)) args.push('--upstream', `${name}=${url}`);
    if (ca) args.push('--upstream-ca', ca);
    t.stderr = '';
    t.proc = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.proc.stderr.on('data', (b) => { t.stderr = (t.stderr + b.toString()).slice(-20000); });
    t.exited = new Promise((r) => t.proc.on('exit', (code, sig) => r({ code, sig })));
    // The banner: `listening ADDR`, then `credential PATH` unless started with --no-auth.
    const banner = extra.includes('--no-auth') ? 1 : 2;
    const lines = await new Promise((resolve, reject) => {
      let buf = '';
      const onData = (b) => {
        buf += b.toString();
        const got = buf.split('\n');
        if (got.length > banner) { t.proc.stdout.off('data', onData); resolve(got.slice(0, banner).map((l) => l.trim())); }
      };
      t.proc.stdout.on('data', onData);
      t.proc.on('exit', () => reject(new Error(`llmtap exited before listening: ${t.stderr}`)));
    });
    if (!lines[0].startsWith('listening ')) throw new Error(`llmtap printed ${lines[0]}`);
    t.port = Number(lines[0].slice(lines[0].lastIndexOf(':') + 1));
    t.credential = '';
    if (banner === 2) {
      if (!lines[1].startsWith('credential ')) throw new Error(`llmtap printed ${lines[1]} after listening`);
      // The credential is the content of the file the banner names, as a user would read it.
      t.credential = readFileSync(lines[1].slice('credential '.length), 'utf8').trim();
    }
    t.proc.stdout.resume();
    t.caPath = path.join(t.dataDir, 'ca.pem');
    process.on('exit', () => { try { t.proc.kill('SIGKILL'); } catch { /* gone */ } });
    return t;
  }
  statusKb(field) {
    const m = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : -1;
  }
  rssKb() { return this.statusKb('VmRSS'); }
  async stop(timeoutMs = 15000) {
    if (this.proc.exitCode !== null) return { code: this.proc.exitCode };
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
}

// ---- clients ----

// How clients reach llmtap: its address, the gateway route of a provider (its base URL carries the
// credential in a /t/CREDENTIAL segment), and the headers a forward-proxy request (CONNECT,
// absolute-form) carries: the credential as the Basic password, as HTTPS_PROXY=http://llmtap:CRED@ADDR sends it.
export function proxyAccess(llmtap) {
  const cred = llmtap.credential;
  return {
    host: '127.0.0.1', port: llmtap.port,
    gatewayPrefix: (provider) => (cred ? `/t/${cred}` : '') + `/${provider}`,
    headers: cred ? { 'Proxy-Authorization': `Basic ${Buffer.from(`llmtap:${cred}`).toString('base64')}` } : {},
  };
}

// CONNECT HOST:PORT through llmtap, then TLS inside the tunnel (trusting CA_PEM); resolves the TLS socket.
export async function tlsThroughTunnel(access, host, port, caPem) {
  const raw = await connectTunnel(access, `${host}:${port}`);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, host, servername: host === '127.0.0.1' ? undefined : host, ca: caPem,
                            ALPNProtocols: ['http/1.1'] });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

function connectTunnel(access, authority) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(access.port, access.host);
    sock.setNoDelay(true);
    sock.once('error', reject);
    sock.once('connect', () => {
      const extra = Object.entries(access.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      sock.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`);
    });
    let buf = Buffer.alloc(0);
    const onData = (b) => {
      buf = Buffer.concat([buf, b]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const status = buf.subarray(0, buf.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.[01] 200/.test(status)) return reject(new Error(`CONNECT ${authority}: ${status}`));
      if (buf.length > end + 4) sock.unshift(buf.subarray(end + 4));
      resolve(sock);
    };
    sock.on('data', onData);
  });
}

// Where each path's client connects and how. PATH: direct | gateway | absolute | connect | blind.
// Returns [url, ws options]. UP: the upstream (for gateway: the one --upstream PROVIDER=... names; for
// connect: the one --upstream openai=... names); LLMTAP: the proxy; CA: the test CA.
export function clientRoute(pathName, { up, llmtap, ca, provider = 'openai', target = '/v1/ws' }) {
  const access = llmtap ? proxyAccess(llmtap) : null;
  const upScheme = up.tls ? 'wss' : 'ws';
  switch (pathName) {
    case 'direct':
      return [`${upScheme}://127.0.0.1:${up.port}${target}`, up.tls ? { ca: readFileSync(ca) } : {}];
    case 'gateway':
      return [`ws://${access.host}:${access.port}${access.gatewayPrefix(provider)}${target}`, {}];
    case 'absolute': {
      // A plain-HTTP proxy request: absolute-form target on a connection to the proxy.
      if (up.tls) throw new Error('absolute-form needs a plain upstream');
      const abs = `http://127.0.0.1:${up.port}${target}`;
      return [abs.replace(/^http/, 'ws'), {
        headers: { ...access.headers },
        createConnection: () => { const s = net.connect(access.port, access.host); s.setNoDelay(true); return s; },
        finishRequest: (req) => { req.path = abs; req.end(); },
      }];
    }
    case 'connect':
    case 'blind': {
      // HTTPS_PROXY: CONNECT through llmtap, then TLS inside the tunnel. `connect` names the provider
      // host (intercepted: llmtap's leaf, trusted via its CA); `blind` the upstream itself (tunnelled).
      const host = pathName === 'connect' ? PROVIDER_HOST : '127.0.0.1';
      const port = pathName === 'connect' ? 443 : up.port;
      const caPem = readFileSync(pathName === 'connect' ? llmtap.caPath : ca);
      return [`wss://${host}:${port}${target}`, {
        createConnection: (opts, cb) => {
          tlsThroughTunnel(access, host, port, caPem).then((s) => cb(null, s), (e) => cb(e));
        },
      }];
    }
    default:
      throw new Error(`unknown path ${pathName}`);
  }
}

// Opens a ws client; resolves {ws, meter} on open. The meter counts only post-handshake bytes.
export function openClient(WS, url, options) {
  return new Promise((resolve, reject) => {
    const ws = new WS(url, { perMessageDeflate: false, maxPayload: 64 << 20, ...options });
    ws.once('open', () => resolve({ ws, meter: meter(ws._socket) }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

export function randomSeed() { return randomBytes(4).readUInt32LE(0); }

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
