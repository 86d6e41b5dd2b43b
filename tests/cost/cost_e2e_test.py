#!/usr/bin/python3
"""End-to-end cost test (issue 4) plus shutdown/privacy checks (issue 5).

Real clients send three calls through a running `llmtap proxy` to a local TLS upstream with fixed usage:
  1. Anthropic Messages, streamed, via HTTPS_PROXY (TLS interception), Python httpx;
  2. OpenAI Chat Completions with cached prompt tokens, via the gateway route, curl;
  3. OpenAI Responses, streamed, with reasoning tokens, via HTTPS_PROXY, curl.
Traces are still open (long idle timeout) when llmtap gets SIGTERM: it must export them all before exiting.
The costs on the exported generation spans must equal the hand-computed dollars below, agent and workflow
spans must roll them up, and no file llmtap wrote may contain the API key.
Usage: cost_e2e_test.py LLMTAP_BINARY
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import llmtap_proxy  # noqa: E402
LLMTAP = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build/cli/llmtap")
API_KEY = "sk-ant-api03-COSTE2EKEY0123456789abcdefghij"

# Hand-computed expectations, USD. Prices per 1M tokens from the embedded table, checked by hand:
#  claude-sonnet-4-5: input 3, cache write 5m 3.75, cache write 1h 6, cache read 0.30, output 15.
#    Anthropic's input_tokens (1200) excludes cache reads (5000) and writes (2000 5m + 1000 1h).
#    prompt = 1200*3 + 2000*3.75 + 1000*6 + 5000*0.30 = 3600 + 7500 + 6000 + 1500 = 18600 /1e6 = 0.0186
#    completion = 350*15 = 5250 /1e6 = 0.00525 (message_delta's cumulative output_tokens, not 1 + 350)
#  gpt-4.1: input 2, cached input 0.50, output 8. OpenAI's prompt_tokens (2500) include 1792 cached.
#    prompt = (2500-1792)*2 + 1792*0.5 = 1416 + 896 = 2312 /1e6 = 0.002312
#    completion = 400*8 = 3200 /1e6 = 0.0032
#  o4-mini: input 1.10, output 4.40 (reasoning billed as output). output_tokens (500) include 300 reasoning.
#    prompt = 1000*1.1 = 1100 /1e6 = 0.0011
#    completion = 200*4.4 + 300*4.4 = 2200 /1e6 = 0.0022
EXPECTED = {
    "claude-sonnet-4-5-20250929": dict(prompt=0.0186, completion=0.00525, input_tokens=9200, output_tokens=350,
                                       cache_read=5000, cache_creation=3000, reasoning=0),
    "gpt-4.1-2025-04-14": dict(prompt=0.002312, completion=0.0032, input_tokens=2500, output_tokens=400,
                               cache_read=1792, cache_creation=0, reasoning=0),
    "o4-mini-2025-04-16": dict(prompt=0.0011, completion=0.0022, input_tokens=1000, output_tokens=500,
                               cache_read=0, cache_creation=0, reasoning=300),
}


def first_line(proc):
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening "):
        raise RuntimeError(f"expected 'listening ADDR', got {line!r}")
    return line.split()[1]


class CostEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="llmtap-cost-")
        t = cls.tmp.name
        subprocess.run(["bash", os.path.join(ROOT, "examples/sim-provider/make_test_ca.sh"), t + "/ca"], check=True)
        cls.upstream = subprocess.Popen([sys.executable, os.path.join(HERE, "fixed_usage_upstream.py"),
                                         t + "/ca/server.pem", t + "/ca/server.key"], stdout=subprocess.PIPE)
        up = first_line(cls.upstream)
        env = dict(os.environ, LLMTAP_DATA_DIR=t + "/data")
        cls.jsonl = t + "/spans.jsonl"
        cls.log = open(t + "/proxy.log", "wb")
        cls.proxy = subprocess.Popen(
            [LLMTAP, "proxy", "--listen", "127.0.0.1:0", "--upstream", f"openai=https://{up}",
             "--upstream", f"anthropic=https://{up}", "--upstream-ca", t + "/ca/ca.pem",
             "--export", "jsonl=" + cls.jsonl, "--export", "sqlite", "--trace-idle-ms", "600000",
             "--log-level", "debug"],
            stdout=subprocess.PIPE, stderr=cls.log, env=env)
        banner = llmtap_proxy.read_banner(cls.proxy.stdout)
        ca = t + "/data/ca.pem"
        headers = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
        body = {"model": "claude-sonnet-4-5-20250929", "max_tokens": 1024, "stream": True,
                "system": [{"type": "text", "text": "You are a billing agent.", "cache_control": {"type": "ephemeral"}}],
                "messages": [{"role": "user", "content": "Refund order 123"}]}
        with httpx.Client(proxies=banner.proxy_url, verify=ca, timeout=30) as client:
            with client.stream("POST", "https://api.anthropic.com/v1/messages", headers=headers, json=body) as r:
                cls.anthropic_status = r.status_code
                cls.anthropic_body = b"".join(r.iter_bytes())
        chat = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Where is order 123?"}]}
        cls.chat_out = subprocess.run(
            ["curl", "-sS", "--fail", banner.gateway_base + "/openai/v1/chat/completions",
             "-H", f"Authorization: Bearer {API_KEY}", "-H", "content-type: application/json",
             "-d", json.dumps(chat)], check=True, capture_output=True).stdout
        resp = {"model": "o4-mini", "input": "What is six times seven?", "stream": True}
        cls.responses_out = subprocess.run(
            ["curl", "-sS", "--fail", "--proxy", banner.proxy_url, "--cacert", ca,
             "https://api.openai.com/v1/responses", "-H", f"Authorization: Bearer {API_KEY}",
             "-H", "content-type: application/json", "-d", json.dumps(resp)],
            check=True, capture_output=True).stdout
        # Traces are open (idle timeout 10 min): SIGTERM must close and export them before exit.
        cls.proxy.send_signal(signal.SIGTERM)
        cls.proxy_rc = cls.proxy.wait(timeout=15)
        cls.upstream.terminate()
        cls.upstream.wait()
        cls.upstream.stdout.close()
        cls.proxy.stdout.close()
        cls.log.close()
        with open(cls.jsonl) as f:
            cls.spans = [json.loads(line) for line in f if line.strip()]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_clients_got_their_responses(self):
        self.assertEqual(self.anthropic_status, 200)
        self.assertIn(b"message_stop", self.anthropic_body)
        self.assertIn(b"Order 123 ships today.", self.chat_out)
        self.assertIn(b"response.completed", self.responses_out)

    def test_sigterm_exported_open_traces(self):
        self.assertEqual(self.proxy_rc, 0)
        generations = [s for s in self.spans if s["kind"] == "generation"]
        self.assertEqual(len(generations), 3, [s["name"] for s in self.spans])

    def test_generation_costs_equal_hand_computed(self):
        for s in (s for s in self.spans if s["kind"] == "generation"):
            a = s["attributes"]
            exp = EXPECTED[a["gen_ai.response.model"]]
            with self.subTest(model=a["gen_ai.response.model"]):
                self.assertAlmostEqual(a["llm.cost.prompt"], exp["prompt"], places=12)
                self.assertAlmostEqual(a["llm.cost.completion"], exp["completion"], places=12)
                self.assertAlmostEqual(a["llm.cost.total"], exp["prompt"] + exp["completion"], places=12)
                self.assertEqual(a["gen_ai.usage.input_tokens"], exp["input_tokens"])
                self.assertEqual(a["gen_ai.usage.output_tokens"], exp["output_tokens"])
                self.assertEqual(a["gen_ai.usage.cache_read.input_tokens"], exp["cache_read"])
                self.assertEqual(a["gen_ai.usage.cache_creation.input_tokens"], exp["cache_creation"])
                self.assertEqual(a["gen_ai.usage.reasoning.output_tokens"], exp["reasoning"])
                self.assertTrue(a["llmtap.pricing.version"])

    def test_cost_rolls_up_to_agent_and_workflow(self):
        by_id = {s["span_id"]: s for s in self.spans}
        for s in (s for s in self.spans if s["kind"] == "generation"):
            agent = by_id[s["parent_span_id"]]
            root = by_id[agent["parent_span_id"]]
            self.assertEqual(agent["kind"], "agent")
            self.assertEqual(root["kind"], "workflow")
            self.assertAlmostEqual(agent["attributes"]["llm.cost.total"], s["attributes"]["llm.cost.total"], places=12)
            self.assertAlmostEqual(root["attributes"]["llm.cost.total"], s["attributes"]["llm.cost.total"], places=12)

    def test_no_api_key_in_any_file(self):
        key_parts = [API_KEY.encode(), API_KEY[12:].encode()]
        for dirpath, _, files in os.walk(self.tmp.name):
            if dirpath.endswith("/ca"):
                continue
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    data = f.read()
                for part in key_parts:
                    self.assertNotIn(part, data, f"API key found in {name}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
