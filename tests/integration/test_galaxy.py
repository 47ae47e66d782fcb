#!/usr/bin/env python3
"""`schakel galaxy import`: MISP galaxy threat-actor clusters into STIX
(docs/galaxy.md), with the fictional fixtures in tests/fixtures/galaxies/.

- every cluster becomes a threat actor made by the named source identity
  (default "MISP galaxy (imported)"), TLP:CLEAR; its country a location with
  located-at; a named sponsor an attributed-to to a nation-state threat actor
  with the stated confidence; target categories targets relationships to sector
  identities (identity_class class, STIX sectors);
- joins to the intrusion sets already stored by ATT&CK id, name and alias are
  new attributed-to relationships of that source, never new versions of the
  intrusion sets;
- a second import stores nothing; a changed cluster gets a new version;
- a directory's other galaxies are skipped; malformed JSON, a cluster without
  value and a bad country code stop the import with the file and offset or
  cluster named, and nothing is stored;
- with ../shared/data (ATT&CK enterprise and the MISP threat-actor galaxy):
  APT28 is found for country RU and sector government (skipped when absent).
"""
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

FIX = sklib.fixture("galaxies")
ATTACK = os.path.join(FIX, "attack-small.json")
GALAXY = os.path.join(FIX, "threat-actor-small.json")
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def objects(node):
    """Every latest object in the store, by id (export of the whole store)."""
    r = node.run("export", "--latest", check=True)
    return {o["id"]: o for o in json.loads(r.out)["objects"]}


def versions(node, oid):
    r = node.run("get", oid, "--all-versions", "--compact", check=True)
    return len([ln for ln in r.out.splitlines() if ln.strip()])


def by_name(objs, t, name):
    return [o for o in objs.values() if o["type"] == t and o.get("name") == name]


def rels(objs, src=None, rtype=None, dst=None):
    return [o for o in objs.values() if o["type"] == "relationship"
            and (src is None or o["source_ref"] == src)
            and (rtype is None or o["relationship_type"] == rtype)
            and (dst is None or o["target_ref"] == dst)]


def basics(R):
    n = sklib.Node()
    n.run("import", ATTACK, check=True)
    before = objects(n)
    owl = by_name(before, "intrusion-set", "Owl Group")[0]
    r = n.run("galaxy", "import", GALAXY)
    R.check(r.code == 0, "galaxy import exits 0", r)
    R.check("4 clusters" in r.err and "1 by ATT&CK id, 1 by name, 1 by alias" in r.err,
            "summary: 4 clusters, joins by id, name and alias", r.err)
    objs = objects(n)
    src = by_name(objs, "identity", "MISP galaxy (imported)")
    R.check(len(src) == 1 and src[0]["identity_class"] == "organization",
            "the source identity is created", src)
    sid = src[0]["id"] if src else None
    ta = by_name(objs, "threat-actor", "PAPER OWL")
    R.check(len(ta) == 1, "cluster PAPER OWL is a threat actor", ta)
    if not ta:
        return
    ta = ta[0]
    R.check(ta.get("created_by_ref") == sid and ta.get("object_marking_refs") == [CLEAR],
            "made by the source, TLP:CLEAR", ta)
    R.check("Owl Team" in ta.get("aliases", []), "synonyms become aliases", ta)
    R.check({"source_name": "mitre-attack", "external_id": "G9001",
             "url": "https://attack.mitre.org/groups/G9001/"} in ta.get("external_references", []),
            "the ATT&CK group id is an external reference", ta)
    loc = [objs.get(x["target_ref"]) for x in rels(objs, ta["id"], "located-at")]
    R.check(len(loc) == 1 and loc[0] and loc[0].get("country") == "XA",
            "country XA: a location with located-at", loc)
    st = [(x, objs.get(x["target_ref"])) for x in rels(objs, ta["id"], "attributed-to")]
    R.check(len(st) == 1 and st[0][1] and "nation-state" in st[0][1].get("threat_actor_types", [])
            and st[0][0].get("confidence") == 75,
            "the sponsor: attributed-to a nation-state actor with confidence 75", st)
    if st and st[0][1]:
        sl = [objs.get(x["target_ref"]) for x in rels(objs, st[0][1]["id"], "located-at")]
        R.check(sl and sl[0].get("country") == "XA", "the state is located in XA", sl)
    secs = [objs.get(x["target_ref"]) for x in rels(objs, ta["id"], "targets")]
    R.check(sorted(s.get("name") for s in secs) == ["Government (sector)", "Water (sector)"]
            and all(s["identity_class"] == "class" for s in secs)
            and sorted(tuple(s.get("sectors", [])) for s in secs) == [("government",), ("water",)],
            "target categories: targets to sector identities with STIX sectors", secs)
    # joins: new relationships of the source, no new version of the intrusion sets
    j = rels(objs, owl["id"], "attributed-to", ta["id"])
    R.check(len(j) == 1 and j[0]["created_by_ref"] == sid and j[0].get("confidence") == 95,
            "Owl Group joined by ATT&CK id (attributed-to, confidence 95, by the source)", j)
    heron_is = by_name(objs, "intrusion-set", "GLASS HERON")[0]
    heron_ta = by_name(objs, "threat-actor", "GLASS HERON")[0]
    j = rels(objs, heron_is["id"], "attributed-to", heron_ta["id"])
    R.check(len(j) == 1 and j[0].get("confidence") == 85, "GLASS HERON joined by name", j)
    crane_is = by_name(objs, "intrusion-set", "Crane Set")[0]
    crane_ta = by_name(objs, "threat-actor", "TIN CRANE")[0]
    j = rels(objs, crane_is["id"], "attributed-to", crane_ta["id"])
    R.check(len(j) == 1 and j[0].get("confidence") == 60, "Crane Set joined by alias", j)
    for i in (owl, heron_is, crane_is):
        R.eq(versions(n, i["id"]), 1, "%s keeps its one version" % i["name"])
        R.eq(objs[i["id"]], before[i["id"]], "%s is unchanged" % i["name"])
    finch = by_name(objs, "threat-actor", "QUIET FINCH")[0]
    R.check(not rels(objs, finch["id"], "attributed-to") and not rels(objs, finch["id"], "located-at"),
            "sponsor 'Unknown' and no country: no attribution", finch)

    # idempotent
    stats = n.stats()
    r = n.run("galaxy", "import", GALAXY)
    R.check(r.code == 0 and "0 objects written" in r.err, "a second import writes nothing", r.err)
    R.eq(n.stats(), stats, "a second import leaves the store as it was")

    # a changed cluster: a new version of its threat actor
    d = json.load(open(GALAXY))
    d["values"][0]["description"] = "Fictional espionage actor, now better known (test)."
    changed = n.path("changed.json")
    json.dump(d, open(changed, "w"))
    r = n.run("galaxy", "import", changed)
    R.check(r.code == 0 and "1 objects written" in r.err, "a changed cluster writes one object", r.err)
    R.eq(versions(n, ta["id"]), 2, "the changed threat actor has a second version")
    n.cleanup()


def source_and_dir(R):
    n = sklib.Node()
    d = n.path("galaxies")
    os.mkdir(d)
    shutil.copy(GALAXY, d)
    shutil.copy(os.path.join(FIX, "sector-small.json"), d)
    r = n.run("galaxy", "import", "--source", "Example Galaxy Source", d)
    R.check(r.code == 0 and "sector-small.json: skipped" in r.err and "1 file(s), 4 clusters" in r.err,
            "a directory: threat-actor clusters imported, other galaxies skipped", r)
    objs = objects(n)
    src = by_name(objs, "identity", "Example Galaxy Source")
    R.check(len(src) == 1 and all(o.get("created_by_ref") == src[0]["id"]
                                  for o in objs.values() if o["type"] == "threat-actor"),
            "--source names the producing identity", src)
    r = n.run("galaxy", "import", os.path.join(FIX, "sector-small.json"))
    R.check(r.code != 0 and "not a threat-actor cluster file" in r.err,
            "a file of another galaxy is refused", r)
    r = n.run("galaxy", "import")
    R.check(r.code == 2, "no input: usage error", r)
    n.cleanup()


def bad_input(R):
    n = sklib.Node()
    n.run("import", ATTACK, check=True)
    stats = n.stats()
    cases = [("bad-malformed.json", ["malformed JSON", "offset 700"]),
             ("bad-novalue.json", ["cluster #1", "no value"]),
             ("bad-country.json", ["cluster #2 'TIN CRANE'", "bad country code 'XYZ'"])]
    for f, words in cases:
        p = os.path.join(FIX, f)
        # the good file first in the same run: all or nothing
        r = n.run("galaxy", "import", GALAXY, p)
        R.check(r.code == 1 and p in r.err and all(w in r.err for w in words)
                and "nothing stored" in r.err, "%s: a clear error naming file and place" % f, r)
        R.eq(n.stats(), stats, "%s: nothing is stored" % f)
    n.cleanup()


def shared_data(R):
    attack = sklib.shared("data", "stix", "enterprise-attack-18.1.stix20.json")
    gal = sklib.shared("data", "galaxies")
    if not (os.path.exists(attack) and os.path.isdir(gal)):
        R.skip("shared data absent (no ../shared/data/stix enterprise ATT&CK or galaxies; "
               "set SK_SHARED): APT28 for RU and government not checked")
        return
    n = sklib.Node()
    n.run("import", "--quiet", attack, check=True)
    r = n.run("galaxy", "import", gal)
    R.check(r.code == 0 and "1041 clusters" in r.err, "the MISP threat-actor galaxy imports", r)
    r = n.run("actors", "--country", "RU", "--sector", "government", "--json")
    actors = json.loads(r.out)["actors"] if r.code == 0 else []
    apt28 = [a for a in actors if a["type"] == "intrusion-set" and a["name"] == "APT28"]
    R.check(len(apt28) == 1, "ATT&CK's APT28 is found for RU and government", r)
    if apt28:
        R.check(apt28[0]["producer"]["name"] == "The MITRE Corporation"
                and any(c["code"] == "RU" for c in apt28[0]["countries"])
                and "government" in apt28[0]["sectors"], "its country and sector", apt28[0])
    n.cleanup()


def main(R):
    basics(R)
    source_and_dir(R)
    bad_input(R)
    shared_data(R)


if __name__ == "__main__":
    sklib.test_main(main)
