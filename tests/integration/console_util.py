"""Helpers for the console's integration tests: a session of /ui/api/ (cookie
and CSRF token kept like a browser keeps them), TOTP codes computed here
(RFC 6238 with hmac/hashlib), and a raw request for what http.client will
not send.  Not a test itself (the glob is test_*.py)."""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taxii_util import Node, basic, bearer  # noqa: E402,F401

JSON = "application/json"


def totp(secret_b32, step=None, digits=6):
    """The TOTP code of a base32 secret at a time step (default: now)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    if step is None:
        step = int(time.time()) // 30
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    v = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return "%0*d" % (digits, v % 10 ** digits)


def secret_of(uri):
    return uri.split("secret=", 1)[1].split("&", 1)[0]


class Session:
    """A console client: login() keeps the cookie and the CSRF token."""

    def __init__(self, node):
        self.node = node
        self.cookie = None
        self.csrf = None
        self.set_cookie = None

    def call(self, method, path, body=None, csrf=True, headers=None, raw=None, auth=None):
        """(status, headers, parsed JSON or None) of /ui/api/PATH."""
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = "sk_session=" + self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", JSON)
        st, hd, out = self.node.request(method, "/ui/api/" + path, auth=auth, headers=h,
                                        body=data, accept=None)
        try:
            j = json.loads(out) if out else None
        except ValueError:
            j = None
        return st, hd, j

    def login(self, user, password, code=None):
        body = {"user": user, "password": password}
        if code is not None:
            body["totp"] = code
        self.cookie = self.csrf = None
        st, hd, j = self.call("POST", "login", body)
        self.set_cookie = hd.get("set-cookie")
        if st == 200 and self.set_cookie:
            self.cookie = self.set_cookie.split(";", 1)[0].split("=", 1)[1]
            self.csrf = j.get("csrf")
        return st, hd, j


def raw_request(node, head):
    """Send a request head (bytes, without the final blank line) and read
    the answer's status line and headers: for a body that is announced and
    never sent, which the server must refuse without waiting for it."""
    s = socket.create_connection((node.host, node.port), timeout=30)
    try:
        s.sendall(head + b"\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode("latin-1")
    finally:
        s.close()


def status_of(raw):
    try:
        return int(raw.split(" ", 2)[1])
    except (IndexError, ValueError):
        return None


def own(node, name, role, pw):
    node.run("account", "add", name, "--role", role, "--password-stdin", stdin=pw + "\n")
