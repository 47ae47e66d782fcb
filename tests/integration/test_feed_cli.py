#!/usr/bin/env python3
"""test_feed_cli.py - `schakel feed import` and `schakel warninglist` on the
fixtures: counts, re-import, rejected lines with line numbers, pattern syntax,
and the indicators' visibility through list/show/get."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import feed_summary, run  # noqa: E402  (run: code, out, err)

FIX = sklib.fixtures()
FEEDS = os.path.join(FIX, "feeds")
R = sklib.Results()
check = R.check


# The STIX patterns schakel writes, in a strict form: one comparison or
# several AND-ed, string literals with only \\ and \' escapes.
LIT = r"'(?:[^'\\]|\\['\\])*'"
PATH = r"[a-z0-9-]+:[a-z_]+(?:\.(?:[a-z_]+|'[A-Z0-9-]+'))*"
CMP = r"%s (?:=|ISSUBSET|MATCHES) (?:%s|\d+)" % (PATH, LIT)
PATTERN = re.compile(r"^\[%s(?: AND %s)*\]$" % (CMP, CMP))


def main():
    with sklib.Node(init=False) as node:
        tmp, db = node.dir, node.db
        rc, _, err = run(db, "init", "--name", "Feed test node")
        check(rc == 0, "init: " + err)

        # usage errors
        rc, _, _ = run(db, "feed", "import", "--format", "maltrail", "--tlp", "green",
                       os.path.join(FEEDS, "maltrail.tsv"))
        check(rc == 2, "missing --producer is a usage error")
        rc, _, _ = run(db, "feed", "import", "--format", "nope", "--producer", "P", "--tlp",
                       "green", os.path.join(FEEDS, "maltrail.tsv"))
        check(rc == 2, "bad --format is a usage error")
        rc, _, _ = run(db, "feed", "import", "--format", "lines", "--producer", "P", "--tlp",
                       "purple", os.path.join(FEEDS, "lines.txt"))
        check(rc == 2, "bad --tlp is a usage error")

        # maltrail fixture: three broken lines, reported with their numbers
        mt = os.path.join(FEEDS, "maltrail.tsv")
        rc, _, err = run(db, "feed", "import", "--format", "maltrail", "--producer",
                         "Example CERT", "--tlp", "amber", "--confidence", "80", mt)
        check(rc == 3, "rejected lines, the rest imported: exit 3 (%d)" % rc)
        for ln in (13, 14, 16):
            check("maltrail.tsv:%d: rejected" % ln in err, "line %d reported: %s" % (ln, err))
        kinds, t = feed_summary(err)
        check(t.get("stored") == 12 and t.get("duplicate") == 1 and t.get("rejected") == 3,
              "maltrail totals %s" % t)
        check(kinds.get("domain") == 3 and kinds.get("url") == 2 and
              kinds.get("url_path") == 1 and kinds.get("ipv6_port") == 1,
              "maltrail kinds %s" % kinds)

        # the search index is caught up after the rows are committed (sk_store_defer_search):
        # every stored indicator has its row and values, and no resume point is left
        import sqlite3
        con = sqlite3.connect(db)
        n_ind = con.execute("SELECT count(*) FROM objects WHERE type='indicator'").fetchone()[0]
        n_row = con.execute("SELECT count(*) FROM search s JOIN objects o ON o.ver=s.rowid"
                            " WHERE o.type='indicator'").fetchone()[0]
        left = con.execute("SELECT count(*) FROM meta WHERE key='search_backfill'").fetchone()[0]
        vals = con.execute("SELECT count(*) FROM observables").fetchone()[0]
        con.close()
        check(n_ind == 12 and n_row == n_ind and left == 0 and vals > 0,
              "search index caught up after the import: %d indicators, %d rows, %d values, "
              "resume point left %d" % (n_ind, n_row, vals, left))
        check("search index caught up after that" in err, "the catch-up is timed apart: " + err)

        # re-import: every entry a duplicate
        rc, _, err = run(db, "feed", "import", "--format", "maltrail", "--producer",
                         "Example CERT", "--tlp", "amber", "--confidence", "80", mt)
        kinds, t = feed_summary(err)
        check(t.get("stored") == 0 and t.get("duplicate") == 13, "re-import %s" % t)

        # the other formats
        for fmt, name, want_kinds, want_rej in (
                ("ipsum", "ipsum.txt", {"ipv4": 3, "ipv6": 1}, 1),
                ("lines", "hashes-md5.txt", {"md5": 5}, 1),
                ("lines", "hashes-sha1.txt", {"sha1": 5}, 0),
                ("lines", "hashes-sha256.txt", {"sha256": 5}, 0),
                ("lines", "lines.txt", {"ipv4": 1, "ipv6": 1, "ipv4_cidr": 1, "ipv6_cidr": 1,
                                        "domain": 3, "url": 1, "email": 1, "ipv4_port": 1,
                                        "sha512": 1, "sha1": 1}, 2),
                ("csv", "indicators.csv", {"domain": 1, "ipv4": 2, "url": 1}, 2)):
            rc, _, err = run(db, "feed", "import", "--format", fmt, "--producer", "Example CERT",
                             "--tlp", "green", os.path.join(FEEDS, name))
            kinds, t = feed_summary(err)
            check(kinds == want_kinds, "%s kinds %s, want %s" % (name, kinds, want_kinds))
            check(t.get("rejected") == want_rej, "%s rejected %s: %s" % (name, t, err))
            check(rc == (3 if want_rej else 0), "%s exit %d" % (name, rc))

        # csv with an explicit column map; a missing column is an error
        cc = os.path.join(FEEDS, "custom.csv")
        rc, _, err = run(db, "feed", "import", "--format", "csv", "--producer", "P2", "--tlp",
                         "red", "--column", "value=ioc,label=family,label=1", cc)
        kinds, t = feed_summary(err)
        check(rc == 0 and t.get("stored") == 2, "custom csv %s %s" % (t, err))
        rc, _, err = run(db, "feed", "import", "--format", "csv", "--producer", "P2", "--tlp",
                         "red", "--column", "value=nosuch", cc)
        check(rc == 1 and "no column" in err, "unknown csv column: " + err)

        # generic kind names of CSV exports (MISP's ip-dst, "ip", "hash"): detected, then
        # checked against the family the column names
        gk = os.path.join(FEEDS, "generic-kinds.csv")
        rc, _, err = run(db, "feed", "import", "--format", "csv", "--producer", "P5", "--tlp",
                         "green", gk)
        kinds, t = feed_summary(err)
        check(rc == 3 and kinds == {"ipv4": 1, "ipv6": 1, "ipv4_cidr": 1, "domain": 1, "md5": 1}
              and t.get("rejected") == 1, "generic csv kinds: %s %s" % (kinds, err))
        check("generic-kinds.csv:7: rejected: the value is not what its kind column says" in err,
              "a value of another family than its kind is rejected with its line: " + err)

        # stdin and gzip
        rc, _, err = run(db, "feed", "import", "--format", "lines", "--producer", "P3",
                         "--tlp", "clear", "-", stdin="stdin.example\n192.0.2.99\n")
        kinds, t = feed_summary(err)
        check(rc == 0 and t.get("stored") == 2, "stdin %s" % t)

        # every stored indicator: valid pattern, producer, marking
        rc, out, err = run(db, "list", "--type", "indicator", "--json")
        check(rc == 0, "list: " + err)
        rows = [json.loads(x) for x in out.splitlines() if x.strip()]
        objs = []
        for r in rows:
            o = r.get("object", r) if isinstance(r, dict) else r
            if "pattern" not in o:
                rc, gout, _ = run(db, "get", "--compact", r.get("id"))
                o = json.loads(gout.splitlines()[0])
            objs.append(o)
        # maltrail 12, ipsum 4, hashes 15, lines 12, csv 4 (bad.example is the same
        # producer and pattern as in maltrail: same id), custom csv 2, generic kinds 5, stdin 2
        check(len(objs) == 12 + 4 + 15 + 12 + 3 + 2 + 5 + 2, "indicator count %d" % len(objs))
        bad = [o["pattern"] for o in objs if not PATTERN.match(o["pattern"])]
        check(not bad, "patterns valid: %s" % bad[:5])
        check(all(o["pattern_type"] == "stix" and o["pattern_version"] == "2.1" and
                  o["indicator_types"] == ["malicious-activity"] and
                  o["created_by_ref"].startswith("identity--") and
                  o["valid_from"] == o["created"] for o in objs), "indicator properties")
        # and the project's own STIX pattern parser accepts every one
        rc, _, _ = run(db, "pattern", "check", "[ipv4-addr:value = '192.0.2.1']")
        if rc == 0:
            rejected = [o["pattern"] for o in objs
                        if run(db, "pattern", "check", o["pattern"]).code != 0]
            check(not rejected, "schakel pattern check rejects %s" % rejected[:3])
        ids = [o["id"] for o in objs]
        check(len(set(ids)) == len(ids), "ids unique")
        q = [o for o in objs if "evil.example/path" in o["pattern"]]
        check(q and q[0]["pattern"] == "[url:value = 'http://evil.example/path?q=\\'x\\'']",
              "quote escaped in pattern: %s" % (q and q[0]["pattern"]))
        z = [o for o in objs if o["pattern"] == "[domain-name:value = 'bad.example']"
             and o["created_by_ref"] == objs[0]["created_by_ref"]]
        check(z and sorted(z[0].get("labels", [])) == ["malware", "zeus"] and
              z[0].get("confidence") == 80 and
              z[0]["object_marking_refs"] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
              "maltrail labels/confidence/marking: %s" % (z and z[0]))
        if z:
            rc, out, _ = run(db, "show", z[0]["id"])
            check(rc == 0 and "bad.example" in out, "show indicator")
            rc, out, _ = run(db, "get", z[0]["created_by_ref"])
            ident = json.loads(out) if rc == 0 else {}
            check(ident.get("name") == "Example CERT" and
                  ident.get("identity_class") == "organization", "producer identity %s" % ident)
        rc, out, _ = run(db, "get", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421")
        check(rc == 0, "TLP:AMBER marking definition stored")

        # long lines are rejected with their number, the import goes on
        longf = os.path.join(tmp, "long.txt")
        with open(longf, "w") as f:
            f.write("one.example\n" + "x" * 20000 + ".example\ntwo.example\n")
        rc, _, err = run(db, "feed", "import", "--format", "lines", "--producer", "P4",
                         "--tlp", "green", longf)
        kinds, t = feed_summary(err)
        check(rc == 3 and "long.txt:2: rejected: line longer than 8192 bytes" in err and
              t.get("stored") == 2, "long line: %s" % err)

        # warning lists
        rc, _, err = run(db, "warninglist", "import", os.path.join(FIX, "warninglists"))
        check(rc == 0 and "5 lists loaded" in err, "warninglist import: " + err)
        rc, _, err = run(db, "warninglist", "import", os.path.join(FIX, "warninglists"))
        check(rc == 0 and "5 already current" in err, "warninglist re-import: " + err)
        rc, _, err = run(db, "warninglist", "import", os.path.join(FIX, "warninglists-bad"))
        check(rc == 1 and "list.json" in err, "broken warninglists reported: " + err)
        rc, out, _ = run(db, "warninglist", "list")
        check(rc == 0 and "Test public DNS resolvers" in out and "cidr" in out, "list: " + out)
        rc, out, _ = run(db, "warninglist", "check", "198.51.100.9")
        check(rc == 0 and "Test public DNS resolvers" in out, "check ip: " + out)
        rc, out, _ = run(db, "warninglist", "check", "img.cdn.example")
        check(rc == 0 and "Test CDN hosts" in out, "check host: " + out)
        rc, out, err = run(db, "warninglist", "check", "unlisted.example")
        check(rc == 1 and out == "", "check miss: " + out + err)

    R.finish()


if __name__ == "__main__":
    main()
