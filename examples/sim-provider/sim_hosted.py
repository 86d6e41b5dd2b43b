"""Hosted tools and the Conversations API for the simulated provider (imported by sim_provider.py).

Hosted tools: a Responses request whose `tools` offer `{"type": "web_search"}` or `{"type": "mcp", ...}`
and whose last item is a user message gets, before its text answer, the items a real server adds when
it runs those tools itself: `web_search_call` (with `action.query` and `action.sources`) and, per MCP
server, `mcp_list_tools` then one `mcp_call` of its first tool (allowed_tools first) with an `output`.
The answer quotes what they found. Streams carry `response.output_item.added` (status in_progress)
and `response.output_item.done` for each.

Conversations API: `POST …/conversations` creates a conversation (`conv_…`), `GET …/conversations/ID`
returns it, `POST …/conversations/ID/items` appends items, `GET …/conversations/ID/items` lists them.
A Responses request naming `conversation` (an id or {"id"}) is answered with the conversation's items
as its context, and its input and output are appended to it, as the real server does.
"""
import hashlib
import json
import re
import threading
import time

_lock = threading.Lock()
_conversations = {}  # id -> {"object": ..., "items": [normalized items], "raw": [wire items]}
_KEPT = 10000


def _hash(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()


# ---- Conversations API ---------------------------------------------------------------------------

_CONV_PATH = re.compile(r"/conversations(?:/(conv_[A-Za-z0-9]+))?(/items)?$")


def conversations_route(path):
    """(conversation id or None, items?) when PATH is a Conversations API path, else None."""
    m = _CONV_PATH.search(path.split("?", 1)[0])
    return (m.group(1), bool(m.group(2))) if m else None


def conversations_api(method, path, body):
    """(status, json) for a Conversations API request."""
    conv_id, items = conversations_route(path)
    with _lock:
        if method == "POST" and conv_id is None:
            conv_id = "conv_" + _hash(time.time_ns(), len(_conversations))[:32]
            conv = {"id": conv_id, "object": "conversation", "created_at": int(time.time()),
                    "metadata": (body or {}).get("metadata") or {}}
            _conversations[conv_id] = {"object": conv, "items": [], "raw": []}
            for it in (body or {}).get("items") or []:
                _conversations[conv_id]["raw"].append(it)
            while len(_conversations) > _KEPT:
                _conversations.pop(next(iter(_conversations)))
            return 200, conv
        conv = _conversations.get(conv_id)
        if conv is None:
            return 404, {"error": {"message": f"Conversation with id '{conv_id}' not found.",
                                   "type": "invalid_request_error", "param": None, "code": None}}
        if items and method == "POST":
            conv["raw"].extend((body or {}).get("items") or [])
            return 200, {"object": "list", "data": (body or {}).get("items") or []}
        if items:
            return 200, {"object": "list", "data": conv["raw"], "has_more": False}
        return 200, conv["object"]


def conversation_id(body):
    v = body.get("conversation")
    return v.get("id") if isinstance(v, dict) else v


def conversation_items(body):
    """The stored context of the request's conversation ([] without one); None when unknown."""
    cid = conversation_id(body)
    if not cid:
        return []
    with _lock:
        conv = _conversations.get(cid)
        return None if conv is None else list(conv["items"])


def save_conversation(body, full_items, input_items, output_items):
    cid = conversation_id(body)
    if not cid:
        return
    with _lock:
        conv = _conversations.get(cid)
        if conv is not None:
            conv["items"] = list(full_items)
            conv["raw"].extend(input_items if isinstance(input_items, list) else
                               [{"type": "message", "role": "user", "content": input_items}])
            conv["raw"].extend(output_items)


# ---- Hosted tools ----------------------------------------------------------------------------------

def hosted_tools(body):
    return [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") in ("web_search", "web_search_preview", "mcp")]


def hosted_output(body, items, rid, user_text):
    """The hosted tool items the server runs before answering: [] unless a user message is last and
    hosted tools are offered. Returns (items, findings) where findings go into the answer text."""
    real = [it for it in items if it["kind"] != "system"]
    if not real or real[-1]["kind"] != "user":
        return [], []
    out, findings = [], []
    for i, t in enumerate(hosted_tools(body)):
        if t["type"] in ("web_search", "web_search_preview"):
            url = "https://docs.example.com/" + re.sub(r"[^a-z0-9]+", "-", user_text.lower()).strip("-")[:40]
            out.append({"id": "ws_" + _hash(rid, i)[:24], "type": "web_search_call", "status": "completed",
                        "action": {"type": "search", "query": user_text[:80],
                                   "sources": [{"type": "url", "url": url}]}})
            findings.append(f"the web says see {url}")
        else:
            label = t.get("server_label") or "mcp"
            allowed = t.get("allowed_tools")
            names = allowed if isinstance(allowed, list) and allowed else (
                (allowed or {}).get("tool_names") if isinstance(allowed, dict) else None) or ["search"]
            out.append({"id": "mcpl_" + _hash(rid, i)[:24], "type": "mcp_list_tools", "server_label": label,
                        "tools": [{"name": n, "input_schema": {"type": "object", "properties": {
                            "query": {"type": "string"}}}} for n in names]})
            result = f"{label} found 3 documents about {user_text[:40]!r}"
            out.append({"id": "mcp_" + _hash(rid, i, "call")[:24], "type": "mcp_call", "server_label": label,
                        "name": names[0], "arguments": json.dumps({"query": user_text[:80]}),
                        "output": result, "error": None, "status": "completed"})
            findings.append(result)
    return out, findings


def stream_events(item, idx, ev):
    """Events of one hosted item in a stream: added (in progress), the tool's progress, done."""
    typ = item["type"]
    ev("response.output_item.added", output_index=idx, item=dict(item, status="in_progress", **(
        {"output": None} if typ == "mcp_call" else {})))
    progress = {"web_search_call": ("response.web_search_call.in_progress", "response.web_search_call.searching",
                                    "response.web_search_call.completed"),
                "mcp_list_tools": ("response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed"),
                "mcp_call": ("response.mcp_call.in_progress", "response.mcp_call.completed")}.get(typ, ())
    for p in progress:
        ev(p, output_index=idx, item_id=item["id"])
    ev("response.output_item.done", output_index=idx, item=item)
