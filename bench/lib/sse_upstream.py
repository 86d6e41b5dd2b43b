#!/usr/bin/env python3
"""Local SSE upstream for the benchmarks: every request (any path) is answered with a chunked
text/event-stream of N events spaced MS milliseconds apart, each carrying the send time
(CLOCK_MONOTONIC ns, shared by all processes on the machine) so a client can measure how late each
event arrives and whether events were batched. N and MS come from the query (?n=..&ms=..) or the
defaults. Prints `listening PORT` once ready. Loopback only.
Usage: sse_upstream.py [--chunks N] [--interval-ms MS]"""
import argparse, asyncio, json, time, urllib.parse


def event(i: int) -> bytes:
    # Gemini-shaped chunk so a capturing proxy parses it as it would a real stream.
    body = json.dumps({"candidates": [{"content": {"parts": [{"text": "tok%d " % i}], "role": "model"}, "index": 0}],
                       "modelVersion": "gemini-2.0-flash", "i": i, "t": time.monotonic_ns()})
    data = ("data: %s\r\n\r\n" % body).encode()
    return b"%x\r\n%s\r\n" % (len(data), data)


async def handle(reader, writer, args):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            length = 0
            for h in lines[1:]:
                k, _, v = h.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            if length:
                await reader.readexactly(length)
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
            n = int(q.get("n", [args.chunks])[0])
            ms = float(q.get("ms", [args.interval_ms])[0])
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            await writer.drain()
            start = time.monotonic()
            for i in range(n):
                # Absolute schedule: event i leaves at start + i*ms, so drift does not accumulate.
                delay = start + i * ms / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(event(i))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--chunks", type=int, default=20)
    p.add_argument("--interval-ms", type=float, default=20)
    args = p.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args), "127.0.0.1", 0, backlog=4096)
    print("listening %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
