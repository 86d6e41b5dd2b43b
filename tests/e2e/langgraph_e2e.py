#!/usr/bin/env python3
"""End-to-end: a LangGraph JS supervisor with two workers (langgraph_e2e.mjs: @langchain/langgraph-supervisor,
createReactAgent workers, ChatOpenAI) through `llmtap run` (auto: Node -> proxy + gateway; ChatOpenAI
follows OPENAI_BASE_URL), against the simulated provider's Chat Completions over TLS, scored against the
provider's log and LangGraph's own account (a callback handler: model calls per graph node, tool runs with
call ids and sub-millisecond wall-clock times, the final messages).

Three runs at once per pass, one pass non-streamed and one streamed (LangGraph streamMode "messages").
The supervisor hands off to the experts the user names (research_expert: lookup_fact; math_expert:
divide, which throws on a zero divisor, so ToolNode answers "Error: Division by zero\\n Please fix your
mistakes."); each expert returns with langgraph-supervisor's transfer_back_to_supervisor messages.

Checks per pass (named; the summary lists which passed):
  output       the workflow completes; each run ends with the supervisor's answer;
  generations  every model call (sim response id) is one generation, and no other generation exists;
  partition    each run's generations are in one trace of their own (three traces, nothing else);
  usage        input, output and cached tokens equal the sim's and LangGraph's own usage_metadata;
  names        each generation's agent span is named exactly as the graph node that made the call
               (supervisor, research_expert, math_expert: the `name` LangGraph writes on the wire);
  tools        every worker tool run is a tool span with LangGraph's call id and name; status ERROR
               exactly for the runs that threw (ToolNode's "Error: ... Please fix your mistakes.");
  brackets     each tool span starts no later and ends no earlier than LangGraph's tool run;
  handoffs     each transfer_to_X is a handoff supervisor -> X carrying its call id, and each
               transfer_back_to_supervisor (written by the framework, on the wire in the next request)
               a handoff X -> supervisor carrying that call's id;
  summary      `llmtap run`'s summary counts the export's traces and model calls, with their token totals;
  no-key       the API key and the proxy credential appear in no llmtap export or log;
  canaries     mutations of the pass's real export (a ToolNode error not ERROR, an agent named by its
               hash, a return without its call id, a handoff to the wrong agent, a generation grafted
               into another run's trace, cached tokens off by one, a tool span 1 ns short or dropped)
               each make the checks fail.

Usage: langgraph_e2e.py --llmtap BIN --node-modules DIR [--keep] [--passes chat,chat-stream]
Exit 77 when DIR lacks @langchain/langgraph-supervisor (run scripts/setup).
"""
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from agents_sdk_e2e import copy_node_script  # noqa: E402
from real_client_e2e import (SKIP, Checks, Llmtap, attrs, check_generations, check_no_secret,  # noqa: E402
                             check_bracket, check_run_summary, make_test_ca, missing_program, parse_args,
                             mutate_first, print_margins, run_canaries, run_client, start_sim, wrap_up)

API_KEY = "sk-langgraph-e2e-DO-NOT-LEAK-93d1aa"
NODE_SCRIPT = os.path.join(HERE, "langgraph_e2e.mjs")
PASSES = {"chat": "0", "chat-stream": "1"}
NODE_TIMEOUT_S = 120
REQUIRED = ("@langchain/langgraph", "@langchain/langgraph-supervisor", "@langchain/openai", "@langchain/core")


def status_error(span):
    st = span.get("status")
    return (st.get("code") if isinstance(st, dict) else st) == "ERROR"


def one_pass(c, args, tmp, tag, ca, procs):
    sim, sim_addr, sim_log = start_sim(tmp, tag)
    procs.append(sim)
    lt = Llmtap(args, tmp, tag, sim_addr, ca, provider="openai")
    work = os.path.join(tmp, f"work-{tag}")
    os.makedirs(work)
    copy_node_script(NODE_SCRIPT, work)
    os.symlink(os.path.abspath(args.node_modules), os.path.join(work, "node_modules"))
    out = os.path.join(work, "langgraph.json")
    env = dict(lt.env, OPENAI_API_KEY=API_KEY, E2E_STREAM=PASSES[tag])
    for k in ("OPENAI_BASE_URL", "NO_PROXY", "no_proxy"):
        env.pop(k, None)
    cmd = [args.llmtap, "run"] + lt.options + ["--", "node", "langgraph_e2e.mjs", out]
    r, took = run_client(cmd, work, env, NODE_TIMEOUT_S, os.path.join(tmp, f"langgraph-{tag}"))
    with open(lt.log_path, "wb") as f:
        f.write(r.stderr)
    run = tag
    ok = c.check(run, "output", r.returncode == 0 and os.path.exists(out),
                 f"llmtap run -- node exited {r.returncode}; stderr tail {r.stderr.decode(errors='replace')[-800:]!r}")
    if not ok:
        return
    with open(out) as f:
        lg = json.load(f)
    entries = sim_log.since_mark()
    calls = [e for e in entries if e.get("status") == 200 and e.get("response_id")]
    other = [e for e in entries if e not in calls]
    c.check(run, "output", not other, f"requests at the provider that are no model call: {other[:3]}")
    c.check(run, "output", all(e.get("stream") == (PASSES[tag] == "1") for e in calls),
            f"stream flags at the provider: {[e.get('stream') for e in calls]}")
    spans = lt.spans()
    print(f"  {run}: {took:.1f} s, {len(calls)} model calls, {len(spans)} spans in "
          f"{len({s['trace_id'] for s in spans})} traces", flush=True)
    score(c, run, lg, calls, spans)
    check_run_summary(c, run, r.stderr.decode(errors="replace"), spans, len(calls))
    check_no_secret(c, run, lt, {"API key": API_KEY, "proxy credential": lt.proxy_credential()})
    if not c.fail.items:
        canaries(c, run, lg, calls, spans)


def score(c, run, lg, calls, spans):
    """LangGraph's account (LG) and the sim's model calls against llmtap's export (SPANS)."""
    rids = [e["response_id"] for e in calls]
    gens = check_generations(c, run, rids, spans, set(rids))
    sim_by_rid = {e["response_id"]: e for e in calls}
    by_id = {s["span_id"]: s for s in spans}

    traces = set()
    margins = []
    for i, lr in enumerate(lg["runs"]):
        last = lr["messages"][-1] if lr["messages"] else {}
        c.check(run, "output", last.get("type") == "ai" and last.get("name") == "supervisor" and not last.get("tool_calls"),
                f"run {i} does not end with the supervisor's answer: {last}")
        own_rids = [m["response_id"] for m in lr["models"]]
        c.check(run, "generations", set(own_rids) <= set(rids),
                f"run {i}: LangGraph's response ids {own_rids} are not all the sim's")
        run_gens = [gens[r] for r in own_rids if r in gens]
        run_traces = {g["trace_id"] for g in run_gens}
        c.check(run, "partition", len(run_traces) == 1, f"run {i}'s generations are in {len(run_traces)} traces")
        traces |= run_traces
        trace = [s for s in spans if s["trace_id"] in run_traces]
        extra = [attrs(s).get("gen_ai.response.id") for s in trace
                 if s.get("kind") == "generation" and attrs(s).get("gen_ai.response.id") not in own_rids]
        c.check(run, "partition", not extra, f"run {i}'s trace holds other runs' generations {extra}")

        for m in lr["models"]:
            g, e = gens.get(m["response_id"]), sim_by_rid.get(m["response_id"])
            if g is None or e is None:
                continue
            u = e["usage"]
            sim = (u["prompt_tokens"], u["completion_tokens"], u["prompt_tokens_details"]["cached_tokens"])
            lu = m.get("usage") or {}
            own = (lu.get("input_tokens"), lu.get("output_tokens"), (lu.get("input_token_details") or {}).get("cache_read"))
            got = tuple(attrs(g).get(k) for k in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
                                                  "gen_ai.usage.cache_read.input_tokens"))
            c.check(run, "usage", got == sim == own, f"response {m['response_id']}: llmtap {got}, sim {sim}, LangGraph {own}")
            agent = by_id.get(g.get("parent_span_id"), {})
            c.check(run, "names", agent.get("kind") == "agent" and attrs(agent).get("gen_ai.agent.name") == m["node"],
                    f"run {i}: the {m['node']} call {m['response_id']} is under agent "
                    f"{attrs(agent).get('gen_ai.agent.name')!r} ({attrs(agent).get('llmtap.agent.name_source')})")

        tools = {attrs(s).get("gen_ai.tool.call.id"): s for s in trace if s.get("kind") == "tool"}
        handoffs = {attrs(s).get("gen_ai.tool.call.id"): s for s in trace if s.get("kind") == "handoff"}
        for t in lr["tools"]:
            if t["name"].startswith("transfer_to_"):
                h = handoffs.get(t["call_id"])
                target = t["name"][len("transfer_to_"):]
                c.check(run, "handoffs", h is not None and
                        (attrs(h).get("llmtap.handoff.from_agent"), attrs(h).get("llmtap.handoff.to_agent")) == ("supervisor", target),
                        f"run {i}: transfer {t['call_id']} to {target}: handoff "
                        f"{h and (attrs(h).get('llmtap.handoff.from_agent'), attrs(h).get('llmtap.handoff.to_agent'))}")
                continue
            s = tools.get(t["call_id"])
            if not c.check(run, "tools", s is not None and attrs(s).get("gen_ai.tool.name") == t["name"],
                           f"run {i}: no tool span {t['name']} with call id {t['call_id']} (have {sorted(tools)})"):
                continue
            c.check(run, "tools", status_error(s) == (t["status"] == "error"),
                    f"run {i}: tool {t['call_id']} ({t.get('error') or 'ok'}): llmtap status {s.get('status')}")
            margins.append(check_bracket(c, run, s, int(t["start"] * 1e6), int(t["end"] * 1e6),
                                         f"run {i}: tool {t['call_id']}"))
        backs = [(m["name"], tc["id"]) for m in lr["messages"] if m["type"] == "ai"
                 for tc in m["tool_calls"] if tc["name"] == "transfer_back_to_supervisor"]
        c.check(run, "handoffs", backs, f"run {i}: LangGraph wrote no transfer_back_to_supervisor")
        for worker, cid in backs:
            h = handoffs.get(cid)
            c.check(run, "handoffs", h is not None and
                    (attrs(h).get("llmtap.handoff.from_agent"), attrs(h).get("llmtap.handoff.to_agent")) == (worker, "supervisor"),
                    f"run {i}: return {cid} from {worker}: handoff "
                    f"{h and (attrs(h).get('llmtap.handoff.from_agent'), attrs(h).get('llmtap.handoff.to_agent'))}")
    n_errors = sum(1 for lr in lg["runs"] for t in lr["tools"] if t["status"] == "error")
    c.check(run, "tools", n_errors == 2, f"want 2 failing tool runs (divide by 0), LangGraph saw {n_errors}")
    c.check(run, "partition", len(traces) == len(lg["runs"]) == len({s["trace_id"] for s in spans}),
            f"{len(lg['runs'])} runs: their generations in {len(traces)} traces, the export has "
            f"{len({s['trace_id'] for s in spans})}")
    if not c.quiet:
        print_margins(run, margins)


def canaries(c, run, lg, calls, spans):
    """Mutations of the pass's real export that the checks must catch."""
    def mutated(pick, change):
        return mutate_first(spans, pick, change)

    def kind(k, **attr):
        return lambda s: s.get("kind") == k and all(attrs(s).get(a) == v for a, v in attr.items())

    def set_attr(name, value):
        return lambda s, out: s["attributes"].update({name: value})

    failed_tool = next(t for lr in lg["runs"] for t in lr["tools"] if t["status"] == "error")
    other_trace = next(s["trace_id"] for s in spans if s["trace_id"] != spans[0]["trace_id"])
    run_canaries(c, run, {
        "ToolNode error not marked ERROR": lambda: mutated(
            kind("tool", **{"gen_ai.tool.call.id": failed_tool["call_id"]}), lambda s, o: s.update(status={"code": "UNSET"})),
        "agent named by its hash": lambda: mutated(
            kind("agent", **{"gen_ai.agent.name": "supervisor"}), set_attr("gen_ai.agent.name", "Agent a76fa8")),
        "return without its transfer_back call id": lambda: mutated(
            kind("handoff", **{"llmtap.handoff.to_agent": "supervisor"}), set_attr("gen_ai.tool.call.id", "")),
        "handoff to the wrong agent": lambda: mutated(
            kind("handoff", **{"llmtap.handoff.from_agent": "supervisor"}), set_attr("llmtap.handoff.to_agent", "math expert")),
        "generation grafted into another run's trace": lambda: mutated(
            lambda s: s.get("kind") == "generation" and s["trace_id"] != other_trace,
            lambda s, o: s.update(trace_id=other_trace)),
        "cached tokens off by one": lambda: mutated(kind("generation"), lambda s, o: s["attributes"].update(
            {"gen_ai.usage.cache_read.input_tokens": attrs(s).get("gen_ai.usage.cache_read.input_tokens", 0) + 1})),
        "tool span ending 1 ns early": lambda: mutated(
            kind("tool", **{"gen_ai.tool.call.id": failed_tool["call_id"]}),
            lambda s, o: s.update(end_time_unix_nano=int(failed_tool["end"] * 1e6) - 1)),
        "tool span dropped": lambda: [s for s in spans if not kind("tool", **{"gen_ai.tool.call.id": failed_tool["call_id"]})(s)],
    }, lambda q, sp: score(q, run, lg, calls, sp))


def main():
    args = parse_args(lambda ap: ap.add_argument("--passes", default=",".join(PASSES)))
    missing = [p for p in REQUIRED if not os.path.isdir(os.path.join(args.node_modules, p))]
    if missing:
        print(f"SKIP: {', '.join(missing)} not under {args.node_modules} (run scripts/setup)")
        return SKIP
    if missing_program("openssl", "node"):
        return SKIP
    tmp = tempfile.mkdtemp(prefix="llmtap-langgraph-e2e-")
    c = Checks()
    procs = []
    try:
        ca = make_test_ca(tmp)
        for tag in args.passes.split(","):
            one_pass(c, args, tmp, tag, ca, procs)
    finally:
        wrap_up(c, procs, tmp, args.keep)
    return c.finish("langgraph e2e")


if __name__ == "__main__":
    sys.exit(main())
