#!/usr/bin/env python3
"""Live watch (`schakel serve --watch`) with hashed indicators
(docs/private-matching.md): an address in a log line written after the
watcher started is alerted when it is in a hashed indicator under a key the
node holds, also for an indicator (and a rotated key) that arrived while the
node runs; a hashed indicator under a key not held is reported as not
matched and alerts nothing."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklib import Results, read_jsonl, wait_for, write_text  # noqa: E402
from sync_util import collection, make_node  # noqa: E402


def main():
    r = Results()
    b = make_node("b")
    collection(b, "leak")
    kid1 = b.run("hashkey", "create", "leak", check=True).out.strip()

    def hashed(*values):
        p = b.path("values.txt")
        write_text(p, "\n".join(values) + "\n")
        return b.run("indicator", "hash", "--collection", "leak", "--type", "email",
                     "--input", p, check=True).out.strip()

    first = hashed("Alice@example.org", "bob@example.org")
    # a hashed indicator under a key this node does not hold (its line taken out)
    collection(b, "other")
    kid_o = b.run("hashkey", "create", "other", check=True).out.strip()
    p = b.path("other.txt")
    write_text(p, "frank@example.org\n")
    other = b.run("indicator", "hash", "--collection", "other", "--type", "email", "--input", p,
                  check=True).out.strip()
    keys = b.db + ".hashkeys"
    kept = [ln for ln in open(keys).read().splitlines() if not ln.startswith(kid_o)]
    write_text(keys, "\n".join(kept) + "\n")
    log = write_text(b.path("mail.log"), "2026-12-07T10:00:00Z startup\n")
    alerts = b.path("alerts.jsonl")
    srv = b.serve("--no-access-log", "--watch", log, "--watch-format", "text",
                  "--alerts", alerts, "--lookback", "1h")
    try:
        if not r.check(srv.url, "server started"):
            return r.finish()

        def alert_for(iid):
            return [a for a in read_jsonl(alerts) if a.get("indicator", {}).get("id") == iid]

        with open(log, "a") as f:
            f.write("2026-12-07T10:00:01Z login for alice@EXAMPLE.org from 198.51.100.4\n")
        got = wait_for(lambda: alert_for(first))
        if r.check(got, "a leaked address in a new line is alerted"):
            r.check(got[0]["line"] == 2 and got[0]["value"].lower() == "alice@example.org",
                    f"the alert names the line and the log's value ({got[0]})")

        # an indicator made while the node runs, under a rotated key
        kid2 = b.run("hashkey", "rotate", "leak", check=True).out.strip()
        r.check(kid2 != kid1, "rotated")
        second = hashed("erin@example.org")
        with open(log, "a") as f:
            f.write("2026-12-07T10:00:05Z login for erin@example.org from 198.51.100.5\n")
        got = wait_for(lambda: alert_for(second))
        r.check(got and got[0]["line"] == 3,
                f"an indicator under the new key, arrived live, is alerted ({got})")
        with open(log, "a") as f:
            f.write("2026-12-07T10:00:06Z login for bob@example.org from 198.51.100.6\n")
        r.check(wait_for(lambda: [a for a in alert_for(first) if a["line"] == 4]),
                "the old key's indicator still matches after the rotation")

        with open(log, "a") as f:
            f.write("2026-12-07T10:00:07Z login for frank@example.org from 198.51.100.7\n")
        r.check(wait_for(lambda: [ln for ln in srv.log().splitlines()
                                  if other in ln and "does not hold" in ln]),
                "a hashed indicator under a key not held is reported as not matched")
        with open(log, "a") as f:
            f.write("2026-12-07T10:00:08Z login for alice@example.org again\n")
        wait_for(lambda: [a for a in alert_for(first) if a["line"] == 6])
        r.check(not alert_for(other), "and alerts nothing")
    finally:
        srv.stop()

    # a restart loads the matcher cache's base, which holds no hashed indicator: they
    # are loaded beside it
    alerts2 = b.path("alerts2.jsonl")
    srv = b.serve("--no-access-log", "--watch", log, "--watch-format", "text",
                  "--alerts", alerts2)
    try:
        r.check(wait_for(lambda: "matcher loaded from" in srv.log()),
                "the restart loads the matcher cache", srv.log()[-600:])
        with open(log, "a") as f:
            f.write("2026-12-07T10:00:09Z login for bob@example.org after the restart\n"
                    "2026-12-07T10:00:10Z login for erin@example.org after the restart\n")
        got = wait_for(lambda: {a["indicator"]["id"] for a in read_jsonl(alerts2)
                                if a.get("indicator", {}).get("id") in (first, second)}
                       == {first, second} or None)
        r.check(got, "after the restart, both hashed indicators alert (base and since)",
                str(read_jsonl(alerts2))[-600:])
    finally:
        srv.stop()
    r.finish()


if __name__ == "__main__":
    main()
