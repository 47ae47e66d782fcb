"""Helpers for the TAXII integration tests: a node in a temporary directory,
the `schakel` binary, a server started on a free loopback port, and a small
HTTP client (stdlib only).  Not a test itself (the glob is test_*.py)."""
import base64
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN = os.environ.get("SCHAKEL_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "schakel")
TAXII = "application/taxii+json;version=2.1"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)
        return cond

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


class Node:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sk-taxii-")
        self.db = os.path.join(self.dir, "node.db")
        self.server = None
        self.url = None
        self.run("init", "--name", "Test CERT", "--country", "NL")

    def run(self, *args, stdin=None, check=True):
        p = subprocess.run([BIN, "--db", self.db, *args], input=stdin,
                           capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            raise RuntimeError(f"schakel {' '.join(args)}: {p.returncode}: {p.stderr}")
        return p

    def start(self, *extra):
        self.log = open(os.path.join(self.dir, "access.log"), "w")
        self.server = subprocess.Popen(
            [BIN, "--db", self.db, "serve", "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.server.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError("server did not start: " + line)
        self.url = line.split()[-1]
        u = urllib.parse.urlparse(self.url)
        self.host, self.port = u.hostname, u.port
        self.tls = u.scheme == "https"

    def stop(self):
        rc = None
        if self.server:
            self.server.terminate()
            try:
                rc = self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                rc = self.server.wait(timeout=20)
            self.server = None
            self.log.close()
        return rc

    def cleanup(self):
        self.stop()
        try:  # server-side errors help when a test fails
            with open(os.path.join(self.dir, "access.log")) as f:
                for line in f:
                    if line.startswith("schakel:") and "shutting down" not in line:
                        print("server:", line.rstrip())
        except OSError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, auth=None, headers=None, body=None, accept=TAXII,
                raw_path=False):
        if self.tls:
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection(self.host, self.port, timeout=60, context=ctx)
        else:
            c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = {}
        if accept is not None:
            h["Accept"] = accept
        if auth:
            h["Authorization"] = auth
        if headers:
            h.update(headers)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get_json(self, path, auth=None, **kw):
        st, hd, data = self.request("GET", path, auth=auth, **kw)
        try:
            j = json.loads(data) if data else None
        except ValueError:
            j = None
        return st, hd, j


def basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def bearer(tok):
    return "Bearer " + tok


def q(params):
    return "?" + urllib.parse.urlencode(params) if params else ""


def walk(node, path, auth, params=None, key="objects", limit=2, max_pages=10000):
    """Follow next until more=false; returns (items, pages, headers list) or raises."""
    params = dict(params or {})
    params["limit"] = str(limit)
    items, heads = [], []
    for _ in range(max_pages):
        st, hd, j = node.get_json(path + q(params), auth)
        if st != 200:
            return None, st, heads
        items.extend(j.get(key, []))
        heads.append(hd)
        if not j.get("more"):
            return items, 200, heads
        params["next"] = j["next"]
    raise RuntimeError("pagination did not end")
