"""Signed objects across hops (docs/provenance.md), with real nodes on 127.0.0.1:

- a node signs what it produces; `schakel verify` says verified where its key
  is pinned (`peer add --key`, or --trust-on-first-use from its identity);
- a version re-signed by a third node (or changed in transit) is refused;
- a verified version relayed by a node that is neither its producer nor its
  first source is accepted as the producer's;
- a key change that the pinned key did not sign is refused loudly; a
  rotation (`schakel key rotate`) is accepted and what the old key signed
  still verifies;
- `schakel revoke` writes a signed revoked version that travels."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from sync_util import (add_peer, collection, grant, import_objects,  # noqa: E402
                       indicator, make_node, sql, sync)


def key_of(node):
    out = node.run("key", "show").out.split()
    return out[out.index("key") + 1]


def verify(node, oid):
    r = node.run("verify", oid, check=False)
    return r.returncode, r.out.strip()


def main():
    test_main(run, *(make_node(n) for n in ("A", "B", "C", "D")))


def run(a, b, c, d, R):
    for n in (a, b, c, d):
        collection(n, "x", "green")
    a.start("--no-sync")
    c.start("--no-sync")
    d.start("--no-sync")
    x1 = indicator(a.ident, "green", modified="2026-01-01T00:00:00.000Z")
    import_objects(a, [x1], "x")
    rc, out = verify(a, x1["id"])
    R.check(rc == 0 and "verified" in out, f"A signs what it produces ({out})")
    tok_b = grant(a, b, "x")
    tok_c = grant(a, c, "x")
    # B pins A's key by hand; C trusts A's identity on first use
    add_peer(b, a, tok_b, "x", "x")
    b.run("key", "pin", a.ident, key_of(a))
    c.run("peer", "add", "A", a.url.replace("/taxii2/", "/"), "--api-root", "/api/",
          "--collection", "x", "--auth", "token", "--secret-stdin", "--identity", a.ident,
          "--local-collection", "x", "--trust-on-first-use", "--pull", stdin=tok_c + "\n")
    # A shares its identity (with the published key) in x, as a schakel node does
    a.run("export", "--type", "identity", "--output", a.path("ident.json"))
    ident = [o for o in json.load(open(a.path("ident.json")))["objects"] if o["id"] == a.ident]
    import_objects(a, ident, "x")
    sync(b, "A")
    sync(c, "A")
    rc, out = verify(b, x1["id"])
    R.check(rc == 0 and "verified" in out, f"B verifies A's indicator with the pinned key ({out})")
    rc, out = verify(c, x1["id"])
    R.check(rc == 0 and "verified" in out, f"C pinned A's key on first use ({out})")

    # --- a verified version relayed by C reaches B (not C's own, not first source) -------
    x2 = dict(x1, modified="2026-02-01T00:00:00.000Z", name="second version")
    import_objects(a, [x2], "x")
    sync(c, "A")
    tok_bc = grant(c, b, "x")
    add_peer(b, c, tok_bc, "x", "x", name="C")
    r = sync(b, "C", check=False)
    got = json.loads(b.run("get", x1["id"]).out)
    R.check(got.get("modified") == x2["modified"],
            f"a version A signed, relayed by C, is accepted at B ({r.get('stderr', '')[-200:]})")

    # --- changed after A signed it, or signed by another key: refused --------------------
    # D (which pins no key of A) serves a copy of A's signed version with other content
    forged = json.loads(c.run("get", x1["id"]).out)
    forged["modified"] = "2026-03-01T00:00:00.000Z"
    forged["revoked"] = True  # an attempt to silence A's indicator
    import_objects(d, [forged], "x")
    tok_bd = grant(d, b, "x")
    add_peer(b, d, tok_bd, "x", "x", name="D")
    r = sync(b, "D", check=False)
    got = json.loads(b.run("get", x1["id"]).out)
    R.check(not got.get("revoked"), "a version changed after A signed it is refused at B")
    R.check("bad signature" in r.get("stderr", ""), f"the refusal says why ({r.get('stderr')})")
    # a version signed with D's own key in A's name: the signature D's node makes for what
    # it produces, moved onto an object that names A as producer
    own_d = indicator(d.ident, "green", modified="2026-03-02T00:00:00.000Z")
    import_objects(d, [own_d], "x")
    signed_d = json.loads(d.run("get", own_d["id"]).out)
    resigned = dict(x2, modified="2026-03-02T00:00:00.000Z", revoked=True,
                    extensions=signed_d["extensions"])
    import_objects(d, [resigned], "x")
    r = sync(b, "D", check=False)
    got = json.loads(b.run("get", x1["id"]).out)
    R.check(not got.get("revoked") and "bad signature" in r.get("stderr", ""),
            f"a version signed by another node's key is refused ({r.get('stderr')})")

    # --- key change without the old key's signature: refused ------------------------------
    fake_ident = json.loads(b.run("get", a.ident).out)
    created = datetime.datetime.strptime(fake_ident["created"], "%Y-%m-%dT%H:%M:%S.%fZ")
    fake_ident["modified"] = (created + datetime.timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    fake_ident["extensions"] = {k: {"extension_type": "property-extension",
                                    "key": key_of(c)}
                                for k in fake_ident.get("extensions", {})}
    collection(d, "y", "green")
    import_objects(d, [fake_ident], "y")
    d.run("collection", "grant", "p-B", "y", "--read")
    add_peer(b, d, tok_bd, "y", "x", name="D2")
    r = sync(b, "D2", check=False)
    R.check("KEY CHANGED" in r.get("stderr", ""), f"a key change is refused loudly ({r})")
    pins = sql(b, f"SELECT count(*) FROM keys WHERE identity='{a.ident}' AND current=1")
    R.check(pins == [(1,)], "B still pins one key for A")

    # --- a rotation is accepted; what the old key signed still verifies -------------------
    a.run("key", "rotate")
    a.run("export", "--type", "identity", "--output", a.path("ident2.json"))
    ident2 = [o for o in json.load(open(a.path("ident2.json")))["objects"] if o["id"] == a.ident]
    import_objects(a, ident2, "x")
    x3 = indicator(a.ident, "green")
    import_objects(a, [x3], "x")
    sync(b, "A")
    rc, out = verify(b, x3["id"])
    R.check(rc == 0 and "verified" in out, f"after the rotation B verifies A's new object ({out})")
    rc, out = verify(b, x1["id"])
    R.check(rc == 0, f"and what the old key signed ({out})")

    # --- a signed revocation travels ------------------------------------------------------
    a.run("revoke", x3["id"], "--reason", "false positive")
    sync(b, "A")
    got = json.loads(b.run("get", x3["id"]).out)
    rc, out = verify(b, x3["id"])
    R.check(got.get("revoked") is True and rc == 0, f"B has A's signed revocation ({out})")
    r = b.run("revoke", x1["id"], check=False)
    R.check(r.returncode != 0 and "only objects produced here" in r.err,
            "B cannot revoke A's object")


if __name__ == "__main__":
    main()
