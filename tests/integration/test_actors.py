#!/usr/bin/env python3
"""`schakel actors`: threat actors and intrusion sets with their state
attribution, sectors and ATT&CK use (intel.h), on the fictional fixtures of
tests/fixtures/galaxies (an ATT&CK-like bundle and a MISP galaxy file).

- the list: countries through the attributed-to chain (an intrusion set
  joined to a galaxy actor has the galaxy's country), sectors from targets
  relationships to sector identities, counts of campaigns, malware and
  techniques (including its campaigns' techniques);
- the filters --country, --sector, --q, and the same answer as the console's
  JSON (--json);
- `actors show`: the attribution chain with confidences, the sponsor,
  campaigns, malware, tools, and the ATT&CK matrix with tactics in the
  matrix's order, techniques used directly, through a sub-technique or
  through a campaign;
- bad filters are usage errors with a clear message; an unknown id is an error.
"""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

FIX = sklib.fixture("galaxies")


def actors(n, *args):
    r = n.run("actors", "--json", *args, check=True)
    return json.loads(r.out)["actors"]


def names(lst):
    return sorted("%s/%s" % (a["type"], a["name"]) for a in lst)


def main(R):
    n = sklib.Node()
    n.run("import", os.path.join(FIX, "attack-small.json"), check=True)
    n.run("galaxy", "import", os.path.join(FIX, "threat-actor-small.json"), check=True)

    every = actors(n)
    R.check({"intrusion-set/Owl Group", "threat-actor/PAPER OWL", "intrusion-set/Crane Set",
             "threat-actor/XA (state)"} <= set(names(every)), "the list holds both kinds",
            names(every))
    owl = [a for a in every if a["name"] == "Owl Group"][0]
    R.eq([(c["code"], c["confidence"]) for c in owl["countries"]], [("XA", 75)],
         "Owl Group: country XA through the galaxy actor (confidence of the chain)")
    R.eq(owl["sectors"], ["water", "government"], "Owl Group: sectors in table order")
    R.eq((owl["campaigns"], owl["malware"], owl["tools"], owl["techniques"]), (1, 1, 1, 3),
         "Owl Group: one campaign, malware and tool; three techniques (one via its campaign)")
    R.check(owl["sponsor"] and owl["sponsor"]["name"] == "XA (state)", "its sponsor", owl)
    R.check(owl["tlp"]["level"] == "clear" and owl["producer"]["name"].startswith("Example ATT&CK"),
            "summary: TLP and producer", owl)

    R.eq(names(actors(n, "--country", "xa", "--sector", "government")),
         ["intrusion-set/Owl Group", "threat-actor/PAPER OWL"],
         "--country XA --sector government (any case)")
    R.eq(names(actors(n, "--sector", "finance")),
         ["intrusion-set/GLASS HERON", "threat-actor/GLASS HERON"], "--sector finance")
    R.eq(names(actors(n, "--sector", "transport")),
         ["intrusion-set/Crane Set", "threat-actor/TIN CRANE"], "--sector transport (alias join)")
    R.eq(names(actors(n, "--q", "night owls")), ["intrusion-set/Owl Group"], "--q finds an alias")
    R.eq(names(actors(n, "--q", "G9002")), ["intrusion-set/GLASS HERON"],
         "--q finds an ATT&CK id")
    R.eq(actors(n, "--country", "XB", "--sector", "water"), [], "no match: an empty list")
    r = n.run("actors", "--country", "XA")
    R.check(r.code == 0 and "Owl Group" in r.out and "XA" in r.out and "water,government" in r.out,
            "the table for people", r)

    r = n.run("actors", "--sector", "shipping")
    R.check(r.code == 2 and "unknown sector 'shipping'" in r.err, "an unknown sector: usage", r)
    r = n.run("actors", "--country", "XAX")
    R.check(r.code == 2 and "ISO 3166-1" in r.err, "a bad country: usage", r)

    r = n.run("actors", "show", owl["id"], "--json", check=True)
    d = json.loads(r.out)
    R.eq([(a["from"]["name"], a["relationship_type"], a["to"]["name"], a["confidence"])
          for a in d["attribution"]],
         [("Owl Group", "attributed-to", "PAPER OWL", 95),
          ("PAPER OWL", "attributed-to", "XA (state)", 75)], "the attribution chain")
    R.eq(([c["name"] for c in d["campaigns"]], [m["name"] for m in d["malware"]],
          [t["name"] for t in d["tools"]]),
         (["Operation PAPER TRAIL"], ["QUILLWIPE"], ["inkpot"]), "campaigns, malware, tools")
    m = d["matrix"]
    R.eq([t["shortname"] for t in m["tactics"]], ["initial-access", "execution", "impact"],
         "tactics as columns, in the matrix's order")
    used = {t["shortname"]: sorted(x["external_id"] for x in t["techniques"] if x["used"])
            for t in m["tactics"]}
    R.eq(used, {"initial-access": ["T1566"], "execution": ["T1059"], "impact": ["T1485"]},
         "used: direct, through a sub-technique, through a campaign")
    allt = {t["shortname"]: sorted(x["external_id"] for x in t["techniques"]) for t in m["tactics"]}
    R.eq(allt["initial-access"], ["T1078", "T1566"], "unused techniques are listed too, "
         "sub-techniques are not columns")
    r = n.run("actors", "show", owl["id"])
    R.check(r.code == 0 and "sponsor: XA (state)" in r.out and "T1059" in r.out
            and "(confidence 75)" in r.out, "show for people", r)
    r = n.run("actors", "show", "intrusion-set--00000000-0000-4000-8000-000000000000")
    R.check(r.code == 1 and "no such actor" in r.err, "an unknown actor", r)
    n.cleanup()


if __name__ == "__main__":
    sklib.test_main(main)
