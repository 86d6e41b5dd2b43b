"""Shared by the real-client end-to-end tests (codex_e2e.py, claude_code_e2e.py, gemini_cli_e2e.py,
langgraph_e2e.py): named
checks per run with an explicit expected-failure set, the simulated provider over TLS and its log, one
llmtap (run or proxy) with its jsonl export and log, and the scoring every real-client test repeats
(one generation per model call and no other, one trace per run, no key in llmtap's output).
"""
import argparse
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from agents_sdk_e2e import MAKE_CA, SIM, Failures, clean_env, otlp_value, start_process_with_banner  # noqa: E402
import llmtap_proxy  # noqa: E402  (tests/support, on the path agents_sdk_e2e sets)

SKIP = 77


class Checks:
    """Named checks per run: which passed, which failed and why. EXPECTED maps (run, check) to the
    reason a check is known to fail today (work owned elsewhere): such a failure prints XFAIL and does
    not fail the test; a pass prints XPASS, the sign to drop it from the set."""

    def __init__(self, expected=None, quiet=False):
        self.quiet = quiet
        self.fail = Failures(quiet=quiet)
        self.results = {}  # (run, check) -> bool, in the order first checked
        self.expected = dict(expected or {})
        self.xfail_msgs = []

    def check(self, run, name, cond, msg):
        key = (run, name)
        self.results[key] = self.results.get(key, True) and bool(cond)
        if key in self.expected:
            if not cond:
                self.xfail_msgs.append(f"{run} [{name}]: {msg}")
                if not self.quiet:
                        print(f"XFAIL: {run} [{name}]: {msg} (expected: {self.expected[key]})", flush=True)
            return bool(cond)
        return self.fail.check(cond, f"{run} [{name}]: {msg}")

    def summary(self):
        runs = list(dict.fromkeys(r for r, _ in self.results))
        lines = []
        for r in runs:
            ok = [n for (rr, n), v in self.results.items() if rr == r and v and (rr, n) not in self.expected]
            bad = [n for (rr, n), v in self.results.items() if rr == r and not v and (rr, n) not in self.expected]
            xf = [n for (rr, n), v in self.results.items() if rr == r and not v and (rr, n) in self.expected]
            xp = [n for (rr, n), v in self.results.items() if rr == r and v and (rr, n) in self.expected]
            line = f"  {r}: passed {', '.join(ok) or '-'}; FAILED {', '.join(bad) or '-'}"
            if xf:
                line += f"; XFAIL {', '.join(xf)}"
            if xp:
                line += f"; XPASS {', '.join(xp)} (drop from the expected failures)"
            lines.append(line)
        for (r, n), why in self.expected.items():
            if (r, n) in self.results and not self.results[(r, n)]:
                lines.append(f"  XFAIL {r} [{n}]: {why}")
        return "\n".join(lines)

    def finish(self, what):
        """Prints the closing line; returns the exit code."""
        counted = {k: v for k, v in self.results.items() if k not in self.expected}
        n_pass = sum(1 for v in counted.values() if v)
        n_bad = sum(1 for v in counted.values() if not v)
        n_xfail = sum(1 for k, v in self.results.items() if k in self.expected and not v)
        print(f"{what}: {n_pass} checks passed, {n_bad} failed, {n_xfail} expected failures "
              f"({len(self.fail.items)} failure messages)")
        return 1 if self.fail.items else 0


def parse_args(add_options=None):
    """--llmtap BIN --node-modules DIR [--keep], plus the test's own options."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--llmtap", required=True)
    ap.add_argument("--node-modules", required=True)
    ap.add_argument("--keep", action="store_true")
    if add_options:
        add_options(ap)
    args = ap.parse_args()
    args.llmtap = os.path.abspath(args.llmtap)
    return args


def missing_program(*names):
    """Prints SKIP and returns True when one of NAMES is not on PATH."""
    gone = [n for n in names if not shutil.which(n)]
    if gone:
        print(f"SKIP: {', '.join(gone)} not found")
    return bool(gone)


def check_bracket(c, run, span, own_start_ns, own_end_ns, what, start_slack_ns=0):
    """SPAN starts no later (plus the client's clock resolution, START_SLACK_NS) and ends no earlier than
    the client's own account of it. Returns the margins (start, end) in ms."""
    s0, e0 = span["start_time_unix_nano"], span["end_time_unix_nano"]
    c.check(run, "brackets", s0 <= own_start_ns + start_slack_ns,
            f"{what} starts {(s0 - own_start_ns) / 1e6:.3f} ms after the client's")
    c.check(run, "brackets", e0 >= own_end_ns, f"{what} ends {(own_end_ns - e0) / 1e6:.3f} ms before the client's")
    return (own_start_ns - s0) / 1e6, (e0 - own_end_ns) / 1e6


def print_margins(run, margins):
    if margins:
        print(f"  {run}: tool margins (start, end) ms: " + ", ".join(f"({a:.2f}, {b:.2f})" for a, b in margins))


def mutate_first(spans, pick, change):
    """A deep copy of SPANS where CHANGE(span, all_spans) was applied to the first span PICK accepts."""
    out = copy.deepcopy(spans)
    for s in [s for s in out if pick(s)][:1]:
        change(s, out)
    return out


def run_canaries(c, run, mutations, score):
    """Each of MUTATIONS (name -> function making a mutated copy of the export's spans) must make
    SCORE(checks, spans) fail: the comparison can tell a wrong export from a right one."""
    for name, mutate in mutations.items():
        q = Checks(c.expected, quiet=True)
        score(q, mutate())
        c.check(run, "canaries", q.fail.items, f"the export with '{name}' passed every check")
    print(f"  {run}: {len(mutations)} canary mutations checked", flush=True)


def attrs(span):
    return span.get("attributes", {})


def read_jsonl(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    return out


class SimLog:
    """The sim's request log, read in steps: since_mark() gives the entries after the last call."""

    def __init__(self, path):
        self.path = path
        self.mark = 0

    def since_mark(self):
        entries = read_jsonl(self.path)
        out, self.mark = entries[self.mark:], len(entries)
        return out


def make_test_ca(tmp):
    """A throwaway CA and a server certificate for 127.0.0.1: returns the CA's PEM path."""
    subprocess.run(["bash", MAKE_CA, os.path.join(tmp, "ca")], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(tmp, "ca", "ca.pem")


def start_sim(tmp, tag, extra_args=()):
    """The simulated provider over TLS (the test CA's server certificate): (proc, 'HOST:PORT', SimLog)."""
    log_path = os.path.join(tmp, f"sim-{tag}.log")
    proc, addr = start_process_with_banner(
        [sys.executable, SIM, "--port", "0", "--cert", os.path.join(tmp, "ca", "server.pem"),
         "--key", os.path.join(tmp, "ca", "server.key"), "--log", log_path] + list(extra_args),
        clean_env(os.environ), os.path.join(tmp, f"sim-{tag}.stderr"), "sim provider")
    return proc, addr, SimLog(log_path)


def stop_all(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def wrap_up(c, procs, tmp, keep):
    """Stops PROCS, prints the per-run summary, keeps TMP when asked or when a check failed."""
    stop_all(procs)
    print("per-run results:\n" + c.summary())
    if keep or c.fail.items:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


class Llmtap:
    """One llmtap (proxy or run) with its data dir, jsonl export and log. PROVIDER is the upstream the
    sim stands in for (openai, gemini, ...)."""

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

    def run_env(self):
        """The variables `llmtap run` itself needs in the client's environment."""
        return {k: v for k, v in self.env.items() if k.startswith(("LLMTAP_", "OTEL_INSTRUMENTATION"))}

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

    def proxy_credential(self):
        """The credential `llmtap run` keeps in its data directory (its child's proxy URL carries it)."""
        path = os.path.join(self.data_dir, "proxy-credential")
        with open(path) as f:
            cred = f.read().strip()
        if not cred:
            raise SystemExit(f"{path} is empty")
        return cred

    def text(self):
        out = ""
        for p in (self.export, self.log_path):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read()
        return out


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


def run_client(cmd, cwd, env, timeout_s, out_prefix):
    """Runs a client to its end, in its own process group: after TIMEOUT_S the whole group is killed
    (llmtap run and the client under it; what they printed is still evidence). Keeps stdout and stderr
    in OUT_PREFIX.stdout/.stderr. Returns (CompletedProcess, seconds)."""
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = f"timeout after {timeout_s} s"
    r = subprocess.CompletedProcess(cmd, rc, out or b"", err or b"")
    took = time.time() - t0
    for ext, data in (("stdout", r.stdout), ("stderr", r.stderr)):
        with open(f"{out_prefix}.{ext}", "wb") as f:
            f.write(data)
    return r, took


def generations_by_response_id(spans):
    by_rid = {}
    for s in spans:
        if s.get("kind") == "generation":
            by_rid.setdefault(attrs(s).get("gen_ai.response.id"), []).append(s)
    return by_rid


def check_generations(c, run, response_ids, spans, all_response_ids):
    """Every model call (RESPONSE_IDS, from the sim's log) is one generation, and SPANS (llmtap's whole
    export) hold no generation that is none of ALL_RESPONSE_IDS. Returns {response id: generation}."""
    by_rid = generations_by_response_id(spans)
    c.check(run, "generations", response_ids, "the provider saw no model call")
    for rid in response_ids:
        c.check(run, "generations", len(by_rid.get(rid, [])) == 1,
                f"response {rid}: {len(by_rid.get(rid, []))} generation spans (want 1)")
    stray = {k: len(v) for k, v in by_rid.items() if k not in all_response_ids}
    c.check(run, "generations", not stray, f"generations that are no model call: {stray}")
    return {rid: by_rid[rid][0] for rid in response_ids if len(by_rid.get(rid, [])) == 1}


def check_one_trace(c, run, gens, spans, allowed_ids=None, check="one-trace"):
    """GENS (the run's generations) are in one trace, and that trace holds no generation but the run's
    model calls (ALLOWED_IDS, response ids; by default GENS' own). Returns that trace's spans."""
    traces = {g["trace_id"] for g in gens}
    c.check(run, check, len(traces) == 1, f"the run's {len(gens)} generations are in {len(traces)} traces")
    trace = [s for s in spans if s["trace_id"] in traces]
    allowed = set(allowed_ids) if allowed_ids is not None else {attrs(g).get("gen_ai.response.id") for g in gens}
    others = [attrs(s).get("gen_ai.response.id") for s in trace
              if s.get("kind") == "generation" and attrs(s).get("gen_ai.response.id") not in allowed]
    c.check(run, check, not others, f"the run's trace holds generations that are none of its model calls: {others}")
    return trace


SUMMARY_TRACES = re.compile(r"^llmtap: (\d+) traces?$", re.M)
SUMMARY_COST = re.compile(r"^cost: \S+ over (\d+) model calls?; tokens: (\d+) in \((\d+) cached\), "
                          r"(\d+) out \((\d+) reasoning\)$", re.M)


def check_run_summary(c, run, stderr, spans, n_calls):
    """`llmtap run`'s closing summary (on its stderr) counts the export's traces and exactly the
    N_CALLS model calls, with the generations' token totals."""
    traces, cost = SUMMARY_TRACES.findall(stderr), SUMMARY_COST.findall(stderr)
    n_traces = len({s["trace_id"] for s in spans})
    c.check(run, "summary", traces == [str(n_traces)], f"llmtap run said {traces} traces; the export has {n_traces}")
    gens = [s for s in spans if s.get("kind") == "generation"]
    want = (n_calls,) + tuple(sum(attrs(g).get(k) or 0 for g in gens) for k in (
        "gen_ai.usage.input_tokens", "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.output_tokens",
        "gen_ai.usage.reasoning.output_tokens"))
    got = [tuple(int(x) for x in m) for m in cost]
    c.check(run, "summary", got == [want], f"llmtap run's summary (calls, in, cached, out, reasoning) {got} != {want}")


def check_no_secret(c, run, lt, secrets):
    for name, value in secrets.items():
        c.check(run, "no-key", value not in lt.text(), f"the {name} is in llmtap's export or log")
