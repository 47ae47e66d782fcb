"""The cooperation summary as an exit of the sharing policy, as a matrix
(docs/cooperation.md, "The federation view"; docs/sharing-policy.md): every
marking (CLEAR, GREEN, AMBER, AMBER+STRICT, RED, unmarked, TLP 1.0 markings,
versions that change marking) x every kind of recipient (a partner with a
plain read grant, with --amber, with --amber-strict, a partner with a RED
recipient account, and a producer whose indicators this node sighted).

Every indicator is sighted here once.  `report cooperation publish --to
PEER` computes the summary through the view of the partner behind the peer:
for each recipient the summary must count exactly the sightings that
`export --for partner:NAME` (the one policy, as TAXII applies it) lets it
see, plus the sightings of indicators it produced, at any level (the sync
sends those back to it: towards the origin); key by id exactly the latter;
count as matchable exactly the current indicators it may see; and name no
id of an indicator or sighting it may neither see nor be sent.  No server runs: publishing only
queues the summary for the peer."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Node, test_main  # noqa: E402
from test_cooperation import q  # noqa: E402
from test_taxii_tlp_matrix import import_matrix, matrix_objects  # noqa: E402

PARTNERS = ["Reader", "Amber", "Strict", "RedOrg", "Producer"]
SUMMARY = "x-schakel-coop-summary"


def main():
    test_main(run, Node(name="Utility"))



def run(u, R):
    ident = {p: u.partner(p, "--country", "NL") for p in PARTNERS}
    u.account("red1", "RedOrg", "pw-red1")
    u.run("collection", "add", "matrix", check=True)
    u.grant("Reader", "matrix", "--read")
    u.grant("Amber", "matrix", "--read", "--amber")
    u.grant("Strict", "matrix", "--read", "--amber-strict")
    u.grant("Producer", "matrix", "--read")
    u.grant("RedOrg", "matrix", "--read")
    u.run("collection", "red-recipient", "red1", "matrix", check=True)
    for p in PARTNERS:  # a peer per partner: publish queues the summary in its outbox
        u.run("peer", "add", p, "http://127.0.0.1:9/", "--api-root", "/api/", "--collection",
              "c", "--auth", "token", "--secret-stdin", "--identity", ident[p],
              "--local-collection", "matrix", "--push", stdin="t0ken\n", check=True)

    prod = ident["Producer"]
    objs = matrix_objects(prod)
    import_matrix(u, objs, "matrix")
    ids = sorted({o["id"] for o in objs})
    sight = {}
    for i in ids:  # one sighting each, made here and marked like its indicator
        sight[i] = u.run("sighting", "add", i, check=True).out.strip()
    R.eq(len(sight), 20, "20 indicators, each sighted once here")
    u.run("config", "set", "cooperation.share", "true", check=True)

    cur = {}
    for o in objs:  # each indicator's current version
        cur[o["id"]] = max(cur.get(o["id"], ""), o["modified"])
    for p in PARTNERS:
        out = u.run("export", "--for", f"partner:{p}", "--collection", "matrix",
                    check=True).out
        exp = json.loads(out).get("objects", [])
        vis = {o["id"] for o in exp
               if o.get("type") == "indicator" and o["modified"] == cur.get(o["id"])}
        vsig = {o["id"]: o["sighting_of_ref"] for o in exp if o.get("type") == "sighting"}
        own = {o["id"] for o in objs if o.get("created_by_ref") == ident[p]}
        sid = u.run("report", "cooperation", "publish", "--to", p, check=True).out.strip()
        rows = q(u, "SELECT json FROM objects WHERE id=?", (sid,))
        R.check(rows, f"{p}: the summary {sid} is stored")
        if not rows:
            continue
        s = json.loads(rows[-1][0])
        text = json.dumps(s)
        keyed = {k["indicator_ref"] for k in s.get("keyed_sightings", [])}
        R.eq(keyed, own, f"{p}: keyed by id: the sightings of every indicator it produced, "
             "at any level")
        for i in own:  # towards the origin: it is sent these whatever their level
            vsig[sight[i]] = i
        R.eq(s.get("unkeyed_sightings", {}).get("here", 0),
             len([i for i in vsig.values() if i not in own]),
             f"{p}: the plain count is the other sightings export --for lets it see")
        R.eq(s.get("capacity", {}).get("indicators_matchable"), len(vis),
             f"{p}: matchable counts the {len(vis)} current indicators it may see")
        hidden = set(ids) - vis
        leaked = [i for i in hidden if i in text] + \
            [x for x in sight.values() if x not in vsig and x in text]
        R.eq(leaked, [], f"{p}: no id of the {len(hidden)} indicators it may not see, "
             "nor of a sighting it may not see")
        R.eq([n for (n,) in q(u, "SELECT p.name FROM outbox b JOIN peers p ON p.pid=b.pid "
                                 "JOIN objects o ON o.ver=b.ver WHERE o.id=?", (sid,))], [p],
             f"{p}: queued for that peer alone")
    # the summaries never leave by any other exit: not in a TAXII read of the collection
    out = u.run("export", "--for", "partner:Amber", "--collection", "matrix", check=True).out
    R.check(SUMMARY not in out, "a summary is in no collection's export")


if __name__ == "__main__":
    main()
