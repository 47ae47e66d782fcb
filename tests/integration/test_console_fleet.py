"""The console's peer page, the fleet's part (issue 17; docs/fleet.md): GET
/ui/api/fleet answers what `schakel fleet status --format json` prints.

A hub with a real nats-server (JetStream) and two sensors of partner
"water": s0 runs, s1 never starts (no consumer yet: applied and lag
unknown).

- The console's answer equals the command's JSON, once the sensor caught up
  (lag 0, applied = published); the text output says the same.
- Only this node's people: a partner's token and a partner's account get
  403, nobody logged in 401.
- NATS down: the console still answers the store's figures, with
  nats_error saying why applied and lag are unknown, within the bounded
  attempt (the request does not hang).
- A node that runs no fleet answers an empty list ("hub": false).

Skips when nats-server is not installed."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fleet_util import NATS_SERVER, Nats, has_object  # noqa: E402
import sklib  # noqa: E402
from sklib import skip_all, test_main, wait_for  # noqa: E402
from sync_util import import_objects, indicator  # noqa: E402
from taxii_util import Node, basic, bearer  # noqa: E402

JSON = "application/json"


def main():
    if not NATS_SERVER:
        skip_all("nats-server is not installed (apt-get install nats-server)")
    test_main(run, Node(), Node())


def cli_status(hub, url):
    return json.loads(hub.run("fleet", "status", "--nats", url, "--format", "json",
                              check=True).out)


def console(node, auth):
    st, _, data = node.request("GET", "/ui/api/fleet", auth=auth, accept=JSON)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, None


def run(hub, plain, R):
    ident = hub.identity()
    hub.partner("water")
    hub.account("a-water", "water", "pw-water-1234")
    tok = hub.token("a-water")
    hub.run("account", "add", "ana", "--role", "analyst", "--password-stdin",
            stdin="ana-password\n", check=True)
    ana = basic("ana", "ana-password")
    hub.run("collection", "add", "ind", "--fleet", "--default-tlp", "green", check=True)
    hub.grant("water", "ind", "--read")
    authz = hub.path("authz.conf")
    for n in ("s0", "s1"):
        hub.run("fleet", "sensor", "add", n, "--partner", "water", "--seed-out",
                hub.path(n + ".cred"), "--authz", authz, check=True)
    nats = Nats(hub.path("nats"), authz)
    hub_srv = hub.start("--no-sync", "--fleet", nats.url, err="hub.err")
    s0 = sklib.Node(name="sensor s0")
    try:
        s0.start("--no-sync", "--no-ui", "--fleet-sensor", nats.url, "--fleet-seed",
                 hub.path("s0.cred"), err="sensor.err")
        xs = [indicator(ident, "green") for _ in range(3)]
        import_objects(hub, xs, "ind")
        R.check(wait_for(lambda: all(has_object(s0, x["id"]) for x in xs)),
                "the sensor holds the hub's indicators")
        caught_up = wait_for(lambda: (lambda s: s if s["sensors"][0]["lag"] == 0 and
                                      s["sensors"][0]["applied"] == s["sensors"][0]["published"]
                                      else None)(cli_status(hub, nats.url)), timeout=60)
        R.check(caught_up, "fleet status --format json: s0 caught up (lag 0)",
                cli_status(hub, nats.url))

        # --- the console answers the command's JSON ---------------------------------------------
        st, j = console(hub, ana)
        want = cli_status(hub, nats.url)
        R.eq(st, 200, "console (analyst): GET /ui/api/fleet")
        R.eq(j and j.get("sensors"), want["sensors"], "console: the same rows as fleet status")
        R.eq(j and j.get("hub"), True, "console: this node is a fleet hub")
        R.eq(j and j.get("nats"), nats.url, "console: the NATS URL it read")
        rows = {r["name"]: r for r in (j or {}).get("sensors", [])}
        R.eq(sorted(rows), ["s0", "s1"], "every sensor is listed")
        R.check(rows.get("s0", {}).get("published", 0) >= 3 and rows["s0"]["lag"] == 0 and
                rows["s0"]["consumer_active"], "s0: published, applied, active", rows.get("s0"))
        R.check(rows.get("s1", {}).get("applied") is None and rows["s1"]["lag"] is None and
                rows["s1"]["last_seen"] is None,
                "s1 (never started): applied and lag unknown, never seen", rows.get("s1"))
        text = hub.run("fleet", "status", "--nats", nats.url, check=True).out
        R.check(any(line.split()[:1] == ["s0"] and " lag 0 " in line for line in text.splitlines())
                and any(line.split()[:1] == ["s1"] and " lag -1 " in line
                        for line in text.splitlines()),
                "the text output prints the same rows", text)

        # --- only this node's people ------------------------------------------------------------
        R.eq(console(hub, bearer(tok))[0], 403, "a partner's token cannot read the fleet")
        R.eq(console(hub, basic("a-water", "pw-water-1234"))[0], 403,
             "a partner's account cannot read the fleet")
        R.eq(console(hub, None)[0], 401, "nobody logged in: 401")
        st, _, _ = hub.request("POST", "/ui/api/fleet", auth=ana, accept=JSON, body={})
        R.eq(st, 405, "the fleet is read-only")

        # --- NATS down: the store's figures, and why lag is unknown ------------------------------
        s0.stop()
        nats.stop()
        st, j = console(hub, ana)
        rows = {r["name"]: r for r in (j or {}).get("sensors", [])}
        R.check(st == 200 and j.get("nats_error") and rows.get("s0", {}).get("lag") is None and
                rows["s0"]["published"] >= 3,
                "NATS down: the store's figures with nats_error, lag unknown", (st, j))
        hub_srv.stop()

        # --- a node with no fleet ---------------------------------------------------------------
        plain.run("account", "add", "vic", "--role", "viewer", "--password-stdin",
                  stdin="vic-password\n", check=True)
        plain.start("--no-sync")
        st, j = console(plain, basic("vic", "vic-password"))
        R.check(st == 200 and j == {"nats": None, "sensors": [], "hub": False},
                "no fleet: an empty list, hub false (viewer may read)", (st, j))
        plain.stop()
    finally:
        s0.cleanup()
        nats.stop()


if __name__ == "__main__":
    main()
