"""Server side of RFC 6455 WebSocket with RFC 7692 permessage-deflate, for the simulated provider.

Standard library only (zlib for deflate). Blocking I/O on one connection: `handshake()` answers the
upgrade request, then `WebSocketConnection` reads whole messages (reassembling fragments, answering
pings and close itself) and writes text messages (compressed when the extension was agreed).
"""
import base64
import hashlib
import os
import struct
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
DEFLATE_TAIL = b"\x00\x00\xff\xff"

# Close codes (RFC 6455 section 7.4.1).
CLOSE_NORMAL, CLOSE_PROTOCOL, CLOSE_TOO_BIG = 1000, 1002, 1009


class ProtocolError(Exception):
    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ConnectionClosed(Exception):
    """The peer closed (close frame answered) or the transport ended."""

    def __init__(self, code=None, reason=""):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


def parse_extensions(header):
    """`Sec-WebSocket-Extensions` -> [(name, {param: value or True})], in the client's order."""
    offers = []
    for offer in (header or "").split(","):
        parts = [p.strip() for p in offer.split(";") if p.strip()]
        if not parts:
            continue
        params = {}
        for p in parts[1:]:
            k, _, v = p.partition("=")
            params[k.strip().lower()] = v.strip().strip('"') if v else True
        offers.append((parts[0].lower(), params))
    return offers


class Deflate:
    """Negotiated permessage-deflate parameters and the two zlib streams (RFC 7692)."""

    def __init__(self, server_no_context_takeover, client_no_context_takeover, client_max_window_bits):
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.client_window_bits = client_max_window_bits
        self._compressor = None
        self._decompressor = None

    def response_header(self):
        parts = ["permessage-deflate"]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.client_window_bits != 15:
            parts.append(f"client_max_window_bits={self.client_window_bits}")
        return "; ".join(parts)

    def compress(self, data):
        if self._compressor is None or self.server_no_context_takeover:
            self._compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4] if out.endswith(DEFLATE_TAIL) else out

    def decompress(self, data, limit):
        if self._decompressor is None or self.client_no_context_takeover:
            self._decompressor = zlib.decompressobj(-self.client_window_bits)
        try:
            out = self._decompressor.decompress(data + DEFLATE_TAIL, limit + 1)
        except zlib.error as e:
            raise ProtocolError(CLOSE_PROTOCOL, f"bad deflate data: {e}") from e
        if len(out) > limit or self._decompressor.unconsumed_tail:
            raise ProtocolError(CLOSE_TOO_BIG, "message too big")
        return out


def negotiate_deflate(header, mode):
    """MODE: 'on' (accept the client's offer, keep context), 'no-context' (accept, no context takeover
    either way), 'off' (decline). Returns a Deflate or None."""
    if mode == "off":
        return None
    for name, params in parse_extensions(header):
        if name != "permessage-deflate":
            continue
        server_bits = params.get("server_max_window_bits")
        if server_bits not in (None, True, "15"):
            continue  # we only compress with a 32 KiB window; try the client's next offer
        client_bits = params.get("client_max_window_bits")
        bits = 15
        if isinstance(client_bits, str):
            if not client_bits.isdigit() or not 8 <= int(client_bits) <= 15:
                continue
            bits = max(9, int(client_bits))  # zlib cannot inflate with an 8-bit window declared
        no_ctx = mode == "no-context"
        return Deflate(server_no_context_takeover=no_ctx or "server_no_context_takeover" in params,
                       client_no_context_takeover=no_ctx or "client_no_context_takeover" in params,
                       client_max_window_bits=bits)
    return None


def handshake(handler, deflate_mode):
    """Answers an upgrade on a BaseHTTPRequestHandler. Returns a WebSocketConnection, or None after
    sending a 400/426 for a bad upgrade request."""
    h = handler.headers
    key = h.get("Sec-WebSocket-Key") or ""
    version = (h.get("Sec-WebSocket-Version") or "").strip()
    connection_tokens = {t.strip().lower() for t in (h.get("Connection") or "").split(",")}
    valid_key = False
    try:
        valid_key = len(base64.b64decode(key, validate=True)) == 16
    except (ValueError, TypeError):
        pass
    if "upgrade" not in connection_tokens or not valid_key:
        handler.send_response(400)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return None
    if version != "13":
        handler.send_response(426)
        handler.send_header("Sec-WebSocket-Version", "13")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return None
    deflate = negotiate_deflate(h.get("Sec-WebSocket-Extensions"), deflate_mode)
    handler.send_response(101)
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(key))
    if deflate:
        handler.send_header("Sec-WebSocket-Extensions", deflate.response_header())
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True
    return WebSocketConnection(handler.rfile, handler.wfile, deflate)


class Tee:
    """Wraps a connection's reader or writer and appends every byte it moves to a file: a transcript
    of the frames exactly as they travelled (masked, compressed), for decoder fixtures."""

    def __init__(self, inner, path):
        self.inner = inner
        self.out = open(path, "ab")

    def read(self, n):
        data = self.inner.read(n)
        self.out.write(data)
        self.out.flush()
        return data

    def write(self, data):
        self.out.write(data)
        return self.inner.write(data)

    def flush(self):
        self.out.flush()
        return self.inner.flush()

    def close_transcript(self):
        self.out.close()


class WebSocketConnection:
    def __init__(self, rfile, wfile, deflate, max_message=64 << 20):
        self.rfile = rfile
        self.wfile = wfile
        self.deflate = deflate
        self.max_message = max_message
        self.closed = False
        self.pings_answered = 0

    # -- reading ---------------------------------------------------------------------------------

    def _read_exact(self, n):
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise ConnectionClosed(None, "transport ended")
        return data

    def _read_frame(self):
        b0, b1 = self._read_exact(2)
        fin, rsv1, opcode = b0 & 0x80, b0 & 0x40, b0 & 0x0F
        if b0 & 0x30:
            raise ProtocolError(CLOSE_PROTOCOL, "reserved bits set")
        if not b1 & 0x80:
            raise ProtocolError(CLOSE_PROTOCOL, "client frame not masked")
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
            if length >> 63:
                raise ProtocolError(CLOSE_PROTOCOL, "64-bit length with the high bit set")
        if opcode >= 0x8 and (length > 125 or not fin):
            raise ProtocolError(CLOSE_PROTOCOL, "bad control frame")
        if length > self.max_message:
            raise ProtocolError(CLOSE_TOO_BIG, "frame too big")
        mask = self._read_exact(4)
        payload = self._read_exact(length)
        if length:
            payload = (int.from_bytes(payload, "little") ^
                       int.from_bytes((mask * (length // 4 + 1))[:length], "little")).to_bytes(length, "little")
        return bool(fin), bool(rsv1), opcode, payload

    def receive(self):
        """The next data message as (opcode, bytes). Answers ping and close frames on the way; raises
        ConnectionClosed when the peer closes, after answering its close."""
        parts, opcode, compressed, size = [], None, False, 0
        while True:
            try:
                fin, rsv1, op, payload = self._read_frame()
            except ProtocolError as e:
                self.close(e.code, e.reason)
                raise ConnectionClosed(e.code, e.reason) from e
            if op == OP_PING:
                self._write_frame(OP_PONG, payload)
                self.pings_answered += 1
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode("utf-8", "replace")
                if not self.closed:
                    self.close(code or CLOSE_NORMAL, "")
                raise ConnectionClosed(code, reason)
            if op == OP_CONT:
                if opcode is None:
                    return self._fail("continuation without a message")
            elif op in (OP_TEXT, OP_BINARY):
                if opcode is not None:
                    return self._fail("new message inside a fragmented one")
                if rsv1 and not self.deflate:
                    return self._fail("compressed frame without permessage-deflate")
                opcode, compressed = op, rsv1
            else:
                return self._fail(f"unknown opcode {op}")
            size += len(payload)
            if size > self.max_message:
                self.close(CLOSE_TOO_BIG, "message too big")
                raise ConnectionClosed(CLOSE_TOO_BIG, "message too big")
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                if compressed:
                    try:
                        data = self.deflate.decompress(data, self.max_message)
                    except ProtocolError as e:
                        self.close(e.code, e.reason)
                        raise ConnectionClosed(e.code, e.reason) from e
                return opcode, data

    def _fail(self, reason):
        self.close(CLOSE_PROTOCOL, reason)
        raise ConnectionClosed(CLOSE_PROTOCOL, reason)

    # -- writing ---------------------------------------------------------------------------------

    def _write_frame(self, opcode, payload, fin=True, rsv1=False):
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
        if n < 126:
            head += bytes([n])
        elif n < 1 << 16:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def send_text(self, text, fragment=0):
        """One text message; FRAGMENT > 0 splits its (compressed) payload into frames of that size."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        compressed = self.deflate is not None
        if compressed:
            data = self.deflate.compress(data)
        if fragment <= 0 or len(data) <= fragment:
            self._write_frame(OP_TEXT, data, rsv1=compressed)
            return
        pieces = [data[i:i + fragment] for i in range(0, len(data), fragment)]
        for i, piece in enumerate(pieces):
            self._write_frame(OP_TEXT if i == 0 else OP_CONT, piece, fin=i == len(pieces) - 1,
                              rsv1=compressed and i == 0)

    def ping(self, payload=b""):
        self._write_frame(OP_PING, payload or os.urandom(4))

    def close(self, code=CLOSE_NORMAL, reason=""):
        if self.closed:
            return
        self.closed = True
        try:
            self._write_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:120])
        except OSError:
            pass
