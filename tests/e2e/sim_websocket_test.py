#!/usr/bin/env python3
"""The simulated provider's Responses API over WebSocket, driven by a raw RFC 6455 client.

Checks the handshake (accept key, permessage-deflate accepted / without context takeover / declined),
masked client frames, a fragmented client message with a ping in between (answered with a pong),
64-bit lengths, each `response.create` answered with the SSE stream's events ending in
`response.completed` with usage, a `generate: false` prewarm (no output, no usage) that the next call
chains from with `previous_response_id` on the same connection (store=false), an unknown previous id
and an unknown message type answered with error events, the close handshake, the ChatGPT-account
path `/backend-api/codex/responses`, server pings and fragmented server messages (--ws-ping,
--ws-fragment), and the --log lines a test asserts on. Exit 0 on success.

Usage: sim_websocket_test.py
"""
import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SIM = os.path.join(ROOT, "examples", "sim-provider", "sim_provider.py")
sys.path.insert(0, os.path.dirname(SIM))
import sim_websocket  # noqa: E402  (the accept-key helper; the framing below is written apart)

TOOLS = [{"type": "function", "name": "exec_command", "parameters": {
    "type": "object", "properties": {"cmd": {"type": "string"}, "workdir": {"type": "string"}},
    "required": ["cmd"]}}]


class Client:
    """A minimal WebSocket client: masks its frames, inflates compressed server messages."""

    def __init__(self, port, path="/v1/responses", offer="permessage-deflate; client_max_window_bits"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               + (f"Sec-WebSocket-Extensions: {offer}\r\n" if offer else "") + "\r\n")
        self.sock.sendall(req.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("connection closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        if self.status == 101:
            assert self.headers["sec-websocket-accept"] == sim_websocket.accept_key(key), "accept key"
        ext = self.headers.get("sec-websocket-extensions", "")
        self.deflate = ext.startswith("permessage-deflate")
        self.server_no_context = "server_no_context_takeover" in ext
        self.client_no_context = "client_no_context_takeover" in ext
        self.inflater = zlib.decompressobj(-15)
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.pongs = []
        self.pings_seen = 0
        self.fragmented_seen = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload, fin=True, rsv1=False, force_64=False):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
        if force_64 or n >= 1 << 16:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        elif n >= 126:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | n])
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_json(self, obj, fragments=1, ping_between=False, compress=None, force_64=False):
        data = json.dumps(obj).encode()
        compress = self.deflate if compress is None else compress
        if compress:
            if self.client_no_context:
                self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
            data = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
            data = data[:-4]
        size = max(1, (len(data) + fragments - 1) // fragments)
        pieces = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
        for i, piece in enumerate(pieces):
            self.send_frame(0x1 if i == 0 else 0x0, piece, fin=i == len(pieces) - 1,
                            rsv1=compress and i == 0, force_64=force_64)
            if ping_between and i == 0:
                self.send_frame(0x9, b"are-you-there")

    def recv_message(self):
        parts, compressed = [], False
        frames = 0
        while True:
            b0, b1 = self._read(2)
            assert not b1 & 0x80, "server frames must not be masked"
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._read(8))
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 0xA:
                self.pongs.append(payload)
                continue
            if op == 0x9:
                self.pings_seen += 1
                self.send_frame(0xA, payload)
                continue
            if op == 0x8:
                return "close", payload
            if op in (0x1, 0x2):
                compressed = bool(b0 & 0x40)
            frames += 1
            parts.append(payload)
            if b0 & 0x80:
                break
        if frames > 1:
            self.fragmented_seen += 1
        data = b"".join(parts)
        if compressed:
            if self.server_no_context:
                self.inflater = zlib.decompressobj(-15)
            data = self.inflater.decompress(data + b"\x00\x00\xff\xff")
        return "text", json.loads(data)

    def response(self):
        """Events up to the terminal one (response.completed or error)."""
        events = []
        while True:
            kind, ev = self.recv_message()
            assert kind == "text", f"unexpected {kind} {ev!r}"
            events.append(ev)
            if ev["type"] in ("response.completed", "error"):
                return events

    def close(self):
        self.send_frame(0x8, struct.pack("!H", 1000) + b"bye")
        kind, payload = self.recv_message()
        assert kind == "close" and struct.unpack("!H", payload[:2])[0] == 1000, "close echoed"
        self.sock.close()


def create(input_items, **extra):
    return dict({"type": "response.create", "model": "gpt-5.1-codex", "store": False, "tools": TOOLS,
                 "input": input_items}, **extra)


def user(text):
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def start_sim(tmp, *extra):
    log = os.path.join(tmp, f"sim{len(os.listdir(tmp))}.log")
    proc = subprocess.Popen([sys.executable, SIM, "--port", "0", "--log", log, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    assert line.startswith("listening "), line
    return proc, int(line.rsplit(":", 1)[1]), log


def read_log(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def read_log_after_closes(path, closes, deadline_s=10.0):
    # The sim echoes a close frame before it logs the close, so the client can be done first.
    end = time.monotonic() + deadline_s
    while True:
        entries = read_log(path)
        if sum(1 for e in entries if e.get("event") == "close") >= closes or time.monotonic() > end:
            return entries
        time.sleep(0.05)


def check_tool_loop(c, fragments=1, ping_between=False, force_64=False):
    # Prewarm: the request's state, no output, zero usage.
    c.send_json(create([{"type": "message", "role": "developer", "content": "You are a shell agent."}],
                       generate=False))
    warm = c.response()
    assert [e["type"] for e in warm][0] == "response.created" and warm[-1]["type"] == "response.completed"
    assert warm[-1]["response"]["output"] == [] and warm[-1]["response"]["usage"]["input_tokens"] == 0
    warm_id = warm[-1]["response"]["id"]
    # The first call continues the prewarm; only the new items are sent.
    c.send_json(create([user("please run `echo hi`")], previous_response_id=warm_id),
                fragments=fragments, ping_between=ping_between, force_64=force_64)
    first = c.response()
    types = [e["type"] for e in first]
    for t in ("response.created", "response.output_item.added", "response.function_call_arguments.delta",
              "response.output_item.done", "response.completed"):
        assert t in types, (t, types)
    done = first[-1]["response"]
    call = done["output"][0]
    assert call["type"] == "function_call" and json.loads(call["arguments"]) == {"cmd": "echo hi"}, call
    assert done["usage"]["input_tokens"] > 0 and done["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
    # The tool result, chained on this connection although store=false.
    c.send_json(create([{"type": "function_call_output", "call_id": call["call_id"], "output": "hi\n"}],
                       previous_response_id=done["id"]))
    second = c.response()[-1]["response"]
    text = second["output"][0]["content"][0]["text"]
    assert "hi" in text and second["usage"]["input_tokens_details"]["cached_tokens"] > 0, second
    return [warm_id, done["id"], second["id"]]


def check_transcript(base, response_ids):
    """The transcript decodes back into the messages: the client's masked frames with the server's own
    reader, the server's frames with the test client's."""
    with open(base + ".client.bin", "rb") as f:
        reader = sim_websocket.WebSocketConnection(io.BytesIO(f.read()), io.BytesIO(), None)
    types = []
    try:
        while True:
            types.append(json.loads(reader.receive()[1])["type"])
    except sim_websocket.ConnectionClosed as e:
        assert e.code == 1000, e.code
    assert types == ["response.create"] * 3, types
    with open(base + ".server.bin", "rb") as f:
        server_bytes = f.read()
    c = Client.__new__(Client)
    c.buf, c.deflate, c.pongs, c.pings_seen, c.fragmented_seen = server_bytes, False, [], 0, 0
    c.sock = None
    completed = []
    while c.buf:
        kind, ev = c.recv_message()
        if kind == "text" and ev["type"] == "response.completed":
            completed.append(ev["response"]["id"])
    assert completed == response_ids, (completed, response_ids)


def main():
    tmp = tempfile.mkdtemp(prefix="sim-ws-")
    procs = []
    try:
        proc, port, log = start_sim(tmp)
        procs.append(proc)

        # Deflate with context takeover; a fragmented client message with a ping inside it.
        c = Client(port)
        assert c.status == 101 and c.deflate and not c.server_no_context, c.headers
        ids = check_tool_loop(c, fragments=3, ping_between=True)
        assert c.pongs == [b"are-you-there"], c.pongs
        # Errors stay on the socket: an unknown previous id, an unknown message type.
        c.send_json(create([user("hello")], previous_response_id="resp_nope"))
        err = c.response()[-1]
        assert err["type"] == "error" and err["status"] == 400 and \
            err["error"]["code"] == "previous_response_not_found", err
        c.send_json({"type": "session.update"})
        err = c.response()[-1]
        assert err["type"] == "error" and err["error"]["code"] == "unknown_event_type", err
        c.send_json({"type": "response.processed", "response_id": ids[-1]})  # no answer expected
        c.close()

        # The ChatGPT-account path, uncompressed (no offer), 64-bit lengths on a small frame.
        c = Client(port, path="/backend-api/codex/responses", offer=None)
        assert c.status == 101 and not c.deflate
        check_tool_loop(c, force_64=True)
        c.close()
        # Not a Responses path: no upgrade.
        assert Client(port, path="/v1/realtime").status == 404

        entries = read_log_after_closes(log, closes=2)
        upgrades = [e for e in entries if e.get("event") == "upgrade" and e.get("status") == 101]
        assert [u["path"] for u in upgrades] == ["/v1/responses", "/backend-api/codex/responses"], upgrades
        assert upgrades[0]["deflate"] == "permessage-deflate" and upgrades[1]["deflate"] is None
        creates = [e for e in entries if e.get("type") == "response.create" and e.get("status") == 200]
        assert [e["generate"] for e in creates] == [False, True, True] * 2, creates
        assert [e["response_id"] for e in creates[:3]] == ids
        assert not any(e.get("transport") == "http" for e in entries), "no HTTP request was made"
        assert sum(1 for e in entries if e.get("event") == "close") == 2
        proc.terminate()

        # No context takeover negotiated; server pings and fragmented server messages.
        proc, port, log = start_sim(tmp, "--ws-deflate", "no-context", "--ws-ping", "--ws-fragment", "64")
        procs.append(proc)
        c = Client(port)
        assert c.deflate and c.server_no_context, c.headers
        check_tool_loop(c)
        assert c.pings_seen > 0 and c.fragmented_seen > 0, (c.pings_seen, c.fragmented_seen)
        c.close()
        proc.terminate()

        # Deflate declined; a transcript of the frames as they travelled.
        transcripts = os.path.join(tmp, "transcripts")
        os.makedirs(transcripts)
        proc, port, log = start_sim(tmp, "--ws-deflate", "off", "--ws-transcript", transcripts)
        procs.append(proc)
        c = Client(port)
        assert c.status == 101 and not c.deflate, c.headers
        ids = check_tool_loop(c)
        c.close()
        time.sleep(0.2)  # the sim closes the transcript after the close handshake
        check_transcript(os.path.join(transcripts, "conn1"), ids)
        # A compressed frame without the extension is a protocol error: close 1002.
        c = Client(port, offer=None)
        c.send_json(create([user("hi")]), compress=True)
        kind, payload = c.recv_message()
        assert kind == "close" and struct.unpack("!H", payload[:2])[0] == 1002, (kind, payload)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
    print("sim websocket: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
