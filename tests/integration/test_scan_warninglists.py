#!/usr/bin/env python3
"""`schakel scan` with MISP warning lists (tests/fixtures/warninglists).

A node with indicators (a feed in `lines` format written here) whose values
are on the fixture lists (string, hostname with the parent walk, cidr) and
one that is not: the listed ones are reported once at compile time and do
not match; --no-warninglists keeps them.  Also a URL-path feed entry
(maltrail-style MATCHES regex, compiled without Hyperscan) matching a
text log.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import run, write_text  # noqa: E402  (run: code, out, err)

FIX = sklib.fixtures()
R = sklib.Results()


def check(name, cond, detail=""):
    R.check(cond, name, detail)


def values(out):
    return sorted(json.loads(l)["value"] for l in out.splitlines() if l.strip())


def main():
    with sklib.Node(init=False) as node:
        db = node.db
        feed = write_text(node.path("feed.txt"),
                          "popular.example\nimg.cdn.example\n198.51.100.7\nevil.test\n192.0.2.9\n")
        mt = write_text(node.path("mt.tsv"), "/gate/panel.php\turl\tmalware\tx\n")
        log = write_text(node.path("proxy.csv"),
                         "domain,ip,url\n"
                         "popular.example,,\n"
                         "img.cdn.example,,\n"
                         ",198.51.100.7,\n"
                         "evil.test,,\n"
                         ",192.0.2.9,\n"
                         ",,http://host.test/gate/panel.php?id=1\n"
                         ",,http://host.test/other/gate/panel.php\n")
        code, _, err = run(db, "init", "--name", "wl node")
        check("init", code == 0, err)
        code, _, err = run(db, "feed", "import", "--format", "lines", "--producer", "Test",
                           "--tlp", "clear", "--quiet", feed)
        check("feed import", code == 0, err)
        code, _, err = run(db, "feed", "import", "--format", "maltrail", "--producer", "Test",
                           "--tlp", "clear", "--quiet", mt)
        check("maltrail import", code == 0, err)

        # no lists imported yet: everything matches
        code, out, err = run(db, "scan", "--no-sightings", "--format", "csv", log)
        check("scan without lists", code == 0, err)
        check("all values hit without lists",
              values(out) == sorted(["popular.example", "img.cdn.example", "198.51.100.7",
                                     "evil.test", "192.0.2.9",
                                     "http://host.test/gate/panel.php?id=1"]), out)
        check("summary: 0 on warning lists", " 0 on warning lists" in err, err)
        check("summary: matcher size", "bytes per indicator" in err, err)

        code, _, err = run(db, "warninglist", "import", os.path.join(FIX, "warninglists"))
        check("warninglist import", code in (0, 1), err)
        code, out, err = run(db, "scan", "--no-sightings", "--format", "csv", log)
        check("scan with lists", code == 0, err)
        check("listed values suppressed",
              values(out) == sorted(["evil.test", "192.0.2.9",
                                     "http://host.test/gate/panel.php?id=1"]), out)
        rep = [l for l in err.splitlines() if "suppressed (use --no-warninglists" in l]
        check("three reports", len(rep) == 3, err)
        check("string list named",
              any("'popular.example' is on warning list 'Test top sites' (string)" in l
                  for l in rep), err)
        check("hostname parent walk",
              any("'img.cdn.example' is on warning list 'Test CDN hosts' (hostname)" in l
                  for l in rep), err)
        check("cidr list",
              any("'198.51.100.7' is on warning list 'Test public DNS resolvers' (cidr)" in l
                  for l in rep), err)
        check("report names the indicator", all(l.startswith("schakel: indicator--")
                                                for l in rep), err)
        check("summary count", " 3 on warning lists" in err, err)

        code, out, err = run(db, "scan", "--no-sightings", "--no-warninglists", "--format",
                             "csv", log)
        check("--no-warninglists keeps them", len(values(out)) == 6, out + err)
        check("--no-warninglists: no reports", "suppressed (use" not in err, err)

        code, out, err = run(db, "scan", "--no-sightings", "--quiet", "--format", "csv", log)
        check("--quiet drops the reports", err.strip() == "", err)
    R.finish()


if __name__ == "__main__":
    main()
