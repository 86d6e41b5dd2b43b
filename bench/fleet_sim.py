#!/usr/bin/env python3
"""Two llmtap gateways behind one balancer, on loopback: what a fleet does to conversations.

Starts the simulated provider, two `llmtap proxy` instances (each its own data directory and JSONL
export) and a small HTTP balancer in front of them, then drives N concurrent two-turn tool-loop
conversations (Chat Completions with the history resent, and Responses chained with
`previous_response_id`) through the balancer, once per balancing policy:

  round-robin       every request to the next instance (what a plain L7 balancer does today);
  conversation-key  the routing tier of docs/scaling.md: a request goes to the instance that owns its
                    conversation key, the hash of the conversation's first user message (every
                    history-resending request carries it), or, for a `previous_response_id` request,
                    to the instance that answered that response (a bounded map the balancer learns from
                    the responses it forwards).

Then reads both exports and prints, per policy and API: conversations recorded whole (all their
generations in one trace, on one instance), traces per conversation, generations recorded vs model
calls made, and tool spans left unanswered (their result went to the other instance).
Not a test: it prints what it measured. Usage: bench/fleet_sim.py [--llmtap PATH] [--conversations N]
"""
import argparse
import collections
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import llmtap_proxy  # noqa: E402

SIM = os.path.join(ROOT, "examples", "sim-provider", "sim_provider.py")
TOOLS_CHAT = [{"type": "function", "function": {"name": "lookup_order", "description": "Look up an order",
                                                  "parameters": {"type": "object", "properties": {
                                                      "order_id": {"type": "string"}}, "required": ["order_id"]}}}]
TOOLS_RESPONSES = [{"type": "function", "name": "lookup_order", "description": "Look up an order",
                    "parameters": TOOLS_CHAT[0]["function"]["parameters"]}]
INSTRUCTIONS = "You are the order status agent of the fleet simulation."


def start(cmd, env=None, stderr=None):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr or subprocess.DEVNULL, env=env)
    return p


# --------------------------------------------------------------------------------------------- balancer
class Balancer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, backends, policy):
        super().__init__(("127.0.0.1", 0), BalancerHandler)
        self.backends = backends  # [(port, gateway_prefix)]
        self.policy = policy
        self.lock = threading.Lock()
        self.next = 0
        self.owner_of_response = collections.OrderedDict()  # response id -> backend index (bounded)

    def pick(self, body):
        if self.policy == "round-robin":
            with self.lock:
                i = self.next
                self.next = (self.next + 1) % len(self.backends)
            return i
        req = json.loads(body or b"{}")
        prev = req.get("previous_response_id")
        if prev:
            with self.lock:
                if prev in self.owner_of_response:
                    return self.owner_of_response[prev]
        key = first_user_text(req)
        return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % len(self.backends)

    def learned(self, i, response_body):
        try:
            rid = json.loads(response_body).get("id")
        except ValueError:
            return
        if isinstance(rid, str) and rid.startswith("resp"):
            with self.lock:
                self.owner_of_response[rid] = i
                while len(self.owner_of_response) > 100_000:
                    self.owner_of_response.popitem(last=False)


def first_user_text(req):
    items = req.get("messages") or req.get("input") or []
    if isinstance(items, str):
        return items
    for m in items:
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else json.dumps(c, sort_keys=True)
    return ""


class BalancerHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        i = self.server.pick(body)
        port, prefix = self.server.backends[i]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        conn.request("POST", prefix + self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        self.server.learned(i, data)
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# --------------------------------------------------------------------------------------------- clients
def post(port, path, obj):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=json.dumps(obj),
                 headers={"Content-Type": "application/json", "Authorization": "Bearer sk-fleet-sim"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    if r.status != 200:
        raise RuntimeError(f"{path}: HTTP {r.status}: {data[:200]!r}")
    return json.loads(data)


def chat_conversation(port, cid):
    """Two user turns, each a tool call then an answer: four model calls, history resent each time."""
    msgs = [{"role": "system", "content": INSTRUCTIONS}]
    calls = 0
    for turn in (f"Where is order {cid}-A?", f"And order {cid}-B?"):
        msgs.append({"role": "user", "content": turn})
        for _ in range(4):
            out = post(port, "/openai/v1/chat/completions",
                       {"model": "gpt-4o-mini", "messages": msgs, "tools": TOOLS_CHAT, "user": cid})
            calls += 1
            m = out["choices"][0]["message"]
            msgs.append({k: v for k, v in m.items() if v is not None})
            if not m.get("tool_calls"):
                break
            for tc in m["tool_calls"]:
                msgs.append({"role": "tool", "tool_call_id": tc["id"], "content": json.dumps({"status": "shipped"})})
    return calls


def responses_conversation(port, cid):
    """The same shape over Responses, each request naming the previous response."""
    prev, calls = None, 0
    for turn in (f"Where is order {cid}-A?", f"And order {cid}-B?"):
        items = [{"role": "user", "content": turn}]
        for _ in range(4):
            req = {"model": "gpt-4o-mini", "instructions": INSTRUCTIONS, "input": items,
                   "tools": TOOLS_RESPONSES, "user": cid, "store": True}
            if prev:
                req["previous_response_id"] = prev
            out = post(port, "/openai/v1/responses", req)
            calls += 1
            prev = out["id"]
            fcs = [o for o in out.get("output", []) if o.get("type") == "function_call"]
            if not fcs:
                break
            items = [{"type": "function_call_output", "call_id": fc["call_id"],
                      "output": json.dumps({"status": "shipped"})} for fc in fcs]
    return calls


# --------------------------------------------------------------------------------------------- scoring
def load_spans(path):
    spans = []
    if os.path.exists(path):
        with open(path) as f:
            spans = [json.loads(line) for line in f if line.strip()]
    return spans


def attr(span, key):
    return (span.get("attributes") or {}).get(key)


def score(exports, conv_ids):
    """Per conversation: the (instance, trace id) pairs its generations landed in."""
    where = collections.defaultdict(set)
    generations = collections.Counter()
    unanswered = 0
    for inst, spans in enumerate(exports):
        by_trace = collections.defaultdict(list)
        for s in spans:
            by_trace[s["trace_id"]].append(s)
        for tid, group in by_trace.items():
            users = {attr(s, "user.id") for s in group if attr(s, "llmtap.span.kind") == "generation"}
            for s in group:
                if attr(s, "llmtap.span.kind") == "generation" and attr(s, "user.id") in conv_ids:
                    where[attr(s, "user.id")].add((inst, tid))
                    generations[attr(s, "user.id")] += 1
                if attr(s, "llmtap.tool.unanswered") and users & conv_ids:
                    unanswered += 1
    return where, generations, unanswered


def run_policy(args, policy, api, work, sim_port):
    insts, backends = [], []
    for k in range(2):
        data = os.path.join(work, f"{policy}-{api}-data{k}")
        os.makedirs(data, mode=0o700)
        export = os.path.join(work, f"{policy}-{api}-{k}.jsonl")
        env = {k2: v for k2, v in os.environ.items() if not k2.startswith(("LLMTAP_", "OTEL_", "HTTPS_PROXY", "HTTP_PROXY"))}
        env["LLMTAP_DATA_DIR"] = data
        log = open(os.path.join(work, f"{policy}-{api}-{k}.log"), "wb")
        p = start([args.llmtap, "proxy", "--listen", "127.0.0.1:0", "--upstream", f"openai=http://127.0.0.1:{sim_port}",
                   "--allow-private-upstream", "--raw-user-ids", "--export", f"jsonl={export}",
                   "--trace-idle-ms", "600000", "--no-collector"], env=env, stderr=log)
        banner = llmtap_proxy.read_banner(p.stdout)
        insts.append((p, export))
        backends.append((banner.port, banner.gateway_prefix))
    lb = Balancer(backends, policy)
    threading.Thread(target=lb.serve_forever, daemon=True).start()
    conv_ids = {f"conv-{api}-{i:03d}" for i in range(args.conversations)}
    drive = chat_conversation if api == "chat" else responses_conversation
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        calls = sum(pool.map(lambda cid: drive(lb.server_address[1], cid), sorted(conv_ids)))
    lb.shutdown()
    for p, _ in insts:
        p.send_signal(signal.SIGTERM)
    for p, _ in insts:
        p.wait(timeout=30)
    where, generations, unanswered = score([load_spans(e) for _, e in insts], conv_ids)
    whole = sum(1 for c in conv_ids if len(where[c]) == 1)
    traces = [len(where[c]) for c in conv_ids]
    return {"policy": policy, "api": api, "conversations": len(conv_ids), "whole": whole,
            "traces_per_conversation": sum(traces) / len(traces), "max_traces": max(traces),
            "calls": calls, "generations": sum(generations.values()), "unanswered_tool_spans": unanswered}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llmtap", default=os.path.join(ROOT, "build", "cli", "llmtap"))
    ap.add_argument("--conversations", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="llmtap-fleet-")
    os.chmod(work, 0o700)
    sim = start([sys.executable, SIM, "--port", "0"])
    sim_port = int(sim.stdout.readline().decode().rsplit(":", 1)[1])
    rows = []
    try:
        for policy in ("round-robin", "conversation-key"):
            for api in ("chat", "responses"):
                rows.append(run_policy(args, policy, api, work, sim_port))
    finally:
        sim.kill()
        sim.wait()
    print(f"{'policy':<17} {'api':<10} {'whole':>9} {'traces/conv':>12} {'max':>4} {'calls':>6} {'generations':>12} {'unanswered tools':>17}")
    for r in rows:
        print(f"{r['policy']:<17} {r['api']:<10} {r['whole']:>4}/{r['conversations']:<4} {r['traces_per_conversation']:>12.2f}"
              f" {r['max_traces']:>4} {r['calls']:>6} {r['generations']:>12} {r['unanswered_tool_spans']:>17}")
    print(f"(exports and logs in {work})")


if __name__ == "__main__":
    main()
