#!/usr/bin/env python3
"""Local mock of a model provider for the proxy tests (stdlib only, loopback, port 0).

Prints "port N" on stdout once listening. With --cert/--key it serves HTTPS. Every response carries
x-mock-conn (the client's source port: which upstream connection served it) and, when it has a body,
x-body-sha256 (SHA-256 of the body as sent, before chunked framing) so clients can check they got the
upstream's exact bytes.

Routes: /v1/json, /v1/sse?n=5&gap_ms=200 (chunked, one event per chunk, flushed apart), /v1/gzip,
/v1/br (bytes of --br-file, Content-Encoding: br), /v1/big?kb=N, /v1/headers (received headers as JSON), /v1/slow?ms=N,
/v1/echo (POST: body back, Content-Length or chunked request), /status/NNN.
"""
import argparse
import gzip
import hashlib
import http.server
import json
import socketserver
import ssl
import sys
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-provider/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _common(self, body=None, ctype="application/json"):
        self.send_header("x-mock-conn", str(self.client_address[1]))
        self.send_header("Content-Type", ctype)
        if body is not None:
            self.send_header("x-body-sha256", hashlib.sha256(body).hexdigest())

    def _send(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self._common(body, ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def _route(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        if path == "/v1/json":
            body = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"},
                                            "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}).encode()
            return self._send(200, body)
        if path == "/v1/sse":
            n, gap = int(q.get("n", "5")), int(q.get("gap_ms", "200")) / 1000.0
            events = [("data: " + json.dumps({"i": i, "delta": "tok%d" % i}) + "\n\n").encode() for i in range(n)]
            events.append(b"data: [DONE]\n\n")
            self.send_response(200)
            self._common(b"".join(events), "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, ev in enumerate(events):
                if i and i < n:
                    time.sleep(gap)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if path == "/v1/gzip":
            raw = json.dumps({"id": "gz", "content": "compressed " * 200}).encode()
            return self._send(200, gzip.compress(raw, mtime=0), extra=[("Content-Encoding", "gzip")])
        if path == "/v1/br":
            with open(self.server.br_file, "rb") as f:
                return self._send(200, f.read(), extra=[("Content-Encoding", "br")])
        if path == "/v1/big":
            kb = int(q.get("kb", "1024"))
            return self._send(200, bytes((i * 7) % 251 for i in range(kb * 1024)), "application/octet-stream")
        if path == "/v1/slow":  # answers only after ms milliseconds
            time.sleep(int(q.get("ms", "1000")) / 1000.0)
            return self._send(200, b'{"slow":true}')
        if path == "/v1/headers":
            return self._send(200, json.dumps([[k, v] for k, v in self.headers.items()]).encode())
        if path == "/v1/echo":
            return self._send(200, self._read_body(), "application/octet-stream")
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            self.send_response(code)
            self._common()
            if code >= 200 and code not in (204, 304):
                self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self._send(404, b'{"error":"not found"}')

    do_GET = do_POST = do_HEAD = do_PUT = _route


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # clients that reject our cert are expected
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--br-file", default="")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.br_file = a.br_file
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        ctx.set_alpn_protocols(["http/1.1"])
        # Handshake in the handler thread, so a silent client cannot block the accept loop.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    print("port %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
