#!/usr/bin/env python3
"""Exporter outages across SIGTERM, the end-of-run tree without a store, storage faults (read-only,
full and filling disks, damaged stores) and ill-formed UTF-8 in responses.

Usage: storage_export_test.py LLMTAP SCENARIO
Scenarios: otlp-sigterm, otlp-long-outage, run-otlp-tree, readonly-data-dir, full-disk, disk-fills,
corrupt-store, utf8-priced, version.

A plain-HTTP fake OpenAI upstream (chat completions with usage, model gpt-4o-mini so calls are priced)
and a fake OTLP/HTTP receiver (http/json), both on 127.0.0.1:0. Spans are counted by id: the jsonl
export (on an unaffected disk) is the ground truth of what llmtap built. The disk scenarios mount small
tmpfs file systems and need root (CAP_SYS_ADMIN); without it they exit 77 (ctest: skipped).
"""
import glob
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_common import REPO, fail, find_binary, log, tmpdir  # noqa: E402  (puts tests/support on the path)
import llmtap_proxy  # noqa: E402  (reads the proxy's credential as a user would)

SKIP = 77
FFFD = "\ufffd"


# ---------------------------------------------------------------------------------------------
# Fake upstream and OTLP receiver
# ---------------------------------------------------------------------------------------------

def chat_body(n, content=b"Answer %d."):
    text = content % n if b"%d" in content else content
    return (b'{"id":"chatcmpl-%d","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18",'
            b'"choices":[{"index":0,"message":{"role":"assistant","content":"' + text + b'"},'
            b'"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}') % n


def sse_body(n, content=b"Answer %d."):
    text = content % n if b"%d" in content else content
    head = b'{"id":"chatcmpl-%d","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18",' % n
    events = [
        head + b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
        head + b'"choices":[{"index":0,"delta":{"content":"' + text + b'"},"finish_reason":null}]}',
        head + b'"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        head + b'"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}',
    ]
    return b"".join(b"data: " + e + b"\n\n" for e in events) + b"data: [DONE]\n\n"


class LoopbackServer:
    """HTTP/1.1 on 127.0.0.1:PORT; each POST is answered by self.respond(body, headers) ->
    (status, content type, body bytes)."""

    def __init__(self, port=0):
        outer = self
        self.lock = threading.Lock()

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                code, ctype, out = outer.respond(body, self.headers)
                self.send_response(code)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Upstream(LoopbackServer):
    """POST .../chat/completions -> a completion; `x-test-content` (hex) sets the content bytes."""

    def __init__(self):
        self.count = 0
        super().__init__()

    def respond(self, body, headers):
        req = json.loads(body)
        with self.lock:
            self.count += 1
            n = self.count
        content = bytes.fromhex(headers.get("x-test-content", "")) or b"Answer %d."
        if req.get("stream"):
            return 200, "text/event-stream", sse_body(n, content)
        return 200, "application/json", chat_body(n, content)


class OtlpReceiver(LoopbackServer):
    """http/json OTLP receiver; STATUS(i) gives the status of the i-th POST (0-based)."""

    def __init__(self, status=lambda i: 200, port=0):
        self.status = status
        self.posts = 0
        self.accepted = []  # span ids of 2xx posts, in order (duplicates kept)
        super().__init__(port)

    def respond(self, body, headers):
        with self.lock:
            i = self.posts
            self.posts += 1
            code = self.status(i)
            if 200 <= code < 300:
                self.accepted += otlp_span_ids(json.loads(body))
        return code, "application/json", b"{}" if code < 300 else b"unavailable"

    def ids(self):
        with self.lock:
            return list(self.accepted)


def otlp_span_ids(body):
    return [s["spanId"] for rs in body.get("resourceSpans", []) for ss in rs.get("scopeSpans", [])
            for s in ss.get("spans", [])]


def spool_span_ids(spool_dir):
    ids = []
    for p in sorted(glob.glob(os.path.join(spool_dir, "batch-*.json"))):
        with open(p) as f:
            ids += otlp_span_ids(json.load(f))
    return ids


def jsonl_spans(path):
    out = []
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="strict") as f:
            out = [json.loads(line) for line in f if line.strip()]
    return out


def post_chat(proxy, n, stream=False, content_hex=""):
    """One chat completion through PROXY's gateway route (with its credential); returns (status, body bytes)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
    body = json.dumps({"model": "gpt-4o-mini", "stream": stream,
                       "messages": [{"role": "user", "content": "question %d %s" % (n, os.urandom(4).hex())}]})
    headers = {"content-type": "application/json", "authorization": "Bearer sk-test-0123456789abcdef"}
    if content_hex:
        headers["x-test-content"] = content_hex
    c.request("POST", proxy.gw + "/openai/v1/chat/completions", body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


# ---------------------------------------------------------------------------------------------
# llmtap processes
# ---------------------------------------------------------------------------------------------

def clean_env(data_dir, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OTEL_") and k.lower() not in ("https_proxy", "http_proxy", "llmtap_endpoint")}
    env["LLMTAP_DATA_DIR"] = data_dir
    env.update(extra or {})
    return env


class Proxy:
    def __init__(self, llmtap, work, data_dir, upstream, args=(), env=None, tag="proxy"):
        self.stderr_path = os.path.join(work, "%s.stderr" % tag)
        self.errf = open(self.stderr_path, "wb")
        cmd = [llmtap, "proxy", "--listen", "127.0.0.1:0", "--upstream", "openai=" + upstream.url(),
               "--no-collector", "--log-level", "info", "--data-dir", data_dir] + list(args)
        env = clean_env(data_dir, dict({"TMPDIR": work}, **(env or {})))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errf, env=env)
        # A scenario that fails half-way must not leave its llmtap running after the test.
        import atexit
        atexit.register(lambda p=self.proc: p.poll() is None and p.kill())
        try:
            banner = llmtap_proxy.read_banner(self.proc.stdout)
        except RuntimeError as e:
            self.proc.kill()
            fail("llmtap did not start: %s\n%s" % (e, self.stderr()))
        self.port = banner.port
        self.gw = banner.gateway_prefix  # "/t/CREDENTIAL", before /openai/...

    def stop(self):
        """SIGTERM; returns (exit code, seconds to exit)."""
        t0 = time.monotonic()
        self.proc.terminate()
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = None
        return rc, time.monotonic() - t0

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


CLIENT = r"""
import json, os, sys, urllib.request
base = os.environ["OPENAI_BASE_URL"]
for i in range(int(sys.argv[1])):
    req = urllib.request.Request(base + "/chat/completions", method="POST",
        data=json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "q%d" % i}]}).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer sk-test-0123456789abcdef"})
    body = json.loads(urllib.request.urlopen(req, timeout=30).read())
    assert body["usage"]["total_tokens"] == 17, body
print("CLIENT-OK", flush=True)
"""


def llmtap_run(llmtap, work, data_dir, upstream, args=(), calls=1, env=None):
    client = os.path.join(work, "client.py")
    with open(client, "w") as f:
        f.write(CLIENT)
    cmd = [llmtap, "run", "--mode", "gateway", "--upstream", "openai=" + upstream.url(), "--no-collector",
           "--data-dir", data_dir] + list(args) + ["--", sys.executable, client, str(calls)]
    # TMPDIR: where a fallback run directory or unstored-traces file goes (removed with WORK).
    p = subprocess.run(cmd, capture_output=True, env=clean_env(data_dir, dict({"TMPDIR": work}, **(env or {}))),
                       timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# Mounts (disk scenarios)
# ---------------------------------------------------------------------------------------------

class Tmpfs:
    def __init__(self, path, size):
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                           capture_output=True)
        if r.returncode != 0:
            log("SKIP: cannot mount a tmpfs (%s); the disk scenarios need root" % r.stderr.decode().strip())
            sys.exit(SKIP)
        self.path = path
        import atexit
        atexit.register(self.unmount)

    def remount(self, opt):
        subprocess.run(["mount", "-o", "remount,%s" % opt, self.path], check=True)

    def fill(self):
        """Writes a filler file until the file system is full."""
        fd = os.open(os.path.join(self.path, "filler"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        st = os.statvfs(self.path)
        return st.f_bavail

    def unfill(self):
        try:
            os.unlink(os.path.join(self.path, "filler"))
        except OSError:
            pass

    def unmount(self):
        subprocess.run(["umount", "-l", self.path], capture_output=True)


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------

def expect(cond, msg, detail=""):
    if not cond:
        fail(msg + ("\n" + detail if detail else ""))


def scenario_otlp_sigterm(llmtap, work):
    """503 to the first 3 posts; SIGTERM before any trace closed: all delivered within 10 s."""
    up = Upstream()
    rcv = OtlpReceiver(status=lambda i: 503 if i < 3 else 200)
    data = os.path.join(work, "data")
    jsonl = os.path.join(work, "spans.jsonl")
    p = Proxy(llmtap, work, data, up, ["--export", "otlp=" + rcv.url(), "--export", "jsonl=" + jsonl,
                                        "--trace-idle-ms", "60000"])
    for n in range(3):
        st, _ = post_chat(p, n)
        expect(st == 200, "request %d: HTTP %d" % (n, st))
    rc, secs = p.stop()
    built = [s["span_id"] for s in jsonl_spans(jsonl)]
    got = rcv.ids()
    err = p.stderr()
    expect(rc == 0, "exit code %r" % rc, err[-3000:])
    expect(secs <= 10.0, "took %.1f s to exit (contract: 10 s)" % secs, err[-3000:])
    expect(rcv.posts >= 4, "expected the 3 refused posts and a delivery, saw %d posts" % rcv.posts, err[-3000:])
    expect(len(built) > 0 and sorted(got) == sorted(built),
           "delivered %d span(s), built %d" % (len(got), len(built)), err[-3000:])
    expect(spool_span_ids(os.path.join(data, "spool/otlp")) == [], "spool not empty")
    expect(re.search(r"delivered %d span\(s\) in \d+ batch\(es\); none left in the spool" % len(built), err),
           "no delivered/spooled count in the log", err[-3000:])
    log("SUMMARY otlp-sigterm: %d spans built, %d delivered after %d refused posts, exit %.1f s"
        % (len(built), len(got), 3, secs))


def scenario_otlp_long_outage(llmtap, work):
    """Outage longer than 10 s: exactly the undelivered rest is spooled; the next start delivers it."""
    up = Upstream()
    healthy = threading.Event()
    rcv = OtlpReceiver(status=lambda i: 200 if i == 0 or healthy.is_set() else 503)
    data = os.path.join(work, "data")
    spool = os.path.join(data, "spool/otlp")
    jsonl = os.path.join(work, "spans.jsonl")
    p = Proxy(llmtap, work, data, up, ["--export", "otlp=" + rcv.url(), "--export", "jsonl=" + jsonl,
                                        "--trace-idle-ms", "500"])
    st, _ = post_chat(p, 0)
    expect(st == 200, "request 0: HTTP %d" % st)
    deadline = time.monotonic() + 30
    while not rcv.ids() and time.monotonic() < deadline:
        time.sleep(0.1)
    expect(rcv.ids(), "the first trace was never delivered", p.stderr()[-3000:])
    first = rcv.ids()
    for n in range(1, 4):
        st, _ = post_chat(p, n)
        expect(st == 200, "request %d: HTTP %d" % (n, st))
    rc, secs = p.stop()
    err = p.stderr()
    built = [s["span_id"] for s in jsonl_spans(jsonl)]
    spooled = spool_span_ids(spool)
    expect(rc == 0, "exit code %r" % rc, err[-3000:])
    expect(secs <= 10.0, "took %.1f s to exit during the outage (contract: 10 s)" % secs, err[-3000:])
    expect(rcv.ids() == first, "spans were accepted during the outage?")
    expect(sorted(first + spooled) == sorted(built),
           "delivered %d + spooled %d != built %d" % (len(first), len(spooled), len(built)), err[-3000:])
    m = re.search(r"delivered (\d+) span\(s\); (\d+) span\(s\) in (\d+) batch\(es\) wait in the spool", err)
    expect(m and int(m.group(1)) == len(first) and int(m.group(2)) == len(spooled),
           "log does not say how many were delivered and how many wait", err[-3000:])
    refused = rcv.posts - 1
    expect(refused >= 3, "only %d retries during the outage" % refused, err[-3000:])

    # The outage ends; the next start (no traffic) delivers the spool, each span once.
    healthy.set()
    p2 = Proxy(llmtap, work, data, up, ["--export", "otlp=" + rcv.url()], tag="proxy2")
    deadline = time.monotonic() + 30
    while len(rcv.ids()) < len(built) and time.monotonic() < deadline:
        time.sleep(0.1)
    rc2, _ = p2.stop()
    got = rcv.ids()
    expect(rc2 == 0, "second run exit code %r" % rc2, p2.stderr()[-3000:])
    expect(sorted(got) == sorted(built), "after restart: %d delivered of %d built (duplicates: %d)"
           % (len(set(got)), len(built), len(got) - len(set(got))), p2.stderr()[-3000:])
    expect(spool_span_ids(spool) == [], "spool not empty after the restart")
    log("SUMMARY otlp-long-outage: %d spans built; %d delivered before SIGTERM, %d spooled after %d refused "
        "posts, exit %.1f s; the next start delivered %d; duplicates 0" % (len(built), len(first), len(spooled),
                                                                            refused, secs, len(spooled)))


def check_tree(err, calls):
    expect("llmtap: " in err and "\ntrace " in err, "no run report", err[-3000:])
    expect(err.count("chat gpt-4o-mini") + err.count("gpt-4o-mini") >= 1, "no generation in the tree", err[-3000:])
    m = re.search(r"cost: (\$[0-9.]+) over (\d+) model call", err)
    expect(m and int(m.group(2)) == calls, "no cost summary for %d calls" % calls, err[-3000:])
    return m.group(1)


def scenario_run_otlp_tree(llmtap, work):
    up = Upstream()
    rcv = OtlpReceiver()
    data = os.path.join(work, "data")
    rc, out, err = llmtap_run(llmtap, work, data, up, ["--export", "otlp=" + rcv.url()], calls=2)
    expect(rc == 0 and "CLIENT-OK" in out, "client failed: rc %d" % rc, err[-3000:])
    cost = check_tree(err, 2)
    expect("add --export sqlite" not in err, "still says trees need the store", err[-3000:])
    expect(not os.path.exists(os.path.join(data, "traces.db")), "a store was written without --export sqlite")
    log("SUMMARY run-otlp-tree: tree and cost %s printed with --export otlp only; %d spans delivered"
        % (cost, len(rcv.ids())))


def scenario_readonly_data_dir(llmtap, work):
    up = Upstream()
    mnt = Tmpfs(os.path.join(work, "ro"), "8m")
    data = os.path.join(mnt.path, "llmtap")
    rc, out, err = llmtap_run(llmtap, work, data, up, calls=1)  # CA and store created while writable
    expect(rc == 0 and "CLIENT-OK" in out, "first run failed", err[-3000:])
    mnt.remount("ro")
    rc, out, err = llmtap_run(llmtap, work, data, up, calls=2)
    expect(rc == 0, "llmtap run refused to run the child on a read-only data directory (rc %d)" % rc, err[-3000:])
    expect("CLIENT-OK" in out, "the child ran but was not forwarded", err[-3000:])
    expect(data in err and "Read-only file system" in err, "the reason (file, OS error) is not named", err[-3000:])
    check_tree(err, 2)
    m = re.search(r"this run's CA copy, socket and store are in (\S+)", err)
    expect(m, "does not say where this run's files went", err[-3000:])
    store = os.path.join(m.group(1), "traces.db")
    with sqlite3.connect("file:%s?mode=ro" % store, uri=True) as db:
        n = db.execute("SELECT COUNT(*) FROM traces").fetchone()[0]
    expect(n >= 1, "the run's traces are not in %s" % store)
    log("SUMMARY readonly-data-dir: child ran and was forwarded (2 calls), reason named, %d trace(s) kept in %s"
        % (n, m.group(1)))


def scenario_full_disk(llmtap, work):
    up = Upstream()
    mnt = Tmpfs(os.path.join(work, "full"), "1m")
    data = os.path.join(mnt.path, "llmtap")
    os.makedirs(data, mode=0o700)
    mnt.fill()
    r = subprocess.run([llmtap, "ca", "regenerate", "--data-dir", data], capture_output=True, env=clean_env(data))
    cerr = r.stderr.decode()
    expect(r.returncode != 0, "ca regenerate succeeded on a full disk?")
    expect(re.search(re.escape(data) + r"/ca[-a-z]*\.pem[^:]*: No space left on device", cerr),
           "the CA error does not name the file and the OS reason", cerr)
    rc, out, err = llmtap_run(llmtap, work, data, up, calls=1)
    expect(rc == 0 and "CLIENT-OK" in out, "llmtap run did not run/forward the child on a full disk (rc %d)" % rc,
           err[-3000:])
    expect(re.search(re.escape(data) + r"/\S+: No space left on device", err), "reason not named", err[-3000:])
    check_tree(err, 1)
    log("SUMMARY full-disk: `ca regenerate` says %r; `run` forwarded and printed the tree"
        % cerr.strip().splitlines()[-1])


def scenario_disk_fills(llmtap, work):
    up = Upstream()
    mnt = Tmpfs(os.path.join(work, "small"), "4m")
    data = os.path.join(mnt.path, "llmtap")
    jsonl = os.path.join(work, "spans.jsonl")  # another file system: the ground truth
    p = Proxy(llmtap, work, data, up, ["--export", "sqlite", "--export", "jsonl=" + jsonl, "--trace-idle-ms", "300"])
    st, _ = post_chat(p, 0)
    expect(st == 200, "request 0: HTTP %d" % st)
    time.sleep(1.5)  # closed and stored
    mnt.fill()
    calls = 30
    for n in range(1, calls + 1):
        st, body = post_chat(p, n)
        expect(st == 200 and b'"total_tokens":17' in body, "request %d not forwarded on a full disk" % n)
    time.sleep(1.5)
    rc, secs = p.stop()
    err = p.stderr()
    expect(rc == 0, "exit code %r" % rc, err[-3000:])
    m = re.search(r"stored (\d+) of (\d+) traces: (.*?); (\d+) written to (\S+) instead", err)
    expect(m, "no honest store count at exit", err[-3000:])
    stored, total, why, unstored, fallback = int(m.group(1)), int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)
    expect(stored + unstored == total and unstored >= 1, "counts do not add up: %s" % m.group(0))
    expect("full" in why, "the reason is not the full disk: %s" % why)
    expect("not an error" not in err, "'not an error' in the log", err[-3000:])
    built = jsonl_spans(jsonl)
    traces_built = {s["trace_id"] for s in built}
    expect(len(traces_built) == total, "%d traces built, the store counted %d" % (len(traces_built), total))
    mnt.unfill()
    with sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "traces.db"), uri=True) as db:
        in_store = {r[0] for r in db.execute("SELECT trace_id FROM traces")}
    fallback_spans = jsonl_spans(fallback)
    expect(len(in_store) == stored, "%d traces in the store, %d reported stored" % (len(in_store), stored))
    expect({s["trace_id"] for s in fallback_spans} == traces_built - in_store,
           "the fallback file does not hold exactly the unstored traces")
    expect(len(fallback_spans) == sum(1 for s in built if s["trace_id"] not in in_store),
           "fallback span count differs")
    log("SUMMARY disk-fills: %d calls forwarded on a full disk; stored %d of %d traces (%s); %d (%d spans) in the "
        "fallback file; none lost" % (calls, stored, total, why, unstored, len(fallback_spans)))


def damage(path, kind):
    b = bytearray(open(path, "rb").read())
    if kind == "garbage":
        b = bytearray(os.urandom(len(b)))
    elif kind == "zeroed-pages":
        mid = (len(b) // 4096 // 2) * 4096
        b[mid:mid + 3 * 4096] = bytes(min(3 * 4096, len(b) - mid))
    elif kind == "truncated":
        b = b[:len(b) // 2 + 123]
    open(path, "wb").write(bytes(b))


def scenario_corrupt_store(llmtap, work):
    up = Upstream()
    results = []
    for kind in ("garbage", "zeroed-pages", "truncated"):
        data = os.path.join(work, kind)
        p = Proxy(llmtap, work, data, up, ["--trace-idle-ms", "200"], tag=kind + "-1")
        for n in range(40):  # enough pages for a zeroed middle page to hit the tables
            post_chat(p, n)
        time.sleep(1.0)
        p.stop()
        store = os.path.join(data, "traces.db")
        damage(store, kind)
        r = subprocess.run([llmtap, "traces", "list", "--data-dir", data], capture_output=True)
        terr = r.stderr.decode()
        expect(r.returncode != 0, "%s: `traces list` exited 0 on a damaged store: %s" % (kind, r.stdout.decode()))
        expect(store in terr and "damaged" in terr, "%s: the error does not name the file" % kind, terr)
        p = Proxy(llmtap, work, data, up, ["--trace-idle-ms", "200"], tag=kind + "-2")
        st, _ = post_chat(p, 99)
        expect(st == 200, "%s: not forwarded after the store was set aside" % kind)
        time.sleep(1.0)
        rc, _ = p.stop()
        err = p.stderr()
        aside = glob.glob(store + ".corrupt-*")
        expect(rc == 0 and len([a for a in aside if not a.endswith(("-wal", "-shm"))]) == 1,
               "%s: damaged store not set aside" % kind, err[-3000:])
        expect("damaged" in err and "moved it to" in err, "%s: set-aside not reported" % kind, err[-3000:])
        r = subprocess.run([llmtap, "traces", "list", "--data-dir", data], capture_output=True)
        expect(r.returncode == 0 and r.stdout.decode().count("\n") >= 2, "%s: fresh store unreadable" % kind,
               r.stderr.decode())
        results.append("%s: %s" % (kind, terr.strip().split(" is damaged: ", 1)[-1][:80]))
    log("SUMMARY corrupt-store: " + " | ".join(results))


def scenario_utf8_priced(llmtap, work):
    up = Upstream()
    data = os.path.join(work, "data")
    jsonl = os.path.join(work, "spans.jsonl")
    p = Proxy(llmtap, work, data, up, ["--export", "jsonl=" + jsonl, "--trace-idle-ms", "300"],
              env={"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"})
    bad = b"caf\xc3 na\xefve \xff\xfe end"
    want = {}
    for n, stream in ((1, False), (2, True)):
        st, body = post_chat(p, n, stream=stream, content_hex=bad.hex())
        exp = (sse_body if stream else chat_body)(n, bad)
        expect(st == 200 and hashlib.sha256(body).digest() == hashlib.sha256(exp).digest(),
               "stream=%s: the client did not get identical bytes" % stream)
        want["chatcmpl-%d" % n] = stream
    time.sleep(1.5)
    rc, _ = p.stop()
    gens = [s for s in jsonl_spans(jsonl) if s["attributes"].get("llmtap.span.kind") == "generation"]
    expect(rc == 0 and len(gens) == 2, "expected 2 generation spans, got %d" % len(gens), p.stderr()[-3000:])
    for g in gens:
        a = g["attributes"]
        rid = a.get("gen_ai.response.id")
        expect(a.get("gen_ai.usage.output_tokens") == 5 and a.get("gen_ai.usage.input_tokens") == 12,
               "%s: usage lost" % rid, json.dumps(a))
        expect(isinstance(a.get("llm.cost.total"), float), "%s: not priced" % rid, json.dumps(a))
        expect(not a.get("llmtap.call.incomplete"), "%s: flagged incomplete" % rid, json.dumps(a))
        out = a.get("gen_ai.output.messages", "")
        expect(FFFD in out and "end" in out, "%s: content not kept with U+FFFD" % rid, out)
    log("SUMMARY utf8-priced: 2 calls (json, sse) with ill-formed UTF-8: bytes identical, usage and cost kept, "
        "complete, U+FFFD in content")


def scenario_version(llmtap, work):
    out = subprocess.run([llmtap, "--version"], capture_output=True, check=True).stdout.decode().strip()
    cmake = re.search(r"project\(llmtap VERSION (\S+)", open(os.path.join(REPO, "CMakeLists.txt")).read()).group(1)
    readme = open(os.path.join(REPO, "README.md")).read()
    changelog = re.findall(r"^- (\d+\.\d+\.\d+):", readme.split("## Changelog", 1)[1], re.M)
    expect(out == "llmtap " + cmake, "--version says %r, CMakeLists.txt %s" % (out, cmake))
    expect(changelog and changelog[-1] == cmake, "README changelog ends at %s, CMakeLists.txt says %s"
           % (changelog[-1] if changelog else None, cmake))
    log("SUMMARY version: %s (CMakeLists.txt, --version and the README changelog agree)" % cmake)


SCENARIOS = {
    "otlp-sigterm": scenario_otlp_sigterm,
    "otlp-long-outage": scenario_otlp_long_outage,
    "run-otlp-tree": scenario_run_otlp_tree,
    "readonly-data-dir": scenario_readonly_data_dir,
    "full-disk": scenario_full_disk,
    "disk-fills": scenario_disk_fills,
    "corrupt-store": scenario_corrupt_store,
    "utf8-priced": scenario_utf8_priced,
    "version": scenario_version,
}


def main():
    llmtap = find_binary(sys.argv)
    if len(sys.argv) < 3 or sys.argv[2] not in SCENARIOS:
        fail("usage: %s LLMTAP {%s}" % (sys.argv[0], "|".join(SCENARIOS)))
    work = tmpdir(sys.argv[2])
    SCENARIOS[sys.argv[2]](llmtap, work)


if __name__ == "__main__":
    main()
