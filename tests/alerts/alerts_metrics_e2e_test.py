#!/usr/bin/python3
"""Alerts, budgets and metrics end to end (issue 15, items 3 and 4).

A real `llmtap proxy` in front of the simulated provider, with a rules file (a tiny per-user budget,
enforced; a per-trace cost rule), a webhook receiver on 127.0.0.1 port 0 and --metrics-listen:
  * alice's first call goes through and spends her budget: the webhook gets the alert (Slack `text`);
  * alice's next OpenAI and Anthropic calls get the provider's own 429 error naming the budget (also
    through HTTPS_PROXY with TLS interception and a 300 kB body), bob's call and alice's model list
    are forwarded untouched;
  * the Prometheus endpoint, scraped with urllib and curl, shows the GenAI histograms, cost by model,
    the proxy's counters and the refusals;
  * after SIGTERM `llmtap alerts list` (text and --json) shows the alerts, the exported trace carries
    llmtap.alerts, and `llmtap alerts list` on an empty data directory says there are none.
Usage: alerts_metrics_e2e_test.py LLMTAP_BINARY
"""
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import llmtap_proxy  # noqa: E402
LLMTAP = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build/cli/llmtap")

RULES = """\
webhook:
  url: http://127.0.0.1:{port}/hook
  timeout: 5s
rules:
  - name: user-day
    kind: user_budget
    max_usd: 0.000001
    period: 1d
  - name: any-cost
    kind: trace_cost
    max_usd: 0
    window: 1h
"""


class Hooks(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Hooks.received.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_for(pred, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    return None


def post(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers=dict({"content-type": "application/json"}, **headers))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def chat(who):
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello from " + who}]}


def traces_counted(text):
    return sum(float(v) for v in re.findall(r"^llmtap_traces_total\S* (\S+)$", text, re.M))
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]}
OPENAI_KEY = {"authorization": "Bearer sk-test-ALERTSE2EKEY0123456789abcdef"}
ANTHROPIC_KEY = {"x-api-key": "sk-ant-api03-ALERTSE2EKEY0123456789abcdef", "anthropic-version": "2023-06-01"}


class AlertsMetricsEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="llmtap-alerts-")
        t = cls.tmp.name
        cls.hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
        threading.Thread(target=cls.hooks.serve_forever, daemon=True).start()
        with open(t + "/rules.yaml", "w") as f:
            f.write(RULES.format(port=cls.hooks.server_address[1]))
        cls.sim = subprocess.Popen([sys.executable, os.path.join(ROOT, "examples/sim-provider/sim_provider.py")],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        sim = cls.sim.stdout.readline().decode().split()[1]
        cls.data = t + "/data"
        cls.jsonl = t + "/spans.jsonl"
        cls.log_path = t + "/proxy.log"
        cls.log = open(cls.log_path, "wb")
        cls.proxy = subprocess.Popen(
            [LLMTAP, "proxy", "--listen", "127.0.0.1:0", "--upstream", f"openai=http://{sim}",
             "--upstream", f"anthropic=http://{sim}", "--user-header", "x-end-user",
             "--alert-rules", t + "/rules.yaml", "--enforce-budgets", "--metrics-listen", "127.0.0.1:0",
             "--trace-idle-ms", "300", "--export", "sqlite", "--export", "jsonl=" + cls.jsonl,
             "--data-dir", cls.data],
            stdout=subprocess.PIPE, stderr=cls.log)
        cls.banner = llmtap_proxy.read_banner(cls.proxy.stdout)

        def metrics_address():
            with open(cls.log_path) as f:
                m = re.search(r"metrics at http://(\S+)/metrics", f.read())
            return m and m.group(1)
        cls.metrics = wait_for(metrics_address)
        gw = cls.banner.gateway_base
        cls.openai = gw + "/openai/v1/chat/completions"
        cls.anthropic = gw + "/anthropic/v1/messages"
        # alice spends her budget with her first call; her next calls are refused.
        cls.first = post(cls.openai, chat("alice"), dict(OPENAI_KEY, **{"x-end-user": "alice"}))
        cls.fired = wait_for(lambda: [h for h in Hooks.received if h[2]["alert"]["rule"] == "user-day"])
        cls.refused_openai = post(cls.openai, chat("alice"), dict(OPENAI_KEY, **{"x-end-user": "alice"}))
        cls.refused_anthropic = post(cls.anthropic, MESSAGES, dict(ANTHROPIC_KEY, **{"x-end-user": "alice"}))
        # Through HTTPS_PROXY (TLS interception) with a 300 kB body: refused as well, the whole answer arrives.
        curl = shutil.which("curl")
        cls.intercepted = None
        if curl:
            with open(t + "/big.json", "w") as f:
                json.dump(dict(chat("alice"), messages=[{"role": "user", "content": "x" * 300000}]), f)
            cls.intercepted = subprocess.run(
                [curl, "-sS", "-w", "\n%{http_code}", "--proxy", cls.banner.proxy_url, "--cacert", cls.data + "/ca.pem",
                 "-H", "x-end-user: alice", "-H", "content-type: application/json", "-H",
                 "authorization: " + OPENAI_KEY["authorization"], "--data-binary", "@" + t + "/big.json",
                 "https://api.openai.com/v1/chat/completions"], capture_output=True, text=True, timeout=60)
        cls.bob = post(cls.openai, chat("bob"), dict(OPENAI_KEY, **{"x-end-user": "bob"}))
        req = urllib.request.Request(gw + "/openai/v1/models", headers=dict(OPENAI_KEY, **{"x-end-user": "alice"}))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                cls.models_status = r.status
        except urllib.error.HTTPError as e:
            cls.models_status = e.code
            e.read()  # the whole answer: a response is counted once it is relayed completely
        # Both traces closed (idle 300 ms) and counted.
        cls.scrape = wait_for(lambda: (lambda s: s if traces_counted(s) == 2 else None)(
            urllib.request.urlopen(f"http://{cls.metrics}/metrics", timeout=10).read().decode()))
        cls.curl = subprocess.run([curl, "-sS", "-i", f"http://{cls.metrics}/metrics"], capture_output=True,
                                  text=True, timeout=30).stdout if curl else None
        cls.proxy.send_signal(signal.SIGTERM)
        cls.proxy.wait(timeout=15)
        cls.log.close()

    @classmethod
    def tearDownClass(cls):
        for p in (cls.proxy, cls.sim):
            if p.poll() is None:
                p.kill()
                p.wait()
        cls.hooks.shutdown()
        cls.tmp.cleanup()

    def test_first_call_passes_and_fires_the_webhook(self):
        self.assertEqual(self.first[0], 200, self.first)
        self.assertTrue(self.fired, Hooks.received)
        path, ctype, body = self.fired[0]
        self.assertEqual(path, "/hook")
        self.assertEqual(ctype, "application/json")
        self.assertEqual(body["alert"]["state"], "fired")
        self.assertEqual(body["alert"]["kind"], "user_budget")
        self.assertRegex(body["text"], r"^llmtap: alert user-day \(user h_[0-9a-f]{32}\): spent \$")
        self.assertNotIn("alice", json.dumps(body))  # user ids are hashed

    def test_spent_user_gets_the_providers_429(self):
        status, headers, raw = self.refused_openai
        self.assertEqual(status, 429, raw)
        self.assertEqual(headers.get("X-Llmtap-Budget"), "user-day")
        self.assertGreater(int(headers["Retry-After"]), 0)
        err = json.loads(raw)["error"]
        self.assertEqual(err["type"], "rate_limit_error")
        self.assertEqual(err["code"], "llmtap_budget_exceeded")
        self.assertRegex(err["message"], r"^llmtap budget 'user-day' for this user is spent .*; it resets at "
                                         r"\d{4}-\d\d-\d\d 00:00:00 UTC$")
        status, _, raw = self.refused_anthropic
        self.assertEqual(status, 429, raw)
        body = json.loads(raw)
        self.assertEqual(body["type"], "error")
        self.assertEqual(body["error"]["type"], "rate_limit_error")

    def test_intercepted_call_is_refused_too(self):
        if self.intercepted is None:
            self.skipTest("no curl")
        body, _, status = self.intercepted.stdout.rpartition("\n")
        self.assertEqual(status, "429", self.intercepted.stderr)
        self.assertEqual(json.loads(body)["error"]["code"], "llmtap_budget_exceeded")

    def test_other_traffic_is_untouched(self):
        self.assertEqual(self.bob[0], 200, self.bob)
        self.assertEqual(self.models_status, 404)  # the simulated provider has no model list: its own answer

    def test_prometheus_endpoint(self):
        s = self.scrape
        self.assertTrue(s, "traces never counted")
        self.assertIn("# TYPE gen_ai_client_token_usage histogram\n", s)
        self.assertIn("# TYPE gen_ai_client_operation_duration_seconds histogram\n", s)
        self.assertRegex(s, r'gen_ai_client_token_usage_bucket\{gen_ai_operation_name="chat",gen_ai_provider_name="openai",'
                            r'gen_ai_request_model="gpt-4o-mini",gen_ai_response_model="[^"]+",gen_ai_token_type="input",le="\+Inf"\} 2\n')
        self.assertRegex(s, r'gen_ai_client_operation_duration_seconds_count\{[^}]*gen_ai_request_model="gpt-4o-mini"[^}]*\} 2\n')
        cost = re.search(r'^llmtap_cost_usd_total\{model="gpt-4o-mini[^"]*",agent="[^"]*",workflow="[^"]*"\} (\S+)$', s, re.M)
        self.assertTrue(cost, s)
        self.assertGreater(float(cost.group(1)), 0)
        self.assertRegex(s, r"(?m)^llmtap_proxy_requests_total 3$")  # alice's first, bob's, the model list
        self.assertRegex(s, r"(?m)^llmtap_budget_refusals_total %d$" % (3 if self.intercepted else 2))
        self.assertRegex(s, r'(?m)^llmtap_proxy_responses_total\{class="2xx"\} 2$')
        self.assertRegex(s, r'(?m)^llmtap_proxy_responses_total\{class="4xx"\} 1$')
        self.assertRegex(s, r"(?m)^llmtap_open_traces 0$")
        self.assertRegex(s, r"(?m)^llmtap_store_traces_total \d+$")
        self.assertRegex(s, r'(?m)^llmtap_alerts_total\{state="fired"\} [1-9]\d*$')
        self.assertNotIn("alice", s)
        for line in s.splitlines():  # every sample line parses as NAME{labels} VALUE
            if line and not line.startswith("#"):
                self.assertRegex(line, r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? \S+$')
        if self.curl is not None:
            self.assertTrue(self.curl.startswith("HTTP/1.1 200 OK"), self.curl[:200])
            self.assertIn("Content-Type: text/plain; version=0.0.4", self.curl)

    def test_alerts_list_and_trace_attribute(self):
        out = subprocess.run([LLMTAP, "alerts", "list", "--json", "--data-dir", self.data], capture_output=True,
                             text=True, check=True).stdout
        alerts = json.loads(out)["alerts"]
        budget = [a for a in alerts if a["rule"] == "user-day"]
        self.assertEqual(len(budget), 2, alerts)  # alice and bob, once each
        self.assertTrue(all(a["state"] == "firing" and a["kind"] == "user_budget" and "resets_at" in a for a in budget))
        self.assertEqual(len([a for a in alerts if a["rule"] == "any-cost"]), 1, alerts)  # once per window
        text = subprocess.run([LLMTAP, "alerts", "list", "--data-dir", self.data], capture_output=True, text=True,
                              check=True).stdout
        self.assertIn("user-day", text)
        self.assertIn("FIRED", text)
        marked, alerted = 0, None
        with open(self.jsonl) as f:
            for line in f:
                span = json.loads(line)
                if span.get("attributes", {}).get("llmtap.alerts") == ["any-cost"]:
                    marked += 1
                    alerted = span["trace_id"]
                    # ... and the alert as a span event on that root span.
                    events = span.get("events", [])
                    self.assertEqual([e["name"] for e in events], ["llmtap.alert"], span)
                    self.assertEqual(events[0]["attributes"], {"llmtap.alert.rule": "any-cost",
                                                               "llmtap.alert.kind": "trace_cost"})
                    self.assertEqual(events[0]["time_unix_nano"], span["end_time_unix_nano"])
                else:
                    self.assertNotIn("events", span)
        self.assertEqual(marked, 2)  # both traces cost more than $0
        # The store keeps the event too: `traces show --json` prints it with the span.
        shown = subprocess.run([LLMTAP, "traces", "show", alerted, "--json", "--data-dir", self.data],
                               capture_output=True, text=True, check=True).stdout
        self.assertIn('"llmtap.alert"', json.dumps(json.loads(shown)), shown)
        with open(self.log_path) as f:
            log = f.read()
        self.assertIn("alert user-day (user h_", log)
        self.assertIn("refused a model call to api.openai.com (openai)", log)
        self.assertNotIn("ALERTSE2EKEY", log)

    def test_empty_store_and_help(self):
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o700)
            r = subprocess.run([LLMTAP, "alerts", "list", "--data-dir", d], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("no alerts", r.stdout)
            r = subprocess.run([LLMTAP, "alerts", "list", "--json", "--data-dir", d], capture_output=True, text=True)
            self.assertEqual(json.loads(r.stdout), {"alerts": []})
        for args in (["alerts", "--help"], ["alerts", "list", "--help"]):
            r = subprocess.run([LLMTAP] + args, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0)
            self.assertIn("Usage: llmtap alerts list", r.stdout)
        r = subprocess.run([LLMTAP, "proxy", "--help"], capture_output=True, text=True)
        for opt in ("--alert-rules", "--enforce-budgets", "--metrics-listen"):
            self.assertIn(opt, r.stdout)

    def test_bad_rules_file_names_line_and_field(self):
        with tempfile.TemporaryDirectory() as d:
            bad = d + "/bad.yaml"
            with open(bad, "w") as f:
                f.write("rules:\n  - name: x\n    kind: spend\n    max_usd: lots\n")
            r = subprocess.run([LLMTAP, "alerts", "check", bad], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn(bad + ":4: rules[0].max_usd: wants a number", r.stderr)
            r = subprocess.run([LLMTAP, "proxy", "--listen", "127.0.0.1:0", "--alert-rules", bad, "--data-dir",
                                d + "/data"], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(bad + ":4: rules[0].max_usd", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
