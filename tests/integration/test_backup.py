"""`schakel backup` and `schakel restore`: a consistent copy of a running node
(while its server writes), with its key and peer secrets, files 0600; the
restored node is the same node (identity, key, objects, signatures, audit
chain); backup never overwrites, restore refuses an existing database
without --force."""
import json
import os
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from taxii_util import TAXII, Node, bearer  # noqa: E402


def main():
    test_main(run, Node())


def run(node, R):
    me = node.identity()
    node.run("collection", "add", "x", "--alias", "x", "--default-tlp", "green")
    node.partner("P")
    node.account("p", "P", "pw-p-1234567")
    node.grant("P", "x", "--read", "--write")
    tok = bearer(node.token("p"))
    own = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "pattern": "[ipv4-addr:value = '192.0.2.9']", "pattern_type": "stix",
           "valid_from": "2026-01-01T00:00:00Z", "created_by_ref": me}
    node.run("import", "--collection", "x", "-", stdin=json.dumps(own))
    node.start()

    # a partner keeps posting while the backup runs
    stop = threading.Event()
    posted = [0]

    def writer():
        while not stop.is_set():
            env = {"objects": [{"type": "indicator", "spec_version": "2.1",
                                "id": f"indicator--{uuid.uuid4()}",
                                "created": "2026-01-01T00:00:00.000Z",
                                "modified": "2026-01-01T00:00:00.000Z",
                                "pattern": "[ipv4-addr:value = '198.51.100.9']",
                                "pattern_type": "stix",
                                "valid_from": "2026-01-01T00:00:00Z"} for _ in range(50)]}
            st, _, _ = node.request("POST", "/api/collections/x/objects/", tok,
                                    {"Content-Type": TAXII}, json.dumps(env).encode())
            if st == 202:
                posted[0] += 1
    t = threading.Thread(target=writer)
    t.start()
    try:
        while posted[0] < 3:  # the writer is under way (an event, bounded by the test timeout)
            if not t.is_alive():
                break
            threading.Event().wait(0.01)
        bk = node.path("backup.db")
        r = node.run("backup", bk, check=False)
    finally:
        stop.set()
        t.join()
    R.check(r.returncode == 0, f"backup of a node in use ({r.err.strip()})")
    for f in (bk, bk + ".key"):
        R.check(os.path.exists(f) and os.stat(f).st_mode & 0o777 == 0o600, f"{f} is 0600")
    r = node.run("backup", bk, check=False)
    R.check(r.returncode == 1 and "never overwrites" in r.err, "a backup never overwrites")

    # restore into a new place: the same node
    target = node.path("restored.db")
    r = node.run("--db", target, "restore", bk, db=False, check=False)
    R.check(r.returncode == 0, f"restore ({r.err.strip()})")
    st = node.run("--db", target, "stats", db=False).out.splitlines()[0]
    R.check(me in st, f"the restored node has the same identity ({st})")
    r = node.run("--db", target, "verify", own["id"], db=False, check=False)
    R.check(r.returncode == 0, f"its key verifies what it signed ({r.out.strip()})")
    r = node.run("--db", target, "audit", "verify", db=False, check=False)
    R.check(r.returncode == 0, f"its audit chain verifies ({(r.out + r.err).strip()[-200:]})")
    with open(bk + ".key", "rb") as a, open(node.db + ".key", "rb") as b:
        R.check(a.read() == b.read(), "the key came along")
    r = node.run("--db", target, "restore", bk, db=False, check=False)
    R.check(r.returncode == 1 and "--force" in r.err, "restore refuses an existing database")
    r = node.run("--db", target, "restore", bk, "--force", db=False, check=False)
    R.check(r.returncode == 0, "restore --force replaces it")


if __name__ == "__main__":
    main()
