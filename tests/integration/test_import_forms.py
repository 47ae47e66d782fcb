#!/usr/bin/env python3
"""Import forms and the read commands, on the project's Ashfall fixtures.

Forms: bundle, TAXII 2.1 envelope, JSON array, single object, NDJSON, gzip
(made here), stdin.  Each form's per-type summary is compared with a count
of the file done in Python.  Then get, list (all filters), show, stats --json
and collections are checked against the fixture content.
"""
import json
import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import fixture  # noqa: E402

ck = sklib.Checker("test_import_forms")

ALL = [sklib.ashfall(f) for f in sklib.ASHFALL_FORMS]
BUNDLE, ENVELOPE, ARRAY, SINGLE, NDJSON, STIX20 = ALL

CAMPAIGN = "campaign--0f0fc553-4fc4-49b5-a8d7-146d155a577a"
ISET = "intrusion-set--0498b775-f94f-4872-9f25-1dfac1adbbb8"
MALWARE = "malware--52943a91-65ed-4014-aeed-a61c89628f19"
TOOL = "tool--345b52d1-3dc1-45bf-8987-80e8bf872c77"
IND_IP = "indicator--038fc556-257b-4bee-880f-5fbdb80d9f25"
IND_DOM = "indicator--dd08dc2b-ad85-41c4-a08b-acb640067c55"
CERT = "identity--c0506a98-9c27-4b6a-9a14-0cc99837071d"
STATEMENT = "marking-definition--4a9d62b4-c70d-4263-9280-1c7fce8ab0e7"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def by_id(objs):
    return {o["id"]: o for o in objs}


def check_form(label, path, name=None, stdin=None):
    """Import one file into a fresh node; the summary must match a Python count."""
    n = sklib.Node()
    objs = sklib.read_stix(path if not path.endswith(".gz") else path)
    want, _ = sklib.expected_counts(objs)
    r = n.imp("-" if stdin is not None else path, stdin=stdin)
    ck.check(r.code == 0, "%s: import exits 0" % label, r)
    s = sklib.summary_of(r.err, name or path)
    ck.check(s is not None, "%s: summary on stderr names the input" % label, r)
    if s:
        ck.eq((s["objects"], s["stored"], s["rejected"]), (len(objs), len(objs), 0),
              "%s: summary totals" % label)
        ck.eq(sklib.type_counts(s, "stored"), sklib.column(want, "stored"),
              "%s: per-type stored counts" % label)
    stored = n.export("--collection", "default")
    ck.eq(sorted(sklib.canon(o) for o in stored), sorted(sklib.canon(o) for o in objs),
          "%s: the stored objects are JSON-equal to the input" % label)
    return n


def test_forms():
    check_form("bundle", BUNDLE)
    check_form("TAXII envelope", ENVELOPE)
    check_form("JSON array", ARRAY)
    check_form("single object", SINGLE)
    check_form("NDJSON", NDJSON)
    check_form("STIX 2.0 bundle", STIX20)
    tmp = sklib.tempdir()
    gz = sklib.gzip_file(BUNDLE, os.path.join(tmp, "ashfall-bundle.json.gz"))
    check_form("gzip bundle", gz)
    gz = sklib.gzip_file(NDJSON, os.path.join(tmp, "ashfall-observables.ndjson.gz"))
    check_form("gzip NDJSON", gz)
    with open(ENVELOPE, "rb") as f:
        check_form("stdin '-'", ENVELOPE, name="<stdin>", stdin=f.read())
    with open(BUNDLE, "rb") as f:
        data = f.read()
    n = sklib.Node()
    r = n.imp("-", stdin=sklib.gzip.compress(data))
    s = sklib.summary_of(r.err, "<stdin>")
    ck.check(r.code == 0 and s and s["stored"] == len(sklib.read_stix(BUNDLE)),
             "gzip on stdin imports the whole bundle", r)


def test_several_files_one_run():
    n = sklib.Node()
    r = n.imp(*ALL)
    ck.check(r.code == 0, "importing all fixtures in one run exits 0", r)
    sums = sklib.parse_summaries(r.err)
    ck.eq(sorted(sums), sorted(ALL), "one summary per input file")
    # the 2.0 malware shares its id with the 2.1 one but is another version
    s = sums.get(STIX20)
    ck.check(s and s["types"].get("malware", {}).get("stored") == 1,
             "the STIX 2.0 malware with a 2.1 object's id is stored, not a duplicate", r)


def test_stored_minified_as_given():
    """Objects are stored minified but otherwise byte-for-byte as given."""
    n = sklib.Node()
    n.imp(BUNDLE)
    src = by_id(sklib.read_stix(BUNDLE))
    custom = [o for o in src.values() if o["type"].startswith("x-")][0]
    for oid in (CAMPAIGN, MALWARE, custom["id"]):
        r = n.run("get", "--compact", oid)
        want = json.dumps(src[oid], ensure_ascii=False, separators=(",", ":"))
        ck.eq(r.out.strip(), want, "get --compact %s is the input minified, key order kept"
              % oid.split("--")[0])
    objs, r = n.get(custom["id"])
    ck.check(r.code == 0 and objs == [custom],
             "custom x- type kept with all its custom properties", r)
    r = n.run("get", CAMPAIGN)
    try:
        pretty = json.loads(r.out)
    except ValueError:
        pretty = None
    ck.eq(pretty, src[CAMPAIGN], "get (pretty) prints the object as JSON")


def test_get():
    n = sklib.Node()
    n.imp(BUNDLE, STIX20)
    src = by_id(sklib.read_stix(BUNDLE))
    objs, r = n.get(IND_IP)
    ck.check(r.code == 0 and objs == [src[IND_IP]], "get returns the indicator as imported", r)
    objs, r = n.get(MALWARE)
    ck.check(r.code == 0 and len(objs) == 1 and objs[0].get("spec_version") == "2.1",
             "get of an id with 2.0 and 2.1 versions returns the 2.1 one", r)
    objs, r = n.get(MALWARE, "--all-versions")
    ck.eq(sorted(sklib.spec_of(o) for o in objs), ["2.0", "2.1"],
          "get --all-versions shows the 2.0 and the 2.1 version")
    r = n.run("get", "indicator--00000000-0000-4000-8000-000000000000")
    ck.check(r.code == 1 and "no such object" in r.err, "get of an unknown id -> exit 1", r)


def test_list_filters():
    n = sklib.Node()
    r = n.imp(BUNDLE, ARRAY)
    ck.check(r.code == 0, "list setup: import", r)
    src = sklib.read_stix(BUNDLE) + sklib.read_stix(ARRAY)
    ids_of = lambda objs: sorted(o["id"] for o in objs)  # noqa: E731

    got, r = n.list_json("--type", "indicator")
    ck.eq(ids_of(got or []), ids_of(o for o in src if o["type"] == "indicator"), "list --type")
    want = ids_of(o for o in src if o["type"] in ("indicator", "malware"))
    got, r = n.list_json("--type", "indicator,malware")
    ck.eq(ids_of(got or []), want, "list --type with a comma-separated list")
    got, r = n.list_json("--type", "indicator", "--type", "malware")
    ck.eq(ids_of(got or []), want, "list --type repeated")
    got, r = n.list_json("--type", "no-such-type")
    ck.eq(got, [], "list --type of an absent type is empty")

    got, r = n.list_json()
    own = [o for o in (got or []) if o["id"] not in {x["id"] for x in src}]
    ck.eq(sorted(sklib.canon(o) for o in got if o not in own), sorted(sklib.canon(o) for o in src),
          "list --json prints every stored object, JSON-equal to the input")
    ck.eq([o["type"] for o in own], ["identity"], "... plus only the node's own identity")

    got, r = n.list_json("--limit", "3")
    full, _ = n.list_json()
    ck.check(got is not None and full is not None and got == full[:3],
             "list --limit 3 gives the first three rows", r)

    # --added-after: a strict lower bound on date_added, shown in the table
    rows, r = n.list_rows()
    cut = max(row["date_added"] for row in rows)
    r = n.imp(ENVELOPE)
    env_ids = ids_of(sklib.read_stix(ENVELOPE))
    got, r = n.list_json("--added-after", cut)
    ck.eq(ids_of(got or []), env_ids, "list --added-after gives only what came later")
    got, r = n.list_json("--added-after", cut, "--type", "indicator")
    ck.eq(ids_of(got or []), ids_of(o for o in sklib.read_stix(ENVELOPE)
                                    if o["type"] == "indicator"),
          "list --added-after combined with --type")

    # --collection
    r = n.imp("--collection", "partners", SINGLE, NDJSON)
    ck.check(r.code == 0 and "created collection 'partners'" in r.err,
             "import --collection creates a new collection", r)
    got, r = n.list_json("--collection", "partners")
    ck.eq(ids_of(got or []), ids_of(sklib.read_stix(SINGLE) + sklib.read_stix(NDJSON)),
          "list --collection gives only that collection's objects")
    got, r = n.list_json("--collection", "partners", "--type", "ipv4-addr,threat-actor")
    ck.eq(sorted(o["type"] for o in got or []), ["ipv4-addr", "threat-actor"],
          "list --collection with --type")
    prow, _ = n.list_rows("--collection", "partners")
    got, r = n.list_json("--collection", "partners", "--added-after", prow[0]["date_added"])
    ck.eq(len(got or []), len(prow) - 1, "list --collection --added-after uses the "
          "collection's own date_added")
    r = n.run("list", "--collection", "nope")
    ck.check(r.code == 1 and "nope" in r.err, "list --collection of an unknown one -> exit 1", r)

    # --all-versions
    r = n.imp(fixture("ashfall", "ashfall-versions.json"), STIX20)
    allv, r = n.list_json("--all-versions")
    latest, r = n.list_json()
    st = n.stats()
    ck.eq(len(allv or []), sum(v[1] for k, v in st.items() if k[0] is None),
          "list --all-versions gives every stored version")
    ck.eq(len(latest or []), sum(v[0] for k, v in st.items() if k[0] is None),
          "list gives one row per object")
    ck.eq(sorted(sklib.canon(o) for o in allv or []), sorted(sklib.canon(o) for o in n.export()),
          "list --all-versions and export agree")

    # the table shows the TLP level of the object markings (TLP 2.0 and 1.0 ids); a
    # granular marking stricter than the object's makes the whole object that strict
    rows, r = n.list_rows()
    tlp = {row["id"]: row["tlp"] for row in rows}
    for oid, level in ((IND_IP, "TLP:AMBER+STRICT"), (IND_DOM, "TLP:RED"),
                       (TOOL, "TLP:CLEAR"), (ISET, "TLP:GREEN"), (CAMPAIGN, "TLP:AMBER")):
        ck.eq(tlp.get(oid), level, "list shows %s for %s" % (level, oid.split("--")[0]))
    tlp1 = {o["id"]: o for o in sklib.read_stix(ARRAY)}
    coa = [i for i in tlp1 if i.startswith("course-of-action")][0]
    ck.eq(tlp.get(coa), "TLP:CLEAR", "TLP 1.0 white is shown as TLP:CLEAR")


def test_granular_markings():
    n = sklib.Node()
    n.imp(BUNDLE)
    db = sqlite3.connect("file:%s?mode=ro" % n.db, uri=True)
    try:
        rows = set(db.execute(
            "SELECT m.marking, m.granular FROM object_markings m JOIN objects o ON o.ver=m.ver"
            " WHERE o.id=?", (MALWARE,)).fetchall())
    finally:
        db.close()
    ck.eq(rows, {(TLP2_AMBER, 0), (TLP2_RED, 1), (STATEMENT, 1)},
          "object and granular markings of the malware are indexed")
    objs, r = n.get(MALWARE)
    ck.check(objs and len(objs[0].get("granular_markings", [])) == 2,
             "granular markings are kept in the object", r)


def test_show():
    n = sklib.Node()
    n.imp(BUNDLE, ARRAY)
    r = n.run("show", ISET)
    ck.check(r.code == 0 and r.out.startswith("Cinder Kite"), "show starts with the name", r)
    lines = r.out.splitlines()

    def has(pred):
        return any(pred(ln) for ln in lines)
    ck.check(has(lambda ln: "<-" in ln and "attributed-to" in ln and "Operation Ashfall" in ln
                 and CAMPAIGN in ln), "show: incoming attributed-to from the campaign, by name", r)
    ck.check(has(lambda ln: "->" in ln and "uses" in ln and "EmberWipe" in ln and MALWARE in ln),
             "show: outgoing uses to the malware, by name", r)
    ck.check(has(lambda ln: "->" in ln and "uses" in ln and "KiteLoader" in ln),
             "show: outgoing uses to the tool, by name", r)
    ck.check(has(lambda ln: "->" in ln and "targets" in ln and "Riverside" in ln),
             "show: relationship from another file (targets location)", r)
    ck.check("Example Water Sector CERT" in r.out, "show: names the creator", r)
    ck.check("TLP:GREEN" in r.out, "show: shows the TLP marking", r)
    ck.check("Ember Crane" in r.out, "show: shows aliases", r)
    ck.check(has(lambda ln: "goals" in ln and "sabotage" in ln)
             and has(lambda ln: "resource level" in ln and "government" in ln)
             and has(lambda ln: "primary motivation" in ln and "ideology" in ln),
             "show: every property (goals, resource_level, primary_motivation)", r)
    ck.check(has(lambda ln: "report" in ln and "Ashfall situation report 1" in ln),
             "show: the reports that contain it", r)
    r = n.run("show", "sighting--be534abc-a1a7-44da-abec-d601a3bc56e2")
    ck.check("Sighting of:" in r.out and IND_IP in r.out and "seen by" in r.out
             and "Example Water Sector CERT" in r.out,
             "show sighting: what was sighted and by whom", r)
    rows, r = n.list_rows("--type", "intrusion-set")
    ck.check(rows and rows[0]["modified"] == "2025-03-04T14:30:00.000Z"
             and not rows[0]["revoked"], "list: shows modified", r)
    r = n.run("show", MALWARE)
    ck.eq(sum(1 for ln in r.out.splitlines() if "<-" in ln and "indicates" in ln), 3,
          "show malware: three incoming indicates relationships")
    r = n.run("show", IND_IP)
    ck.check("sighting" in r.out and "->" in r.out, "show indicator: its sighting and indicates", r)
    r = n.run("show", "campaign--00000000-0000-4000-8000-000000000000")
    ck.check(r.code == 1 and "no such object" in r.err, "show of an unknown id -> exit 1", r)


def test_stats_and_collections():
    n = sklib.Node()
    r = n.imp(BUNDLE, ARRAY, STIX20, fixture("ashfall", "ashfall-versions.json"))
    r = n.imp("--collection", "partners", ENVELOPE, BUNDLE)
    objs = []
    for p in (BUNDLE, ARRAY, STIX20, fixture("ashfall", "ashfall-versions.json"), ENVELOPE):
        objs += sklib.read_stix(p)
    want = {}
    keys = {sklib.key_of(o): o["type"] for o in objs}
    for (oid, spec, ver), t in keys.items():
        want.setdefault(t, [set(), 0])
        want[t][0].add(oid)
        want[t][1] += 1
    st = n.stats()
    got = {k[1]: v for k, v in (st or {}).items() if k[0] is None}
    want_whole = {t: (len(v[0]), v[1]) for t, v in want.items()}
    want_whole["identity"] = (want_whole["identity"][0] + 1, want_whole["identity"][1] + 1)
    ck.eq(got, want_whole, "stats --json: whole store objects and versions per type")
    part = {}
    for o in sklib.read_stix(ENVELOPE) + sklib.read_stix(BUNDLE):
        part.setdefault(o["type"], [set(), 0])
        part[o["type"]][0].add(o["id"])
        part[o["type"]][1] += 1
    got = {k[1]: v for k, v in (st or {}).items() if k[0] == "partners"}
    ck.eq(got, {t: (len(v[0]), v[1]) for t, v in part.items()},
          "stats --json: per-collection counts")
    r = n.run("stats")
    ck.check(r.code == 0 and "collection partners" in r.out and "total" in r.out,
             "stats (table) exits 0 and shows collections", r)
    r = n.run("collection", "list")
    nver = sum(v[1] for v in part.values())
    line = [ln for ln in r.out.splitlines() if " partners " in ln]
    ck.check(line and ("%d versions" % nver) in line[0],
             "collection list counts the versions in a collection", r)


for t in (test_forms, test_several_files_one_run, test_stored_minified_as_given, test_get,
          test_list_filters, test_granular_markings, test_show, test_stats_and_collections):
    ck.run(t)
ck.finish()
