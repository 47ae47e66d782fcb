"""The write rule and the markings a version arrives under, attacked over real
HTTP on 127.0.0.1 (docs/threat-model.md, docs/sharing-policy.md "The write
rule"): one section per attack of the security issue, each reproducing it
and asserting that it fails.

- a stub with the id and modified of a hidden version neither links the
  stored original into the attacker's collection nor tells whether that
  version exists (the refusal is the same for every modified);
- a partner cannot version, revoke or silence another producer's object,
  nor claim this node as producer; a far-future version is refused; the
  producer's own copy replaces a forged one relayed before it;
- markings: an unmarked POST arrives at TLP:AMBER (never the collection's
  GREEN default); a custom TLP marking-definition counts only when the
  object's producer made it; a granular RED marking makes the object RED;
  a TLP marking-definition id with other content is refused;
- `import` without --from: others' AMBER never leaves (`export --for`);
  with --from PARTNER it goes back to that partner only;
- a kill -9 during a background POST leaves no status pending."""
import json
import uuid

from sklib import test_main
from sync_util import TLP, ids_in, indicator
from taxii_util import Node, bearer, TAXII

CT = {"Content-Type": TAXII}
TS = "2026-01-02T03:04:05.000Z"
_n = [0]


def ind(producer=None, marking=None, oid=None, modified=TS, revoked=False, **extra):
    """sync_util's indicator, created at TS, with its own documentation address."""
    _n[0] += 1
    o = indicator(producer, marking, oid, modified, revoked)
    o["created"] = TS
    o["pattern"] = f"[ipv4-addr:value = '203.0.113.{_n[0] % 250}']"
    o.update(extra)
    return o


def main():
    test_main(run, Node())


def run(node, R):
    me = node.identity()
    who = {}
    for p in ("Mallory", "Producer", "Reader"):
        who[p] = node.partner(p)
        node.account(p.lower(), p, f"pw-{p.lower()}-123")
    tok = {p: bearer(node.token(p.lower())) for p in who}
    for c, tlp in (("secret", "amber"), ("inbox", "green"), ("shared", "green")):
        node.run("collection", "add", c, "--alias", c, "--default-tlp", tlp)
    node.grant("Mallory", "inbox", "--read", "--write")
    node.grant("Producer", "shared", "--read", "--write", "--amber")
    node.grant("Mallory", "shared", "--read", "--write", "--amber")
    node.grant("Reader", "shared", "--read")
    # what the node holds in a collection Mallory has no grant on
    red = ind(me, "red")
    c2 = ind(me)  # the national centre's C2 indicator, made here
    src = node.path("own.json")
    with open(src, "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [red, c2]}, f)
    node.run("import", "--collection", "secret", src)
    node.start()

    def post(who_, coll, objs):
        st, _, data = node.request("POST", f"/api/collections/{coll}/objects/", tok[who_], CT,
                                   json.dumps({"objects": objs}).encode())
        try:
            return st, json.loads(data)
        except ValueError:
            return st, {}

    def visible(who_, coll, oid):
        st, _, j = node.get_json(f"/api/collections/{coll}/objects/{oid}/", tok[who_])
        return st == 200 and bool(j and j.get("objects"))

    def failure_texts(status):
        return [f.get("message", "").split(": ", 1)[-1] for f in status.get("failures", [])]

    # --- 1. a stub of a hidden version is never linked into the attacker's collection ---
    stub = {"type": "indicator", "spec_version": "2.1", "id": red["id"],
            "created": "2026-01-01T00:00:00.000Z",
            "modified": TS, "pattern": "[ipv4-addr:value = '192.0.2.1']",
            "pattern_type": "stix", "valid_from": TS}
    st, s = post("Mallory", "inbox", [stub])
    R.check(st == 202 and s.get("failure_count") == 1, f"stub refused ({st} {s})")
    R.check(not visible("Mallory", "inbox", red["id"]), "the RED original is not served to Mallory")
    # the exact bytes (a copy obtained elsewhere) are stored once and linked nowhere new
    st, s = post("Mallory", "inbox", [red])
    R.check(st == 202 and not visible("Mallory", "inbox", red["id"]),
            f"an exact copy does not link the original into inbox ({s})")
    st, _, j = node.get_json("/api/collections/inbox/objects/", tok["Mallory"])
    R.check(st == 200 and not (j or {}).get("objects"), "inbox holds nothing of the node's")

    # --- 2. probing: every modified gets the same answer --------------------------------
    probes = []
    for sec in [5] + list(range(0, 60, 3)):
        p = dict(stub)
        p["modified"] = f"2026-01-02T03:04:{sec:02d}.000Z"
        probes.append(p)
    unknown = dict(stub, id=f"indicator--{uuid.uuid4()}")
    st, s = post("Mallory", "inbox", probes)
    texts = set(failure_texts(s))
    R.check(len(texts) == 1 and s.get("failure_count") == len(probes),
            f"one refusal for every modified, the stored one included: {texts}")
    st, s2 = post("Mallory", "inbox", [unknown])
    R.check(s2.get("success_count") == 1, "an unknown id is simply stored")

    # --- 3. forged revocation of the centre's C2 indicator -----------------------------
    forged = dict(c2, modified="2026-01-03T00:00:00.000Z", revoked=True, created_by_ref=me)
    st, s = post("Mallory", "inbox", [forged])
    R.check(s.get("failure_count") == 1, f"a forged revocation is refused ({s})")
    got = json.loads(node.run("get", c2["id"]).out)
    R.check(not got.get("revoked") and got.get("modified") == TS,
            "the C2 indicator's latest version is still the centre's own")
    # a claim to be this node on a new object
    st, s = post("Mallory", "inbox", [ind(me)])
    R.check(s.get("failure_count") == 1 and "claims this node" in json.dumps(s),
            f"an object claiming this node as producer is refused ({s})")
    # far-future revocation of Mallory's own object (it may version it, but not from the future)
    mine = ind(who["Mallory"])
    post("Mallory", "inbox", [mine])
    st, s = post("Mallory", "inbox", [dict(mine, modified="2099-01-01T00:00:00.000Z",
                                           revoked=True)])
    R.check(s.get("failure_count") == 1 and "ahead of this node's clock" in json.dumps(s),
            f"a far-future version is refused ({s})")
    st, s = post("Mallory", "inbox", [dict(mine, modified="2026-01-05T00:00:00.000Z")])
    R.check(s.get("success_count") == 1, "its producer versions it normally")

    # --- 4. another producer's object: no new version, no silencing ------------------
    amber = ind(who["Producer"], "amber")
    st, s = post("Producer", "shared", [amber])
    R.check(s.get("success_count") == 1, "the producer posts its AMBER indicator")
    newer = dict(amber, modified="2026-01-04T00:00:00.000Z",
                 object_marking_refs=[TLP["clear"]])
    st, s = post("Mallory", "shared", [newer])
    R.check(s.get("failure_count") == 1, f"a newer version from Mallory is refused ({s})")
    st, _, j = node.get_json(f"/api/collections/shared/objects/{amber['id']}/", tok["Producer"])
    R.check(st == 200 and j["objects"][0]["modified"] == TS, "the producer's version stays latest")
    # a forged copy relayed first is replaced by the producer's own
    fake = ind(who["Producer"], "green")
    real = dict(fake, pattern="[ipv4-addr:value = '198.51.100.77']")
    st, s = post("Mallory", "shared", [fake])
    R.check(s.get("success_count") == 1, "Mallory relays a copy first")
    st, s = post("Producer", "shared", [real])
    R.check(s.get("success_count") == 1, f"the producer's own copy is accepted ({s})")
    st, _, j = node.get_json(f"/api/collections/shared/objects/{fake['id']}/", tok["Reader"])
    R.check(st == 200 and j["objects"][0]["pattern"] == real["pattern"],
            "readers get the producer's copy, not the relayed one")

    # --- 5. markings -------------------------------------------------------------------
    unmarked = ind(who["Producer"])
    post("Producer", "shared", [unmarked])
    R.check(not visible("Reader", "shared", unmarked["id"]),
            "an unmarked POST arrives at TLP:AMBER, not the collection's GREEN default")
    R.check(visible("Producer", "shared", unmarked["id"]), "its producer still sees it")
    # a custom TLP marking-definition (TLP 2.0 extension under an id of one's own):
    # honoured from the producer, AMBER from anyone else
    def tlp2(level, creator, **kw):
        return dict({"type": "marking-definition", "spec_version": "2.1",
                     "id": f"marking-definition--{uuid.uuid4()}", "created": TS,
                     "created_by_ref": creator, "name": f"TLP:{level.upper()}",
                     "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                                    {"extension_type": "property-extension",
                                     "tlp_2_0": level}}}, **kw)
    def_by = {}
    for p in ("Producer", "Mallory"):
        def_by[p] = tlp2("clear", who[p], object_marking_refs=[TLP["clear"]])
    own_clear = ind(who["Producer"])
    own_clear["object_marking_refs"] = [def_by["Producer"]["id"]]
    other_clear = ind(who["Producer"])
    other_clear["object_marking_refs"] = [def_by["Mallory"]["id"]]
    post("Mallory", "shared", [def_by["Mallory"]])
    st, s = post("Producer", "shared", [def_by["Producer"], own_clear, other_clear])
    R.check(s.get("success_count") == 3, f"custom TLP definitions stored ({s})")
    R.check(visible("Reader", "shared", own_clear["id"]),
            "a custom TLP:CLEAR made by the object's producer is CLEAR")
    R.check(not visible("Reader", "shared", other_clear["id"]),
            "a custom TLP:CLEAR made by someone else is treated as AMBER")
    red_def = tlp2("red", who["Producer"])
    # STIX 2.1 7.2.1.4: definition_type "tlp" exists only as the four STIX defines
    own_tlp1 = {"type": "marking-definition", "spec_version": "2.1",
                "id": f"marking-definition--{uuid.uuid4()}", "created": TS,
                "created_by_ref": who["Producer"], "definition_type": "tlp",
                "definition": {"tlp": "clear"}}
    st, s = post("Producer", "shared", [own_tlp1])
    R.check(s.get("failure_count") == 1 and "four STIX defines" in json.dumps(s),
            f"a definition_type tlp marking of one's own is refused ({s})")
    custom_red = ind(who["Producer"], "green")
    custom_red["object_marking_refs"] = [red_def["id"]]
    post("Producer", "shared", [red_def, custom_red])
    R.check(not visible("Reader", "shared", custom_red["id"]),
            "a custom TLP:RED by another id than the well-known one is RED")
    # granular RED on a GREEN object
    gran = ind(who["Producer"], "green",
               granular_markings=[{"marking_ref": TLP["red"], "selectors": ["pattern"]}])
    post("Producer", "shared", [gran])
    R.check(not visible("Reader", "shared", gran["id"]),
            "a GREEN object with a granular RED marking is not served to GREEN readers")
    # a marking-definition under the TLP:RED id that says clear
    liar = {"type": "marking-definition", "spec_version": "2.1", "id": TLP["red"],
            "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED",
            "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                           {"extension_type": "property-extension", "tlp_2_0": "clear"}}}
    st, s = post("Mallory", "shared", [liar])
    R.check(s.get("failure_count") == 1, f"TLP:RED id with clear content is refused ({s})")

    # --- 6. file imports: others' AMBER never counts as made here ----------------------
    node.partner("Third")
    theirs = ind(who["Producer"], "amber")
    back = ind(who["Producer"], "amber")
    for name, objs in (("nofrom.json", [theirs]), ("from.json", [back])):
        with open(node.path(name), "w") as f:
            json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, f)
    node.run("import", "--collection", "shared", node.path("nofrom.json"))
    node.run("import", "--collection", "shared", "--from", "Producer", node.path("from.json"))
    node.grant("Third", "shared", "--read", "--amber")

    def exported(partner):
        out = node.run("export", "--collection", "shared", "--for", partner).out
        return {o["id"] for o in json.loads(out)["objects"]}
    third, prod = exported("Third"), exported("Producer")
    R.check(theirs["id"] not in third and back["id"] not in third,
            "received AMBER (file with or without --from) is not exported for a third partner")
    R.check(theirs["id"] not in prod, "a file of unknown source never leaves at AMBER")
    R.check(back["id"] in prod, "with --from, the source gets its own AMBER back")

    # --- 7. kill -9 during a background POST -------------------------------------------
    bulk = [ind(who["Mallory"]) for _ in range(6000)]
    st, s = post("Mallory", "inbox", bulk)
    R.check(st == 202 and s.get("total_count") == 6000, f"large POST accepted ({st})")
    sid = s.get("id")
    node.server.kill()
    node.start()
    st, _, j = node.get_json(f"/api/status/{sid}/", tok["Mallory"])
    R.check(st == 200 and j.get("status") == "complete" and j.get("pending_count") == 0,
            f"after kill -9 the status is complete ({st} {j and j.get('status')})")
    if j:
        ids = {o["id"] for o in ids_in(node, "inbox")}
        stored = sum(1 for o in bulk if o["id"] in ids)
        R.check(j.get("success_count") == stored and
                j.get("failure_count") == 6000 - stored,
                f"its counts say what was stored: {j.get('success_count')} ok, "
                f"{j.get('failure_count')} failed, {stored} stored")
        R.check(stored in (0, 6000), f"an envelope is stored whole or not at all ({stored})")


if __name__ == "__main__":
    main()
