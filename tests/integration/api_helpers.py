"""Helpers for the API integration tests: password hashes, logins, raw HTTP with every header, and a
minimal WebSocket client (RFC 6455, stdlib only) for the /hbd and /ws streams."""

import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import struct
import time

from hbtest import Client, request_body

PASSWORD = "secret123"


def pbkdf2_hash(password, iterations=1000, salt="saltsaltsalt1234"):
    """A Werkzeug-style hash, cheap enough for tests (hbd passwd uses 600000 iterations)."""
    h = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2:sha256:{iterations}${salt}${h}"


def users_config(**roles):
    """users: mapping for the config; each kwarg is name=admin_flag."""
    return {name: {"password": pbkdf2_hash(PASSWORD), "admin": bool(admin), "full_name": name.title()}
            for name, admin in roles.items()}


def request(port, method, path, body=None, headers=None, token=None, cookies=None, tls_context=None,
            timeout=10):
    """Returns (status, list of (header, value), body bytes, parsed JSON or None)."""
    data, h = request_body(body, headers, token)
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if tls_context is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        parsed = None
        if raw and (r.getheader("Content-Type") or "").startswith("application/json"):
            parsed = json.loads(raw)
        return r.status, r.getheaders(), raw, parsed
    finally:
        conn.close()


def header(headers, name):
    name = name.lower()
    return [v for k, v in headers if k.lower() == name]


def login(port, user, password=PASSWORD, tls_context=None):
    """Logs in; returns (token, cookies dict, body)."""
    status, headers, raw, body = request(port, "POST", "/api/0/auth/login",
                                         {"username": user, "password": password}, tls_context=tls_context)
    assert status == 200, (status, raw)
    cookies = {}
    for c in header(headers, "Set-Cookie"):
        k, _, rest = c.partition("=")
        cookies[k] = rest.split(";")[0]
    return body["token"], cookies, body


class WebSocket:
    """A blocking WebSocket client: connect, read text messages, close."""

    def __init__(self, port, path, headers=None, tls_context=None, timeout=5):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = tls_context.wrap_socket(raw, server_hostname="localhost") if tls_context else raw
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed during handshake: {self.buf!r}")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n")[0].decode()
        self.status = int(status_line.split()[1])
        if self.status != 101:
            self.sock.close()
            raise PermissionError(self.status)
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        assert accept.decode() in head.decode(), head

    def _parse(self):
        """One complete frame from the buffer as (opcode, payload), or None (nothing consumed)."""
        b = self.buf
        if len(b) < 2:
            return None
        opcode, n, off = b[0] & 0x0F, b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, off = struct.unpack(">H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, off = struct.unpack(">Q", b[2:10])[0], 10
        mask = None
        if b[1] & 0x80:
            if len(b) < off + 4:
                return None
            mask, off = b[off:off + 4], off + 4
        if len(b) < off + n:
            return None
        payload, self.buf = b[off:off + n], b[off + n:]
        if mask:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return opcode, payload

    def recv_frame(self, timeout=5):
        """The next frame; a timeout leaves a partly received frame in the buffer."""
        deadline = time.time() + timeout
        while True:
            f = self._parse()
            if f is not None:
                return f
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout("no frame")
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def recv_json(self, timeout=5):
        """The next text message as JSON; raises socket.timeout when nothing comes."""
        while True:
            opcode, payload = self.recv_frame(timeout)
            if opcode == 1:
                return json.loads(payload)
            if opcode == 8:
                raise ConnectionError("server closed the stream")

    def messages_until(self, pred, timeout=5):
        """Reads messages until pred(msg) is true; returns every message read."""
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            try:
                m = self.recv_json(max(0.05, deadline - time.time()))
            except (socket.timeout, TimeoutError):
                break
            seen.append(m)
            if pred(m):
                return seen
        raise AssertionError(f"no matching message in {timeout}s; got {seen}")

    def drain(self, timeout=0.5):
        out = []
        try:
            while True:
                out.append(self.recv_json(timeout))
        except (socket.timeout, TimeoutError):
            return out

    def send_frame(self, opcode, payload=b""):
        mask = os.urandom(4)
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))

    def close(self):
        try:
            self.send_frame(8, struct.pack(">H", 1000))
        except OSError:
            pass
        self.sock.close()


def tls_client_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    return ctx


def host_event_after_heartbeat(ws, hb_port, name):
    """Sends one heartbeat as `name` and returns the next `host` event on the stream `ws`."""
    with Client(name, hb_port) as c:
        c.heartbeat()
    return ws.messages_until(lambda m: m["type"] == "host", timeout=5)[-1]
