#!/usr/bin/env python3
"""Bad input: every case must give exit 1, a message on stderr that names the
file and the line/offset (or the object id), and leave the store exactly as
it was (objects imported earlier are not lost).  Then --strict: one bad
object rejects the whole file; without it the good objects are stored.

The inputs are made here, in the test's temporary directory; the two
100 MB files are deleted as soon as they have been tried.
"""
import gzip
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import fixture  # noqa: E402

ck = sklib.Checker("test_bad_input")

BUNDLE = fixture("ashfall", "ashfall-bundle.json")
KNOWN = [o for o in sklib.read_stix(BUNDLE) if o["type"] == "campaign"][0]
U = "3c1d1e4e-7b0a-4d55-9a61-0f3e2b7c9d11"


def good(kind, n, **extra):
    """A valid object that the fixture bundle does not contain."""
    o = {"type": kind, "spec_version": "2.1", "id": "%s--%s%04d" % (kind, U[:-4], n),
         "created": "2025-03-10T00:00:00.000Z", "modified": "2025-03-10T00:00:00.000Z",
         "name": "New %s %d" % (kind, n)}
    o.update(extra)
    return o


def bundle_lines(*objs):
    """A bundle with one element per line; returns (text, [(line, offset) of each])."""
    head = '{"type":"bundle","id":"bundle--%s","objects":[\n' % U
    text, pos = head, []
    for i, o in enumerate(objs):
        pos.append((2 + i, len(text.encode("utf-8"))))
        text += (o if isinstance(o, str) else json.dumps(o)) + (",\n" if i + 1 < len(objs) else "\n")
    return text + "]}\n", pos


class Store:
    """A node pre-loaded with the fixture bundle, and its snapshot."""

    def __init__(self):
        self.n = sklib.Node()
        r = self.n.imp(BUNDLE)
        if r.code != 0:
            raise RuntimeError("setup import failed: %r" % r)
        self.before = self.n.snapshot()

    def unchanged(self, label):
        ck.eq(self.n.snapshot(), self.before, "%s: store content unchanged" % label)


LOCATED = re.compile(r": line \d+, offset \d+: |:\d+ \(offset \d+\): ")


def try_bad(st, label, path, where=None, oid=None, located=True, code=1):
    """Import path; expect exit code (1: nothing usable; 3: rejections beside
    objects that are in the store), a located message, no change, no false
    summary.

    located=False for inputs that have no line to point at (empty, unreadable).
    """
    r = st.n.imp(path)
    ck.check(r.code == code, "%s: exit %d" % (label, code), r)
    msgs = [ln for ln in r.err.splitlines() if ln.startswith("schakel: ")]
    ck.check(any(path in m for m in msgs), "%s: the message names the file" % label, r)
    ck.check(not any(("%s: %s:" % (path, path)) in m for m in msgs),
             "%s: the message does not repeat the file name" % label, r)
    if located:
        ck.check(any(path in m and LOCATED.search(m) for m in msgs),
                 "%s: the message gives a line and offset" % label, r)
    if where is not None:
        line, off = where
        pat = re.compile(r"%s:%d \(offset %d\)|%s: line %d, offset \d+"
                         % (re.escape(path), line, off, re.escape(path), line))
        ck.check(any(pat.search(m) for m in msgs),
                 "%s: the message gives line %d (offset %d)" % (label, line, off), r)
    if oid is not None:
        ck.check(any(oid in m for m in msgs), "%s: the message names the id" % label, r)
    s = sklib.summary_of(r.err, path)
    if s is not None:
        ck.eq(s["stored"] + s["added"], 0,
              "%s: the summary claims nothing stored (nothing was)" % label)
        ck.check(all(any(c.values()) for c in s["types"].values()),
                 "%s: the summary lists no type with all-zero counts" % label, r)
    st.unchanged(label)
    return r


def test_structural():
    st = Store()
    d = st.n.dir
    new1 = good("campaign", 1)

    # truncated JSON, after a new object of the same batch: the batch is rolled back
    text, pos = bundle_lines(new1, good("campaign", 2))
    p = sklib.write_text(os.path.join(d, "truncated.json"), text[: pos[1][1] + 40])
    try_bad(st, "truncated JSON", p)
    # cut inside a string and cut between elements
    p = sklib.write_text(os.path.join(d, "truncated2.json"), text[: pos[1][1] - 2])
    try_bad(st, "truncated JSON between elements", p)

    p = sklib.write_text(os.path.join(d, "notjson.txt"), "this is not JSON at all\n")
    try_bad(st, "not JSON", p, where=(1, 0))
    p = sklib.write_text(os.path.join(d, "html.json"), "<html><body>502 Bad Gateway</body></html>\n")
    try_bad(st, "HTML instead of JSON", p, where=(1, 0))

    p = sklib.write_text(os.path.join(d, "objects-string.json"),
                         '{"type":"bundle","id":"bundle--%s","objects":"%s"}\n' % (U, KNOWN["id"]))
    try_bad(st, "bundle whose objects is a string", p, oid="bundle--" + U)

    p = sklib.write_text(os.path.join(d, "deep.json"), "[" * 10000 + "]" * 10000 + "\n")
    try_bad(st, "10,000-deep nested array", p)
    text, pos = bundle_lines(new1, '{"type":"note","x":%s%s}' % ("[" * 10000, "]" * 10000))
    p = sklib.write_text(os.path.join(d, "deep-member.json"), text)
    try_bad(st, "10,000-deep array inside a bundle element", p, where=(pos[1][0], pos[1][1]))

    p = sklib.write_text(os.path.join(d, "empty.json"), "")
    try_bad(st, "empty file", p, located=False)
    p = sklib.write_text(os.path.join(d, "blank.json"), "  \n\n\t\n")
    try_bad(st, "whitespace-only file", p, located=False)

    nd = "".join(json.dumps(o) + "\n" for o in (new1, KNOWN)) + '{"type":"campaign",\n'
    p = sklib.write_text(os.path.join(d, "broken.ndjson"), nd)
    try_bad(st, "NDJSON with a truncated last line", p)

    with open(BUNDLE, "rb") as f:
        gz = gzip.compress(f.read() + json.dumps(new1).encode())
    p = os.path.join(d, "cut.json.gz")
    with open(p, "wb") as f:
        f.write(gz[: len(gz) // 2])
    try_bad(st, "truncated gzip", p, located=False)

    try_bad(st, "missing file", os.path.join(d, "no-such-file.json"), located=False)
    try_bad(st, "a directory", d, located=False)


def big_string(path, prefix, suffix):
    with open(path, "w") as f:
        f.write(prefix)
        chunk = "A" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write(suffix)
    return path


def test_100mb_string():
    st = Store()
    head = ('{"type":"note","spec_version":"2.1","id":"note--%s","created":"2025-03-10T00:00:00Z",'
            '"modified":"2025-03-10T00:00:00Z","object_refs":["%s"],"content":"'
            % (U, KNOWN["id"]))
    text, pos = bundle_lines(good("campaign", 1), "@")
    pre = text[: text.index("@")]
    p = big_string(os.path.join(st.n.dir, "big-element.json"), pre + head, '"}\n]}\n')
    try:
        try_bad(st, "100 MB string in a bundle element", p)
    finally:
        os.unlink(p)
    p = big_string(os.path.join(st.n.dir, "big-single.json"), head, '"}\n')
    try:
        try_bad(st, "100 MB string in a single object", p)
    finally:
        os.unlink(p)


def test_bad_objects():
    """Per-object errors: located by line, offset and id; the rest of the file is read."""
    st = Store()
    d = st.n.dir
    ind = good("indicator", 7, pattern="[ipv4-addr:value = '192.0.2.99']", pattern_type="stix",
               valid_from="2025-03-10T00:00:00Z")
    nopat = dict(ind)
    del nopat["pattern"]
    noid = good("campaign", 3)
    del noid["id"]
    cases = [
        ("object without id", noid, None),
        ("malformed id", good("campaign", 4, id="campaign--not-a-uuid"), "campaign--not-a-uuid"),
        ("id of another type", good("campaign", 5, id="malware--" + U), "malware--" + U),
        ("bad timestamp (Feb 30)", good("campaign", 6, created="2025-02-30T00:00:00Z",
                                        modified="2025-03-01T00:00:00Z"), None),
        ("non-timestamp modified", good("campaign", 8, modified="yesterday"), None),
        ("timestamp with offset instead of Z", good("campaign", 9, modified="2025-03-10T01:00:00+01:00"),
         None),
        ("indicator without pattern", nopat, None),
        ("modified before created", good("campaign", 10, created="2025-03-10T00:00:00Z",
                                         modified="2025-03-09T23:59:59Z"), None),
        ("element that is not an object", "42", None),
        ("duplicate member names", '{"type":"campaign","spec_version":"2.1","id":"campaign--%s",'
         '"id":"campaign--%s","created":"2025-03-10T00:00:00Z","modified":"2025-03-10T00:00:00Z",'
         '"name":"x"}' % (U, U), None),
        ("invalid UTF-8 in a string", None, None),
    ]
    for i, (label, obj, oid) in enumerate(cases):
        if obj is None:  # bytes that are not UTF-8: written raw
            raw = (bundle_lines(KNOWN, "@")[0].replace(
                "@", '{"type":"campaign","spec_version":"2.1","id":"campaign--%s","created":'
                '"2025-03-10T00:00:00Z","modified":"2025-03-10T00:00:00Z","name":"\x00"}' % U))
            data = raw.encode().replace(b"\x00", b"\xff\xfe")
            p = os.path.join(d, "bad-%d.json" % i)
            with open(p, "wb") as f:
                f.write(data)
            pos = bundle_lines(KNOWN, "{}")[1]
        else:
            if isinstance(obj, dict) and oid is None and "id" in obj:
                oid = obj["id"]
            text, pos = bundle_lines(KNOWN, obj)
            p = sklib.write_text(os.path.join(d, "bad-%d.json" % i), text)
        # the file's other object is already stored: exit 3
        r = try_bad(st, label, p, where=pos[1], oid=oid, code=3)
        s = sklib.summary_of(r.err, p)
        ck.check(s and (s["objects"], s["duplicate"], s["rejected"]) == (2, 1, 1),
                 "%s: summary counts 1 duplicate, 1 rejected" % label, r)
    # NDJSON: the line is the line of the object
    nd = "".join(json.dumps(o) + "\n" for o in (KNOWN, KNOWN, nopat))
    p = sklib.write_text(os.path.join(d, "bad.ndjson"), nd)
    off = len(nd) - len(json.dumps(nopat)) - 1
    try_bad(st, "NDJSON line 3 without pattern", p, where=(3, off), oid=nopat["id"], code=3)


def test_strict():
    st = Store()
    d = st.n.dir
    g1, g2 = good("campaign", 21), good("campaign", 22)
    bad = good("campaign", 23, modified="2025-01-01T00:00:00Z")
    text, pos = bundle_lines(g1, bad, g2)
    p = sklib.write_text(os.path.join(d, "mixed.json"), text)
    r = st.n.imp("--strict", p)
    ck.check(r.code == 1, "--strict with one bad object: exit 1", r)
    ck.check(bad["id"] in r.err and ("%s:%d" % (p, pos[1][0])) in r.err,
             "--strict: the message names the file, line and id", r)
    ck.check("nothing" in r.err, "--strict: the message says nothing was stored", r)
    st.unchanged("--strict with one bad object")
    # a large file: the bad object comes after more than one default batch
    many = [good("indicator", 100 + i, pattern="[ipv4-addr:value = '198.51.100.%d']" % (i % 250),
                 pattern_type="stix", valid_from="2025-03-10T00:00:00Z") for i in range(6000)]
    nd = "".join(json.dumps(o) + "\n" for o in many + [bad])
    p2 = sklib.write_text(os.path.join(d, "mixed-large.ndjson"), nd)
    r = st.n.imp("--strict", "--batch", "100", p2)
    ck.check(r.code == 1, "--strict, bad object after 6000 good ones: exit 1", r)
    st.unchanged("--strict, bad object after 6000 good ones (and --batch 100)")

    # --strict with several files: the good file is stored, the bad one not
    pg = sklib.write_text(os.path.join(d, "good.ndjson"), json.dumps(g1) + "\n")
    r = st.n.imp("--strict", pg, p)
    ck.check(r.code == 1, "--strict, good file then bad file: exit 1", r)
    got, _ = st.n.get(g1["id"])
    ck.eq(got, [g1], "--strict, good file then bad file: the good file is stored")
    got, _ = st.n.get(g2["id"])
    ck.eq(got, [], "--strict, good file then bad file: nothing of the bad file")

    # without --strict: the good ones are stored, exit 3
    st2 = Store()
    r = st2.n.imp(p)
    ck.check(r.code == 3, "without --strict: exit 3 (one object rejected, the rest stored)", r)
    s = sklib.summary_of(r.err, p)
    ck.check(s and (s["stored"], s["rejected"]) == (2, 1), "without --strict: 2 stored, 1 rejected", r)
    for g in (g1, g2):
        got, _ = st2.n.get(g["id"])
        ck.eq(got, [g], "without --strict: good object %s stored" % g["id"][-4:])
    got, _ = st2.n.get(bad["id"])
    ck.eq(got, [], "without --strict: the bad object is not stored")
    before = set(st2.before["objects"])
    after = set(st2.n.snapshot()["objects"])
    ck.check(before <= after, "without --strict: pre-existing objects not lost")


for t in (test_structural, test_100mb_string, test_bad_objects, test_strict):
    ck.run(t)
ck.finish()
