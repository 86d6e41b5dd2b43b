#!/usr/bin/env python3
"""End-to-end: the real OpenAI Agents SDK (JS) through `llmtap proxy`, compared with the SDK's own trace.

For each configuration (Responses / Chat Completions API, streaming or not) it runs the same
multi-agent workflow (agents_sdk_e2e.mjs: triage agent + tool, handoff to a billing agent + tool,
three runs at once) twice against the simulated provider served over TLS by a throwaway test CA:
  1. directly (NODE_EXTRA_CA_CERTS trusts the test CA),
  2. through llmtap's gateway route (OPENAI_BASE_URL=http://llmtap/openai/v1; llmtap reaches the
     provider over verified TLS with --upstream-ca), exporting jsonl.
Then it checks:
  * final outputs (and last agents) are identical with and without llmtap;
  * one llmtap trace per SDK run (matched by the user's text in the first generation's input);
  * one llmtap generation per SDK model call (response/generation span; ids equal), usage > 0, under
    the agent the SDK ran it in;
  * every SDK function span has an llmtap tool span (same name, arguments and result, in order) and
    every SDK handoff span an llmtap handoff span (same from/to agents, in order);
  * agent names: handoff targets equal the SDK's names; the first agent's name is what llmtap
    derives from its instructions (the SDK's name never reaches the wire) unless --agent-names maps
    it, which one extra pass checks exactly;
  * each llmtap tool and handoff span brackets the SDK's span: starts no later and ends no earlier.
    The SDK stamps Date-based ISO times, truncated to the millisecond: its true start lies in
    [ms, ms+1), so "no later" is checked as llmtap_start <= ms+1 (the 1 ms is that resolution and
    nothing else), and "no earlier" as llmtap_end >= ms_end, which needs no tolerance.
  * no API key in llmtap's export or logs.
It prints the margins (llmtap tool start -> SDK function start, SDK function end -> llmtap tool end):
the SDK's own work between the wire and the tool.

Usage: agents_sdk_e2e.py --llmtap BIN --node-modules DIR [--keep] [--configs responses:0,chat:1,...]
Exit 77 (ctest SKIP_RETURN_CODE) when DIR lacks @openai/agents (run scripts/setup).
"""
import argparse
import gzip
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import llmtap_proxy  # noqa: E402  (reads the proxy's credential as a user would)
SIM = os.path.join(ROOT, "examples", "sim-provider", "sim_provider.py")
MAKE_CA = os.path.join(ROOT, "examples", "sim-provider", "make_test_ca.sh")
NODE_SCRIPT = os.path.join(HERE, "agents_sdk_e2e.mjs")
WALL_CLOCK = os.path.join(HERE, "wall_clock.mjs")  # imported by every client script
API_KEY = "sk-e2e-DO-NOT-LEAK-7f3a9c"  # must never show up in llmtap's export or logs
SKIP = 77
# Names the first agent exactly, for the extra pass that checks --agent-names.
AGENT_NAMES = [{"pattern": "first-line support agent of the e2e shop", "name": "Triage agent"}]


def copy_node_script(script, workdir):
    """Copies the client SCRIPT into WORKDIR with the wall_clock.mjs it imports."""
    for p in (script, WALL_CLOCK):
        shutil.copy(p, os.path.join(workdir, os.path.basename(p)))


class Failures:
    def __init__(self, quiet=False):
        self.items = []
        self.quiet = quiet

    def check(self, cond, msg):
        if not cond:
            self.items.append(msg)
            if not self.quiet:
                print("FAIL:", msg, flush=True)
        return cond


def iso_ms_to_ns(s):
    """SDK ISO time (ms resolution) -> ns since the epoch, the millisecond's floor."""
    dt = datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    secs = int((dt - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds())
    return secs * 1_000_000_000 + dt.microsecond * 1000


def start_process_with_banner(cmd, env, log_path, what):
    """Starts CMD, returns (proc, 'HOST:PORT') from its `listening HOST:PORT` first stdout line."""
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log)
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening "):
        proc.kill()
        proc.wait()
        raise SystemExit(f"{what} did not print its listening line (got {line!r}); see {log_path}")
    return proc, line.split(" ", 1)[1]


def stop_with_sigterm(proc, timeout=20):
    """SIGTERM, then the exit code; None (after SIGKILL) when PROC outlives TIMEOUT seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def clean_env(base):
    env = {k: v for k, v in base.items()
           if not k.startswith(("OTEL_", "LLMTAP_", "OPENAI_", "HTTPS_PROXY", "HTTP_PROXY",
                                "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy", "NODE_EXTRA_CA"))}
    return env


def run_node(workdir, out_name, base_url, extra_env, api, stream, seed_url=None, script="agents_sdk_e2e.mjs"):
    env = clean_env(os.environ)
    env.update(extra_env)
    env.update({"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": base_url, "E2E_API": api,
                "E2E_STREAM": "1" if stream else "0", "NO_PROXY": "127.0.0.1,localhost"})
    if seed_url:
        env["E2E_SEED_BASE_URL"] = seed_url
    out = os.path.join(workdir, out_name)
    r = subprocess.run(["node", script, out], cwd=workdir, env=env,
                       capture_output=True, timeout=120)
    if r.returncode != 0:
        sys.stderr.write(r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace"))
        raise SystemExit(f"node workflow failed ({api}, stream={stream}, {base_url}): rc {r.returncode}")
    with open(out) as f:
        return json.load(f)


class OtlpReceiver:
    """A loopback OTLP/HTTP JSON receiver: keeps every request body POSTed to one of PATHS
    (`take()` gives the bodies, `take_with_paths()` (path, body) pairs)."""

    def __init__(self, paths=("/v1/traces",)):
        bodies, lock = [], threading.Lock()
        received = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                    raw = gzip.decompress(raw)
                ok = self.path in paths
                if ok:
                    with lock:
                        bodies.append(raw)
                        received.append((self.path, raw))
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.bodies, self.lock, self.received = bodies, lock, received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self):
        return [raw for _, raw in self.take_with_paths()]

    def take_with_paths(self):
        with self.lock:
            out, self.bodies[:], self.received[:] = list(self.received), [], []
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def otlp_value(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [otlp_value(x) for x in v["arrayValue"].get("values", [])]
    return None



def sdk_test_args(doc, add_options):
    """The options the Agents SDK e2e drivers share (--llmtap, --node-modules, --keep) plus those
    ADD_OPTIONS(parser) adds. Returns (args, node_modules), or (None, None) after printing SKIP when
    @openai/agents is not installed."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--llmtap", required=True)
    ap.add_argument("--node-modules", default=os.path.join(ROOT, "tests", "node", "node_modules"))
    ap.add_argument("--keep", action="store_true")
    add_options(ap)
    args = ap.parse_args()
    nm = os.path.abspath(args.node_modules)
    if not os.path.isfile(os.path.join(nm, "@openai", "agents", "package.json")):
        print(f"SKIP: {nm} has no @openai/agents; run scripts/setup (npm ci in tests/node)")
        return None, None
    return args, nm

def otlp_to_spans(bodies):
    """OTLP/JSON request bodies -> spans shaped like the jsonl export's lines."""
    spans = []
    for raw in bodies:
        doc = json.loads(raw)
        for rs in doc.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    attrs = {a["key"]: otlp_value(a.get("value", {})) for a in sp.get("attributes", [])}
                    status = sp.get("status") or {}
                    code = {0: "UNSET", 1: "OK", 2: "ERROR"}.get(status.get("code"), str(status.get("code", "UNSET")))
                    spans.append({"status": {"code": code.replace("STATUS_CODE_", ""), "message": status.get("message", "")},"trace_id": sp["traceId"], "span_id": sp["spanId"],
                                  "parent_span_id": sp.get("parentSpanId", ""), "name": sp["name"],
                                  "kind": attrs.get("llmtap.span.kind"),
                                  "start_time_unix_nano": int(sp["startTimeUnixNano"]),
                                  "end_time_unix_nano": int(sp["endTimeUnixNano"]), "attributes": attrs,
                                  "links": [{"trace_id": l.get("traceId"), "span_id": l.get("spanId")}
                                            for l in sp.get("links", [])]})
    return spans


def run_through_llmtap(args, workdir, tag, sim_addr, ca, api, stream, otlp, agent_names_file=None, chained=False,
                       script="agents_sdk_e2e.mjs"):
    """Runs the workflow through a fresh llmtap proxy exporting jsonl and OTLP/JSON to OTLP.
    Returns (sdk_result, jsonl_spans, otlp_spans, logs_and_exports_text)."""
    data_dir = os.path.join(workdir, f"data-{tag}")
    os.makedirs(data_dir, exist_ok=True)
    export = os.path.join(workdir, f"llmtap-{tag}.jsonl")
    env = clean_env(os.environ)
    env.update({"LLMTAP_DATA_DIR": data_dir, "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
    # Traces close on SIGTERM; a long idle timeout keeps a slow machine from splitting a run.
    cmd = [args.llmtap, "proxy", "--listen", "127.0.0.1:0", "--upstream", f"openai=https://{sim_addr}",
           "--upstream-ca", ca, "--export", f"jsonl={export}", "--export", "otlp", "--trace-idle-ms", "600000",
           "--no-collector"]
    if agent_names_file:
        cmd += ["--agent-names", agent_names_file]
    log_path = os.path.join(workdir, f"llmtap-{tag}.log")
    proc, addr = start_process_with_banner(cmd, env, log_path, "llmtap proxy")
    banner = llmtap_proxy.read_credential(proc.stdout, addr)
    try:
        # A chained run's seed response is made directly at the provider: llmtap never sees the
        # history the first previous_response_id points to, as when it starts mid-conversation.
        seed = ({"NODE_EXTRA_CA_CERTS": ca}, f"https://{sim_addr}/v1") if chained else ({}, None)
        sdk = run_node(workdir, f"sdk-{tag}.json", banner.gateway_base + "/openai/v1", seed[0], api, stream, seed[1],
                       script)
    finally:
        rc = stop_with_sigterm(proc)
        if rc is None:
            raise SystemExit("llmtap proxy did not exit within 20 s of SIGTERM")
    if rc != 0:
        raise SystemExit(f"llmtap proxy exited {rc} after SIGTERM; see {log_path}")
    spans = []
    with open(export) as f:
        for line in f:
            if line.strip():
                spans.append(json.loads(line))
    with open(log_path, errors="replace") as f:
        logs = f.read()
    with open(export, errors="replace") as f:
        logs += f.read()
    bodies = otlp.take()  # llmtap delivers or spools everything before exiting 0
    logs += b"".join(bodies).decode(errors="replace")
    # Every request carried the credential in its /t/ segment; none of it may be logged or exported.
    if banner.credential in logs:
        raise SystemExit(f"{tag}: the proxy credential appears in llmtap's logs or export; see {log_path}")
    return sdk, spans, otlp_to_spans(bodies), logs


def sdk_spans_by_trace(sdk):
    by = {}
    for s in sdk["spans"]:
        by.setdefault(s["trace_id"], []).append(s)
    return by


def sdk_agent_of(span, by_id):
    """Name of the SDK agent span enclosing SPAN (response/function spans sit under turn spans)."""
    p = by_id.get(span.get("parent_id"))
    while p is not None:
        if p["span_data"].get("type") == "agent":
            return p["span_data"].get("name")
        p = by_id.get(p.get("parent_id"))
    return None


def by_id_data(span):
    """The custom data of an SDK custom span (e.g. a turn), or {}."""
    if not span or span["span_data"].get("type") != "custom":
        return {}
    return span["span_data"].get("data") or {}


def sdk_model_call_id(span):
    d = span["span_data"]
    if d.get("type") == "response":
        return d.get("response_id")
    out = d.get("output") or []
    if out and isinstance(out[0], dict):
        return out[0].get("id")
    return None


def first_generation_input(trace_spans):
    gens = sorted((s for s in trace_spans if s["kind"] == "generation"), key=lambda s: s["start_time_unix_nano"])
    return str(gens[0]["attributes"].get("gen_ai.input.messages", "")) if gens else ""


def same_json(a, b):
    try:
        return json.loads(a) == json.loads(b)
    except (TypeError, ValueError):
        return a == b


class Margins:
    """Bracketing margins in ms: positive means llmtap's span encloses the SDK's."""

    def __init__(self):
        self.start_ms, self.end_ms, self.hr_start_ms, self.hr_end_ms = [], [], [], []

    def add(self, sdk_span, lt_span):
        s_ns, e_ns = iso_ms_to_ns(sdk_span["started_at"]), iso_ms_to_ns(sdk_span["ended_at"])
        self.start_ms.append((s_ns - lt_span["start_time_unix_nano"]) / 1e6)
        self.end_ms.append((lt_span["end_time_unix_nano"] - e_ns) / 1e6)
        if sdk_span.get("hr_started_ns") and sdk_span.get("hr_ended_ns"):
            self.hr_start_ms.append((sdk_span["hr_started_ns"] - lt_span["start_time_unix_nano"]) / 1e6)
            self.hr_end_ms.append((lt_span["end_time_unix_nano"] - sdk_span["hr_ended_ns"]) / 1e6)

    @staticmethod
    def fmt(xs):
        if not xs:
            return "n=0"
        return f"n={len(xs)} min={min(xs):.3f} median={statistics.median(xs):.3f} max={max(xs):.3f} ms"

    def report(self, label):
        print(f"  {label} start margin (SDK start[ms floor] - llmtap start): {self.fmt(self.start_ms)}")
        print(f"  {label} end margin   (llmtap end - SDK end[ms floor]):     {self.fmt(self.end_ms)}")
        print(f"  {label} start margin, sub-ms SDK clock (processor callback): {self.fmt(self.hr_start_ms)}")
        print(f"  {label} end margin,   sub-ms SDK clock (processor callback): {self.fmt(self.hr_end_ms)}")


def check_brackets(fail, where, sdk_span, lt_span):
    """llmtap span starts no later and ends no earlier than the SDK span, at the SDK's ms resolution."""
    s_floor, e_floor = iso_ms_to_ns(sdk_span["started_at"]), iso_ms_to_ns(sdk_span["ended_at"])
    lt_s, lt_e = lt_span["start_time_unix_nano"], lt_span["end_time_unix_nano"]
    fail.check(lt_s <= s_floor + 1_000_000,
               f"{where}: llmtap span starts {(lt_s - s_floor) / 1e6:.3f} ms after the SDK's "
               f"{sdk_span['started_at']} (more than its 1 ms resolution)")
    fail.check(lt_e >= e_floor,
               f"{where}: llmtap span ends {(e_floor - lt_e) / 1e6:.3f} ms before the SDK's {sdk_span['ended_at']}")


def compare(fail, label, direct, sdk, spans, first_agent_exact, margins, hmargins, gmargins, derived_names):
    """All checks of one llmtap pass. Returns nothing; failures go to FAIL."""
    # Outputs with and without llmtap.
    d_out = {r["input"]: (r["finalOutput"], r["lastAgent"]) for r in direct["runs"]}
    for r in sdk["runs"]:
        fail.check(d_out.get(r["input"]) == (r["finalOutput"], r["lastAgent"]),
                   f"{label}: run {r['input']!r} differs through llmtap: {(r['finalOutput'], r['lastAgent'])!r} "
                   f"vs direct {d_out.get(r['input'])!r}")
        fail.check(bool(r["finalOutput"]), f"{label}: run {r['input']!r} has no final output")

    # Secrets.
    fail.check(API_KEY not in spans_text(spans), f"{label}: the API key appears in llmtap's export")

    # One llmtap trace per run.
    lt_traces = {}
    for s in spans:
        lt_traces.setdefault(s["trace_id"], []).append(s)
    fail.check(len(lt_traces) == len(sdk["runs"]),
               f"{label}: {len(lt_traces)} llmtap traces for {len(sdk['runs'])} SDK runs")
    run_trace = {}
    for tid, ts in lt_traces.items():
        first_input = first_generation_input(ts)
        hits = [r["input"] for r in sdk["runs"] if r["input"] in first_input]
        if fail.check(len(hits) == 1, f"{label}: llmtap trace {tid} matches {len(hits)} runs by user text"):
            fail.check(hits[0] not in run_trace, f"{label}: two llmtap traces for run {hits[0]!r}")
            run_trace[hits[0]] = ts

    sdk_by_trace = sdk_spans_by_trace(sdk)
    sdk_by_id = {s["id"]: s for s in sdk["spans"]}
    for r in sdk["runs"]:
        where = f"{label} run {r['input']!r}"
        lt = run_trace.get(r["input"])
        if not fail.check(lt is not None, f"{where}: no llmtap trace"):
            continue
        ss = sdk_by_trace.get(r["sdkTraceId"], [])
        by_start = lambda xs, key: sorted(xs, key=key)
        lt_by_id = {s["span_id"]: s for s in lt}
        roots = [s for s in lt if not s["parent_span_id"]]
        fail.check(len(roots) == 1 and roots[0]["kind"] == "workflow",
                   f"{where}: llmtap roots {[(s['kind'], s['name']) for s in roots]}, want one workflow")

        # Agents.
        sdk_agents = [s["span_data"]["name"] for s in by_start(
            [s for s in ss if s["span_data"].get("type") == "agent"], lambda s: s["hr_started_ns"])]
        lt_agents = [s["attributes"].get("gen_ai.agent.name") for s in by_start(
            [s for s in lt if s["kind"] == "agent"], lambda s: s["start_time_unix_nano"])]
        if fail.check(len(sdk_agents) == len(lt_agents),
                      f"{where}: agent spans SDK {sdk_agents} vs llmtap {lt_agents}"):
            for i, (a, b) in enumerate(zip(sdk_agents, lt_agents)):
                if i == 0 and not first_agent_exact:
                    fail.check(bool(b), f"{where}: first llmtap agent has no name")
                    derived_names.add(b)
                else:
                    fail.check(a == b, f"{where}: agent #{i} named {b!r} by llmtap, {a!r} by the SDK")

        def lt_agent_of(s):
            p = lt_by_id.get(s["parent_span_id"])
            return p["attributes"].get("gen_ai.agent.name") if p and p["kind"] == "agent" else None

        def agent_seq_equal(sdk_name, lt_name, first_name_sdk):
            if sdk_name == first_name_sdk and not first_agent_exact:
                return lt_name == (lt_agents[0] if lt_agents else None)
            return sdk_name == lt_name

        first_sdk = sdk_agents[0] if sdk_agents else None

        # Generations: one per SDK model call, same ids, usage > 0, under the same agent.
        sdk_gens = by_start([s for s in ss if s["span_data"].get("type") in ("response", "generation")],
                            lambda s: s["hr_started_ns"])
        lt_gens = by_start([s for s in lt if s["kind"] == "generation"], lambda s: s["start_time_unix_nano"])
        fail.check(len(sdk_gens) == len(lt_gens),
                   f"{where}: {len(lt_gens)} llmtap generations for {len(sdk_gens)} SDK model calls")
        sdk_ids = [sdk_model_call_id(s) for s in sdk_gens]
        lt_ids = [s["attributes"].get("gen_ai.response.id") for s in lt_gens]
        fail.check(all(sdk_ids), f"{where}: the SDK recorded no response id for some model call: {sdk_ids}")
        fail.check(sorted(map(str, sdk_ids)) == sorted(map(str, lt_ids)),
                   f"{where}: response ids SDK {sdk_ids} vs llmtap {lt_ids}")
        for g in lt_gens:
            a = g["attributes"]
            fail.check(a.get("gen_ai.request.stream") == sdk["stream"],
                       f"{where}: generation {a.get('gen_ai.response.id')} gen_ai.request.stream="
                       f"{a.get('gen_ai.request.stream')!r}, the SDK streamed: {sdk['stream']}")
            fail.check(int(a.get("gen_ai.usage.input_tokens", 0)) > 0 and int(a.get("gen_ai.usage.output_tokens", 0)) > 0,
                       f"{where}: generation {a.get('gen_ai.response.id')} usage in={a.get('gen_ai.usage.input_tokens')} "
                       f"out={a.get('gen_ai.usage.output_tokens')}")
        lt_gen_by_id = {s["attributes"].get("gen_ai.response.id"): s for s in lt_gens}
        for sg in sdk_gens:
            lg = lt_gen_by_id.get(sdk_model_call_id(sg))
            if lg is None:
                continue
            gmargins.add(sg, lg)
            # The SDK's turn span (the model call's parent) holds the usage the SDK read.
            turn = by_id_data(sdk_by_id.get(sg.get("parent_id")))
            u, a = turn.get("usage") or {}, lg["attributes"]
            if fail.check(bool(u), f"{where}: no SDK usage for {sdk_model_call_id(sg)}"):
                got = (a.get("gen_ai.usage.input_tokens"), a.get("gen_ai.usage.output_tokens"),
                       a.get("gen_ai.usage.cache_read.input_tokens", 0))
                want = (u.get("input_tokens"), u.get("output_tokens"), u.get("cached_input_tokens", 0))
                fail.check(got == want, f"{where}: usage (in, out, cached) {got} in llmtap, {want} in the SDK "
                                        f"for {sdk_model_call_id(sg)}")
            fail.check(float(a.get("llm.cost.total", 0)) > 0,
                       f"{where}: generation {sdk_model_call_id(sg)} has no cost ({a.get('llm.cost.total')!r})")
            fail.check(agent_seq_equal(sdk_agent_of(sg, sdk_by_id), lt_agent_of(lg), first_sdk),
                       f"{where}: generation {sdk_model_call_id(sg)} under {lt_agent_of(lg)!r} in llmtap, "
                       f"{sdk_agent_of(sg, sdk_by_id)!r} in the SDK")

        # Tools: in order, same name, arguments, result; llmtap's span brackets the SDK's.
        sdk_fns = by_start([s for s in ss if s["span_data"].get("type") == "function"], lambda s: s["hr_started_ns"])
        lt_tools = by_start([s for s in lt if s["kind"] == "tool"], lambda s: s["start_time_unix_nano"])
        fail.check(len(sdk_fns) == len(lt_tools),
                   f"{where}: {len(lt_tools)} llmtap tool spans for {len(sdk_fns)} SDK function spans "
                   f"({[s['span_data']['name'] for s in sdk_fns]} vs {[s['attributes'].get('gen_ai.tool.name') for s in lt_tools]})")
        for i, (sf, lt_t) in enumerate(zip(sdk_fns, lt_tools)):
            d, a = sf["span_data"], lt_t["attributes"]
            w = f"{where} tool #{i} {d['name']}"
            fail.check(a.get("gen_ai.tool.name") == d["name"], f"{w}: llmtap tool named {a.get('gen_ai.tool.name')!r}")
            fail.check(bool(a.get("gen_ai.tool.call.id")), f"{w}: llmtap tool span has no call id")
            fail.check(same_json(a.get("gen_ai.tool.call.arguments"), d.get("input")),
                       f"{w}: arguments {a.get('gen_ai.tool.call.arguments')!r} vs SDK {d.get('input')!r}")
            fail.check(same_json(a.get("gen_ai.tool.call.result"), d.get("output")),
                       f"{w}: result {a.get('gen_ai.tool.call.result')!r} vs SDK {d.get('output')!r}")
            fail.check(agent_seq_equal(sdk_agent_of(sf, sdk_by_id), lt_agent_of(lt_t), first_sdk),
                       f"{w}: under {lt_agent_of(lt_t)!r} in llmtap, {sdk_agent_of(sf, sdk_by_id)!r} in the SDK")
            check_brackets(fail, w, sf, lt_t)
            margins.add(sf, lt_t)

        # Handoffs: in order, same from/to; llmtap's span brackets the SDK's.
        sdk_hs = by_start([s for s in ss if s["span_data"].get("type") == "handoff"], lambda s: s["hr_started_ns"])
        lt_hs = by_start([s for s in lt if s["kind"] == "handoff"], lambda s: s["start_time_unix_nano"])
        sdk_pairs = [(s["span_data"].get("from_agent"), s["span_data"].get("to_agent")) for s in sdk_hs]
        lt_pairs = [(s["attributes"].get("llmtap.handoff.from_agent"), s["attributes"].get("llmtap.handoff.to_agent"))
                    for s in lt_hs]
        if fail.check(len(sdk_pairs) == len(lt_pairs), f"{where}: handoffs SDK {sdk_pairs} vs llmtap {lt_pairs}"):
            for i, ((sf, st), (lf, lt_to), sh, lh) in enumerate(zip(sdk_pairs, lt_pairs, sdk_hs, lt_hs)):
                w = f"{where} handoff #{i}"
                fail.check(agent_seq_equal(sf, lf, first_sdk), f"{w}: from {lf!r} in llmtap, {sf!r} in the SDK")
                fail.check(st == lt_to, f"{w}: to {lt_to!r} in llmtap, {st!r} in the SDK")
                check_brackets(fail, w, sh, lh)
                hmargins.add(sh, lh)

        # Parentage: every generation/tool/handoff hangs under an agent of its own trace.
        for s in lt:
            if s["kind"] in ("generation", "tool", "handoff"):
                p = lt_by_id.get(s["parent_span_id"])
                fail.check(p is not None and p["kind"] == "agent",
                           f"{where}: {s['kind']} {s['name']!r} is not under an agent span")


def run_canaries(fail, label, direct, sdk, spans, first_agent_exact):
    """The comparison must be able to fail: each mutation of llmtap's export must raise failures."""
    import copy

    def first(kind):
        return next(i for i, s in enumerate(spans) if s["kind"] == kind)

    def late_tool_start(sp):  # starts 2 ms after the SDK's function span (beyond the 1 ms resolution)
        sdk_fn = next(s for s in sdk["spans"] if s["span_data"].get("type") == "function")
        t = next(s for s in sp if s["kind"] == "tool" and
                 same_json(s["attributes"].get("gen_ai.tool.call.arguments"), sdk_fn["span_data"]["input"]))
        t["start_time_unix_nano"] = iso_ms_to_ns(sdk_fn["started_at"]) + 2_000_000

    def early_tool_end(sp):
        sdk_fn = next(s for s in sdk["spans"] if s["span_data"].get("type") == "function")
        t = next(s for s in sp if s["kind"] == "tool" and
                 same_json(s["attributes"].get("gen_ai.tool.call.arguments"), sdk_fn["span_data"]["input"]))
        t["end_time_unix_nano"] = iso_ms_to_ns(sdk_fn["ended_at"]) - 1

    mutations = {
        "tool span dropped": lambda sp: sp.pop(first("tool")),
        "handoff span dropped": lambda sp: sp.pop(first("handoff")),
        "generation dropped": lambda sp: sp.pop(first("generation")),
        "handoff target renamed": lambda sp: sp[first("handoff")]["attributes"].update(
            {"llmtap.handoff.to_agent": "Someone else"}),
        "tool renamed": lambda sp: sp[first("tool")]["attributes"].update({"gen_ai.tool.name": "other_tool"}),
        "usage off by one": lambda sp: sp[first("generation")]["attributes"].update(
            {"gen_ai.usage.input_tokens": sp[first("generation")]["attributes"]["gen_ai.usage.input_tokens"] + 1}),
        "zero usage": lambda sp: sp[first("generation")]["attributes"].update({"gen_ai.usage.output_tokens": 0}),
        "tool starts 2 ms late": late_tool_start,
        "tool ends 1 ns early": early_tool_end,
        "two runs merged": lambda sp: [s.update({"trace_id": sp[0]["trace_id"]}) for s in sp],
    }
    for name, mutate in mutations.items():
        sp = copy.deepcopy(spans)
        mutate(sp)
        probe = Failures(quiet=True)
        compare(probe, label, direct, sdk, sp, first_agent_exact, Margins(), Margins(), Margins(), set())
        fail.check(bool(probe.items), f"canary: the comparison did not notice: {name}")
    print(f"  canaries: {len(mutations)} mutations of llmtap's export, each must be caught", flush=True)


def close_harness(fail, otlp, sim, workdir, keep, verdict=True):
    """Stops the OTLP receiver and the sim, removes (or keeps) WORKDIR; with VERDICT prints it and
    returns the exit code FAIL gives."""
    if otlp is not None:
        otlp.close()
    if sim is not None:
        sim.terminate()
        sim.wait()
    if keep:
        print(f"work directory kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if not verdict:
        return 1
    if fail.items:
        print(f"{len(fail.items)} FAILED checks")
        return 1
    print("PASS")
    return 0


def spans_text(spans):
    return json.dumps(spans)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llmtap", required=True)
    ap.add_argument("--node-modules", default=os.path.join(ROOT, "tests", "node", "node_modules"))
    ap.add_argument("--configs", default="responses:0,responses:1,chat:0,chat:1,responses-chained:0,responses-chained:1",
                    help="API:STREAM list; responses-chained = Responses with previousResponseId (deltas only)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory and print its path")
    args = ap.parse_args()

    nm = os.path.abspath(args.node_modules)
    if not os.path.isfile(os.path.join(nm, "@openai", "agents", "package.json")):
        print(f"SKIP: {nm} has no @openai/agents; run scripts/setup (npm ci in tests/node)")
        return SKIP
    if shutil.which("node") is None:
        print("FAIL: node_modules is installed but `node` is not on PATH")
        return 1
    if not os.access(args.llmtap, os.X_OK):
        print(f"FAIL: {args.llmtap} is not an executable")
        return 1

    workdir = tempfile.mkdtemp(prefix="llmtap-e2e-")
    fail = Failures()
    sim = otlp = None
    try:
        subprocess.run(["bash", MAKE_CA, workdir], check=True)
        ca = os.path.join(workdir, "ca.pem")
        copy_node_script(NODE_SCRIPT, workdir)
        os.symlink(nm, os.path.join(workdir, "node_modules"))  # ESM resolves packages from the script's dir
        names_file = os.path.join(workdir, "agent-names.json")
        with open(names_file, "w") as f:
            json.dump(AGENT_NAMES, f)
        sim, sim_addr = start_process_with_banner(
            [sys.executable, SIM, "--cert", os.path.join(workdir, "server.pem"),
             "--key", os.path.join(workdir, "server.key")],
            clean_env(os.environ), os.path.join(workdir, "sim.log"), "simulated provider")

        kinds_of_margins = ("tool", "handoff", "generation")
        totals = {k: Margins() for k in kinds_of_margins}
        derived_names = set()
        canary_done = False
        print(f"load average: {os.getloadavg()}", flush=True)
        otlp = OtlpReceiver()
        for cfg in args.configs.split(","):
            cfg_name, stream = cfg.split(":")
            stream = stream == "1"
            chained = cfg_name == "responses-chained"
            api = "responses" if chained else cfg_name
            label = f"{cfg_name}{' stream' if stream else ''}"
            print(f"== {label}", flush=True)
            direct = run_node(workdir, f"direct-{cfg_name}-{int(stream)}.json", f"https://{sim_addr}/v1",
                              {"NODE_EXTRA_CA_CERTS": ca}, api, stream, f"https://{sim_addr}/v1" if chained else None)
            passes = [("default names", None)]
            if cfg_name == "responses" and not stream:
                passes.append(("--agent-names", names_file))
            for pname, nf in passes:
                tag = f"{cfg_name}-{int(stream)}-{'names' if nf else 'default'}"
                sdk, spans, otlp_spans, logs = run_through_llmtap(args, workdir, tag, sim_addr, ca, api, stream,
                                                                  otlp, nf, chained)
                fail.check(API_KEY not in logs, f"{label}: the API key appears in llmtap's logs or export")
                ms = {k: Margins() for k in kinds_of_margins}
                before = len(fail.items)
                compare(fail, f"{label} [{pname}]", direct, sdk, spans, nf is not None,
                        ms["tool"], ms["handoff"], ms["generation"], derived_names)
                if chained:  # the scenario is what it claims: later calls send only new items
                    for r in sdk["runs"]:
                        gens = sorted((x for x in spans if x["kind"] == "generation" and
                                       r["input"] in first_generation_input([y for y in spans if y["trace_id"] == x["trace_id"]])),
                                      key=lambda x: x["start_time_unix_nano"])
                        fail.check(len(gens) > 1 and all(not any(m.get("role") == "user" for m in json.loads(
                            g["attributes"].get("gen_ai.input.messages") or "[]")) for g in gens[1:]),
                                   f"{label}: run {r['input']!r} did not send deltas only after its first call")
                # The OTLP export carries the same spans; the whole comparison runs on it too.
                key = lambda sp: sorted((x["span_id"], x["trace_id"], x["parent_span_id"] or "", x["name"], x["kind"],
                                         x["start_time_unix_nano"], x["end_time_unix_nano"]) for x in sp)
                fail.check(key(otlp_spans) == key(spans),
                           f"{label} [{pname}]: OTLP export ({len(otlp_spans)} spans) differs from jsonl ({len(spans)})")
                compare(fail, f"{label} [{pname}] (OTLP)", direct, sdk, otlp_spans, nf is not None,
                        Margins(), Margins(), Margins(), derived_names)
                kinds = {}
                for s in spans:
                    kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
                print(f"  [{pname}] llmtap spans by kind: {dict(sorted(kinds.items()))}; "
                      f"{len(fail.items) - before} failures")
                for k in kinds_of_margins:
                    ms[k].report(f"{k:10}")
                    for f_ in ("start_ms", "end_ms", "hr_start_ms", "hr_end_ms"):
                        getattr(totals[k], f_).extend(getattr(ms[k], f_))
                if not canary_done and len(fail.items) == before:
                    canary_done = True
                    run_canaries(fail, label, direct, sdk, spans, nf is not None)
        print("== all configurations (tool/handoff: positive = llmtap's span encloses the SDK's; "
              "generation: negative = the wire's span lies inside the SDK's model-call span)")
        for k in kinds_of_margins:
            totals[k].report(f"{k:10}")
        print(f"  first agent's name as llmtap derives it without --agent-names: {sorted(derived_names)} "
              f"(SDK: 'Triage agent'; the SDK's name is not on the wire)")
        fail.check(len(derived_names) <= 1, f"first agent named inconsistently across runs: {sorted(derived_names)}")
        print(f"load average: {os.getloadavg()}")
    except BaseException:
        close_harness(fail, otlp, sim, workdir, args.keep, verdict=False)
        raise
    return close_harness(fail, otlp, sim, workdir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
