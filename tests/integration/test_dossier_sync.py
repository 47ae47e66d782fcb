#!/usr/bin/env python3
"""Joint attribution over three nodes (docs/dossier.md, "Joint attribution").

A (the author) holds the KESTREL fixture, builds the releasable dossier for
its peer B as a signed STIX bundle and shares the report over the normal
sync path; B relays it to C (the ally).  C answers with `opinion add`; the
opinion travels back towards the report's producer over two hops (C -> B ->
A) like a sighting, and A's next dossier tallies C's agreement for the
version it answered, with C named and the opinion's signature verified."""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sync_util import add_peer, collection, grant, make_node, sync  # noqa: E402

FIX = sklib.fixture("dossier", "kestrel.json")


def run(a, b, c, R):
    collection(a, "share")
    collection(b, "inbox")
    collection(c, "fromb")
    a.run("import", "--quiet", "--collection", "share", FIX, check=True)
    a.start("--no-sync")
    b.start("--no-sync")
    add_peer(b, a, grant(a, b, "share", read=True, write=True), "share", "inbox", push=True)
    add_peer(c, b, grant(b, c, "inbox", read=True, write=True), "inbox", "fromb", push=True)

    out = a.path("draft.json")
    a.run("dossier", "build", "KESTREL SET", "--for", "p-B", "--format", "stix", "--output", out,
          check=True)
    with open(out, encoding="utf-8") as f:
        rep = json.load(f)["objects"][0]
    R.check("attribution-dossier" in rep["labels"], "A's draft is a dossier report", rep)
    a.run("import", "--quiet", "--collection", "share", out, check=True)
    R.check(sync(b, "A")["rc"] == 0, "B pulls A")
    R.check(sync(c, "B")["rc"] == 0, "C pulls B")
    got, _ = c.get(rep["id"])
    R.check(got and got[-1]["id"] == rep["id"], "the draft reached C through B")

    r = c.run("opinion", "add", rep["id"], "--opinion", "agree", "--explanation",
              "C's sensors saw the same C2", check=True)
    oid = r.out.strip()
    R.check(sync(c, "B")["rc"] == 0, "C pushes to B")
    R.check(sync(b, "A")["rc"] == 0, "B pushes to A")
    got, _ = a.get(oid)
    R.check(got and got[-1]["created_by_ref"] == c.ident, "C's opinion reached A over two hops")

    r = a.run("dossier", "build", "KESTREL SET", check=True)
    d = json.loads(r.out)
    reps = {x["id"]: x for x in d["opinions"]["reports"]}
    R.check(rep["id"] in reps, "A's dossier lists its draft among the reports", list(reps))
    v = reps.get(rep["id"], {}).get("versions", [{}])
    ops = v[-1].get("opinions", [])
    R.eq(v[-1].get("tally"), {"agree": 1}, "the tally of the draft's version: C agrees")
    R.check(ops and ops[0]["by"]["id"] == c.ident and ops[0]["text"] == "C's sensors saw the same C2"
            and ops[0]["provenance"]["from"] != "made here",
            "the opinion names C, carries its explanation and came from elsewhere", ops)
    R.check("1 agree" in d["executive_summary"]["who_agrees"], "the summary says who agrees",
            d["executive_summary"])


if __name__ == "__main__":
    sklib.test_main(run, make_node("A"), make_node("B"), make_node("C"))
