#!/usr/bin/env python3
"""A TLS upstream that answers with fixed, known usage so the test can price it by hand.

/v1/messages          Anthropic Messages SSE stream with cache reads and 5m/1h cache writes
/v1/chat/completions  OpenAI Chat Completions JSON with cached prompt tokens
/v1/responses         OpenAI Responses SSE stream with reasoning tokens
Prints `listening 127.0.0.1:PORT` first. Python stdlib only.
"""
import http.server
import json
import ssl
import sys


def sse(events):
    out = b""
    for name, data in events:
        if name:
            out += b"event: " + name.encode() + b"\n"
        out += b"data: " + json.dumps(data).encode() + b"\n\n"
    return out


ANTHROPIC_USAGE_START = {
    "input_tokens": 1200, "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 5000,
    "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 1000},
    "output_tokens": 1,
}


def anthropic_stream():
    msg = {"id": "msg_cost_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
           "content": [], "stop_reason": None, "stop_sequence": None, "usage": ANTHROPIC_USAGE_START}
    return sse([
        ("message_start", {"type": "message_start", "message": msg}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Your refund "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "is on its way."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 350}}),
        ("message_stop", {"type": "message_stop"}),
    ])


def chat_json():
    return json.dumps({
        "id": "chatcmpl-cost-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4.1-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Order 123 ships today."},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2500, "completion_tokens": 400, "total_tokens": 2900,
                  "prompt_tokens_details": {"cached_tokens": 1792},
                  "completion_tokens_details": {"reasoning_tokens": 0}},
    }).encode()


def responses_stream():
    done = {"id": "resp_cost_1", "object": "response", "status": "completed", "model": "o4-mini-2025-04-16",
            "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": "42", "annotations": []}]}],
            "usage": {"input_tokens": 1000, "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": 500, "output_tokens_details": {"reasoning_tokens": 300},
                      "total_tokens": 1500}}
    created = dict(done, status="in_progress", output=[], usage=None)
    return sse([
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": created}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 1,
                                        "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "42"}),
        ("response.completed", {"type": "response.completed", "sequence_number": 2, "response": done}),
    ])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/v1/messages"):
            body, ctype = anthropic_stream(), "text/event-stream"
        elif self.path.startswith("/v1/chat/completions"):
            body, ctype = chat_json(), "application/json"
        elif self.path.startswith("/v1/responses"):
            body, ctype = responses_stream(), "text/event-stream"
        else:
            body, ctype = b'{"error":{"message":"no such route"}}', "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    cert, key = sys.argv[1], sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"listening 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
