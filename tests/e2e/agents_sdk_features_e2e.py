#!/usr/bin/env python3
"""End-to-end: Agents SDK features through `llmtap proxy` (issue 14 items 5 and 6).

agents_sdk_features_e2e.mjs drives the real OpenAI Agents SDK (JS) against the simulated provider
(over TLS, a throwaway CA), directly and through llmtap's gateway route with a short idle timeout
(--trace-idle-ms 1500), in three scenarios:
  * approvals: a `needsApproval` tool approved at once, rejected, and approved after a wait longer than
    the idle timeout (the trace closes while the human decides);
  * conversation: the Conversations API (`POST /v1/conversations`, then `conversationId` runs: the
    SDK sends only new items plus `conversation`), two turns at once and a third after the trace closed;
  * hosted: web search and a hosted MCP server (the sim emits web_search_call, mcp_list_tools and
    mcp_call items), streamed and not.
Checks (on the jsonl and on the OTLP export, spans of one id taken in their last version, as the
store keeps them): final outputs equal with and without llmtap; each SDK run is one llmtap trace; one
generation per model call in the sim's log, none for the Conversations API; approved tools complete
with their result and bracketing the SDK's function span, also the one resumed after the timeout (same
trace id, its tool span first emitted unanswered, then complete, the root re-emitted as part 2); the
rejected one ERROR with llmtap.tool.rejected; conversation turns joined, gen_ai.conversation.id = the
conversation, the late turn a new trace linked to the first; hosted tool spans with gen_ai.tool.type,
arguments, results and in the output messages; no API key in llmtap's logs or exports.

Usage: agents_sdk_features_e2e.py --llmtap BIN --node-modules DIR [--keep] [--scenarios approvals:0,...]
Exit 77 when DIR lacks @openai/agents.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agents_sdk_e2e as base  # noqa: E402  (the shared driver pieces: sim, CA, OTLP receiver, checks)

NODE_SCRIPT = os.path.join(HERE, "agents_sdk_features_e2e.mjs")
IDLE_MS = 1500
WAIT_MS = 4500  # > idle timeout + the 200 ms tick, with room for a loaded machine
REJECTED = "Tool execution was not approved."


def run_node(workdir, out_name, base_url, extra_env, scenario, stream, wait_ms):
    env = base.clean_env(os.environ)
    env.update(extra_env)
    env.update({"OPENAI_API_KEY": base.API_KEY, "OPENAI_BASE_URL": base_url, "E2E_SCENARIO": scenario,
                "E2E_STREAM": "1" if stream else "0", "E2E_WAIT_MS": str(wait_ms), "NO_PROXY": "127.0.0.1,localhost"})
    out = os.path.join(workdir, out_name)
    r = subprocess.run(["node", "agents_sdk_features_e2e.mjs", out], cwd=workdir, env=env, capture_output=True,
                       timeout=180)
    if r.returncode != 0:
        sys.stderr.write(r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace"))
        raise SystemExit(f"node {scenario} failed ({base_url}): rc {r.returncode}")
    with open(out) as f:
        return json.load(f)


def through_llmtap(args, workdir, tag, sim_addr, ca, scenario, stream, otlp):
    data_dir = os.path.join(workdir, f"data-{tag}")
    os.makedirs(data_dir, exist_ok=True)
    export = os.path.join(workdir, f"llmtap-{tag}.jsonl")
    env = base.clean_env(os.environ)
    env.update({"LLMTAP_DATA_DIR": data_dir, "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
    cmd = [args.llmtap, "proxy", "--listen", "127.0.0.1:0", "--upstream", f"openai=https://{sim_addr}",
           "--upstream-ca", ca, "--export", f"jsonl={export}", "--export", "otlp", "--trace-idle-ms", str(IDLE_MS),
           "--no-collector"]
    log_path = os.path.join(workdir, f"llmtap-{tag}.log")
    proc, addr = base.start_process_with_banner(cmd, env, log_path, "llmtap proxy")
    banner = base.llmtap_proxy.read_credential(proc.stdout, addr)
    try:
        sdk = run_node(workdir, f"sdk-{tag}.json", banner.gateway_base + "/openai/v1", {}, scenario, stream, WAIT_MS)
    finally:
        rc = base.stop_with_sigterm(proc)
    if rc != 0:
        raise SystemExit(f"llmtap proxy exited {rc} after SIGTERM; see {log_path}")
    with open(export) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    with open(log_path, errors="replace") as f:
        text = f.read()
    bodies = otlp.take()
    text += json.dumps(lines) + b"".join(bodies).decode(errors="replace")
    if banner.credential in text:
        raise SystemExit(f"{tag}: the proxy credential appears in llmtap's logs or export")
    return sdk, lines, base.otlp_to_spans(bodies), text


def last_versions(spans):
    """Spans of one (trace, span) id in their last emitted version, as the store upserts them."""
    out = {}
    for s in spans:
        out[(s["trace_id"], s["span_id"])] = s
    return list(out.values())


def traces_of(spans):
    by = {}
    for s in spans:
        by.setdefault(s["trace_id"], []).append(s)
    return by


def sdk_spans(sdk, trace_id, typ):
    return sorted((s for s in sdk["spans"] if s["trace_id"] == trace_id and s["span_data"].get("type") == typ),
                  key=lambda s: s["hr_started_ns"] or 0)


def trace_with_text(traces, text):
    """Trace ids whose first generation's input contains TEXT."""
    return [tid for tid, sp in traces.items() if text in base.first_generation_input(sp)]


def model_calls_in_sim_log(sim_log, since):
    with open(sim_log) as f:
        recs = [json.loads(x) for x in f.readlines()[since:] if x.strip()]
    return recs


def check_approvals(fail, label, sdk, lines, spans):
    final = last_versions(spans)
    traces = traces_of(final)
    for r in sdk["runs"]:
        w = f"{label} {r['decision']}{' after wait' if r['waitMs'] else ''}"
        fail.check(r["interruptions"] >= 1, f"{w}: the SDK asked for no approval (scenario broken)")
        tids = trace_with_text(traces, r["input"])
        if not fail.check(len(tids) == 1, f"{w}: {len(tids)} llmtap traces for one SDK run"):
            continue
        lt = traces[tids[0]]
        gens = [s for s in lt if s["kind"] == "generation"]
        sdk_gens = sdk_spans(sdk, r["sdkTraceId"], "response")
        fail.check(len(gens) == len(sdk_gens), f"{w}: {len(gens)} generations for {len(sdk_gens)} SDK model calls")
        tools = [s for s in lt if s["kind"] == "tool"]
        if not fail.check(len(tools) == 1, f"{w}: {len(tools)} tool spans"):
            continue
        t, a = tools[0], tools[0]["attributes"]
        fail.check(a.get("gen_ai.tool.name") == "issue_refund", f"{w}: tool {a.get('gen_ai.tool.name')!r}")
        fail.check(not a.get("llmtap.tool.unanswered"), f"{w}: the tool span is still unanswered in its last version")
        fns = sdk_spans(sdk, r["sdkTraceId"], "function")
        if r["decision"] == "approve":
            fail.check(t["status"]["code"] != "ERROR", f"{w}: approved tool is ERROR")
            if fail.check(len(fns) == 1, f"{w}: {len(fns)} SDK function spans"):
                fail.check(base.same_json(a.get("gen_ai.tool.call.result"), fns[0]["span_data"].get("output")),
                           f"{w}: result {a.get('gen_ai.tool.call.result')!r} vs SDK {fns[0]['span_data'].get('output')!r}")
                base.check_brackets(fail, w, fns[0], t)
        else:
            fail.check(a.get("gen_ai.tool.call.result") == REJECTED, f"{w}: result {a.get('gen_ai.tool.call.result')!r}")
            fail.check(a.get("llmtap.tool.rejected") is True, f"{w}: no llmtap.tool.rejected")
            fail.check(t["status"]["code"] == "ERROR", f"{w}: rejected tool status {t['status']!r}")
        if r["waitMs"]:
            # The trace closed while the human decided: emitted twice, same trace id.
            parts = [s for s in lines if s["trace_id"] == tids[0] and s["kind"] == "workflow"]
            first_tools = [s for s in lines if s["trace_id"] == tids[0] and s["kind"] == "tool"]
            fail.check(len(parts) == 2 and parts[0]["span_id"] == parts[1]["span_id"],
                       f"{w}: root emitted {len(parts)} times (want 2, same span id)")
            fail.check(parts and parts[-1]["attributes"].get("llmtap.trace.part") == 2,
                       f"{w}: last root part {parts[-1]['attributes'].get('llmtap.trace.part') if parts else None!r}")
            fail.check(len(first_tools) == 2 and first_tools[0]["attributes"].get("llmtap.tool.unanswered") is True,
                       f"{w}: the tool span was not first emitted unanswered (did the trace close during the wait?)")
            roots = [s for s in final if s["trace_id"] == tids[0] and s["kind"] == "workflow"]
            fail.check(roots and int(roots[0]["attributes"].get("gen_ai.usage.input_tokens", 0)) ==
                       sum(int(g["attributes"].get("gen_ai.usage.input_tokens", 0)) for g in gens),
                       f"{w}: the root's tokens do not cover every part")


def check_conversation(fail, label, sdk, spans, sim_recs):
    final = last_versions(spans)
    traces = traces_of(final)
    run = sdk["runs"][0]
    conv = run["conversationId"]
    fail.check(any(r.get("path", "").endswith("/conversations") and r.get("conversations") for r in sim_recs),
               f"{label}: the sim saw no POST /v1/conversations (scenario broken)")
    model_calls = [r for r in sim_recs if r.get("path", "").endswith("/responses") and r.get("status") == 200]
    gens = [s for s in final if s["kind"] == "generation"]
    fail.check(len(gens) == len(model_calls), f"{label}: {len(gens)} generations for {len(model_calls)} model calls")
    fail.check(not any("conversations" in s["name"] for s in final), f"{label}: a span for the Conversations API")
    t1 = trace_with_text(traces, run["turns"][0]["input"])
    t3 = trace_with_text(traces, run["turns"][2]["input"])
    if not (fail.check(len(t1) == 1, f"{label}: first turn in {len(t1)} traces") and
            fail.check(len(t3) == 1, f"{label}: late turn in {len(t3)} traces")):
        return
    first = traces[t1[0]]
    joined = [g for g in first if g["kind"] == "generation"]
    fail.check(len(joined) == 4, f"{label}: turns 1-2 joined in one trace with {len(joined)} generations (want 4)")
    # The scenario is what it claims: turn 2's calls carried only new items (no history).
    second = sorted(joined, key=lambda g: g["start_time_unix_nano"])[2:] if len(joined) == 4 else []
    fail.check(all(run["turns"][0]["input"] not in (g["attributes"].get("gen_ai.input.messages") or "") for g in second),
               f"{label}: turn 2 re-sent the history (not a conversation-only request)")
    fail.check(t3[0] != t1[0], f"{label}: the late turn joined the closed trace (a new turn must start a new one)")
    for tid, what in ((t1[0], "first"), (t3[0], "late")):
        root = next(s for s in traces[tid] if s["kind"] == "workflow")
        fail.check(root["attributes"].get("gen_ai.conversation.id") == conv,
                   f"{label}: {what} trace gen_ai.conversation.id {root['attributes'].get('gen_ai.conversation.id')!r}, want {conv}")
    late_root = next(s for s in traces[t3[0]] if s["kind"] == "workflow")
    first_root = next(s for s in first if s["kind"] == "workflow")
    links = late_root.get("links") or []
    fail.check(any(l["trace_id"] == t1[0] and l["span_id"] == first_root["span_id"] for l in links),
               f"{label}: the late turn's root does not link the first trace ({links})")


def check_hosted(fail, label, sdk, spans):
    final = last_versions(spans)
    traces = traces_of(final)
    for r in sdk["runs"]:
        w = f"{label} {r['input'][:30]!r}"
        fail.check({"web_search_call", "mcp_list_tools", "mcp_call"} <= set(r["items"]),
                   f"{w}: the SDK saw items {r['items']} (scenario broken)")
        tids = trace_with_text(traces, r["input"])
        if not fail.check(len(tids) == 1, f"{w}: {len(tids)} traces"):
            continue
        lt = traces[tids[0]]
        tools = {s["attributes"].get("gen_ai.tool.name"): s for s in lt if s["kind"] == "tool"}
        fail.check(set(tools) == {"web_search", "mcp_list_tools", "search_docs"}, f"{w}: tool spans {sorted(tools)}")
        gen = next((s for s in lt if s["kind"] == "generation"), None)
        for name, s in tools.items():
            a = s["attributes"]
            fail.check(a.get("gen_ai.tool.type") == "extension", f"{w}: {name} gen_ai.tool.type {a.get('gen_ai.tool.type')!r}")
            fail.check(a.get("llmtap.tool.server_side") is True and bool(a.get("gen_ai.tool.call.id")),
                       f"{w}: {name} not marked server-side or without id")
            fail.check(not a.get("llmtap.tool.unanswered"), f"{w}: {name} unanswered")
            if gen is not None:
                fail.check(gen["start_time_unix_nano"] <= s["start_time_unix_nano"] <= s["end_time_unix_nano"] <=
                           gen["end_time_unix_nano"], f"{w}: {name} not within its generation")
        if "search_docs" in tools:
            a = tools["search_docs"]["attributes"]
            fail.check("found 3 documents" in (a.get("gen_ai.tool.call.result") or ""), f"{w}: mcp_call result {a.get('gen_ai.tool.call.result')!r}")
            fail.check(r["input"][:20] in (a.get("gen_ai.tool.call.arguments") or ""), f"{w}: mcp_call arguments {a.get('gen_ai.tool.call.arguments')!r}")
        if "web_search" in tools:
            fail.check("docs.example.com" in (tools["web_search"]["attributes"].get("gen_ai.tool.call.result") or ""),
                       f"{w}: web_search result missing")
        out = (gen or {}).get("attributes", {}).get("gen_ai.output.messages") or ""
        fail.check('"tool_type":"extension"' in out and "web_search" in out, f"{w}: hosted calls not in the output messages")


def main():
    args, nm = base.sdk_test_args(__doc__, lambda ap: ap.add_argument("--scenarios", default="approvals:0,approvals:1,conversation:0,hosted:0,hosted:1"))
    if args is None:
        return base.SKIP
    workdir = tempfile.mkdtemp(prefix="llmtap-e2e-features-")
    fail = base.Failures()
    sim = otlp = None
    try:
        subprocess.run(["bash", base.MAKE_CA, workdir], check=True)
        ca = os.path.join(workdir, "ca.pem")
        base.copy_node_script(NODE_SCRIPT, workdir)
        os.symlink(nm, os.path.join(workdir, "node_modules"))
        sim_log = os.path.join(workdir, "sim-requests.jsonl")
        open(sim_log, "w").close()
        sim, sim_addr = base.start_process_with_banner(
            [sys.executable, base.SIM, "--cert", os.path.join(workdir, "server.pem"),
             "--key", os.path.join(workdir, "server.key"), "--log", sim_log],
            base.clean_env(os.environ), os.path.join(workdir, "sim.log"), "simulated provider")
        otlp = base.OtlpReceiver()
        for cfg in args.scenarios.split(","):
            scenario, stream = cfg.split(":")
            stream = stream == "1"
            label = f"{scenario}{' stream' if stream else ''}"
            print(f"== {label}", flush=True)
            direct = run_node(workdir, f"direct-{scenario}-{int(stream)}.json", f"https://{sim_addr}/v1",
                              {"NODE_EXTRA_CA_CERTS": ca}, scenario, stream, 0)
            with open(sim_log) as f:
                since = len(f.readlines())
            sdk, lines, otlp_spans, text = through_llmtap(args, workdir, f"{scenario}-{int(stream)}", sim_addr, ca,
                                                          scenario, stream, otlp)
            sim_recs = model_calls_in_sim_log(sim_log, since)
            before = len(fail.items)
            fail.check(base.API_KEY not in text, f"{label}: the API key appears in llmtap's logs or export")
            outs = lambda d: [t.get("finalOutput") for r in d["runs"] for t in (r.get("turns") or [r])]
            fail.check(outs(direct) == outs(sdk), f"{label}: final outputs differ with llmtap: {outs(direct)} vs {outs(sdk)}")
            key = lambda sp: sorted((x["span_id"], x["trace_id"], x["name"], x["start_time_unix_nano"],
                                     x["end_time_unix_nano"]) for x in sp)
            fail.check(key(otlp_spans) == key(lines), f"{label}: OTLP export ({len(otlp_spans)} spans) differs from jsonl ({len(lines)})")
            for name, spans in (("jsonl", lines), ("OTLP", otlp_spans)):
                where = f"{label} [{name}]"
                if scenario == "approvals":
                    check_approvals(fail, where, sdk, lines, spans)
                elif scenario == "conversation":
                    check_conversation(fail, where, sdk, spans, sim_recs)
                else:
                    check_hosted(fail, where, sdk, spans)
            kinds = {}
            for s in last_versions(lines):
                kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
            print(f"  llmtap spans by kind: {dict(sorted(kinds.items()))} ({len(lines)} lines); "
                  f"{len(fail.items) - before} failures", flush=True)
    finally:
        if otlp is not None:
            otlp.close()
        if sim is not None:
            sim.terminate()
            sim.wait()
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if fail.items:
        print(f"{len(fail.items)} FAILED checks")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
