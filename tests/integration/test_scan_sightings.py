#!/usr/bin/env python3
"""The sightings `schakel scan` stores follow the node's sighting policy
(docs/sharing-policy.md, "Sightings"), the same as `serve --watch` and
`schakel sighting add`:

- sightings.anonymous false: created_by_ref and where_sighted_refs name the
  node's identity;
- sightings.anonymous true: they name the anonymous identity (only the
  node's sectors and country), which travels with the sighting in the same
  collections; the node's identity appears nowhere in the sighting;
- every sighting is marked with the indicator's TLP (its own marking, else
  the strictest default of the collections holding it), also when
  --collection puts it into a more open collection;
- without --collection the sighting lands in the collections holding the
  indicator; one sighting per (identity, indicator), versioned by later scans.
"""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402
from sklib import Results, write_text  # noqa: E402
from sync_util import TLP, import_objects  # noqa: E402

R = Results()


class N(sklib.Node):
    """A node initialised with a sector and a country; run() raises on failure
    unless check=False."""

    def __init__(self):
        super().__init__(name="Scan Utility Ltd", check=True, init_args=(
            "--sector", "water", "--country", "NL", "--contact", "soc@utility.example"))
        self.ident = self.identity()

    def jsonl(self, *args):
        p = self.run(*args, check=False)
        if p.returncode != 0:
            return []
        return [json.loads(x) for x in p.stdout.splitlines() if x.strip().startswith("{")]

    def sightings(self):
        return {s["sighting_of_ref"]: s for s in self.jsonl("list", "--type", "sighting", "--json")}

    def in_coll(self, coll, typ=None):
        args = ["list", "--collection", coll, "--json", "--limit", "100000"]
        if typ:
            args += ["--type", typ]
        return self.jsonl(*args)

    def versions(self, oid):
        return self.jsonl("get", "--all-versions", "--compact", oid)


def ind(ip, marking=None):
    o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": f"ip {ip}", "pattern": f"[ipv4-addr:value = '{ip}']", "pattern_type": "stix",
         "valid_from": "2024-01-01T00:00:00Z"}
    if marking:
        o["object_marking_refs"] = [TLP[marking]]
    return o


def main():
    with N() as n:
        run_all(n)
    R.finish()


def run_all(n):
    n.run("collection", "add", "intel", "--alias", "intel")  # default TLP:AMBER
    n.run("collection", "add", "open", "--alias", "open", "--default-tlp", "green")
    n.run("collection", "add", "public", "--alias", "public", "--default-tlp", "clear")
    green, red, plain, both = ind("203.0.113.10", "green"), ind("203.0.113.11", "red"), \
        ind("203.0.113.12"), ind("203.0.113.13")
    import_objects(n, [green, red, plain, both], "intel")
    import_objects(n, [both], "open")
    want_tlp = {green["id"]: TLP["green"], red["id"]: TLP["red"],
                plain["id"]: TLP["amber"],  # unmarked: the collection default, made explicit
                both["id"]: TLP["amber"]}   # unmarked in AMBER and GREEN collections: strictest
    log = write_text(n.path("net.log"),
                     "2024-05-01T10:00:00Z conn 192.0.2.1 -> 203.0.113.10\n"
                     "2024-05-01T10:00:01Z conn 192.0.2.1 -> 203.0.113.11\n"
                     "2024-05-01T10:00:02Z conn 192.0.2.1 -> 203.0.113.12\n"
                     "2024-05-01T10:00:03Z conn 192.0.2.1 -> 203.0.113.13\n"
                     "2024-05-01T10:00:04Z conn 192.0.2.1 -> 198.51.100.1\n")

    # --- anonymity off: the node's identity ------------------------------------------
    p = n.run("scan", "--quiet", "--format", "text", log, check=False)
    R.check(p.returncode == 0, f"scan exit 0 ({p.stderr})")
    hits = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    R.check(len(hits) == 4, f"four hits ({len(hits)})")
    s = n.sightings()
    R.check(sorted(s) == sorted(want_tlp), f"one sighting per indicator with hits ({sorted(s)})")
    for iid, sg in s.items():
        R.check(sg.get("created_by_ref") == n.ident, f"named: created_by_ref is the node ({sg})")
        R.check(sg.get("where_sighted_refs") == [n.ident], f"named: where_sighted_refs ({sg})")
        R.check(sg.get("object_marking_refs") == [want_tlp[iid]],
                f"marked like the indicator {iid[-6:]} ({sg.get('object_marking_refs')})")
        R.check(sg.get("count") == 1, f"count 1 ({sg})")
    named = {iid: sg["id"] for iid, sg in s.items()}
    intel_s = {o["id"] for o in n.in_coll("intel", "sighting")}
    open_s = {o["id"] for o in n.in_coll("open", "sighting")}
    R.check(intel_s == set(named.values()), f"sightings in the indicators' collection ({intel_s})")
    R.check(open_s == {named[both["id"]]}, f"and in every other collection holding it ({open_s})")

    # --- --collection: a more open collection does not loosen the marking -----------
    p = n.run("scan", "--quiet", "--format", "text", "--collection", "public", log, check=False)
    R.check(p.returncode == 0, f"scan --collection exit 0 ({p.stderr})")
    pub = {o["sighting_of_ref"]: o for o in n.in_coll("public", "sighting")}
    R.check(sorted(pub) == sorted(want_tlp), f"sightings in --collection ({sorted(pub)})")
    for iid, sg in pub.items():
        R.check(sg["id"] == named[iid], "the same sighting, versioned")
        R.check(sg.get("object_marking_refs") == [want_tlp[iid]],
                f"--collection keeps the indicator's marking ({sg.get('object_marking_refs')})")
        R.check(sg.get("count") == 2, f"count accumulated ({sg.get('count')})")
    vers = n.versions(named[red["id"]])
    R.check(len(vers) == 2 and vers[0]["created"] == vers[1]["created"]
            and vers[1]["modified"] > vers[0]["modified"], f"second version ({vers})")

    # --- anonymity on: the anonymous identity --------------------------------------
    n.run("config", "set", "sightings.anonymous", "true")
    p = n.run("scan", "--quiet", "--format", "text", log, check=False)
    R.check(p.returncode == 0, f"anonymous scan exit 0 ({p.stderr})")
    anon = {sg["sighting_of_ref"]: sg for sg in n.jsonl("list", "--type", "sighting", "--json")
            if sg["id"] not in named.values()}
    R.check(sorted(anon) == sorted(want_tlp), f"one anonymous sighting per indicator ({sorted(anon)})")
    who = {sg.get("created_by_ref") for sg in anon.values()}
    R.check(len(who) == 1 and n.ident not in who, f"anonymous: not created by the node ({who})")
    aid = next(iter(who)) if who else None
    for iid, sg in anon.items():
        R.check(sg.get("where_sighted_refs") == [aid], f"anonymous: where_sighted_refs ({sg})")
        R.check(n.ident not in json.dumps(sg), "anonymous: the node's id is not in the sighting")
        R.check(sg.get("object_marking_refs") == [want_tlp[iid]],
                f"anonymous: marked like the indicator ({sg.get('object_marking_refs')})")
        R.check(sg.get("count") == 1, f"anonymous: a sighting of its own ({sg.get('count')})")
    ident = n.jsonl("get", "--compact", aid) if aid else []
    ident = ident[0] if ident else {}
    R.check(ident.get("name") == "anonymous" and ident.get("sectors") == ["water"]
            and "contact_information" not in ident and "Utility" not in json.dumps(ident),
            f"the anonymous identity has only the sector ({ident})")
    intel_ids = {o["id"]: o for o in n.in_coll("intel")}
    R.check(aid in intel_ids, "the anonymous identity travels with the sighting (intel)")
    locs = [o for o in intel_ids.values() if o["type"] == "location" and o.get("created_by_ref") == aid]
    R.check(len(locs) == 1 and locs[0].get("country") == "NL" and set(locs[0]) <= {
        "type", "spec_version", "id", "created", "modified", "country", "created_by_ref"},
        f"and its location: only the country ({locs})")
    R.check(aid in {o["id"] for o in n.in_coll("open")}, "anonymous identity in 'open' too")

    # the anonymous sighting is versioned like the named one
    n.run("scan", "--quiet", "--format", "text", log)
    sid = anon[green["id"]]["id"] if green["id"] in anon else "sighting--x"
    vers = n.versions(sid)
    R.check(len(vers) == 2 and vers[-1].get("count") == 2 and vers[-1].get("created_by_ref") == aid,
            f"anonymous sighting versioned by the next scan ({vers})")

    # --- the same policy for `schakel sighting add` ----------------------------------
    sid = n.run("sighting", "add", plain["id"]).stdout.strip()
    one = n.jsonl("get", "--compact", sid)
    one = one[0] if one else {}
    R.check(one.get("created_by_ref") == aid and one.get("object_marking_refs") == [TLP["amber"]],
            f"sighting add: the same identity and marking ({one})")


if __name__ == "__main__":
    main()
