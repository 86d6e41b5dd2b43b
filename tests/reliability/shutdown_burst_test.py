#!/usr/bin/env python3
"""SIGTERM after a burst of distinct conversations, on the real `llmtap proxy` (issue 16, item 5).

Usage: shutdown_burst_test.py LLMTAP [--requests N] [--conns C]

The simulated provider (examples/sim-provider/sim_provider.py, plain HTTP on 127.0.0.1:0) answers
N distinct chat completions sent through llmtap's gateway route by C keep-alive loopback clients.
Traces stay open (a long idle timeout), so every one of them is still open when SIGTERM arrives.
Checks counts, never timings: llmtap exits 0, the traces in the store plus the traces in its spool
equal the requests answered, the next start writes the spool in (store = requests, spool empty), and
the exit log's own counts agree. The seconds from SIGTERM to exit and each shutdown phase are printed
(bench figures, not asserted: this machine is shared).
"""
import glob
import http.client
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_common import REPO, fail, find_binary, log, tmpdir  # noqa: E402  (puts tests/support on the path)
import llmtap_proxy  # noqa: E402


def start_provider(work):
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "examples", "sim-provider", "sim_provider.py"),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=open(os.path.join(work, "sim.err"), "wb"))
    import atexit
    atexit.register(lambda: proc.poll() is None and proc.kill())
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening "):
        fail("sim provider did not start: %r" % line)
    return proc, "http://" + line.split(" ", 1)[1]


def start_llmtap(llmtap, work, data, upstream):
    errf = open(os.path.join(work, "llmtap.err"), "ab")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k.lower() != "https_proxy"}
    env["TMPDIR"] = work
    proc = subprocess.Popen([llmtap, "proxy", "--listen", "127.0.0.1:0", "--upstream", "openai=" + upstream,
                             "--no-collector", "--log-level", "info", "--data-dir", data,
                             "--trace-idle-ms", "600000"], stdout=subprocess.PIPE, stderr=errf, env=env)
    import atexit
    atexit.register(lambda: proc.poll() is None and proc.kill())
    try:
        banner = llmtap_proxy.read_banner(proc.stdout)
    except RuntimeError as e:
        proc.kill()
        fail("llmtap did not start: %s" % e)
    return proc, banner


def burst(banner, requests, conns):
    """N distinct conversations over CONNS keep-alive connections; returns the count answered 200."""
    ok = [0] * conns
    bad = []

    def client(k):
        c = http.client.HTTPConnection("127.0.0.1", banner.port, timeout=60)
        for i in range(k, requests, conns):
            body = json.dumps({"model": "gpt-4o-mini", "messages": [
                {"role": "user", "content": "conversation %d: what is the status of order %d?" % (i, i)}]})
            c.request("POST", banner.gateway_prefix + "/openai/v1/chat/completions", body=body,
                      headers={"content-type": "application/json", "authorization": "Bearer sk-test-0123456789abcdef"})
            r = c.getresponse()
            r.read()
            if r.status == 200:
                ok[k] += 1
            else:
                bad.append(r.status)
        c.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if bad:
        fail("%d requests not answered 200 (first: %d)" % (len(bad), bad[0]))
    return sum(ok)


def stored(data):
    path = os.path.join(data, "traces.db")
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM traces").fetchone()[0]
    finally:
        db.close()


def spooled(data):
    """Records in the store's spool segments (u32 length, u32 crc32, payload: store_spool.h)."""
    n = 0
    for path in glob.glob(os.path.join(data, "traces.db-spool", "*.spool")):
        with open(path, "rb") as f:
            blob = f.read()
        at = 0
        while at + 8 <= len(blob):
            (size,) = struct.unpack_from("<I", blob, at)
            if at + 8 + size > len(blob):
                break
            at += 8 + size
            n += 1
    return n


def stop(proc):
    t0 = time.monotonic()
    proc.terminate()
    try:
        rc = proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = None
    return rc, time.monotonic() - t0


def main():
    llmtap = find_binary(sys.argv)
    requests, conns = 3000, 8
    args = sys.argv[2:]
    for i, a in enumerate(args):
        if a == "--requests":
            requests = int(args[i + 1])
        elif a == "--conns":
            conns = int(args[i + 1])
    work = tmpdir("shutdown-burst")
    data = os.path.join(work, "data")
    sim, upstream = start_provider(work)
    proc, banner = start_llmtap(llmtap, work, data, upstream)
    t0 = time.monotonic()
    answered = burst(banner, requests, conns)
    log("burst: %d of %d requests answered in %.1f s" % (answered, requests, time.monotonic() - t0))
    rc, secs = stop(proc)
    err = open(os.path.join(work, "llmtap.err"), encoding="utf-8", errors="replace").read()
    for line in err.splitlines():
        if "stopping:" in line or "closed" in line or "stored" in line:
            log("  llmtap: " + line[line.find("]", line.find("] [") + 1) + 2:][:240])
    in_db, in_spool = stored(data), spooled(data)
    log("SIGTERM to exit %.1f s (printed, not asserted); exit code %r; %d stored + %d spooled = %d for %d answered"
        % (secs, rc, in_db, in_spool, in_db + in_spool, answered))
    if rc != 0:
        fail("llmtap exited with %r\n%s" % (rc, err[-3000:]))
    if in_db + in_spool != answered:
        fail("%d stored + %d spooled != %d requests answered\n%s" % (in_db, in_spool, answered, err[-3000:]))
    # The exit log's counts are the same as the files'.
    m = re.search(r"stored (\d+) of (\d+) traces?(?:; (\d+) spooled)?", err)
    if m and (int(m.group(2)) != answered or int(m.group(1)) != in_db or int(m.group(3) or 0) != in_spool):
        fail("the exit log says %r; the store holds %d, the spool %d, for %d requests" % (m.group(0), in_db, in_spool,
                                                                                         answered))
    if not m and in_spool != 0:
        fail("traces were spooled but the exit log does not say so\n%s" % err[-3000:])

    # The next start writes the spool in: every request is then in the store.
    proc, banner = start_llmtap(llmtap, work, data, upstream)
    deadline = time.monotonic() + 120
    while spooled(data) > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    rc, _ = stop(proc)
    in_db, in_spool = stored(data), spooled(data)
    log("after a restart: %d stored, %d spooled" % (in_db, in_spool))
    if rc != 0 or in_db != answered or in_spool != 0:
        fail("after a restart: exit %r, %d stored, %d spooled, for %d requests" % (rc, in_db, in_spool, answered))
    sim.kill()
    log("SUMMARY shutdown_burst requests=%d answered=%d stored_after_restart=%d" % (requests, answered, in_db))


if __name__ == "__main__":
    main()
