"""A slow or dead peer must not hold up anything else in a running `schakel
serve` (docs/sync.md, "Hostile peers": one thread per peer).

Node B serves with --watch and two pull peers at a 1 s interval: GOOD, a
real node that publishes indicators, and SLOW, a stdlib HTTP server on
127.0.0.1 that answers 200 with a large Content-Length and then trickles two
bytes a second (fast enough for the client's low-speed limit, so only the
300 s total timeout would end it).  While one SLOW transfer stays in flight:
(a) B keeps pulling GOOD on schedule and stores what it publishes, (b) B's
own TAXII endpoints answer, (c) a log line matching a GOOD indicator is
alerted.  Then SLOW falls silent: (d) the low-speed limit ends the transfer
and the failure shows in `peer status` and /metrics while GOOD stays
healthy.  SLOW trickles again and (e) SIGTERM stops B with that transfer in
flight: B exits 0 well before the transfer's own 300 s timeout, closing the
connection.  Every wait is a generous "eventually"; no timing thresholds."""
import http.server
import os
import select
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import HttpServer, Results, read_jsonl, wait_for, write_text  # noqa: E402
from taxii_util import TAXII, bearer  # noqa: E402
from sync_util import (add_peer, collection, grant, ids_in, import_objects,  # noqa: E402
                       indicator, make_node)

FAIL_WAIT = 180.0  # the low-speed limit is 30 s; leave room for a loaded machine


# --- the slow peer ---------------------------------------------------------------------

class Slow:
    """Shared state of the slow server: its mode and every connection seen."""
    lock = threading.Lock()
    mode = "trickle"  # trickle: 2 bytes/s; silent: nothing
    conns = []        # dicts: id, open, start, sent (bytes trickled)
    stop = threading.Event()

    @classmethod
    def open_conns(cls):
        with cls.lock:
            return [c for c in cls.conns if c["open"]]

    @classmethod
    def conn(cls, cid):
        with cls.lock:
            return dict(cls.conns[cid])


class SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def peer_closed(self):
        r, _, _ = select.select([self.connection], [], [], 0)
        if not r:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_GET(self):
        with Slow.lock:
            me = {"id": len(Slow.conns), "open": True, "start": time.time(), "sent": 0}
            Slow.conns.append(me)
        try:
            self.send_response(200)
            self.send_header("Content-Type", TAXII)
            self.send_header("Content-Length", str(10_000_000))
            self.end_headers()
            self.wfile.write(b'{"objects":[')
            self.wfile.flush()
            while not Slow.stop.is_set() and not self.peer_closed():
                if Slow.mode == "trickle":
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    me["sent"] += 1
                Slow.stop.wait(0.5)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            with Slow.lock:
                me["open"] = False
        self.close_connection = True


# --- B --------------------------------------------------------------------------------

def metrics(b):
    try:
        st, _, data = b.request("GET", "/metrics", accept=None)
    except OSError:
        return {}
    if st != 200:
        return {}
    out = {}
    for line in data.decode().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def status_line(b, peer):
    st = b.run("peer", "status", check=False).stdout
    for line in st.splitlines():
        if line.startswith(peer + ":"):
            return line
    return ""


def main():
    R = Results()
    with make_node("A") as a, make_node("B") as b, HttpServer(SlowHandler) as slow:
        try:
            run(a, b, slow, R)
        finally:
            Slow.stop.set()
            if b.server:  # still up after a failure: no clean stop to wait for
                b.server.kill()
            if R.failed or os.environ.get("SK_VERBOSE"):
                try:
                    with open(b.path("serve.err")) as f:
                        print("--- B's stderr (last 40 lines)")
                        print("".join(f.readlines()[-40:]), end="")
                except OSError:
                    pass
    R.finish()


def run(a, b, slow, R):
    collection(a, "share")
    collection(b, "inbox")
    a.start("--no-sync")
    tok = grant(a, b, "share", read=True)
    add_peer(b, a, tok, "share", "inbox", name="GOOD")
    b.run("peer", "add", "SLOW", slow.url, "--api-root", "/api/", "--collection", "c1",
          "--pull", "--interval", "1", "--local-collection", "inbox")
    reader = type("C", (), {"name": "reader", "ident": f"identity--{uuid.uuid4()}"})()
    rtok = grant(b, reader, "inbox", read=True)

    log = write_text(b.path("net.log"), "2024-05-01T10:00:00Z startup 192.0.2.1\n")
    alerts = b.path("alerts.jsonl")
    srv = b.serve("--metrics", "--no-access-log", "--watch", log, "--watch-format", "text",
                  "--alerts", alerts, "--no-alerts-stdout")
    if not R.check(srv.url, "B started"):
        return

    # --- SLOW hangs: one transfer stays in flight through (a)-(c) -------------------------
    got = wait_for(Slow.open_conns)
    if not R.check(got, "B's scheduler connected to SLOW and is stuck in a transfer"):
        return
    stuck = got[0]["id"]

    def still_stuck(what):
        R.check(Slow.conn(stuck)["open"], f"SLOW's first transfer still in flight after {what}")

    # (a) GOOD on schedule: several syncs, and what A publishes arrives, twice over
    key = 'schakel_sync_requests_total{peer="GOOD"}'
    r0 = metrics(b).get(key, 0)
    R.check(wait_for(lambda: metrics(b).get(key, 0) >= r0 + 3),
            f"GOOD is synced again and again ({r0} -> {metrics(b).get(key)} requests)")
    batches = []
    for n in range(2):
        batch = [indicator(a.ident, "green") for _ in range(5)]
        batches.append(batch)
        import_objects(a, batch, "share")
        want = {o["id"] for o in batch}
        R.check(wait_for(lambda: want <= {o["id"] for o in ids_in(b, "inbox")}),
                f"batch {n + 1} published at GOOD is pulled into B")
    still_stuck("GOOD's pulls")

    # (b) B's own TAXII server answers
    st, _, j = b.get_json("/taxii2/", bearer(rtok))
    R.check(st == 200 and j and "api_roots" in j, f"discovery answers ({st})")
    st, _, j = b.get_json("/api/collections/", bearer(rtok))
    R.check(st == 200 and j and any(c.get("alias") == "inbox" or c.get("id") == "inbox"
                                     for c in j.get("collections", [])),
            f"collections answers with B's collection ({st}: {j})")
    st, _, j = b.get_json("/api/collections/inbox/objects/?limit=1000", bearer(rtok))
    served = {o["id"] for o in (j or {}).get("objects", [])}
    R.check(st == 200 and {o["id"] for o in batches[0]} <= served,
            f"B serves what it pulled from GOOD ({st}, {len(served)} objects)")
    still_stuck("the TAXII requests")

    # (c) detection: once GOOD's indicators are live in the matcher, a log line
    # with one of their values is alerted (traffic from before an indicator
    # arrived is --lookback's business, not tested here)
    live = wait_for(lambda: metrics(b).get("schakel_matcher_entries", 0) >= 10)
    R.check(live, f"GOOD's indicators are live in B's matcher "
            f"({metrics(b).get('schakel_matcher_entries')})")
    target = batches[1][0]
    value = target["pattern"].split("'")[1]
    with open(log, "a") as f:
        f.write(f"2024-05-01T10:00:05Z conn 192.0.2.9 -> {value} port 443\n")
    hit = wait_for(lambda: [x for x in read_jsonl(alerts)
                            if x.get("indicator", {}).get("id") == target["id"]])
    R.check(hit, f"the log line with {value} is alerted while SLOW hangs")
    still_stuck("the alert")
    R.check("failures 0" in status_line(b, "SLOW"),
            f"SLOW has not failed yet: {status_line(b, 'SLOW')!r}")

    # --- (d) SLOW falls silent: the low-speed limit ends it; status and metrics show it --
    Slow.mode = "silent"
    def slow_failed():
        ln = status_line(b, "SLOW")
        return ln if "failures 0" not in ln and "last error" in ln else None

    line = wait_for(slow_failed, timeout=FAIL_WAIT, step=0.5)
    R.check(line, f"SLOW's failure shows in peer status: {line!r}")
    R.check(line and ("too slow" in line.lower() or "timeout" in line.lower()),
            "the error says the transfer was too slow")
    R.check(not Slow.conn(stuck)["open"] or wait_for(lambda: not Slow.conn(stuck)["open"]),
            "B closed the stalled connection")
    m = metrics(b)
    fs, fg = (m.get(f'schakel_sync_failures{{peer="{p}"}}') for p in ("SLOW", "GOOD"))
    R.check(fs is not None and fs >= 1, f"/metrics shows SLOW's failures ({fs})")
    R.check(fg == 0, f"/metrics: GOOD has no failures ({fg})")
    good = status_line(b, "GOOD")
    R.check("failures 0" in good and "last ok never" not in good, f"GOOD healthy: {good!r}")
    batch = [indicator(a.ident, "green") for _ in range(3)]
    import_objects(a, batch, "share")
    want = {o["id"] for o in batch}
    R.check(wait_for(lambda: want <= {o["id"] for o in ids_in(b, "inbox")}),
            "GOOD still pulled after SLOW's failure")

    # --- (e) SIGTERM with a stalled transfer in flight ------------------------------------
    Slow.mode = "trickle"
    # the retry may have started while SLOW was silent; it trickles from now on too
    new = wait_for(lambda: [c for c in Slow.open_conns() if c["id"] != stuck],
                   timeout=FAIL_WAIT)
    if not R.check(new, "B retried SLOW (backed off) and is stuck again"):
        print("conns:", Slow.conns, "now", time.time())
        print(status_line(b, "SLOW"))
        print(srv.log()[-3000:])
        return
    wait_for(lambda: Slow.conn(new[0]["id"])["sent"] >= 2)  # it settled into the trickle
    fails_before = status_line(b, "SLOW")
    rc = srv.stop(timeout=90)  # SIGTERM; the stalled transfer alone would last up to 300 s
    R.check(rc == 0, f"B exits 0 on SIGTERM with a stalled transfer in flight ({rc})")
    R.check(wait_for(lambda: not Slow.conn(new[0]["id"])["open"], timeout=10),
            "the stalled connection was closed")
    R.check("SIGTERM, shutting down" in srv.log(), "B logged the shutdown")
    R.check(status_line(b, "SLOW").split(", last error")[0] == fails_before.split(
        ", last error")[0], "a transfer stopped by shutdown is not counted as a failure")
    R.check(b.run("stats", check=False).returncode == 0, "B's store is intact")


if __name__ == "__main__":
    main()
