"""Scripted tool plans and client housekeeping for the simulated provider (sim_provider.py).

Coding agents such as Claude Code offer a dozen tools and wrap the user's words in their own context,
so the generic brain ("call the first tool offered") cannot drive them. Two small rules make them
run a real, known tool loop:

  * A user message may script its tool calls as steps, `[[Tool: argument]]`, in order: each model turn
    calls the next step's tool (its main argument from ARGUMENT_OF, the rest left to the client's
    defaults), steps joined by `+` in one turn (parallel tool calls); once every step has its result
    the model answers with text quoting the results.
  * Client-injected context inside the user's turn or a tool result (Claude Code's
    `<system-reminder>` blocks) is not the user's words nor the tool's output: the brain never reads it.

Clients also call non-model endpoints on the provider's host (connectivity checks, bootstrap, their
own event logging, registries). HOUSEKEEPING answers those as the real host would, with a small JSON
body, and the sim logs each with `"housekeeping": true` so a test can tell them from model calls.
"""
import re

# The argument a step's text fills, per tool name (the tool's required input, as its schema says).
ARGUMENT_OF = {"Bash": "command", "Read": "file_path", "Glob": "pattern", "Grep": "pattern",
               "shell": "command", "read_file": "path"}
# Extra inputs a client's tool expects besides its main argument.
EXTRA_INPUTS = {"Bash": lambda arg: {"description": "Run: " + arg[:60]}}

STEP = re.compile(r"\[\[(\w+):\s*(.*?)\]\]", re.S)
CLIENT_CONTEXT = re.compile(r"<system-reminder>.*?</system-reminder>\s*", re.S)

# (method, path prefix) -> (status, JSON body). A HEAD is answered as servers do (RFC 9110 9.3.2):
# the headers of the GET, Content-Length included, and no body.
HOUSEKEEPING = (
    ("HEAD", "/", 200, {"message": "hello"}),
    ("GET", "/api/hello", 200, {"message": "hello"}),
    ("GET", "/api/claude_cli/bootstrap", 200, {"client_data": {}, "additional_model_options": []}),
    ("POST", "/api/event_logging/", 200, {"accepted_count": 0, "rejected_count": 0}),
    ("GET", "/api/eval/", 200, {"features": {}}),
    ("POST", "/api/eval/", 200, {"features": {}}),
    ("GET", "/mcp-registry/", 200, {"servers": [], "metadata": {"count": 0}}),
    ("GET", "/api/oauth/", 401, {"type": "error", "error": {"type": "authentication_error",
                                                            "message": "OAuth is not used with an API key."}}),
)


def housekeeping(method, path):
    """(status, body) for a non-model request a client makes to the provider's host, or None."""
    for m, prefix, status, body in HOUSEKEEPING:
        if m == method and (path == prefix or (prefix.endswith("/") and path.startswith(prefix))):
            return status, body
    return None


def without_client_context(text):
    """A user turn's or tool result's own text: the client's injected context removed."""
    return CLIENT_CONTEXT.sub("", text or "")


def scripted_turns(text):
    """The tool calls TEXT scripts, grouped by model turn: `[[A: x]]+[[B: y]]` is one turn calling
    both at once (parallel tool calls), `[[A: x]] then [[B: y]]` two turns."""
    turns, last_end = [], None
    for m in STEP.finditer(text):
        step = (m.group(1), m.group(2).strip())
        if turns and text[last_end:m.start()].strip() == "+":
            turns[-1].append(step)
        else:
            turns.append([step])
        last_end = m.end()
    return turns


def scripted_decision(items, tools, answer_text):
    """The next turn of the plan the last user message scripts, or None when it scripts none (or
    names a tool not offered). ANSWER_TEXT(items, user_text) words the final answer."""
    user = None
    since = []
    for it in reversed(items):
        if it["kind"] == "user":
            user = it
            break
        since.append(it)
    if user is None:
        return None
    turns = scripted_turns(user["text"])
    offered = {name for name, _ in tools}
    if not turns or any(name not in offered or name not in ARGUMENT_OF for turn in turns for name, _ in turn):
        return None
    # The turns whose calls all have their results are done.
    results, done = sum(1 for it in since if it["kind"] == "tool_result"), 0
    while done < len(turns) and results >= len(turns[done]):
        results -= len(turns[done])
        done += 1
    if done >= len(turns):
        return {"text": answer_text(items, user["text"])}
    calls = []
    for name, arg in turns[done]:
        args = {ARGUMENT_OF[name]: arg}
        args.update(EXTRA_INPUTS.get(name, lambda _a: {})(arg))
        calls.append((name, args))
    return {"tool_calls": calls}
