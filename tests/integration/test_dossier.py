#!/usr/bin/env python3
"""`schakel dossier build` and `schakel opinion add` (docs/dossier.md), on the
fixture tests/fixtures/dossier/kestrel.json: the intrusion set KESTREL SET
attributed to a nation-state threat actor located in country XA (and to a
person, without a confidence), two campaigns (one TLP:AMBER), malware, a
tool, infrastructure, attack patterns with kill chain phases, indicators
(one never sighted, one AMBER) and sightings at two partners with sectors.

- the author's version: the chain and its weakest-link confidence, counts
  of campaigns, techniques, malware and sightings equal to an independent
  count made here from the bundle; sightings by partner with sectors; the
  gaps; the legal test; items marked with the partners that may not
  receive them;
- the releasable version for a GREEN-only partner holds no AMBER object, id,
  count or marking, every figure recomputed, and the exit is audited;
- HTML: one self-contained document (no URL, a CSP forbidding requests, a
  print stylesheet, SVG figures, TLP banners), screenshotted in headless
  Chromium when it is installed; STIX: a signed report bundled with the
  objects it references, importable elsewhere;
- opinions: `opinion add` and the tally per report version, with a redraft
  showing who has not answered it yet;
- bad input: an unknown subject, no attribution, a cycle of attributed-to,
  a bounded dossier that names the lists it cut;
- the demo's VOLT KETTLE / KETTLEWIPE set: counts equal an independent count,
  the state actor, the wiper's technique read as data interference;
- a huge subject (3,000 indicators, 400 sightings, 300 techniques): every
  figure counts everything, every long list is cut and says so, the JSON and
  HTML stay bounded;
- ATT&CK enterprise (skipped without /work/shared): APT28's technique and
  campaign counts equal an independent count from the bundle, and the
  dossier stays bounded.
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

FIX = sklib.fixture("dossier", "kestrel.json")
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def load_bundle(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["objects"]


def by_name(objs, t, name):
    return [o for o in objs if o["type"] == t and o.get("name") == name][0]


class Model:
    """An independent reading of a bundle: what a dossier of `subject` must count,
    for a recipient that sees the objects `seen` admits."""

    def __init__(self, objs, subject, seen=lambda o: True):
        self.objs = {o["id"]: o for o in objs if seen(o)}
        live = [o for o in self.objs.values() if not o.get("revoked")
                and not o.get("x_mitre_deprecated")]
        self.live = {o["id"]: o for o in live}
        rels = [o for o in live if o["type"] == "relationship"
                and o["source_ref"] in self.live and o["target_ref"] in self.live]
        act = {subject}
        grew = True
        while grew:
            grew = False
            for r in rels:
                if r["relationship_type"] == "attributed-to" and r["target_ref"] in act \
                        and r["source_ref"].split("--")[0] in ("campaign", "intrusion-set") \
                        and r["source_ref"] not in act:
                    act.add(r["source_ref"])
                    grew = True
        self.activity = act
        uses = [r for r in rels if r["relationship_type"] == "uses" and r["source_ref"] in act]
        self.campaigns = {a for a in act if a.startswith("campaign--")}
        self.techniques = {r["target_ref"] for r in uses
                           if r["target_ref"].startswith("attack-pattern--")}
        self.malware = {r["target_ref"] for r in uses if r["target_ref"].startswith("malware--")}
        self.tools = {r["target_ref"] for r in uses if r["target_ref"].startswith("tool--")}
        targets = act | self.malware | self.tools
        self.indicators = {r["source_ref"] for r in rels if r["relationship_type"] == "indicates"
                           and r["target_ref"] in targets}
        self.sightings = [o for o in live if o["type"] == "sighting"
                          and (o["sighting_of_ref"] in self.indicators
                               or o["sighting_of_ref"] in act)]
        sighted = {s["sighting_of_ref"] for s in self.sightings}
        self.never = self.indicators - sighted


def not_amber(o):
    return AMBER not in o.get("object_marking_refs", [])


def build(n, *args, check=True):
    r = n.run("dossier", "build", *args)
    if check and r.code != 0:
        raise RuntimeError("dossier build failed: %r" % r)
    return (json.loads(r.out) if r.code == 0 and "--output" not in args
            and ("--format" not in args or "json" in args) else None), r


def items_with_prov(v, out):
    if isinstance(v, dict):
        if "provenance" in v:
            out.append(v)
        for x in v.values():
            items_with_prov(x, out)
    elif isinstance(v, list):
        for x in v:
            items_with_prov(x, out)
    return out


def author(n, R, objs):
    iset = by_name(objs, "intrusion-set", "KESTREL SET")
    m = Model(objs, iset["id"])
    d, _ = build(n, "kestrel group")  # by alias, any case
    R.eq(d["subject"]["id"], iset["id"], "the subject found by an alias in any case")
    a = d["attribution"]
    R.eq((a["result"], a["confidence"]), ("state", 70),
         "attributed to a state; the weakest link (70 of 85 and 70) bounds the chain")
    R.eq([c["country"] for c in a["countries"]], ["XA"], "the country of the chain")
    R.eq([s["name"] for s in a["states"]], ["XA Unit 7 (state)"], "the nation-state actor")
    R.check(all("provenance" in l and l["evidence"] for l in a["links"]),
            "every link carries evidence and provenance", a["links"])
    act = d["activity"]
    R.eq(act["counts"]["campaigns"], len(m.campaigns), "campaigns: the independent count")
    R.eq(act["techniques"]["count"], len(m.techniques), "techniques: the independent count")
    R.eq((act["counts"]["malware"], act["counts"]["tools"]), (len(m.malware), len(m.tools)),
         "malware and tools: the independent count")
    R.eq(sorted(act["techniques"]["tactics"]),
         sorted({p["phase_name"] for t in m.techniques
                 for p in m.live[t]["kill_chain_phases"]}),
         "the tactics of the techniques")
    used = sorted(t["external_id"] for col in act["techniques"]["matrix"]["tactics"]
                  for t in col["techniques"])
    R.check({"T1566", "T1059", "T1485", "T1040"} <= set(used), "the matrix holds the techniques",
            used)
    imp = d["impact"]
    R.eq((imp["sightings"], imp["count"]),
         (len(m.sightings), sum(s.get("count", 1) for s in m.sightings)),
         "sightings and their counts: the independent count")
    R.eq(imp["never_sighted"]["count"], len(m.never), "indicators never sighted")
    parts = {p["partner_name"]: p for p in imp["by_partner"]}
    R.eq(sorted(parts), ["bank", "energy"], "sightings from both partners")
    R.eq((parts["energy"]["sectors"], parts["bank"]["sectors"]), (["energy"], ["finance"]),
         "with their sectors")
    R.eq(sorted(c["key"] for c in imp["critical_sectors"]), ["energy", "finance"],
         "critical sectors touched")
    g = d["gaps"]
    R.eq([(x["from"], x["to"]) for x in g["links_without_confidence"]],
         [("XA Unit 7 (state)", "J. Doe (example)")], "a link without confidence is a gap")
    R.check(g["unsigned_or_unverified"]["count"] > 0, "unsigned items are a gap", g)
    lt = {c["key"]: c for c in d["legal_test"]["criteria"]}
    R.eq(lt["external_threat"]["status"], "supported", "external threat: XA is outside the Union")
    R.eq(lt["affected"]["status"], "supported", "affected: critical sectors")
    acts = {x["action"].split(" (")[0]: x["status"] for x in lt["kind_of_action"]["actions"]}
    R.eq(acts["data interference"], "supported", "data interference: T1485")
    R.check(any(f["status"] == "unknown" for f in lt["significant_effect"]["factors"]),
            "what the node cannot know is unknown", lt["significant_effect"])
    R.eq([p["name"] for p in d["listing"]["persons_and_entities"]], ["J. Doe (example)"],
         "the listing part names the person apart from the chain")
    R.check("does not make one" in d["statement"], "the dossier says it informs, not decides")
    amber = {o["id"] for o in objs if not not_amber(o)}
    marked = [i for i in items_with_prov(d, []) if i["id"] in amber]
    R.check(marked and all("bank" in i["provenance"]["not_releasable_to"] for i in marked),
            "the author's version marks what the GREEN-only partner may not receive", marked)
    R.eq(d["tlp"]["level"], "amber", "the document's marking: the most restrictive shown")
    return d


def releasable(n, R, objs):
    iset = by_name(objs, "intrusion-set", "KESTREL SET")
    m = Model(objs, iset["id"], not_amber)
    d, r = build(n, iset["id"], "--for", "bank")
    text = r.out
    amber = [o["id"] for o in objs if not not_amber(o)]
    R.eq([i for i in amber if i in text], [], "no AMBER id in the releasable version")
    R.check("amber" not in text.lower() and "SECRET LEDGER" not in text,
            "no AMBER marking or name", [w for w in ("amber", "LEDGER") if w in text])
    R.eq(d["activity"]["counts"]["campaigns"], len(m.campaigns),
         "campaigns recomputed from the releasable evidence")
    R.eq(d["activity"]["techniques"]["count"], len(m.techniques), "techniques recomputed")
    R.eq((d["impact"]["sightings"], d["impact"]["count"]),
         (len(m.sightings), sum(s.get("count", 1) for s in m.sightings)),
         "sightings and counts recomputed")
    R.eq(d["for"], "bank", "the version names its recipient")
    R.check("not_releasable_to" not in text, "nothing says what was left out")
    R.check("partner_name" not in text and "file:unknown" not in text,
            "the releasable version names neither our partners' labels nor our sources")
    R.check('"partner": true' not in text and '"partner":true' not in text,
            "the releasable version does not say which organisations are our partners")
    a = n.run("audit", "list", check=True).out
    R.check("dossier.for" in a and "partner:bank" in a, "the exit is in the audit log", a[-800:])
    html = n.path("bank.html")
    build(n, iset["id"], "--for", "bank", "--format", "html", "--output", html)
    with open(html, encoding="utf-8") as f:
        h = f.read()
    R.check("TLP:AMBER" not in h and "TLP:GREEN" in h, "the releasable HTML is GREEN")
    R.eq(oct(os.stat(html).st_mode & 0o777), "0o600", "the output file is owner-only")
    out = n.path("bank-stix.json")
    build(n, iset["id"], "--for", "bank", "--format", "stix", "--output", out)
    with open(out, encoding="utf-8") as f:
        b = json.load(f)
    R.check(not any(not not_amber(o) for o in b["objects"]), "the STIX bundle holds no AMBER object")


def html_and_stix(n, R, objs):
    out = n.path("d.html")
    _, r = build(n, "KESTREL SET", "--format", "html", "--output", out)
    R.check("written to" in r.err, "says where the HTML was written", r)
    with open(out, encoding="utf-8") as f:
        h = f.read()
    R.check("http://" not in h and "https://" not in h and " src=" not in h
            and "<link" not in h, "self-contained: no URL, no external resource")
    R.check("default-src 'none'" in h, "a CSP that forbids any request")
    R.check("@media print" in h and "<svg" in h and h.count('class="tlp sec') >= 8,
            "print stylesheet, SVG figures, a TLP banner per section")
    R.check('class="tlp page t-amber"' in h, "the page banner carries the most restrictive level")
    if shutil.which("chromium"):
        shot = n.path("dossier.png")
        p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                            "--screenshot=" + shot, "--window-size=1200,2400",
                            "file://" + out], capture_output=True, timeout=120)
        R.check(p.returncode == 0 and os.path.getsize(shot) > 10000,
                "headless Chromium renders and screenshots it", p.stderr[-500:])
    out = n.path("d.json")
    build(n, "KESTREL SET", "--format", "stix", "--output", out)
    with open(out, encoding="utf-8") as f:
        b = json.load(f)
    rep = b["objects"][0]
    R.eq((rep["type"], rep["report_types"], rep["labels"]),
         ("report", ["intrusion-set"], ["attribution-dossier"]), "the report")
    R.check(any("sig" in e for e in rep.get("extensions", {}).values()), "signed by the node", rep)
    R.check({o["id"] for o in b["objects"][1:]} <= set(rep["object_refs"]),
            "object_refs reference every object bundled")
    other = sklib.Node(name="other node")
    r = other.run("import", out)
    R.check(r.code == 0, "another node imports the bundle", r)
    other.cleanup()


def opinions(n, R, objs):
    rep = by_name(objs, "report", "KESTREL SET: the DRY RIVER wiper campaign")
    r = n.run("opinion", "add", rep["id"], "--opinion", "agree", "--explanation",
              "our sensors saw the DRY RIVER C2", check=True)
    oid = r.out.strip()
    R.check(oid.startswith("opinion--"), "opinion add prints the opinion's id", r)
    d, _ = build(n, "KESTREL SET")
    reps = {x["id"]: x for x in d["opinions"]["reports"]}
    v = reps[rep["id"]]["versions"]
    R.eq((len(v), v[0]["tally"]), (1, {"agree": 1}), "the tally of the version answered")
    R.eq(v[0]["opinions"][0]["provenance"]["signature"], "verified", "the opinion is signed")
    # a redraft: the opinion counts for the version it answered
    later = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1)) + ".000Z"
    new = dict(rep, modified=later, name=rep["name"] + " (redraft)")
    p = n.path("redraft.json")
    sklib.write_json(p, {"type": "bundle", "id": "bundle--5b1d6b43-3a6c-4f43-9a8e-0c4c7c8e1e01",
                         "objects": [new]})
    n.run("import", p, check=True)
    d, _ = build(n, "KESTREL SET")
    v = {x["id"]: x for x in d["opinions"]["reports"]}[rep["id"]]["versions"]
    R.eq([x["tally"] for x in v], [{"agree": 1}, {}],
         "a redraft: the opinion stays with the first version")
    R.eq([x["name"] for x in v[1]["not_yet_answered"]], ["test node"],
         "the redraft shows who has not answered it yet")
    r = n.run("opinion", "add", rep["id"], "--opinion", "perhaps")
    R.check(r.code == 2 and "strongly-disagree" in r.err, "a bad opinion value: usage", r)
    r = n.run("opinion", "add", "report--00000000-0000-4000-8000-000000000000",
              "--opinion", "agree")
    R.check(r.code == 1 and "no such report" in r.err, "an unknown report", r)


def bad_input(n, R):
    _, r = build(n, "NO SUCH GROUP", check=False)
    R.check(r.code == 1 and "no visible intrusion set" in r.err, "an unknown subject", r)
    _, r = build(n, "intrusion-set--00000000-0000-4000-8000-000000000000", check=False)
    R.check(r.code == 1 and "no visible" in r.err, "an unknown id", r)
    _, r = build(n, "KESTREL SET", "--format", "pdf", check=False)
    R.check(r.code == 2 and "json, html or stix" in r.err, "an unknown format: usage", r)
    _, r = build(n, "KESTREL SET", "--since", "yesterday", check=False)
    R.check(r.code == 2 and "RFC 3339" in r.err, "a bad --since: usage", r)
    T = "2026-03-01T10:00:00.000Z"
    ids = ["intrusion-set--0f2c0d1e-6a55-4c71-9a53-8d1b0c0e%04x" % i for i in range(3)]
    objs = [{"type": "intrusion-set", "spec_version": "2.1", "id": ids[i], "created": T,
             "modified": T, "name": "LONE SET %d" % i,
             "object_marking_refs": [GREEN]} for i in range(3)]
    objs += [{"type": "relationship", "spec_version": "2.1",
              "id": "relationship--8d0e4a55-2f4b-4a51-8c1e-5f4d3a2b%04x" % i, "created": T,
              "modified": T, "relationship_type": "attributed-to", "source_ref": s,
              "target_ref": t, "confidence": 50, "object_marking_refs": [GREEN]}
             for i, (s, t) in enumerate([(ids[1], ids[2]), (ids[2], ids[1])])]
    p = n.path("odd.json")
    sklib.write_json(p, {"type": "bundle", "id": "bundle--0a5e8f7c-6d0b-4b8e-a1f4-2b0d7c1e9a30",
                         "objects": objs})
    n.run("import", p, check=True)
    d, _ = build(n, "lone set 0")
    R.eq((d["attribution"]["result"], d["attribution"]["confidence"]), ("none", None),
         "no attribution: said so, no confidence")
    R.check("no attribution" in d["attribution"]["explanation"]
            and "no attribution" in d["executive_summary"]["how_sure"],
            "the summary says there is no attribution", d["executive_summary"])
    d, r = build(n, "LONE SET 1")
    cyc = d["attribution"]["cycles"]
    R.check(r.code == 0 and len(cyc) == 1 and len(cyc[0]) == 2,
            "an attributed-to cycle is found, reported and not followed", d["attribution"])
    R.eq(d["gaps"]["attributed_to_cycles"], cyc, "and listed among the gaps")
    long_name = "Ωμέγα " * 150  # cut mid-character by the summary's and report's bounds
    sklib.write_json(p, {"type": "bundle", "id": "bundle--0a5e8f7c-6d0b-4b8e-a1f4-2b0d7c1e9a31",
                         "objects": [{"type": "intrusion-set", "spec_version": "2.1",
                                      "id": "intrusion-set--0f2c0d1e-6a55-4c71-9a53-8d1b0c0effff",
                                      "created": T, "modified": T, "name": long_name,
                                      "object_marking_refs": [GREEN]}]})
    n.run("import", p, check=True)
    d, _ = build(n, "intrusion-set--0f2c0d1e-6a55-4c71-9a53-8d1b0c0effff")
    R.check(d["executive_summary"]["who"].startswith("Ωμέγα"),
            "a long non-ASCII name is cut on a character boundary", d.get("executive_summary"))
    out = n.path("long.json")
    _, r = build(n, "intrusion-set--0f2c0d1e-6a55-4c71-9a53-8d1b0c0effff", "--format", "stix",
                 "--output", out, check=False)
    R.check(r.code == 0, "and its signed report too", r)
    d, _ = build(n, "KESTREL SET", "--max", "1")
    cut = {c["list"]: c for c in d["limits"]["cut"]}
    R.check("techniques" in cut and cut["techniques"]["total"] == 4
            and len(d["activity"]["techniques"]["list"]) == 1,
            "a bounded list says it was cut, and how much", d["limits"])
    d, _ = build(n, "KESTREL SET", "--since", "2026-02-01T00:00:00Z")
    R.eq(d["impact"]["sightings"], 2, "--since leaves earlier sightings out")


def demo_set(R):
    """The demo's KETTLEWIPE / VOLT KETTLE set (demo/federation/ncc-kettlewipe.json)."""
    path = os.path.join(sklib.REPO, "demo", "federation", "ncc-kettlewipe.json")
    objs = load_bundle(path)
    vk = by_name(objs, "intrusion-set", "VOLT KETTLE")
    m = Model(objs, vk["id"])
    soft = m.malware | m.tools
    via = {o["target_ref"] for o in objs if o["type"] == "relationship"
           and o["relationship_type"] == "uses" and o["source_ref"] in soft
           and o["target_ref"].startswith("attack-pattern--")} - m.techniques
    n = sklib.Node()
    n.run("import", path, check=True)
    d, _ = build(n, "volt kettle")
    R.eq((d["activity"]["counts"]["campaigns"], d["activity"]["counts"]["malware"],
          d["activity"]["techniques"]["count"], d["activity"]["techniques"]["via_software"]["count"]),
         (len(m.campaigns), len(m.malware), len(m.techniques), len(via)),
         "demo set: campaigns, malware, techniques and those of its malware: independent count")
    R.eq([s["name"] for s in d["attribution"]["states"]], ["KETTLE COLLECTIVE"],
         "demo set: VOLT KETTLE is attributed to its state actor")
    acts = {x["action"].split(" (")[0]: x["status"]
            for x in [c for c in d["legal_test"]["criteria"]
                      if c["key"] == "kind_of_action"][0]["actions"]}
    R.eq(acts["data interference"], "supported", "demo set: the wiper's T1485 is data interference")
    R.eq(d["impact"]["indicators"], len({i for i in m.indicators}),
         "demo set: the indicators of VOLT KETTLE and KETTLEWIPE")
    n.cleanup()


def huge(R):
    """A subject with thousands of indicators, sightings and techniques: bounded, and says so."""
    T = "2026-03-01T10:00:00.000Z"
    sid = "intrusion-set--9a6c1f1e-0000-4000-8000-000000000001"
    objs = [{"type": "intrusion-set", "spec_version": "2.1", "id": sid, "created": T,
             "modified": T, "name": "HUGE SET", "object_marking_refs": [GREEN]}]
    who = "identity--9a6c1f1e-0000-4000-8000-0000000000ff"
    objs.append({"type": "identity", "spec_version": "2.1", "id": who, "created": T,
                 "modified": T, "name": "Sensor (example)", "sectors": ["water"],
                 "object_marking_refs": [GREEN]})
    for i in range(3000):
        ind = "indicator--9a6c1f1e-0000-4000-8001-%012d" % i
        objs.append({"type": "indicator", "spec_version": "2.1", "id": ind, "created": T,
                     "modified": T, "pattern": "[ipv4-addr:value = '198.51.100.%d']" % (i % 250),
                     "pattern_type": "stix", "valid_from": T, "object_marking_refs": [GREEN]})
        objs.append({"type": "relationship", "spec_version": "2.1",
                     "id": "relationship--9a6c1f1e-0000-4000-8002-%012d" % i, "created": T,
                     "modified": T, "relationship_type": "indicates", "source_ref": ind,
                     "target_ref": sid, "object_marking_refs": [GREEN]})
        if i < 400:
            objs.append({"type": "sighting", "spec_version": "2.1",
                         "id": "sighting--9a6c1f1e-0000-4000-8003-%012d" % i, "created": T,
                         "modified": T, "sighting_of_ref": ind, "where_sighted_refs": [who],
                         "count": 2, "object_marking_refs": [GREEN]})
        if i < 300:
            ap = "attack-pattern--9a6c1f1e-0000-4000-8004-%012d" % i
            objs.append({"type": "attack-pattern", "spec_version": "2.1", "id": ap,
                         "created": T, "modified": T, "name": "technique %d" % i,
                         "object_marking_refs": [GREEN]})
            objs.append({"type": "relationship", "spec_version": "2.1",
                         "id": "relationship--9a6c1f1e-0000-4000-8005-%012d" % i, "created": T,
                         "modified": T, "relationship_type": "uses", "source_ref": sid,
                         "target_ref": ap, "object_marking_refs": [GREEN]})
    n = sklib.Node()
    p = n.path("huge.json")
    sklib.write_json(p, {"type": "bundle", "id": "bundle--9a6c1f1e-0000-4000-8000-0000000000aa",
                         "objects": objs})
    n.run("import", "--quiet", p, check=True)
    d, r = build(n, "HUGE SET")
    cut = {c["list"]: (c["shown"], c["total"]) for c in d["limits"]["cut"]}
    R.eq((d["impact"]["indicators"], d["impact"]["sightings"], d["impact"]["count"],
          d["activity"]["techniques"]["count"]), (3000, 400, 800, 300),
         "a huge subject: every figure counts everything")
    R.eq((cut.get("sightings"), cut.get("indicators_never_sighted"), cut.get("techniques")),
         ((200, 400), (200, 2600), (200, 300)), "and every long list is cut and says so")
    R.check(len(r.out) < 3 << 20, "the dossier stays under 3 MiB", len(r.out))
    out = n.path("huge.html")
    build(n, "HUGE SET", "--format", "html", "--output", out)
    R.check(os.path.getsize(out) < 2 << 20, "and so does its HTML", os.path.getsize(out))
    n.cleanup()


def attack(R):
    path = sklib.shared("data", "stix", "enterprise-attack-18.1.stix20.json")
    if not os.path.exists(path):
        print("SKIP (part): %s absent: no ATT&CK check" % path)
        return
    n = sklib.Node()
    n.run("import", "--quiet", path, check=True)
    objs = load_bundle(path)
    apt28 = by_name(objs, "intrusion-set", "APT28")
    for o in objs:  # STIX 2.0: no spec_version; the Model reads the same fields
        o.setdefault("spec_version", "2.0")
    m = Model(objs, apt28["id"])
    d, r = build(n, "APT28")
    R.eq(d["subject"]["id"], apt28["id"], "ATT&CK: APT28 by name")
    R.eq(d["activity"]["techniques"]["count"], len(m.techniques),
         "ATT&CK: APT28's technique count equals the independent count")
    R.eq(d["activity"]["counts"]["campaigns"], len(m.campaigns),
         "ATT&CK: APT28's campaigns equal the independent count")
    R.eq((d["activity"]["counts"]["malware"], d["activity"]["counts"]["tools"]),
         (len(m.malware), len(m.tools)), "ATT&CK: malware and tools")
    R.check(len(r.out) < 4 << 20, "the dossier stays bounded (under 4 MiB)", len(r.out))
    d, r = build(n, "APT28", "--max", "5")
    R.check(len(d["activity"]["techniques"]["list"]) == 5
            and any(c["list"] == "techniques" for c in d["limits"]["cut"]),
            "APT28 with --max 5: lists cut and said so", d["limits"])
    n.cleanup()


def main(R):
    objs = load_bundle(FIX)
    n = sklib.Node()
    n.run("import", FIX, check=True)
    pa = by_name(objs, "identity", "Waterkracht Energie (example)")["id"]
    pb = by_name(objs, "identity", "Voorbeeldbank (example)")["id"]
    n.partner("energy", "--identity", pa, "--country", "NL")
    n.partner("bank", "--identity", pb, "--country", "DE")
    n.grant("energy", "default", "--read", "--amber")
    n.grant("bank", "default", "--read")
    author(n, R, objs)
    releasable(n, R, objs)
    html_and_stix(n, R, objs)
    opinions(n, R, objs)
    bad_input(n, R)
    n.cleanup()
    demo_set(R)
    huge(R)
    attack(R)


if __name__ == "__main__":
    sklib.test_main(main)
