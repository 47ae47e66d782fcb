"""Markings and the write rule across a pull (docs/sharing-policy.md), with real
nodes on 127.0.0.1:

- an unmarked object that was AMBER by its source collection's default stays
  AMBER at the receiver, whose collection default is GREEN: a GREEN reader
  there does not get it; a peer configured `--unmarked-tlp green` is taken
  at its word;
- a peer cannot make this node re-share its content in this node's name:
  an object from the peer that claims this node as producer is refused;
- a peer cannot version or revoke an object this node received from its
  producer, so it can neither silence it nor divert its sightings."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from sync_util import (add_peer, bearer, collection, grant, ids_in,  # noqa: E402
                       import_objects, indicator, make_node, sync)
from taxii_util import TAXII  # noqa: E402


def main():
    test_main(run, *(make_node(n) for n in ("A", "B", "C", "P")))


def run(a, b, c, p, R):
    collection(a, "share")  # default TLP:AMBER
    collection(a, "share2")
    collection(b, "inbox", "green")
    collection(b, "inbox2", "green")
    a.start("--no-sync")
    tok = grant(a, b, "share", amber=True)
    a.run("collection", "grant", "p-B", "share2", "--read", "--amber")
    unmarked = indicator(a.ident)
    unmarked2 = indicator(a.ident)
    claims_b = indicator(b.ident, "green")  # A says B made it (from a file: unknown source)
    import_objects(a, [unmarked, claims_b], "share")
    import_objects(a, [unmarked2], "share2")
    add_peer(b, a, tok, "share", "inbox")
    r = sync(b, "A", check=False)
    got = {o["id"] for o in ids_in(b, "inbox")}
    R.check(unmarked["id"] in got, f"B pulled A's unmarked indicator ({r.get('stderr')})")
    R.check(claims_b["id"] not in got, "an object from A claiming B as producer is refused")
    # the same with a peer configured to serve unmarked objects as GREEN
    b.run("peer", "add", "A2", a.url.replace("/taxii2/", "/"), "--api-root", "/api/",
          "--collection", "share2", "--auth", "token", "--secret-stdin", "--identity", a.ident,
          "--local-collection", "inbox2", "--unmarked-tlp", "green", "--pull",
          stdin=tok + "\n")
    sync(b, "A2")

    # C reads B's inbox as a GREEN reader
    b.start("--no-sync")
    tok_c = grant(b, c, "inbox", read=True)
    b.run("collection", "grant", "p-C", "inbox2", "--read")
    st, _, _ = b.get_json(f"/api/collections/inbox/objects/{unmarked['id']}/", bearer(tok_c))
    R.check(st == 404, f"A's unmarked (AMBER by default) object is not GREEN at B ({st})")
    st, _, j = b.get_json(f"/api/collections/inbox2/objects/{unmarked2['id']}/", bearer(tok_c))
    R.check(st == 200, f"from a peer configured --unmarked-tlp green it is GREEN ({st})")

    # --- P (a partner of B) posts its indicator; A then serves a revoked newer version -----
    tok_p = grant(b, p, "inbox", read=True, write=True)
    mine = indicator(p.ident, "green")
    st, _, data = b.request("POST", "/api/collections/inbox/objects/", bearer(tok_p),
                            {"Content-Type": TAXII}, json.dumps({"objects": [mine]}).encode())
    R.check(st == 202 and json.loads(data).get("success_count") == 1, "P posts its indicator")
    forged = dict(mine, modified="2024-06-01T00:00:00.000Z", revoked=True)
    collection(a, "forge")
    a.run("collection", "grant", "p-B", "forge", "--read")
    import_objects(a, [forged], "forge")
    b.run("peer", "add", "A3", a.url.replace("/taxii2/", "/"), "--api-root", "/api/",
          "--collection", "forge", "--auth", "token", "--secret-stdin", "--identity", a.ident,
          "--local-collection", "inbox", "--pull", stdin=tok + "\n")
    r = sync(b, "A3", check=False)
    latest = json.loads(b.run("get", mine["id"]).out)
    R.check(not latest.get("revoked") and latest["modified"] == mine["modified"],
            f"a peer cannot revoke P's indicator at B ({r.get('stderr', '')[-300:]})")
    print("sync A3:", r)
    got = {o["id"] for o in ids_in(b, "inbox", all_versions=True)
           if o.get("revoked")}
    R.check(mine["id"] not in got, "no revoked version of P's indicator is stored at B")


if __name__ == "__main__":
    main()
