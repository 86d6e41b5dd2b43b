#!/usr/bin/env python3
"""End-to-end: the real OpenAI Agents SDK (JS) with input and output guardrails through `llmtap proxy`,
scored against the SDK's own trace.

agents_sdk_guardrails_e2e.mjs runs four runs at once of a support agent with one tool, an input
guardrail and an output guardrail, each guardrail running its own agent (the SDK's documented
pattern); one run asks for homework help and trips the input guardrail, one gets an answer quoting
an internal note and trips the output guardrail. The simulated provider
(sim_verdicts.py) answers the guardrail agents with a JSON verdict. For the Responses API, streamed
and not, it checks on llmtap's jsonl and OTLP exports:
  * partition: one llmtap trace per SDK trace, holding exactly the model calls of that SDK trace
    (by response id; a streamed call the SDK abandoned has no id in the SDK, it counts by number);
  * every SDK guardrail span is one llmtap `apply_guardrail` span in that trace, with the target
    (`llm_input` for the input guardrail, `llm_output` for the output guardrail), holding the
    generations of the guardrail agent the SDK ran inside it;
  * tripped: the SDK's `triggered` equals `llmtap.guardrail.tripped` (present on every guardrail span),
    input and output; when streamed, the agent's abandoned call is marked
    `llmtap.call.abandoned_reason`; a tripped output guardrail (after which the wire shows nothing: its
    agent's verdict is the evidence) marks the agent whose answer it rejected ERROR, and only that run;
  * cost: the run's cost is the sum of all its generations, guardrail calls included (> 0 each);
  * no API key in llmtap's logs or exports; canaries: mutations of a real export must be caught.

Usage: agents_sdk_guardrails_e2e.py --llmtap BIN --node-modules DIR [--keep] [--streams 0,1]
Exit 77 when DIR lacks @openai/agents.
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agents_sdk_e2e as base  # noqa: E402  (the Agents SDK e2e's harness: sim, CA, proxy, OTLP receiver)

NODE_SCRIPT = os.path.join(HERE, "agents_sdk_guardrails_e2e.mjs")
INPUT_GUARDRAIL, OUTPUT_GUARDRAIL = "Homework guardrail", "Leak guardrail"


def sdk_traces(sdk):
    """SDK trace id -> {responses: [ids or None], guardrails: [(name, triggered, {response ids inside})]}."""
    by_id = {s["id"]: s for s in sdk["spans"]}
    out = {}
    for s in sdk["spans"]:
        t = out.setdefault(s["trace_id"], {"responses": [], "guardrails": []})
        d = s["span_data"]
        if d.get("type") == "response":
            t["responses"].append(d.get("response_id"))
    for s in sdk["spans"]:
        d = s["span_data"]
        if d.get("type") != "guardrail":
            continue
        inside = set()
        for r in sdk["spans"]:
            if r["span_data"].get("type") != "response" or not r["span_data"].get("response_id"):
                continue
            p = by_id.get(r.get("parent_id"))
            while p is not None and p["id"] != s["id"]:
                p = by_id.get(p.get("parent_id"))
            if p is not None:
                inside.add(r["span_data"]["response_id"])
        out[s["trace_id"]]["guardrails"].append((d.get("name"), bool(d.get("triggered")), inside))
    return out


def score(fail, label, sdk, spans):
    """Compares llmtap's spans with the SDK's traces; records every difference in FAIL."""
    want = sdk_traces(sdk)
    lt = {}
    for s in spans:
        lt.setdefault(s["trace_id"], []).append(s)
    fail.check(len(lt) == len(want), f"{label}: {len(lt)} llmtap traces for {len(want)} SDK traces")
    gen_trace = {s["attributes"].get("gen_ai.response.id"): s["trace_id"] for s in spans if s["kind"] == "generation"}
    for tid, w in want.items():
        ids = [r for r in w["responses"] if r]
        homes = {gen_trace.get(r) for r in ids}
        where = f"{label} SDK trace {tid[-8:]}"
        if not fail.check(len(homes) == 1 and None not in homes,
                          f"{where}: its model calls are in llmtap traces {sorted(map(str, homes))}"):
            continue
        t = lt[homes.pop()]
        by_id = {s["span_id"]: s for s in t}
        gens = [s for s in t if s["kind"] == "generation"]
        fail.check(len(gens) == len(w["responses"]),
                   f"{where}: {len(gens)} llmtap generations for {len(w['responses'])} SDK model calls")
        lt_ids = {g["attributes"].get("gen_ai.response.id") for g in gens}
        fail.check(set(ids) <= lt_ids, f"{where}: SDK response ids {sorted(set(ids) - lt_ids)} missing in llmtap")
        guards = [s for s in t if s["kind"] == "guardrail"]
        fail.check(len(guards) == len(w["guardrails"]),
                   f"{where}: {len(guards)} llmtap guardrail spans for SDK's {[g[0] for g in w['guardrails']]}")

        def guard_of(gen):
            p = by_id.get(gen["parent_span_id"])
            while p is not None and p["kind"] != "guardrail":
                p = by_id.get(p["parent_span_id"])
            return p

        for name, triggered, inside in w["guardrails"]:
            target = "llm_input" if name == INPUT_GUARDRAIL else "llm_output"
            homes = {id(guard_of(g)) if guard_of(g) else None for g in gens
                     if g["attributes"].get("gen_ai.response.id") in inside}
            g = next((guard_of(x) for x in gens if x["attributes"].get("gen_ai.response.id") in inside), None)
            if not fail.check(g is not None and len(homes) == 1 and inside,
                              f"{where}: the calls of SDK guardrail {name!r} are not under one llmtap guardrail span"):
                continue
            a = g["attributes"]
            fail.check(a.get("gen_ai.operation.name") == "apply_guardrail", f"{where}: {g['name']!r} operation name")
            # As in the SDK: under the agent it protects (the main agent, not a guardrail's).
            parent = by_id.get(g["parent_span_id"])
            fail.check(parent is not None and parent["kind"] == "agent" and
                       "llmtap.side_call.role" not in parent["attributes"],
                       f"{where}: {g['name']!r} is not under the main agent span")
            fail.check(a.get("gen_ai.security.target.type") == target,
                       f"{where}: {name!r} is {a.get('gen_ai.security.target.type')!r} in llmtap, {target!r} in the SDK")
            fail.check(a.get("llmtap.guardrail.tripped") is not None and
                       bool(a.get("llmtap.guardrail.tripped")) == triggered,
                       f"{where}: {name!r} triggered={triggered} in the SDK, llmtap.guardrail.tripped="
                       f"{a.get('llmtap.guardrail.tripped')!r}")
            if target == "llm_output" and parent is not None:
                rejected = parent.get("status", {}).get("code") == "ERROR" or parent.get("error") is True
                fail.check(rejected == triggered and (not triggered or "output guardrail tripped" in
                                                      str(parent.get("status", {}).get("message", ""))),
                           f"{where}: output guardrail triggered={triggered} in the SDK, the agent it checked "
                           f"has status {parent.get('status')!r}")
                if triggered:
                    fail.check(a.get("llmtap.guardrail.tripped_evidence") == "verdict",
                               f"{where}: tripped output guardrail evidence {a.get('llmtap.guardrail.tripped_evidence')!r}")
            if target == "llm_input":
                if triggered:
                    fail.check(any(x["attributes"].get("llmtap.call.abandoned_reason") for x in gens),
                               f"{where}: no generation marked abandoned though the guardrail tripped")
                if triggered and any(r is None for r in w["responses"]):
                    # The SDK stopped reading the agent's stream before it completed: cut on the wire.
                    fail.check(a.get("llmtap.guardrail.tripped_evidence") == "main_call_cut" and
                               any(x["attributes"].get("llmtap.call.incomplete") for x in gens),
                               f"{where}: the SDK abandoned the agent's stream, llmtap says "
                               f"{a.get('llmtap.guardrail.tripped_evidence')!r}")
        # Cost: the run's total is every generation's, guardrail calls included.
        root = next((s for s in t if s["kind"] == "workflow"), None)
        costs = [float(x["attributes"].get("llm.cost.total", 0)) for x in gens]
        guard_costs = [float(x["attributes"].get("llm.cost.total", 0)) for x in gens if guard_of(x)]
        fail.check(all(c > 0 for c in guard_costs) and guard_costs, f"{where}: guardrail calls unpriced: {guard_costs}")
        total = float(root["attributes"].get("llm.cost.total", 0)) if root else 0
        fail.check(root is not None and abs(total - sum(costs)) < 1e-9,
                   f"{where}: run cost {total} is not the sum of its generations {sum(costs)}")


def run_canaries(fail, label, sdk, spans):
    def guard_gen(sp):
        by = {s["span_id"]: s for s in sp}
        for s in sp:
            p = by.get(s["parent_span_id"])
            while p is not None and p["kind"] != "guardrail":
                p = by.get(p["parent_span_id"])
            if s["kind"] == "generation" and p is not None:
                return s
        raise AssertionError("no guardrail generation")

    def flip_trip(sp):
        g = next(s for s in sp if s["kind"] == "guardrail" and s["attributes"].get("gen_ai.security.target.type") == "llm_input")
        g["attributes"]["llmtap.guardrail.tripped"] = not g["attributes"].get("llmtap.guardrail.tripped")

    def flip_output_trip(sp):
        g = next(s for s in sp if s["kind"] == "guardrail" and s["attributes"].get("gen_ai.security.target.type") == "llm_output"
                 and s["attributes"].get("llmtap.guardrail.tripped"))
        g["attributes"]["llmtap.guardrail.tripped"] = False

    def other_trace(sp):
        g = guard_gen(sp)
        g["trace_id"] = next(s["trace_id"] for s in sp if s["trace_id"] != g["trace_id"])

    mutations = {
        "guardrail call in another trace": other_trace,
        "guardrail span dropped": lambda sp: sp.remove(next(s for s in sp if s["kind"] == "guardrail")),
        "tripped flag flipped": flip_trip,
        "tripped output guardrail reported as passed": flip_output_trip,
        "guardrail target swapped": lambda sp: next(s for s in sp if s["kind"] == "guardrail")["attributes"].update(
            {"gen_ai.security.target.type": "llm_other"}),
        "run cost without a guardrail call": lambda sp: [s["attributes"].update(
            {"llm.cost.total": float(s["attributes"]["llm.cost.total"]) - float(guard_gen(sp)["attributes"]["llm.cost.total"])})
            for s in sp if s["kind"] == "workflow" and s["trace_id"] == guard_gen(sp)["trace_id"]],
    }
    for name, mutate in mutations.items():
        sp = copy.deepcopy(spans)
        mutate(sp)
        probe = base.Failures(quiet=True)
        score(probe, label, sdk, sp)
        fail.check(bool(probe.items), f"canary: the comparison did not notice: {name}")
    print(f"  canaries: {len(mutations)} mutations of llmtap's export, each must be caught", flush=True)


def main():
    args, nm = base.sdk_test_args(__doc__, lambda ap: ap.add_argument("--streams", default="0,1"))
    if args is None:
        return base.SKIP
    if shutil.which("node") is None or not os.access(args.llmtap, os.X_OK):
        print("FAIL: node not on PATH or --llmtap not executable")
        return 1
    workdir = tempfile.mkdtemp(prefix="llmtap-guardrails-e2e-")
    fail = base.Failures()
    sim = otlp = None
    try:
        subprocess.run(["bash", base.MAKE_CA, workdir], check=True)
        ca = os.path.join(workdir, "ca.pem")
        base.copy_node_script(NODE_SCRIPT, workdir)
        os.symlink(nm, os.path.join(workdir, "node_modules"))
        # Streamed events 100 ms apart: the agent's stream is still running when its input
        # guardrail answers, so a tripped guardrail abandons it mid-stream as with a real model.
        sim, sim_addr = base.start_process_with_banner(
            [sys.executable, base.SIM, "--cert", os.path.join(workdir, "server.pem"),
             "--key", os.path.join(workdir, "server.key"), "--chunk-delay-ms", "100"],
            base.clean_env(os.environ), os.path.join(workdir, "sim.log"), "simulated provider")
        otlp = base.OtlpReceiver()
        canary_done = False
        for st in args.streams.split(","):
            stream = st == "1"
            label = f"guardrails responses{' stream' if stream else ''}"
            print(f"== {label}", flush=True)
            sdk, spans, otlp_spans, logs = base.run_through_llmtap(
                args, workdir, f"guardrails-{st}", sim_addr, ca, "responses", stream, otlp,
                script=os.path.basename(NODE_SCRIPT))
            fail.check(base.API_KEY not in logs, f"{label}: the API key appears in llmtap's logs or export")
            trips = sorted(str(r["tripped"]) for r in sdk["runs"] if r["tripped"])
            fail.check(trips == ["input", "output"], f"{label}: the SDK's tripped runs {trips}, expected one input, one output")
            before = len(fail.items)
            score(fail, label, sdk, spans)
            score(fail, label + " (OTLP)", sdk, otlp_spans)
            kinds = {}
            for s in spans:
                kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
            guards = [(s["name"], s["attributes"].get("llmtap.guardrail.tripped"),
                       s["attributes"].get("llmtap.guardrail.tripped_evidence")) for s in spans if s["kind"] == "guardrail"]
            print(f"  llmtap spans by kind: {dict(sorted(kinds.items()))}; guardrails {guards}; "
                  f"{len(fail.items) - before} failures", flush=True)
            if not canary_done and len(fail.items) == before:
                canary_done = True
                run_canaries(fail, label, sdk, spans)
        fail.check(canary_done, "canaries never ran (no configuration passed)")
    except BaseException:
        base.close_harness(fail, otlp, sim, workdir, args.keep, verdict=False)
        raise
    return base.close_harness(fail, otlp, sim, workdir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
