#!/usr/bin/env python3
"""Load/measurement client for bench/run-all (loopback only, bounded request counts).

  latency --n N --rounds R PATH...   keep-alive POSTs, one connection per path and round; rounds
                                     alternate across paths. Prints `name p50_us p99_us count
                                     median_round_p99_us`.
  sse --rounds R PATH...             streaming POSTs to bench/lib/sse_upstream.py (directly or via a
                                     proxy); every event carries its send time, so its arrival delay
                                     is measured. Prints `name p50_us p99_us events batched
                                     frame_p50_us frame_p99_us` (frame: when the HTTP chunk closed).
  hold --count C --mode idle|stream PATH
                                     opens C concurrent connections (idle: one request answered, then
                                     held open; stream: a long SSE response being read), prints
                                     `ready OPEN`, holds until stdin closes, prints `done ERRORS`.

PATH is name=URL[,proxy=[USER:PASSWORD@]HOST:PORT][,ca=FILE]: with proxy, the request is tunnelled with CONNECT
(HTTPS_PROXY style) and TLS is spoken end to end through it; with an https URL and no proxy, TLS goes
straight to the URL's host, verified against ca."""
import base64
import asyncio, json, re, socket, ssl, sys, time, urllib.parse

BODY = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).encode()
T_RE = re.compile(rb'"t": ?(\d+)')
EV_SPLIT = re.compile(rb"\r?\n\r?\n")


class Path:
    def __init__(self, spec):
        name, _, rest = spec.partition("=")
        parts = rest.split(",")
        self.name, self.url = name, urllib.parse.urlsplit(parts[0])
        opts = dict(p.split("=", 1) for p in parts[1:])
        self.proxy = opts.get("proxy")
        self.ca = opts.get("ca")
        self.tls = self.url.scheme == "https"
        self.port = self.url.port or (443 if self.tls else 80)
        self.target = self.url.path + ("?" + self.url.query if self.url.query else "")

    def request(self, stream=False):
        body = json.dumps({"model": "gpt-4o-mini", "stream": True,
                           "messages": [{"role": "user", "content": "hi"}]}).encode() if stream else BODY
        return (b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-bench\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (self.target.encode(), self.url.hostname.encode(), len(body), body))

    def connect(self):
        if self.proxy:
            auth, _, hostport = self.proxy.rpartition("@")  # [user:password@]HOST:PORT
            h, p = hostport.rsplit(":", 1)
            s = socket.create_connection((h, int(p)))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            extra = b"Proxy-Authorization: Basic %s\r\n" % base64.b64encode(auth.encode()) if auth else b""
            s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n"
                      % (self.url.hostname.encode(), self.port, self.url.hostname.encode(), self.port, extra))
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = s.recv(4096)
                if not d:
                    raise ConnectionError("proxy closed during CONNECT")
                buf += d
            if b" 200" not in buf.split(b"\r\n", 1)[0]:
                raise ConnectionError("CONNECT refused: %r" % buf[:80])
        else:
            s = socket.create_connection((self.url.hostname, self.port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca)
            s = ctx.wrap_socket(s, server_hostname=self.url.hostname)
        return s


class Reader:
    """Incremental HTTP/1.1 response reader over a blocking socket (content-length, chunked, or close)."""

    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        self.buf += d
        return time.monotonic_ns()

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        h, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = h.decode("latin-1").split("\r\n")
        if " 200" not in lines[0]:
            raise ConnectionError("status: " + lines[0])
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        return hdrs

    def body(self, hdrs, on_data=None, on_frame_end=None):
        """Reads the whole body; on_data(bytes, recv_ns) sees decoded body bytes as they arrive."""
        t = time.monotonic_ns()
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            while len(self.buf) < n:
                t = self.fill()
            data, self.buf = self.buf[:n], self.buf[n:]
            if on_data:
                on_data(data, t)
            return
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            # Chunk data is handed over as soon as it arrives (as curl, Go and h11 do); on_frame_end(t)
            # marks when the chunk's closing CRLF arrived (what a strict decoder waits for).
            while True:
                while b"\r\n" not in self.buf:
                    t = self.fill()
                line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while b"\r\n" not in self.buf:  # trailer section (empty)
                        self.fill()
                    self.buf = self.buf.split(b"\r\n", 1)[1]
                    return
                left = size
                while left:
                    if not self.buf:
                        t = self.fill()
                    part, self.buf = self.buf[:left], self.buf[left:]
                    left -= len(part)
                    if on_data:
                        on_data(part, t)
                while len(self.buf) < 2:
                    t = self.fill()
                self.buf = self.buf[2:]
                if on_frame_end:
                    on_frame_end(t)
        while True:  # until close
            if self.buf and on_data:
                on_data(self.buf, t)
            self.buf = b""
            try:
                t = self.fill()
            except ConnectionError:
                return


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def cmd_latency(argv):
    n, rounds, specs = 500, 3, []
    it = iter(argv)
    for a in it:
        if a == "--n": n = int(next(it))
        elif a == "--rounds": rounds = int(next(it))
        else: specs.append(a)
    paths = [Path(s) for s in specs]
    samples = {p.name: [] for p in paths}
    round_p99 = {p.name: [] for p in paths}
    for r in range(rounds):
        for p in (paths if r % 2 == 0 else paths[::-1]):
            s = p.connect()
            rd = Reader(s)
            req = p.request()
            this_round = []
            for i in range(n + 20):  # the first 20 warm the connection and are not counted
                t0 = time.perf_counter_ns()
                s.sendall(req)
                rd.body(rd.head())
                if i >= 20:
                    this_round.append((time.perf_counter_ns() - t0) / 1000)
            s.close()
            samples[p.name] += this_round
            round_p99[p.name].append(pct(this_round, .99))
    for p in paths:
        xs = samples[p.name]
        # The median over rounds of each round's p99 discounts a burst of load from other processes
        # that hits one round; the pooled p99 is printed too.
        print("%s %.1f %.1f %d %.1f" % (p.name, pct(xs, .5), pct(xs, .99), len(xs), pct(round_p99[p.name], .5)),
              flush=True)


def cmd_sse(argv):
    rounds, specs = 3, []
    it = iter(argv)
    for a in it:
        if a == "--rounds": rounds = int(next(it))
        else: specs.append(a)
    paths = [Path(s) for s in specs]
    res = {p.name: ([], 0, 0, []) for p in paths}
    for r in range(rounds):
        for p in (paths if r % 2 == 0 else paths[::-1]):
            interval_ns = float(urllib.parse.parse_qs(p.url.query).get("ms", ["20"])[0]) * 1e6
            s = p.connect()
            rd = Reader(s)
            s.sendall(p.request(stream=True))
            delays, frame_delays, batched, pending, last = res[p.name][0], res[p.name][3], 0, [b""], [None]
            counts, awaiting = [0], []

            def on_data(data, t):
                nonlocal batched
                pending[0] += data
                *events, pending[0] = EV_SPLIT.split(pending[0])
                for ev in events:
                    m = T_RE.search(ev)
                    if not m:
                        continue
                    counts[0] += 1
                    sent = int(m.group(1))
                    delays.append((t - sent) / 1000)
                    awaiting.append((sent, (t - sent) / 1000))
                    # Arrived in the same read as the previous event, or well under the send spacing: batched.
                    if last[0] is not None and t - last[0] < interval_ns / 2:
                        batched += 1
                    last[0] = t

            def on_frame_end(t):
                for sent, _ in awaiting:
                    frame_delays.append((t - sent) / 1000)
                awaiting.clear()

            rd.body(rd.head(), on_data, on_frame_end)
            for _, data_delay in awaiting:  # not chunked: the data is the frame
                frame_delays.append(data_delay)
            s.close()
            _, b0, c0, fd = res[p.name]
            res[p.name] = (delays, b0 + batched, c0 + counts[0], fd)
    for p in paths:
        d, b, c, fd = res[p.name]
        print("%s %.1f %.1f %d %d %.1f %.1f" % (p.name, pct(d, .5), pct(d, .99), c, b, pct(fd, .5), pct(fd, .99)),
              flush=True)


async def hold_one(p, mode, ready, stop, errors):
    try:
        r, w = await asyncio.open_connection(p.url.hostname, p.port)
        w.write(p.request(stream=(mode == "stream")))
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
        if b" 200" not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:60])
        if mode == "idle":
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            await r.readexactly(int(m.group(1)))
        else:
            while b"data:" not in await r.read(65536):
                pass
        ready()
        if mode == "stream":
            reader = asyncio.ensure_future(drain(r))
            await stop.wait()
            reader.cancel()
        else:
            await stop.wait()
        w.close()
    except Exception:
        errors.append(1)
        ready()


async def drain(r):
    while await r.read(65536):
        pass


async def cmd_hold_async(argv):
    count, mode, spec = 1000, "idle", None
    it = iter(argv)
    for a in it:
        if a == "--count": count = int(next(it))
        elif a == "--mode": mode = next(it)
        else: spec = a
    p = Path(spec)
    stop, done, n = asyncio.Event(), asyncio.Event(), [0]
    errors = []

    def ready():
        n[0] += 1
        if n[0] == count:
            done.set()
    tasks = []
    for i in range(count):
        tasks.append(asyncio.ensure_future(hold_one(p, mode, ready, stop, errors)))
        if i % 50 == 49:
            await asyncio.sleep(0.01)  # pace the connects so the listen backlog is not the limit
    await asyncio.wait_for(done.wait(), 60)
    print("ready %d" % (count - len(errors)), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print("done %d" % len(errors), flush=True)


def main():
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "latency": cmd_latency(argv)
    elif cmd == "sse": cmd_sse(argv)
    elif cmd == "hold": asyncio.run(cmd_hold_async(argv))
    else: sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
