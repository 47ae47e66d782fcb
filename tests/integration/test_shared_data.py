#!/usr/bin/env python3
"""Real-world STIX from ../shared/data/stix: every bundle imports, the per-type
counts schakel prints equal an independent count of the file, and a re-import
adds nothing.  Skips (exit 77) when the shared data is absent.

The independent count: distinct (id, spec version as stated or inferred,
modified-or-created) per type.  Objects that break a basic STIX MUST
(sklib.spec_problem: malformed id, missing created/modified, modified before
created) must be rejected, and only those; a file with none of them must
import with exit 0 and 0 rejected.  The oasis-examples folder holds files
with identical content under two names, so each file gets its own fresh
node, and then all of them go into one node where the copies must come out
as duplicates.
"""
import glob
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

ck = sklib.Checker("test_shared_data")


def check_file(path, label=None):
    label = label or os.path.relpath(path, os.path.dirname(os.path.dirname(path)))
    objs = sklib.read_stix(path)
    want, _ = sklib.expected_counts(objs)
    bad = [(o.get("id"), sklib.spec_problem(o)) for o in objs if sklib.spec_problem(o)]
    nrej = sum(c["rejected"] for c in want.values())  # invalid, or refused by the write rule
    if bad:
        print("note - %s has %d object(s) that break the STIX spec and must be rejected:"
              % (label, nrej))
        for oid, why in bad:
            print("         %s: %s" % (oid, why))
    n = sklib.Node()
    r = n.imp(path)
    usable = sum(c.get("stored", 0) + c.get("added", 0) + c.get("duplicate", 0)
                 for c in want.values())
    code = 0 if not nrej else (3 if usable else 1)  # 3: some rejected, the rest stored
    ck.check(r.code == code, "%s: exit %d" % (label, code), r)
    s = sklib.summary_of(r.err, path)
    if not ck.check(s is not None, "%s: summary printed" % label, r):
        return
    ck.eq((s["objects"], s["rejected"]), (len(objs), nrej),
          "%s: %d objects, %d rejected" % (label, len(objs), nrej))
    for field in ("stored", "duplicate", "rejected"):
        ck.eq(sklib.type_counts(s, field), sklib.column(want, field),
              "%s: per-type %s counts equal the independent count" % (label, field))
    # what the store holds agrees with the summary
    st = n.stats()
    stored_types = {k[1]: v[1] for k, v in st.items() if k[0] == "default"}
    ck.eq(stored_types, sklib.column(want, "stored"),
          "%s: stats --json versions per type in the collection" % label)
    r = n.imp(path)
    s = sklib.summary_of(r.err, path)
    ck.check(s and (s["stored"], s["added"], s["duplicate"], s["rejected"])
             == (0, 0, len(objs) - nrej, nrej), "%s: re-import adds nothing (all duplicate)"
             % label, r)
    ck.eq(n.stats(), st, "%s: re-import leaves stats unchanged" % label)


def main():
    d = sklib.shared_stix()
    if not d:
        sklib.skip_all("shared data absent (no ../shared/data/stix; set SK_SHARED)")
    files = sorted(glob.glob(os.path.join(d, "*.json")))
    oasis = sorted(glob.glob(os.path.join(d, "oasis-examples", "*.json")))
    ck.check(files and oasis, "shared data has bundles and oasis-examples")
    for f in files + oasis:
        ck.run(check_file, f)

    # all oasis examples into one node, in one run: copies of a file are duplicates
    n = sklib.Node()
    r = n.imp(*oasis)
    sums = sklib.parse_summaries(r.err)
    model, refused = sklib.StoreModel(), 0
    for f in oasis:
        want, _ = sklib.expected_counts(sklib.read_stix(f), model)
        refused += sum(c["rejected"] for c in want.values())
        s = sums.get(f)
        ck.check(s is not None and all(sklib.type_counts(s, fl) == sklib.column(want, fl)
                                       for fl in ("stored", "duplicate", "rejected")),
                 "oasis-examples in one node: %s stored/duplicate/rejected per type"
                 % os.path.basename(f), s)
    # the examples reuse ids with other content: the write rule refuses those copies
    ck.check(r.code == (3 if refused else 0),
             "oasis-examples, all in one run: exit %d (%d refused, the rest stored)"
             % (3 if refused else 0, refused), r)
    st = n.stats()
    ck.eq(sum(v[1] for k, v in st.items() if k[0] == "default"), len(model.content),
          "oasis-examples in one node: distinct versions stored")


ck.run(main)
ck.finish()
