#!/usr/bin/env python3
"""Time-to-detection bench (bench/ttd.sh): node A pushes to node B over
TAXII on loopback (peer --push --interval 1); B serves with --watch on a log
and --lookback.  Each trial publishes a fresh indicator at A (POST to A's
own TAXII server, into the collection pushed to B), appends a line with the
indicator's address to B's log at once, and waits for B's alert; the figure
is publication (just before the POST) -> alert_time at B.
usage: ttd_bench.py BIN [TRIALS]"""
import json
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from taxii_util import TAXII, bearer  # noqa: E402
import sync_util  # noqa: E402
from sync_util import add_peer, collection, grant, make_node  # noqa: E402


def ts_us(s):
    # "YYYY-MM-DDTHH:MM:SS.ffffffZ" -> µs since the epoch
    import datetime
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1e6)


def main():
    os.environ["SCHAKEL_BIN"] = os.path.abspath(sys.argv[1])
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    a, b = make_node("a"), make_node("b")
    pub = type("C", (), {"name": "pub", "ident": f"identity--{uuid.uuid4()}"})()
    collection(a, "share")
    collection(b, "inbox")
    tok_b = grant(b, a, "inbox", read=True, write=True)   # A may write into B's inbox
    tok_a = grant(a, pub, "share", read=True, write=True)  # the publisher posts into A
    log = os.path.join(b.dir, "net.log")
    alerts = os.path.join(b.dir, "alerts.jsonl")
    open(log, "w").close()
    pb = b.start("--no-access-log", "--watch", log, "--watch-format", "text",
                 "--alerts", alerts, "--no-alerts-stdout", "--lookback", "10m", err="serve.err")
    add_peer(a, b, tok_b, "inbox", "share", pull=False, push=True, reshare=True)
    pa = a.start("--no-access-log", err="serve.err")
    delays, here = [], []
    seen = 0
    try:
        for i in range(trials):
            ip = f"198.51.100.{i % 250}" if i < 250 else f"203.0.113.{i % 250}"
            iid = f"indicator--{uuid.uuid4()}"
            o = {"type": "indicator", "spec_version": "2.1", "id": iid,
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "pattern": f"[ipv4-addr:value = '{ip}']", "pattern_type": "stix",
                 "valid_from": "2024-01-01T00:00:00Z", "created_by_ref": pub.ident,
                 "object_marking_refs": [sync_util.TLP["green"]]}
            t0 = int(time.time() * 1e6)
            st, _, _ = a.request("POST", "/api/collections/share/objects/", auth=bearer(tok_a),
                                 headers={"Content-Type": TAXII}, body={"objects": [o]})
            if st != 202:
                raise RuntimeError(f"POST to A: {st}")
            with open(log, "a") as f:
                f.write(f"2024-05-01T10:00:00Z trial {i} conn to {ip}\n")
            end = time.time() + 30
            hit = None
            while time.time() < end and not hit:
                with open(alerts) as f:
                    lines = f.read().split("\n")[:-1]  # complete lines only
                for line in lines[seen:]:
                    j = json.loads(line)
                    if j["indicator"]["id"] == iid:
                        hit = j
                if not hit:
                    time.sleep(0.005)
            if not hit:
                print(f"trial {i}: no alert within 30 s")
                continue
            seen = len(lines)
            delays.append((ts_us(hit["alert_time"]) - t0) / 1e6)
            here.append(hit["detection_delay_ms"] / 1e3)
            time.sleep(0.05)
    finally:
        for srv in (pa, pb):
            srv.stop()
    delays.sort()
    n = len(delays)
    if n:
        p50 = delays[(n - 1) // 2]
        p99 = delays[min(n - 1, int(round((n - 1) * 0.99)))]
        print(f"trials {trials}, alerted {n}: p50 {p50:.3f} s, p99 {p99:.3f} s, "
              f"min {delays[0]:.3f} s, max {delays[-1]:.3f} s, mean {sum(delays)/n:.3f} s")
        here.sort()
        print(f"of which arrival at B -> alert (detection_delay_ms): p50 {here[(n - 1) // 2]:.3f} s, "
              f"p99 {here[min(n - 1, int(round((n - 1) * 0.99)))]:.3f} s")
    if n < trials:
        for node in (a, b):
            print(f"--- {node.name} stderr:")
            print(open(node.path("serve.err")).read()[-2000:])
            print(node.run("peer", "status", check=False).stdout)
    a.cleanup()
    b.cleanup()
    return 0 if n == trials else 1


if __name__ == "__main__":
    sys.exit(main())
