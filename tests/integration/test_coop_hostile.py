"""A hostile partner's cooperation summaries at the hub (docs/cooperation.md,
"The federation view"): validly signed by the partner's own key, so they pass
the signature check, but with every field of the wrong type, out of range,
deeply nested, oversized or contradictory.  The hub's network report must
neither crash nor hang nor print nonsense: it exits 0 with valid JSON (and
CSV, HTML), no count is negative or a non-number, the well-formed summary of
an honest partner still counts, a summary for another recipient or with an
unreadable period is left out, and the report says nothing it cannot parse.

No server runs: the hostile node (R) imports the summaries it made up as its
own (so its node signs them, as a hostile schakel would), and the hub (P)
imports their signed JSON as received from R (`import --from`), the way a
TAXII POST from R would store them."""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from sync_util import collection, make_node  # noqa: E402
from test_coop_federation import key_of  # noqa: E402
from test_cooperation import q  # noqa: E402

SUMMARY = "x-schakel-coop-summary"
EXT = "extension-definition--bcc532a3-9342-427e-959f-56a8687363c4"


def main():
    test_main(run, make_node("P"), make_node("R"), make_node("H"))




def deep(n):
    v = []
    for _ in range(n):
        v = [v]
    return v


def summary(by, to, month, **fields):
    o = {"type": SUMMARY, "spec_version": "2.1", "id": f"{SUMMARY}--{uuid.uuid4()}",
         "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
         "created_by_ref": by, "recipient_ref": to,
         "period_start": f"2026-{month:02d}-01T00:00:00.000Z",
         "period_end": f"2026-{month + 1:02d}-01T00:00:00.000Z",
         "extensions": {EXT: {"extension_type": "new-sdo"}}}
    o.update(fields)
    return o


def hostile(r_id, p_id):
    big = "x" * 200000
    ind = f"indicator--{uuid.uuid4()}"
    return [
        summary(r_id, p_id, 1, keyed_sightings="not a list", unkeyed_sightings=[1, 2],
                exchanged={"objects_received": "many", "sightings_sent": -5}),
        summary(r_id, p_id, 2, keyed_sightings=[1, None, "s", {"sighting_ref": 5},
                                                {"sighting_ref": big, "indicator_ref": []},
                                                {"sighting_ref": "sighting--x",
                                                 "indicator_ref": ind, "here": "yes",
                                                 "first_seen": "not a time"}],
                capacity={"indicators_matchable": "x", "cannot_match": -1e300,
                          "revoked": [deep(50)]}),
        summary(r_id, p_id, 3, sectors=deep(50), anonymous_sightings=[
                    {"sector": deep(40), "country": big, "sightings": -3},
                    {"sector": "water", "country": "NL", "sightings": "many"}],
                link={"attempts": -5, "failures": 10, "availability": 7.5},
                lead_time_s={"median": "fast", "p90": None, "max": -1},
                unkeyed_sightings={"here": -1e18, "received": 1e308}),
        summary(r_id, p_id, 4, keyed_sightings=[{"sighting_ref": f"sighting--{uuid.uuid4()}",
                                                 "indicator_ref": ind, "here": True,
                                                 "first_seen": "2026-04-02T00:00:00.000Z"}
                                                for _ in range(2000)],
                capacity=None, exchanged=None, link="down", recipients_objects=big),
        # a period that ends before it starts, and far in the future
        dict(summary(r_id, p_id, 5), period_start="2026-07-01T00:00:00.000Z",
             period_end="2026-06-01T00:00:00.000Z"),
        dict(summary(r_id, p_id, 6), period_end="9999-12-31T23:59:59.999Z"),
        # unreadable period, another recipient: left out
        dict(summary(r_id, p_id, 7), period_start=12345),
        summary(r_id, f"identity--{uuid.uuid4()}", 8),
    ]


def run(p, r, h, R):
    for node in (p, r, h):
        collection(node, "c")
    # P knows R (hostile) and H (honest) as partners with pinned keys
    p.partner("p-R", "--identity", r.ident)
    p.partner("p-H", "--identity", h.ident)
    p.run("key", "pin", r.ident, key_of(r), check=True)
    p.run("key", "pin", h.ident, key_of(h), check=True)

    objs = hostile(r.ident, p.ident)
    path = r.path("mine.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, f)
    res = r.run("import", "--quiet", "--collection", "c", path, check=False)
    R.eq(res.code, 0, f"R makes and signs its own made-up summaries ({res.err[-300:]})")
    signed = [json.loads(j) for (j,) in q(r, "SELECT json FROM objects WHERE type=? AND sig=1",
                                          (SUMMARY,))]
    R.eq(len(signed), len(objs), "all of them signed by R's node")
    # an honest summary from H, made by H's own publish for P
    h.run("config", "set", "cooperation.share", "true", check=True)
    h.run("peer", "add", "P", "http://127.0.0.1:9/", "--api-root", "/api/", "--collection", "c",
          "--auth", "token", "--secret-stdin", "--identity", p.ident, "--local-collection", "c",
          "--push", stdin="t0ken\n", check=True)
    h.partner("p-P", "--identity", p.ident)
    sid = h.run("report", "cooperation", "publish", "--to", "P", check=True).out.strip()
    honest = [json.loads(j) for (j,) in q(h, "SELECT json FROM objects WHERE id=?", (sid,))]

    for src, items in (("p-R", signed), ("p-H", honest)):
        path = p.path(f"from-{src}.json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": items}, f)
        res = p.run("import", "--quiet", "--collection", "c", "--from", src, path, check=False)
        R.check(res.code in (0, 1), f"P imports what {src} sent without crashing ({res.code})")
    stored = q(p, "SELECT sig FROM objects WHERE type=?", (SUMMARY,))
    R.check(stored and all(s == 1 for (s,) in stored),
            f"the summaries P stored all verified ({len(stored)} of {len(signed) + 1})")

    for fmt in ("json", "csv", "html"):
        res = p.run("report", "cooperation", "--network", "--format", fmt, check=False)
        R.eq(res.code, 0, f"the network report ({fmt}) survives the hostile summaries "
             f"({res.err[-300:]})")
    res = p.run("report", "cooperation", "--network", "--format", "json", check=False)
    try:
        net = json.loads(res.out)
    except ValueError:
        net = None
    R.check(net is not None, "the JSON report parses")
    if not net:
        return

    bad = []

    def walk(v, at):
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return
        if isinstance(v, (int, float)):
            if v != v or v in (float("inf"), float("-inf")) or v < 0:
                bad.append((at, v))
            return
        items = v.items() if isinstance(v, dict) else enumerate(v)
        for k, x in items:
            walk(x, f"{at}.{k}")
    walk(net, "$")
    R.eq(bad, [], "no count in the report is negative, infinite or not a number")
    used = {s.get("identity") for s in net.get("summaries", [])}
    R.check(h.ident in used, "the honest partner's summary still counts", str(used))
    R.check(len(res.out) < 100_000, f"the report stays small: nothing oversized is copied "
            f"from a summary ({len(res.out)} bytes)")

    # the report runs itself again with huge pages (docs/cooperation.md, "Cost"): the same
    # figures as in one process, whatever GLIBC_TUNABLES held, and the output file too
    def report(env, *extra):
        r = p.run("report", "cooperation", "--until", "2030-01-01T00:00:00Z", *extra, env=env,
                  check=False)
        try:
            j = json.loads(r.out) if r.out.strip() else None
        except ValueError:
            j = None
        if isinstance(j, dict):
            j.pop("generated", None)
        return r.code, j
    plain = report({"SCHAKEL_NO_HUGEPAGES": "1"})
    R.check(plain[0] == 0 and plain[1], "the report in one process (SCHAKEL_NO_HUGEPAGES=1)")
    R.eq(report({}), plain, "run again with huge pages: the same report")
    R.eq(report({"GLIBC_TUNABLES": "glibc.malloc.check=0"}), plain,
         "with other glibc tunables set: the same report")
    out = p.path("rep.json")
    code, _ = report({}, "--output", out)
    with open(out) as f:
        j = json.load(f)
    j.pop("generated", None)
    R.check(code == 0 and j == plain[1], "--output survives the second run")


if __name__ == "__main__":
    main()
