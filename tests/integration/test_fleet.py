"""A sensor fleet on real nats-server processes with JetStream (docs/fleet.md):

- a hub and SK_FLEET_SENSORS sensors (default 10): an indicator published at
  the hub reaches every sensor of the audience and alerts on a sensor's live
  log; the sighting comes back into the hub's store;
- TLP on the bus: an AMBER indicator reaches only the audience allowed it; a
  sensor's NATS user can neither create a consumer on another audience's
  stream through the JetStream API nor subscribe to its subject (NATS
  permission errors);
- a forged object published straight onto the bus (with the hub's
  credential) is refused by the sensor's signature check;
- a sensor stopped for a while catches up with nothing lost or duplicated;
- kill -9 of the hub and of a sensor mid-stream: both resume exactly (the
  stream holds each version once, every sensor ends with all of them).

Skips when nats-server is not installed."""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from fleet_util import (NATS_SERVER, Nats, RawNats, count, has_object,  # noqa: E402
                        have_crypto, hub_seed, keypair, wait_log)
from sklib import Node, read_jsonl, skip_all, test_main, wait_for  # noqa: E402
from sync_util import TLP, import_objects, indicator  # noqa: E402

N = max(3, int(os.environ.get("SK_FLEET_SENSORS", "10")))


def main():
    if not NATS_SERVER:
        skip_all("nats-server is not installed (apt-get install nats-server)")
    hub = Node(name="Hub CERT")
    test_main(run, hub)


def sensor_args(url, cred, node):
    return ("--no-sync", "--no-ui", "--fleet-sensor", url, "--fleet-seed", cred,
            "--watch", node.path("eve.json"), "--alerts", node.path("alerts.jsonl"),
            "--no-alerts-stdout")


def status(hub, url):
    rows = {}
    for line in hub.run("fleet", "status", "--nats", url).out.splitlines():
        w = line.split()
        if len(w) > 10:
            rows[w[0]] = {"published": int(w[4]), "applied": int(w[6]), "lag": int(w[8]),
                          "sightings": int(w[10])}
    return rows


def run(hub, R):
    ident = hub.identity()
    hub.partner("water")
    hub.partner("grid")
    hub.run("collection", "add", "ind", "--fleet", "--default-tlp", "green", check=True)
    hub.grant("water", "ind", "--read")
    hub.grant("grid", "ind", "--read", "--amber")
    authz = hub.path("authz.conf")
    names = [f"s{i}" for i in range(N)]
    parts = {n: ("grid" if n == names[-1] else "water") for n in names}
    for n in names:
        hub.run("fleet", "sensor", "add", n, "--partner", parts[n], "--seed-out",
                hub.path(n + ".cred"), "--authz", authz, check=True)
    cred0 = open(hub.path("s0.cred")).read()
    R.check(oct(os.stat(hub.path("s0.cred")).st_mode & 0o777) == "0o600"
            and "seed SU" in cred0, "sensor add writes the credential 0600 with an SU seed")
    nats = Nats(hub.path("nats"), authz)
    hub_srv = hub.start("--no-sync", "--no-ui", "--fleet", nats.url, err="hub.err")
    sensors = {}
    for n in names:
        node = Node(name="sensor " + n)
        open(node.path("eve.json"), "w").close()
        node.cred = hub.path(n + ".cred")
        node.start(*sensor_args(nats.url, node.cred, node), err="sensor.err")
        sensors[n] = node
    s0, grid = sensors["s0"], sensors[names[-1]]
    R.check(wait_log(s0.server.err_path, "sensor s0 following water"),
            "the sensor's NKey is accepted by nats-server", s0.server.log()[-1500:])

    # an indicator published at the hub reaches every sensor and alerts live
    x = indicator(ident, "green")
    x["pattern"] = "[ipv4-addr:value = '203.0.113.77']"
    import_objects(hub, [x], "ind")
    got = wait_for(lambda: all(has_object(s, x["id"]) for s in sensors.values()))
    R.check(got, f"the indicator reaches all {N} sensors")
    R.check(count(s0, "SELECT sig FROM objects WHERE id=?", x["id"]) == 1,
            "its signature verifies at the sensor (the hub's key pinned from the credential)")
    with open(s0.path("eve.json"), "a") as f:
        f.write(json.dumps({"timestamp": "2026-12-07T10:00:00.000000+0000",
                            "event_type": "flow", "src_ip": "203.0.113.77",
                            "dest_ip": "192.0.2.10", "src_port": 5555, "dest_port": 443}) + "\n")
    alerts = wait_for(lambda: [a for a in read_jsonl(s0.path("alerts.jsonl"))
                               if a["indicator"]["id"] == x["id"]])
    R.check(alerts, "the sensor alerts on its live log")
    R.check(wait_for(lambda: count(hub, "SELECT COUNT(*) FROM objects WHERE type='sighting'"
                                   " AND json_extract(json, '$.sighting_of_ref')=?", x["id"])),
            "the sighting comes back into the hub's store")
    R.check(wait_for(lambda: status(hub, nats.url).get("s0", {}).get("sightings", 0) >= 1),
            "fleet status counts the sensor's sightings")

    # TLP on the bus: AMBER goes to the audience allowed it only
    a = indicator(ident, "amber")
    g = indicator(ident, "green")
    import_objects(hub, [a], "ind")
    import_objects(hub, [g], "ind")
    R.check(wait_for(lambda: has_object(grid, a["id"]) and has_object(s0, g["id"])),
            "the AMBER indicator reaches the AMBER recipient's sensor")
    R.check(not has_object(s0, a["id"]), "... and not a sensor whose partner may not see it")

    # a sensor's user cannot create a consumer on another audience's stream
    bad = Node(name="intruder")
    forged_cred = bad.path("grid.cred")
    with open(forged_cred, "w") as f:
        f.write(cred0.replace("audience water", "audience grid"))
    os.chmod(forged_cred, 0o600)
    open(bad.path("eve.json"), "w").close()
    bad.start(*sensor_args(nats.url, forged_cred, bad), err="sensor.err")
    R.check(wait_log(bad.server.err_path, "Permissions Violation"),
            "creating a consumer on the AMBER stream through the JetStream API is refused",
            bad.server.log()[-1500:])
    R.check(not has_object(bad, a["id"]), "... and nothing of it arrives")
    bad.stop()

    forged = 0  # messages put on the water stream by hand, besides the hub's
    if not have_crypto():
        R.skip("raw NATS checks (subscribe, forged publish): python3-cryptography missing")
    else:
        seed0 = cred0.split("seed ")[1].split()[0]
        R.check(keypair(seed0)[1] in hub.run("fleet", "sensor", "list").out,
                "the NKey encoding agrees with an independent one")
        c = RawNats(nats.port, seed0)
        R.check(c.connected, "a sensor's NKey connects")
        r = c.sub("schakel.fleet.grid.objects")
        R.check(any("Permissions Violation" in ln for ln in r),
                "subscribing to another audience's subject is refused", r)
        r = c.sub("$JS.API.CONSUMER.MSG.NEXT.SKFLEET_grid.s0", 2)
        c.close()
        # a forged object straight onto the bus, with the hub's own credential
        h = RawNats(nats.port, hub_seed(hub))
        y = indicator(ident, "green")
        import_objects(hub, [y], "ind")  # signed at the hub; then tampered with
        wait_for(lambda: has_object(s0, y["id"]))
        signed = json.loads(hub.run("get", y["id"]).out)
        signed = signed.get("objects", [signed])[0] if "objects" in signed else signed
        signed["pattern"] = "[ipv4-addr:value = '203.0.113.99']"
        signed["modified"] = "2025-06-01T00:00:00.000Z"
        unsigned = indicator(ident, "green")
        r = h.hpub("schakel.fleet.water.objects", json.dumps(signed), "forged-1")
        r += h.hpub("schakel.fleet.water.objects", json.dumps(unsigned), "forged-2")
        h.close()
        forged = 2
        R.check(not any("ERR" in ln for ln in r), "the hub's credential may publish", r)
        R.check(wait_log(s0.server.err_path, "bad signature"),
                "a tampered signed object is refused by the sensor", s0.server.log()[-2000:])
        R.check(wait_log(s0.server.err_path, "unsigned, but its producer"),
                "an unsigned object claiming the hub is refused", s0.server.log()[-2000:])
        R.check(not count(s0, "SELECT COUNT(*) FROM objects WHERE id=? AND modified=?",
                          y["id"], "2025-06-01T00:00:00.000Z")
                and not has_object(s0, unsigned["id"]), "... and neither is stored")

        # the hub's sightings consumer, message by message within a batch: a
        # good sighting is stored as from the sensor's partner, and a broken
        # message, an invalid one and a version of the hub's own indicator
        # (the write rule: a sensor writes only as itself) are refused alone
        c = RawNats(nats.port, seed0)
        ts = "2026-12-07T10:00:00.000Z"
        good = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                "created": ts, "modified": ts, "sighting_of_ref": x["id"],
                "created_by_ref": s0.identity(), "count": 1}
        invalid = dict(good, id=f"sighting--{uuid.uuid4()}")
        del invalid["sighting_of_ref"]
        takeover = dict(x, modified="2026-12-07T11:00:00.000Z",
                        pattern="[ipv4-addr:value = '203.0.113.98']")
        r = []
        for i, body in enumerate(["{not json", json.dumps(invalid), json.dumps(takeover),
                                  json.dumps(good)]):
            r += c.hpub("schakel.fleet.sightings.s0", body, f"mixed-{i}")
        c.close()
        R.check(not any("ERR" in ln for ln in r), "a sensor may publish its sightings", r)
        R.check(wait_for(lambda: count(hub, "SELECT COUNT(*) FROM objects WHERE id=? AND rx="
                                       "(SELECT identity FROM partners WHERE name='water')",
                                       good["id"])),
                "a good sighting beside bad ones is stored, as from the sensor's partner")

        def refusals():
            with open(hub_srv.err_path, errors="replace") as f:
                return f.read().count("refused nats:schakel.fleet.sightings.s0#")
        R.check(wait_for(lambda: refusals() >= 3), "the three bad messages are refused, "
                "each named by its stream sequence", hub_srv.log()[-2000:])
        R.check(not has_object(hub, invalid["id"]) and
                not count(hub, "SELECT COUNT(*) FROM objects WHERE id=? AND modified=?",
                          x["id"], takeover["modified"]),
                "... and none of them is stored (the hub's indicator keeps its producer)")

    # a sensor stopped for a while catches up: nothing lost, nothing twice
    s1 = sensors["s1"]
    s1.stop()
    batch = [indicator(ident, "green") for _ in range(200)]
    import_objects(hub, batch, "ind")
    R.check(wait_for(lambda: all(has_object(s0, o["id"]) for o in batch[-1:])),
            "the running sensors get the batch")
    s1.start(*sensor_args(nats.url, s1.cred, s1), err="sensor.err")
    R.check(wait_for(lambda: sum(has_object(s1, o["id"]) for o in batch) == len(batch)),
            "the restarted sensor catches up with all of it")
    R.check(count(s1, "SELECT COUNT(*) FROM objects WHERE type='indicator'"
                  " GROUP BY id ORDER BY 1 DESC LIMIT 1") == 1, "... each version once")

    # kill -9 of the hub and of a sensor mid-stream: both resume exactly
    victim = sensors["s1"]  # a water sensor whatever N
    big = [indicator(ident, "green") for _ in range(3000)]
    import_objects(hub, big, "ind")
    wait_for(lambda: count(victim, "SELECT COUNT(*) FROM objects") > 0 and
             any(has_object(victim, o["id"]) for o in big[:300]), step=0.01)
    victim.server.kill()
    hub_srv.kill()
    hub_srv = hub.start("--no-sync", "--no-ui", "--fleet", nats.url, err="hub2.err")
    victim.start(*sensor_args(nats.url, victim.cred, victim), err="sensor2.err")
    want = {o["id"] for o in big}
    for n in ("s0", "s1"):
        node = sensors[n]
        R.check(wait_for(lambda: count(node, "SELECT COUNT(*) FROM objects WHERE type="
                                       "'indicator'") >= len(want) + 1, timeout=180),
                f"after kill -9 of hub and sensor, {n} holds every indicator")
    st = wait_for(lambda: (lambda r: r if r.get("s1", {}).get("lag") == 0 and
                           r["s1"]["applied"] == r["s1"]["published"] + forged else None)(
        status(hub, nats.url)), timeout=120)
    R.check(st, "the stream holds each version once: the sensor's acknowledged position "
            "equals what the hub published (nothing skipped, nothing twice)",
            (status(hub, nats.url).get("s1"), forged))
    dup = count(victim, "SELECT COUNT(*) FROM (SELECT id FROM objects WHERE type='indicator'"
                " GROUP BY id HAVING COUNT(*) > 1)")
    R.check(dup == 0, "no version applied twice at the sensor", dup)
    audit = count(hub, "SELECT COUNT(*) FROM audit WHERE action='fleet.publish'")
    R.check(audit > 0, "the hub audits what it publishes (fleet.publish entries)")
    # recorded before sent: every version on the water stream is in an entry
    # committed before its publish (a kill -9 between the two may list a batch
    # twice, never not at all)
    audited = count(hub, "SELECT SUM(CASE json_type(versions) WHEN 'array' THEN"
                    " json_array_length(versions) ELSE json_extract(versions, '$.count') END)"
                    " FROM audit WHERE action='fleet.publish' AND subject='water'")
    pub = status(hub, nats.url)["s1"]["published"]
    R.check(audited is not None and audited >= pub,
            "the fleet.publish entries cover every version published, kill -9 included",
            (audited, pub))
    for s in sensors.values():
        s.cleanup()
    hub_srv.stop()
    nats.stop()


if __name__ == "__main__":
    main()
