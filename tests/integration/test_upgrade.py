"""A node made by an older release (schema 6, tests/fixtures/upgrade) opens
with this binary, migrates, and keeps everything: its identity, objects byte
for byte, collections, partners, accounts and their passwords, grants, peers
and their secrets; it then gets what newer releases add (its signing key,
the audit log) and serves its partner as before."""
import gzip
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402
from sklib import test_main  # noqa: E402
from taxii_util import Node, basic  # noqa: E402

FIX = os.path.join(os.environ.get("SK_FIXTURES", os.path.join(os.path.dirname(__file__), "..",
                                                              "fixtures")), "upgrade")
ASHFALL = os.path.join(os.path.dirname(FIX), "ashfall", "ashfall-bundle.json")


class OldNode(Node):
    """A node directory without `schakel init`: the old database goes there."""

    def __init__(self):
        sklib.Node.__init__(self, init=False, name="old", check=True)


def main():
    test_main(run, OldNode())


def run(node, R):
    with gzip.open(os.path.join(FIX, "schema6-node.db.gz"), "rb") as src, \
            open(node.db, "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.chmod(node.db, 0o600)
    shutil.copy(os.path.join(FIX, "schema6-node.db.secrets"), node.db + ".secrets")
    os.chmod(node.db + ".secrets", 0o600)

    r = node.run("stats", check=False)
    R.check(r.code == 0 and "Old release node (test)" in r.out,
            f"the old node opens and names itself ({r.err.strip()[:300]})")
    intel = r.out.split("collection intel")[1] if "collection intel" in r.out else ""
    R.check("total                                      22         22" in intel,
            f"its collection holds the 22 objects it held ({intel[:400]})")

    with open(ASHFALL) as f:
        ashfall = json.load(f)["objects"]
    same = 0
    for o in ashfall:
        got = node.run("get", "--compact", o["id"], check=False)
        if got.code == 0 and json.loads(got.out.splitlines()[0]) == o:
            same += 1
    R.check(same == len(ashfall), f"every object is as it was imported ({same}/{len(ashfall)})")

    r = node.run("partner", "list", check=False)
    R.check(r.code == 0 and "Partner (test)" in r.out, f"the partner is kept ({r.out.strip()})")
    R.check(" NL " in r.out and "sectors: water" in r.out,
            f"partner list shows its country and sectors ({r.out.strip()})")
    r = node.run("peer", "list", check=False)
    R.check(r.code == 0 and "hub" in r.out and "hub.example" in r.out,
            f"the peer is kept ({r.out.strip()})")
    r = node.run("key", "show", check=False)
    R.check(r.code == 0 and os.path.exists(node.db + ".key")
            and os.stat(node.db + ".key").st_mode & 0o077 == 0,
            f"the migrated node has a signing key, 0600 ({r.err.strip()})")
    r = node.run("audit", "verify", check=False)
    R.check(r.code == 0, f"the audit log starts and verifies ({r.out.strip()} {r.err.strip()})")

    node.start("--no-sync")  # its peer is not reachable from a test (and must not be tried)
    auth = basic("reader", "old-release-pw")
    st, _, cols = node.get_json("/api/collections/", auth)
    coll = [c for c in (cols or {}).get("collections", []) if c.get("title") == "intel"]
    R.check(st == 200 and len(coll) == 1,
            f"the old account logs in with its old password and sees its grant ({st} {cols})")
    if coll:
        st, _, j = node.get_json(f"/api/collections/{coll[0]['id']}/objects/", auth)
        R.check(st == 200 and len(j.get("objects", [])) > 0,
                f"the partner reads the collection as before ({st})")
    node.stop()
    r = node.run("stats", check=False)
    R.check(r.code == 0, "a second open needs no migration and works")


if __name__ == "__main__":
    main()
