#!/usr/bin/env python3
"""test_scan_cache - the matcher cache beside the store (docs/matcher.md,
"The matcher cache").

- A scan that loads the cache prints exactly what a fresh compile
  (--no-cache) prints, on every log fixture, with and without --subdomains
  and the warning lists; and on the shared Zeek DNS log with a sample of
  the maltrail feed when /work/shared/data is there (skipped otherwise).
- The file is written 0600, one per option set, and the next scan loads it.
- A damaged file (a flipped byte, a truncated file, another file's bytes)
  is detected, reported and rebuilt: the scan's output does not change.
- A file a few indicators old (new, changed, revoked, expired by a new
  version) is loaded with a delta of them and gives the fresh build's output
  byte for byte; a delta past the threshold means a full build and a new
  base.  A stale file (the warning lists changed, an --at outside the window
  its indicators were valid in) is rebuilt, with the reason on stderr.
- An indicator that expires by time alone (its valid_until passes, no new
  version) does not make the file stale: a later scan loads it, masks that
  indicator's hits and counts it as a fresh build does; a valid_from after
  the build does make it stale.
"""

import gzip
import json
import os
import re
import stat
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
import scan_ref as ref  # noqa: E402
from test_scan_oracle_fixtures import FILES, INDICATORS  # noqa: E402

NS = uuid.UUID("0b7d5c1e-3a61-4f0e-8d2c-6d6174636861")
CK = sklib.Checker("test_scan_cache")

EXTRA = [
    ("domain MATCHES evil", ("obs", ("cmp", "domain-name", "value", "MATCHES", "^cdn\\.evil"))),
    ("url LIKE payload", ("obs", ("cmp", "url", "value", "LIKE", "%payload.bin%"))),
]


def ind(name, tree, **kw):
    o = ref.indicator_object("indicator--" + str(uuid.uuid5(NS, name)), tree, name)
    o.update(kw)
    return o


def write_bundle(node, objs):
    p = node.path("b-%s.json" % uuid.uuid4().hex)
    with open(p, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, f)
    return p


def scan(node, path, *opts):
    return node.run("scan", "--no-sightings", "--format", "auto", *(list(opts) + [path]),
                    timeout=600)


def same_as_fresh(node, path, opts, label, want_loaded=True):
    fresh = scan(node, path, "--no-cache", *opts)
    cached = scan(node, path, *opts)
    CK.check(fresh.code == 0 and cached.code == 0, "%s: both scans exit 0" % label,
             fresh.err[-400:] + cached.err[-400:])
    CK.check(cached.out == fresh.out, "%s: cached matcher gives the fresh build's hits (%d lines)"
             % (label, len(fresh.out.splitlines())), "fresh:\n%s\ncached:\n%s"
             % (fresh.out[:800], cached.out[:800]))
    if want_loaded:
        CK.check("loaded from the matcher cache" in cached.err, "%s: loaded from the cache" % label,
                 cached.err[-600:])
    return cached


def cache_file(node, opts):
    suffix = ("-sub" if "--subdomains" in opts else "") + \
        ("-nowl" if "--no-warninglists" in opts else "")
    return node.db + suffix + ".matcher"


def fixtures_part(node):
    objs = [ind(n, t) for n, t in INDICATORS + EXTRA]
    r = node.imp(write_bundle(node, objs))
    CK.check(r.code == 0, "import %d indicators" % len(objs), r.err)
    r = node.run("warninglist", "import", "--quiet", sklib.fixture("warninglists"))
    CK.check(r.code == 0, "warning lists imported", r.err)
    dns = sklib.fixture("logs", "zeek_dns.log")
    for opts in ([], ["--subdomains"], ["--no-warninglists"], ["--subdomains", "--no-warninglists"]):
        # first scan writes the file, the next ones load it
        first = scan(node, dns, *opts)
        CK.check(first.code == 0, "first scan %s exits 0" % opts, first.err[-400:])
        f = cache_file(node, opts)
        CK.check(os.path.exists(f), "%s written" % os.path.basename(f))
        if os.path.exists(f):
            CK.check(stat.S_IMODE(os.stat(f).st_mode) == 0o600, "%s is 0600" % os.path.basename(f),
                     oct(os.stat(f).st_mode))
        for fn in FILES:
            same_as_fresh(node, sklib.fixture("logs", fn), opts, "%s %s" % (fn, " ".join(opts)))
    leftovers = [x for x in os.listdir(node.dir) if ".matcher." in x]
    CK.check(not leftovers, "no temporary files left beside the store", repr(leftovers))
    # a log of our own for the rest: the fixture's header and a few queries
    with open(dns) as f:
        head = [x for x in f if x.startswith("#") and not x.startswith("#close")]
    mine = node.path("mine.log")
    with open(mine, "w") as f:
        f.writelines(head)
        for i, q in enumerate(["alpha.test", "beta.test", "www.evil.example", "mail.test",
                               "cdn.evil.example", "alpha.test"]):
            f.write("\t".join(["17040672%02d.000000" % i, "C%d" % i, "192.0.2.10", "53000",
                               "198.51.100.53", "53", "udp", q, "A", "203.0.113.7", "60.0"]) + "\n")
    return mine


def damage_part(node, dns):
    f = cache_file(node, [])
    with open(f, "rb") as fh:
        good = fh.read()
    damages = [
        ("a flipped byte", lambda b: b[:len(b) // 2] + bytes([b[len(b) // 2] ^ 0x40]) + b[len(b) // 2 + 1:],
         "checksum mismatch"),
        ("a truncated file", lambda b: b[:len(b) // 2], "truncated"),
        ("an empty file", lambda b: b"", "truncated"),
        ("another file's bytes", lambda b: b"x" * 4096, "not a matcher cache file"),
    ]
    for what, fn, words in damages:
        with open(f, "wb") as fh:
            fh.write(fn(good))
        r = same_as_fresh(node, dns, [], "cache with %s" % what, want_loaded=False)
        CK.check("damaged" in r.err and words in r.err and "rebuilding" in r.err,
                 "%s is detected (%s) and rebuilt" % (what, words), r.err[-600:])
        again = scan(node, dns)
        CK.check("loaded from the matcher cache" in again.err,
                 "after %s the rebuilt cache is loaded" % what, again.err[-400:])


def stale_part(node, dns):
    r = scan(node, dns)
    CK.check("loaded from the matcher cache" in r.err, "cache current before the change", r.err[-300:])
    base = len(r.out.splitlines())
    # a new indicator for a value the DNS fixture holds, which no other indicator covers
    new = ind("new domain", ("obs", ("cmp", "domain-name", "value", "=", "alpha.test")))
    r = node.imp(write_bundle(node, [new]))
    CK.check(r.code == 0, "one more indicator imported", r.err)
    r = scan(node, dns)
    CK.check("and a delta" in r.err and "rebuilt" not in r.err,
             "a new indicator: the cache is loaded with a delta of it", r.err[-600:])
    CK.check(new["id"] in r.out, "the new indicator hits through the delta", r.out[-400:])
    same_as_fresh(node, dns, [], "after the import")
    # revoked: a new version in the delta masks the base's, and the indicator no longer hits
    rev = dict(new, modified="2024-06-01T00:00:00.000Z", revoked=True)
    r = node.imp(write_bundle(node, [rev]))
    CK.check(r.code == 0, "revocation imported", r.err)
    r = scan(node, dns)
    CK.check("and a delta" in r.err and new["id"] not in r.out,
             "a revocation goes into the delta; the revoked indicator no longer hits",
             r.err[-400:])
    CK.check(len(r.out.splitlines()) == base, "back to the hits before (%d)" % base)
    delta_part(node, dns)
    # warning lists changed
    r = node.run("warninglist", "import", "--quiet", sklib.fixture("warninglists-hs"))
    if r.code == 0:
        r = scan(node, dns)
        CK.check("matcher cache rebuilt" in r.err and "wl" in r.err,
                 "new warning lists make the cache stale", r.err[-400:])
        same_as_fresh(node, dns, [], "after the warning lists changed")
    # validity windows: an indicator valid only from 2031 on
    later = ind("later", ("obs", ("cmp", "domain-name", "value", "=", "beta.test")),
                valid_from="2031-01-01T00:00:00Z")
    node.imp(write_bundle(node, [later]))
    now = scan(node, dns)
    CK.check(later["id"] not in now.out, "an indicator not yet valid does not hit")
    cur = scan(node, dns)
    CK.check("loaded from the matcher cache" in cur.err, "loaded while --at stays in the window")
    at = scan(node, dns, "--at", "2031-06-01T00:00:00Z")
    CK.check(later["id"] in at.out, "--at past its validity bound: the indicator hits then",
             at.err[-400:])
    same_as_fresh(node, dns, ["--at", "2031-06-01T00:00:00Z"], "--at 2031", want_loaded=False)
    back = scan(node, dns)
    CK.check(later["id"] not in back.out, "back to now: it does not hit")
    same_as_fresh(node, dns, [], "back to now", want_loaded=False)


def counts(err):
    m = re.search(r"(\d+) indicators compiled .*?(\d+) outside their validity window", err)
    return m.groups() if m else None


def expiry_part(node, dns):
    gone = ind("expires in 2029", ("obs", ("cmp", "domain-name", "value", "=", "mail.test")),
               valid_until="2029-01-01T00:00:00Z")
    stays = ind("stays", ("obs", ("cmp", "domain-name", "value", "=", "mail.test")))
    r = node.imp(write_bundle(node, [gone, stays]))
    CK.check(r.code == 0, "an indicator valid until 2029 and one without an end imported", r.err)
    os.remove(cache_file(node, []))
    t1 = scan(node, dns, "--at", "2028-06-01T00:00:00Z")
    CK.check(gone["id"] in t1.out and "loaded from" not in t1.err,
             "2028: a full build, written; the indicator still hits", t1.err[-400:])
    for opts in ([], ["--threads", "2"]):
        at = ["--at", "2029-06-01T00:00:00Z"] + opts
        t2 = scan(node, dns, *at)
        CK.check("loaded from the matcher cache" in t2.err and "rebuilt" not in t2.err,
                 "2029 %s: an indicator expired by time alone leaves the cache current" % opts,
                 t2.err[-600:])
        CK.check(gone["id"] not in t2.out and stays["id"] in t2.out,
                 "2029 %s: the expired indicator's hits are masked, the other still hits" % opts,
                 t2.out[-600:])
        fresh = scan(node, dns, "--no-cache", *at)
        CK.check(fresh.out == t2.out, "2029 %s: the cached output equals a fresh build's" % opts,
                 "fresh:\n%s\ncached:\n%s" % (fresh.out[-600:], t2.out[-600:]))
        CK.check(counts(fresh.err) is not None and counts(fresh.err) == counts(t2.err),
                 "2029 %s: compiled and expired counts equal a fresh build's (%s)"
                 % (opts, counts(t2.err)), fresh.err[-400:] + t2.err[-400:])
    # the indicator valid from 2031 on (stale_part) is not in a base built before then
    t3 = scan(node, dns, "--at", "2031-06-01T00:00:00Z")
    CK.check("matcher cache rebuilt" in t3.err,
             "2031: a valid_from after the build makes the cache stale", t3.err[-400:])
    same_as_fresh(node, dns, ["--at", "2031-06-01T00:00:00Z"], "--at 2031 after the rebuild")


def delta_part(node, dns):
    """The cache a few indicators old: base + delta gives the fresh build's output, byte
    for byte, after new, changed, revoked and expired (by a new version) indicators."""
    f = cache_file(node, [])
    r = scan(node, dns, "--no-cache")
    fresh_base = r.out
    # a fresh base first: a full build writes it
    os.unlink(f)
    scan(node, dns)
    before = os.stat(f).st_mtime_ns
    objs = []
    # new ones: two that hit, one that does not
    a = ind("delta a", ("obs", ("cmp", "domain-name", "value", "=", "mail.test")))
    b = ind("delta b", ("obs", ("cmp", "ipv4-addr", "value", "=", "203.0.113.7")))
    c = ind("delta c", ("obs", ("cmp", "domain-name", "value", "=", "nowhere.test")))
    objs += [a, b, c]
    # changed, revoked and expired versions of indicators in the base that hit
    hit_ids = []
    for line in fresh_base.splitlines():
        i = json.loads(line)["indicator"]["id"]
        if i not in hit_ids:
            hit_ids.append(i)
    by_id = {}
    for n, t in INDICATORS + EXTRA:
        o = ind(n, t)
        by_id[o["id"]] = o
    base_hits = [by_id[i] for i in hit_ids if i in by_id]
    CK.check(len(base_hits) >= 3, "three base indicators with hits to change (%d)" % len(base_hits))
    if len(base_hits) >= 3:
        changed = dict(base_hits[0], modified="2024-07-01T00:00:00.000Z",
                       name="changed " + base_hits[0].get("name", ""))
        revoked = dict(base_hits[1], modified="2024-07-01T00:00:00.000Z", revoked=True)
        expired = dict(base_hits[2], modified="2024-07-01T00:00:00.000Z",
                       valid_until="2024-07-02T00:00:00.000Z")
        objs += [changed, revoked, expired]
    r = node.imp(write_bundle(node, objs))
    CK.check(r.code == 0, "%d indicators new or changed since the base" % len(objs), r.err)
    for opts in ([], ["--threads", "1"], ["--threads", "2"]):
        cached = same_as_fresh(node, dns, opts, "stale by a delta %s" % " ".join(opts))
        CK.check("and a delta" in cached.err, "delta %s: loaded with a delta" % " ".join(opts),
                 cached.err[-400:])
    out = scan(node, dns).out
    CK.check(a["id"] in out and b["id"] in out and c["id"] not in out,
             "the delta's new indicators hit (and only those that should)")
    if len(base_hits) >= 3:
        CK.check(base_hits[1]["id"] not in out and base_hits[2]["id"] not in out,
                 "revoked and expired base indicators are masked")
        CK.check(("changed " + base_hits[0].get("name", "")) in out,
                 "a changed base indicator hits as its new version")
    CK.check(os.stat(f).st_mtime_ns == before, "a small delta leaves the base file as it is")
    # a delta past the threshold (an eighth of the base + 1000): a full build and a new base
    many = [ind("bulk %d" % i, ("obs", ("cmp", "domain-name", "value", "=", "bulk%d.test" % i)))
            for i in range(1100)]
    r = node.imp(write_bundle(node, many))
    CK.check(r.code == 0, "1100 more indicators imported", r.err[-300:])
    r = scan(node, dns)
    CK.check("matcher cache rebuilt" in r.err and "changed since" in r.err,
             "a large delta: rebuilt in full (the reason is said)", r.err[-400:])
    CK.check(os.stat(f).st_mtime_ns != before, "... and a new base written")
    CK.check(stat.S_IMODE(os.stat(f).st_mode) == 0o600, "the new base is 0600")
    r = same_as_fresh(node, dns, [], "after the new base")
    CK.check("and a delta" not in r.err, "the new base needs no delta", r.err[-300:])
    leftovers = [x for x in os.listdir(node.dir) if ".matcher." in x]
    CK.check(not leftovers, "no temporary files left after the new base", repr(leftovers))


def shared_part():
    mt = sklib.shared("data", "feeds", "maltrail", "maltrail_static.tsv.gz")
    dnsgz = sklib.shared("data", "logs", "zeek-wrccdc2018", "tsv", "dns.log.gz")
    if not (os.path.exists(mt) and os.path.exists(dnsgz)):
        print("SKIP shared part: %s or %s absent" % (mt, dnsgz))
        return
    with sklib.Node() as node:
        sample = node.path("maltrail-sample.tsv")
        with gzip.open(mt, "rt", errors="replace") as src, open(sample, "w") as dst:
            for i, line in enumerate(src):
                if i >= 40000:
                    break
                dst.write(line)
        dns = node.path("dns.log")
        queries = []
        with gzip.open(dnsgz, "rb") as src, open(dns, "wb") as dst:
            for line in src:
                dst.write(line)
                parts = line.split(b"\t")
                if not line.startswith(b"#") and len(parts) > 9 and len(queries) < 40:
                    q = parts[9].decode("ascii", "replace")
                    if q not in ("-", "") and "'" not in q and "\\" not in q:
                        queries.append(q)
        r = node.run("feed", "import", "--quiet", "--format", "maltrail", "--producer",
                     "Maltrail", "--tlp", "clear", sample, timeout=600)
        CK.check(r.code in (0, 3), "maltrail sample imported", r.err[-400:])
        objs = [ind("q " + q, ("obs", ("cmp", "domain-name", "value", "=", q)))
                for q in sorted(set(queries))]
        node.imp(write_bundle(node, objs))
        first = scan(node, dns)
        CK.check(first.code == 0, "shared: first scan", first.err[-400:])
        for opts in ([], ["--threads", "1"], ["--subdomains"]):
            scan(node, dns, *opts)  # writes the file of this option set if it is not there
            r = same_as_fresh(node, dns, opts, "shared Zeek DNS %s" % " ".join(opts))
            if not opts:
                CK.check(len(r.out.splitlines()) > 0, "shared: the log has hits (%d)"
                         % len(r.out.splitlines()))


def main():
    with sklib.Node() as node:
        why = ref.scan_missing(node)
        if why:
            sklib.skip_all(why)
        dns = fixtures_part(node)
        damage_part(node, dns)
        stale_part(node, dns)
        expiry_part(node, dns)
    shared_part()
    CK.finish()


if __name__ == "__main__":
    main()
