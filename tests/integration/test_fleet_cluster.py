"""The fleet on a three-server NATS cluster (docs/fleet.md, "Scaling"): the
hub creates its streams with three replicas; killing one of the servers in
the middle of a stream loses nothing: the hub and the sensor reconnect to
another server of their URL list and the sensor ends with every indicator,
each once.  Skips when nats-server is not installed."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fleet_util import NATS_SERVER, Nats, count, free_port, has_object  # noqa: E402
from sklib import Node, skip_all, test_main, wait_for  # noqa: E402
from sync_util import import_objects, indicator  # noqa: E402


def main():
    if not NATS_SERVER:
        skip_all("nats-server is not installed (apt-get install nats-server)")
    # Three clustered servers with R3 streams and a failover: it failed once in
    # a full CI run on the loaded 2-core machine (the sensor short of the batch
    # published after the kill, after 180 s).  A likely cause, fixed since: an
    # asynchronous publish whose ack was lost with the killed server stayed
    # pending for ever (no per-publish ack wait), so every later wait of the
    # hub timed out and it never published again.  Not reproduced here before
    # or after the fix (6 runs), so it still runs only when asked.
    if os.environ.get("SK_TEST_FLEET_CLUSTER") != "1":
        skip_all("the three-server failover test runs with SK_TEST_FLEET_CLUSTER=1 "
                 "(it failed once under full CI load; see docs/fleet.md)")
    test_main(run, Node(name="Hub CERT"))


def run(hub, R):
    ident = hub.identity()
    hub.partner("water")
    hub.run("collection", "add", "ind", "--fleet", "--default-tlp", "green", check=True)
    hub.grant("water", "ind", "--read")
    authz = hub.path("authz.conf")
    hub.run("fleet", "sensor", "add", "s0", "--partner", "water", "--seed-out",
            hub.path("s0.cred"), "--authz", authz, check=True)
    ports = [free_port() for _ in range(3)]
    cports = [free_port() for _ in range(3)]
    servers = [Nats(hub.path(f"n{i}"), authz, port=ports[i], name=f"n{i}",
                    cluster=("fleet", cports[i]), routes=[c for c in cports if c != cports[i]])
               for i in range(3)]
    urls = ",".join(s.url for s in servers)
    hub_srv = hub.start("--no-sync", "--no-ui", "--fleet", urls, "--fleet-replicas", "3",
                        err="hub.err")
    s0 = Node(name="sensor")
    s0.start("--no-sync", "--no-ui", "--fleet-sensor", urls, "--fleet-seed", hub.path("s0.cred"),
             err="sensor.err")
    first = [indicator(ident, "green") for _ in range(300)]
    import_objects(hub, first, "ind")
    R.check(wait_for(lambda: all(has_object(s0, o["id"]) for o in first[-1:]), timeout=120),
            "the sensor receives through the cluster", hub_srv.log()[-1500:])
    # kill the first server of the URL list (where both most likely are) while
    # the hub is publishing a large batch: some publishes are then in flight,
    # their acks never come, and the hub must resend rather than wait forever
    second = [indicator(ident, "green") for _ in range(int(os.environ.get("SK_FLEET_SECOND",
                                                                          "3000")))]
    import_objects(hub, second, "ind")
    wait_for(lambda: has_object(s0, second[0]["id"]), step=0.005)
    servers[0].kill()
    third = [indicator(ident, "green") for _ in range(300)]
    import_objects(hub, third, "ind")
    want = first + second + third
    R.check(wait_for(lambda: count(s0, "SELECT COUNT(DISTINCT id) FROM objects WHERE type="
                                   "'indicator'") >= len(want), timeout=180),
            "killing one of three servers loses nothing, and the hub publishes after it",
            (count(s0, "SELECT COUNT(DISTINCT id) FROM objects WHERE type='indicator'"),
             len(want), hub_srv.log()[-1500:], s0.server.log()[-1500:]))
    R.check(count(s0, "SELECT COUNT(*) FROM objects WHERE type='indicator'") == len(want),
            "... and applies nothing twice")
    s0.cleanup()
    hub_srv.stop()
    for s in servers:
        s.stop()


if __name__ == "__main__":
    main()
