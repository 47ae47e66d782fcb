"""Measured cooperation (issue 14; docs/cooperation.md): `schakel report
cooperation` at a producer, a relay and a detecting utility.

Three nodes on 127.0.0.1: P produces indicators and a report; R pulls them
from P and pushes to P (relay); U pulls from R and pushes to R (a water
utility with a sector and a country).  U sights two of P's indicators (one
named, one anonymous); the sightings travel U -> R -> P.  Every figure of
each node's JSON report is recomputed here from that node's own database
(opened read-only) with the definitions of docs/cooperation.md; the
producer's and the relay's figures agree about the same events; a report
scoped to a partner counts nothing that partner was not given (an AMBER
indicator and a sighting of it made at P); CSV and HTML carry the same
figures, the HTML with inline SVG and no external request."""
import csv
import io
import json
import math
import os
import re
import sqlite3
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402
from sklib import test_main  # noqa: E402
from taxii_util import basic  # noqa: E402
from sync_util import (Node, add_peer, collection, grant, import_objects,  # noqa: E402
                       indicator, make_node, sync)


class Utility(Node):
    def __init__(self):
        sklib.Node.__init__(self, name="Water utility U", check=True,
                            init_args=("--sector", "utilities", "--country", "NL"))


def utility():
    n = Utility()
    n.name = "U"
    n.ident = n.identity()
    return n


def main():
    test_main(run, make_node("P"), make_node("R"), utility())


# --- the figures, recomputed from a node's own records ---------------------------------------

def q(node, query, args=()):
    c = sqlite3.connect(f"file:{node.db}?mode=ro", uri=True, timeout=30)
    try:
        return c.execute(query, args).fetchall()
    finally:
        c.close()


def ts_us(s):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", s)
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return int(base.timestamp()) * 1000000 + int(frac)


def dist(vals):
    v = sorted(vals)
    n = len(v)
    if not n:
        return {"n": 0, "median": None, "p90": None, "max": None}
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"n": n, "median": round(med, 3), "p90": round(v[math.ceil(0.9 * n) - 1], 3),
            "max": round(v[-1], 3)}


def dist_eq(got, want):
    if got["n"] != want["n"]:
        return False
    for k in ("median", "p90", "max"):
        if (got[k] is None) != (want[k] is None):
            return False
        if want[k] is not None and abs(got[k] - want[k]) > 0.0015:
            return False
    return True


def sent_versions(node, subject):
    """The versions the audit log says were handed out to subject."""
    out = set()
    for (vers,) in q(node, "SELECT versions FROM audit WHERE subject=? AND versions IS NOT NULL"
                           " AND action NOT IN ('taxii.manifest','taxii.versions')", (subject,)):
        v = json.loads(vers)
        assert isinstance(v, list), "summarised exits do not occur in this test"
        out |= set(v)
    return out


def first_versions(node, where, args=()):
    """(id, rx, created_by, sighting_of_ref, added, created) of the first version of each
    object matching where."""
    return q(node, "SELECT o.id, o.rx, o.created_by, json_extract(o.json,'$.sighting_of_ref'),"
                   " o.added, o.created FROM objects o WHERE " + where +
                   " AND NOT EXISTS (SELECT 1 FROM objects y WHERE y.id=o.id AND y.ver<o.ver)",
             args)


def expected(node, ident, subject, own_ident):
    """The row of the partner with identity ident (audit subject `subject`) at node."""
    recv = q(node, "SELECT o.type, o.added, coalesce(o.modified,o.created), p.source_added,"
                   " o.id, o.created_by FROM objects o LEFT JOIN provenance p ON p.ver=o.ver"
                   " WHERE o.rx=?", (ident,))
    sent = sent_versions(node, subject)
    sent_rows = [q(node, "SELECT type, id FROM objects WHERE ver=?", (v,))[0] for v in sent]
    tts = [(a - ts_us(m)) / 1e6 for _, a, m, _, _, _ in recv]
    hop = [(a - s) / 1e6 for _, a, _, s, _, _ in recv if s is not None]
    # detections enabled: sightings resting on an indicator ident produced or relayed here
    det = 0
    lead = []
    fb = []
    for _sid, _rx, _by, of, added, _created in first_versions(node, "o.type='sighting'"):
        ind = first_versions(node, "o.id=?", (of,))
        if ind and (ind[0][2] == ident or ind[0][1] == ident):
            det += 1
    # lead time: indicators relayed by ident -> first sighting made here
    for iid, rx, by, _, arrived, _ in first_versions(node, "o.type='indicator'"):
        here = [a for _, r, _, of, a, _ in first_versions(node, "o.type='sighting'")
                if of == iid and r is None]
        if rx == ident and here:
            lead.append((min(here) - arrived) / 1e6)
        back = [ts_us(c) for _, r, _, of, _, c in first_versions(node, "o.type='sighting'")
                if of == iid and r == ident]
        if rx is None and by == own_ident and back:
            fb.append((min(back) - arrived) / 1e6)
    return {
        "objects_received": len(recv),
        "objects_sent": len(sent),
        "sightings_received": len({r[4] for r in recv if r[0] == "sighting"}),
        "sightings_sent": len({i for t, i in sent_rows if t == "sighting"}),
        "opinions_received": len({r[4] for r in recv if r[0] == "opinion"}),
        "received_from_producer": sum(1 for r in recv if r[5] == ident),
        "detections_enabled": det,
        "time_to_share_s": dist(tts),
        "last_hop_s": dist(hop),
        "lead_time_s": dist(lead),
        "feedback_lead_s": dist(fb),
    }


def report(node, *args, fmt="json"):
    r = node.run("report", "cooperation", "--format", fmt, *args, check=True)
    return json.loads(r.out) if fmt == "json" else r.out


def row(rep, name):
    rows = [p for p in rep["partners"] if p["partner"] == name]
    return rows[0] if rows else None


def check_row(R, node, rep, name, ident, subject, own_ident):
    got = row(rep, name)
    R.check(got is not None, f"{node.name}: a row for {name}")
    if not got:
        return None
    want = expected(node, ident, subject, own_ident)
    for k, v in want.items():
        if isinstance(v, dict):
            R.check(dist_eq(got[k], v), f"{node.name}/{name}: {k} = {v}", f"got {got[k]}")
        else:
            R.eq(got[k], v, f"{node.name}/{name}: {k}")
    return got


# --- the scenario ------------------------------------------------------------------------------

def run(p, r, u, R):
    collection(p, "share")
    collection(r, "inbox")
    collection(u, "fromr")
    p.start("--no-sync", "--metrics")
    r.start("--no-sync", "--metrics")
    add_peer(r, p, grant(p, r, "share", read=True, write=True), "share", "inbox", push=True)
    add_peer(u, r, grant(r, u, "inbox", read=True, write=True), "inbox", "fromr", push=True)

    x, y = indicator(p.ident, "green"), indicator(p.ident, "green")
    z = indicator(p.ident, "amber")  # R has no AMBER grant: never given
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    for o in (x, y, z):  # made now: time to share is the seconds the test takes
        o["created"] = o["modified"] = now
    rep_obj = {"type": "report", "spec_version": "2.1", "id": "report--" + x["id"][11:],
               "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
               "created_by_ref": p.ident, "name": "Pumping station campaign",
               "published": "2024-01-02T00:00:00Z", "object_refs": [x["id"], y["id"]],
               "object_marking_refs": x["object_marking_refs"]}
    import_objects(p, [x, y, z, rep_obj], "share")
    R.check(sync(r, "P")["rc"] == 0, "R pulls P")
    R.check(sync(u, "R")["rc"] == 0, "U pulls R")
    s1 = u.run("sighting", "add", x["id"], check=True).out.strip()
    u.run("config", "set", "sightings.anonymous", "true", check=True)
    s2 = u.run("sighting", "add", y["id"], check=True).out.strip()
    R.check(sync(u, "R")["rc"] == 0, "U pushes its sightings to R")
    R.check(sync(r, "P")["rc"] == 0, "R pushes them on to P")
    R.check(len(q(p, "SELECT 1 FROM objects WHERE id IN (?,?)", (s1, s2))) == 2,
            "both sightings reached P")
    # a sighting at P of its AMBER indicator, after the last sync: R was never given it
    p.run("sighting", "add", z["id"], check=True)

    rp, rr, ru = report(p), report(r), report(u)
    R.eq(rp["schema"], "schakel.cooperation/1", "the schema name")

    # every figure from each node's own records
    gp = check_row(R, p, rp, "p-R", r.ident, "partner:p-R", p.ident)
    gr_p = check_row(R, r, rr, "P", p.ident, "peer:P", r.ident)
    gr_u = check_row(R, r, rr, "p-U", u.ident, "partner:p-U", r.ident)
    gu = check_row(R, u, ru, "R", r.ident, "peer:R", u.ident)

    # the known events
    if gp and gr_p and gr_u and gu:
        R.eq(gr_p["objects_received"], 3, "R received x, y and the report from P (not z)")
        R.eq(gu["detections_enabled"], 2, "at U, R's indicators enabled both sightings")
        R.eq(gr_p["detections_enabled"], 2, "at R, P's indicators enabled both sightings")
        R.eq(gr_u["detections_enabled"], 0, "U produced and relayed no indicator to R")
        R.eq(gr_u["sightings_received"], 2, "R received two sightings from U")
        R.eq(gu["lead_time_s"]["n"], 2, "U measured two lead times")
        R.eq(gp["feedback_lead_s"]["n"], 2, "P: both indicators reported back through R")
        R.eq(rp["own"]["detections_enabled"], 3, "P: three sightings rest on its indicators")
        R.eq(rp["own"]["sightings_here"], 1, "P made one sighting itself")
        # the producer and the relay agree about the same events
        R.eq(gp["objects_received"], gr_p["objects_sent"], "R->P: sent at R = received at P")
        R.eq(gp["sightings_received"], gr_p["sightings_sent"], "R->P sightings agree")
        R.eq(gp["objects_sent"], gr_p["objects_received"], "P->R: sent at P = received at R")
        R.eq(gr_u["objects_sent"], gu["objects_received"], "R->U: sent at R = received at U")
        R.eq(gr_u["sightings_received"], gu["sightings_sent"], "U->R sightings agree")
    # anonymous sightings by sector and country: U's single group merges into "other"
    for node, rep in ((r, rr), (p, rp)):
        anon = rep["anonymous_sightings"]
        R.check(anon == [{"sector": "other", "country": "other", "sightings": 1}],
                f"{node.name}: one anonymous sighting, its group of one merged into other",
                str(anon))
        R.check("Water utility U" not in json.dumps(rep["sectors"]) and
                all(set(s) == {"sector", "country", "sightings"} for s in anon),
                f"{node.name}: anonymous counts name no partner")
    # P knows no sector of U (U's identity never reached it) nor of itself: "unknown" holds
    # U's named sighting and P's own; the anonymous one is only in the merged groups
    R.eq(rp["sectors"], [{"sector": "unknown", "sightings": 2,
                          "protected_by": {"(this node)": 2},
                          "feedback_lead_s": {"n": 1, "median": rp["sectors"][0]
                                              ["feedback_lead_s"]["median"],
                                              "p90": rp["sectors"][0]["feedback_lead_s"]["p90"],
                                              "max": rp["sectors"][0]["feedback_lead_s"]["max"]}}]
         if rp["sectors"] else None, "P: sectors and whose knowledge protected them")
    R.check(not any(s["sector"] == "utilities" for s in rp["sectors"] + rr["sectors"]),
            "the anonymous utilities sighting is not broken out by sector alone")
    reach = [e for e in rp["reach"] if e["id"] == rep_obj["id"]]
    R.check(reach and reach[0]["recipients"] == 1, "P: the report reached one partner",
            str(rp["reach"]))
    # reach of collections: what was added to P's "share", and how much of it R was handed
    share = {v for (v,) in q(p, "SELECT o.ver FROM collection_objects o JOIN collections c"
                                " ON c.cid=o.coll WHERE c.name='share'")}
    cs = [x for x in rp["collections"] if x["collection"] == "share"]
    R.check(cs and cs[0]["versions_added"] == len(share) and
            cs[0]["received_by"] == {"p-R": len(share & sent_versions(p, "partner:p-R"))},
            "P: the reach of collection share", str(rp["collections"]))
    R.check(row(rr, "P")["sync"] and row(rr, "P")["sync"]["failures"] == 0,
            "R: P's sync health")
    R.check(rp["cannot_know"] and any("last hop" in s for s in rp["cannot_know"]),
            "the report says what the node cannot know")

    # scoped to R: nothing R was not given (z and P's own sighting of it)
    sc = report(p, "--partner", "p-R")
    R.eq([x["partner"] for x in sc["partners"]], ["p-R"], "scoped: one partner")
    R.eq(sc["own"]["sightings_here"], 0, "scoped: P's sighting of the AMBER z is not counted")
    R.eq(sc["own"]["detections_enabled"], 2, "scoped: only the sightings R relayed")
    R.check("capacity" not in sc, "scoped: no capacity of this node")
    for k in ("objects_received", "objects_sent", "sightings_received", "time_to_share_s"):
        R.eq(sc["partners"][0][k], gp[k] if gp else None, f"scoped: {k} as unscoped")
    R.check(z["id"] not in json.dumps(sc), "scoped: z appears nowhere")
    credited = {k for s in sc["sectors"] for k in s.get("protected_by", {})}
    R.check(credited <= {"p-R", "(this node)"},
            f"scoped: the sectors credit no partner but R ({credited})")
    given = sent_versions(p, "partner:p-R") | {v for (v,) in q(
        p, "SELECT ver FROM objects WHERE rx=? OR created_by=?", (r.ident, r.ident))}
    R.check(all(set(x["received_by"]) == {"p-R"} for x in sc["collections"]) and
            sc["collections"] and sc["collections"][0]["versions_added"] == len(share & given),
            "scoped: collections count only what R was given or gave", str(sc["collections"]))
    bad = p.run("report", "cooperation", "--partner", "nobody", check=False)
    R.check(bad.code == 2 and "nobody" in bad.err, f"an unknown partner is refused ({bad.err})")

    # since after everything: nothing counted
    later = report(p, "--since", "2099-01-01T00:00:00Z", "--until", "2099-01-02T00:00:00Z")
    R.check(all(x["objects_received"] == 0 and x["objects_sent"] == 0
                for x in later["partners"]), "an empty period counts nothing")

    # /metrics at the producer and the relay: the same families with a partner label
    for node, rep in ((p, rp), (r, rr)):
        st, _, data = node.request("GET", "/metrics", accept=None)
        R.eq(st, 200, f"{node.name}: GET /metrics")
        text = data.decode()
        for x in rep["partners"]:
            lbl = '{partner="%s"}' % x["partner"]
            for fam, k in (("objects_received_total", "objects_received"),
                           ("objects_sent_total", "objects_sent"),
                           ("sightings_received_total", "sightings_received"),
                           ("sightings_sent_total", "sightings_sent"),
                           ("detections_enabled_total", "detections_enabled")):
                R.check(f"schakel_coop_{fam}{lbl} {x[k]}\n" in text,
                        f"{node.name} /metrics: {fam} of {x['partner']} = {x[k]}")
            n = x["time_to_share_s"]["n"]
            R.check(f"schakel_coop_time_to_share_seconds_samples{lbl} {n}\n" in text,
                    f"{node.name} /metrics: time to share samples of {x['partner']}")
            if n:
                med = x["time_to_share_s"]["median"]
                m = re.search(r'schakel_coop_time_to_share_seconds\{partner="%s",'
                              r'quantile="0.5"\} ([0-9.e+-]+)' % re.escape(x["partner"]), text)
                R.check(m and abs(float(m.group(1)) - med) < 0.0015,
                        f"{node.name} /metrics: median time to share of {x['partner']}")

    # the console (GET /ui/api/cooperation): the same figures; a partner's account gets
    # only its own, scoped report, whatever it asks for
    p.run("account", "add", "ana", "--role", "analyst", "--password-stdin",
          stdin="ana-password\n", check=True)
    keys = ("partners", "sectors", "anonymous_sightings", "own", "reach", "collections")
    st, _, data = p.request("GET", "/ui/api/cooperation", auth=basic("ana", "ana-password"),
                            accept="application/json")
    cj = json.loads(data) if st == 200 else {}
    R.check(st == 200 and all(cj.get(k) == rp[k] for k in keys),
            "console (analyst): the report's figures", f"{st} {data[:300]}")
    st, _, data = p.request("GET", "/ui/api/cooperation?partner=p-R&since=2000-01-01",
                            auth=basic("a-R", "pw-R"), accept="application/json")
    cj = json.loads(data) if st == 200 else {}
    R.check(st == 200 and cj.get("scope", {}).get("partner") == "p-R" and
            all(cj.get(k) == sc[k] for k in keys),
            "console (partner R): its scoped report", f"{st} {data[:300]}")
    st, _, _ = p.request("GET", "/ui/api/cooperation?since=yesterday",
                         auth=basic("ana", "ana-password"), accept="application/json")
    R.eq(st, 400, "console: a bad since is refused")
    st, _, _ = p.request("GET", "/ui/api/cooperation", accept="application/json")
    R.eq(st, 401, "console: nobody logged in gets 401")

    # CSV and HTML: the same figures
    rows = list(csv.DictReader(io.StringIO(report(r, fmt="csv"))))
    R.eq(sorted(x["partner"] for x in rows), sorted(x["partner"] for x in rr["partners"]),
         "CSV: one row per partner")
    for x in rows:
        j = row(rr, x["partner"])
        R.eq(int(x["objects_received"]), j["objects_received"], f"CSV {x['partner']}")
        R.eq(int(x["detections_enabled"]), j["detections_enabled"], f"CSV {x['partner']}")
    out = os.path.join(p.dir, "coop.html")
    p.run("report", "cooperation", "--format", "html", "--output", out, check=True)
    html = open(out).read()
    R.check(oct(os.stat(out).st_mode & 0o777) == "0o600", "the HTML file is 0600")
    R.check("<svg" in html and "cannot know" in html, "HTML: charts and the limits")
    R.check(not re.search(r"(src|href)\s*=", html) and "<script" not in html,
            "HTML: self-contained, no external request")


if __name__ == "__main__":
    main()
