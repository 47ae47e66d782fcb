"""The sharing policy through the console (docs/console.md, "How the policy
is applied"), as a matrix like test_taxii_tlp_matrix.py: every kind of
account (partner without grant, partner reader, AMBER and AMBER+STRICT
recipients, a partner account that is a RED recipient and one that is not,
the producer partner, own admin / analyst / viewer, an own account that is a
RED recipient, metrics) x every marking x made here or received x every way
the console shows data (object page, search by name and by indicator value,
the filtered list, facets, graph, relationships, correlation, overview
counts, alerts, the actor list and its filters, actor pages, sector pages and
counts, timelines, attribution dossiers, export, export for a partner; the
network report and the fleet, own people only).  Each cell asserts the exact
permitted set: nothing missing, nothing leaked, hidden == absent."""
import base64
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402

MK = {  # marking -> (id, level)
    None: (None, 3),  # unmarked: the collection default (AMBER) / received: AMBER
    "clear": ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", 1),
    "green": ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", 2),
    "amber": ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 3),
    "strict": ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", 4),
    "red": ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", 5),
}
LEVEL_NAME = {0: "none", 1: "clear", 2: "green", 3: "amber", 4: "amber+strict", 5: "red"}
T0 = "2024-01-01T00:00:00.000Z"

PARTNERS = {  # account -> partner
    "outsider": "Outsider", "reader": "Reader", "amber": "Amber", "strict": "Strict",
    "redp": "RedOrg", "redo": "RedOrg", "pro": "Producer",
}
OWN = {"adm": "admin", "ana": "analyst", "vic": "viewer", "redown": "analyst", "met": "metrics"}


def basic(user):
    return "Basic " + base64.b64encode(f"{user}:pw-{user}-123456".encode()).decode()


class Api:
    def __init__(self, url, user):
        self.base = url.split("/taxii2/")[0] + "/ui/api/"
        self.auth = basic(user)

    def get(self, path):
        req = urllib.request.Request(self.base + path)
        req.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw, st = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, st = e.read(), e.code
        try:
            return st, json.loads(raw) if raw else None
        except ValueError:
            return st, None


class Obj:
    """One object of the matrix and what decides who sees it."""

    def __init__(self, o, mk, received, own_made):
        self.o, self.id, self.mk = o, o["id"], mk
        self.received = received  # from the Producer partner (--from Producer)
        self.own_made = own_made  # made here (nobody named, or the node's identity)
        self.level = MK[mk][1]
        # the level stored (objects.tlp): unmarked made here is "none", received AMBER
        self.stored = MK[mk][1] if mk else (3 if received else 0)


def may(acct, ob):
    """Does acct see ob?  (docs/sharing-policy.md through the console's view)"""
    lv = ob.level
    if acct in OWN:
        if acct == "met":
            return False
        return lv < 5 or ob.own_made or acct == "redown"
    if acct == "outsider":
        return False
    p = PARTNERS[acct]
    if lv <= 2:
        return True
    if ob.received:  # AMBER and above go back only to their producer / source
        return p == "Producer"
    return {3: p == "Amber", 4: p == "Strict", 5: acct == "redp"}[lv]


def main():
    R = sklib.Results()
    with sklib.Node() as node:
        try:
            run(node, R)
        finally:
            node.stop()
    R.finish()


def run(node, R):
    own = node.identity()
    ident = {}
    for p in sorted(set(PARTNERS.values())):
        ident[p] = node.partner(p, "--country", "NL")
    for a, p in PARTNERS.items():
        node.account(a, p, f"pw-{a}-123456")
    for a, role in OWN.items():
        node.run("account", "add", a, "--role", role, "--password", f"pw-{a}-123456", check=True)
    node.run("collection", "add", "matrix", check=True)  # default TLP:AMBER, not public
    for p, flags in (("Reader", ["--read"]), ("Amber", ["--read", "--amber"]),
                     ("Strict", ["--read", "--amber-strict"]), ("RedOrg", ["--read"]),
                     ("Producer", ["--read", "--write"])):
        node.grant(p, "matrix", *flags)
    node.run("collection", "red-recipient", "redp", "matrix", check=True)
    node.run("collection", "red-recipient", "redown", "matrix", check=True)

    hub = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}",
           "created": T0, "modified": T0, "name": "hubmalware", "is_family": True,
           "object_marking_refs": [MK["clear"][0]]}
    here, recv, rels, sights = [], [], [], []
    n = 0
    for origin in ("here", "own", "recv"):
        for mk in (None, "clear", "green", "amber", "strict", "red"):
            if origin == "own" and mk not in ("amber", "red"):
                continue
            n += 1
            o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                 "created": T0, "modified": T0, "name": f"zqtok{n}x", "pattern_type": "stix",
                 "valid_from": T0,
                 # a value shared by the made-here and the received indicator of one marking
                 "pattern": f"[ipv4-addr:value = '198.51.100.{10 + (n - 1) % 8}']"}
            if mk:
                o["object_marking_refs"] = [MK[mk][0]]
            if origin == "own":
                o["created_by_ref"] = own
                o["pattern"] = f"[ipv4-addr:value = '203.0.113.{n}']"
            if origin == "recv":
                o["created_by_ref"] = ident["Producer"]
            ob = Obj(o, mk, origin == "recv", origin != "recv")
            (recv if origin == "recv" else here).append(ob)
            # a CLEAR relationship to the hub: visible, its end maybe not
            r = {"type": "relationship", "spec_version": "2.1",
                 "id": f"relationship--{uuid.uuid4()}", "created": T0, "modified": T0,
                 "relationship_type": "indicates", "source_ref": o["id"], "target_ref": hub["id"],
                 "object_marking_refs": [MK["clear"][0]]}
            rels.append(Obj(r, "clear", False, True))
            # a sighting made here, marked like the indicator
            s = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                 "created": T0, "modified": T0, "sighting_of_ref": o["id"], "count": 1}
            if mk:
                s["object_marking_refs"] = [MK[mk][0]]
            sights.append(Obj(s, mk, False, True))
    hubo = Obj(hub, "clear", False, True)
    # actors per marking, made here or received, each targeting the water sector and
    # using the hub: the actor list, its filters, actor pages, sector pages, timelines
    water = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
             "created": T0, "modified": T0, "name": "Water sector (matrix)",
             "identity_class": "class", "sectors": ["water"],
             "object_marking_refs": [MK["clear"][0]]}
    actors, arels = [], []
    for origin in ("here", "recv"):
        for mk in (None, "clear", "green", "amber", "strict", "red"):
            n += 1
            a = {"type": "intrusion-set", "spec_version": "2.1",
                 "id": f"intrusion-set--{uuid.uuid4()}", "created": T0, "modified": T0,
                 "name": f"zqset{n}x"}
            if mk:
                a["object_marking_refs"] = [MK[mk][0]]
            if origin == "recv":
                a["created_by_ref"] = ident["Producer"]
            actors.append(Obj(a, mk, origin == "recv", origin != "recv"))
            for typ, dst in (("targets", water["id"]), ("uses", hub["id"])):
                r = {"type": "relationship", "spec_version": "2.1",
                     "id": f"relationship--{uuid.uuid4()}", "created": T0, "modified": T0,
                     "relationship_type": typ, "source_ref": a["id"], "target_ref": dst}
                if mk:
                    r["object_marking_refs"] = [MK[mk][0]]
                if origin == "recv":
                    r["created_by_ref"] = ident["Producer"]
                arels.append(Obj(r, mk, origin == "recv", origin != "recv"))
    watero = Obj(water, "clear", False, True)
    here += [x for x in actors + arels if not x.received] + [watero]
    recv_actors = [x for x in actors + arels if x.received]
    path = node.path("m.json")
    sklib.write_json(path, {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                            "objects": [x.o for x in here + rels + sights + [hubo]]})
    node.run("import", "--quiet", "--collection", "matrix", path, check=True)
    sklib.write_json(path, {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                            "objects": [x.o for x in recv + recv_actors]})
    node.run("import", "--quiet", "--collection", "matrix", "--from", "Producer", path,
             check=True)
    inds = [x for x in here + recv if x.o["type"] == "indicator"]
    here = [x for x in here if x.o["type"] == "indicator"]
    everything = inds + rels + sights + [hubo] + actors + arels + [watero]
    mine = {x.id for x in everything}

    node.start()
    missing = f"indicator--{uuid.uuid4()}"
    for acct in list(PARTNERS) + list(OWN):
        api = Api(node.url, acct)
        vis = {x.id for x in everything if may(acct, x)}
        # the network report and the fleet's sensors: the node's own people only
        for p in ("cooperation/network", "fleet"):
            st, _ = api.get(p)
            want = 200 if acct in OWN and acct != "met" else 403
            R.check(st == want, f"{acct}: {p} -> {st}, not {want}")
        if acct == "met":
            for p in ("objects/" + hub["id"], "search?q=zqtok1x", "facets", "overview",
                      "alerts", "export", "graph?id=" + hub["id"], "actors", "sectors",
                      "sectors/water", "timeline?id=" + hub["id"], "dossier?subject=zqset1x"):
                st, _ = api.get(p)
                R.check(st == 403, f"met: {p} -> {st} (metrics has no console)")
            continue
        # object pages: visible -> 200, hidden -> the same 404 as a missing id
        st_m, j_m = api.get("objects/" + missing)
        for x in everything:
            st, j = api.get("objects/" + x.id)
            if x.id in vis:
                R.check(st == 200 and j["id"] == x.id, f"{acct}: object {x.id} -> {st}")
            else:
                R.check(st == 404 and j == {"error": j_m["error"].replace(missing, x.id),
                                            "status": 404},
                        f"{acct}: hidden {x.id} ({x.mk}, received {x.received}) -> {st} {j}")
        # search by name and by indicator value
        for x in inds:
            st, j = api.get("search?q=" + x.o["name"])
            got = {r["id"] for r in j["results"]} if st == 200 else None
            R.check(got == ({x.id} & vis), f"{acct}: search {x.o['name']} ({x.mk}) -> {got}")
            value = x.o["pattern"].split("'")[1]
            st, j = api.get("search?q=" + value)
            got = {r["id"] for r in j["results"]} & mine if st == 200 else None
            want = {y.id for y in inds if value in y.o["pattern"]} & vis
            R.check(got == want and (st != 200 or j["total"] >= len(want)),
                    f"{acct}: search value {value}: got {got} want {want}")
        # the list and its total
        st, j = api.get("search?limit=500")
        got = {r["id"] for r in j["results"]} if st == 200 else set()
        R.check(got & mine == vis, f"{acct}: list: extra {(got & mine) - vis}, "
                f"missing {vis - got}")
        if acct in PARTNERS:
            R.check(got == vis and j["total"] == len(vis),
                    f"{acct}: a partner's list holds only the matrix ({j['total']} {len(vis)})")
        # facets: counts per level over what it sees
        st, j = api.get("facets")
        tl = {t["level"]: t["count"] for t in j["tlp"]} if st == 200 else {}
        for lv in (3, 4, 5):
            want = sum(1 for x in everything if x.id in vis and x.stored == lv)
            R.check(tl.get(LEVEL_NAME[lv], 0) == want,
                    f"{acct}: facets {LEVEL_NAME[lv]} {tl.get(LEVEL_NAME[lv], 0)} want {want}")
        if acct in PARTNERS:
            R.check(sum(tl.values()) == len(vis), f"{acct}: facets count only what it sees")
            cols = {c["name"] for c in j["collections"]}
            R.check(cols <= {"matrix"}, f"{acct}: facets collections {cols}")
        # graph and relationships around the hub: hidden ends left out
        want_ends = ({x.id for x in inds} | {x.id for x in actors}) & vis
        st, g = api.get("graph?id=" + hub["id"])
        if hubo.id in vis:
            nodes = {nd["id"] for nd in g["nodes"]} if st == 200 else set()
            R.check(nodes == want_ends | {hub["id"]}, f"{acct}: graph: extra "
                    f"{nodes - want_ends - {hub['id']}}, missing {want_ends - nodes}")
            R.check(all(e["source"] in nodes and e["target"] in nodes for e in g["edges"]),
                    f"{acct}: graph edges only between its nodes")
            st, o = api.get("objects/" + hub["id"])
            ends = {r["source"]["id"] for r in o["relationships"]["in"]} if st == 200 else set()
            R.check(ends == want_ends, f"{acct}: relationships in: {ends ^ want_ends}")
        else:
            R.check(st == 404, f"{acct}: graph of a hidden hub -> {st}")
        for x in inds:  # correlation on a visible indicator: never a hidden one
            if x.id not in vis:
                continue
            st, o = api.get("objects/" + x.id)
            corr = set()
            for c in o["correlation"] if st == 200 else []:
                corr |= {y["id"] for y in c["objects"]}
            value = x.o["pattern"].split("'")[1]
            want = {y.id for y in inds if value in y.o["pattern"] and y.id != x.id} & vis
            R.check(corr == want, f"{acct}: correlation of {x.o['name']}: {corr} want {want}")
            # its sightings
            s = o["sightings"] if st == 200 else {"items": []}
            got = {i["id"] for i in s["items"]}
            want = {y.id for y in sights if y.o["sighting_of_ref"] == x.id} & vis
            R.check(got == want and s["total"] == len(want), f"{acct}: sightings of {x.id}")
        # overview counts and alerts
        st, ov = api.get("overview?since=2000-01-01")
        if st == 200:
            got = sum(r["count"] for r in ov["received"])
            want = sum(1 for x in recv + recv_actors if x.id in vis)
            R.check(got == want, f"{acct}: overview received {got} want {want}")
            want = sum(1 for x in sights if x.id in vis)
            R.check(ov["sightings"]["here"] == want,
                    f"{acct}: overview sightings {ov['sightings']['here']} want {want}")
        else:
            R.check(False, f"{acct}: overview -> {st}")
        st, a = api.get("alerts?limit=500")
        got = {x["sighting"] for x in a["alerts"]} if st == 200 else None
        want = {x.id for x in sights} & vis
        R.check(got == want, f"{acct}: alerts: extra {(got or set()) - want}, "
                f"missing {want - (got or set())}")
        for al in a["alerts"] if st == 200 else []:
            ind = al["indicator"]
            R.check(ind is None or ind["id"] in vis,
                    f"{acct}: an alert names a hidden indicator {ind}")
            if ind is None:
                R.check(al["value"] is None, f"{acct}: an alert shows a hidden indicator's value")
        # actors: the list, its sector filter, actor pages; sector pages; a timeline
        vis_actors = {x.id for x in actors} & vis
        for q in ("actors?limit=500", "actors?sector=water&limit=500", "actors?q=zqset"):
            st, j = api.get(q)
            got = {x["id"] for x in j["actors"]} & mine if st == 200 else None
            R.check(got == vis_actors, f"{acct}: {q}: extra {(got or set()) - vis_actors}, "
                    f"missing {vis_actors - (got or set())}")
        for x in actors:
            st, j = api.get("actors/" + x.id)
            R.check((st == 200) == (x.id in vis_actors),
                    f"{acct}: actor page {x.o['name']} ({x.mk}, received {x.received}) -> {st}")
        st, j = api.get("sectors/water")
        got = {x["id"] for x in j.get("attackers", [])} & mine if st == 200 else None
        R.check(got == vis_actors, f"{acct}: sector water attackers: extra "
                f"{(got or set()) - vis_actors}, missing {vis_actors - (got or set())}")
        st, j = api.get("sectors")
        wat = [x for x in j.get("sectors", []) if x["key"] == "water"] if st == 200 else []
        R.check(wat and wat[0]["targeted_by"] == len(vis_actors),
                f"{acct}: sectors: water targeted by {wat and wat[0]['targeted_by']}, "
                f"{len(vis_actors)} visible attackers")
        st, j = api.get("timeline?id=" + hub["id"])
        if hubo.id in vis:
            ev = {e["id"] for e in j["events"]} & mine if st == 200 else None
            R.check(ev is not None and ev <= vis, f"{acct}: the hub's timeline names hidden "
                    f"objects {(ev or set()) - vis}")
        else:
            R.check(st == 404, f"{acct}: the timeline of a hidden object -> {st}")
        # attribution dossiers: a hidden subject is unknown, a visible one rests on visible
        # evidence only
        if acct != "met":
            for x in actors:
                st, j = api.get("dossier?subject=" + x.id)
                if x.id in vis:
                    ev = set(j["evidence"]["ids"]) & mine if st == 200 else None
                    R.check(ev is not None and ev <= vis, f"{acct}: the dossier of {x.id} "
                            f"rests on hidden objects {(ev or set()) - vis}")
                else:
                    R.check(st == 404, f"{acct}: the dossier of a hidden subject -> {st}")
        # export
        st, b = api.get("export")
        got = {o["id"] for o in b["objects"]} if st == 200 else None
        R.check(got is not None and got & mine == vis, f"{acct}: export: extra "
                f"{(got or set()) & mine - vis}, missing {vis - (got or set())}")
    # own people export for a partner: that partner's view (partner level: RED is per account),
    # never more than the one exporting sees (an admin does not see RED received from others)
    adm = Api(node.url, "adm")
    for p in sorted(set(PARTNERS.values())):
        acct = {"RedOrg": "redo"}.get(p) or next(a for a, q in PARTNERS.items() if q == p)
        st, b = adm.get("export?for=" + p)
        got = {o["id"] for o in b["objects"]} & mine if st == 200 else None
        want = {x.id for x in everything if may(acct, x) and may("adm", x)}
        R.check(got == want, f"export for {p}: extra {(got or set()) - want}, "
                f"missing {[(x.o.get('name'), x.o['type'], x.mk, x.received) for x in everything if x.id in want - (got or set())]}")


if __name__ == "__main__":
    main()
