#!/usr/bin/env python3
"""Fleet bench (bench/fleet.sh): a hub, SENSORS sensors and one TAXII node
polling the hub (peer --pull --interval 1, the smallest interval; the
default is 30 s), all on loopback with one nats-server -js.

1. latency: TRIALS times, a fresh TLP:GREEN indicator is POSTed to the hub's
   own TAXII server into its fleet collection and a log line with its
   address appended to the watched logs of sensor s0 and of the polling
   node; the figure is the POST -> the alert's alert_time (same clock);
2. throughput: INDICATORS indicators imported at the hub; time until each
   sensor (and the polling node) holds them all;
3. sightings: SIGHTINGS sightings made at the sensors (imported there as
   their own); time until the hub holds them all, beside the hub's plain
   `schakel import` of the same sightings into a fresh node.
usage: fleet_bench.py BIN INDICATORS SENSORS TRIALS SIGHTINGS"""
import json
import os
import resource
import signal
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from fleet_util import Nats, count  # noqa: E402
from sklib import Node, wait_for  # noqa: E402
from taxii_util import TAXII, bearer  # noqa: E402
import sync_util  # noqa: E402
sys.path.insert(0, HERE)
from ttd_bench import ts_us  # noqa: E402
from sync_util import add_peer, grant, make_node  # noqa: E402


def cpu_s(pid):
    """CPU seconds (user + system) a process has used so far, all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round((len(v) - 1) * p)))] if v else float("nan")


def ind(producer, ip=None):
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '{ip or '198.51.100.1'}']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z", "created_by_ref": producer,
            "object_marking_refs": [sync_util.TLP["green"]]}


def write_bundle(path, objs):
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, f)


def wait_alert(path, iid, seen, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(path) as f:
                lines = f.read().split("\n")[:-1]
        except OSError:
            lines = []
        for line in lines[seen[0]:]:
            j = json.loads(line)
            if j["indicator"]["id"] == iid:
                seen[0] = len(lines)
                return j
        time.sleep(0.002)
    return None


def throughput(hub, sensors, poller, n_ind, n_sens):
    objs = [ind(hub.ident, f"198.51.100.{i % 250}") for i in range(n_ind)]
    path = hub.path("bulk.json")
    write_bundle(path, objs)
    base = [count(s, "SELECT COUNT(*) FROM objects WHERE type='indicator'") for s in sensors]
    base_p = count(poller, "SELECT COUNT(*) FROM objects WHERE type='indicator'")
    t0 = time.time()
    hub.run("import", "--quiet", "--collection", "ind", path, check=True)
    t_imp = time.time() - t0
    done = {}
    while len(done) < n_sens + 1 and time.time() - t0 < 3600:
        for i, s in enumerate(sensors):
            if i not in done and count(s, "SELECT COUNT(*) FROM objects WHERE type="
                                       "'indicator'") >= base[i] + n_ind:
                done[i] = time.time() - t0
        if "taxii" not in done and poller.server.proc.poll() is not None:
            done["taxii"] = None
            print(f"  (the polling node exited: {poller.server.log()[-300:]!r})")
        if "taxii" not in done and count(poller, "SELECT COUNT(*) FROM objects WHERE "
                                         "type='indicator'") >= base_p + n_ind:
            done["taxii"] = time.time() - t0
        time.sleep(0.05)
    sens = [done[i] for i in range(n_sens) if i in done]
    print(f"{n_ind} indicators hub -> {n_sens} sensors (hub import itself {t_imp:.2f} s, "
          f"{n_ind / t_imp:.0f}/s):")
    if sens:
        print(f"  fleet: last sensor holds all after {max(sens):.2f} s; per sensor "
              f"{n_ind / max(sens):.0f} to {n_ind / min(sens):.0f} objects/s")
    if os.environ.get("SK_FLEET_PROFILE") == "1":  # the sensors' own account of their time
        time.sleep(1)  # an idle sensor prints its totals
        for i, s in enumerate(sensors):
            lines = [ln for ln in open(s.path("serve.err"), errors="replace")
                     if "fleet: profile" in ln]
            if lines:
                print("  " + lines[-1].strip().split("fleet: ", 1)[1])
    if done.get("taxii"):
        print(f"  TAXII poll (1 s): the polling node holds all after {done['taxii']:.2f} s "
              f"({n_ind / done['taxii']:.0f} objects/s)")
    return objs


def main():
    os.environ["SCHAKEL_BIN"] = os.path.abspath(sys.argv[1])
    n_ind, n_sens, trials, n_sight = (int(a) for a in sys.argv[2:6])
    parts = os.environ.get("FLEET_PARTS", "latency,throughput,sightings").split(",")
    # every sensor of the bench shares this machine's cores: one signature
    # verifier thread each unless there are cores to spare (SK_FLEET_VERIFIERS)
    os.environ.setdefault("SK_FLEET_VERIFIERS", str(max(1, (os.cpu_count() or 1) // n_sens)))
    hub = make_node("hub")
    hub.partner("water")
    hub.run("collection", "add", "ind", "--fleet", "--alias", "ind", check=True)
    hub.grant("water", "ind", "--read")
    authz = hub.path("authz.conf")
    for i in range(n_sens):
        hub.run("fleet", "sensor", "add", f"s{i}", "--partner", "water", "--seed-out",
                hub.path(f"s{i}.cred"), "--authz", authz, check=True)
    nats = Nats(hub.path("nats"), authz)
    pub = type("C", (), {"name": "pub", "ident": f"identity--{uuid.uuid4()}"})()
    tok_pub = grant(hub, pub, "ind", read=True, write=True)
    poller = make_node("poller")
    sync_util.collection(poller, "inbox")
    tok_poll = grant(hub, poller, "ind", read=True)
    hub_srv = hub.start("--no-access-log", "--no-sync", "--fleet", nats.url, err="hub.err")
    sensors = []
    for i in range(n_sens):
        s = Node(name=f"sensor {i}")
        open(s.path("net.log"), "w").close()
        watch = ("--watch", s.path("net.log"), "--watch-format", "text", "--alerts",
                 s.path("alerts.jsonl"), "--no-alerts-stdout", "--lookback", "10m")
        s.start("--no-access-log", "--no-sync", "--no-ui", "--fleet-sensor", nats.url,
                "--fleet-seed", hub.path(f"s{i}.cred"),
                *(watch if i == 0 or os.environ.get("FLEET_WATCH", "1") != "0" else ()),
                err="serve.err")
        sensors.append(s)
    open(poller.path("net.log"), "w").close()
    add_peer(poller, hub, tok_poll, "ind", "inbox", pull=True)
    poller.start("--no-access-log", "--no-ui", "--watch", poller.path("net.log"),
                 "--watch-format", "text", "--alerts", poller.path("alerts.jsonl"),
                 "--no-alerts-stdout", "--lookback", "10m", err="serve.err")
    s0 = sensors[0]
    try:
        # 1. latency
        fl, tx = [], []
        objs = []
        if "latency" not in parts:
            trials = 0
        seen_f, seen_t = [0], [0]
        for i in range(trials):
            ip = f"203.0.113.{i % 250}"
            o = ind(pub.ident, ip)  # a partner publishing through the hub
            t0 = int(time.time() * 1e6)
            st, _, _ = hub.request("POST", "/api/collections/ind/objects/", auth=bearer(tok_pub),
                                   headers={"Content-Type": TAXII}, body={"objects": [o]})
            if st != 202:
                raise RuntimeError(f"POST to the hub: {st}")
            for node in (s0, poller):
                with open(node.path("net.log"), "a") as f:
                    f.write(f"2024-05-01T10:00:00Z trial {i} conn to {ip}\n")
            a = wait_alert(s0.path("alerts.jsonl"), o["id"], seen_f)
            b = wait_alert(poller.path("alerts.jsonl"), o["id"], seen_t)
            if a:
                fl.append((ts_us(a["alert_time"]) - t0) / 1e6)
            if b:
                tx.append((ts_us(b["alert_time"]) - t0) / 1e6)
        print(f"publication -> alert, {trials} trials:")
        print(f"  fleet (NATS JetStream)   alerted {len(fl)}: p50 {pct(fl, .5)*1000:.1f} ms, "
              f"p99 {pct(fl, .99)*1000:.1f} ms, max {max(fl or [0])*1000:.1f} ms")
        print(f"  TAXII poll every 1 s     alerted {len(tx)}: p50 {pct(tx, .5)*1000:.1f} ms, "
              f"p99 {pct(tx, .99)*1000:.1f} ms (at the default 30 s interval: 15 s mean)")
        if fl and tx:
            print(f"  ratio p50 TAXII/fleet: {pct(tx, .5)/pct(fl, .5):.1f}x")
        if "throughput" in parts:
            objs = throughput(hub, sensors, poller, n_ind, n_sens)

        # 3. sightings into the hub: the sensors publish them while the hub
        # is stopped; the hub's rate is how fast it then drains the
        # sightings stream into its store (first stored -> last stored)
        if "sightings" not in parts:
            return 0
        per = max(1, n_sight // n_sens)
        allsight = []
        ref = objs[0]["id"] if objs else f"indicator--{uuid.uuid4()}"
        hub_srv.stop()
        for i, s in enumerate(sensors):
            me = s.identity()
            sg = [{"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                   "created": "2024-05-01T10:00:00.000Z", "modified": "2024-05-01T10:00:00.000Z",
                   "sighting_of_ref": (objs[k % len(objs)]["id"] if objs else ref),
                   "created_by_ref": me, "count": 1} for k in range(per)]
            allsight += sg
            write_bundle(s.path("sight.json"), sg)
        hb = count(hub, "SELECT COUNT(*) FROM objects WHERE type='sighting'")
        t0 = time.time()
        for s in sensors:
            s.run("import", "--quiet", s.path("sight.json"), check=True)

        def published(s):
            return count(s, "SELECT COUNT(*) FROM objects WHERE type='sighting' AND rx IS NULL"
                         " AND ver <= COALESCE((SELECT value FROM meta"
                         " WHERE key='fleet.sight_cursor'), 0)")
        wait_for(lambda: all(published(s) >= per for s in sensors), timeout=3600, step=0.05)
        t_sens = time.time() - t0
        hub_srv = hub.start("--no-access-log", "--no-sync", "--fleet", nats.url, err="hub2.err")
        perf = None
        if os.environ.get("FLEET_PERF"):  # a profile of the hub while it drains
            perf = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "999",
                                     "-o", os.environ["FLEET_PERF"], "-p", str(hub_srv.proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: count(hub, "SELECT COUNT(*) FROM objects WHERE type='sighting'") > hb,
                 timeout=600, step=0.002)
        t1 = time.time()
        c1 = cpu_s(hub_srv.proc.pid)
        got = wait_for(lambda: count(hub, "SELECT COUNT(*) FROM objects WHERE type='sighting'")
                       >= hb + len(allsight), timeout=3600, step=0.02)
        t_s = time.time() - t1
        c_s = cpu_s(hub_srv.proc.pid) - c1
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        plain = Node(name="plain")
        write_bundle(plain.path("sight.json"), allsight)
        t1 = time.time()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        plain.run("import", "--quiet", plain.path("sight.json"), check=True)
        t_plain = time.time() - t1
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c_plain = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        print(f"{len(allsight)} sightings from {n_sens} sensors into the hub"
              f"{'' if got else ' (INCOMPLETE)'}: the hub stores {len(allsight) / t_s:.0f}/s "
              f"from the sightings stream ({t_s:.2f} s); the hub's plain import of the same: "
              f"{len(allsight) / t_plain:.0f}/s (ratio {t_plain / t_s:.2f}); the sensors "
              f"imported and published them in {t_sens:.2f} s")
        # the same per CPU second used (all threads), less at the mercy of the load
        print(f"  per CPU second: the hub {len(allsight) / max(c_s, 1e-9):.0f}/s "
              f"({c_s:.2f} s CPU while draining, all its threads), the plain import "
              f"{len(allsight) / max(c_plain, 1e-9):.0f}/s ({c_plain:.2f} s CPU); "
              f"load average {os.getloadavg()[0]:.1f}")
        plain.cleanup()
    finally:
        for s in sensors:
            s.cleanup()
        poller.cleanup()
        hub_srv.stop()
        nats.stop()
        hub.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
