#!/usr/bin/env python3
"""test_watch_cache - `serve --watch` starts from the matcher cache
(docs/matcher.md, "The matcher cache").

- A base written by `scan`, a few indicators old (one new, one revoked, one
  expired by a new version): the watcher loads it with a delta of those,
  alerts on a live log line for an indicator in the base and for the new
  one, not for the revoked or expired ones, and for one imported while it
  runs.
- A damaged cache file is reported and rebuilt; the watcher still alerts;
  the rebuilt file is 0600, no temporary file is left, and the next start
  loads it.
- Indicators that expire by time alone while the watcher runs (their
  valid_until passes, no new version), one in the cached base and one in a
  delta, stop alerting at once, not at the next full rebuild.
Every wait is on an event (a log line, an alert); no fixed sleeps.
"""
import json
import os
import stat
import sys
import time
import uuid
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import read_jsonl, wait_for, write_text  # noqa: E402

CK = sklib.Checker("test_watch_cache")


def ind(value, name, **kw):
    o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": name, "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
         "valid_from": "2024-01-01T00:00:00Z"}
    o.update(kw)
    return o


def imp(node, objs):
    p = node.path("b-%s.json" % uuid.uuid4().hex)
    with open(p, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, f)
    r = node.imp(p)
    CK.check(r.code == 0, "imported %d object(s)" % len(objs), r.err[-300:])


def alerts_for(path, iid):
    return [a for a in read_jsonl(path) if a.get("indicator", {}).get("id") == iid]


def append(log, *lines):
    with open(log, "a") as f:
        for ln in lines:
            f.write(ln + "\n")


def watch(node, log, alerts):
    return node.serve("--no-access-log", "--watch", log, "--watch-format", "text",
                      "--alerts", alerts, "--lookback", "1h")


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def expiry_part(node, cache):
    # valid until a little later: in the base written now, and in a delta
    until = time.time() + 15
    soon = ind("198.51.100.71", "expires soon (base)", valid_until=iso(until))
    keep = ind("198.51.100.72", "stays")
    imp(node, [soon, keep])
    os.remove(cache)
    probe = write_text(node.path("probe.log"),
                       "2024-05-01T13:00:00Z conn 192.0.2.9 -> 198.51.100.71\n")
    r = node.run("scan", "--no-sightings", probe)
    in_base = soon["id"] in r.out
    CK.check(r.code == 0 and os.path.exists(cache), "a full build wrote the cache", r.err[-300:])
    soon2 = ind("198.51.100.73", "expires soon (delta)", valid_until=iso(until))
    imp(node, [soon2])
    log = write_text(node.path("net4.log"), "2024-05-01T13:00:00Z startup 192.0.2.200\n")
    alerts = node.path("alerts4.jsonl")
    srv = watch(node, log, alerts)
    try:
        CK.check(wait_for(lambda: "matcher loaded from" in srv.log()),
                 "the watcher loads the base with the expiring indicator", srv.log()[-600:])
        # the clock passes their valid_until (waiting on the clock, not on the watcher)
        wait_for(lambda: time.time() > until + 0.5, timeout=60)
        append(log, "2024-05-01T13:00:01Z conn 192.0.2.9 -> 198.51.100.71",
               "2024-05-01T13:00:02Z conn 192.0.2.9 -> 198.51.100.73",
               "2024-05-01T13:00:03Z conn 192.0.2.9 -> 198.51.100.72")
        CK.check(wait_for(lambda: alerts_for(alerts, keep["id"])),
                 "the indicator without an end alerts")
        if in_base:
            CK.check(not alerts_for(alerts, soon["id"]),
                     "an indicator of the cached base that expired by time alone is quiet")
        else:
            print("# note: the machine was too slow to compile the expiring indicator into "
                  "the base before its end; the base case was not exercised")
        CK.check(not alerts_for(alerts, soon2["id"]),
                 "an indicator of a compiled part that expired by time alone is quiet")
    finally:
        srv.stop()


def main():
    with sklib.Node() as node:
        cache = node.db + ".matcher"
        base = ind("198.51.100.23", "in the base")
        gone = ind("198.51.100.24", "revoked since")
        old = ind("198.51.100.25", "expired since")
        filler = [ind("192.0.2.%d" % i, "filler %d" % i) for i in range(1, 40)]
        imp(node, [base, gone, old] + filler)
        empty = write_text(node.path("empty.log"), "2024-05-01T10:00:00Z nothing 192.0.2.200\n")
        r = node.run("scan", "--no-sightings", empty)
        CK.check(r.code == 0 and os.path.exists(cache), "scan wrote the cache", r.err[-300:])
        # a few indicators later: new, revoked, expired by a new version
        new = ind("203.0.113.9", "stored after the base")
        imp(node, [new, dict(gone, modified="2024-06-01T00:00:00.000Z", revoked=True),
                   dict(old, modified="2024-06-01T00:00:00.000Z",
                        valid_until="2024-06-02T00:00:00Z")])

        log = write_text(node.path("net.log"), "2024-05-01T10:00:00Z startup 192.0.2.200\n")
        alerts = node.path("alerts.jsonl")
        srv = watch(node, log, alerts)
        try:
            CK.check(srv.url, "server started", srv.log()[-400:])
            CK.check(wait_for(lambda: "matcher loaded from" in srv.log()),
                     "the watcher loads the cached base", srv.log()[-600:])
            CK.check("with a delta of 3" in srv.log(), "... with a delta of the 3 stored since",
                     srv.log()[-600:])
            append(log, "2024-05-01T10:00:01Z conn 192.0.2.9 -> 198.51.100.23",
                   "2024-05-01T10:00:02Z conn 192.0.2.9 -> 198.51.100.24",
                   "2024-05-01T10:00:03Z conn 192.0.2.9 -> 198.51.100.25",
                   "2024-05-01T10:00:04Z conn 192.0.2.9 -> 203.0.113.9")
            CK.check(wait_for(lambda: alerts_for(alerts, base["id"])),
                     "alert for an indicator in the base")
            got = wait_for(lambda: alerts_for(alerts, new["id"]))
            CK.check(got, "alert for an indicator stored after the base (the delta)")
            if got:
                CK.check(got[0]["indicator"]["name"] == "stored after the base",
                         "the delta's alert has the indicator's metadata")
            a = alerts_for(alerts, base["id"])
            if a:
                CK.check(a[0]["indicator"]["name"] == "in the base" and a[0]["line"] == 2,
                         "the base's alert has the indicator's metadata and line", repr(a[0]))
                CK.check(isinstance(a[0].get("detection_delay_ms"), int),
                         "detection_delay_ms on a base alert")
            # the new indicator's line came after the revoked and expired ones
            CK.check(not alerts_for(alerts, gone["id"]), "no alert for the revoked indicator")
            CK.check(not alerts_for(alerts, old["id"]), "no alert for the expired indicator")
            # one more while it runs
            live = ind("203.0.113.10", "imported while watching")
            imp(node, [live])
            append(log, "2024-05-01T10:00:05Z conn 192.0.2.9 -> 203.0.113.10")
            CK.check(wait_for(lambda: alerts_for(alerts, live["id"])),
                     "alert for an indicator imported while the watcher runs")
            CK.check(len(alerts_for(alerts, base["id"])) == 1, "no duplicate alert")
        finally:
            srv.stop()

        # a damaged file: said, rebuilt, still correct
        with open(cache, "rb") as f:
            good = f.read()
        mid = len(good) // 2
        with open(cache, "wb") as f:
            f.write(good[:mid] + bytes([good[mid] ^ 0x40]) + good[mid + 1:])
        log2 = write_text(node.path("net2.log"), "2024-05-01T11:00:00Z startup 192.0.2.200\n")
        alerts2 = node.path("alerts2.jsonl")
        srv = watch(node, log2, alerts2)
        try:
            CK.check(wait_for(lambda: "damaged" in srv.log() and "rebuilding" in srv.log()),
                     "a damaged cache file is reported and rebuilt", srv.log()[-600:])
            append(log2, "2024-05-01T11:00:01Z conn 192.0.2.9 -> 198.51.100.23",
                   "2024-05-01T11:00:02Z conn 192.0.2.9 -> 198.51.100.24",
                   "2024-05-01T11:00:03Z conn 192.0.2.9 -> 203.0.113.10")
            CK.check(wait_for(lambda: alerts_for(alerts2, live["id"])),
                     "after the rebuild: alert for the last indicator")
            CK.check(alerts_for(alerts2, base["id"]) and not alerts_for(alerts2, gone["id"]),
                     "after the rebuild: the base indicator alerts, the revoked one does not")
        finally:
            srv.stop()
        CK.check(os.path.exists(cache) and stat.S_IMODE(os.stat(cache).st_mode) == 0o600,
                 "the rebuilt cache is written 0600")
        left = [x for x in os.listdir(node.dir) if ".matcher." in x]
        CK.check(not left, "no temporary files beside the store", repr(left))
        # the next start loads it, with nothing to add
        log3 = write_text(node.path("net3.log"), "2024-05-01T12:00:00Z startup 192.0.2.200\n")
        alerts3 = node.path("alerts3.jsonl")
        srv = watch(node, log3, alerts3)
        try:
            CK.check(wait_for(lambda: "matcher loaded from" in srv.log()),
                     "the next start loads the rebuilt cache", srv.log()[-600:])
            CK.check("with a delta of 0" in srv.log(), "... with nothing to add",
                     srv.log()[-600:])
            append(log3, "2024-05-01T12:00:01Z conn 192.0.2.9 -> 198.51.100.24",
                   "2024-05-01T12:00:02Z conn 192.0.2.9 -> 203.0.113.9")
            CK.check(wait_for(lambda: alerts_for(alerts3, new["id"])),
                     "alert from the loaded base")
            CK.check(not alerts_for(alerts3, gone["id"]), "the revoked indicator stays quiet")
        finally:
            srv.stop()
        expiry_part(node, cache)
        # scan agrees with a fresh build on what the watcher wrote
        fresh = node.run("scan", "--no-sightings", "--no-cache", log)
        cached = node.run("scan", "--no-sightings", log)
        CK.check(fresh.code == 0 and cached.out == fresh.out and fresh.out,
                 "scan with the watcher's base gives the fresh build's hits",
                 fresh.err[-300:] + cached.err[-300:])
        CK.check("loaded from the matcher cache" in cached.err, "scan loads the watcher's base",
                 cached.err[-300:])
    CK.finish()


if __name__ == "__main__":
    main()
