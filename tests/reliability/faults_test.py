#!/usr/bin/env python3
"""Faults against a running `llmtap proxy`; after each, llmtap must still serve a normal request
byte-exactly, its RSS must return near its baseline, and (where a model call is involved) the affected
exchange must be exported as a marked span (status ERROR or llmtap.call.incomplete), not lost.

Usage: faults_test.py LLMTAP_BINARY FAULT [--seed S]
FAULT: reset | abort | stall | slowloris | bigbody | malformed | flood
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel_common as rc  # noqa: E402

RSS_SLACK_KB = 64 * 1024


def chat_body(model, stream=True, text="hello"):
    return json.dumps({"model": model, "stream": stream, "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": text}]}).encode()


def normal_request(lt, seed, timeout=60):
    """One SSE chat exchange through the gateway route; fails the test unless byte-exact."""
    spec = {"seed": str(seed), "kind": "sse", "size": "20", "piece": "512"}
    c = http.client.HTTPConnection("127.0.0.1", lt.port, timeout=timeout)
    try:
        body = chat_body("gpt-4o-mini", text="normal %d" % seed)
        c.request("POST", lt.gw + "/openai/v1/chat/completions", body=body,
                  headers={"x-rel-spec": rc.spec_encode(spec), "Content-Type": "application/json"})
        r = c.getresponse()
        got = r.read()
    finally:
        c.close()
    want = rc.expected_body(spec, "POST")
    if r.status != 200 or hashlib.sha256(got).digest() != hashlib.sha256(want).digest():
        rc.fail("normal request after fault: status %d, %d bytes (want 200, %d bytes)" % (r.status, len(got), len(want)))
    if r.getheader("x-rel-req-sha256") != hashlib.sha256(body).hexdigest():
        rc.fail("normal request after fault: request body changed on the way")


VIA = "gateway"  # or "mitm": the faulty exchange goes through HTTPS_PROXY CONNECT interception


def fault_conn(lt, timeout):
    """(http.client connection, path prefix) for the faulty exchange, per VIA."""
    if VIA == "mitm":
        ctx = ssl.create_default_context(cafile=lt.ca_path())
        c = http.client.HTTPSConnection("127.0.0.1", lt.port, context=ctx, timeout=timeout)
        c.set_tunnel("api.openai.com", 443, headers={"Proxy-Authorization": lt.proxy_auth})
        return c, ""
    return http.client.HTTPConnection("127.0.0.1", lt.port, timeout=timeout), lt.gw + "/openai"


def fault_socket(lt, timeout):
    """A raw client stream (TLS-wrapped after CONNECT when VIA is mitm) and the path prefix."""
    s = socket.create_connection(("127.0.0.1", lt.port), timeout=timeout)
    if VIA != "mitm":
        return s, lt.gw + "/openai"
    s.sendall(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Authorization: "
                  + lt.proxy_auth.encode() + b"\r\n\r\n")
    resp = b""
    while b"\r\n\r\n" not in resp:
        d = s.recv(1)
        if not d:
            rc.fail("CONNECT: connection closed")
        resp += d
    if not resp.startswith(b"HTTP/1.1 200"):
        rc.fail("CONNECT answered %r" % resp[:60])
    ctx = ssl.create_default_context(cafile=lt.ca_path())
    return ctx.wrap_socket(s, server_hostname="api.openai.com"), ""


def wait_for(pred, timeout, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def check_rss(lt, base_kb, what):
    # Give freed buffers a moment; allocator caches are allowed RSS_SLACK_KB.
    rss = lt.rss_kb()
    if rss > base_kb + RSS_SLACK_KB:
        time.sleep(2)
        rss = lt.rss_kb()
    if rss > base_kb + RSS_SLACK_KB:
        rc.fail("%s: llmtap RSS %d kB did not return near baseline %d kB (+%d kB allowed)"
                % (what, rss, base_kb, RSS_SLACK_KB))
    return rss


def marked_span(lt, model, code_ok=True):
    """After SIGTERM: the generation span for MODEL must exist and be marked (ERROR or incomplete)."""
    spans = [s for s in lt.spans() if s.get("attributes", {}).get("gen_ai.request.model") == model]
    if not spans:
        rc.fail("no exported span for the affected exchange (model %s): the trace was lost; %d spans in %s"
                % (model, len(lt.spans()), lt.jsonl))
    s = spans[0]
    marked = s["status"]["code"] == "ERROR" or s["attributes"].get("llmtap.call.incomplete") is True
    if not marked:
        rc.fail("span for model %s exported but not marked (status %s, attributes %s)"
                % (model, s["status"], json.dumps(s["attributes"], sort_keys=True)[:600]))
    return s


def sse_head(conn_sock, n_events, seed):
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    conn_sock.sendall(head)
    for ev in rc.sse_events(seed, n_events)[:n_events]:
        conn_sock.sendall(b"%x\r\n" % len(ev) + ev + b"\r\n")



def reset_connection(c):
    """Closes C with a TCP RST (linger 0); under TLS closes the raw descriptor without a close_notify."""
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(c, ssl.SSLSocket):
        os.close(c.detach())
    else:
        c.close()

class FaultUpstream(rc.Upstream):
    """Requests with an x-rel-fault header get the fault; the rest the normal spec-driven answer."""

    def __init__(self, tls_dir):
        self.upstream_saw_close = threading.Event()
        self.stall_release = threading.Event()
        super().__init__(tls_dir=tls_dir, handler=self._fault)

    def _fault(self, c, reader, req):
        fault = req[2].get("x-rel-fault")
        if not fault:
            return False
        if fault == "reset":
            sse_head(c, 5, 7)
            time.sleep(0.3)
            reset_connection(c)
            return True
        if fault == "reset_early":  # read the request, then RST before any response byte
            reset_connection(c)
            return True
        if fault == "stream_forever":
            sse_head(c, 3, 8)
            ev = rc.sse_events(9, 1)[0]
            try:
                for _ in range(6000):  # 20 ms apart: 120 s at most
                    c.sendall(b"%x\r\n" % len(ev) + ev + b"\r\n")
                    time.sleep(0.02)
            except (OSError, ssl.SSLError):
                self.upstream_saw_close.set()
            return True
        if fault == "stall":
            # Never answer; notice when llmtap closes the upstream connection.
            c.settimeout(0.2)
            end = time.time() + 120
            while time.time() < end and not self.stall_release.is_set():
                try:
                    if c.recv(1) == b"":
                        self.upstream_saw_close.set()
                        break
                except socket.timeout:
                    continue
                except (OSError, ssl.SSLError):
                    self.upstream_saw_close.set()
                    break
            return True
        return False


def start(binary, tag, tls=True, nofile=None, extra=()):
    work = rc.tmpdir(tag)
    ca_dir = rc.make_test_ca(os.path.join(work, "tls"))
    up = FaultUpstream(ca_dir if tls else None)
    lt = rc.Llmtap(binary, up.url(), ca_dir, work, nofile=nofile, extra=extra)
    normal_request(lt, 1)
    time.sleep(0.5)
    return up, lt, lt.rss_kb()


def finish(lt, up):
    code = lt.stop()
    up.stop()
    if code != 0:
        rc.fail("llmtap exit %s on SIGTERM (want 0); stderr:\n%s" % (code, lt.stderr_tail()))


# ---------------------------------------------------------------------------------------------

def fault_reset(binary, seed):
    up, lt, base = start(binary, "reset")
    model = "rel-reset-%d" % seed
    c, prefix = fault_conn(lt, 60)
    c.request("POST", prefix + "/v1/chat/completions", body=chat_body(model),
              headers={"x-rel-fault": "reset", "Content-Type": "application/json"})
    r = c.getresponse()
    clean = False
    got = b""
    try:
        got = r.read()
        clean = True
    except (http.client.IncompleteRead, ConnectionError) as e:
        got = getattr(e, "partial", b"")
    c.close()
    if clean:
        rc.fail("upstream reset mid-stream reached the client as a clean, complete response (%d bytes): "
                "a truncated stream must stay visibly truncated" % len(got))
    normal_request(lt, 2)
    # Reset before the response header: the client must get a 502 (or 504), not a hang or a bare close.
    model_early = "rel-reset-early-%d" % seed
    c, prefix = fault_conn(lt, 60)
    c.request("POST", prefix + "/v1/chat/completions", body=chat_body(model_early),
              headers={"x-rel-fault": "reset_early", "Content-Type": "application/json"})
    try:
        r = c.getresponse()
        r.read()
        early_status = r.status
    except (ConnectionError, http.client.HTTPException) as e:
        rc.fail("upstream reset before the response header: client connection dropped without an answer (%r)" % e)
    c.close()
    if early_status not in (502, 504):
        rc.fail("upstream reset before the response header answered %d, want 502" % early_status)
    normal_request(lt, 3)
    rss = check_rss(lt, base, "reset")
    finish(lt, up)
    s = marked_span(lt, model)
    s2 = marked_span(lt, model_early)
    rc.log("SUMMARY faults reset via " + VIA + ": seed %d, mid-stream: client saw a truncated stream (%d bytes before the cut), "
           "span marked (status %s, incomplete=%s); before the header: client got %d, span marked (status %s, "
           "incomplete=%s); normal requests served after; RSS %d->%d kB"
           % (seed, len(got), s["status"]["code"], s["attributes"].get("llmtap.call.incomplete"), early_status,
              s2["status"]["code"], s2["attributes"].get("llmtap.call.incomplete"), base, rss))


def fault_abort(binary, seed):
    up, lt, base = start(binary, "abort")
    model = "rel-abort-%d" % seed
    s, prefix = fault_socket(lt, 30)
    body = chat_body(model)
    s.sendall(b"POST " + prefix.encode() + b"/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"x-rel-fault: stream_forever\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    got = b""
    while got.count(b"data: ") < 4:
        d = s.recv(65536)
        if not d:
            rc.fail("stream ended before the client aborted")
        got += d
    reset_connection(s)  # abort mid-stream
    if not wait_for(up.upstream_saw_close.is_set, 60):
        rc.fail("client aborted mid-stream but llmtap kept the upstream stream open for 60 s")
    normal_request(lt, 3)
    rss = check_rss(lt, base, "abort")
    finish(lt, up)
    sp = marked_span(lt, model)
    rc.log("SUMMARY faults abort via " + VIA + ": seed %d, client read %d bytes then reset; llmtap closed the upstream stream; "
           "normal request served; span marked (status %s, incomplete=%s); RSS %d->%d kB"
           % (seed, len(got), sp["status"]["code"], sp["attributes"].get("llmtap.call.incomplete"), base, rss))


def timeout_probe(lt, path, body, what, out):
    """Sends one request that llmtap cannot forward in time; OUT[what] = (status, seconds) or a failure."""
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", lt.port, timeout=75)
    try:
        c.request("POST", lt.gw + path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        out[what] = (r.status, time.time() - t0)
    except (socket.timeout, TimeoutError):
        out[what] = "no answer from llmtap within 75 s"
    except (ConnectionError, http.client.HTTPException) as e:
        out[what] = "connection dropped without a 502/504 (%r)" % e
    finally:
        c.close()


def fault_stall(binary, seed):
    # Provider "anthropic": an upstream that accepts TCP but never completes the TLS handshake.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    held = []
    threading.Thread(target=lambda: [held.append(hang.accept()) for _ in range(64)], daemon=True).start()
    # Provider "gemini": a listener whose accept queue is full, so SYNs go unanswered (connect hangs).
    syn = socket.socket()
    syn.bind(("127.0.0.1", 0))
    syn.listen(0)
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(syn.getsockname())
        except BlockingIOError:
            pass
        fillers.append(f)
    up, lt, base = start(binary, "stall", extra=[
        "--upstream", "anthropic=https://127.0.0.1:%d" % hang.getsockname()[1],
        "--upstream", "gemini=https://127.0.0.1:%d" % syn.getsockname()[1]])
    # (1) Handshake and connect stalls: ProxyOptions::handshake_timeout and connect_timeout (10 s each,
    # not settable from the command line) must answer 502/504, not hang. Both probes run at once.
    probes = {}
    threads = [
        threading.Thread(target=timeout_probe, args=(lt, "/anthropic/v1/messages",
                                                     b'{"model":"claude-rel","max_tokens":5,"messages":[]}',
                                                     "tls handshake stall", probes)),
        threading.Thread(target=timeout_probe, args=(lt, "/gemini/v1beta/models/gemini-rel:generateContent",
                                                     b'{"contents":[]}', "tcp connect stall", probes)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for what, res in sorted(probes.items()):
        if isinstance(res, str):
            rc.fail("upstream %s: %s" % (what, res))
        if res[0] not in (502, 504):
            rc.fail("upstream %s: status %d, want 502 or 504" % (what, res[0]))
    status, hs_secs = probes["tls handshake stall"]
    cstatus, c_secs = probes["tcp connect stall"]
    rc.log("stall: TLS handshake stall -> %d after %.1f s; TCP connect stall -> %d after %.1f s"
           % (status, hs_secs, cstatus, c_secs))
    # (2) Response stall: the upstream reads the request and never answers. llmtap's idle timeout is 300 s
    # and not settable from the command line, so the client gives up after 3 s; llmtap must then close the
    # stalled upstream connection, keep serving, and export the exchange as marked.
    model = "rel-stall-%d" % seed
    c, prefix = fault_conn(lt, 3)
    timed_out = False
    try:
        c.request("POST", prefix + "/v1/chat/completions", body=chat_body(model),
                  headers={"x-rel-fault": "stall", "Content-Type": "application/json"})
        c.getresponse().read()
    except (socket.timeout, TimeoutError):
        timed_out = True
    c.close()
    if not timed_out:
        rc.fail("stalled upstream: the client got an answer although the upstream never answered")
    normal_request(lt, 4)
    closed = wait_for(up.upstream_saw_close.is_set, 30)
    rss = check_rss(lt, base, "stall")
    problems = []
    if not closed:
        problems.append("client gave up on a stalled exchange (closed its connection) but llmtap kept the "
                        "upstream connection open for 30 s")
    code = lt.stop()
    up.stop()
    hang.close()
    syn.close()
    if code != 0:
        problems.append("llmtap exit %s on SIGTERM with the stalled exchange in flight (want 0); stderr:\n%s"
                        % (code, lt.stderr_tail()))
    if problems:
        rc.fail("; ".join(problems))
    sp = marked_span(lt, model)
    rc.log("SUMMARY faults stall via " + VIA + ": seed %d, TLS handshake stall answered %d after %.1f s, TCP connect "
           "stall answered %d after %.1f s; response stall: client gave up, llmtap closed the upstream connection, "
           "span marked (status %s, incomplete=%s); RSS %d->%d kB"
           % (seed, status, hs_secs, cstatus, c_secs, sp["status"]["code"],
              sp["attributes"].get("llmtap.call.incomplete"), base, rss))


def fault_slowloris(binary, seed, conns=200, seconds=45):
    up, lt, base = start(binary, "slowloris")
    rng = random.Random(seed)
    header = b"POST " + lt.gw.encode() + b"/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    header += b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 40) for i in range(40))
    socks = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", lt.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append([s, 0, False])
    served = 0
    t0 = time.time()
    sent = 0
    while time.time() - t0 < seconds:
        for st in socks:
            s, pos, dead = st
            if dead or pos >= len(header):
                continue
            try:
                s.send(header[pos:pos + 1])
                st[1] += 1
                sent += 1
            except OSError:
                st[2] = True
        normal_request(lt, 100 + served, timeout=30)
        served += 1
        time.sleep(0.3 + rng.random() * 0.4)
    # The header read timeout (30 s, ProxyOptions::header_read_timeout) must have closed them by now.
    time.sleep(0.5)
    open_left = 0
    for s, _pos, dead in socks:
        if dead:
            continue
        s.setblocking(False)
        try:
            if s.recv(4096) == b"":
                continue  # closed by llmtap
            # An answer (e.g. 408) was sent; counted as handled.
        except BlockingIOError:
            open_left += 1
        except OSError:
            pass
    for s, _p, _d in socks:
        s.close()
    normal_request(lt, 99)
    rss = check_rss(lt, base, "slowloris")
    finish(lt, up)
    rc.log("SUMMARY faults slowloris: seed %d, %d connections dribbling headers (%d bytes in total) for %d s, "
           "%d normal requests served meanwhile, %d still open at the end; RSS %d->%d kB"
           % (seed, conns, sent, seconds, served, open_left, base, rss))
    if open_left:
        rc.fail("%d slowloris connections still open after %d s (header read timeout is 30 s)" % (open_left, seconds))


def fault_bigbody(binary, seed, mb=100):
    up, lt, base = start(binary, "bigbody")
    total = mb << 20
    # Upload: MB of random bytes, chunked, through the gateway to a model-call path (the parser sees it).
    h = hashlib.sha256()

    def gen():
        rng = random.Random(seed)
        left = total
        while left:
            n = min(left, 1 << 20)
            b = rng.randbytes(n)
            h.update(b)
            left -= n
            yield b

    c = http.client.HTTPConnection("127.0.0.1", lt.port, timeout=120)
    spec = {"seed": str(seed), "kind": "raw", "size": "10", "piece": "4096"}
    c.request("POST", lt.gw + "/openai/v1/chat/completions", body=gen(), encode_chunked=True,
              headers={"x-rel-spec": rc.spec_encode(spec), "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.getheader("x-rel-req-sha256") != h.hexdigest() or r.getheader("x-rel-req-len") != str(total):
        rc.fail("100 MB upload: upstream received %s bytes with another hash" % r.getheader("x-rel-req-len"))
    up_hwm = lt.hwm_kb()
    # Download: MB of random bytes with a Content-Length, same path.
    spec = {"seed": str(seed + 1), "kind": "raw", "size": str(total), "piece": "65536"}
    c.request("POST", lt.gw + "/openai/v1/chat/completions", body=chat_body("rel-big"),
              headers={"x-rel-spec": rc.spec_encode(spec), "Content-Type": "application/json"})
    r = c.getresponse()
    hd = hashlib.sha256()
    n = 0
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        hd.update(b)
        n += len(b)
    c.close()
    want = hashlib.sha256(rc.expected_body(spec, "POST")).hexdigest()
    if n != total or hd.hexdigest() != want:
        rc.fail("100 MB download: got %d bytes, hash %s (want %d, %s)" % (n, hd.hexdigest()[:16], total, want[:16]))
    hwm = lt.hwm_kb()
    normal_request(lt, 5)
    rss = check_rss(lt, base, "bigbody")
    finish(lt, up)
    rc.log("SUMMARY faults bigbody: seed %d, %d MB up and %d MB down byte-exact; RSS baseline %d kB, after %d kB, "
           "peak %d kB after upload, %d kB after download" % (seed, mb, mb, base, rss, up_hwm, hwm))


def fault_malformed(binary, seed, rounds=150):
    up, lt, base = start(binary, "malformed")
    rng = random.Random(seed)
    bad = [
        b"GARBAGE\r\n\r\n",
        b"GET " + lt.gw.encode() + b"/openai/v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET " + lt.gw.encode() + b"/openai/v1/models HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"POST " + lt.gw.encode() + b"/openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST " + lt.gw.encode() + b"/openai/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
        b"GET " + lt.gw.encode() + b"/openai/v1/models HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100),  # a TLS ClientHello on the plain port
    ]
    statuses = {}
    for i in range(rounds):
        payload = bad[i] if i < len(bad) else (rng.choice(bad[:6])[:rng.randrange(1, 40)] + rng.randbytes(rng.randrange(0, 300)) + b"\r\n\r\n")
        s = socket.create_connection(("127.0.0.1", lt.port), timeout=30)
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR) if i >= len(bad) else None
            resp = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                resp += d
                if i < len(bad) and b"\r\n\r\n" in resp:
                    break
        except (socket.timeout, TimeoutError):
            rc.fail("malformed request %r: llmtap neither answered nor closed within 30 s" % payload[:60])
        except ConnectionResetError:
            resp = b"(reset)"
        s.close()
        st = resp.split(b" ", 2)[1].decode("latin-1") if resp.startswith(b"HTTP/1.") else resp[:12].decode("latin-1", "replace")
        statuses[st] = statuses.get(st, 0) + 1
        if i < len(bad) and not resp.startswith(b"HTTP/1.1 400") and not resp.startswith(b"HTTP/1.1 505"):
            rc.fail("malformed request %r answered %r, want 400" % (payload[:70], resp[:80]))
    # Oversized header: 431.
    s = socket.create_connection(("127.0.0.1", lt.port), timeout=30)
    s.sendall(b"GET " + lt.gw.encode() + b"/openai/v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (80 * 1024) + b"\r\n\r\n")
    resp = s.recv(4096)
    s.close()
    if not resp.startswith(b"HTTP/1.1 431"):
        rc.fail("80 kB request header answered %r, want 431" % resp[:60])
    # Garbage instead of a TLS ClientHello after CONNECT to an intercepted host.
    garbage_closed = 0
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", lt.port), timeout=30)
        s.sendall(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Authorization: "
                  + lt.proxy_auth.encode() + b"\r\n\r\n")
        resp = b""
        while b"\r\n\r\n" not in resp:
            d = s.recv(4096)
            if not d:
                break
            resp += d
        if not resp.startswith(b"HTTP/1.1 200"):
            rc.fail("CONNECT api.openai.com:443 answered %r" % resp[:60])
        try:
            s.sendall(rng.randbytes(rng.randrange(1, 2000)) if i % 2 else b"GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n")
            while s.recv(65536):
                pass
            garbage_closed += 1
        except (socket.timeout, TimeoutError):
            rc.fail("garbage after CONNECT: llmtap neither closed nor answered within 30 s")
        except OSError:
            garbage_closed += 1
        s.close()
    normal_request(lt, 6)
    # The MITM path still works after the garbage.
    ctx = ssl.create_default_context(cafile=lt.ca_path())
    c = http.client.HTTPSConnection("127.0.0.1", lt.port, context=ctx, timeout=30)
    c.set_tunnel("api.openai.com", 443, headers={"Proxy-Authorization": lt.proxy_auth})
    spec = {"seed": "77", "kind": "sse", "size": "5"}
    c.request("POST", "/v1/chat/completions", body=chat_body("gpt-4o-mini"), headers={"x-rel-spec": rc.spec_encode(spec)})
    r = c.getresponse()
    if r.read() != rc.expected_body(spec, "POST"):
        rc.fail("MITM request after garbage ClientHellos not byte-exact")
    c.close()
    rss = check_rss(lt, base, "malformed")
    finish(lt, up)
    rc.log("SUMMARY faults malformed: seed %d, %d malformed/garbage requests (answers %s), 431 for an 80 kB "
           "header, %d garbage TLS handshakes after CONNECT closed; normal and MITM requests served; RSS %d->%d kB"
           % (seed, rounds, json.dumps(statuses, sort_keys=True), garbage_closed, base, rss))


def fault_flood(binary, seed, nofile=256, conns=600):
    up, lt, base = start(binary, "flood", nofile=nofile)
    base_fds = lt.open_fds()
    socks = []
    refused = 0
    for i in range(conns):
        try:
            s = socket.create_connection(("127.0.0.1", lt.port), timeout=5)
            if i % 3 == 0:
                s.sendall(b"GET " + lt.gw.encode() + b"/openai/v1/models HTTP/1.1\r\nHost: x\r\n")  # half a request
            socks.append(s)
        except OSError:
            refused += 1
    time.sleep(2)
    peak_fds = lt.open_fds()
    cpu0 = cpu_ticks(lt.proc.pid)
    time.sleep(2)
    cpu_busy = cpu_ticks(lt.proc.pid) - cpu0
    accept_fail_lines = lt.stderr_count("accept failed")
    for s in socks:
        s.close()
    # Once the flood is gone, llmtap must serve again (accept may back off briefly after EMFILE).
    ok = False
    end = time.time() + 45
    last = None
    while time.time() < end and not ok:
        try:
            normal_request(lt, 7, timeout=10)
            ok = True
        except SystemExit:
            raise
        except Exception as e:  # noqa: BLE001
            last = e
            time.sleep(0.5)
    if not ok:
        rc.fail("after a connection flood past the fd limit, llmtap no longer serves (%r; alive %s); stderr: %s"
                % (last, lt.alive(), lt.stderr_tail()))
    for i in range(20):
        normal_request(lt, 200 + i)
    wait_for(lambda: lt.open_fds() <= base_fds + 8, 30)
    fds = lt.open_fds()
    rss = check_rss(lt, base, "flood")
    finish(lt, up)
    rc.log("SUMMARY faults flood: seed %d, RLIMIT_NOFILE %d, %d connections opened (%d refused), llmtap fds "
           "%d -> %d during -> %d after, cpu %d ticks (1/100 s) in 2 s while flooded, %d 'accept failed' log lines, "
           "21 normal requests served after; RSS %d->%d kB"
           % (seed, nofile, len(socks), refused, base_fds, peak_fds, fds, cpu_busy, accept_fail_lines, base, rss))
    if fds > base_fds + 8:
        rc.fail("llmtap holds %d fds after the flood closed (baseline %d): descriptors leak" % (fds, base_fds))
    # Idle llmtap uses ~0 ticks; a busy accept-retry loop on EMFILE shows as CPU and a flood of log lines.
    if cpu_busy > 40 or accept_fail_lines > 1000:
        rc.fail("llmtap spun %d cpu ticks in 2 s and logged %d 'accept failed' lines while at its fd limit "
                "with idle connections (busy accept retry on EMFILE, no backoff)" % (cpu_busy, accept_fail_lines))


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("fault", choices=["reset", "abort", "stall", "slowloris", "bigbody", "malformed", "flood"])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--via", choices=["gateway", "mitm"], default="gateway",
                    help="route of the faulty exchange (reset, abort, stall)")
    a = ap.parse_args()
    global VIA
    VIA = a.via
    seed = a.seed if a.seed is not None else int(os.environ.get("LLMTAP_REL_SEED", random.randrange(1 << 30)))
    rc.log("faults %s via %s: seed %d (rerun: %s %s %s --via %s --seed %d)"
           % (a.fault, a.via, seed, sys.argv[0], a.binary, a.fault, a.via, seed))
    globals()["fault_" + a.fault](a.binary, seed)
    rc.log("PASS")


if __name__ == "__main__":
    main()
