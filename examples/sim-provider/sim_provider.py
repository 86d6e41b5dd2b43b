#!/usr/bin/env python3
"""A local simulated LLM provider that speaks the real wire formats.

Serves OpenAI Chat Completions and Responses, Anthropic Messages and Gemini generateContent, each
non-streaming and streaming (SSE), over HTTP or HTTPS, and the Responses API over WebSocket
(`GET …/responses` with `Upgrade: websocket`, sim_websocket.py). A deterministic scripted "brain" decides each
turn from the conversation and the tools offered, so agent frameworks run real multi-step workflows
(tool calls, handoffs, final answers) against it without a network or a key.

Usage: sim_provider.py [--host 127.0.0.1] [--port 0] [--cert FILE --key FILE]
                       [--latency-ms N] [--chunk-delay-ms N] [--chunks N] [--gzip]
                       [--parallel-tools] [--log FILE]
                       [--ws-deflate on|no-context|off] [--ws-fragment N] [--ws-ping]
                       [--ws-transcript DIR]
The first stdout line is `listening HOST:PORT`. Python 3 standard library only.

The brain, per request:
  * the user's message scripts its tool calls as `[[Tool: argument]]` steps -> the next step
    (sim_scripted.py, for coding agents such as Claude Code);
  * last item a user message and a non-transfer tool offered -> call that tool with plausible args;
  * only `transfer_to_X` tools offered (a supervisor) and the user names X -> transfer to each X named,
    in order, once per user message (then answer);
  * last items tool results, a `transfer_to_*` tool offered, the user asks about billing/refund/invoice
    and no transfer happened yet -> call the transfer tool;
  * last items the result of a transfer (a handoff just happened) and a non-transfer tool offered that
    was not called since the user's message -> call it;
  * otherwise -> answer with text that mentions the tool results.
A user message containing SIM_ERROR_<status> (e.g. SIM_ERROR_429) gets that provider error.
Guardrail and classifier agents ("Reply only with a JSON verdict" in their instructions) get a JSON
verdict instead (sim_verdicts.py).
"""
import argparse
import collections
import gzip
import hashlib
import itertools
import json
import os
import re
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sim_gemini_cli
import sim_hosted
import sim_scripted
import sim_verdicts
import sim_websocket

def json_object(raw):
    """A request body's JSON object; {} when it is empty, not JSON or not an object."""
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


BILLING_WORDS = ("billing", "refund", "invoice", "charged", "charge")

# ---------------------------------------------------------------------------------------------
# Normalized conversation: a list of items, each a dict with "kind":
#   user(text) | assistant(text) | tool_call(name, call_id, args) | tool_result(call_id, name, text)
# Tools: a list of (name, json_schema).
# ---------------------------------------------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


def text_of(content):
    """Flattens any provider's message content (string or list of parts) into text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return str(content)
    parts = []
    for p in content:
        if isinstance(p, str):
            parts.append(p)
        elif isinstance(p, dict):
            if "text" in p and isinstance(p["text"], str):
                parts.append(p["text"])
            elif p.get("type") == "tool_result":
                parts.append(text_of(p.get("content")))
    return "\n".join(parts)


def stable_hash(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()


def approx_tokens(obj):
    s = obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True)
    return max(1, (len(s) + 3) // 4)


# ---------------------------------------------------------------------------------------------
# The brain
# ---------------------------------------------------------------------------------------------


def last_user_text(items):
    for it in reversed(items):
        if it["kind"] == "user":
            return it["text"]
    return ""


def plausible_args(tool_name, schema, user_text):
    """Arguments for TOOL following its JSON schema, filled from the user's words."""
    props = (schema or {}).get("properties") or {}
    required = (schema or {}).get("required")
    if isinstance(required, list) and required:
        # Optional parameters keep their defaults, as a model would leave them out.
        props = {k: v for k, v in props.items() if k in required}
    numbers = re.findall(r"\d+(?:\.\d+)?", user_text)
    order = re.search(r"#?\b([A-Z]{0,3}-?\d{3,})\b", user_text)
    amount = re.search(r"\$\s?(\d+(?:\.\d+)?)", user_text)
    # A shell tool's command: the first `backquoted` command in the user's words, else their words.
    quoted = re.search(r"`([^`]+)`", user_text)
    command = quoted.group(1) if quoted else user_text
    args = {}
    for name, spec in props.items():
        spec = spec if isinstance(spec, dict) else {}
        typ = spec.get("type")
        if isinstance(typ, list):
            typ = next((t for t in typ if t != "null"), "string")
        lname = name.lower()
        if "enum" in spec and spec["enum"]:
            args[name] = spec["enum"][0]
        elif typ in ("number", "integer"):
            val = float(amount.group(1)) if amount and "amount" in lname else (
                float(numbers[0]) if numbers else 1)
            args[name] = int(val) if typ == "integer" else val
        elif typ == "boolean":
            args[name] = True
        elif lname in ("command", "cmd") and typ == "array":
            args[name] = ["bash", "-lc", command]
        elif lname in ("command", "cmd"):
            args[name] = command
        elif typ == "array":
            args[name] = [user_text[:40]]
        elif typ == "object":
            args[name] = {}
        elif "order" in lname or lname.endswith("_id") or lname == "id":
            args[name] = order.group(1) if order else "A1001"
        elif "reason" in lname:
            args[name] = "customer request: " + user_text[:60]
        elif "email" in lname:
            args[name] = "customer@example.com"
        elif "city" in lname or "location" in lname:
            args[name] = "Paris"
        else:
            args[name] = user_text[:80]
    return args


def tools_called_since_user(items):
    """Names of the tools called since the last user message, oldest first, once per call."""
    called = []
    for it in reversed(items):
        if it["kind"] == "user":
            break
        if it["kind"] == "tool_call":
            called.insert(0, it["name"])
    return called


def named_transfer(transfer, user_text, called):
    """A supervisor (only transfer tools) hands off to the agents the user names, in the order named,
    each once per user message: the first `transfer_to_X` whose X (or X with spaces) the user wrote
    and that was not called yet."""
    text = user_text.lower()
    named = []
    for name, _ in transfer:
        target = name[len("transfer_to_"):].lower()
        at = min((i for i in (text.find(target), text.find(target.replace("_", " "))) if i >= 0), default=-1)
        if at >= 0 and name not in called:
            named.append((at, name))
    return min(named)[1] if named else None


def decide(items, tools, parallel=False):
    """Returns {"tool_calls": [(name, args_dict)]} or {"text": str}. Pure and deterministic.
    PARALLEL: on a user message, call every non-transfer tool at once (parallel tool calls)."""
    items = [it for it in items if it["kind"] != "system"]
    scripted = sim_scripted.scripted_decision(items, tools, answer_text)
    if scripted is not None:
        return scripted
    tool_names = [t[0] for t in tools]
    transfer = [t for t in tools if t[0].startswith("transfer_to_")]
    plain = [t for t in tools if not t[0].startswith("transfer_to_")]
    user_text = last_user_text(items)
    last = items[-1] if items else None

    named = named_transfer(transfer, user_text, tools_called_since_user(items)) if not plain else None
    if named and (last is None or last["kind"] in ("user", "tool_result")):
        return {"tool_calls": [(named, {})]}
    if last is None or last["kind"] == "user":
        if plain:
            chosen = plain if parallel else plain[:1]
            return {"tool_calls": [(n, plausible_args(n, sc, user_text)) for n, sc in chosen]}
        return {"text": answer_text(items, user_text)}

    if last["kind"] == "tool_result":
        called = tools_called_since_user(items)
        transferred = any(n.startswith("transfer_to_") for n in called)
        wants_billing = any(w in user_text.lower() for w in BILLING_WORDS)
        if transfer and wants_billing and not transferred:
            return {"tool_calls": [(transfer[0][0], {})]}
        # A handoff just happened: the new agent uses its own tool once.
        recent_results = []
        for it in reversed(items):
            if it["kind"] != "tool_result":
                break
            recent_results.append(it)
        just_handed_off = any(r.get("name", "").startswith("transfer_to_") or
                              '"assistant"' in r["text"] for r in recent_results)
        if just_handed_off:
            for name, schema in plain:
                if name not in called:
                    return {"tool_calls": [(name, plausible_args(name, schema, user_text))]}
    del tool_names
    return {"text": answer_text(items, user_text)}


def answer_text(items, user_text):
    results = []
    for it in reversed(items):
        if it["kind"] == "user":
            break
        if it["kind"] == "tool_result" and not it.get("name", "").startswith("transfer_to_"):
            results.append(it["text"])
    results.reverse()
    if results:
        summary = "; ".join(r.strip().replace("\n", " ")[:240] for r in results)
        return f"Here is what I found: {summary}. Is there anything else I can help you with?"
    if user_text:
        return f"Thanks for your message about \"{user_text[:80]}\". I can help with that."
    return "Hello! How can I help you today?"


# ---------------------------------------------------------------------------------------------
# Usage numbers: deterministic, realistic shapes (cached tokens on later turns).
# ---------------------------------------------------------------------------------------------


def usage_numbers(model, body_for_count, items, output_obj):
    prompt = approx_tokens(body_for_count) + 7
    turns = sum(1 for it in items if it["kind"] in ("assistant", "tool_call"))
    # Providers cache in 128-token blocks once the prefix is long enough; later turns hit the cache.
    cached = (prompt * 3 // 4) // 128 * 128 if turns > 0 and prompt >= 1024 else (
        (prompt // 2) if turns > 0 else 0)
    completion = approx_tokens(output_obj) + 3
    reasoning = 0
    m = (model or "").lower()
    if re.match(r"^(o\d|gpt-5|gemini-[3-9])", m) or "thinking" in m or "2.5" in m:
        reasoning = 64 + (prompt % 32)
        completion += reasoning
    return prompt, cached, completion, reasoning


# ---------------------------------------------------------------------------------------------
# Provider adapters: request -> (items, tools, model, stream); decision -> response / SSE events.
# ---------------------------------------------------------------------------------------------

_counter = itertools.count(1)
# Responses API: response id -> full items (for previous_response_id), the most recent ones only so a
# long benchmark does not grow without bound.
_responses_store = collections.OrderedDict()
_RESPONSES_KEPT = 20000
_CONNECTION_RESPONSES_KEPT = 256
_store_lock = threading.Lock()


def unique_suffix(seed):
    return stable_hash(seed, next(_counter), time.time_ns())[:24]


def call_id_for(response_id, i, prefix):
    """The I-th tool call id of a response: unique like a real provider's, so two runs that say the
    same things still have different calls (as with a real model)."""
    return prefix + stable_hash(response_id, i)[:24]


def split_text(text, n):
    if n <= 1 or len(text) < n:
        return [text] if text else []
    size = (len(text) + n - 1) // n
    return [text[i:i + size] for i in range(0, len(text), size)]


def split_json_args(args, n):
    return split_text(args, n) or [""]


class OpenAIChat:
    provider = "openai"

    @staticmethod
    def parse(body):
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise BadRequest("'messages' is a required property and must be a non-empty array")
        if not body.get("model"):
            raise BadRequest("you must provide a model parameter")
        items = []
        names = {}
        for m in body["messages"]:
            if not isinstance(m, dict):
                raise BadRequest("each message must be an object")
            role = m.get("role")
            if role in ("system", "developer"):
                continue
            if role == "user":
                items.append({"kind": "user", "text": text_of(m.get("content"))})
            elif role == "assistant":
                if m.get("content"):
                    items.append({"kind": "assistant", "text": text_of(m.get("content"))})
                for tc in m.get("tool_calls") or []:
                    fn = tc.get("function") or {}
                    names[tc.get("id")] = fn.get("name", "")
                    items.append({"kind": "tool_call", "name": fn.get("name", ""),
                                  "call_id": tc.get("id"), "args": fn.get("arguments", "")})
            elif role == "tool":
                cid = m.get("tool_call_id")
                items.append({"kind": "tool_result", "call_id": cid, "name": names.get(cid, ""),
                              "text": text_of(m.get("content"))})
            else:
                raise BadRequest(f"Invalid value for 'messages.role': {role!r}")
        tools = []
        for t in body.get("tools") or []:
            fn = t.get("function") or {}
            if fn.get("name"):
                tools.append((fn["name"], fn.get("parameters") or {}))
        return items, tools

    @staticmethod
    def error_body(status, message, code=None):
        typ = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
               429: "rate_limit_exceeded"}.get(status, "server_error")
        return {"error": {"message": message, "type": typ, "param": None, "code": code}}

    @staticmethod
    def build(body, items, decision, usage):
        model = body["model"]
        rid = "chatcmpl-" + unique_suffix(items)
        created = int(time.time())
        prompt, cached, completion, reasoning = usage
        usage_obj = {
            "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0},
        }
        tool_calls = [{"id": call_id_for(rid, i, "call_"), "type": "function",
                       "function": {"name": n, "arguments": json.dumps(a)}}
                      for i, (n, a) in enumerate(decision.get("tool_calls", []))]
        return {"id": rid, "created": created, "model": model, "usage": usage_obj,
                "text": decision.get("text"), "tool_calls": tool_calls,
                "finish_reason": "tool_calls" if tool_calls else "stop"}

    @staticmethod
    def response(r):
        msg = {"role": "assistant", "content": r["text"], "refusal": None, "annotations": []}
        if r["tool_calls"]:
            msg["tool_calls"] = r["tool_calls"]
        return {"id": r["id"], "object": "chat.completion", "created": r["created"], "model": r["model"],
                "choices": [{"index": 0, "message": msg, "logprobs": None,
                             "finish_reason": r["finish_reason"]}],
                "usage": r["usage"], "service_tier": "default", "system_fingerprint": "fp_sim0001"}

    @staticmethod
    def events(r, body, nchunks):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {"id": r["id"], "object": "chat.completion.chunk", "created": r["created"],
                "model": r["model"], "service_tier": "default", "system_fingerprint": "fp_sim0001"}

        def chunk(delta, finish=None):
            c = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                     "finish_reason": finish}])
            if include_usage:
                c["usage"] = None
            return (None, c)

        out = [chunk({"role": "assistant", "content": "" if r["text"] is not None else None,
                      "refusal": None})]
        if r["text"]:
            for piece in split_text(r["text"], nchunks):
                out.append(chunk({"content": piece}))
        for i, tc in enumerate(r["tool_calls"]):
            out.append(chunk({"tool_calls": [{"index": i, "id": tc["id"], "type": "function",
                                              "function": {"name": tc["function"]["name"],
                                                           "arguments": ""}}]}))
            for piece in split_json_args(tc["function"]["arguments"], nchunks):
                out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
        out.append(chunk({}, r["finish_reason"]))
        if include_usage:
            out.append((None, dict(base, choices=[], usage=r["usage"])))
        out.append((None, "[DONE]"))
        return out


class OpenAIResponses:
    provider = "openai"

    @staticmethod
    def parse(body, connection_responses=None):
        """CONNECTION_RESPONSES: the responses made on this WebSocket (they resolve a
        previous_response_id first, as the real server keeps them in memory even with store=false)."""
        if not body.get("model"):
            raise BadRequest("Missing required parameter: 'model'.")
        inp = body.get("input")
        if inp is None:
            raise BadRequest("Missing required parameter: 'input'.")
        items = []
        prev = body.get("previous_response_id")
        if prev:
            stored = (connection_responses or {}).get(prev)
            if stored is None:
                with _store_lock:
                    stored = _responses_store.get(prev)
            if stored is None:
                raise BadRequest(f"Previous response with id '{prev}' not found.",
                                 code="previous_response_not_found")
            items.extend(stored)
        conversation = sim_hosted.conversation_items(body)
        if conversation is None:
            raise BadRequest(f"Conversation with id '{sim_hosted.conversation_id(body)}' not found.")
        items.extend(conversation)
        if isinstance(inp, str):
            inp = [{"role": "user", "content": inp}]
        if not isinstance(inp, list):
            raise BadRequest("Invalid type for 'input': expected a string or an array.")
        names = {it["call_id"]: it["name"] for it in items if it["kind"] == "tool_call"}
        for it in inp:
            if not isinstance(it, dict):
                raise BadRequest("Invalid input item: expected an object.")
            typ = it.get("type", "message")
            if typ == "message":
                role = it.get("role")
                if role == "user":
                    items.append({"kind": "user", "text": text_of(it.get("content"))})
                elif role == "assistant":
                    items.append({"kind": "assistant", "text": text_of(it.get("content"))})
                elif role in ("system", "developer"):
                    # Kept for billing (the context includes them), skipped by the brain.
                    items.append({"kind": "system", "text": text_of(it.get("content"))})
                else:
                    raise BadRequest(f"Invalid value: {role!r}. Supported values are: 'assistant', "
                                     "'system', 'developer', and 'user'.")
            elif typ == "function_call":
                names[it.get("call_id")] = it.get("name", "")
                items.append({"kind": "tool_call", "name": it.get("name", ""),
                              "call_id": it.get("call_id"), "args": it.get("arguments", "")})
            elif typ == "function_call_output":
                cid = it.get("call_id")
                out = it.get("output")
                items.append({"kind": "tool_result", "call_id": cid, "name": names.get(cid, ""),
                              "text": out if isinstance(out, str) else text_of(out)})
            # reasoning and other item types carry nothing the brain needs.
        tools = [(t["name"], t.get("parameters") or {}) for t in body.get("tools") or []
                 if isinstance(t, dict) and t.get("type") == "function" and t.get("name")]
        return items, tools

    error_body = OpenAIChat.error_body

    @staticmethod
    def build(body, items, decision, usage, connection_responses=None):
        prompt, cached, completion, reasoning = usage
        rid = "resp_" + unique_suffix(items)
        output = []
        if body.get("generate") is False:
            # A WebSocket prewarm: the server takes in the request's state and generates nothing.
            decision, prompt, cached, completion, reasoning = {}, 0, 0, 0, 0
        hosted, findings = sim_hosted.hosted_output(body, items, rid, last_user_text(items))
        if hosted and decision.get("text") is not None:
            output.extend(hosted)
            decision = dict(decision, text=decision["text"] + " I checked: " + "; ".join(findings) + ".")
        for i, (n, a) in enumerate(decision.get("tool_calls", [])):
            output.append({"id": "fc_" + stable_hash(rid, i)[:24], "type": "function_call",
                           "status": "completed", "arguments": json.dumps(a),
                           "call_id": call_id_for(rid, i, "call_"), "name": n})
        if decision.get("text") is not None:
            output.append({"id": "msg_" + stable_hash(rid, "msg")[:24], "type": "message",
                           "status": "completed", "role": "assistant",
                           "content": [{"type": "output_text", "text": decision["text"],
                                        "annotations": [], "logprobs": []}]})
        resp = {
            "id": rid, "object": "response", "created_at": int(time.time()), "status": "completed",
            "background": False, "error": None, "incomplete_details": None,
            "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
            "model": body["model"], "output": output, "parallel_tool_calls": True,
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None}, "service_tier": "default",
            "store": body.get("store", True), "temperature": body.get("temperature", 1.0),
            "text": {"format": {"type": "text"}}, "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [], "top_p": body.get("top_p", 1.0), "truncation": "disabled",
            "usage": {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": cached},
                      "output_tokens": completion,
                      "output_tokens_details": {"reasoning_tokens": reasoning},
                      "total_tokens": prompt + completion},
            "user": None, "metadata": body.get("metadata") or {},
        }
        full = list(items)
        for o in output:
            if o["type"] == "function_call":
                full.append({"kind": "tool_call", "name": o["name"], "call_id": o["call_id"],
                             "args": o["arguments"]})
            elif o["type"] == "message":
                full.append({"kind": "assistant", "text": decision["text"]})
        if body.get("store") is not False:  # store=false: kept only in the connection's memory
            with _store_lock:
                _responses_store[rid] = full
                while len(_responses_store) > _RESPONSES_KEPT:
                    _responses_store.popitem(last=False)
        sim_hosted.save_conversation(body, full, body.get("input"), output)
        if connection_responses is not None:
            connection_responses[rid] = full
            while len(connection_responses) > _CONNECTION_RESPONSES_KEPT:
                connection_responses.popitem(last=False)
        return resp

    @staticmethod
    def response(r):
        return r

    @staticmethod
    def events(r, body, nchunks):
        del body
        seq = itertools.count(0)
        out = []

        def ev(typ, **fields):
            d = {"type": typ, "sequence_number": next(seq)}
            d.update(fields)
            out.append((typ, d))

        pending = dict(r, status="in_progress", output=[], usage=None)
        ev("response.created", response=pending)
        ev("response.in_progress", response=pending)
        for idx, item in enumerate(r["output"]):
            if item["type"] == "function_call":
                ev("response.output_item.added", output_index=idx,
                   item=dict(item, arguments="", status="in_progress"))
                for piece in split_json_args(item["arguments"], nchunks):
                    ev("response.function_call_arguments.delta", item_id=item["id"], output_index=idx,
                       delta=piece, obfuscation="sim")
                ev("response.function_call_arguments.done", item_id=item["id"], output_index=idx,
                   name=item["name"], arguments=item["arguments"])
                ev("response.output_item.done", output_index=idx, item=item)
            elif item["type"] != "message":
                sim_hosted.stream_events(item, idx, ev)
            else:
                text = item["content"][0]["text"]
                ev("response.output_item.added", output_index=idx,
                   item=dict(item, status="in_progress", content=[]))
                part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                ev("response.content_part.added", item_id=item["id"], output_index=idx,
                   content_index=0, part=part)
                for piece in split_text(text, nchunks):
                    ev("response.output_text.delta", item_id=item["id"], output_index=idx,
                       content_index=0, delta=piece, logprobs=[], obfuscation="sim")
                ev("response.output_text.done", item_id=item["id"], output_index=idx,
                   content_index=0, text=text, logprobs=[])
                ev("response.content_part.done", item_id=item["id"], output_index=idx,
                   content_index=0, part=dict(part, text=text))
                ev("response.output_item.done", output_index=idx, item=item)
        ev("response.completed", response=r)
        return out


class AnthropicMessages:
    provider = "anthropic"

    @staticmethod
    def parse(body):
        if not body.get("model"):
            raise BadRequest("model: Field required")
        if not isinstance(body.get("max_tokens"), int):
            raise BadRequest("max_tokens: Field required")
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs:
            raise BadRequest("messages: at least one message is required")
        items = []
        names = {}
        for m in msgs:
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant", "system"):
                raise BadRequest("messages: roles must be 'user', 'assistant' or 'system'")
            content = m.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else (content or [])
            for b in blocks:
                if not isinstance(b, dict):
                    raise BadRequest("messages: content blocks must be objects")
                t = b.get("type")
                if t == "text" and m["role"] == "user":
                    words = sim_scripted.without_client_context(b.get("text", ""))
                    if words.strip() or not b.get("text"):
                        items.append({"kind": "user", "text": words})
                elif t == "text":
                    items.append({"kind": m["role"], "text": b.get("text", "")})
                elif t == "tool_use":
                    names[b.get("id")] = b.get("name", "")
                    items.append({"kind": "tool_call", "name": b.get("name", ""), "call_id": b.get("id"),
                                  "args": json.dumps(b.get("input") or {})})
                elif t == "tool_result":
                    cid = b.get("tool_use_id")
                    items.append({"kind": "tool_result", "call_id": cid, "name": names.get(cid, ""),
                                  "text": sim_scripted.without_client_context(text_of(b.get("content")))})
        tools = [(t["name"], t.get("input_schema") or {}) for t in body.get("tools") or []
                 if isinstance(t, dict) and t.get("name")]
        return items, tools

    @staticmethod
    def error_body(status, message, code=None):
        del code
        typ = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": typ, "message": message},
                "request_id": "req_sim" + str(next(_counter))}

    @staticmethod
    def with_thinking(body, decision):
        """DECISION with the model's thinking when the request turns thinking on (`enabled`, or
        `adaptive` as Claude Code asks): a line on what it decided, billed as output."""
        thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
        if thinking.get("type") not in ("enabled", "adaptive"):
            return decision
        calls = [n for n, _ in decision.get("tool_calls", [])]
        plan = f"call {', '.join(calls)}" if calls else "answer with what the tools returned"
        return dict(decision, thinking=f"The user's request is scripted; next I {plan}.")

    @staticmethod
    def build(body, items, decision, usage):
        prompt, cached, completion, _ = usage
        system_tokens = approx_tokens(text_of(body.get("system"))) if body.get("system") else 0
        turns = sum(1 for it in items if it["kind"] in ("assistant", "tool_call"))
        # Anthropic reports uncached input separately from cache writes and reads.
        cache_write = system_tokens if turns == 0 else 0
        cache_read = max(cached, system_tokens) if turns > 0 else 0
        cache_read = min(cache_read, prompt - 1)
        content = []
        mid = "msg_" + unique_suffix(items)
        if decision.get("thinking"):
            content.append({"type": "thinking", "thinking": decision["thinking"],
                            "signature": "sig_" + stable_hash(mid, decision["thinking"])[:48]})
        if decision.get("text") is not None:
            content.append({"type": "text", "text": decision["text"]})
        for i, (n, a) in enumerate(decision.get("tool_calls", [])):
            content.append({"type": "tool_use", "id": call_id_for(mid, i, "toolu_"), "name": n,
                            "input": a})
        return {"id": mid, "type": "message", "role": "assistant",
                "model": body["model"], "content": content,
                "stop_reason": "tool_use" if decision.get("tool_calls") else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": max(1, prompt - cache_read - cache_write),
                          "cache_creation_input_tokens": cache_write,
                          "cache_read_input_tokens": cache_read,
                          "cache_creation": {"ephemeral_5m_input_tokens": cache_write,
                                             "ephemeral_1h_input_tokens": 0},
                          "output_tokens": completion, "service_tier": "standard"}}

    @staticmethod
    def response(r):
        return r

    @staticmethod
    def events(r, body, nchunks):
        del body
        out = []
        u = r["usage"]
        start_usage = dict(u, output_tokens=1)
        out.append(("message_start", {"type": "message_start",
                                      "message": dict(r, content=[], stop_reason=None,
                                                      usage=start_usage)}))
        out.append(("ping", {"type": "ping"}))
        for idx, block in enumerate(r["content"]):
            if block["type"] == "thinking":
                out.append(("content_block_start", {"type": "content_block_start", "index": idx,
                                                    "content_block": {"type": "thinking", "thinking": "",
                                                                      "signature": ""}}))
                for piece in split_text(block["thinking"], nchunks):
                    out.append(("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                        "delta": {"type": "thinking_delta", "thinking": piece}}))
                out.append(("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                    "delta": {"type": "signature_delta",
                                                              "signature": block["signature"]}}))
            elif block["type"] == "text":
                out.append(("content_block_start", {"type": "content_block_start", "index": idx,
                                                    "content_block": {"type": "text", "text": ""}}))
                for piece in split_text(block["text"], nchunks):
                    out.append(("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                        "delta": {"type": "text_delta", "text": piece}}))
            else:
                out.append(("content_block_start", {"type": "content_block_start", "index": idx,
                                                    "content_block": dict(block, input={})}))
                for piece in split_json_args(json.dumps(block["input"]), nchunks):
                    out.append(("content_block_delta",
                                {"type": "content_block_delta", "index": idx,
                                 "delta": {"type": "input_json_delta", "partial_json": piece}}))
            out.append(("content_block_stop", {"type": "content_block_stop", "index": idx}))
        out.append(("message_delta", {"type": "message_delta",
                                      "delta": {"stop_reason": r["stop_reason"], "stop_sequence": None},
                                      "usage": {"input_tokens": u["input_tokens"],
                                                "cache_creation_input_tokens": u["cache_creation_input_tokens"],
                                                "cache_read_input_tokens": u["cache_read_input_tokens"],
                                                "output_tokens": u["output_tokens"]}}))
        out.append(("message_stop", {"type": "message_stop"}))
        return out


class Gemini:
    provider = "gemini"

    @staticmethod
    def parse(body):
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
        items = []
        for c in contents:
            if not isinstance(c, dict):
                raise BadRequest("* GenerateContentRequest.contents: invalid content")
            role = c.get("role", "user")
            for p in c.get("parts") or []:
                if not isinstance(p, dict):
                    continue
                if "text" in p:
                    items.append({"kind": "assistant" if role == "model" else "user", "text": p["text"]})
                elif "functionCall" in p:
                    fc = p["functionCall"]
                    items.append({"kind": "tool_call", "name": fc.get("name", ""),
                                  "call_id": fc.get("id") or fc.get("name", ""),
                                  "args": json.dumps(fc.get("args") or {})})
                elif "functionResponse" in p:
                    fr = p["functionResponse"]
                    items.append({"kind": "tool_result", "call_id": fr.get("id") or fr.get("name", ""),
                                  "name": fr.get("name", ""),
                                  "text": json.dumps(fr.get("response") or {})})
        tools = []
        for t in body.get("tools") or []:
            for fd in (t or {}).get("functionDeclarations") or (t or {}).get("function_declarations") or []:
                if fd.get("name"):
                    tools.append((fd["name"], fd.get("parameters") or fd.get("parametersJsonSchema") or {}))
        return items, tools

    @staticmethod
    def error_body(status, message, code=None):
        del code
        st = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED"}.get(status, "INTERNAL")
        return {"error": {"code": status, "message": message, "status": st}}

    @staticmethod
    def build(body, items, decision, usage):
        prompt, cached, completion, reasoning = usage
        parts = []
        if decision.get("text") is not None:
            parts.append({"text": decision["text"]})
        for n, a in decision.get("tool_calls", []):
            parts.append({"functionCall": {"name": n, "args": a}})
        um = {"promptTokenCount": prompt, "candidatesTokenCount": completion - reasoning,
              "totalTokenCount": prompt + completion,
              "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
        if cached:
            um["cachedContentTokenCount"] = cached
            um["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
        if reasoning:
            um["thoughtsTokenCount"] = reasoning
        return {"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP",
                                "index": 0}],
                "usageMetadata": um, "modelVersion": body["_model"],
                "responseId": unique_suffix(items)[:22]}

    @staticmethod
    def response(r):
        return r

    @staticmethod
    def events(r, body, nchunks):
        del body
        parts = r["candidates"][0]["content"]["parts"]
        out = []
        text_parts = [p for p in parts if "text" in p]
        other = [p for p in parts if "text" not in p]
        pieces = split_text(text_parts[0]["text"], nchunks) if text_parts else []
        for piece in pieces[:-1] if pieces else []:
            out.append((None, {"candidates": [{"content": {"parts": [{"text": piece}], "role": "model"},
                                               "index": 0}],
                               "usageMetadata": {"promptTokenCount": r["usageMetadata"]["promptTokenCount"],
                                                 "totalTokenCount": r["usageMetadata"]["promptTokenCount"]},
                               "modelVersion": r["modelVersion"], "responseId": r["responseId"]}))
        last_parts = ([{"text": pieces[-1]}] if pieces else []) + other
        out.append((None, {"candidates": [{"content": {"parts": last_parts, "role": "model"},
                                           "finishReason": "STOP", "index": 0}],
                           "usageMetadata": r["usageMetadata"], "modelVersion": r["modelVersion"],
                           "responseId": r["responseId"]}))
        return out


# ---------------------------------------------------------------------------------------------
# HTTP layer
# ---------------------------------------------------------------------------------------------


def route(method, path):
    """(adapter, stream_override, model_from_path) for a request path, or None."""
    p = path.split("?", 1)[0]
    if method != "POST":
        return None
    if p.endswith("/chat/completions"):
        return OpenAIChat, None, None
    if p.endswith("/responses"):
        return OpenAIResponses, None, None
    if p.endswith("/messages"):
        return AnthropicMessages, None, None
    m = re.search(r"/models/([^/:]+):(generateContent|streamGenerateContent)$", p)
    if m:
        return Gemini, m.group(2) == "streamGenerateContent", m.group(1)
    return None


class ModelError:
    """A provider error to send instead of a response: HTTP status and the provider's error JSON."""

    def __init__(self, status, body):
        self.status = status
        self.body = body


# Fields that say how a request travels, not what it asks: they never change the usage billed, so a
# call costs the same over HTTP + SSE and over WebSocket.
TRANSPORT_FIELDS = ("stream", "stream_options", "background", "type", "generate", "stream_id", "_model")
# Request fields a provider does not bill as input (labels and cache routing, not model context).
UNBILLED_FIELDS = ("metadata", "client_metadata", "prompt_cache_key", "user", "safety_identifier")


def count_basis(adapter, body, items):
    """What the usage numbers are computed from. The Responses API bills the whole context, whether
    it arrived in full or as new items after a previous_response_id."""
    if adapter is OpenAIResponses:
        basis = {k: v for k, v in body.items()
                 if k not in TRANSPORT_FIELDS + UNBILLED_FIELDS and k not in ("input", "previous_response_id")}
        basis["_context"] = items
        return basis
    return {k: v for k, v in body.items() if k != "_model"}


def scripted_decision(adapter, body, items, tools):
    """A client's own scripting (sim_gemini_cli.py) before the generic brain: None when none applies."""
    if adapter is not Gemini:
        return None
    user_text = last_user_text(items)
    text = sim_gemini_cli.structured_answer(body, user_text, plausible_args)
    if text is not None:
        return {"text": text}
    return sim_gemini_cli.decide(tools, user_text, tools_called_since_user(items), plausible_args)


def answer(opts, adapter, body, path_model, log, connection_responses=None):
    """The provider's answer to one model request BODY: the built result, or a ModelError. Fills LOG
    (the request's log record) with what the provider saw and billed."""
    try:
        if path_model:
            body["_model"] = path_model
        if connection_responses is not None:
            items, tools = adapter.parse(body, connection_responses=connection_responses)
        else:
            items, tools = adapter.parse(body)
    except BadRequest as e:
        log.update(status=400, error=str(e))
        return ModelError(400, adapter.error_body(400, str(e), code=e.code))
    model = body.get("model") or path_model
    log.update(model=model, items=len(items), tools=[t[0] for t in tools])
    forced = re.search(r"SIM_ERROR_(\d{3})", last_user_text(items))
    if opts.latency_ms:
        time.sleep(opts.latency_ms / 1000.0)
    if forced:
        status = int(forced.group(1))
        log.update(status=status)
        return ModelError(status, adapter.error_body(status, f"Simulated error {status}."))
    decision = (sim_verdicts.decide(body, items, last_user_text(items)) or
                scripted_decision(adapter, body, items, tools) or
                decide(items, tools, parallel=opts.parallel_tools))
    if adapter is AnthropicMessages:
        decision = AnthropicMessages.with_thinking(body, decision)
    usage = usage_numbers(model, count_basis(adapter, body, items), items, decision)
    if connection_responses is not None:
        result = adapter.build(body, items, decision, usage, connection_responses=connection_responses)
    else:
        result = adapter.build(body, items, decision, usage)
    log.update(status=200)
    if adapter is OpenAIResponses:
        log.update(response_id=result["id"], usage=result["usage"],
                   call_ids=[o["call_id"] for o in result["output"] if o["type"] == "function_call"],
                   output_text=[c["text"] for o in result["output"] if o["type"] == "message"
                                for c in o["content"]])
    elif adapter is OpenAIChat:
        log.update(response_id=result["id"], usage=result["usage"],
                   call_ids=[tc["id"] for tc in result["tool_calls"]])
    elif adapter is Gemini:
        parts = result["candidates"][0]["content"]["parts"]
        log.update(response_id=result["responseId"], usage=result["usageMetadata"],
                   function_calls=[p["functionCall"]["name"] for p in parts if "functionCall" in p],
                   output_text=[p["text"] for p in parts if "text" in p],
                   tool_result_ids=[it["call_id"] for it in items if it["kind"] == "tool_result"])
    elif adapter is AnthropicMessages:
        log.update(response_id=result["id"], usage=result["usage"], stop_reason=result["stop_reason"],
                   call_ids=[c["id"] for c in result["content"] if c["type"] == "tool_use"],
                   thinking=[c["thinking"] for c in result["content"] if c["type"] == "thinking"],
                   tool_calls=[[c["name"], c["input"]] for c in result["content"] if c["type"] == "tool_use"],
                   output_text=[c["text"] for c in result["content"] if c["type"] == "text"])
    return result


# Client messages on a Responses WebSocket that expect no answer (Codex acknowledges each response).
WS_ACK_MESSAGES = ("response.processed",)
_ws_connections = itertools.count(1)


class ResponsesWebSocketSession:
    """One Responses API WebSocket: `response.create` messages answered in order, each with the same
    events as the SSE stream; the connection's responses resolve `previous_response_id` first."""

    def __init__(self, handler, ws, conn, path):
        self.handler = handler
        self.ws = ws
        self.conn = conn
        self.path = path
        self.opts = handler.server.opts
        self.responses = collections.OrderedDict()

    def run(self):
        while True:
            try:
                opcode, data = self.ws.receive()
            except sim_websocket.ConnectionClosed as e:
                self._log(event="close", code=e.code, reason=e.reason, pings_answered=self.ws.pings_answered)
                return
            except OSError as e:
                self._log(event="close", code=None, reason=str(e))
                return
            try:
                if not self._message(opcode, data):
                    return
            except OSError as e:
                self._log(event="close", code=None, reason=str(e))
                return

    def _log(self, **record):
        self.handler._log(dict({"transport": "websocket", "path": self.path, "conn": self.conn}, **record))

    def _send_event(self, event, stream_id):
        if stream_id is not None:
            event = dict(event, stream_id=stream_id)
        self.ws.send_text(json.dumps(event), fragment=self.opts.ws_fragment)

    def _error(self, status, body, stream_id=None):
        # The wrapped error event the Responses WebSocket sends instead of an HTTP error status.
        self._send_event(dict({"type": "error", "status": status}, **body), stream_id)

    def _message(self, opcode, data):
        if opcode != sim_websocket.OP_TEXT:
            self._log(event="message", type=None, opcode=opcode, bytes=len(data))
            self._error(400, OpenAIChat.error_body(400, "Binary messages are not supported.", code="invalid_message"))
            return True
        try:
            msg = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            self._log(event="message", type=None, bytes=len(data), error="bad json")
            self._error(400, OpenAIChat.error_body(400, f"We could not parse the JSON of your message: {e}"))
            return True
        typ = msg.get("type") if isinstance(msg, dict) else None
        if typ in WS_ACK_MESSAGES:
            self._log(event="message", type=typ, bytes=len(data), response_id=msg.get("response_id"))
            return True
        if typ != "response.create":
            self._log(event="message", type=typ, bytes=len(data), error="unknown type")
            self._error(400, OpenAIChat.error_body(400, f"Unsupported event type: {typ!r}.",
                                                  code="unknown_event_type"))
            return True
        stream_id = msg.get("stream_id")
        body = {k: v for k, v in msg.items() if k not in ("type", "stream_id")}
        log = {"event": "message", "type": typ, "bytes": len(data), "generate": body.get("generate", True),
               "previous_response_id": body.get("previous_response_id"),
               "input_items": len(body.get("input") or []) if isinstance(body.get("input"), list) else 1}
        if body.get("background"):
            log.update(status=400)
            self._log(**log)
            self._error(400, OpenAIChat.error_body(400, "background is not supported over WebSocket."),
                        stream_id)
            return True
        outcome = answer(self.opts, OpenAIResponses, body, None, log, connection_responses=self.responses)
        self._log(**log)
        if isinstance(outcome, ModelError):
            self._error(outcome.status, outcome.body, stream_id)
            return True
        for i, (_, event) in enumerate(OpenAIResponses.events(outcome, body, self.opts.chunks)):
            if i and self.opts.chunk_delay_ms:
                time.sleep(self.opts.chunk_delay_ms / 1000.0)
            if i and self.opts.ws_ping:
                self.ws.ping()  # control frames between a response's messages
            self._send_event(event, stream_id)
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sim-provider/1.0"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: the log file records requests
        pass

    def _send_json(self, status, obj, extra_headers=None):
        data = json.dumps(obj).encode()
        encoding = None
        if self.server.opts.gzip and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            data = gzip.compress(data)
            encoding = "gzip"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _log(self, record):
        path = self.server.opts.log
        if not path:
            return
        with self.server.log_lock, open(path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def _housekeeping(self):
        """A client's non-model request to the provider's host (sim_scripted.HOUSEKEEPING), its body
        already read: answered and logged as housekeeping. False when it is no such request."""
        path = self.path.split("?", 1)[0]
        known = sim_scripted.housekeeping(self.command, path)
        if known is None:
            return False
        status, obj = known
        self._log({"transport": "http", "method": self.command, "path": path, "status": status,
                   "housekeeping": True})
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return True

    def do_HEAD(self):
        if not self._housekeeping():
            self._log({"transport": "http", "method": "HEAD", "path": self.path.split("?", 1)[0], "status": 404})
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_GET(self):
        if "websocket" in (self.headers.get("Upgrade") or "").lower():
            self._websocket()
            return
        if sim_hosted.conversations_route(self.path):
            status, obj = sim_hosted.conversations_api("GET", self.path, {})
            self._send_json(status, obj)
            return
        if self._housekeeping():
            return
        self._log({"transport": "http", "method": "GET", "path": self.path.split("?", 1)[0], "status": 404})
        self._send_json(404, OpenAIChat.error_body(404, f"Unknown request URL: GET {self.path}."))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path.endswith("/traces/ingest") or "/analytics/" in path:
            # Clients' own telemetry (the Agents SDK's trace exporter, Codex's turn-cost analytics):
            # accept and drop. Logged, so a test can tell it from model calls.
            self._log({"transport": "http", "method": "POST", "path": path, "status": 204, "telemetry": True})
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path.endswith(":countTokens"):
            # Token counting: answered, logged apart from model calls (it is none).
            self._log({"transport": "http", "method": "POST", "path": path, "status": 200, "count_tokens": True})
            self._send_json(200, sim_gemini_cli.count_tokens_response(json_object(raw), approx_tokens))
            return
        if sim_hosted.conversations_route(path):
            status, obj = sim_hosted.conversations_api("POST", path, json_object(raw))
            self._log({"transport": "http", "method": "POST", "path": path, "status": status, "conversations": True})
            self._send_json(status, obj)
            return
        r = route("POST", self.path)
        if r is None and self._housekeeping():
            return
        if r is None:
            self._log({"transport": "http", "method": "POST", "path": self.path.split("?", 1)[0], "status": 404})
            self._send_json(404, OpenAIChat.error_body(404, f"Unknown request URL: POST {self.path}."))
            return
        adapter, stream_override, path_model = r
        try:
            body = json.loads(raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            self._send_json(400, adapter.error_body(400, f"We could not parse the JSON body of your request: {e}"))
            return
        if not isinstance(body, dict):
            self._send_json(400, adapter.error_body(400, "The request body must be a JSON object."))
            return
        stream = stream_override if stream_override is not None else bool(body.get("stream"))
        log = {"transport": "http", "method": "POST", "path": self.path.split("?", 1)[0], "stream": stream}
        outcome = answer(self.server.opts, adapter, body, path_model, log)
        self._log(log)
        if isinstance(outcome, ModelError):
            self._send_json(outcome.status, outcome.body)
            return
        result = outcome
        headers = {"x-request-id": "req_" + unique_suffix(self.path)[:20],
                   "openai-processing-ms": str(self.server.opts.latency_ms or 1)}
        if not stream:
            self._send_json(200, adapter.response(result), headers)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        sep = b"\r\n\r\n" if adapter is Gemini else b"\n\n"
        opts = self.server.opts
        try:
            for i, (event, data) in enumerate(adapter.events(result, body, opts.chunks)):
                if i and opts.chunk_delay_ms:
                    time.sleep(opts.chunk_delay_ms / 1000.0)
                payload = data if isinstance(data, str) else json.dumps(data)
                line = (f"event: {event}\n" if event else "") + f"data: {payload}"
                self._write_chunk(line.encode() + sep)
            self._write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _websocket(self):
        """The Responses API over WebSocket (`GET …/responses` with `Upgrade: websocket`): one
        `response.create` message per response, answered with the SSE stream's events as text messages."""
        path = self.path.split("?", 1)[0]
        opts = self.server.opts
        if not path.endswith("/responses"):
            self._log({"transport": "websocket", "event": "upgrade", "path": path, "status": 404})
            self._send_json(404, OpenAIChat.error_body(404, f"Unknown request URL: GET {self.path}."))
            return
        ws = sim_websocket.handshake(self, opts.ws_deflate)
        conn = next(_ws_connections)
        self._log({"transport": "websocket", "event": "upgrade", "path": path, "conn": conn,
                   "status": 101 if ws else 400,
                   "deflate": ws.deflate.response_header() if ws and ws.deflate else None,
                   "offered_extensions": self.headers.get("Sec-WebSocket-Extensions")})
        if ws is None:
            return
        if opts.ws_transcript:
            base = os.path.join(opts.ws_transcript, f"conn{conn}")
            ws.rfile = sim_websocket.Tee(ws.rfile, base + ".client.bin")
            ws.wfile = sim_websocket.Tee(ws.wfile, base + ".server.bin")
        ResponsesWebSocketSession(self, ws, conn, path).run()
        for side in (ws.rfile, ws.wfile):
            if isinstance(side, sim_websocket.Tee):
                side.close_transcript()
        self.close_connection = True

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    tls_context = None

    def finish_request(self, request, client_address):
        # TLS handshake in the connection's own thread, so a slow client never blocks accept().
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", help="PEM certificate chain: serve HTTPS")
    ap.add_argument("--key", help="PEM private key for --cert")
    ap.add_argument("--latency-ms", type=int, default=0, help="delay before each response")
    ap.add_argument("--chunk-delay-ms", type=int, default=0, help="delay between SSE events")
    ap.add_argument("--chunks", type=int, default=4, help="pieces each streamed text is split into")
    ap.add_argument("--gzip", action="store_true", help="gzip non-streamed JSON when the client accepts it")
    ap.add_argument("--parallel-tools", action="store_true",
                    help="answer a user message with calls to every (non-transfer) tool offered at once")
    ap.add_argument("--log", help="append one JSON line per request, WebSocket upgrade and message "
                                  "(no headers, no keys) to FILE")
    ap.add_argument("--ws-deflate", choices=("on", "no-context", "off"), default="on",
                    help="permessage-deflate when the client offers it: accept (on), accept without "
                         "context takeover (no-context), or decline (off)")
    ap.add_argument("--ws-fragment", type=int, default=0,
                    help="split each WebSocket message sent into frames of at most N payload bytes")
    ap.add_argument("--ws-ping", action="store_true",
                    help="send a ping between the WebSocket messages of each response")
    ap.add_argument("--ws-transcript", metavar="DIR",
                    help="write each WebSocket connection's frames as they travelled (after the "
                         "handshake, no headers) to DIR/connN.client.bin and DIR/connN.server.bin")
    opts = ap.parse_args(argv)
    if bool(opts.cert) != bool(opts.key):
        ap.error("--cert and --key go together")
    srv = Server((opts.host, opts.port), Handler)
    srv.opts = opts
    srv.log_lock = threading.Lock()
    if opts.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.cert, opts.key)
        ctx.set_alpn_protocols(["http/1.1"])
        srv.tls_context = ctx
    host, port = srv.server_address[:2]
    print(f"listening {host}:{port}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
