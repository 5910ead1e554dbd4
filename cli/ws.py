"""A minimal WebSocket client (RFC 6455) on the standard library, enough to follow ComfyUI's ``/ws`` events.

It connects (``ws://``, ``wss://``, or the matching ``http(s)://`` URL), checks the handshake's accept key, and
yields whole messages: text as ``str``, binary (ComfyUI's preview images) as ``bytes``. Pings are answered,
fragments joined, and a close frame or a dropped connection ends :meth:`WebSocket.recv` with ``None``. Only what a
listening client needs is sent: masked pong and close frames, and text.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
import struct
import threading
import urllib.parse

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_MESSAGE = 64 * 1024 * 1024
_MAX_HEADER = 64 * 1024
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketError(OSError):
    """The handshake failed or the peer broke the protocol."""


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value a server must answer for the client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1((key + _GUID).encode("ascii")).digest()).decode("ascii")  # noqa: S324


def encode_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final frame; client frames are masked with ``mask`` (4 random bytes unless given)."""
    mask = os.urandom(4) if mask is None else mask
    if len(mask) != 4:
        raise ValueError(f"mask must be 4 bytes, got {len(mask)}")
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + _apply_mask(payload, mask)


def _apply_mask(data: bytes, mask: bytes) -> bytes:
    if not data:
        return b""
    reps = mask * (len(data) // 4 + 1)
    return (int.from_bytes(data, "big") ^ int.from_bytes(reps[: len(data)], "big")).to_bytes(len(data), "big")


class WebSocket:
    """A connected client socket; use :meth:`connect`, then :meth:`recv` in a loop, :meth:`close` from any thread."""

    def __init__(self, sock: socket.socket, leftover: bytes = b"") -> None:
        self._sock = sock
        self._buf = bytearray(leftover)
        self._send_lock = threading.Lock()
        self.closed = False

    @classmethod
    def connect(cls, url: str, timeout: float = 5.0, headers: dict[str, str] | None = None) -> WebSocket:
        parts = urllib.parse.urlsplit(url)
        secure = parts.scheme in ("wss", "https")
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise WebSocketError(f"not a websocket URL: {url!r}")
        port = parts.port or (443 if secure else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sock = socket.create_connection((parts.hostname, port), timeout=timeout)
        try:
            if secure:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
            key = base64.b64encode(os.urandom(16)).decode("ascii")
            lines = [f"GET {path} HTTP/1.1", f"Host: {parts.hostname}:{port}", "Upgrade: websocket",
                     "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            raw = b""
            while b"\r\n\r\n" not in raw:
                chunk = sock.recv(4096)
                if not chunk:
                    raise WebSocketError(f"{url}: connection closed during the handshake")
                raw += chunk
                if len(raw) > _MAX_HEADER:
                    raise WebSocketError(f"{url}: handshake answer too long")
            head, leftover = raw.split(b"\r\n\r\n", 1)
            status, *fields = head.decode("latin-1").split("\r\n")
            if len(status.split()) < 2 or status.split()[1] != "101":
                raise WebSocketError(f"{url}: handshake refused ({status.strip()})")
            answer = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
            if answer.get("sec-websocket-accept") != accept_key(key):
                raise WebSocketError(f"{url}: bad Sec-WebSocket-Accept in the handshake")
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return cls(sock, leftover)

    # -- reading --------------------------------------------------------------------------------------------------
    def _read(self, n: int) -> bytes | None:
        while len(self._buf) < n:
            try:
                chunk = self._sock.recv(max(65536, n - len(self._buf)))
            except OSError:
                return None
            if not chunk:
                return None
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _frame(self) -> tuple[bool, int, bytes] | None:
        head = self._read(2)
        if head is None:
            return None
        fin, opcode, masked, n = bool(head[0] & 0x80), head[0] & 0x0F, bool(head[1] & 0x80), head[1] & 0x7F
        if head[0] & 0x70:
            raise WebSocketError("reserved bits set in a frame (no extension was negotiated)")
        if n >= 126:
            ext = self._read(2 if n == 126 else 8)
            if ext is None:
                return None
            n = struct.unpack("!H" if len(ext) == 2 else "!Q", ext)[0]
        if n > _MAX_MESSAGE:
            raise WebSocketError(f"frame of {n} bytes exceeds the {_MAX_MESSAGE}-byte limit")
        mask = self._read(4) if masked else b""
        payload = self._read(n) if n else b""
        if mask is None or payload is None:
            return None
        return fin, opcode, _apply_mask(payload, mask) if masked else payload

    def recv(self) -> str | bytes | None:
        """The next whole message; ``None`` once the connection is closed (by either side)."""
        parts: list[bytes] = []
        kind = None
        while not self.closed:
            frame = self._frame()
            if frame is None:
                self.closed = True
                return None
            fin, opcode, payload = frame
            if opcode == OP_PING:
                self._send(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                self.close(payload[:2] if len(payload) >= 2 else b"")
                return None
            if opcode in (OP_TEXT, OP_BINARY):
                kind, parts = opcode, [payload]
            elif opcode == OP_CONT and kind is not None:
                parts.append(payload)
            else:
                raise WebSocketError(f"unexpected frame opcode {opcode}")
            if sum(map(len, parts)) > _MAX_MESSAGE:
                raise WebSocketError(f"message exceeds the {_MAX_MESSAGE}-byte limit")
            if fin:
                data = b"".join(parts)
                return data.decode("utf-8") if kind == OP_TEXT else data
        return None

    # -- writing --------------------------------------------------------------------------------------------------
    def _send(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            try:
                self._sock.sendall(encode_frame(opcode, payload))
            except OSError:
                self.closed = True

    def send_text(self, text: str) -> None:
        self._send(OP_TEXT, text.encode("utf-8"))

    def close(self, code: bytes = b"\x03\xe8") -> None:
        """Send a close frame (best effort) and shut the socket; a blocked :meth:`recv` returns ``None``."""
        if not self.closed:
            self._send(OP_CLOSE, code)
        self.closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
