#!/usr/bin/env python3
"""OpenAI-style clients run under the preload shim by the capture tests (Debian python3).

Usage: clients.py MODE BASE_URL [ARG]
  urllib    one JSON and one streaming request with urllib (a connection each)
  httpx     the same two requests with one httpx.Client (keep-alive: one connection)
  httpx_async  the same with httpx.AsyncClient (asyncio: TLS over memory BIOs, no fd on the SSL)
  fork      a request in the parent, one in a forked child, one more in the parent
  threads   ARG (default 4) concurrent streaming requests from as many threads
  pause     a streaming request, then waits for the file ARG to exist, then two more
  bench     ARG streaming requests in a row (for bench/preload_overhead.sh)
  big       ARG requests with a 1 MiB prompt each
Prints one line per finished request: `ok MODE stream|json TEXT`. Exit 0 on success.
The CA comes from SSL_CERT_FILE.
"""
import json
import os
import sys
import threading
import time
import urllib.request

REQUEST = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def body(stream, **extra):
    b = dict(REQUEST, **extra)
    if stream:
        b["stream"] = True
        b["stream_options"] = {"include_usage": True}
    return json.dumps(b).encode()


def text_of(raw, stream):
    if not stream:
        return json.loads(raw)["choices"][0]["message"]["content"]
    out = []
    for line in raw.decode().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for ch in json.loads(line[6:]).get("choices", []):
                out.append(ch.get("delta", {}).get("content", ""))
    return "".join(out)


def urllib_call(base, stream, **extra):
    req = urllib.request.Request(base + "/v1/chat/completions", data=body(stream, **extra),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer sk-test-never-logged"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return text_of(r.read(), stream)


def report(mode, stream, text):
    print("ok %s %s %s" % (mode, "stream" if stream else "json", text), flush=True)


def main():
    mode, base = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    if mode == "urllib":
        for stream in (False, True):
            report(mode, stream, urllib_call(base, stream))
    elif mode == "httpx":
        import httpx
        with httpx.Client(timeout=60, headers={"Authorization": "Bearer sk-test-never-logged"}) as c:
            for stream in (False, True):
                r = c.post(base + "/v1/chat/completions", content=body(stream),
                           headers={"Content-Type": "application/json"})
                r.raise_for_status()
                report(mode, stream, text_of(r.content, stream))
    elif mode == "httpx_async":
        import asyncio
        import httpx

        async def run():
            async with httpx.AsyncClient(timeout=60, headers={"Authorization": "Bearer sk-test-never-logged"}) as c:
                for stream in (False, True):
                    r = await c.post(base + "/v1/chat/completions", content=body(stream),
                                     headers={"Content-Type": "application/json"})
                    r.raise_for_status()
                    report(mode, stream, text_of(r.content, stream))
        asyncio.run(run())
    elif mode == "fork":
        report("parent", False, urllib_call(base, False))
        pid = os.fork()
        if pid == 0:
            try:
                report("child", True, urllib_call(base, True))
                code = 0
            except Exception as e:  # noqa: BLE001 - the child must exit, never return into the parent
                print("child failed: %r" % e, flush=True)
                code = 1
            sys.stdout.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        report("parent", True, urllib_call(base, True))
        if status != 0:
            sys.exit(1)
    elif mode == "threads":
        n = int(arg or 4)
        results, errors = [None] * n, []

        def worker(i):
            try:
                results[i] = urllib_call(base, True, sim_chunk_delay_ms=20)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            print("errors: %s" % errors, flush=True)
            sys.exit(1)
        for r in results:
            report(mode, True, r)
    elif mode == "pause":
        report(mode, True, urllib_call(base, True))
        deadline = time.time() + 120
        while not os.path.exists(arg) and time.time() < deadline:
            time.sleep(0.02)
        for _ in range(2):
            report(mode, True, urllib_call(base, True, sim_chunk_delay_ms=10))
    elif mode == "big":
        for _ in range(int(arg or 1)):
            urllib_call(base, False, messages=[{"role": "user", "content": "x" * (1 << 20)}])
        print("ok big", flush=True)
    elif mode == "bench":
        for _ in range(int(arg or 50)):
            urllib_call(base, True)
        print("ok bench", flush=True)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
