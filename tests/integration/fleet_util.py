"""Helpers for the fleet tests and bench/fleet.sh: a real `nats-server -js` on
a free port of 127.0.0.1 with the fleet's authorization include, a hub with
sensors, and a raw NATS client (the text protocol over a socket, NKey
authentication signed with the `cryptography` package when it is there) for
what the schakel binary must never do: subscribe to another audience's
subject, publish a forged object.  Not a test itself."""
import base64
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklib import _SERVERS, wait_for  # noqa: E402,F401

NATS_SERVER = shutil.which("nats-server")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Nats:
    """One nats-server with JetStream, its store and config in dir, the
    authorization include copied from authz (reload() copies it again and
    sends SIGHUP, as `nats-server --signal reload` does)."""

    def __init__(self, dir, authz, port=None, name="n1", cluster=None, routes=()):
        self.dir, self.authz, self.name = dir, authz, name
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        os.makedirs(dir, exist_ok=True)
        shutil.copy(authz, os.path.join(dir, "authz.conf"))
        conf = [f"server_name: {name}", f"listen: 127.0.0.1:{self.port}",
                f'jetstream {{ store_dir: "{os.path.join(dir, "js")}" }}',
                "include ./authz.conf"]
        if cluster:
            conf.append("cluster { name: %s, listen: 127.0.0.1:%d, routes: [%s] }" % (
                cluster[0], cluster[1], ", ".join(f"nats://127.0.0.1:{r}" for r in routes)))
        self.conf = os.path.join(dir, "nats.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.log = os.path.join(dir, "nats.log")
        self.start()

    def start(self):
        with open(self.log, "a") as lg:
            self.proc = subprocess.Popen([NATS_SERVER, "-c", self.conf], stdout=lg, stderr=lg,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        if not wait_for(lambda: self._ready() or self.proc.poll() is not None, 30) or \
                self.proc.poll() is not None:
            raise RuntimeError("nats-server did not start: " + open(self.log).read()[-2000:])

    def _ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def reload(self):
        shutil.copy(self.authz, os.path.join(self.dir, "authz.conf"))
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


# --- NKeys, independently of the C code -------------------------------------------

def crc16(data):
    c = 0
    for b in data:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021 if c & 0x8000 else c << 1) & 0xffff
    return c


def b32d(s):
    return base64.b32decode(s + "=" * (-len(s) % 8))


def nkey_seed_bytes(seed):
    raw = b32d(seed)
    assert crc16(raw[:-2]) == int.from_bytes(raw[-2:], "little"), "seed checksum"
    return raw[2:34]


def nkey_pub(pk):
    raw = bytes([20 << 3]) + pk
    raw += crc16(raw).to_bytes(2, "little")
    return base64.b32encode(raw).decode().rstrip("=")


def have_crypto():
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: F401
        return True
    except ImportError:
        return False


def keypair(seed):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    sk = ed25519.Ed25519PrivateKey.from_private_bytes(nkey_seed_bytes(seed))
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, nkey_pub(pk)


class RawNats:
    """The NATS text protocol, enough to connect with an NKey, subscribe and
    publish with headers; replies() returns the server's lines up to PONG."""

    def __init__(self, port, seed):
        sk, pub = keypair(seed)
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.s.makefile("rb")
        info = json.loads(self.f.readline().decode()[5:])
        sig = base64.urlsafe_b64encode(sk.sign(info["nonce"].encode())).rstrip(b"=").decode()
        c = {"verbose": False, "pedantic": False, "nkey": pub, "sig": sig, "headers": True,
             "protocol": 1, "name": "test"}
        self.s.sendall(("CONNECT %s\r\n" % json.dumps(c)).encode())
        self.connected = "PONG" in " ".join(self.replies())

    def replies(self):
        self.s.sendall(b"PING\r\n")
        out = []
        while True:
            line = self.f.readline().decode(errors="replace").strip()
            if not line:
                return out + ["(closed)"]
            out.append(line)
            if line == "PONG":
                return out

    def sub(self, subject, sid=1):
        self.s.sendall(f"SUB {subject} {sid}\r\n".encode())
        return self.replies()

    def hpub(self, subject, payload, msgid):
        hdr = f"NATS/1.0\r\nNats-Msg-Id: {msgid}\r\n\r\n".encode()
        body = payload.encode()
        self.s.sendall(f"HPUB {subject} {len(hdr)} {len(hdr) + len(body)}\r\n".encode() + hdr +
                       body + b"\r\n")
        return self.replies()

    def close(self):
        self.s.close()


def hub_seed(hub):
    db = sqlite3.connect(hub.db)
    try:
        return db.execute("SELECT value FROM meta WHERE key='fleet.hub_seed'").fetchone()[0]
    finally:
        db.close()


def count(node, sql, *args):
    db = sqlite3.connect(f"file:{node.db}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute(sql, args).fetchone()[0]
    finally:
        db.close()


def has_object(node, oid):
    return count(node, "SELECT COUNT(*) FROM objects WHERE id=?", oid)


def wait_log(path, text, timeout=60):
    def seen():
        try:
            with open(path, errors="replace") as f:
                return text in f.read()
        except OSError:
            return False
    return wait_for(seen, timeout)
