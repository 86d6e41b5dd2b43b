"""A plain Python httpx program: a tool-calling loop against the Chat Completions API.

Reads OPENAI_API_KEY and OPENAI_BASE_URL (default https://api.openai.com/v1) like any app; knows nothing
about llmtap. TLS is verified with httpx's defaults (SSL_CERT_FILE is honoured). Exits with $EXIT_CODE.
"""
import json
import os
import sys

import httpx

base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
headers = {"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
tools = [{"type": "function", "function": {
    "name": "lookup_order", "description": "Look up an order by id",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                   "required": ["order_id"]}}}]
messages = [{"role": "system", "content": "You are the support agent of an online shop."},
            {"role": "user", "content": "Where is my order 1002?"}]
with httpx.Client(timeout=60) as client:
    first = client.post(base + "/chat/completions", headers=headers,
                        json={"model": "gpt-4o-mini", "messages": messages, "tools": tools})
    first.raise_for_status()
    msg = first.json()["choices"][0]["message"]
    call = msg["tool_calls"][0]
    messages.append(msg)
    messages.append({"role": "tool", "tool_call_id": call["id"],
                     "content": json.dumps({"status": "in transit"})})
    text = ""
    with client.stream("POST", base + "/chat/completions", headers=headers,
                       json={"model": "gpt-4o-mini", "messages": messages, "tools": tools,
                             "stream": True, "stream_options": {"include_usage": True}}) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            data = line[5:].strip() if line.startswith("data:") else ""
            if data and data != "[DONE]":
                for choice in json.loads(data).get("choices", []):
                    text += choice.get("delta", {}).get("content") or ""
print(text)
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
