"""Verdict agents for the simulated provider: guardrail and classifier agents answer with a JSON
verdict instead of the brain's usual reply.

An agent whose instructions contain VERDICT_MARKER ("Reply only with a JSON verdict") gets
`{"flagged": true|false, "reason": "..."}`: flagged when the last user message contains one of
FLAG_WORDS (case-insensitive). So a test's input guardrail agent trips on "homework" and passes
everything else, and an output guardrail agent trips on an answer that quotes an "internal" note
(a tool result carrying one) and passes every other answer the brain gives.
Standard library only; imported by sim_provider.py.
"""
import json

VERDICT_MARKER = "reply only with a json verdict"
FLAG_WORDS = ("homework", "internal")


def instructions_of(body, items):
    """The request's instructions: Responses `instructions`, Anthropic `system`, else system items."""
    parts = []
    for key in ("instructions", "system"):
        v = body.get(key)
        if isinstance(v, str):
            parts.append(v)
        elif isinstance(v, list):
            parts.extend(p.get("text", "") for p in v if isinstance(p, dict))
    parts.extend(it.get("text", "") for it in items if it.get("kind") == "system")
    return "\n".join(parts)


def decide(body, items, last_user_text):
    """The verdict decision for a verdict agent's request, or None for any other request."""
    if VERDICT_MARKER not in instructions_of(body, items).lower():
        return None
    text = last_user_text.lower()
    hit = next((w for w in FLAG_WORDS if w in text), None)
    reason = f"mentions {hit}" if hit else "nothing to flag"
    return {"text": json.dumps({"flagged": hit is not None, "reason": reason})}
