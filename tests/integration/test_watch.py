#!/usr/bin/env python3
"""Live watch (`schakel serve --watch`): indicators POSTed to a running node
are matched against log lines written after they arrive (alerts file,
stdout, webhook), an indicator arriving after its traffic is found by
--lookback, sightings are recorded and /metrics has the detection metrics.
Every wait is bounded; no timing thresholds."""
import http.server
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import HttpServer, Results, read_jsonl, wait_for, write_json, write_text  # noqa: E402
from taxii_util import TAXII, bearer  # noqa: E402
from sync_util import collection, grant, make_node, sql  # noqa: E402


class Hook(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        try:
            Hook.got.append(json.loads(body))
        except ValueError:
            Hook.got.append(None)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def ind(value, name):
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": name, "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z"}


def main():
    r = Results()
    b = make_node("b")
    client = type("C", (), {"name": "feeder", "ident": f"identity--{uuid.uuid4()}"})()
    collection(b, "intel")
    tok = grant(b, client, "intel", read=True, write=True)
    log = write_text(b.path("net.log"), "2024-05-01T10:00:00Z startup 192.0.2.1\n")
    alerts = b.path("alerts.jsonl")
    # a warning list (loaded when the watcher starts): its values are not matched
    wl = os.path.join(b.dir, "lists", "watch-test")
    os.makedirs(wl)
    write_json(os.path.join(wl, "list.json"),
               {"name": "Watch test resolvers", "version": 1, "type": "cidr",
                "description": "test", "list": ["192.0.2.77"],
                "matching_attributes": ["ip-dst"]})
    b.run("warninglist", "import", os.path.join(b.dir, "lists"))

    hook = HttpServer(Hook)
    srv = b.serve("--metrics", "--no-access-log", "--watch", log, "--watch-format", "text",
                  "--alerts", alerts, "--webhook", hook.url + "alert", "--lookback", "1h")
    out_path = srv.out_path
    try:
        if not r.check(srv.url, "server started"):
            return r.finish()

        def post(obj):
            env = {"objects": [obj]}
            st, _, _ = b.request("POST", "/api/collections/intel/objects/", auth=bearer(tok),
                                 headers={"Content-Type": TAXII}, body=env)
            return st

        def metric(name):
            st, _, data = b.request("GET", "/metrics", accept=None)
            if st != 200:
                return None
            for line in data.decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return float(line.split()[-1])
            return None

        # traffic first, indicator later: only --lookback can find it
        with open(log, "a") as f:
            f.write("2024-05-01T10:00:01Z early contact with 203.0.113.77\n")
        wait_for(lambda: (metric("schakel_watch_records_total") or 0) >= 2)

        live = ind("198.51.100.23", "live test indicator")
        r.check(post(live) == 202, "indicator POSTed to the running node")
        r.check(wait_for(lambda: (metric("schakel_matcher_entries") or 0) >= 1),
                "the new indicator is live without a restart")
        with open(log, "a") as f:
            f.write("2024-05-01T10:00:02Z conn 192.0.2.9 -> 198.51.100.23 port 443\n")

        def alert_for(path, iid):
            return [a for a in read_jsonl(path) if a.get("indicator", {}).get("id") == iid]

        got = wait_for(lambda: alert_for(alerts, live["id"]))
        if r.check(got, "a line written after the indicator arrived is alerted (file)"):
            a = got[0]
            r.check(a["value"] == "198.51.100.23" and a["kind"] == "ipv4", "alert value")
            r.check(a["line"] == 3 and a["file"] == log, "alert line and file")
            r.check(a["lookback"] is False, "live alert is not a lookback alert")
            r.check(isinstance(a.get("detection_delay_ms"), int) and a["detection_delay_ms"] >= 0,
                    "detection_delay_ms present")
            r.check(a.get("alert_time", "").endswith("Z"), "alert_time present")
            r.check(a["indicator"]["name"] == "live test indicator", "indicator metadata")
            r.check(a["records"] == [{"file": log, "line": 3}], "records")
        r.check(wait_for(lambda: alert_for(out_path, live["id"])), "alert on stdout")
        r.check(wait_for(lambda: [h for h in Hook.got if h and
                                  h.get("indicator", {}).get("id") == live["id"]]),
                "webhook received the alert")

        late = ind("203.0.113.77", "late indicator")
        r.check(post(late) == 202, "late indicator POSTed")
        got = wait_for(lambda: alert_for(alerts, late["id"]))
        if r.check(got, "--lookback finds traffic seen before the indicator arrived"):
            r.check(got[0]["lookback"] is True and got[0]["line"] == 2, "lookback alert marked")
        r.check(len(alert_for(alerts, live["id"])) == 1, "no duplicate alert")

        # an indicator on a warning list is left out, as by `scan`
        listed = ind("192.0.2.77", "listed indicator")
        r.check(post(listed) == 202, "warning-listed indicator POSTed")
        r.check(wait_for(lambda: [ln for ln in srv.log().splitlines()
                                  if listed["id"] in ln and "warning list" in ln]),
                "the watcher reports the warning-listed indicator as not matched")

        # an unrelated record and one with the listed value do not alert
        with open(log, "a") as f:
            f.write("2024-05-01T10:00:03Z conn 192.0.2.10 -> 198.51.100.99\n")
            f.write("2024-05-01T10:00:04Z conn 192.0.2.77 -> 198.51.100.98\n")
        wait_for(lambda: (metric("schakel_watch_records_total") or 0) >= 5)
        r.check(len(read_jsonl(alerts)) == 2, "exactly two alerts")

        r.check((metric("schakel_time_to_detection_seconds_count") or 0) >= 2,
                "time-to-detection in /metrics")
        r.check(metric("schakel_alerts_total") is not None, "alerts_total in /metrics")
        r.check((metric("schakel_matcher_rebuilds_total") or 0) >= 2, "rebuilds counted")
    finally:
        rc = srv.stop()
        hook.shutdown()
    r.check(rc == 0, f"server stopped cleanly (rc {rc})")
    n = sql(b, "SELECT count(*) FROM objects WHERE type='sighting' AND dst_ref IN "
               f"('{live['id']}', '{late['id']}')")
    r.check(n and n[0][0] >= 2, f"sightings recorded ({n})")
    # the log source read (docs/cooperation.md, capacity): written on stop, without its path
    srcs = sql(b, "SELECT kind, records FROM log_sources")
    r.check(srcs and srcs[0][0] == "text" and srcs[0][1] >= 5 and len(srcs) == 1,
            f"the watch recorded its log source: text, every record ({srcs})")
    # made by the node's sighting policy: named by the node (sightings.anonymous is off),
    # marked like the indicator (unmarked: the AMBER default of 'intel', made explicit),
    # in the indicator's collection, first seen when alerted (text records carry no time)
    rows = sql(b, "SELECT o.json FROM objects o JOIN collection_objects co ON co.ver=o.ver"
                  " JOIN collections c ON c.cid=co.coll WHERE o.type='sighting'"
                  f" AND c.name='intel' AND o.dst_ref='{live['id']}'")
    sg = json.loads(rows[0][0]) if rows else {}
    r.check(sg.get("created_by_ref") == b.ident and sg.get("where_sighted_refs") == [b.ident],
            f"sighting names the node ({sg})")
    r.check(sg.get("object_marking_refs") == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
            f"sighting marked like the indicator ({sg.get('object_marking_refs')})")
    r.check("first_seen" in sg and sg["first_seen"] <= sg.get("last_seen", ""),
            f"first_seen / last_seen: when the hits were alerted ({sg})")
    if r.failed:
        print(srv.log()[-3000:])
    b.cleanup()
    r.finish()


if __name__ == "__main__":
    main()
