#!/usr/bin/env python3
"""Object versions: duplicates, newest-modified wins, 2.0/2.1 side by side,
revocation, and the same versions in a second collection ("added").

Versions are keyed by (id, spec version, modified-or-created); the import
order must not matter for which version is the latest.
"""
import copy
import re
import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

ck = sklib.Checker("test_versioning")

BUNDLE, VERSIONS, STIX20 = (sklib.ashfall(f) for f in ("bundle", "versions", "stix20"))
FORMS = [sklib.ashfall(f) for f in sklib.ASHFALL_FORMS] + [VERSIONS]
CAMPAIGN = "campaign--0f0fc553-4fc4-49b5-a8d7-146d155a577a"
MALWARE = "malware--52943a91-65ed-4014-aeed-a61c89628f19"
IND_REV = "indicator--1f7a223c-a427-49c4-8443-a92e33da9769"


def campaign_versions():
    """The campaign's three versions from the fixtures, oldest first."""
    vs = [o for o in sklib.read_stix(BUNDLE) + sklib.read_stix(VERSIONS) if o["id"] == CAMPAIGN]
    return sorted(vs, key=sklib.version_of)


def ndjson(path, objs):
    return sklib.write_text(path, "".join(json.dumps(o) + "\n" for o in objs))


def test_reimport_duplicate():
    n = sklib.Node()
    r = n.imp(*FORMS)
    ck.check(r.code == 0, "first import of all fixtures exits 0", r)
    before = n.snapshot()
    r = n.imp(*FORMS)
    ck.check(r.code == 0, "re-import exits 0", r)
    sums = sklib.parse_summaries(r.err)
    for p in FORMS:
        s = sums.get(p)
        nobj = len(sklib.read_stix(p))
        ck.check(s and (s["objects"], s["stored"], s["added"], s["duplicate"], s["rejected"])
                 == (nobj, 0, 0, nobj, 0), "re-import of %s: all %d duplicate"
                 % (os.path.basename(p), nobj), r)
    ck.eq(n.snapshot(), before, "re-import leaves the store as it was")


def test_newest_wins_any_order():
    v1, v2, v3 = campaign_versions()
    ck.check(sklib.version_of(v1) < sklib.version_of(v2) < sklib.version_of(v3),
             "fixture sanity: three campaign versions")
    orders = {"3,1,2": (v3, v1, v2), "2,3,1": (v2, v3, v1), "1,2,3": (v1, v2, v3),
              "3,2,1": (v3, v2, v1)}
    for label, seq in orders.items():
        n = sklib.Node()
        for i, v in enumerate(seq):
            r = n.imp(ndjson(n.path("v%d.ndjson" % i), [v]))
            ck.check(r.code == 0, "order %s: import step %d" % (label, i + 1), r)
        objs, r = n.get(CAMPAIGN)
        ck.eq(objs, [v3], "order %s: get returns the newest modified" % label)
        got, _ = n.list_json("--type", "campaign")
        ck.eq(got, [v3], "order %s: list shows only the newest version" % label)
        latest = n.export("--latest", "--type", "campaign")
        ck.eq(latest, [v3], "order %s: export --latest has the newest version" % label)
        allv, r = n.get(CAMPAIGN, "--all-versions")
        ck.eq(sorted(sklib.canon(o) for o in allv), sorted(sklib.canon(o) for o in (v1, v2, v3)),
              "order %s: get --all-versions has all three" % label)
        ck.eq([o["modified"] for o in allv], [v["modified"] for v in (v1, v2, v3)],
              "order %s: get --all-versions lists oldest first (as its help says)" % label)
    # within one file, out of order, plus the older one from another file afterwards
    n = sklib.Node()
    n.imp(VERSIONS)
    n.imp(BUNDLE)
    objs, r = n.get(CAMPAIGN)
    ck.eq(objs, [v3], "versions file then bundle: get returns the newest")


def test_timestamp_precision():
    v1 = campaign_versions()[0]
    n = sklib.Node()
    n.imp(ndjson(n.path("a.ndjson"), [v1]))
    same = copy.deepcopy(v1)
    same["modified"] = same["modified"].replace(".000Z", "Z")
    r = n.imp(ndjson(n.path("b.ndjson"), [same]))
    s = sklib.summary_of(r.err)
    ck.check(s and s["duplicate"] == 1 and s["stored"] == 0,
             "modified ...:00Z and ...:00.000Z are the same version (duplicate)", r)
    a, b = copy.deepcopy(v1), copy.deepcopy(v1)
    a["modified"], a["description"] = "2025-05-01T12:00:00.5Z", "half a second"
    b["modified"], b["description"] = "2025-05-01T12:00:00.123Z", "an eighth"
    r = n.imp(ndjson(n.path("c.ndjson"), [a, b]))
    objs, _ = n.get(CAMPAIGN)
    ck.eq([o.get("description") for o in objs], ["half a second"],
          "fractions compare by value: .5 is newer than .123")
    c = copy.deepcopy(a)
    c["description"] = "same version, other text"
    r = n.imp(ndjson(n.path("d.ndjson"), [c]))
    s = sklib.summary_of(r.err)
    objs, _ = n.get(CAMPAIGN)
    ck.check(s and s["rejected"] == 1 and objs and objs[0]["description"] == "half a second"
             and "stored with other content" in r.err,
             "same (id, modified) with other content is refused (a conflict); the first stays", r)
    hashes = re.findall(r"stored (blake2b:[0-9a-f]{16}), received (blake2b:[0-9a-f]{16})", r.err)
    ck.check(len(hashes) == 1 and hashes[0][0] != hashes[0][1]
             and "1 of the rejected are conflicts" in r.err,
             "the conflict is counted and names both contents' hashes", r)
    # the same content written otherwise (key order, white space) hashes alike
    r2 = n.imp(ndjson(n.path("e.ndjson"), [dict(reversed(list(c.items())))]))
    h2 = re.findall(r"received (blake2b:[0-9a-f]{16})", r2.err)
    ck.check(hashes and h2 == [hashes[0][1]], "the content hash ignores key order", r2)


def test_20_and_21_coexist():
    n = sklib.Node()
    r = n.imp(BUNDLE, STIX20)
    ck.check(r.code == 0, "bundle and 2.0 bundle import", r)
    objs, r = n.get(MALWARE, "--all-versions")
    ck.eq(sorted(sklib.spec_of(o) for o in objs), ["2.0", "2.1"],
          "get --all-versions shows the 2.0 and 2.1 versions of one id")
    ck.check(all("spec_version" not in o for o in objs if sklib.spec_of(o) == "2.0"),
             "the 2.0 version is kept without spec_version")
    st = n.stats()
    ck.eq(st.get((None, "malware")), (1, 2), "stats: malware is one object with two versions")
    # the other order: 2.0 first, then 2.1
    n = sklib.Node()
    n.imp(STIX20)
    objs, r = n.get(MALWARE)
    ck.check(objs and "spec_version" not in objs[0], "with only 2.0 stored, get returns it", r)
    r = n.imp(BUNDLE)
    s = sklib.summary_of(r.err, BUNDLE)
    ck.check(s and s["types"].get("malware", {}).get("stored") == 1,
             "the 2.1 version after the 2.0 one is stored", r)
    objs, r = n.get(MALWARE, "--all-versions")
    ck.eq(len(objs), 2, "both spec versions kept whatever the import order")


def test_revoked_kept():
    n = sklib.Node()
    r = n.imp(VERSIONS)
    objs, r = n.get(IND_REV)
    ck.check(len(objs) == 1 and objs[0].get("revoked") is True,
             "get returns the revoked (newest) version", r)
    allv, r = n.get(IND_REV, "--all-versions")
    ck.eq(sorted(o.get("revoked", False) for o in allv), [False, True],
          "the version before revocation is kept too")
    got, _ = n.list_json("--type", "indicator")
    ck.check(any(o["id"] == IND_REV and o.get("revoked") for o in got or []),
             "list still shows the revoked object")
    r = n.run("show", IND_REV)
    ck.check(r.code == 0 and "revoked" in r.out, "show says it is revoked", r)
    # an older, unrevoked version arriving later does not un-revoke it
    old = [o for o in allv if not o.get("revoked")]
    r = n.imp(ndjson(n.path("old.ndjson"), old))
    objs, r = n.get(IND_REV)
    ck.check(objs and objs[0].get("revoked") is True, "a late older version does not un-revoke", r)


def test_second_collection_added():
    n = sklib.Node()
    n.imp(BUNDLE)
    objs = sklib.read_stix(BUNDLE)
    r = n.imp("--collection", "partners", BUNDLE)
    s = sklib.summary_of(r.err, BUNDLE)
    ck.check(r.code == 0 and s and (s["stored"], s["added"], s["duplicate"]) == (0, len(objs), 0),
             "same objects into a second collection count as added", r)
    want, _ = sklib.expected_counts(objs)
    ck.eq(sklib.type_counts(s, "added"), sklib.column(want, "stored"),
          "per-type added counts")
    r = n.imp("--collection", "partners", BUNDLE)
    s = sklib.summary_of(r.err, BUNDLE)
    ck.check(s and (s["stored"], s["added"], s["duplicate"]) == (0, 0, len(objs)),
             "and again into the same collection: duplicate", r)
    st = n.stats()
    ck.eq(sum(v[1] for k, v in st.items() if k[0] is None), len(objs) + 1,
          "each version is stored once, whatever the number of collections")
    ck.eq(sum(v[1] for k, v in st.items() if k[0] == "partners"), len(objs),
          "the second collection holds every version")
    got, _ = n.list_json("--collection", "partners")
    ck.eq(sorted(sklib.canon(o) for o in got or []), sorted(sklib.canon(o) for o in objs),
          "list --collection of the second collection")
    # a mixed file: some new, some known, some already in the collection
    v1, v2, v3 = campaign_versions()
    r = n.imp("--collection", "partners", ndjson(n.path("mix.ndjson"), [v1, v2]))
    s = sklib.summary_of(r.err)
    ck.check(s and (s["stored"], s["added"], s["duplicate"]) == (1, 0, 1),
             "mixed file: one new version, one duplicate", r)
    r = n.imp(ndjson(n.path("mix2.ndjson"), [v1, v2, v3]))
    s = sklib.summary_of(r.err)
    ck.check(s and (s["stored"], s["added"], s["duplicate"]) == (1, 1, 1),
             "mixed file into default: one stored, one added, one duplicate", r)


for t in (test_reimport_duplicate, test_newest_wins_any_order, test_timestamp_precision,
          test_20_and_21_coexist, test_revoked_kept, test_second_collection_added):
    ck.run(t)
ck.finish()
