"""A bundle may define its markings after the objects that use them (STIX
gives a bundle no order; MITRE's ATT&CK bundles put their copyright
statement marking after the first 2,036 objects).  A version whose marking
is not held when it is stored is recorded TLP:AMBER (it may have been a TLP
marking); once the marking-definition arrives, in the same file or a later
one, each such version is decided again as if the definition had come first:

- a statement marking defined later: the version takes the collection's
  default (file import) or its source's unmarked level (TAXII POST);
- a custom TLP 2.0 marking defined later by the object's producer: that level
  (RED stays hidden from a GREEN reader, CLEAR becomes visible);
- the same custom CLEAR by someone else: still AMBER;
- a marking never defined: still AMBER;
- a rolled-back import (--strict with a bad object) settles nothing.

Checked through objects.tlp and through what a partner's TAXII reads give."""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Results  # noqa: E402
from sync_util import sql  # noqa: E402
from taxii_util import Node, bearer  # noqa: E402

TS = "2024-01-01T00:00:00.000Z"
EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
PRODUCER = "identity--5e1f3c2a-0b4d-4e6f-8a9b-1c2d3e4f5a6b"
OTHER = "identity--7a1f3c2a-0b4d-4e6f-8a9b-1c2d3e4f5a6c"


def ind(n, by=PRODUCER, marks=()):
    o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
         "created": TS, "modified": TS, "created_by_ref": by,
         "pattern": f"[ipv4-addr:value = '203.0.113.{n}']", "pattern_type": "stix",
         "valid_from": TS}
    if marks:
        o["object_marking_refs"] = list(marks)
    return o


def statement():
    return {"type": "marking-definition", "spec_version": "2.1",
            "id": f"marking-definition--{uuid.uuid4()}", "created": TS,
            "definition_type": "statement", "definition": {"statement": "Copyright Example"}}


def tlp2(level, by):
    return {"type": "marking-definition", "spec_version": "2.1",
            "id": f"marking-definition--{uuid.uuid4()}", "created": TS, "created_by_ref": by,
            "name": f"TLP:{level.upper()}",
            "extensions": {EXT: {"extension_type": "property-extension", "tlp_2_0": level}}}


def write(node, name, objs):
    path = node.path(name)
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, f)
    return path


def tlp_of(node, oid):
    rows = sql(node, f"SELECT tlp FROM objects WHERE id='{oid}'")
    return rows[0][0] if rows else None


def main():
    R = Results()
    with Node() as node:
        node.run("collection", "add", "pub", "--alias", "pub", "--default-tlp", "clear")
        node.partner("Reader")
        node.account("reader", "Reader", "pw-reader")
        node.grant("Reader", "pub", "--read")
        tok = node.token("reader")

        stmt, missing = statement(), f"marking-definition--{uuid.uuid4()}"
        red, clear_own, clear_other = tlp2("red", PRODUCER), tlp2("clear", PRODUCER), \
            tlp2("clear", OTHER)
        a = ind(1, marks=[stmt["id"]])
        b = ind(2, marks=[missing])
        c = ind(3, marks=[red["id"]])
        d = ind(4, marks=[clear_own["id"]])
        e = ind(5, marks=[clear_other["id"]])
        f_ = ind(6, marks=[stmt["id"], missing])
        objs = [a, b, c, d, e, f_, stmt, red, clear_own, clear_other]
        p = node.run("import", "--collection", "pub", write(node, "late.json", objs),
                     check=False)
        R.check(p.code == 0, f"the bundle imports ({p.err.strip()[-300:]!r})")
        R.eq(tlp_of(node, a["id"]), 0, "statement defined later: the collection's default")
        R.eq(tlp_of(node, b["id"]), 3, "a marking never defined: AMBER")
        R.eq(tlp_of(node, c["id"]), 5, "the producer's TLP:RED defined later: RED")
        R.eq(tlp_of(node, d["id"]), 1, "the producer's TLP:CLEAR defined later: CLEAR")
        R.eq(tlp_of(node, e["id"]), 3, "someone else's TLP:CLEAR defined later: AMBER")
        R.eq(tlp_of(node, f_["id"]), 3, "one marking settled, another still missing: AMBER")

        node.start("--no-sync")
        cid = sql(node, "SELECT uuid FROM collections WHERE name='pub'")[0][0]
        st, _, body = node.get_json(f"/api/collections/{cid}/objects/?match[type]=indicator",
                                    auth=bearer(tok))
        seen = {o["id"] for o in (body or {}).get("objects", [])}
        R.eq(seen, {a["id"], d["id"]}, "a GREEN reader gets exactly the settled CLEAR ones")
        node.stop()

        # the definition in a later file settles what an earlier file left pending
        stmt2 = statement()
        g = ind(7, marks=[stmt2["id"]])
        node.run("import", "--collection", "pub", write(node, "first.json", [g]))
        R.eq(tlp_of(node, g["id"]), 3, "before its marking arrives: AMBER")
        node.run("import", "--collection", "pub", write(node, "second.json", [stmt2]))
        R.eq(tlp_of(node, g["id"]), 0, "a later file's definition settles it")

        # a rolled-back import settles nothing (and its row ids come back)
        stmt3 = statement()
        h = ind(8, marks=[stmt3["id"]])
        bad = {"type": "indicator", "id": "not-an-id"}
        p = node.run("import", "--strict", "--collection", "pub",
                     write(node, "strict.json", [h, bad]), check=False)
        R.check(p.code != 0 and tlp_of(node, h["id"]) is None,
                f"a strict import with a bad object stores nothing ({p.code})")
        k = ind(9)
        node.run("import", "--collection", "pub", write(node, "after.json", [k, stmt3]))
        R.eq(tlp_of(node, k["id"]), 0, "an unmarked version after the rollback: the default")
    R.finish()


if __name__ == "__main__":
    main()
