#!/usr/bin/env python3
"""The console's actors, sectors and timelines (/ui/api/actors, sectors,
timeline; docs/console.md) over HTTP against a real `schakel serve`, with the
fictional fixtures of tests/fixtures/galaxies.

- an analyst (the node's own people) finds a galaxy actor by an alias in the
  search (the import went through the store's writer and its search index),
  sees every actor, the galaxy's country
  and sector joins, the ATT&CK matrix, each sector's attackers, the
  organisations that sighted and the trend, and a campaign's timeline;
- a partner sees only what TAXII gives it: the actors of the collections it
  may read, never the AMBER intrusion set it has no AMBER grant for (not in
  the list, not in a sector, 404 on its page and timeline, like an unknown id);
- the demo data (demo/*.json published as the node's own, as scripts/setup.sh
  does): the sector page shows the demo utility's sighting under water, and
  VOLT KETTLE is attributed to its state (KETTLE COLLECTIVE, country XE);
- bad requests get clear 4xx JSON errors (unknown sector, bad country, an id
  that is none, a missing parameter), and nobody logged in gets 401.
"""
import glob
import json
import os
import subprocess
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from taxii_util import Node, basic  # noqa: E402

FIX = sklib.fixture("galaxies")
ANA = basic("ana", "ana-password")
ALPHA = basic("alpha", "alpha-password")


def get(n, path, auth=ANA):
    st, _, data = n.request("GET", "/ui/api/" + path, auth=auth, accept="application/json")
    try:
        return st, json.loads(data) if data else None
    except ValueError:
        return st, data


def main(n, R):
    n.run("import", "--collection", "intel", os.path.join(FIX, "attack-small.json"))
    n.run("galaxy", "import", "--quiet", os.path.join(FIX, "threat-actor-small.json"))
    n.run("account", "add", "ana", "--role", "analyst", "--password-stdin",
          stdin="ana-password\n")
    n.partner("Alpha", "--country", "BE")
    n.account("alpha", "Alpha", "alpha-password")
    n.grant("Alpha", "intel", "--read")  # no AMBER
    n.start()

    # --- analyst -------------------------------------------------------------
    st, d = get(n, "actors?country=XA&sector=government")
    R.check(st == 200 and sorted(a["name"] for a in d["actors"]) == ["Owl Group", "PAPER OWL"],
            "analyst: actors attributed to XA that target government", d)
    st, d = get(n, "actors")
    every = {a["name"]: a for a in d["actors"]} if st == 200 else {}
    R.check("Crane Set" in every and every["Crane Set"]["tlp"]["level"] == "amber",
            "analyst: the AMBER intrusion set is listed", list(every))
    owl = every.get("Owl Group", {})
    R.check(owl.get("techniques") == 3 and owl.get("campaigns") == 1
            and [c["code"] for c in owl.get("countries", [])] == ["XA"],
            "analyst: counts and countries", owl)
    st, d = get(n, "actors/" + owl.get("id", "x"))
    R.check(st == 200 and [t["shortname"] for t in d["matrix"]["tactics"]]
            == ["initial-access", "execution", "impact"]
            and d["sponsor"]["name"] == "XA (state)"
            and [a["confidence"] for a in d["attribution"]] == [95, 75],
            "analyst: actor page with attribution and matrix", d)

    st, d = get(n, "search?q=" + urllib.parse.quote("Owl Team"))
    R.check(st == 200 and "PAPER OWL" in [x["name"] for x in d.get("results", [])],
            "the galaxy import went through the search index: an alias finds its actor", d)

    st, d = get(n, "sectors")
    sec = {s["key"]: s for s in d["sectors"]} if st == 200 else {}
    R.check(list(sec) == ["water", "energy", "finance", "health", "government", "telecom",
                          "transport"], "sectors: the seven critical sectors in order", d)
    R.check(sec.get("water", {}).get("sightings") == 1 and "utilities" in sec["water"]["stix"]
            and sec.get("government", {}).get("targeted_by") == 1,
            "sectors: the utility's sighting under water; government targeted by one", sec)
    st, d = get(n, "sectors/water")
    att = sorted(a["name"] for a in d.get("attackers", [])) if st == 200 else []
    R.check({"QUILLWIPE", "Owl Group", "PAPER OWL"} <= set(att),
            "sectors/water: the malware sighted, who uses it, who targets water", att)
    R.check(st == 200 and [(p["name"], p["sightings"]) for p in d["partners"]]
            == [("Example Water Works (test)", 1)]
            and {"day": "2026-01-12", "sightings": 1, "targets": 0} in d["trend"]
            and sum(t["targets"] for t in d["trend"]) == 1
            and [t["day"] for t in d["trend"]] == sorted(t["day"] for t in d["trend"]),
            "sectors/water: who sighted, and the trend per day", d)

    camp = [a for a in get(n, "timeline?id=" + owl["id"])[1]["events"] if a["kind"] == "campaign"]
    R.check([c["detail"] for c in camp] == ["first seen", "last seen"],
            "timeline of an actor: its campaign's first and last seen", camp)
    st, d = get(n, "timeline?id=" + urllib.parse.quote(owl["id"]))
    kinds = {e["kind"] for e in d["events"]} if st == 200 else set()
    R.check({"version", "relationship", "campaign", "report", "sighting"} <= kinds
            and d["first_seen"] and d["last_seen"]
            and [e["time"] for e in d["events"]] == sorted(e["time"] for e in d["events"]),
            "timeline: versions, relationships, campaign, report, sightings, oldest first", d)

    # --- a partner: what TAXII gives it -----------------------------------------
    st, d = get(n, "actors", ALPHA)
    seen = {a["name"]: a for a in d["actors"]} if st == 200 else {}
    R.check(st == 200 and "Owl Group" in seen and "GLASS HERON" in seen
            and "Crane Set" not in seen and "PAPER OWL" not in seen,
            "partner: only actors of its collection, no AMBER", list(seen))
    R.check(seen.get("Owl Group", {}).get("countries") == []
            and seen.get("Owl Group", {}).get("sponsor") is None,
            "partner: no country from a collection it may not read", seen.get("Owl Group"))
    crane = every["Crane Set"]["id"]
    for path in ("actors/" + crane, "timeline?id=" + crane):
        st, d = get(n, path, ALPHA)
        st2, d2 = get(n, path.replace(crane[-12:], "000000000000"), ALPHA)
        R.check(st == 404 and st2 == 404 and set(d) == set(d2) == {"error", "status"},
                "partner: %s answers 404 like an unknown id" % path.split("?")[0], (d, d2))
    st, d = get(n, "sectors/transport", ALPHA)
    R.check(st == 200 and all(a["id"] != crane for a in d["attackers"]),
            "partner: the AMBER intrusion set is no attacker of transport", d)
    st, d = get(n, "sectors", ALPHA)
    tr = [s for s in d["sectors"] if s["key"] == "transport"] if st == 200 else []
    R.check(tr and tr[0]["targeted_by"] == 0,
            "partner: a visible targets relationship of a hidden actor is not counted", d)
    st, d = get(n, "sectors")
    tr = [s for s in d["sectors"] if s["key"] == "transport"] if st == 200 else []
    R.check(tr and tr[0]["targeted_by"] == 2, "analyst: transport targeted by two", d)
    st, d = get(n, "actors?sector=transport", ALPHA)
    R.check(st == 200 and d["actors"] == [], "partner: no hidden actor through a filter", d)

    # --- bad requests ------------------------------------------------------------
    for path, want, words in (("actors?sector=shipping", 400, "unknown sector"),
                              ("actors?country=XAX", 400, "ISO 3166-1"),
                              ("actors?q=" + "x" * 300, 400, "q:"),
                              ("actors/not-an-id", 404, "no such actor"),
                              ("sectors/shipping", 404, "unknown sector"),
                              ("timeline", 400, "id is required"),
                              ("timeline?id=bogus", 404, "no such object")):
        st, d = get(n, path)
        R.check(st == want and isinstance(d, dict) and d.get("status") == want
                and words in d.get("error", ""), "%s: %d with a clear error" % (path[:40], want), d)
    st, _ = get(n, "actors", None)
    R.eq(st, 401, "nobody logged in: 401")


def demo(R):
    n = Node()
    node_id = n.identity()
    for f in sorted(glob.glob(os.path.join(sklib.REPO, "demo", "*.json"))):
        own = subprocess.run([sys.executable, os.path.join(sklib.REPO, "scripts", "publish-as.py"),
                              f, node_id], capture_output=True, check=True).stdout
        path = n.path("own.json")
        with open(path, "wb") as fh:
            fh.write(own)
        n.run("import", "--quiet", "--collection", "demo", path)
    n.run("account", "add", "ana", "--role", "analyst", "--password-stdin",
          stdin="ana-password\n")
    n.start()
    st, d = get(n, "sectors/water")
    R.check(st == 200 and any(s["where"] == "Drinking-water utility (demo)" and s["count"] == 3
                              for s in d["sightings"])
            and "VOLT KETTLE" in [a["name"] for a in d["attackers"]],
            "demo: the utility's sighting under water, VOLT KETTLE among the attackers", d)
    st, d = get(n, "actors?q=VOLT%20KETTLE")
    vk = d["actors"][0] if st == 200 and d["actors"] else {}
    R.check(vk.get("sponsor") and vk["sponsor"]["name"] == "KETTLE COLLECTIVE"
            and [c["code"] for c in vk["countries"]] == ["XE"]
            and set(vk["sectors"]) == {"water", "energy"},
            "demo: VOLT KETTLE attributed to its state, country XE, water and energy", vk)
    n.cleanup()


def all_tests(n, R):
    main(n, R)
    demo(R)


if __name__ == "__main__":
    sklib.test_main(all_tests, Node())
