"""The federation view of measured cooperation (issue 14; docs/cooperation.md,
"The federation view"): summaries published with consent, and the hub's
network report.

Three nodes on 127.0.0.1, as in test_cooperation.py: P produces indicators
(the hub, a national centre); R pulls them from P and pushes back (relay);
U pulls from R and pushes to R (a water utility).  U also pushes to P
directly, over a peer whose local collection is empty: the one way its
summary reaches P.  U sights two of P's indicators (one named, one
anonymous) and one AMBER indicator of its own that P was never given.

- Without consent (cooperation.share) a node publishes nothing.
- With consent, R and U publish a summary for P; it is stored signed, in no
  collection, queued for P alone, audited, and reaches P at the next push.
- U's summary for P counts nothing P may not know (U's AMBER indicator and
  its sighting are absent).
- P's network report counts each sighting once (equal to the union computed
  here from the three databases), lists the partner that sent no summary as
  missing, and lists an unsigned summary as unverified, out of every figure;
  a forged one is refused on arrival.
- Peer availability: R's sync runs of P, before and during P's outage, in
  R's report (JSON, CSV) and /metrics.
- Log sources seen (capacity): U scanned a Zeek DNS log only; its report
  lists zeek:dns and the gap for P's URL indicator y; its summary carries
  the source kind and the gap, never the log's path, record counts or
  times; P's network report shows U's sources and gaps (JSON, CSV, HTML).
"""
import csv
import io
import json
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from sync_util import (add_peer, collection, grant, import_objects, indicator,  # noqa: E402
                       make_node, sync)
from taxii_util import basic, bearer  # noqa: E402
from test_cooperation import q, utility  # noqa: E402  (the same three nodes)

SUMMARY = "x-schakel-coop-summary"


def main():
    test_main(run, make_node("P"), make_node("R"), utility())


def key_of(node):
    out = node.run("key", "show").out.split()
    return out[out.index("key") + 1]


def sightings_of(node, producer):
    """Ids of the sightings at node of indicators that producer made (own records)."""
    return {sid for sid, of in q(node, "SELECT id, json_extract(json,'$.sighting_of_ref')"
                                       " FROM objects WHERE type='sighting'")
            if q(node, "SELECT 1 FROM objects WHERE id=? AND created_by=?", (of, producer))}


def summaries(node):
    return [json.loads(j) for (j,) in q(node, "SELECT json FROM objects WHERE type=?",
                                        (SUMMARY,))]


def run(p, r, u, R):
    collection(p, "share")
    collection(r, "inbox")
    collection(u, "fromr")
    collection(u, "tohub")  # empty: U's peer to P pushes nothing but the summary
    p.start("--no-sync")
    r.start("--no-sync", "--metrics")
    add_peer(r, p, grant(p, r, "share", read=True, write=True), "share", "inbox", push=True)
    add_peer(u, r, grant(r, u, "inbox", read=True, write=True), "inbox", "fromr", push=True)
    add_peer(u, p, grant(p, u, "share", read=False, write=True), "share", "tohub",
             pull=False, push=True)
    # what P may know at R and at U: read on the collections the sightings are in
    grant(r, p, "inbox", read=True)
    grant(u, p, "fromr", read=True)
    # P verifies the summaries with the keys it pins for R and U
    p.run("key", "pin", r.ident, key_of(r), check=True)
    p.run("key", "pin", u.ident, key_of(u), check=True)
    # a partner of P that never sends a summary
    ghost = f"identity--{uuid.uuid4()}"
    p.partner("p-G", "--identity", ghost)

    x, y = indicator(p.ident, "green"), indicator(p.ident, "green")
    y["pattern"] = "[url:value = 'http://bad.example/dl?x=1']"  # U reads no HTTP log
    z = indicator(p.ident, "amber")  # never leaves P
    w = indicator(u.ident, "amber")  # U's own; P has no AMBER grant at U
    import_objects(p, [x, y, z], "share")
    import_objects(u, [w], "fromr")
    R.check(sync(r, "P")["rc"] == 0, "R pulls P")
    R.check(sync(u, "R")["rc"] == 0, "U pulls R")
    s1 = u.run("sighting", "add", x["id"], check=True).out.strip()
    sw = u.run("sighting", "add", w["id"], check=True).out.strip()
    u.run("config", "set", "sightings.anonymous", "true", check=True)
    s2 = u.run("sighting", "add", y["id"], check=True).out.strip()
    R.check(sync(u, "R")["rc"] == 0, "U pushes its sightings to R")
    R.check(sync(r, "P")["rc"] == 0, "R pushes them on to P")
    p.run("sighting", "add", z["id"], check=True)

    # --- log sources seen: U reads a Zeek DNS log, in a directory whose name must not leave U
    secret = os.path.join(u.dir, "sensor-dmz-secret-7")
    os.makedirs(secret)
    dns = os.path.join(secret, "dns.log")
    with open(dns, "w") as f:
        f.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                "#unset_field\t-\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\t"
                "id.resp_h\tid.resp_p\tproto\tquery\tqtype_name\tanswers\n"
                "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\t"
                "vector[string]\n")
        for i in range(3):
            f.write(f"1704067200.{i}\tC{i}\t192.0.2.{10 + i}\t5321{i}\t203.0.113.53\t53\t"
                    f"udp\thost{i}.dns.test\tA\t203.0.113.{100 + i}\n")
    u.run("scan", "--quiet", dns, check=True)
    srcs = q(u, "SELECT kind, records, types FROM log_sources")
    R.eq([(k, n) for k, n, _ in srcs], [("zeek:dns", 3)],
         "U's store: one log source, zeek:dns, 3 records")
    R.check(srcs and "url" not in srcs[0][2].split(",") and "domain-name" in srcs[0][2],
            f"zeek:dns delivers domain names, not URLs ({srcs})")
    cap = json.loads(u.run("report", "cooperation", check=True).out)["capacity"]
    R.eq([x["kind"] for x in cap["log_sources"]], ["zeek:dns"], "U's report: its source")
    R.eq(cap["log_sources"][0]["records"] if cap["log_sources"] else None, 3,
         "U's report: records read")
    R.eq(cap["gaps"], [{"object_type": "url", "indicators": 1}],
         "U's report: the URL indicator has no source")
    R.eq(cap["indicators_without_source"], 1, "U's report: one indicator without a source")
    R.eq(cap["by_object_type"].get("ipv4-addr"), {"indicators": 2, "source": True},
         "U's report: x and w (IPv4) have a source")
    uhtml = u.run("report", "cooperation", "--format", "html", check=True).out
    R.check("This node's capacity" in uhtml and "zeek:dns" in uhtml and "url 1" in uhtml,
            "U's HTML: sources and gaps")

    # --- consent ------------------------------------------------------------------------------
    before = q(r, "SELECT count(*) FROM outbox")[0][0]
    res = r.run("report", "cooperation", "publish", "--to", "P", check=False)
    R.check(res.code != 0 and "cooperation.share" in res.err,
            f"R without consent: publish refused ({res.code} {res.err.strip()})")
    R.eq(summaries(r), [], "R without consent: no summary made")
    R.eq(q(r, "SELECT count(*) FROM outbox")[0][0], before, "R without consent: nothing queued")
    bad = r.run("config", "set", "cooperation.share", "maybe", check=False)
    R.check(bad.code != 0, "cooperation.share: true or false only")

    r.run("config", "set", "cooperation.share", "true", check=True)
    res = r.run("report", "cooperation", "publish", "--to", "nobody", check=False)
    R.check(res.code != 0 and "nobody" in res.err, f"an unknown peer is refused ({res.err})")
    res = u.run("report", "cooperation", "publish", "--to", "R", check=False)
    R.check(res.code != 0 and "cooperation.share" in res.err,
            "U has not consented yet: refused")
    res = r.run("report", "cooperation", "publish", "--to", "P", "--since",
                "2030-01-01T00:00:00Z", "--until", "2029-01-01T00:00:00Z", check=False)
    R.eq(res.code, 2, "publish: a period that ends before it starts is refused")
    R.eq(summaries(r), [], "nothing stored by the refused publications")
    for node in (r, u):
        node.run("config", "set", "cooperation.share", "true", check=True)
        sid = node.run("report", "cooperation", "publish", "--to", "P", check=True).out.strip()
        R.check(sid.startswith(SUMMARY + "--"), f"{node.name} published {sid}")
        rows = q(node, "SELECT ver, sig, rx, (SELECT count(*) FROM collection_objects c"
                       " WHERE c.ver=o.ver) FROM objects o WHERE id=?", (sid,))
        R.check(rows and rows[0][1] == 1 and rows[0][2] is None and rows[0][3] == 0,
                f"{node.name}: the summary is stored signed, made here, in no collection",
                str(rows))
        queued = q(node, "SELECT p.name FROM outbox b JOIN peers p ON p.pid=b.pid"
                         " WHERE b.ver=?", (rows[0][0],)) if rows else []
        R.eq([n for (n,) in queued], ["P"], f"{node.name}: queued for P alone")
        R.check(q(node, "SELECT 1 FROM audit WHERE action='cooperation.publish'"
                        " AND subject='peer:P'"), f"{node.name}: the publication is audited")
    R.check(sync(r, "P")["rc"] == 0, "R pushes its summary to P")
    R.check(sync(u, "P")["rc"] == 0, "U pushes its summary to P")
    for node in (r, u):
        ver = q(node, "SELECT ver FROM objects WHERE type=?", (SUMMARY,))[0][0]
        R.check(any(ver in json.loads(v) for (v,) in q(
            node, "SELECT versions FROM audit WHERE action='sync.push' AND subject='peer:P'")),
            f"{node.name}: the push of the summary is in the audit log")
    R.check(not q(p, "SELECT 1 FROM objects WHERE type='sighting' AND rx=?", (u.ident,)),
            "U's peer to P carried no sighting (only the summary)")
    at_p = {o["created_by_ref"]: o for o in summaries(p)}
    R.eq(sorted(at_p), sorted([r.ident, u.ident]), "P received both summaries")
    R.eq(q(p, "SELECT sig FROM objects WHERE type=? ORDER BY sig", (SUMMARY,)), [(1,), (1,)],
         "P verified both signatures")

    # --- nothing P may not know ---------------------------------------------------------------
    su = at_p.get(u.ident, {})
    text = json.dumps(su)
    R.check(w["id"] not in text and sw not in text, "U's summary: no trace of its AMBER w")
    R.eq(su.get("unkeyed_sightings", {}).get("here", 0), 0,
         "U's summary: the sighting of w (AMBER, not P's to know) is not counted")
    ru = json.loads(u.run("report", "cooperation", check=True).out)
    R.eq(ru["own"]["sightings_here"], 3, "U's own report counts all three of its sightings")
    R.eq(sorted(k["sighting_ref"] for k in su.get("keyed_sightings", [])), sorted([s1, s2]),
         "U's summary: its sightings of P's indicators, keyed by sighting id")
    R.eq(su.get("capacity", {}).get("indicators_matchable"), 2,
         "U's summary: capacity counts the indicators P may know (x, y)")
    R.eq(su.get("recipient_ref"), p.ident, "U's summary names its recipient")
    scap = su.get("capacity", {})
    R.eq(scap.get("log_sources"), [{"kind": "zeek:dns", "object_types": [
         "domain-name", "ipv4-addr", "ipv6-addr", "network-traffic"]}],
         "U's summary: the source kind and its object types, no counts or times")
    R.eq(scap.get("gaps"), [{"object_type": "url", "indicators": 1}],
         "U's summary: the gap for P's URL indicator")
    R.check("sensor-dmz-secret-7" not in text and "dns.log" not in text and u.dir not in text,
            "U's summary: no path of the log it read")
    R.check(su.get("extensions", {}).get(
        "extension-definition--bcc532a3-9342-427e-959f-56a8687363c4", {}).get(
        "extension_type") == "new-sdo", "a custom type defined by an extension-definition")

    # --- an unsigned and a forged summary -----------------------------------------------------
    fake = {k: v for k, v in at_p[u.ident].items() if k != "extensions"}
    fake.update(id=f"{SUMMARY}--{uuid.uuid4()}", created_by_ref=ghost,
                extensions={"extension-definition--bcc532a3-9342-427e-959f-56a8687363c4":
                            {"extension_type": "new-sdo"}})
    import_objects_from(p, [fake], "share", "p-G")
    forged = json.loads(json.dumps(at_p[r.ident]))
    forged["id"] = f"{SUMMARY}--{uuid.uuid4()}"
    forged["keyed_sightings"] = forged.get("keyed_sightings", []) + [
        {"sighting_ref": f"sighting--{uuid.uuid4()}", "indicator_ref": x["id"],
         "first_seen": "2026-01-01T00:00:00.000Z", "here": True}]
    res = import_objects_from(p, [forged], "share", "p-R", check=False)
    R.check(res.code != 0 and not q(p, "SELECT 1 FROM objects WHERE id=?", (forged["id"],)),
            f"a forged summary (R's signature over other content) is refused ({res.err[:200]})")

    # R publishes again over the whole of its history: the newer summary replaces the first
    first_r = at_p[r.ident]["id"]
    r.run("report", "cooperation", "publish", "--to", "P", check=True)
    R.check(sync(r, "P")["rc"] == 0, "R pushes its second summary")

    # --- the network report -------------------------------------------------------------------
    net = json.loads(p.run("report", "cooperation", "--network", check=True).out)
    R.eq(net["schema"], "schakel.cooperation-network/1", "the network schema")
    union = sightings_of(p, p.ident) | sightings_of(r, p.ident) | sightings_of(u, p.ident)
    R.eq(len(union), 3, "the databases hold three sightings of P's indicators")
    own_here = {i for (i,) in q(p, "SELECT DISTINCT id FROM objects WHERE type='sighting'")}
    R.eq(net["sightings"]["distinct"], len(union | own_here), "each sighting counted once")
    R.eq(net["sightings"]["keyed_reported"], 4, "R and U each reported s1 and s2")
    R.eq(net["sightings"]["duplicates_removed"], 4 + len(own_here) - len(union | own_here),
         "the duplicates removed")
    R.eq(net["sightings"]["network_total"],
         len(union | own_here) + net["sightings"]["unkeyed_not_deduplicated"],
         "network total = distinct + unkeyed")
    R.eq(sorted(s["identity"] for s in net["summaries"]), sorted([r.ident, u.ident]),
         "the verified summaries: R's and U's")
    R.check([m for m in net["missing"] if m["identity"] == ghost],
            "the partner without a summary is missing", str(net["missing"]))
    R.check(not [m for m in net["missing"] if m["identity"] in (r.ident, u.ident)],
            "R and U are not missing")
    R.eq([x["summary_ref"] for x in net["superseded"]], [first_r],
         "R's first summary is superseded by its newer one over an overlapping period")
    R.check(first_r not in [s["summary_ref"] for s in net["summaries"]],
            "only R's newer summary counts")
    unv = [x for x in net["unverified"] if x["identity"] == ghost]
    R.check(unv and unv[0]["verdict"] == "unsigned", "the unsigned summary is flagged",
            str(net["unverified"]))
    prot = {(x["producer"], x["detected_by"]): x["sightings"] for x in net["protection"]}
    R.eq(prot.get(("(this node)", "(anonymous)")), 1, "P's knowledge: one anonymous detection")
    R.eq(sum(v for (pr, _), v in prot.items() if pr == "(this node)"), 3,
         "P's knowledge enabled three distinct sightings")
    secs = {(x["producer"], x["sector"]): x["sightings"] for x in net["protection_by_sector"]}
    R.eq(secs, {("(this node)", "utilities"): 1},
         "by sector: U's named sighting, with the sector U's summary states (the anonymous "
         "one is not broken out)")
    R.eq(su.get("node_sectors"), ["utilities"], "U's summary states its sectors")
    R.check(net["chain"]["slowest_hops"] and
            {h["node"] for h in net["chain"]["slowest_hops"]} ==
            {s["node"] for s in net["summaries"]}, "the hops of each reporting node")
    nodes = {n["identity"]: n for n in net["nodes"]}
    ncap = nodes.get(u.ident, {}).get("capacity", {})
    R.eq([x["kind"] for x in ncap.get("log_sources", [])], ["zeek:dns"],
         "network report: U's log sources")
    R.eq(ncap.get("gaps"), [{"object_type": "url", "indicators": 1}],
         "network report: U's gap")
    R.eq(nodes.get(r.ident, {}).get("capacity", {}).get("log_sources"), None,
         "network report: R read no log")
    R.eq(nodes.get(u.ident, {}).get("received_relayed"), 2, "U got P's x and y through R")
    R.eq(nodes.get(r.ident, {}).get("objects_received_from_hub"), 2,
         "R got P's x and y directly")
    R.check(all(set(a) == {"sector", "country", "sightings"}
                for a in net["anonymous_sightings"]), "anonymous groups name no node")
    rows = list(csv.DictReader(io.StringIO(p.run("report", "cooperation", "--network",
                                                 "--format", "csv", check=True).out)))
    R.eq(sorted(x["identity"] for x in rows), sorted([r.ident, u.ident]), "CSV: a row per node")
    urow = [x for x in rows if x["identity"] == u.ident]
    R.check(urow and urow[0]["log_sources"] == "zeek:dns" and urow[0]["gaps"] == "url 1"
            and urow[0]["indicators_without_source"] == "1", f"CSV: U's sources and gaps {urow}")
    html = p.run("report", "cooperation", "--network", "--format", "html", check=True).out
    R.check("Who protects whom" in html and "Missing" in html and "<script" not in html,
            "HTML: the network report")
    R.check("<td>zeek:dns</td>" in html and "<td>url 1</td>" in html,
            "HTML: U's sources and gaps")
    later = json.loads(p.run("report", "cooperation", "--network", "--since",
                             "2099-01-01T00:00:00Z", "--until", "2099-01-02T00:00:00Z",
                             check=True).out)
    R.eq(later["summaries"], [], "another period: no summary")

    # --- the console: GET /ui/api/cooperation/network, the same JSON, own people only -------
    console_network(p, R)

    # --- peer availability: R's sync runs of P, then P's outage -------------------------------
    p.stop()
    R.check(sync(r, "P", check=False)["rc"] != 0, "R cannot reach P")
    ok, failed = (q(r, "SELECT count(*) FROM sync_log l JOIN peers p ON p.pid=l.pid"
                       " WHERE p.name='P' AND ok=?", (v,))[0][0] for v in (1, 0))
    R.check(ok >= 3 and failed == 1, f"R's sync log of P: {ok} ok, {failed} failed")
    rr = json.loads(r.run("report", "cooperation", check=True).out)
    row = [x for x in rr["partners"] if x["identity"] == p.ident]
    label = row[0]["partner"] if row else "P"
    per = row[0]["sync"]["period"] if row else {}
    R.eq(per.get("attempts"), ok + failed, "R's report: sync attempts of P")
    R.eq(per.get("attempts_failed"), 1, "R's report: one failed")
    R.check(abs((per.get("availability_pct") or 0) - round(1000 * ok / (ok + failed)) / 10)
            < 0.01, f"R's report: availability of P ({per})")
    R.check(per.get("errors") and per["errors"][0]["n"] == 1, "R's report: the error")
    crow = [x for x in csv.DictReader(io.StringIO(r.run(
        "report", "cooperation", "--format", "csv", check=True).out)) if x["identity"] == p.ident]
    R.check(crow and int(crow[0]["sync_attempts_failed"]) == 1, "CSV: the failed sync")
    # R reads a Suricata EVE HTTP log: /metrics counts it by source kind (no path)
    eve = os.path.join(r.dir, "eve-secret.json")
    with open(eve, "w") as f:
        for i in range(2):
            f.write(json.dumps({"timestamp": "2024-01-01T00:00:0%d.000000+0000" % i,
                                "event_type": "http", "src_ip": "192.0.2.20",
                                "src_port": 40000 + i, "dest_ip": "203.0.113.80",
                                "dest_port": 80, "proto": "TCP",
                                "http": {"hostname": "www.eve.test", "url": f"/p{i}",
                                         "http_method": "GET"}}) + "\n")
    r.run("scan", "--quiet", eve, check=True)
    st, _, data = r.request("GET", "/metrics", accept=None)
    text = data.decode() if st == 200 else ""
    R.check(f'schakel_coop_sync_attempts_total{{partner="{label}",outcome="error"}} 1\n'
            in text and
            f'schakel_coop_sync_attempts_total{{partner="{label}",outcome="ok"}} {ok}\n'
            in text, "/metrics: sync attempts of P by outcome")
    R.check(re.search(r'schakel_coop_availability_ratio\{partner="%s"\} 0\.\d+'
                      % re.escape(label), text), "/metrics: availability of P")
    R.check('schakel_coop_log_source_records_total{kind="eve:http"} 2\n' in text
            and "eve-secret" not in text, "/metrics: R's log source by kind, no path")
    R.check(re.search(r"schakel_coop_indicators_without_source \d+\n", text),
            "/metrics: indicators without a log source")


def console_network(p, R):
    """The console's network view answers the command's JSON; partners and
    nobody are refused; since and until are checked."""
    p.run("account", "add", "nina", "--role", "analyst", "--password-stdin",
          stdin="nina-password\n", check=True)
    nina = basic("nina", "nina-password")
    until = "2099-01-01T00:00:00Z"  # a fixed period: the two answers are comparable
    want = json.loads(p.run("report", "cooperation", "--network", "--until", until,
                            "--format", "json", check=True).out)
    path = "/ui/api/cooperation/network?until=" + until

    def get(path, auth):
        st, _, data = p.request("GET", path, auth=auth, accept="application/json")
        try:
            return st, json.loads(data)
        except ValueError:
            return st, None
    st, got = get(path, nina)
    R.eq(st, 200, "console (analyst): GET cooperation/network")
    strip = lambda j: {k: v for k, v in (j or {}).items() if k != "generated"}  # noqa: E731
    R.eq(strip(got), strip(want), "console: the network report's JSON, field for field")
    R.check(got and got["summaries"] and got["missing"], "... with summaries and missing nodes")
    # only this node's people: a partner's token or account gets 403, nobody 401
    R.eq(get(path, bearer(p.token("a-R")))[0], 403, "a partner's token cannot read it")
    R.eq(get(path, basic("a-R", "pw-R"))[0], 403, "a partner's account cannot read it")
    R.eq(get(path, None)[0], 401, "nobody logged in: 401")
    for bad, what in (("?since=yesterday", "a since that is no time"),
                      ("?until=2026-13-01", "an until that is no date"),
                      ("?since=2026-02-01&until=2026-01-01", "since after until")):
        st, j = get("/ui/api/cooperation/network" + bad, nina)
        R.check(st == 400 and j and j.get("error"), f"400 for {what}", (st, j))
    R.eq(get("/ui/api/cooperation/nothing", nina)[0], 404, "cooperation/other: 404")


def import_objects_from(node, objs, coll, source, check=True):
    path = os.path.join(node.dir, f"in-{uuid.uuid4().hex}.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, f)
    res = node.run("import", "--quiet", "--collection", coll, "--from", source, path,
                   check=check)
    os.unlink(path)
    return res


if __name__ == "__main__":
    main()
