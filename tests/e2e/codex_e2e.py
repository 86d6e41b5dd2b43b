#!/usr/bin/env python3
"""End-to-end: OpenAI's Codex CLI (`codex exec`, a static Rust binary with rustls) through llmtap,
against the simulated provider over TLS, scored against the provider's log and Codex's own telemetry.

Codex is configured (a CODEX_HOME per run) with one custom Responses provider, `wire_api =
"responses"`, `supports_websockets = true` (false for the control run), an API key from an env var,
approval `never`, sandbox `workspace-write`, and its OpenTelemetry logs and traces sent to a loopback
receiver. The sim's brain makes Codex run one shell command (`echo ...`) and then answer with text
quoting the output: 2 model calls per `codex exec` (plus the WebSocket prewarm, `generate: false`,
which is not a model call). Runs, one after another, in the same work directory:

  direct    Codex -> sim (base_url https://127.0.0.1:SIM/v1, CODEX_CA_CERTIFICATE = the test CA)
  run-ws    `llmtap run` (auto mode) -- codex exec; Codex's base_url is https://api.openai.com/v1,
            reached through the HTTPS_PROXY and trust variables llmtap run sets; --upstream maps
            openai to the sim (verified with --upstream-ca)
  proxy-ws  `llmtap proxy` + HTTPS_PROXY=http://llmtap:CREDENTIAL@ADDR (the credential read from the
            file its banner names) + SSL_CERT_FILE=`llmtap ca bundle-path`, WebSocket on
  proxy-sse the same proxy, WebSocket off (HTTPS POST + SSE): the control run
  proxy-ws-frag  a second sim and proxy: no context takeover, server messages split into 700-byte
            frames with pings between them

Checked for each llmtap run (every check is named; the summary lists which passed):
  transport  Codex used the WebSocket (sim log: a 101 upgrade, response.create messages, no POST to
             .../responses; Codex reported no fallback), or POST + SSE only for the control run;
  output     Codex's final message and command results equal the direct run's (Codex's own volatile
             "Chunk ID"/"Wall time" lines in the tool output masked);
  one-trace  each codex exec is exactly one llmtap trace, and the export has no other trace;
  generations every model call (sim response with generate not false) is one generation with its
             response id, and no other generation exists;
  usage      input/output/cached/reasoning tokens equal the sim's usage and Codex's own counts;
  cost       llm.cost.total > 0 on every generation;
  tool-ids   tool spans carry exactly Codex's call ids (its codex.tool_decision events) and names;
  brackets   each tool span starts no later and ends no earlier than Codex's own tool span;
  no-key     the API key (and the proxy's credential) appears in no llmtap export or log;
  ws-equals-sse  the proxy-ws trace equals the proxy-sse trace (and run-ws's, proxy-ws-frag's): same
             generations in order (model, usage, cost), same tools in order, each carrying its own
             run's Codex call id (the sim's call ids are unique per response, as a real provider's).

Usage: codex_e2e.py --llmtap BIN --node-modules DIR [--keep] [--only-checks]
Exit 77 (ctest SKIP_RETURN_CODE) when DIR lacks @openai/codex's platform binary (run scripts/setup).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "support"))
from agents_sdk_e2e import OtlpReceiver, clean_env, stop_with_sigterm  # noqa: E402
from e2e_common import (Checks, Llmtap, attrs, client_test_args, drain_telemetry, finish, make_ca,  # noqa: E402
                        missing_tools, otlp_items, run_client, start_sim)

SKIP = 77
API_KEY = "sk-codex-e2e-DO-NOT-LEAK-41c9d2"
MODEL = "gpt-5.1-codex"
PROMPT = "Please run `echo llmtap-codex-e2e` in the shell and tell me what it printed."
CODEX_TIMEOUT_S = 90


def find_codex(node_modules):
    """The platform binary shipped in the registry package (@openai/codex-<platform>)."""
    hits = sorted(glob.glob(os.path.join(node_modules, "@openai", "codex-*", "vendor", "*", "bin", "codex")))
    return next((os.path.abspath(h) for h in hits if os.access(h, os.X_OK)), None)


def codex_config(base_url, websockets, otel_endpoint):
    return f'''model = "{MODEL}"
model_provider = "e2e"
approval_policy = "never"
sandbox_mode = "workspace-write"

[model_providers.e2e]
name = "llmtap e2e provider"
base_url = "{base_url}"
wire_api = "responses"
env_key = "E2E_CODEX_API_KEY"
supports_websockets = {"true" if websockets else "false"}
# One attempt: a broken WebSocket falls back to HTTPS at once instead of after minutes of retries
# (the transport check still sees it).
request_max_retries = 0
stream_max_retries = 0

[otel]
environment = "e2e"
log_user_prompt = false
exporter = {{ otlp-http = {{ endpoint = "{otel_endpoint}/v1/logs", protocol = "json" }} }}
trace_exporter = {{ otlp-http = {{ endpoint = "{otel_endpoint}/v1/traces", protocol = "json" }} }}
'''


def codex_env(tmp, base_url, websockets, telemetry, extra):
    # One CODEX_HOME path, made afresh for each run: its path is in Codex's instructions (the skills
    # root), so every run sends the same context and the sim answers with the same call ids.
    home = os.path.join(tmp, "codex-home")
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    with open(os.path.join(home, "config.toml"), "w") as f:
        f.write(codex_config(base_url, websockets, telemetry.endpoint))
    env = {k: v for k, v in clean_env(os.environ).items()
           if not k.startswith(("CODEX_", "SSL_CERT", "NO_PROXY", "no_proxy", "REQUESTS_CA", "CURL_CA"))}
    user_home = os.path.join(tmp, "home")
    os.makedirs(user_home, exist_ok=True)
    env.update({"CODEX_HOME": home, "HOME": user_home, "E2E_CODEX_API_KEY": API_KEY,
                # Codex's own telemetry goes to the loopback receiver, never through a proxy.
                "NO_PROXY": "127.0.0.1,localhost"})
    env.update(extra)
    return env


def telemetry_of(bodies):
    """Codex's OTLP logs and traces -> {'tool_decisions': [...], 'usage': [...], 'tool_spans': {...},
    'ws_connects': n, 'trace_ids': set}."""
    out = {"tool_decisions": [], "usage": [], "tool_spans": {}, "ws_connects": 0, "trace_ids": set(),
           "events": []}
    for kind, a, item, _ in otlp_items(bodies):
        if kind == "log":
            name = a.get("event.name")
            out["events"].append(name)
            if name == "codex.tool_decision":
                out["tool_decisions"].append((a.get("tool_name"), a.get("call_id")))
            elif name == "codex.sse_event" and a.get("input_token_count") is not None:
                out["usage"].append(tuple(int(a.get(k) or 0) for k in (
                    "input_token_count", "output_token_count", "cached_token_count", "reasoning_token_count")))
            elif name == "codex.websocket_connect" and str(a.get("success")) == "true":
                out["ws_connects"] += 1
            continue
        if item["name"] == "codex.exec":
            out["trace_ids"].add(item["traceId"])
        # The span of the tool's dispatch: from the call being handed to the tool runtime to its
        # output being ready.
        if a.get("call_id") and a.get("codex.tool.phase") == "dispatch":
            out["tool_spans"][a["call_id"]] = (int(item["startTimeUnixNano"]), int(item["endTimeUnixNano"]),
                                               item["name"])
    return out


def run_codex(tmp, tag, workdir, env, cmd_prefix, telemetry):
    """Runs one `codex exec`; returns a dict of what Codex printed and reported."""
    codex = env.pop("_CODEX_BIN")
    cmd = cmd_prefix + [codex, "exec", "--skip-git-repo-check", "--json", PROMPT]
    r, took = run_client(cmd, workdir, env, CODEX_TIMEOUT_S, os.path.join(tmp, f"codex-{tag}"))
    events = []
    for line in r.stdout.decode(errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    # Codex flushes its telemetry before exiting; wait until the receiver has been quiet a moment.
    bodies = drain_telemetry(telemetry)
    items = [e["item"] for e in events if e.get("type") == "item.completed"]
    return {
        "rc": r.returncode, "seconds": took, "stderr": r.stderr.decode(errors="replace"),
        "messages": [i.get("text", "") for i in items if i.get("type") == "agent_message"],
        "commands": [(i.get("command"), i.get("exit_code"), i.get("aggregated_output")) for i in items
                     if i.get("type") == "command_execution"],
        "errors": [i.get("message", "") for i in items if i.get("type") == "error"] +
                  [e.get("message", "") for e in events if e.get("type") == "error"],
        "completed": any(e.get("type") == "turn.completed" for e in events),
        "telemetry": telemetry_of(bodies),
    }


def masked(text):
    """Codex's own per-run values in a tool's output (it prints them, the model quotes them)."""
    text = re.sub(r"Chunk ID: \w+", "Chunk ID: *", text or "")
    return re.sub(r"Wall time: [0-9.]+ seconds", "Wall time: * seconds", text)


def model_calls(entries):
    """The sim's model calls (a prewarm is not one), in order."""
    return [e for e in entries if e.get("status") == 200 and e.get("response_id") and e.get("generate", True)]


def check_transport(c, run, codex, entries, websocket):
    responses_posts = [e for e in entries if e.get("transport") == "http" and e.get("method") == "POST"
                       and e.get("path", "").endswith("/responses")]
    upgrades = [e for e in entries if e.get("event") == "upgrade"]
    creates = [e for e in entries if e.get("type") == "response.create"]
    fallback = [m for m in codex["errors"] if "Falling back" in m or "Reconnecting" in m]
    if websocket:
        opened = [u for u in upgrades if u.get("status") == 101]
        c.check(run, "transport", len(opened) == 1,
                f"{len(opened)} WebSocket connections reached the provider (want 1; upgrades: {upgrades})")
        # The scenario the capture must handle: a prewarm, then calls chained on it.
        c.check(run, "transport", [e.get("generate") for e in creates][:1] == [False] and
                all(e.get("previous_response_id") for e in creates[1:]),
                f"not a prewarm then chained calls: {[(e.get('generate'), e.get('previous_response_id')) for e in creates]}")
        c.check(run, "transport", creates and all(e.get("status") == 200 for e in creates),
                f"response.create messages: {[(e.get('generate'), e.get('status')) for e in creates]}")
        c.check(run, "transport", not responses_posts,
                f"{len(responses_posts)} fallback POST(s) to .../responses reached the provider")
        c.check(run, "transport", not fallback, f"Codex reported: {fallback[:3]}")
        c.check(run, "transport", codex["telemetry"]["ws_connects"] >= 1,
                "Codex's telemetry has no successful codex.websocket_connect")
    else:
        c.check(run, "transport", not upgrades, f"{len(upgrades)} WebSocket upgrade(s) with websockets off")
        c.check(run, "transport", responses_posts and all(e.get("stream") for e in responses_posts),
                "no streamed POST to .../responses")
    # Besides model calls Codex posts only its turn-cost analytics (the sim accepts and drops them).
    other = [e for e in entries if not e.get("telemetry") and (
        e.get("status") not in (101, 200, None) or
        (e.get("transport") == "http" and not e.get("path", "").endswith("/responses")))]
    c.check(run, "transport", not other, f"unexpected requests at the provider: {other[:3]}")


def check_output(c, run, codex, direct):
    c.check(run, "output", codex["rc"] == 0 and codex["completed"],
            f"codex exec rc {codex['rc']}, turn completed {codex['completed']}; stderr tail: "
            f"{codex['stderr'][-400:]!r}")
    c.check(run, "output", [masked(m) for m in codex["messages"]] == [masked(m) for m in direct["messages"]],
            f"final messages differ from the direct run's: {codex['messages']!r} vs {direct['messages']!r}")
    c.check(run, "output", [(a, b, masked(o)) for a, b, o in codex["commands"]] ==
            [(a, b, masked(o)) for a, b, o in direct["commands"]],
            f"command results differ: {codex['commands']!r} vs {direct['commands']!r}")


def trace_summary(spans, codex_call_ids):
    """What two runs' traces must share: generations in order (model, usage, cost) and tools in order
    (name, which of the run's own Codex calls it is: call ids are unique per response)."""
    gens = sorted((s for s in spans if s.get("kind") == "generation"), key=lambda s: s["start_time_unix_nano"])
    tools = sorted((s for s in spans if s.get("kind") == "tool"), key=lambda s: s["start_time_unix_nano"])
    return {
        "generations": [(attrs(g).get("gen_ai.request.model"), attrs(g).get("gen_ai.usage.input_tokens"),
                         attrs(g).get("gen_ai.usage.output_tokens"),
                         attrs(g).get("gen_ai.usage.cache_read.input_tokens"),
                         attrs(g).get("gen_ai.usage.reasoning.output_tokens"), attrs(g).get("llm.cost.total"))
                        for g in gens],
        "tools": [(attrs(t).get("gen_ai.tool.name"),
                   codex_call_ids.index(attrs(t).get("gen_ai.tool.call.id"))
                   if attrs(t).get("gen_ai.tool.call.id") in codex_call_ids else None) for t in tools],
    }


def check_trace(c, run, codex, calls, spans, all_call_ids):
    """The llmtap trace of one codex exec. SPANS: the whole export of its llmtap; CALLS: this run's
    model calls in the sim log; ALL_CALL_IDS: the response ids of every run through that llmtap."""
    by_rid = {}
    for s in spans:
        if s.get("kind") == "generation":
            by_rid.setdefault(attrs(s).get("gen_ai.response.id"), []).append(s)
    rids = [e["response_id"] for e in calls]
    c.check(run, "generations", calls, "the provider saw no model call")
    for rid in rids:
        c.check(run, "generations", len(by_rid.get(rid, [])) == 1,
                f"response {rid}: {len(by_rid.get(rid, []))} generation spans (want 1)")
    stray = {k: len(v) for k, v in by_rid.items() if k not in all_call_ids}
    c.check(run, "generations", not stray, f"generations that are no model call: {stray}")
    gens = [by_rid[r][0] for r in rids if len(by_rid.get(r, [])) == 1]
    traces = {g["trace_id"] for g in gens}
    c.check(run, "one-trace", len(traces) == 1, f"the run's generations are in {len(traces)} traces")
    trace = [s for s in spans if s["trace_id"] in traces]
    c.check(run, "one-trace", all(attrs(s).get("gen_ai.response.id") in rids
                                  for s in trace if s.get("kind") == "generation"),
            "the run's trace holds a generation that is none of its model calls")
    # Usage: the sim's numbers, and Codex's own. A model call without its generation has neither.
    missing = [r for r in rids if len(by_rid.get(r, [])) != 1]
    c.check(run, "usage", not missing, f"no usage recorded for {len(missing)} of {len(rids)} model calls")
    c.check(run, "cost", not missing, f"no cost recorded for {len(missing)} of {len(rids)} model calls")
    for e, g in zip([e for e in calls if len(by_rid.get(e["response_id"], [])) == 1], gens):
        u = e["usage"]
        want = (u["input_tokens"], u["output_tokens"], u["input_tokens_details"]["cached_tokens"],
                u["output_tokens_details"]["reasoning_tokens"])
        got = tuple(attrs(g).get(k) for k in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
                                              "gen_ai.usage.cache_read.input_tokens",
                                              "gen_ai.usage.reasoning.output_tokens"))
        c.check(run, "usage", got == want, f"response {e['response_id']}: usage {got} != sim {want}")
        cost = attrs(g).get("llm.cost.total")
        c.check(run, "cost", isinstance(cost, (int, float)) and cost > 0, f"response {e['response_id']}: cost {cost!r}")
        c.check(run, "usage", attrs(g).get("gen_ai.request.model") == MODEL,
                f"model {attrs(g).get('gen_ai.request.model')!r}")
    codex_usage = [u for u in codex["telemetry"]["usage"] if any(u)]  # the prewarm reports zeros
    sim_usage = [(e["usage"]["input_tokens"], e["usage"]["output_tokens"],
                  e["usage"]["input_tokens_details"]["cached_tokens"],
                  e["usage"]["output_tokens_details"]["reasoning_tokens"]) for e in calls]
    c.check(run, "usage", codex_usage == sim_usage, f"Codex's own usage {codex_usage} != sim {sim_usage}")
    # Tools: Codex's call ids, and Codex's own timing bracketed.
    decisions = codex["telemetry"]["tool_decisions"]
    sim_ids = [cid for e in calls for cid in e.get("call_ids", [])]
    c.check(run, "tool-ids", decisions and [cid for _, cid in decisions] == sim_ids,
            f"Codex's tool calls {decisions} vs the provider's {sim_ids}")
    tools = sorted((s for s in trace if s.get("kind") == "tool"), key=lambda s: s["start_time_unix_nano"])
    got_tools = [(attrs(t).get("gen_ai.tool.name"), attrs(t).get("gen_ai.tool.call.id")) for t in tools]
    c.check(run, "tool-ids", got_tools == decisions, f"llmtap tool spans {got_tools} != Codex's {decisions}")
    margins = []
    for t in tools:
        cid = attrs(t).get("gen_ai.tool.call.id")
        own = codex["telemetry"]["tool_spans"].get(cid)
        if not c.check(run, "brackets", own is not None, f"Codex has no span for tool call {cid}"):
            continue
        s0, e0 = t["start_time_unix_nano"], t["end_time_unix_nano"]
        margins.append(((own[0] - s0) / 1e6, (e0 - own[1]) / 1e6))
        c.check(run, "brackets", s0 <= own[0], f"tool {cid} starts {(s0 - own[0]) / 1e6:.3f} ms after Codex's")
        c.check(run, "brackets", e0 >= own[1], f"tool {cid} ends {(own[1] - e0) / 1e6:.3f} ms before Codex's")
    if margins:
        print(f"  {run}: tool margins (start, end) ms: " + ", ".join(f"({a:.2f}, {b:.2f})" for a, b in margins))
    return trace


def through_proxy(c, args, tmp, tag, sim_addr, ca, sim_log, telemetry, workdir, codex_bin, direct, runs, plan):
    """Runs each (run, websocket) of PLAN through one `llmtap proxy` with HTTPS_PROXY and SSL_CERT_FILE
    = `llmtap ca bundle-path`; checks them and returns {run: its llmtap trace's spans}."""
    lt = Llmtap(args, tmp, tag, sim_addr, ca)
    # The credential from the file the banner names, in the proxy URL's userinfo, as a user sets it.
    proxy, banner = lt.start_proxy()
    try:
        bundle = subprocess.run([args.llmtap, "ca", "bundle-path"], env=lt.env, capture_output=True,
                                text=True, check=True).stdout.strip()
        proxy_env = {"HTTPS_PROXY": banner.proxy_url, "https_proxy": banner.proxy_url, "SSL_CERT_FILE": bundle}
        calls = {}
        for run, ws in plan:
            env = codex_env(tmp, "https://api.openai.com/v1", ws, telemetry, dict(proxy_env, _CODEX_BIN=codex_bin))
            runs[run] = run_codex(tmp, run, workdir, env, [], telemetry)
            entries = sim_log.since_mark()
            calls[run] = model_calls(entries)
            print(f"{run}: {runs[run]['seconds']:.1f} s, {len(calls[run])} model calls", flush=True)
            check_transport(c, run, runs[run], entries, ws)
            check_output(c, run, runs[run], direct)
    finally:
        rc = stop_with_sigterm(proxy)
    first = plan[0][0]
    c.check(first, "one-trace", rc == 0, f"llmtap proxy exited {rc} after SIGTERM")
    spans = lt.spans()
    all_ids = {e["response_id"] for cs in calls.values() for e in cs}
    traces = {}
    for run, _ in plan:
        traces[run] = check_trace(c, run, runs[run], calls[run], spans, all_ids)
        c.check(run, "no-key", API_KEY not in lt.text(), "the API key is in llmtap's export or log")
        c.check(run, "no-key", banner.credential not in lt.text(), "the proxy credential is in llmtap's export or log")
    n_traces = len({s["trace_id"] for s in spans})
    c.check(first, "one-trace", n_traces == len(plan), f"{len(plan)} codex execs through one proxy made {n_traces} traces")
    return traces


def main():
    args = client_test_args()
    codex_bin = find_codex(args.node_modules)
    if not codex_bin:
        print(f"SKIP: no @openai/codex platform binary under {args.node_modules} (run scripts/setup)")
        return SKIP
    if missing_tools("openssl"):
        print("SKIP: openssl not found")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="llmtap-codex-e2e-")
    c = Checks()
    procs = []
    telemetry = OtlpReceiver(paths=("/v1/logs", "/v1/traces"))
    try:
        ca = make_ca(tmp)
        sim, sim_addr, sim_log = start_sim(tmp, "sim")
        procs.append(sim)
        workdir = os.path.join(tmp, "work")
        os.makedirs(workdir)
        runs = {}

        # 1. Direct.
        env = codex_env(tmp, f"https://{sim_addr}/v1", True, telemetry,
                        {"CODEX_CA_CERTIFICATE": ca, "_CODEX_BIN": codex_bin})
        runs["direct"] = run_codex(tmp, "direct", workdir, env, [], telemetry)
        direct = runs["direct"]
        entries = sim_log.since_mark()
        check_transport(c, "direct", direct, entries, True)
        c.check("direct", "output", direct["rc"] == 0 and direct["messages"] and direct["commands"],
                f"direct codex exec: rc {direct['rc']}, messages {direct['messages']}, stderr "
                f"{direct['stderr'][-400:]!r}")
        c.check("direct", "output", direct["commands"] and direct["commands"][0][1] == 0 and
                "llmtap-codex-e2e" in (direct["commands"][0][2] or ""), f"the shell tool: {direct['commands']}")
        direct_calls = model_calls(entries)
        print(f"direct: {direct['seconds']:.1f} s, {len(direct_calls)} model calls", flush=True)
        if direct["rc"] != 0 or not direct_calls:
            raise SystemExit("the direct run failed; nothing to compare with")

        # 2. llmtap run, auto mode.
        lt_run = Llmtap(args, tmp, "run", sim_addr, ca)
        env = codex_env(tmp, "https://api.openai.com/v1", True, telemetry, {"_CODEX_BIN": codex_bin})
        env.update({k: v for k, v in lt_run.env.items() if k.startswith(("LLMTAP_", "OTEL_INSTRUMENTATION"))})
        runs["run-ws"] = run_codex(tmp, "run-ws", workdir, env, [args.llmtap, "run"] + lt_run.options + ["--"],
                                   telemetry)
        with open(lt_run.log_path, "w") as log:
            log.write(runs["run-ws"]["stderr"])  # llmtap run's mode line, logs and summary, with Codex's stderr
        mode_line = next((l for l in runs["run-ws"]["stderr"].splitlines() if "proxy" in l or "preload" in l), "")
        print(f"run-ws: {runs['run-ws']['seconds']:.1f} s; llmtap run said: {mode_line.strip()[:160]}", flush=True)
        entries = sim_log.since_mark()
        calls_run = model_calls(entries)
        check_transport(c, "run-ws", runs["run-ws"], entries, True)
        check_output(c, "run-ws", runs["run-ws"], direct)
        spans_run = lt_run.spans()
        trace_run = check_trace(c, "run-ws", runs["run-ws"], calls_run, spans_run,
                                {e["response_id"] for e in calls_run})
        c.check("run-ws", "one-trace", len({s["trace_id"] for s in spans_run}) == 1,
                f"llmtap run exported {len({s['trace_id'] for s in spans_run})} traces for one codex exec")
        c.check("run-ws", "no-key", API_KEY not in lt_run.text(), "the API key is in llmtap's export or log")

        # 3 and 4. llmtap proxy + HTTPS_PROXY: WebSocket, then POST + SSE.
        traces = through_proxy(c, args, tmp, "proxy", sim_addr, ca, sim_log, telemetry, workdir, codex_bin,
                               direct, runs, (("proxy-ws", True), ("proxy-sse", False)))
        # 5. WebSocket framing as a server may use it: no context takeover, server messages split
        # into frames, pings between them (a second sim, its own proxy).
        sim2, sim2_addr, sim2_log = start_sim(tmp, "sim2", ("--ws-deflate", "no-context", "--ws-fragment", "700",
                                                           "--ws-ping"))
        procs.append(sim2)
        traces.update(through_proxy(c, args, tmp, "proxy2", sim2_addr, ca, sim2_log, telemetry,
                                    workdir, codex_bin, direct, runs, (("proxy-ws-frag", True),)))

        # The WebSocket trace equals the HTTPS trace (and llmtap run's).
        def summary(run, spans):
            return trace_summary(spans, [cid for _, cid in runs[run]["telemetry"]["tool_decisions"]])
        ws_sum, sse_sum, run_sum = summary("proxy-ws", traces["proxy-ws"]), summary("proxy-sse", traces["proxy-sse"]), \
            summary("run-ws", trace_run)
        c.check("ws-equals-sse", "generations", ws_sum["generations"] and ws_sum["generations"] == sse_sum["generations"],
                f"generations over WebSocket {ws_sum['generations']} != over SSE {sse_sum['generations']}")
        c.check("ws-equals-sse", "tool-ids", ws_sum["tools"] and ws_sum["tools"] == sse_sum["tools"],
                f"tools over WebSocket {ws_sum['tools']} != over SSE {sse_sum['tools']}")
        c.check("ws-equals-sse", "generations", run_sum == ws_sum,
                f"llmtap run's trace {run_sum} != the proxy's WebSocket trace {ws_sum}")
        frag_sum = summary("proxy-ws-frag", traces["proxy-ws-frag"])
        c.check("ws-equals-sse", "generations", frag_sum == ws_sum,
                f"the fragmented/pinged WebSocket trace {frag_sum} != the plain one {ws_sum}")
    finally:
        code = finish("codex e2e", c, tmp, args.keep, telemetry, procs)
    return code


if __name__ == "__main__":
    sys.exit(main())
