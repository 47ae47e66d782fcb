"""The sharing policy on the fleet bus, as a matrix (docs/sharing-policy.md,
docs/fleet.md): every marking (CLEAR, GREEN, AMBER, AMBER+STRICT, RED, unmarked,
TLP 1.0 markings, versions that change marking) x every kind of audience (a
partner with a plain read grant, with --amber, with --amber-strict, a partner
with a RED recipient account, a producer whose own objects came from it).

Each audience has a sensor; each cell asserts the exact set of versions the
sensor holds and the hub published to that audience's stream: nothing missing,
nothing leaked.  The bus makes the decision TAXII makes for the same partner
(test_taxii_tlp_matrix.py), with two differences it must keep: RED goes to
accounts named as RED recipients, never to a partner's stream; and nothing
goes back to the partner it came from (the producer's sensor gets none of the
producer's own objects).

Skips when nats-server is not installed."""
import json
import os
import sqlite3
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from fleet_util import NATS_SERVER, Nats  # noqa: E402
from sklib import Node, skip_all, test_main, wait_for  # noqa: E402
# the same markings and objects as the TAXII exit's matrix
from test_taxii_tlp_matrix import (DEFAULT_LEVEL, M, import_matrix, indicator,  # noqa: E402
                                   matrix_objects)

PARTNERS = ["Reader", "Amber", "Strict", "RedOrg", "Producer"]


def main():
    if not NATS_SERVER:
        skip_all("nats-server is not installed (apt-get install nats-server)")
    hub = Node(name="Hub CERT")
    test_main(run, hub)


def held(node):
    """The (id, modified) of every indicator version a sensor holds."""
    db = sqlite3.connect(f"file:{node.db}?mode=ro", uri=True, timeout=30)
    try:
        return {(r[0], r[1]) for r in db.execute(
            "SELECT id, modified FROM objects WHERE type='indicator'")}
    finally:
        db.close()


def published(hub, url):
    rows = {}
    for line in hub.run("fleet", "status", "--nats", url).out.splitlines():
        w = line.split()
        if len(w) > 10 and w[4].isdigit():
            rows[w[0]] = int(w[4])
    return rows


def run(hub, R):
    ident = {p: hub.partner(p, "--country", "NL") for p in PARTNERS}
    hub.account("red1", "RedOrg", "pw-red1")
    hub.run("collection", "add", "matrix", "--fleet", check=True)
    hub.grant("Reader", "matrix", "--read")
    hub.grant("Amber", "matrix", "--read", "--amber")
    hub.grant("Strict", "matrix", "--read", "--amber-strict")
    hub.grant("Producer", "matrix", "--read")
    hub.grant("RedOrg", "matrix", "--read")
    hub.run("collection", "red-recipient", "red1", "matrix", check=True)
    authz = hub.path("authz.conf")
    for p in PARTNERS:
        hub.run("fleet", "sensor", "add", p.lower(), "--partner", p, "--seed-out",
                hub.path(p + ".cred"), "--authz", authz, check=True)

    prod = ident["Producer"]
    objs = matrix_objects(prod)

    def level(o):
        refs = o.get("object_marking_refs")
        return max(M[k][1] for k in M if M[k][0] in refs) if refs else DEFAULT_LEVEL

    def may(p, o):
        """What the partner's stream may carry (a partner, not an account: no RED)."""
        lv, by = level(o), o.get("created_by_ref")
        if by == ident[p]:
            return False  # never back to where it came from
        if lv in (1, 2):
            return True
        if by:  # received from its producer: AMBER and above only back to it
            return False
        return (lv == 3 and p == "Amber") or (lv == 4 and p == "Strict")

    nats = Nats(hub.path("nats"), authz)
    hub_srv = hub.start("--no-sync", "--no-ui", "--fleet", nats.url, err="hub.err")
    sensors = {}
    for p in PARTNERS:
        node = Node(name="sensor " + p)
        node.start("--no-sync", "--no-ui", "--fleet-sensor", nats.url, "--fleet-seed",
                   hub.path(p + ".cred"), err="sensor.err")
        sensors[p] = node
    import_matrix(hub, objs, "matrix")
    # a sentinel last: the publisher walks in date_added order, so once every
    # sensor holds it, everything before it has been decided
    sentinel = indicator("clear")
    with open(hub.path("s.json"), "w") as f:
        json.dump(sentinel, f)
    hub.run("import", "--quiet", "--collection", "matrix", hub.path("s.json"), check=True)
    sv = (sentinel["id"], sentinel["modified"])
    R.check(wait_for(lambda: all(sv in held(s) for s in sensors.values()), timeout=120),
            "every audience's sensor receives the CLEAR sentinel")
    pub = published(hub, nats.url)
    for p, node in sensors.items():
        exp = {(o["id"], o["modified"]) for o in objs if may(p, o)} | {sv}
        got = held(node)
        R.check(got == exp, f"{p}: the bus carries exactly the permitted versions: "
                f"extra {got - exp}, missing {exp - got}")
        R.check(pub.get(p.lower()) == len(exp),
                f"{p}: the hub published {pub.get(p.lower())} versions to its stream, "
                f"{len(exp)} permitted")
    # the bus and TAXII agree, but for what came from the audience itself
    for p in ("Reader", "Amber", "Strict", "RedOrg"):
        out = hub.run("export", "--for", p, "--collection", "matrix", check=True).out
        taxii = {(o["id"], o["modified"]) for o in json.loads(out)["objects"]}
        R.check(taxii == held(sensors[p]), f"{p}: the bus decides as export --for (TAXII)",
                (taxii ^ held(sensors[p])))
    for s in sensors.values():
        s.cleanup()
    hub_srv.stop()
    nats.stop()


if __name__ == "__main__":
    main()
