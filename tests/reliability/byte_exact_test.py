#!/usr/bin/env python3
"""Byte-exact forwarding through llmtap: thousands of randomized exchanges, compared by SHA-256.

Usage: byte_exact_test.py LLMTAP_BINARY MODE [--count N] [--conns N] [--seed S]
MODE: gateway-http (client -> gateway route -> plain HTTP upstream), gateway-tls (-> TLS upstream),
      mitm (client -> HTTPS_PROXY CONNECT api.openai.com:443, intercepted -> TLS upstream).

Each exchange draws a method (POST with a Content-Length or chunked body, GET, HEAD), a request body,
and a response: Content-Length, chunked, close-delimited, gzip- or br-encoded (passed through), SSE,
empty, 204 or 404; the upstream writes it in random pieces. The client recomputes the exact bytes it
must receive and compares SHA-256; the upstream reports the SHA-256 of the request body it received.
Seed: --seed, else $LLMTAP_REL_SEED, else random; printed for reproduction.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel_common as rc  # noqa: E402


def draw_exchange(seed):
    rng = random.Random(seed)
    r = rng.random()
    method = "POST" if r < 0.6 else ("GET" if r < 0.9 else "HEAD")

    def size(cap_big):
        x = rng.random()
        if x < 0.55:
            return rng.randrange(0, 4096)
        if x < 0.9:
            return rng.randrange(0, 128 * 1024)
        if x < 0.985:
            return rng.randrange(0, 1 << 20)
        return rng.randrange(0, cap_big)

    spec = {"seed": str(seed), "piece": str(rng.choice([16, 512, 4096, 65536]))}
    k = rng.random()
    if k < 0.30:
        spec["kind"], spec["size"] = "raw", str(size(3 << 20))
    elif k < 0.48:
        spec["kind"], spec["size"], spec["framing"] = "raw", str(size(3 << 20)), "chunked"
    elif k < 0.53:
        spec["kind"], spec["size"], spec["framing"] = "raw", str(size(1 << 20)), "close"
    elif k < 0.63:
        spec["kind"], spec["size"], spec["framing"] = "gzip", str(size(1 << 20)), rng.choice(["cl", "chunked"])
    elif k < 0.68:
        spec["kind"], spec["size"], spec["framing"] = "br", str(size(1 << 20)), rng.choice(["cl", "chunked"])
    elif k < 0.86:
        spec["kind"], spec["size"] = "sse", str(rng.randrange(0, 300))
    elif k < 0.91:
        spec["kind"], spec["size"] = "empty", "0"
        spec["status"] = rng.choice(["200", "204"])
    else:
        spec["kind"], spec["size"], spec["status"] = "raw", str(rng.randrange(0, 2048)), "404"

    body = b""
    chunked_req = False
    if method == "POST":
        if spec["kind"] == "sse":
            body = json.dumps({"model": "gpt-4o-mini", "stream": True,
                               "stream_options": {"include_usage": True},
                               "messages": [{"role": "user", "content": "rel %d" % seed}]}).encode()
            path = "/v1/chat/completions"
        else:
            body = rng.randbytes(size(2 << 20))
            path = rng.choice(["/v1/rel/upload", "/v1/chat/completions", "/v1/embeddings"])
        chunked_req = rng.random() < 0.3
    else:
        path = "/v1/rel/get/%d?x=%d" % (seed, rng.randrange(1000))
    return method, path, body, chunked_req, spec


def body_pieces(body, rng):
    i = 0
    while i < len(body):
        n = rng.randrange(1, 100000)
        yield body[i:i + n]
        i += n


class Worker:
    def __init__(self, mode, lt, ca_path, seeds, results):
        self.mode = mode
        self.lt = lt
        self.proxy_port = lt.port
        self.ca_path = ca_path
        self.seeds = seeds
        self.results = results
        self.conn = None

    def connect(self):
        if self.mode == "mitm":
            ctx = ssl.create_default_context(cafile=self.ca_path)
            c = http.client.HTTPSConnection("127.0.0.1", self.proxy_port, context=ctx, timeout=60)
            c.set_tunnel("api.openai.com", 443, headers={"Proxy-Authorization": self.lt.proxy_auth})
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=60)
        self.conn = c
        self.results["connections"] += 1

    def run(self):
        for seed in self.seeds:
            try:
                self.one(seed)
            except Exception as e:  # noqa: BLE001 - every failure is reported with its seed
                self.results["failures"].append("seed %d: %r" % (seed, e))
                if self.conn:
                    self.conn.close()
                self.conn = None

    def one(self, seed):
        method, path, body, chunked_req, spec = draw_exchange(seed)
        if self.conn is None:
            self.connect()
        url = (self.lt.gw + "/openai" + path) if self.mode != "mitm" else path
        headers = {"x-rel-spec": rc.spec_encode(spec), "Authorization": "Bearer sk-rel-test-not-a-key"}
        if method == "POST":
            headers["Content-Type"] = "application/json"
        if chunked_req:
            self.conn.request(method, url, body=body_pieces(body, random.Random(seed)), headers=headers,
                              encode_chunked=True)
        else:
            self.conn.request(method, url, body=body if method == "POST" else None, headers=headers)
        resp = self.conn.getresponse()
        got = resp.read()
        want = rc.expected_body(spec, method)
        want_status = int(spec.get("status", "200"))
        errs = []
        if resp.status != want_status:
            errs.append("status %d, want %d" % (resp.status, want_status))
        if hashlib.sha256(got).hexdigest() != hashlib.sha256(want).hexdigest():
            errs.append("response body sha256 differs: got %d bytes, want %d" % (len(got), len(want)))
        if method != "HEAD" and resp.getheader("x-rel-body-sha256") != hashlib.sha256(want).hexdigest():
            errs.append("upstream-reported body hash differs (header lost or different spec)")
        if resp.getheader("x-rel-req-sha256") != hashlib.sha256(body).hexdigest():
            errs.append("request body as received upstream differs: upstream got %s bytes, sent %d"
                        % (resp.getheader("x-rel-req-len"), len(body)))
        if resp.getheader("x-rel-req-method") != method:
            errs.append("upstream saw method %s" % resp.getheader("x-rel-req-method"))
        if resp.getheader("x-rel-req-path") != path:
            errs.append("upstream saw path %s, want %s" % (resp.getheader("x-rel-req-path"), path))
        if spec.get("kind") in ("gzip", "br") and method != "HEAD":
            if (resp.getheader("content-encoding") or "").lower() != spec["kind"]:
                errs.append("content-encoding %r not passed through" % resp.getheader("content-encoding"))
        if errs:
            raise AssertionError("; ".join(errs) + " (method %s path %s spec %s)"
                                 % (method, path, rc.spec_encode(spec)))
        with self.results["lock"]:
            self.results["exchanges"] += 1
            self.results["down_bytes"] += len(got)
            self.results["up_bytes"] += len(body)
            self.results["kinds"][spec["kind"]] = self.results["kinds"].get(spec["kind"], 0) + 1
        if resp.will_close:
            self.conn.close()
            self.conn = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("mode", choices=["gateway-http", "gateway-tls", "mitm"])
    ap.add_argument("--count", type=int, default=700)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--canary", action="store_true",
                    help="the upstream corrupts one byte of a few responses; the test must notice each of them")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(os.environ.get("LLMTAP_REL_SEED", random.randrange(1 << 30)))
    rc.log("byte_exact %s: seed %d (rerun: %s %s %s --seed %d --count %d --conns %d)"
           % (a.mode, seed, sys.argv[0], a.binary, a.mode, seed, a.count, a.conns))
    work = rc.tmpdir("bytes")
    ca_dir = rc.make_test_ca(os.path.join(work, "tls"))
    up = rc.Upstream(tls_dir=None if a.mode == "gateway-http" else ca_dir)
    lt = rc.Llmtap(a.binary, up.url(), ca_dir, work)
    t0 = time.time()
    results = {"lock": threading.Lock(), "exchanges": 0, "down_bytes": 0, "up_bytes": 0, "kinds": {},
               "failures": [], "connections": 0}
    seeds = [seed * 1000003 + i for i in range(a.count)]
    if a.canary:
        for sd in seeds:
            m, _p, _b, _c, sp = draw_exchange(sd)
            if len(up.corrupt_seeds) < 5 and m != "HEAD" and rc.expected_body(sp, m):
                up.corrupt_seeds.add(sd)
    workers = [Worker(a.mode, lt, lt.ca_path(), seeds[i::a.conns], results) for i in range(a.conns)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    alive = lt.alive()
    code = lt.stop()
    up.stop()
    for f in results["failures"][:20]:
        print("  " + f)
    rc.log("SUMMARY byte_exact %s: seed %d, %d/%d exchanges byte-exact over %d connections, %.1f MB down, "
           "%.1f MB up, kinds %s, %d failures, %.1f s, llmtap exit %s"
           % (a.mode, seed, results["exchanges"], a.count, results["connections"],
              results["down_bytes"] / 1e6, results["up_bytes"] / 1e6, json.dumps(results["kinds"], sort_keys=True),
              len(results["failures"]), elapsed, code))
    if a.canary:
        caught = {int(f.split(":")[0].split()[1]) for f in results["failures"]}
        if caught != up.corrupt_seeds:
            rc.fail("canary: corrupted exchanges %s, reported %s" % (sorted(up.corrupt_seeds), sorted(caught)))
        rc.log("PASS (canary: all %d corrupted responses were detected, nothing else)" % len(caught))
        return
    if results["failures"]:
        rc.fail("%d exchanges not byte-exact (seed %d); llmtap stderr tail:\n%s"
                % (len(results["failures"]), seed, lt.stderr_tail()))
    if not alive or code != 0:
        rc.fail("llmtap died or did not exit 0 on SIGTERM (exit %s); stderr:\n%s" % (code, lt.stderr_tail()))
    rc.log("PASS")


if __name__ == "__main__":
    main()
