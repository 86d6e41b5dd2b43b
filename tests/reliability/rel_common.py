"""Shared pieces of the llmtap reliability tests (Python 3 standard library only).

- A raw-socket HTTP/1.1 upstream (plain or TLS) whose responses are a pure function of a spec the
  client sends in the `x-rel-spec` header, so the client recomputes the exact bytes it must receive.
  It writes each response in random small pieces with TCP_NODELAY (random TCP segmenting) and reports
  the SHA-256 of the request body it received in `x-rel-req-sha256`.
- Starting `llmtap proxy` on port 0 with a jsonl export, reading its RSS, stopping it with SIGTERM.
"""
import atexit
import gzip
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import llmtap_proxy  # noqa: E402  (reads the proxy's credential as a user would)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def log(msg):
    print(msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# Deterministic responses
# ---------------------------------------------------------------------------------------------

def spec_encode(d):
    return ";".join("%s=%s" % (k, v) for k, v in sorted(d.items()))


def spec_decode(s):
    out = {}
    for part in s.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def _json_text(rng, size):
    words = ["alpha", "beta", "gamma", "delta", "tool", "call", "token", "usage", "model", "\\u00e9t\\u00e9"]
    parts = []
    n = 0
    while n < size:
        w = rng.choice(words) + str(rng.randrange(1000))
        parts.append(w)
        n += len(w) + 1
    return json.dumps({"id": "rel", "text": " ".join(parts)}).encode()


def sse_events(seed, count):
    """OpenAI-style chat.completion.chunk events; the last one carries usage, then [DONE]."""
    rng = random.Random(seed)
    events = []
    for i in range(count):
        delta = "".join(rng.choice("abcdefghij klmnop\n\"\\") for _ in range(rng.randrange(0, 40)))
        ev = {"id": "chatcmpl-rel%d" % seed, "object": "chat.completion.chunk", "created": 1,
              "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": delta},
                                                   "finish_reason": None}]}
        events.append(b"data: " + json.dumps(ev).encode() + b"\n\n")
    fin = {"id": "chatcmpl-rel%d" % seed, "object": "chat.completion.chunk", "created": 1,
           "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 5, "completion_tokens": count, "total_tokens": 5 + count}}
    events.append(b"data: " + json.dumps(fin).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


def response_for(spec, method):
    """(status, [(name, value)], body bytes, framing) for SPEC; HEAD gets the headers only."""
    seed = int(spec["seed"])
    size = int(spec.get("size", "0"))
    kind = spec.get("kind", "cl")
    rng = random.Random(seed)
    headers = []
    status = int(spec.get("status", "200"))
    if kind == "sse":
        body = b"".join(sse_events(seed, size))
        headers.append(("Content-Type", "text/event-stream"))
        framing = "chunked"
    elif kind == "gzip":
        body = gzip.compress(_json_text(rng, size), mtime=0)
        headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Encoding", "gzip"))
        framing = spec.get("framing", "cl")
    elif kind == "br":
        # Opaque bytes labelled br: a proxy must pass encoded bodies through untouched.
        body = rng.randbytes(size)
        headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Encoding", "br"))
        framing = spec.get("framing", "cl")
    elif kind == "empty":
        body = b""
        framing = "none" if status in (204, 304) else "cl"
    else:
        body = rng.randbytes(size)
        headers.append(("Content-Type", "application/octet-stream"))
        framing = spec.get("framing", "cl")
    headers.append(("x-rel-body-sha256", hashlib.sha256(body).hexdigest()))
    return status, headers, body, framing


def expected_body(spec, method):
    status, _h, body, _f = response_for(spec, method)
    if method == "HEAD" or status in (204, 304):
        return b""
    return body


# ---------------------------------------------------------------------------------------------
# Raw upstream
# ---------------------------------------------------------------------------------------------

class ConnReader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError()
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise ValueError("line too long")
            self._fill()
        i = self.buf.index(b"\r\n")
        out, self.buf = self.buf[:i], self.buf[i + 2:]
        return out

    def exact(self, n, sink):
        """Feeds N bytes to SINK(bytes) without keeping them."""
        while n > 0:
            if not self.buf:
                self._fill()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            sink(take)
            n -= len(take)


def read_request(reader):
    """-> (method, path, headers dict lowercased, body sha256 hex, body length, body prefix)."""
    line = reader.line()
    while line == b"":
        line = reader.line()
    method, path, _v = line.decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        h = reader.line()
        if h == b"":
            break
        k, v = h.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    hasher = hashlib.sha256()
    count = [0]
    prefix = bytearray()

    def sink(b):
        hasher.update(b)
        count[0] += len(b)
        if len(prefix) < 65536:
            prefix.extend(b[:65536 - len(prefix)])

    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int(reader.line().split(b";")[0], 16)
            if size == 0:
                while reader.line() != b"":
                    pass
                break
            reader.exact(size, sink)
            reader.line()
    elif "content-length" in headers:
        reader.exact(int(headers["content-length"]), sink)
    return method, path, headers, hasher.hexdigest(), count[0], bytes(prefix)


class PieceWriter:
    """Writes bytes in random small pieces, each its own send() (TCP_NODELAY: its own segment)."""

    def __init__(self, sock, rng, max_piece):
        self.sock = sock
        self.rng = rng
        self.max_piece = max_piece

    def write(self, data):
        mv = memoryview(data)
        i = 0
        while i < len(mv):
            if self.rng.random() < 0.5:
                n = self.rng.randrange(1, 64)
            else:
                n = self.rng.randrange(1, self.max_piece)
            self.sock.sendall(mv[i:i + n])
            i += n


class Upstream:
    """HTTP/1.1 upstream on 127.0.0.1:0. HANDLER(conn, reader, request_tuple) may take over a request
    (return True) to inject faults; otherwise the spec-driven response is written."""

    def __init__(self, tls_dir=None, handler=None):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1024)
        self.port = self.lsock.getsockname()[1]
        self.ctx = None
        if tls_dir:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(os.path.join(tls_dir, "server.pem"), os.path.join(tls_dir, "server.key"))
        self.handler = handler
        self.corrupt_seeds = set()  # canary: flip one body byte of these exchanges (headers keep the true hash)
        self.requests = 0
        self.errors = []
        self.conns_closed_by_peer = 0
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self):
        return ("https" if self.ctx else "http") + "://127.0.0.1:%d" % self.port

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ctx:
                c.settimeout(30)
                c = self.ctx.wrap_socket(c, server_side=True)
                c.settimeout(None)
            reader = ConnReader(c)
            while True:
                try:
                    req = read_request(reader)
                except (EOFError, ConnectionError, ssl.SSLError):
                    with self.lock:
                        self.conns_closed_by_peer += 1
                    return
                with self.lock:
                    self.requests += 1
                if self.handler and self.handler(c, reader, req):
                    return
                if not self._respond(c, req):
                    return
        except (OSError, ssl.SSLError) as e:
            with self.lock:
                self.errors.append(repr(e))
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _respond(self, c, req):
        method, path, headers, req_sha, req_len, _prefix = req
        spec = spec_decode(headers.get("x-rel-spec", "seed=0;size=0"))
        status, hdrs, body, framing = response_for(spec, method)
        rng = random.Random(int(spec["seed"]) ^ 0x5EED)
        close = spec.get("close") == "1"
        reason = {200: "OK", 201: "Created", 204: "No Content", 404: "Not Found"}.get(status, "X")
        out = ["HTTP/1.1 %d %s" % (status, reason)]
        out += ["%s: %s" % (k, v) for k, v in hdrs]
        out.append("x-rel-req-sha256: %s" % req_sha)
        out.append("x-rel-req-len: %d" % req_len)
        out.append("x-rel-req-method: %s" % method)
        out.append("x-rel-req-path: %s" % path)
        if framing == "cl" or (framing == "chunked" and method == "HEAD"):
            out.append("Content-Length: %d" % len(body))
        elif framing == "chunked":
            out.append("Transfer-Encoding: chunked")
        elif framing == "close":
            close = True
        if close:
            out.append("Connection: close")
        corrupt = int(spec["seed"]) in self.corrupt_seeds and len(body) > 0
        if corrupt:
            body = body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 0x20]) + body[len(body) // 2 + 1:]
        w = PieceWriter(c, rng, int(spec.get("piece", "4096")))
        w.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        if method != "HEAD" and framing != "none":
            if framing == "chunked":
                if spec.get("kind") == "sse" and not corrupt:
                    pieces = sse_events(int(spec["seed"]), int(spec.get("size", "0")))
                else:
                    pieces, i = [], 0
                    while i < len(body):
                        n = rng.randrange(1, 70000)
                        pieces.append(body[i:i + n])
                        i += n
                for p in pieces:
                    if p:
                        w.write(b"%x\r\n" % len(p) + p + b"\r\n")
                w.write(b"0\r\n\r\n")
            else:
                w.write(body)
        return not close

    def stop(self):
        self.stopping = True
        try:
            self.lsock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# llmtap process
# ---------------------------------------------------------------------------------------------

def make_test_ca(outdir):
    subprocess.run([os.path.join(REPO, "examples/sim-provider/make_test_ca.sh"), outdir], check=True)
    return outdir


class Llmtap:
    def __init__(self, binary, upstream_url, ca_dir, workdir, nofile=None, extra=()):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.jsonl = os.path.join(workdir, "spans.jsonl")
        self.stderr_path = os.path.join(workdir, "llmtap.stderr")
        env = dict(os.environ)
        env["LLMTAP_DATA_DIR"] = self.data_dir
        for k in list(env):
            if k.startswith("OTEL_EXPORTER_OTLP") or k in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
                del env[k]
        cmd = [binary, "proxy", "--listen", "127.0.0.1:0", "--upstream", "openai=" + upstream_url,
               "--upstream-ca", os.path.join(ca_dir, "ca.pem"), "--export", "jsonl=" + self.jsonl,
               "--trace-idle-ms", "1000", "--no-collector", "--log-level", "warn"] + list(extra)

        def pre():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.errf = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errf, env=env, preexec_fn=pre)
        try:
            banner = llmtap_proxy.read_banner(self.proc.stdout)
        except RuntimeError as e:
            self.proc.kill()
            fail("llmtap did not print its banner: %s; stderr: %s" % (e, self.stderr_tail()))
        self.port = banner.port
        self.gw = banner.gateway_prefix            # "/t/CREDENTIAL", before /openai/...
        self.proxy_auth = banner.proxy_authorization  # Proxy-Authorization for CONNECT
        atexit.register(self._kill)
        threading.Thread(target=self._drain, daemon=True).start()

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _drain(self):
        try:
            while self.proc.stdout.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def ca_path(self):
        return os.path.join(self.data_dir, "ca.pem")

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        return self._status_field("VmRSS")

    def hwm_kb(self):
        return self._status_field("VmHWM")

    def _status_field(self, name):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        return -1

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stderr_tail(self, n=2000):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr_count(self, needle):
        """Lines of llmtap's stderr containing NEEDLE."""
        nb = needle.encode()
        with open(self.stderr_path, "rb") as f:
            return sum(1 for line in f if nb in line)

    def stop(self, timeout=30):
        """SIGTERM; returns the exit code (None if it had to be killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def spans(self):
        out = []
        try:
            with open(self.jsonl) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        out.append(json.loads(line))
        except OSError:
            pass
        return out


def find_binary(argv):
    if len(argv) < 2 or not os.access(argv[1], os.X_OK):
        fail("usage: %s LLMTAP_BINARY [...]" % argv[0])
    return argv[1]


def tmpdir(tag):
    """A scratch directory, removed at exit unless $LLMTAP_REL_KEEP is set (logs can be large)."""
    d = tempfile.mkdtemp(prefix="llmtap-rel-%s-" % tag)
    if not os.environ.get("LLMTAP_REL_KEEP"):
        atexit.register(shutil.rmtree, d, True)
    return d
