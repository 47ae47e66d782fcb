#!/usr/bin/env python3
"""Round trip: export from one node, import into a fresh node, export again.

The objects must be JSON-equal all the way (compared as sets of canonical
json.dumps(sort_keys=True)), for the project fixtures and for each bundle of
the shared reference data when ../shared is present (else that part is
skipped with a message).
"""
import glob
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import fixture  # noqa: E402

ck = sklib.Checker("test_roundtrip")

FIXTURES = [fixture("ashfall", f) for f in (
    "ashfall-bundle.json", "ashfall-envelope.json", "ashfall-array.json", "ashfall-single.json",
    "ashfall-observables.ndjson", "ashfall-stix20.json", "ashfall-versions.json")]


def expected_set(paths):
    """Canonical texts of what a store must hold after importing paths in order:
    the first valid copy of each (id, spec, version) that the write rule takes
    (sklib.StoreModel)."""
    model, out = sklib.StoreModel(), set()
    for p in paths:
        for o in sklib.read_stix(p):
            if not sklib.spec_problem(o) and model.put(o) == "stored":
                out.add(sklib.canon(o))
    return out


def roundtrip(label, paths):
    a = sklib.Node(name="node A")
    r = a.imp("--quiet", *paths)
    ck.check(r.code in (0, 1, 3), "%s: import into A ran" % label, r)
    want = expected_set(paths)
    exp_a = a.path("a.json")
    r = a.run("export", "--collection", "default", "--output", exp_a)
    ck.check(r.code == 0, "%s: export from A exits 0" % label, r)
    objs_a = sklib.read_stix(exp_a)
    set_a = set(sklib.canon(o) for o in objs_a)
    ck.eq(len(objs_a), len(set_a), "%s: export has no repeated object versions" % label)
    ck.check(set_a == want, "%s: A's export equals the input (%d versions)" % (label, len(want)),
             "only in export: %d, only in input: %d\n%s" % (
                 len(set_a - want), len(want - set_a),
                 "\n".join(sorted(set_a ^ want)[:3])[:2000]))

    b = sklib.Node(name="node B")
    r = b.imp("--quiet", exp_a)
    ck.check(r.code == 0, "%s: import of A's export into B exits 0" % label, r)
    set_b = set(sklib.canon(o) for o in b.export("--collection", "default"))
    ck.check(set_b == set_a, "%s: B's export equals A's" % label,
             "only in B: %d, only in A: %d" % (len(set_b - set_a), len(set_a - set_b)))
    # and what get/list say agrees: latest versions are the same in both nodes
    la = set(sklib.canon(o) for o in a.export("--collection", "default", "--latest"))
    lb = set(sklib.canon(o) for o in b.export("--collection", "default", "--latest"))
    ck.check(la == lb, "%s: export --latest agrees between A and B" % label,
             "A-B %d, B-A %d" % (len(la - lb), len(lb - la)))
    # a full export (with node A's own identity) also imports cleanly
    full = a.path("full.json")
    a.run("export", "--output", full)
    r = b.imp("--quiet", full)
    ck.check(r.code == 0, "%s: a full export (with A's identity) imports into B" % label, r)
    for d in (exp_a, full):
        os.unlink(d)


def test_fixtures():
    roundtrip("fixtures", FIXTURES)
    # the 2.1 bundle wrapper holds 2.0 objects; they must come back as 2.0
    b = sklib.Node()
    a = sklib.Node()
    a.imp("--quiet", fixture("ashfall", "ashfall-stix20.json"), fixture("ashfall", "ashfall-bundle.json"))
    p = a.path("x.json")
    a.run("export", "--collection", "default", "--output", p)
    b.imp("--quiet", p)
    objs, r = b.get("malware--52943a91-65ed-4014-aeed-a61c89628f19", "--all-versions")
    ck.eq(sorted(sklib.spec_of(o) for o in objs), ["2.0", "2.1"],
          "2.0 objects exported in a 2.1 bundle re-import as 2.0")


def test_shared():
    d = sklib.shared_stix()
    if not d:
        ck.skip("shared data absent (no ../shared/data/stix): round trip of shared bundles "
                "not run")
        return
    files = sorted(glob.glob(os.path.join(d, "*.json")))
    for f in files:
        roundtrip(os.path.basename(f), [f])
    oasis = sorted(glob.glob(os.path.join(d, "oasis-examples", "*.json")))
    if oasis:
        roundtrip("oasis-examples (all files)", oasis)


for t in (test_fixtures, test_shared):
    ck.run(t)
ck.finish()
