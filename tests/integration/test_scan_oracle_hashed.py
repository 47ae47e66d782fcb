#!/usr/bin/env python3
"""test_scan_oracle_hashed - the scan oracle for hashed indicators
(docs/private-matching.md).

An ECS log written here (user names: e-mail addresses in mixed case, with
white space, DOMAIN\\user forms, plain names) and the project's EVE / Zeek
SMTP fixtures are read by the reference readers (scan_ref, scan_ref_host).
Hashed indicators are made with `schakel indicator hash`: a digest list and a
Bloom filter of e-mail addresses, and a digest list of user ids.  The
reference computes, independently in Python (hmac, hashlib), the documented
normalisation, HMAC-SHA-256 under the key from <db>.hashkeys and the Bloom
bit positions from the stored indicator; `schakel scan` must give exactly
the reference's (line, indicator) hits.
"""
import base64
import hashlib
import hmac
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
import scan_ref as ref  # noqa: E402

EXT = "extension-definition--0c5e7d2a-8b41-4f3e-a6d9-2e7b1c9f4a58"
WS = " \t\r\n"


def norm_email(v):
    v = v.strip(WS)
    if not v or len(v) > 512 or v.count("@") != 1 or any(c in v for c in " \t\r\n<>,"):
        return None
    local, _, dom = v.partition("@")
    if not local or not dom:
        return None
    v = v.lower()
    if v.endswith("."):
        v = v[:-1]
    if v.endswith(".") or v.endswith("@"):
        return None
    return v


def norm_user(v):
    v = v.strip(WS)
    return v if v and len(v) <= 512 else None


def candidates(rec):
    """(path, normal form) of every value of a record a hashed indicator could match."""
    out = set()
    for t, props in rec.objs:
        if t == "email-addr" and props.get("value"):
            e = norm_email(props["value"])
            if e:
                out.add(("email", e))
        if t == "user-account" and props.get("user_id"):
            u = props["user_id"]
            n = norm_user(u)
            if n:
                out.add(("user", n))
            if "@" in u:
                e = norm_email(u)
                if e:
                    out.add(("email", e))
    return out


def digest(key, v):
    return hmac.new(key, v.encode(), hashlib.sha256).digest()


def bloom_has(b, d):
    m, k, bits = b["m"], b["k"], base64.b64decode(b["bits"])
    h1 = int.from_bytes(d[0:8], "little")
    h2 = int.from_bytes(d[8:16], "little") | 1
    for i in range(k):
        p = ((h1 + i * h2) & 0xFFFFFFFFFFFFFFFF) % m
        if not bits[p >> 3] >> (p & 7) & 1:
            return False
    return True


def ecs_log(path, rng):
    people = ["Alice.Doe@Example.org", "bob@example.org", "CAROL@MAIL.EXAMPLE.NET",
              "dave@example.org", "erin@sub.example.org.", "frank", "Grace", "heidi@example.com",
              "ivan@example.org", "judy@Example.Org"]
    lines = []
    for i in range(300):
        u = rng.choice(people)
        form = rng.randrange(4)
        if form == 1:
            u = "CORP\\" + u
        elif form == 2:
            u = u.upper() if "@" in u else u
        elif form == 3:
            u = "  " + u + " "
        lines.append(json.dumps({
            "@timestamp": "2026-12-07T10:%02d:%02dZ" % (i // 60 % 60, i % 60),
            "event": {"category": ["authentication"], "outcome": "success"},
            "user": {"name": u}, "source": {"ip": "198.51.100.%d" % (i % 250 + 1)}}))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    node = sklib.Node()
    why = ref.scan_missing(node)
    if why:
        sklib.skip_all(why)
    if node.run("help", "indicator").code != 0:
        sklib.skip_all("this schakel has no 'indicator hash' command")
    ck = sklib.Checker("test_scan_oracle_hashed")
    rng = random.Random(15)
    ecs = node.path("auth-ecs.json")
    ecs_log(ecs, rng)
    files = [(ecs, "ecs", "ecs"), (sklib.fixture("logs", "eve.json"), None, "auto"),
             (sklib.fixture("logs", "zeek_smtp.log"), None, "auto")]
    recs = {}
    for path, fmt, _ in files:
        recs[path] = list(ref.read_records(path, fmt))
    emails = sorted({v for rs in recs.values() for r in rs for p, v in candidates(r) if p == "email"})
    users = sorted({v for rs in recs.values() for r in rs for p, v in candidates(r) if p == "user"})
    ck.check(len(emails) >= 8 and len(users) >= 8,
             "the logs hold addresses and user names (%d, %d)" % (len(emails), len(users)))

    node.run("collection", "add", "leak", check=True)
    node.run("hashkey", "create", "leak", check=True)
    with open(node.db + ".hashkeys") as f:
        key = base64.b64decode(f.read().splitlines()[1].split("\t")[5])

    def make(kind, values, *extra):
        p = node.path("values-%s-%d.txt" % (kind, len(values)))
        with open(p, "w") as f:
            # as people would list them: mixed case, spaces; decoys nobody logs in as
            f.write("\n".join([" %s " % v.upper() if kind == "email" and i % 2 else v
                               for i, v in enumerate(values)] +
                              ["nobody%d@example.org" % i if kind == "email" else "nobody%d" % i
                               for i in range(3)]) + "\n")
        r = node.run("indicator", "hash", "--collection", "leak", "--type", kind, "--input", p,
                     *extra, check=True)
        iid = r.out.strip()
        obj = json.loads(node.run("get", iid, check=True).out)
        return iid, obj["extensions"][EXT]

    half = emails[::2]
    rest = emails[1::2]
    ind_list, ext_list = make("email", half)
    ind_bloom, ext_bloom = make("email", rest, "--bloom")
    ind_user, ext_user = make("user", users[::3])
    inds = {ind_list: ("email", ext_list), ind_bloom: ("email", ext_bloom),
            ind_user: ("user", ext_user)}
    names = {ind_list: "email digests", ind_bloom: "email Bloom", ind_user: "user digests"}

    def hit(iid, cands):
        path, ext = inds[iid]
        for p, v in cands:
            if p != path:
                continue
            d = digest(key, v)
            if "digests" in ext and d.hex() in ext["digests"]:
                return True
            if "bloom" in ext and bloom_has(ext["bloom"], d):
                return True
        return False

    total = 0
    for path, _, fmt in files:
        want = {}
        for r in recs[path]:
            c = candidates(r)
            for iid in inds:
                if hit(iid, c):
                    want[(r.line, iid)] = []
        total += len(want)
        got, res, problems = ref.run_scan(node, path, extra=("--format", fmt))
        got = {k: [] for k in got}
        lines = [t for _, t in ref.open_lines(path)]
        d = ref.diff_hits(got, want, names, lambda n: lines[n - 1])
        ck.check(not problems and not d,
                 "%s: %d hashed hits, as the reference" % (os.path.basename(path), len(want)),
                 "\n".join(problems[:20] + d + ["repro: %s" % " ".join(res.args)]))
    ck.check(total > 50, "the reference finds a fair number of hashed hits (%d)" % total)

    # the matcher cache (a base plus a delta) holds no hashed indicator: they are
    # loaded beside it, numbered after the delta's, with the same hits as a fresh build
    def scan(*extra):
        r = node.run("scan", "--no-sightings", "--threads", "1", "--format", "ecs", *extra,
                     ecs, check=True)
        return r.out, r.err

    scan()  # writes the cache of these options
    fresh, _ = scan("--no-cache")
    cached, err = scan()
    ck.check(cached == fresh and "loaded from the matcher cache" in err,
             "a scan from the cache gives the fresh build's hashed hits", err[-400:])
    make("user", users[1::3])
    plain = node.path("plain.json")
    with open(plain, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--6a0d5c2e-3f4b-4c1a-9d8e-1b2c3d4e5f60",
                   "objects": [{"type": "indicator", "spec_version": "2.1",
                                "id": "indicator--0c6b9a4e-2d1f-4e3a-8b5c-7d6e5f4a3b21",
                                "created": "2026-01-01T00:00:00.000Z",
                                "modified": "2026-01-01T00:00:00.000Z",
                                "pattern": "[domain-name:value = 'delta.example']",
                                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}]},
                  f)
    node.run("import", "--collection", "leak", plain, check=True)
    fresh, _ = scan("--no-cache")
    delta, err = scan()
    ck.check(delta == fresh and "a delta" in err,
             "with a delta of a plain and a hashed indicator, the same hits as a fresh build",
             err[-400:])
    ck.finish()


if __name__ == "__main__":
    main()
