"""What the simulated provider answers Google's Gemini CLI (`gemini -p ...`), beside the generic brain.

Gemini CLI needs three things a plain tool loop does not give it:
  * JSON mode: its router (a flash-lite classifier before the main loop) and its other side calls
    ask for `responseMimeType: application/json` with a schema and retry until the answer parses;
    `structured_answer` answers such a request with JSON following the schema.
  * `:countTokens`: answered with a token count (`count_tokens_response`), never a model call.
  * Its tool loop: with its own tools offered (`run_shell_command`, `read_file`), the first turn runs
    the shell command the user backquoted, the next ones read the files the user named, one per turn
    in order, then it answers with what they gave (`decide`). An image read comes back as inline data,
    which makes the CLI count the next request's tokens with `:countTokens` first. Gemini gives no call ids: the CLI makes its own
    (`run_shell_command_<ms>_0`) and sends them back with the results.
"""
import json
import re

SHELL_TOOL = "run_shell_command"
READ_TOOL = "read_file"
FILE_WORD = re.compile(r"\b([\w.-]+\.(?:txt|md|json|py|js|ts|toml|yaml|yml|cfg|ini|log|png|jpg|pdf))\b")


def _field(obj, camel, snake):
    v = obj.get(camel)
    return obj.get(snake) if v is None else v


def json_schema_of(body):
    """The schema a generateContent request asks its JSON answer to follow, or None."""
    cfg = _field(body, "generationConfig", "generation_config") or {}
    if not isinstance(cfg, dict):
        return None
    mime = _field(cfg, "responseMimeType", "response_mime_type") or ""
    schema = (_field(cfg, "responseJsonSchema", "response_json_schema") or
              _field(cfg, "responseSchema", "response_schema"))
    if mime != "application/json":
        return None
    return schema if isinstance(schema, dict) else {}


def _lower_types(schema):
    """Gemini's OpenAPI subset spells types in capitals (OBJECT, STRING): plain JSON Schema's."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def structured_answer(body, user_text, plausible_args):
    """JSON text following the request's schema, or None when it asks for no JSON."""
    schema = json_schema_of(body)
    if schema is None:
        return None
    schema = _lower_types(schema)
    if schema.get("type", "object") != "object":
        return json.dumps(plausible_args("value", {"properties": {"value": schema}}, user_text)["value"])
    # Every property, required or not: a classifier reads its optional fields too.
    full = dict(schema, required=list((schema.get("properties") or {}).keys()))
    return json.dumps(plausible_args("answer", full, user_text))


def count_tokens_response(body, approx_tokens):
    contents = _field(body, "contents", "contents")
    if contents is None:  # countTokens may wrap its request: {"generateContentRequest": {...}}
        inner = _field(body, "generateContentRequest", "generate_content_request") or {}
        contents = inner.get("contents")
    return {"totalTokens": approx_tokens(contents or []), "promptTokensDetails": []}


def decide(tools, user_text, called, plausible_args):
    """The CLI's scripted tool loop, or None when this is not the Gemini CLI's tool set. CALLED: the
    names of the tools called since the user's message, once per call."""
    names = {n: schema for n, schema in tools}
    if SHELL_TOOL not in names or READ_TOOL not in names:
        return None
    if "`" in user_text and SHELL_TOOL not in called:
        return {"tool_calls": [(SHELL_TOOL, plausible_args(SHELL_TOOL, names[SHELL_TOOL], user_text))]}
    files = FILE_WORD.findall(user_text)
    reads = called.count(READ_TOOL)
    if reads < len(files):
        return {"tool_calls": [(READ_TOOL, {"file_path": files[reads]})]}
    return None  # the generic brain answers, quoting the tool results
