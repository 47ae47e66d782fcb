#!/usr/bin/env python3
"""kill -9 during `feed import` (two threads: the reader parses, builds and
validates, the calling thread stores), and during its tail phase (the search
index caught up after the rows are committed).

A generated maltrail-style feed (documentation domains and addresses) is
imported with --batch 2000.  Round 1 kills the import once the first batch
is committed (the store is polled, no fixed delay); round 2 kills it once it
has committed every row but not yet caught the search index up (the store
is polled; if the tail phase was over first, that is noted).  After each kill:
PRAGMA integrity_check is ok, the stored indicators are a whole number of
committed batches with their indicators rows, markings and collection rows,
and the search index's resume point is either gone (caught up) or left for
the next read-write open.  Then a re-run finishes: every line is an entry,
the index is caught up, and `scan` right after the import finds the
indicators.
"""
import os
import signal
import sqlite3
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import feed_summary  # noqa: E402

R = sklib.Results("test_feed_crash")
check = R.check
LINES = 60000
BATCH = 2000


def make_feed(path):
    with open(path, "w") as f:
        for i in range(LINES):
            if i % 3 == 0:
                f.write("198.51.%d.%d\tipv4\tmalicious\tbotnet %d\n"
                        % (i // 250, i % 250 + 1, i % 7))
            else:
                f.write("host-%d.crash.example\tdomain\tmalicious\tmalware %d\n" % (i, i % 11))


def facts(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        q = lambda s: con.execute(s).fetchone()[0]  # noqa: E731
        return {
            "integrity": q("PRAGMA integrity_check"),
            "indicators": q("SELECT count(*) FROM objects WHERE type='indicator'"),
            "ind_rows": q("SELECT count(*) FROM indicators"),
            "marked": q("SELECT count(*) FROM objects o JOIN object_markings m ON m.ver=o.ver"
                        " WHERE o.type='indicator'"),
            "in_coll": q("SELECT count(*) FROM objects o JOIN collection_objects c"
                         " ON c.ver=o.ver WHERE o.type='indicator'"),
            "resume": q("SELECT count(*) FROM meta WHERE key='search_backfill'"),
            "searched": q("SELECT count(*) FROM search s JOIN objects o ON o.ver=s.rowid"
                          " WHERE o.type='indicator'"),
        }
    finally:
        con.close()


def committed(db):
    try:
        return facts(db)["indicators"] > 0
    except sqlite3.Error:
        return False


def import_argv(node, feed):
    return [sklib.binary(), "--db", node.db, "feed", "import", "--format", "maltrail",
            "--producer", "Crash Test Feed", "--tlp", "green", "--batch", str(BATCH), feed]


def check_store(db, label):
    f = facts(db)
    check(f["integrity"] == "ok", "%s: integrity_check %s" % (label, f["integrity"]))
    n = f["indicators"]
    # the producer identity and the TLP marking are not indicators; the first
    # transaction holds them and the first batch
    check(n % BATCH == 0, "%s: a whole number of batches stored (%d)" % (label, n))
    check(f["ind_rows"] == n and f["marked"] == n and f["in_coll"] == n,
          "%s: every stored indicator complete %s" % (label, f))
    check(f["resume"] == 1 or f["searched"] == n,
          "%s: the search index caught up or its resume point left %s" % (label, f))
    return f


def kill_when(node, feed, event, label):
    p = subprocess.Popen(import_argv(node, feed), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=sklib._env())
    seen = sklib.wait_for(lambda: p.poll() is not None or event(p), step=0.02)
    finished = p.poll() is not None
    if not finished:
        os.kill(p.pid, signal.SIGKILL)
    p.wait()
    check(seen, "%s: the import ended or the event came" % label)
    return finished


def main():
    with sklib.Node(name="feed crash node") as node:
        feed = node.path("crash.tsv")
        make_feed(feed)

        # round 1: killed once the first batch is committed
        fin = kill_when(node, feed, lambda p: committed(node.db), "round 1")
        if fin:
            print("note - round 1: the import finished before the kill")
        f = check_store(node.db, "round 1 (killed mid-import)")
        if not fin:
            check(f["indicators"] < LINES, "round 1: killed part-way (%d)" % f["indicators"])

        # round 2: killed in the tail phase, after the rows are committed
        def in_tail(p):
            try:
                f = facts(node.db)
            except sqlite3.Error:
                return False
            return f["indicators"] == LINES and f["resume"] == 1

        fin = kill_when(node, feed, in_tail, "round 2")
        if fin:
            print("note - round 2: the import and its tail phase finished before the kill")
        f = check_store(node.db, "round 2 (killed in the search catch-up)")
        check(f["indicators"] == LINES, "round 2: every row committed (%d)" % f["indicators"])

        # the next read-write command finishes what was left; nothing is stored twice
        r = node.run("feed", "import", "--format", "maltrail", "--producer", "Crash Test Feed",
                     "--tlp", "green", "--batch", str(BATCH), feed)
        _, t = feed_summary(r.err)
        check(r.code == 0 and t.get("entries") == LINES and t.get("stored") == 0,
              "re-run: every entry already stored %s %s" % (t, r.err[-400:]))
        f = check_store(node.db, "after the re-run")
        check(f["resume"] == 0 and f["searched"] == LINES,
              "after the re-run the search index is complete %s" % f)

        # usable for matching at once
        log = node.path("t.log")
        with open(log, "w") as fh:
            # lines 0 and 59997 of the feed, the first and the last batch
            fh.write("2026-01-01T00:00:00Z conn 192.0.2.10 198.51.0.1\n"
                     "2026-01-01T00:00:01Z conn 192.0.2.10 198.51.239.248\n")
        r = node.run("scan", "--format", "text", "--no-sightings", log)
        check("198.51.0.1" in r.out and "198.51.239.248" in r.out,
              "scan right after the import finds the indicators: %s %s"
              % (r.out[-300:], r.err[-300:]))
    R.finish()


if __name__ == "__main__":
    main()
