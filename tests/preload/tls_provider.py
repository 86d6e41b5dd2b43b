#!/usr/bin/env python3
"""A tiny HTTPS OpenAI-compatible provider for the preload capture tests (stdlib only).

Serves POST .../chat/completions over HTTP/1.1 and HTTP/2 (ALPN). The JSON body decides the answer:
"stream": true gives an SSE stream (with a usage chunk when stream_options.include_usage; events
paced by "sim_chunk_delay_ms" or --chunk-delay-ms), else a chat.completion JSON. Usage is
deterministic so tests can assert it: prompt_tokens = 7 + number of
messages, completion_tokens = number of words in the reply.
The HTTP/2 side is deliberately minimal (no HPACK decoding of requests: the body carries all the
test needs; responses use literal header fields), enough for curl --http2.

Usage: tls_provider.py --cert FILE --key FILE [--chunk-delay-ms N]
Prints `listening 127.0.0.1:PORT` on the first stdout line.
"""
import argparse
import json
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "Hello from the simulated provider"
CHUNK_DELAY = 0.0


def answer(body):
    """Returns (content_type, list of byte chunks, seconds between chunks) for a request body."""
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        req = {}
    model = req.get("model", "gpt-4o-mini")
    resp_model = model + "-2024-07-18"
    usage = {"prompt_tokens": 7 + len(req.get("messages", [])), "completion_tokens": len(REPLY.split())}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    rid = "chatcmpl-sim%d" % (int(time.time() * 1000) % 100000)
    if not req.get("stream"):
        doc = {"id": rid, "object": "chat.completion", "created": 1, "model": resp_model,
               "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY},
                            "finish_reason": "stop"}], "usage": usage}
        return "application/json", [json.dumps(doc).encode()], 0
    chunks = []
    base = {"id": rid, "object": "chat.completion.chunk", "created": 1, "model": resp_model}
    words = REPLY.split(" ")
    for i, w in enumerate(words):
        delta = {"content": (w if i == 0 else " " + w)}
        if i == 0:
            delta["role"] = "assistant"
        chunks.append(dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": None}]))
    chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    if (req.get("stream_options") or {}).get("include_usage"):
        chunks.append(dict(base, choices=[], usage=usage))
    events = [("data: " + json.dumps(c) + "\n\n").encode() for c in chunks]
    events.append(b"data: [DONE]\n\n")
    return "text/event-stream", events, req.get("sim_chunk_delay_ms", 0) / 1000.0 or CHUNK_DELAY


class Http1Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ctype, parts, delay = answer(body)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if ctype == "application/json":
            self.send_header("Content-Length", str(len(parts[0])))
            self.end_headers()
            self.wfile.write(parts[0])
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for p in parts:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            self.wfile.flush()
            if delay:
                time.sleep(delay)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal_header(name, value):
    """HPACK literal header field without indexing, new name, no Huffman."""
    def string(s):
        b = s.encode()
        assert len(b) < 127
        return bytes([len(b)]) + b
    return b"\x00" + string(name) + string(value)


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise EOFError
        buf += got
    return buf


def serve_h2(sock):
    """Minimal HTTP/2 server: answers each request once its stream ends."""
    if read_exact(sock, 24) != b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n":
        return
    sock.sendall(frame(0x4, 0, 0))  # our SETTINGS: defaults
    bodies = {}
    while True:
        hdr = read_exact(sock, 9)
        length = int.from_bytes(hdr[0:3], "big")
        ftype, flags = hdr[3], hdr[4]
        stream = int.from_bytes(hdr[5:9], "big") & 0x7FFFFFFF
        payload = read_exact(sock, length)
        if ftype == 0x4 and not flags & 0x1:
            sock.sendall(frame(0x4, 0x1, 0))  # SETTINGS ACK
        elif ftype == 0x6 and not flags & 0x1:
            sock.sendall(frame(0x6, 0x1, 0, payload))  # PING ACK
        elif ftype == 0x7:
            return  # GOAWAY
        elif ftype == 0x1:
            bodies.setdefault(stream, b"")
        elif ftype == 0x0:
            if flags & 0x8:
                pad = payload[0]
                payload = payload[1:len(payload) - pad]
            bodies[stream] = bodies.get(stream, b"") + payload
            if payload:  # give the flow-control credit back at once
                inc = struct.pack(">I", len(payload))
                sock.sendall(frame(0x8, 0, 0, inc) + frame(0x8, 0, stream, inc))
        if ftype in (0x0, 0x1) and flags & 0x1:
            ctype, parts, delay = answer(bodies.pop(stream, b""))
            block = b"\x88" + literal_header("content-type", ctype)  # 0x88: indexed :status 200
            sock.sendall(frame(0x1, 0x4, stream, block))
            for i, p in enumerate(parts):
                last = i == len(parts) - 1
                sock.sendall(frame(0x0, 0x1 if last else 0, stream, p))
                if delay and not last:
                    time.sleep(delay)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, ctx):
        super().__init__(addr, Http1Handler)
        self.ctx = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        return sock, addr

    def process_request_thread(self, request, client_address):
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.shutdown_request(request)
            return
        if tls.selected_alpn_protocol() == "h2":
            try:
                serve_h2(tls)
            except (EOFError, OSError, ssl.SSLError):
                pass
            finally:
                try:
                    tls.close()
                except OSError:
                    pass
            return
        super().process_request_thread(tls, client_address)


def main():
    global CHUNK_DELAY
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--chunk-delay-ms", type=int, default=0)
    args = ap.parse_args()
    CHUNK_DELAY = args.chunk_delay_ms / 1000.0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    srv = Server(("127.0.0.1", 0), ctx)
    print("listening 127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
