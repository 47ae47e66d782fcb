"""The console's knowledge API through the real server (docs/console.md,
Knowledge): search (full text, exact observable values, filters, paging),
facets, the object page (versions, relationships, reports, sightings with
where they were made, correlation), graph, export (also for a partner),
overview, alerts, and objects made and versioned in the console (signed
here, under the write rule).  Documentation addresses and .example names."""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
T0 = "2024-01-01T00:00:00.000Z"


def sid(kind):
    return f"{kind}--{uuid.uuid4()}"


class Api:
    def __init__(self, url, auth):
        self.base = url.split("/taxii2/")[0] + "/ui/api/"
        self.auth = auth

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if self.auth:
            req.add_header("Authorization", self.auth)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw, st, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raw, st, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
        try:
            return st, json.loads(raw) if raw else None, ctype
        except ValueError:
            return st, raw, ctype

    def get(self, path):
        st, j, _ = self.call("GET", path)
        return st, j


def ids(results):
    return {r["id"] for r in results}


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
    alpha = node.partner("Alpha", "--country", "NL")
    node.account("alf", "Alpha", "pw-alf-123456")
    node.run("account", "add", "ana", "--role", "analyst", "--password", "pw-ana-123456", check=True)
    node.run("account", "add", "vic", "--role", "viewer", "--password", "pw-vic-123456", check=True)
    ana_tok = node.token("ana")
    node.run("collection", "add", "shared", check=True)
    node.grant("Alpha", "shared", "--read")

    i1, i2, ap, iset, rep = sid("indicator"), sid("indicator"), sid("attack-pattern"), \
        sid("intrusion-set"), sid("report")
    org, loc, sg, rel = sid("identity"), sid("location"), sid("sighting"), sid("relationship")
    secret = sid("indicator")
    objs = [
        {"type": "indicator", "spec_version": "2.1", "id": i1, "created": T0, "modified": T0,
         "name": "c2 host", "pattern_type": "stix", "valid_from": T0,
         "pattern": "[ipv4-addr:value = '192.0.2.10']", "object_marking_refs": [GREEN]},
        {"type": "indicator", "spec_version": "2.1", "id": i2, "created": T0, "modified": T0,
         "pattern_type": "stix", "valid_from": T0, "object_marking_refs": [GREEN],
         "pattern": "[ipv4-addr:value = '192.0.2.10'] OR [domain-name:value = 'c2.example']"},
        {"type": "indicator", "spec_version": "2.1", "id": secret, "created": T0, "modified": T0,
         "name": "quietzone", "pattern_type": "stix", "valid_from": T0,
         "pattern": "[ipv4-addr:value = '192.0.2.10']", "object_marking_refs": [AMBER]},
        {"type": "attack-pattern", "spec_version": "2.1", "id": ap, "created": T0, "modified": T0,
         "name": "Phishing", "description": "Adversaries send deceptive messages.",
         "external_references": [{"source_name": "mitre-attack", "external_id": "T1566"}],
         "object_marking_refs": [GREEN]},
        {"type": "intrusion-set", "spec_version": "2.1", "id": iset, "created": T0,
         "modified": T0, "name": "Example Group", "aliases": ["Sample Bear"],
         "object_marking_refs": [GREEN]},
        {"type": "relationship", "spec_version": "2.1", "id": rel, "created": T0, "modified": T0,
         "relationship_type": "uses", "source_ref": iset, "target_ref": ap,
         "object_marking_refs": [GREEN]},
        {"type": "report", "spec_version": "2.1", "id": rep, "created": T0, "modified": T0,
         "name": "Weekly digest", "published": T0, "object_refs": [i1, ap],
         "object_marking_refs": [GREEN]},
        {"type": "identity", "spec_version": "2.1", "id": org, "created": T0, "modified": T0,
         "name": "Ministry Example", "identity_class": "organization",
         "sectors": ["government"], "object_marking_refs": [GREEN]},
        {"type": "location", "spec_version": "2.1", "id": loc, "created": T0, "modified": T0,
         "country": "NL", "object_marking_refs": [GREEN]},
        {"type": "relationship", "spec_version": "2.1", "id": sid("relationship"),
         "created": T0, "modified": T0, "relationship_type": "located-at", "source_ref": org,
         "target_ref": loc, "object_marking_refs": [GREEN]},
        {"type": "sighting", "spec_version": "2.1", "id": sg, "created": T0, "modified": T0,
         "sighting_of_ref": i1, "where_sighted_refs": [org], "count": 3,
         "first_seen": T0, "last_seen": T0, "object_marking_refs": [GREEN]},
    ]
    path = node.path("data.json")
    sklib.write_json(path, {"type": "bundle", "id": sid("bundle"), "objects": objs})
    node.run("import", "--quiet", "--collection", "shared", path, check=True)
    # a newer version of the attack pattern (the index follows the newest)
    ap2 = dict(objs[3], modified="2024-02-01T00:00:00.000Z", name="Spearphishing")
    sklib.write_json(path, {"type": "bundle", "id": sid("bundle"), "objects": [ap2]})
    node.run("import", "--quiet", "--collection", "shared", path, check=True)
    # something received from the partner
    recv = {"type": "indicator", "spec_version": "2.1", "id": sid("indicator"), "created": T0,
            "modified": T0, "created_by_ref": alpha, "pattern_type": "stix", "valid_from": T0,
            "name": "from alpha", "pattern": "[domain-name:value = 'alpha.example']",
            "object_marking_refs": [GREEN]}
    sklib.write_json(path, {"type": "bundle", "id": sid("bundle"), "objects": [recv]})
    node.run("import", "--quiet", "--collection", "shared", "--from", "Alpha", path, check=True)

    node.start()
    ana = Api(node.url, "Bearer " + ana_tok)
    vic = Api(node.url, sklib_basic("vic", "pw-vic-123456"))
    alf = Api(node.url, sklib_basic("alf", "pw-alf-123456"))

    # --- search -----------------------------------------------------------------------
    st, j = ana.get("search?q=spearphish")
    R.check(st == 200 and ids(j["results"]) == {ap}, f"search by name prefix: {st} {j}")
    R.check(st == 200 and j["total"] == 1 and j["results"][0].get("snippet"),
            "search has total and a snippet")
    st, j = ana.get("search?q=phishing")
    R.check(st == 200 and ap not in ids(j["results"]) or j["results"][0]["name"] == "Spearphishing",
            "the old version's name is not what is found")
    st, j = ana.get("search?q=T1566")
    R.check(st == 200 and ids(j["results"]) == {ap}, f"search by external id: {j}")
    st, j = ana.get("search?q=Sample%20Bear")
    R.check(st == 200 and ids(j["results"]) == {iset}, f"search by alias: {j}")
    st, j = ana.get("search?q=192.0.2.10")
    R.check(st == 200 and ids(j["results"]) == {i1, i2, secret},
            f"search by indicator value (analyst): {j}")
    st, j = alf.get("search?q=192.0.2.10")
    R.check(st == 200 and ids(j["results"]) == {i1, i2}, f"search by value (partner, no AMBER): {j}")
    st, j = ana.get("search?q=c2.example")
    R.check(st == 200 and ids(j["results"]) == {i2}, f"search by domain value: {j}")
    st, j = ana.get("search?q=" + i1)
    R.check(st == 200 and ids(j["results"]) == {i1}, "search by id")
    st, j = ana.get("search?type=indicator&limit=2")
    R.check(st == 200 and j["total"] == 4 and len(j["results"]) == 2, f"type filter + limit: {j}")
    st, j2 = ana.get("search?type=indicator&limit=2&offset=2")
    R.check(st == 200 and len(j2["results"]) == 2 and not ids(j2["results"]) & ids(j["results"]),
            "offset pages on")
    st, j = ana.get("search?tlp=amber")
    R.check(st == 200 and ids(j["results"]) == {secret}, f"tlp filter: {j}")
    st, j = ana.get("search?type=indicator&producer=" + alpha)
    R.check(st == 200 and ids(j["results"]) == {recv["id"]}, f"producer filter: {j}")
    R.check(j["results"][0]["producer"]["name"] == "Alpha", "producer name from its identity")
    st, j = ana.get("search?collection=shared&type=report")
    R.check(st == 200 and ids(j["results"]) == {rep}, "collection filter")
    st, j = ana.get("search?since=2024-01-15&type=attack-pattern")
    R.check(st == 200 and ids(j["results"]) == {ap}, "since filter (on modified)")
    st, j = ana.get("search?until=2023-12-31")
    R.check(st == 200 and j["total"] == 0, "until filter")
    for bad in ("limit=501", "limit=0", "tlp=purple", "since=yesterday", "revoked=maybe",
                "offset=-1"):
        st, j = ana.get("search?" + bad)
        R.check(st == 400 and "error" in j, f"search?{bad} -> 400 ({st} {j})")

    # --- facets -----------------------------------------------------------------------
    st, j = ana.get("facets")
    types = {t["type"]: t["count"] for t in j["types"]} if st == 200 else {}
    R.check(types.get("indicator") == 4 and types.get("attack-pattern") == 1,
            f"facets types: {types}")
    R.check({c["name"] for c in j["collections"]} >= {"shared"}, "facets collections")
    st, j = alf.get("facets")
    types = {t["type"]: t["count"] for t in j["types"]} if st == 200 else {}
    R.check(types.get("indicator") == 3, f"partner facets leave AMBER out: {types}")
    R.check(not any(t["level"] == "amber" for t in j["tlp"]), "partner facets: no amber count")

    # --- object page ------------------------------------------------------------------
    st, o = ana.get("objects/" + i1)
    R.check(st == 200, f"object page {st}")
    if st == 200:
        R.check(o["name"] == "c2 host" and o["tlp"]["level"] == "green", "summary fields")
        R.check(len(o["versions"]) == 1 and o["versions"][0]["object"]["id"] == i1, "versions")
        R.check(o["collections"] == ["shared"], f"collections {o['collections']}")
        R.check(GREEN in o["markings"], "markings")
        R.check(ids(o["reports"]) == {rep}, "reports containing it")
        s = o["sightings"]
        R.check(s["total"] == 1 and s["items"][0]["id"] == sg and s["items"][0]["count"] == 3,
                f"sightings {s}")
        where = s["items"][0]["where"][0] if s["items"] else {}
        R.check(where.get("name") == "Ministry Example" and where.get("country") == "NL"
                and where.get("sectors") == ["government"], f"where sighted {where}")
        R.check(s["by_sector"] == [{"sector": "government", "count": 3}]
                and s["by_country"] == [{"country": "NL", "count": 3}], "sighting aggregates")
        corr = {(c["value"], c["kind"]): ids(c["objects"]) for c in o["correlation"]}
        R.check(corr.get(("192.0.2.10", "ipv4-addr")) == {i2, secret},
                f"correlation by value: {corr}")
        R.check(o["signature"]["verdict"] == "unsigned" and o["source"]["rx"] is None,
                "signature and source of an imported object")
    st, o = alf.get("objects/" + i1)
    corr = {c["value"]: ids(c["objects"]) for c in o["correlation"]} if st == 200 else {}
    R.check(st == 200 and corr.get("192.0.2.10") == {i2}, f"partner correlation hides AMBER {corr}")
    st, o = ana.get("objects/" + ap)
    R.check(st == 200 and [v["modified"] for v in o["versions"]] ==
            [T0, "2024-02-01T00:00:00.000Z"] and o["name"] == "Spearphishing",
            "every version, oldest first; the newest is the summary")
    R.check(st == 200 and [r["source"]["id"] for r in o["relationships"]["in"]] == [iset]
            and o["relationships"]["in"][0]["relationship_type"] == "uses", "relationships in")
    st, o = ana.get("objects/" + recv["id"])
    R.check(st == 200 and o["source"]["rx"] == alpha and o["source"]["name"] == "Alpha",
            f"source of a received object {o.get('source') if st == 200 else st}")
    st_missing, j_missing = ana.get("objects/" + sid("indicator"))
    R.check(st_missing == 404 and j_missing["status"] == 404, "unknown id -> 404")
    st, j = alf.get("objects/" + secret)
    R.check(st == 404 and j["error"].replace(secret, "X") ==
            j_missing["error"].replace(j_missing["error"].split("'")[1], "X"),
            "a hidden object is the same 404 as an unknown one")
    st, j = ana.get("objects/not-an-id")
    R.check(st == 404, "a malformed id -> 404")

    # --- graph ------------------------------------------------------------------------
    st, g = ana.get("graph?id=" + iset)
    R.check(st == 200 and {n["id"] for n in g["nodes"]} == {iset, ap}
            and g["edges"] == [{"id": rel, "source": iset, "target": ap, "label": "uses"}],
            f"graph {g}")
    st, g = ana.get("graph?id=" + i1)
    nodes = {n["id"] for n in g["nodes"]} if st == 200 else set()
    R.check({i1, sg, rep} <= nodes, f"graph: sightings and reports around it {nodes}")
    st, g = ana.get("graph?id=" + rep)
    nodes = {n["id"] for n in g["nodes"]} if st == 200 else set()
    R.check({rep, i1, ap} <= nodes, "graph of a report: what it references")
    st, _ = ana.get("graph")
    R.check(st == 400, "graph without id -> 400")
    st, _ = alf.get("graph?id=" + secret)
    R.check(st == 404, "graph of a hidden object -> 404")
    st, g = alf.get("graph?id=" + i1)
    alf_nodes = {n["id"] for n in g["nodes"]} if st == 200 else set()
    R.check(st == 200 and i1 in alf_nodes and secret not in alf_nodes,
            "a partner's graph: its view only")

    # --- export -----------------------------------------------------------------------
    st, b, ctype = ana.call("GET", "export?type=indicator")
    R.check(st == 200 and ctype.startswith("application/stix+json") and b["type"] == "bundle"
            and {o["id"] for o in b["objects"]} == {i1, i2, secret, recv["id"]},
            f"export {st} {ctype}")
    st, b, _ = ana.call("GET", "export?type=indicator&for=Alpha")
    R.check(st == 200 and {o["id"] for o in b["objects"]} == {i1, i2, recv["id"]},
            "export for a partner goes through its view")
    st, j, _ = alf.call("GET", "export?for=Alpha")
    R.check(st == 403, "a partner may not export for a partner")
    st, j, _ = ana.call("GET", "export?for=Nobody")
    R.check(st == 404, "export for an unknown partner -> 404")
    st, b, _ = alf.call("GET", "export?type=indicator")
    R.check(st == 200 and {o["id"] for o in b["objects"]} == {i1, i2, recv["id"]},
            "a partner's own export is its view")
    r = node.run("audit", "list")
    R.check(r.out.count("export.for") >= 3, "exports are in the audit log")
    R.check("console.object" in r.out and "console.search" in r.out and "partner:Alpha" in r.out,
            "a partner's object pages and searches are exits in the audit log")
    R.check("console.graph" in r.out, "a partner's graph is an exit in the audit log")
    R.check(node.run("audit", "verify").code == 0, "the audit chain verifies")

    # --- writes -------------------------------------------------------------------------
    note = {"type": "note", "content": "seen again at 192.0.2.10", "object_refs": [i1],
            "object_marking_refs": [GREEN]}
    st, j, _ = ana.call("POST", "objects", {"object": note})
    R.check(st == 201 and j["id"].startswith("note--") and j["version"], f"POST note {st} {j}")
    nid = j.get("id") if st == 201 else None
    if nid:
        st, o = ana.get("objects/" + nid)
        R.check(st == 200 and o["object"]["created_by_ref"] == own
                and o["signature"]["verdict"] == "verified" and o["signature"]["key"],
                f"the note is produced and signed here {o.get('signature') if st == 200 else st}")
        st, j, _ = ana.call("PUT", "objects/" + nid,
                            {"object": dict(o["object"], content="updated",
                                            modified="2099-01-01T00:00:00.000Z")})
        R.check(st == 400 and "future" in j["error"], f"a version dated in the future ({st} {j})")
        # the shown version with its signature, changed: signed anew here
        upd = {k: v for k, v in o["object"].items() if k != "modified"}
        upd["content"] = "updated"
        st, j, _ = ana.call("PUT", "objects/" + nid, {"object": upd})
        R.check(st == 200 and j["id"] == nid, f"PUT a new version {st} {j}")
        st, o2 = ana.get("objects/" + nid)
        R.check(st == 200 and len(o2["versions"]) == 2 and o2["object"]["content"] == "updated"
                and o2["signature"]["verdict"] == "verified", "the new version is the newest, signed")
        st, j, _ = ana.call("PUT", "objects/" + nid,
                            {"object": dict(upd, modified="2000-01-01T00:00:00.000Z")})
        R.check(st == 409, f"an older modified -> 409 ({st})")
    st, j, _ = ana.call("PUT", "objects/" + ap, {"object": {"name": "mine now"}})
    R.check(st == 403 and "error" in j, f"versioning another producer's object -> 403 ({st} {j})")
    st, j, _ = ana.call("POST", "objects", {"object": {"type": "malware", "name": "x"}})
    R.check(st == 400, "a type not made in the console -> 400")
    st, j, _ = ana.call("POST", "objects", {"object": {"type": "indicator", "pattern": "[bad"}})
    R.check(st == 400 and "pattern" in j["error"], f"an invalid object -> 400 saying why ({j})")
    st, j, _ = ana.call("POST", "objects", {"object": {"type": "note", "content": "x",
                                                       "object_refs": [i1],
                                                       "created_by_ref": alpha}})
    R.check(st == 403, "created_by_ref of another producer -> 403")
    st, j, _ = vic.call("POST", "objects", {"object": note})
    R.check(st in (401, 403), f"a viewer may not write ({st})")

    # --- alerts and overview --------------------------------------------------------------
    st, a = ana.get("alerts")
    cursor = a["cursor"] if st == 200 else 0
    sight = {"type": "sighting", "sighting_of_ref": i1, "count": 2,
             "where_sighted_refs": [own], "object_marking_refs": [GREEN]}
    st, j, _ = ana.call("POST", "objects", {"object": sight})
    R.check(st == 201, f"POST sighting {st} {j}")
    st, a = ana.get(f"alerts?after={cursor}")
    R.check(st == 200 and len(a["alerts"]) == 1 and a["alerts"][0]["sighting"] == j.get("id")
            and a["alerts"][0]["indicator"]["id"] == i1 and a["alerts"][0]["value"] == "192.0.2.10"
            and a["cursor"] > cursor, f"a new alert after the cursor {a}")
    st, a2 = ana.get(f"alerts?after={a['cursor'] if st == 200 else 0}")
    R.check(st == 200 and a2["alerts"] == [], "nothing after the newest cursor")
    # an alert says what to do: the courses of action mitigating its indicator
    coa, coa_amber = sid("course-of-action"), sid("course-of-action")
    extra = [{"type": "course-of-action", "spec_version": "2.1", "id": coa, "created": T0,
              "modified": T0, "name": "Block the C2", "description": "Block 192.0.2.10 at the "
              "perimeter.", "object_marking_refs": [GREEN]},
             {"type": "course-of-action", "spec_version": "2.1", "id": coa_amber,
              "created": T0, "modified": T0, "name": "Hidden advice",
              "object_marking_refs": [AMBER]}]
    for c_id, mk in ((coa, GREEN), (coa_amber, AMBER)):
        extra.append({"type": "relationship", "spec_version": "2.1", "id": sid("relationship"),
                      "created": T0, "modified": T0, "relationship_type": "mitigates",
                      "source_ref": c_id, "target_ref": i1, "object_marking_refs": [mk]})
    sklib.write_json(path, {"type": "bundle", "id": sid("bundle"), "objects": extra})
    node.run("import", "--quiet", "--collection", "shared", path, check=True)
    st, a = ana.get(f"alerts?after={cursor}")
    coas = a["alerts"][0].get("courses_of_action") if st == 200 and a["alerts"] else None
    R.check(coas is not None and {c["id"] for c in coas} == {coa, coa_amber}
            and any(c.get("description") == "Block 192.0.2.10 at the perimeter." for c in coas),
            f"an alert carries the courses of action that mitigate its indicator ({coas})")
    st, a = alf.get(f"alerts?after={cursor}")
    for al in a.get("alerts", []) if st == 200 else []:
        R.check(coa_amber not in {c["id"] for c in al.get("courses_of_action", [])},
                "a partner's alerts never show a course of action it may not see")
    st, ov = ana.get("overview")
    R.check(st == 200 and all(k in ov for k in ("since", "until", "received", "received_by_day",
                                                "shared", "sightings", "alerts",
                                                "detection_delay_s", "peers")), "overview keys")
    if st == 200:
        recvd = {(r["partner"], r["type"]): r["count"] for r in ov["received"]}
        R.check(recvd.get(("Alpha", "indicator")) == 1, f"received per partner {recvd}")
        R.check(ov["sightings"]["here"] >= 1 and ov["detection_delay_s"]["n"] >= 1,
                f"sightings here and detection delay {ov['sightings']} {ov['detection_delay_s']}")
        R.check(any(s["count"] > 0 for s in ov["shared"]), f"shared from the audit log {ov['shared']}")
    st, ov = alf.get("overview")
    R.check(st == 200 and ov["peers"] == [] and ov["shared"] == [], "partners see no node figures")
    st, _ = ana.get("overview?since=2025-01-01&until=2024-01-01")
    R.check(st == 400, "overview with since after until -> 400")


def sklib_basic(user, pw):
    import base64
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


if __name__ == "__main__":
    main()
