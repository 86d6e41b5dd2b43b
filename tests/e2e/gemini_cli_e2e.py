#!/usr/bin/env python3
"""End-to-end: Google's Gemini CLI (`gemini -p`, Node, tests/node/node_modules/@google/gemini-cli) through
`llmtap run`, against the simulated provider over TLS, scored against the provider's log and the CLI's own
telemetry (its local file target).

Each run gets its own GEMINI_CLI_HOME with a settings.json: API-key auth (a fake key), auto-update and
its notification off, usage statistics off, telemetry on with target `local` and an outfile (nothing
leaves the machine). The sim (sim_gemini_cli.py) answers the CLI's router (a flash-lite JSON
classifier before the main loop) and scripts its loop: run the backquoted shell command, read the
named files (a text file, then a PNG, which the CLI sends back as inline data and so counts the next
request's tokens with :countTokens first), answer quoting the results. Runs, at the same time, each with its own sim:

  run-auto   `llmtap run` (auto: Node -> proxy + gateway; the CLI follows GOOGLE_GEMINI_BASE_URL to
             the gateway), --upstream gemini=https://127.0.0.1:SIM --upstream-ca
  run-proxy  `llmtap run --mode proxy`: the CLI's own host through HTTPS_PROXY (it sets a proxy agent
             for the proxy variables) and NODE_EXTRA_CA_CERTS

Checks per run (named; the summary lists which passed):
  output       the CLI exits 0 and its answer quotes the shell command's output and the file's text;
  transport    the provider saw only generateContent/streamGenerateContent (and countTokens) calls;
  count-tokens the CLI counted tokens with :countTokens (reading an image makes it do so);
  generations  every model call (sim response id) is one generation, and no other generation exists
               (countTokens is none);
  usage        input, output (= candidates + thoughts), cached and thoughts tokens equal the sim's and
               the CLI's own (gemini_cli.api_response), response ids equal the CLI's own; the model too;
  tool-ids     the main loop's tool spans carry the ids the CLI sent back with the results
               (functionResponse.id, e.g. run_shell_command_<ms>_0), which are the CLI's own tool call ids
               (its tool_call spans: `<name>__<id>`), with the CLI's names, in order;
  brackets     each tool span starts no later (1 ms: the CLI's start times are whole milliseconds) and
               ends no earlier than the CLI's own tool_call span;
  one-trace    the main loop's generations are in one trace holding no generation that is not one of
               the run's model calls;
  one-agent    the main loop's generations are under one agent span, which holds no other generation;
  agent-names  that agent is "Gemini CLI" (its instructions say so), the router's is named from its
               instructions ("... Task Routing AI"), neither by a hash;
  router-joins the router's generation is in the main loop's trace, under its own agent marked
               `llmtap.side_call.role` = router, and the export holds no other trace (the router sends
               the session context and the prompt as two messages where the main loop merges them, and
               the CLI takes a few hundred ms, seconds under load, before the main call: joined by the
               user content and the keep-alive connection both use);
  summary      `llmtap run`'s summary counts the export's traces and exactly the model calls (countTokens
               is none), with the generations' token totals;
  no-key       the API key and the proxy credential appear in no llmtap export or log;
  canaries     mutations of the run's real export (the parser's id for the client's, countTokens as a
               generation, a tool span 2 ms late or 1 ns short, thoughts off by one, cached dropped, the
               loop split in two traces or two agents) each make the checks fail.

Usage: gemini_cli_e2e.py --llmtap BIN --node-modules DIR [--keep] [--runs auto,proxy]
Exit 77 (ctest SKIP_RETURN_CODE) when DIR lacks @google/gemini-cli (run scripts/setup).
"""
import copy
import json
import os
import re
import sys
import tempfile
import struct
import threading
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from real_client_e2e import (SKIP, Checks, Llmtap, attrs, check_bracket, check_generations,  # noqa: E402
                             check_no_secret, check_one_trace, check_run_summary, make_test_ca,
                             missing_program, mutate_first, parse_args, print_margins, run_canaries,
                             run_client, start_sim, wrap_up)

API_KEY = "AIza-gemini-e2e-DO-NOT-LEAK-5be1f0"
PROMPT = "Please run `echo llmtap-gemini-e2e` in the shell, then read notes.txt and pixel.png."
NOTES = "hello from the llmtap gemini notes\n"
# The CLI starts in ~25 s on an idle machine; at load average 30 it took 85 s before its first request.
CLI_TIMEOUT_S = 240
RUNS = {"auto": [], "proxy": ["--mode", "proxy"]}
# Checks known to fail today, with the reason (the summary prints them as XFAIL).
EXPECTED_FAILURES = {}


def find_gemini(node_modules):
    path = os.path.join(node_modules, ".bin", "gemini")
    return os.path.abspath(path) if os.path.exists(path) else None


def read_concatenated_json(path):
    """The CLI's local telemetry file: JSON documents one after another (log records and spans)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, errors="replace") as f:
        raw = f.read()
    dec, i = json.JSONDecoder(), 0
    while i < len(raw):
        while i < len(raw) and raw[i] in " \r\n\t":
            i += 1
        if i >= len(raw):
            break
        try:
            obj, i = dec.raw_decode(raw, i)
        except json.JSONDecodeError:
            break  # a record cut short at exit
        out.append(obj)
    return out


def hr_ns(t):
    return int(t[0]) * 1_000_000_000 + int(t[1])


def telemetry_of(path):
    """The CLI's own account of the run: its model calls (role, usage, response id) and tool spans."""
    out = {"requests": [], "responses": [], "response_ids": [], "tool_spans": [], "prompt_ids": set()}
    for o in read_concatenated_json(path):
        a = o.get("attributes") or {}
        name = a.get("event.name")
        if name == "gemini_cli.api_request":
            out["requests"].append((a.get("event.timestamp"), a.get("role")))
        elif name == "gemini_cli.api_response":
            out["responses"].append({
                "model": a.get("model"), "role": a.get("role"), "at": a.get("event.timestamp"),
                "usage": tuple(int(a.get(k) or 0) for k in (
                    "input_token_count", "output_token_count", "cached_content_token_count",
                    "thoughts_token_count"))})
            out["prompt_ids"].add(a.get("prompt_id"))
        elif name == "gen_ai.client.inference.operation.details" and a.get("gen_ai.response.id"):
            out["response_ids"].append((a.get("event.timestamp"), a["gen_ai.response.id"]))
        elif o.get("name") == "tool_call" and "startTime" in o:
            out["tool_spans"].append({"name": a.get("gen_ai.tool.name"), "call_id": a.get("gen_ai.tool.call_id"),
                                      "start": hr_ns(o["startTime"]), "end": hr_ns(o["endTime"])})
    out["requests"] = [role for _, role in sorted(out["requests"])]
    out["responses"].sort(key=lambda r: r["at"])
    out["response_ids"] = [rid for _, rid in sorted(out["response_ids"])]
    out["tool_spans"].sort(key=lambda t: t["start"])
    return out


def tiny_png():
    """A 1x1 PNG: read_file returns it as inline data, so the CLI counts the next request's tokens."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def gemini_home(tmp, tag, outfile):
    home = os.path.join(tmp, f"home-{tag}")
    os.makedirs(os.path.join(home, ".gemini"), exist_ok=True)
    settings = {
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": True, "target": "local", "outfile": outfile, "logPrompts": False},
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
    }
    with open(os.path.join(home, ".gemini", "settings.json"), "w") as f:
        json.dump(settings, f, indent=1)
    return home


def one_run(args, tmp, tag, gemini, ca, result):
    """One `llmtap run ... -- gemini -p` with its own sim, home and work directory; fills RESULT."""
    sim, sim_addr, sim_log = start_sim(tmp, tag)
    result["procs"] = [sim]
    lt = Llmtap(args, tmp, tag, sim_addr, ca, provider="gemini")
    outfile = os.path.join(tmp, f"gemini-telemetry-{tag}.json")
    home = gemini_home(tmp, tag, outfile)
    work = os.path.join(tmp, f"work-{tag}")
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "notes.txt"), "w") as f:
        f.write(NOTES)
    with open(os.path.join(work, "pixel.png"), "wb") as f:
        f.write(tiny_png())
    env = dict(lt.env)
    env.update({"HOME": home, "GEMINI_CLI_HOME": home, "GEMINI_API_KEY": API_KEY, "NO_COLOR": "1"})
    for k in ("GOOGLE_GEMINI_BASE_URL", "GEMINI_BASE_URL", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT",
              "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_GCA", "NO_PROXY", "no_proxy"):
        env.pop(k, None)
    cmd = [args.llmtap, "run"] + RUNS[tag] + lt.options + ["--", gemini, "-p", PROMPT, "--approval-mode", "yolo"]
    r, took = run_client(cmd, work, env, CLI_TIMEOUT_S, os.path.join(tmp, f"gemini-{tag}"))
    with open(lt.log_path, "wb") as f:
        f.write(r.stderr)  # llmtap run's mode line, logs and summary, with the CLI's stderr
    result.update(rc=r.returncode, seconds=took, stdout=r.stdout.decode(errors="replace"),
                  stderr=r.stderr.decode(errors="replace"), sim_entries=sim_log.since_mark(),
                  telemetry=telemetry_of(outfile), llmtap=lt)


def check_run(c, run, res, spans=None):
    out, entries, tel, lt = res["stdout"], res["sim_entries"], res["telemetry"], res["llmtap"]
    c.check(run, "output", res["rc"] == 0, f"llmtap run -- gemini exited {res['rc']}; stderr tail "
                                           f"{res['stderr'][-600:]!r}")
    c.check(run, "output", "llmtap-gemini-e2e" in out and NOTES.strip() in out,
            f"the answer does not quote the command's output and the file: {out[-400:]!r}")
    calls = [e for e in entries if e.get("status") == 200 and e.get("response_id")]
    count_tokens = [e for e in entries if e.get("count_tokens")]
    other = [e for e in entries if e not in calls and e not in count_tokens]
    c.check(run, "transport", not other, f"requests at the provider that are no model call: {other[:3]}")
    c.check(run, "count-tokens", count_tokens, "the CLI sent no countTokens (the image read should make it count)")
    spans = lt.spans() if spans is None else spans
    rids = [e["response_id"] for e in calls]
    gens = check_generations(c, run, rids, spans, set(rids))
    if not c.quiet:
        print(f"  {run}: {res['seconds']:.1f} s, {len(calls)} model calls, {len(count_tokens)} countTokens, "
              f"{len(spans)} spans in {len({s['trace_id'] for s in spans})} traces", flush=True)

    # Usage: the sim's numbers and the CLI's own, call by call (both in request order). The CLI logs
    # every request, but a loaded machine can end it before its last response record is written:
    # its account of responses may lack the last one (never more, never another).
    c.check(run, "usage", len(tel["requests"]) == len(calls),
            f"the CLI logged {len(tel['requests'])} API requests for {len(calls)} model calls")
    logged = len(tel["responses"])
    c.check(run, "usage", logged in (len(calls), len(calls) - 1),
            f"the CLI logged {logged} API responses for {len(calls)} model calls")
    c.check(run, "usage", tel["response_ids"] == rids[:len(tel["response_ids"])] and
            len(tel["response_ids"]) >= len(calls) - 1, f"the CLI's response ids {tel['response_ids']} != the sim's {rids}")
    if logged < len(calls) and not c.quiet:
        print(f"  {run}: the CLI exited before logging its last response (compared {logged} of {len(calls)})")
    for i, e in enumerate(calls):
        u = e["usage"]
        sim = (u["promptTokenCount"], u["candidatesTokenCount"], u.get("cachedContentTokenCount", 0),
               u.get("thoughtsTokenCount", 0))
        if i < logged:
            own = tel["responses"][i]
            c.check(run, "usage", own["usage"] == sim,
                    f"response {e['response_id']}: the CLI's usage {own['usage']} != sim {sim}")
        g = gens.get(e["response_id"])
        if g is None:
            continue
        got = tuple(attrs(g).get(k) for k in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
                                              "gen_ai.usage.cache_read.input_tokens",
                                              "gen_ai.usage.reasoning.output_tokens"))
        want = (sim[0], sim[1] + sim[3], sim[2], sim[3])
        c.check(run, "usage", got == want, f"response {e['response_id']}: usage {got} != {want} (sim {sim})")
        c.check(run, "usage", attrs(g).get("gen_ai.request.model") == e["model"],
                f"model {attrs(g).get('gen_ai.request.model')!r} != {e['model']!r}")

    roles = tel["requests"]  # the role of every call (its request record, always logged)
    main_rids = [rid for rid, role in zip(rids, roles) if role == "main"]
    router_rids = [rid for rid, role in zip(rids, roles) if role == "utility_router"]
    c.check(run, "one-trace", main_rids and router_rids,
            f"want a router call and main-loop calls; the CLI's roles: {roles}")
    main_gens = [gens[r] for r in main_rids if r in gens]
    # The router may join the main loop's trace (item 4), nothing else may.
    trace = check_one_trace(c, run, main_gens, spans, allowed_ids=rids) if main_gens else []
    in_trace = {attrs(s).get("gen_ai.response.id") for s in trace if s.get("kind") == "generation"}
    c.check(run, "router-joins", router_rids and set(router_rids) <= in_trace,
            "the router's generation is not in the main loop's trace")
    c.check(run, "router-joins", len({s["trace_id"] for s in spans}) == 1,
            f"one gemini -p made {len({s['trace_id'] for s in spans})} traces")
    router_roles = [attrs(by_id_of(spans).get(gens[r].get("parent_span_id"), {})).get("llmtap.side_call.role")
                    for r in router_rids if r in gens]
    c.check(run, "router-joins", router_roles and all(r == "router" for r in router_roles),
            f"the router's agent has side-call roles {router_roles} (want router)")

    by_id = {s["span_id"]: s for s in spans}
    agents = {g.get("parent_span_id") for g in main_gens}
    c.check(run, "one-agent", len(agents) == 1 and all(by_id.get(a, {}).get("kind") == "agent" for a in agents),
            f"the main loop's generations are under {len(agents)} parents: "
            f"{[(by_id.get(a, {}).get('kind'), attrs(by_id.get(a, {})).get('gen_ai.agent.name')) for a in agents]}")
    # Agents are named from their instructions ("You are Gemini CLI, ...", the router's "You are a
    # specialized Task Routing AI"), never by a hash.
    main_names = {attrs(by_id.get(a, {})).get("gen_ai.agent.name") for a in agents}
    c.check(run, "agent-names", main_names == {"Gemini CLI"}, f"the main loop's agent is named {main_names}")
    router_names = {attrs(by_id.get(gens[r].get("parent_span_id"), {})).get("gen_ai.agent.name")
                    for r in router_rids if r in gens}
    c.check(run, "agent-names", router_names and not any(re.fullmatch(r"Agent [0-9a-f]{6}", n or "") for n in router_names),
            f"the router's agent is named {router_names}")
    if len(agents) == 1:
        agent = next(iter(agents))
        under = [s for s in spans if s.get("kind") == "generation" and s.get("parent_span_id") == agent]
        c.check(run, "one-agent", len(under) == len(main_gens),
                f"the main loop's agent holds {len(under)} generations for {len(main_gens)} main calls")

    # Tools: the ids the CLI sent back with each result, first seen request by request.
    wire = []
    for e in calls:
        for cid in e.get("tool_result_ids", []):
            if cid not in wire:
                wire.append(cid)
    tools = sorted((s for s in trace if s.get("kind") == "tool"), key=lambda s: s["start_time_unix_nano"])
    own = tel["tool_spans"]
    c.check(run, "tool-ids", len(own) == 3 and len(wire) == 3,
            f"want 3 tool calls: the CLI ran {[(t['name'], t['call_id']) for t in own]}, sent back {wire}")
    c.check(run, "tool-ids", [t["call_id"] for t in own] == [f"{t['name']}__{w}" for t, w in zip(own, wire)],
            f"the CLI's tool call ids {[t['call_id'] for t in own]} are not the ids it sent back {wire}")
    got = [(attrs(t).get("gen_ai.tool.name"), attrs(t).get("gen_ai.tool.call.id")) for t in tools]
    c.check(run, "tool-ids", got == [(t["name"], w) for t, w in zip(own, wire)],
            f"llmtap tool spans {got} != the CLI's {[(t['name'], w) for t, w in zip(own, wire)]}")
    # The CLI's start times are whole milliseconds (its true start is up to 1 ms later).
    margins = [check_bracket(c, run, t, o["start"], o["end"], f"tool {attrs(t).get('gen_ai.tool.call.id')}",
                                      start_slack_ns=1_000_000) for t, o in zip(tools, own)]
    if not c.quiet:
        print_margins(run, margins)
    check_run_summary(c, run, res["stderr"], spans, len(calls))
    check_no_secret(c, run, lt, {"API key": API_KEY, "proxy credential": lt.proxy_credential()})


def by_id_of(spans):
    return {s["span_id"]: s for s in spans}


def canaries(c, run, res):
    """Mutations of the run's real export that the checks must catch."""
    spans = res["llmtap"].spans()
    own = res["telemetry"]["tool_spans"]

    def mutated(pick, change):
        return mutate_first(spans, pick, change)

    def main_gen(s):
        return s.get("kind") == "generation" and "lite" not in attrs(s).get("gen_ai.request.model", "")

    def split(s, out):
        s["trace_id"] = "f" * 32

    def extra_generation(s, out):  # countTokens made a generation
        g = copy.deepcopy(s)
        g["span_id"], g["attributes"]["gen_ai.response.id"] = "c" * 16, "count-tokens"
        out.append(g)

    def second_agent(s, out):
        a = copy.deepcopy(next(x for x in out if x["span_id"] == s["parent_span_id"]))
        a["span_id"] = s["parent_span_id"] = "a" * 16
        out.append(a)

    run_canaries(c, run, {
        "parser's id instead of the client's": lambda: mutated(
            lambda s: s.get("kind") == "tool", lambda s, o: s["attributes"].update(
                {"gen_ai.tool.call.id": attrs(s)["gen_ai.tool.name"] + "#0"})),
        "countTokens as a generation": lambda: mutated(main_gen, extra_generation),
        "tool span starting 2 ms after the CLI's tool": lambda: mutated(
            lambda s: s.get("kind") == "tool", lambda s, o: s.update(start_time_unix_nano=own[0]["start"] + 2_000_000)),
        "tool span ending 1 ns before the CLI's tool": lambda: mutated(
            lambda s: s.get("kind") == "tool", lambda s, o: s.update(end_time_unix_nano=own[0]["end"] - 1)),
        "thoughts tokens off by one": lambda: mutated(main_gen, lambda s, o: s["attributes"].update(
            {"gen_ai.usage.reasoning.output_tokens": attrs(s)["gen_ai.usage.reasoning.output_tokens"] + 1})),
        "cached tokens dropped": lambda: mutated(
            lambda s: main_gen(s) and attrs(s).get("gen_ai.usage.cache_read.input_tokens"),
            lambda s, o: s["attributes"].update({"gen_ai.usage.cache_read.input_tokens": 0})),
        "main loop split in two traces": lambda: mutated(main_gen, split),
        "main loop in two agents": lambda: mutated(main_gen, second_agent),
        "router in a trace of its own": lambda: mutated(
            lambda s: s.get("kind") == "generation" and "lite" in attrs(s).get("gen_ai.request.model", ""), split),
        "router not marked as one": lambda: mutated(
            lambda s: attrs(s).get("llmtap.side_call.role") == "router",
            lambda s, o: s["attributes"].pop("llmtap.side_call.role")),
        "router agent named by its hash": lambda: mutated(
            lambda s: s.get("kind") == "agent" and attrs(s).get("gen_ai.agent.name") != "Gemini CLI",
            lambda s, o: s["attributes"].update({"gen_ai.agent.name": "Agent 9ced18"})),
    }, lambda q, sp: check_run(q, run, res, sp))


def main():
    args = parse_args(lambda ap: ap.add_argument("--runs", default=",".join(RUNS)))
    gemini = find_gemini(args.node_modules)
    if not gemini:
        print(f"SKIP: no @google/gemini-cli under {args.node_modules} (run scripts/setup)")
        return SKIP
    if missing_program("openssl", "node"):
        return SKIP
    tmp = tempfile.mkdtemp(prefix="llmtap-gemini-e2e-")
    c = Checks(EXPECTED_FAILURES)
    results = {tag: {} for tag in args.runs.split(",")}
    try:
        ca = make_test_ca(tmp)
        threads = [threading.Thread(target=one_run, args=(args, tmp, tag, gemini, ca, results[tag]))
                   for tag in results]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for tag, res in results.items():
            if "rc" not in res:
                c.check(f"run-{tag}", "output", False, "the run did not complete (see above)")
                continue
            check_run(c, f"run-{tag}", res)
            if not c.fail.items:
                canaries(c, f"run-{tag}", res)
    finally:
        wrap_up(c, [p for res in results.values() for p in res.get("procs", [])], tmp, args.keep)
    return c.finish("gemini cli e2e")


if __name__ == "__main__":
    sys.exit(main())
