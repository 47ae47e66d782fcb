"""Helpers for the TAXII integration tests: a node (sklib.Node) whose runs
raise on failure, with a small HTTP client (stdlib only) for the server it
starts on a free loopback port.  Not a test itself (the glob is test_*.py)."""
import base64
import http.client
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

TAXII = "application/taxii+json;version=2.1"


class Node(sklib.Node):
    """A node named "Test CERT" (country NL); run() raises on failure unless
    check=False.  request() and get_json() talk to the server of start()."""

    def __init__(self):
        super().__init__(name="Test CERT", init_args=("--country", "NL"), check=True)

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
