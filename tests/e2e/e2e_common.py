"""What the real-client end-to-end tests (codex_e2e.py, claude_code_e2e.py) share: named checks per
run with an explicit expected-failure set, the simulated provider's log, one llmtap (proxy or run)
with its data dir, JSONL export and log, and the client's own telemetry drained once it goes quiet."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

from agents_sdk_e2e import MAKE_CA, SIM, Failures, clean_env, otlp_value, start_process_with_banner
import llmtap_proxy  # noqa: E402  (tests/support, on the path agents_sdk_e2e sets)


class Checks:
    """Named checks per run: which passed, which failed and why.

    EXPECTED: {check name: reason} for checks known to fail until another piece of work lands. Such
    a check is still evaluated: a failure prints XFAIL with the reason and does not fail the test; a
    pass prints XPASS, so whoever lands that work knows to remove the entry."""

    def __init__(self, expected=None):
        self.fail = Failures()
        self.expected = dict(expected or {})
        self.results = {}  # (run, check) -> bool, in first-seen order
        self.xfail_messages = []

    def check(self, run, name, cond, msg):
        key = (run, name)
        self.results[key] = self.results.get(key, True) and bool(cond)
        if cond:
            return True
        if name in self.expected:
            line = f"XFAIL: {run} [{name}]: {msg} (expected: {self.expected[name]})"
            self.xfail_messages.append(line)
            print(line, flush=True)
            return False
        return self.fail.check(cond, f"{run} [{name}]: {msg}")

    def runs(self):
        out = []
        for r, _ in self.results:
            if r not in out:
                out.append(r)
        return out

    def summary(self):
        lines = []
        for r in self.runs():
            mine = [(n, v) for (rr, n), v in self.results.items() if rr == r]
            ok = [n for n, v in mine if v and n not in self.expected]
            bad = [n for n, v in mine if not v and n not in self.expected]
            xfail = [n for n, v in mine if not v and n in self.expected]
            xpass = [n for n, v in mine if v and n in self.expected]
            line = f"  {r}: passed {', '.join(ok) or '-'}; FAILED {', '.join(bad) or '-'}"
            if xfail or xpass:
                line += f"; XFAIL {', '.join(xfail) or '-'}; XPASS {', '.join(xpass) or '-'}"
            lines.append(line)
        return "\n".join(lines)

    def counts(self):
        """(passed, failed, xfail, xpass) over the named checks."""
        p = sum(1 for (_, n), v in self.results.items() if v and n not in self.expected)
        f = sum(1 for (_, n), v in self.results.items() if not v and n not in self.expected)
        xf = sum(1 for (_, n), v in self.results.items() if not v and n in self.expected)
        xp = sum(1 for (_, n), v in self.results.items() if v and n in self.expected)
        return p, f, xf, xp


def read_jsonl(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    return out


class SimLog:
    """The simulated provider's request log, read in pieces: each call gives the entries since the last."""

    def __init__(self, path):
        self.path = path
        self.mark = 0

    def since_mark(self):
        entries = read_jsonl(self.path)
        out, self.mark = entries[self.mark:], len(entries)
        return out


def attrs(span):
    return span.get("attributes", {})


def drain_telemetry(receiver, quiet_s=0.5, limit_s=10.0):
    """(path, body) pairs the client POSTs to RECEIVER until it has been quiet QUIET_S seconds (a client
    flushes its telemetry as it exits), at most LIMIT_S seconds."""
    bodies, start, quiet_since = [], time.time(), time.time()
    while time.time() - quiet_since < quiet_s and time.time() - start < limit_s:
        got = receiver.take_with_paths()
        if got:
            bodies += got
            quiet_since = time.time()
        time.sleep(0.05)
    return bodies


def run_client(cmd, cwd, env, timeout_s, out_prefix):
    """Runs a client to its end (stdin closed, output captured, killed after TIMEOUT_S seconds; what
    it printed so far is still evidence), keeps its output in OUT_PREFIX.stdout / .stderr; returns
    (CompletedProcess, seconds)."""
    t0 = time.time()
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as e:
        r = subprocess.CompletedProcess(cmd, f"timeout after {timeout_s} s", e.stdout or b"", e.stderr or b"")
    took = time.time() - t0
    for suffix, data in (("stdout", r.stdout), ("stderr", r.stderr)):
        with open(f"{out_prefix}.{suffix}", "wb") as f:
            f.write(data)
    return r, took


def otlp_items(bodies):
    """The log records and spans of OTLP/HTTP JSON BODIES ((path, raw) pairs), each as
    (kind 'log' or 'span', its attributes decoded, the record or span, its resource's service.name)."""
    for _, raw in bodies:
        doc = json.loads(raw)
        for kind, resources, scopes, items in (("log", "resourceLogs", "scopeLogs", "logRecords"),
                                               ("span", "resourceSpans", "scopeSpans", "spans")):
            for res in doc.get(resources, []):
                service = next((otlp_value(a.get("value", {})) for a in res.get("resource", {}).get("attributes", [])
                                if a["key"] == "service.name"), None)
                for scope in res.get(scopes, []):
                    for item in scope.get(items, []):
                        a = {x["key"]: otlp_value(x.get("value", {})) for x in item.get("attributes", [])}
                        yield kind, a, item, service


# A credential-carrying header as it would appear in a log or an export: its name, then a value.
SECRET_HEADER = re.compile(r"(?i)\b(authorization|x-api-key|proxy-authorization)\b[\"']?\s*[:=]\s*\S")


def client_test_args():
    """The real-client tests' command line: --llmtap BIN --node-modules DIR [--keep] (BIN made absolute)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--llmtap", required=True)
    ap.add_argument("--node-modules", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    args.llmtap = os.path.abspath(args.llmtap)
    return args


def missing_tools(*tools):
    """The first of TOOLS not on PATH, for a `SKIP:` line; None when all are there."""
    return next((t for t in tools if not shutil.which(t)), None)


def make_ca(tmp):
    """A throwaway CA and 127.0.0.1 certificate in TMP/ca; returns the CA certificate's path."""
    subprocess.run(["bash", MAKE_CA, os.path.join(tmp, "ca")], check=True, capture_output=True)
    return os.path.join(tmp, "ca", "ca.pem")


def start_sim(tmp, name, extra_args=()):
    """The simulated provider over TLS (TMP/ca's certificate), logging to TMP/NAME.log:
    (process, 'HOST:PORT', SimLog)."""
    log_path = os.path.join(tmp, f"{name}.log")
    proc, addr = start_process_with_banner(
        [sys.executable, SIM, "--port", "0", "--cert", os.path.join(tmp, "ca", "server.pem"),
         "--key", os.path.join(tmp, "ca", "server.key"), "--log", log_path] + list(extra_args),
        clean_env(os.environ), os.path.join(tmp, f"{name}.stderr"), "sim provider")
    return proc, addr, SimLog(log_path)


def finish(label, c, tmp, keep, telemetry, procs):
    """Stops the receiver and PROCS, prints the per-run summary and the totals, keeps TMP when asked
    or when a check failed; returns the exit code."""
    telemetry.close()
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    print("per-run results:\n" + c.summary())
    if keep or c.fail.items:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    passed, failed, xfail, xpass = c.counts()
    extra = f", {xfail} expected failures (XFAIL), {xpass} unexpected passes (XPASS)" if c.expected else ""
    print(f"{label}: {passed} checks passed, {failed} failed{extra} ({len(c.fail.items)} failure messages)")
    return 1 if c.fail.items else 0


class Llmtap:
    """One llmtap (proxy or run) with its data dir, JSONL export and log. PROVIDER: the provider name
    whose host --upstream maps to the simulated provider at SIM_ADDR (trusted through CA)."""

    def __init__(self, args, tmp, tag, sim_addr, ca, provider="openai"):
        self.tag = tag
        self.data_dir = os.path.join(tmp, f"data-{tag}")
        os.makedirs(self.data_dir, exist_ok=True)
        self.export = os.path.join(tmp, f"llmtap-{tag}.jsonl")
        self.log_path = os.path.join(tmp, f"llmtap-{tag}.log")
        self.env = clean_env(os.environ)
        self.env.update({"LLMTAP_DATA_DIR": self.data_dir,
                         "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"})
        self.options = ["--upstream", f"{provider}=https://{sim_addr}", "--upstream-ca", ca,
                        "--export", f"jsonl={self.export}", "--trace-idle-ms", "600000"]
        self.llmtap = args.llmtap

    def start_proxy(self):
        """`llmtap proxy` on an ephemeral loopback port with these options: (process, ProxyBanner), the
        credential read from the file its banner names, as a user does."""
        proc, addr = start_process_with_banner([self.llmtap, "proxy", "--listen", "127.0.0.1:0", "--no-collector"] +
                                               self.options, self.env, self.log_path, "llmtap proxy")
        try:
            return proc, llmtap_proxy.read_credential(proc.stdout, addr)
        except RuntimeError:
            proc.kill()
            proc.wait()
            raise

    def spans(self):
        return read_jsonl(self.export)

    def text(self):
        out = ""
        for p in (self.export, self.log_path):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read()
        return out
