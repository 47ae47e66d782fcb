"""Helpers for the federation tests: nodes that know each other (partner,
account, token and grant on one side; a peer on the other), STIX objects
with TLP markings, and small queries.  Not a test itself."""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taxii_util import Node, bearer  # noqa: E402,F401

TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_n = [0]


def indicator(producer=None, marking=None, oid=None, modified="2024-01-01T00:00:00.000Z",
              revoked=False):
    _n[0] += 1
    o = {"type": "indicator", "spec_version": "2.1",
         "id": oid or f"indicator--{uuid.uuid4()}",
         "created": "2024-01-01T00:00:00.000Z", "modified": modified,
         "pattern": f"[ipv4-addr:value = '198.51.100.{_n[0] % 250}']",
         "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    if producer:
        o["created_by_ref"] = producer
    if marking:
        o["object_marking_refs"] = [TLP[marking]]
    if revoked:
        o["revoked"] = True
    return o


def import_objects(node, objs, collection):
    path = os.path.join(node.dir, f"in-{uuid.uuid4().hex}.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, f)
    node.run("import", "--quiet", "--collection", collection, path)
    os.unlink(path)


def make_node(name):
    """A Node called NAME among the nodes of a test (n.name), with its identity (n.ident)."""
    n = Node()
    n.name = name
    n.ident = n.identity()
    return n


def collection(node, name, default_tlp=None):
    args = ["collection", "add", name, "--alias", name]
    if default_tlp:
        args += ["--default-tlp", default_tlp]
    node.run(*args)


def grant(server, client, coll, read=True, write=False, amber=False):
    """Let node `client` use collection coll on `server` with a token; returns it.

    The first grant makes partner p-NAME (with the client's identity) and its
    account a-NAME (password pw-NAME) on the server."""
    pname = "p-" + client.name
    if server.run("partner", "list").stdout.find(" " + pname + " ") < 0:
        server.partner(pname, "--identity", client.ident)
        server.account("a-" + client.name, pname, "pw-" + client.name)
    flags = [f for f, on in (("--read", read), ("--write", write), ("--amber", amber)) if on]
    server.grant(pname, coll, *flags)
    return server.token("a-" + client.name)


def add_peer(node, server, token, coll, local, pull=True, push=False, reshare=False,
             name=None, url=None):
    args = ["peer", "add", name or server.name, url or server.url.replace("/taxii2/", "/"),
            "--api-root", "/api/", "--collection", coll, "--auth", "token", "--secret-stdin",
            "--identity", server.ident, "--local-collection", local, "--interval", "1"]
    if pull:
        args.append("--pull")
    if push:
        args.append("--push")
    if reshare:
        args.append("--reshare")
    node.run(*args, stdin=token + "\n")


def sync(node, peer, check=True, env=None):
    p = node.run("peer", "sync", peer, check=check)
    out = {}
    toks = p.stdout.split()
    for i in range(0, len(toks) - 1, 2):
        try:
            out[toks[i]] = float(toks[i + 1])
        except ValueError:
            pass
    out["rc"] = p.returncode
    out["stderr"] = p.stderr
    return out


def ids_in(node, coll, all_versions=False):
    args = ["list", "--collection", coll, "--json", "--limit", "10000000"]
    if all_versions:
        args.append("--all-versions")
    p = node.run(*args)
    res = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if isinstance(j, list):
            res.extend(j)
        else:
            res.append(j)
    return res


def sql(node, query):
    import sqlite3
    c = sqlite3.connect(node.db, timeout=30)
    try:
        return c.execute(query).fetchall()
    finally:
        c.close()
