"""Sightings find their producer across hops (issue 11; docs/sharing-policy.md,
"What a node pushes to a peer" and "Sightings").

Four nodes on 127.0.0.1, no --reshare anywhere: A produces indicators; B
pulls them from A and pushes to A (relay); C pulls from B's collection and
pushes to it (leaf); D is a push peer of B.  C's sightings of A's indicator,
an opinion and a note about it reach A over two hops (C -> B -> A); an
anonymous sighting arrives with its anonymous identity objects and names
neither B nor C; per-sighting anonymous identities are fresh for each
sighting.  Nothing else moves: C's own indicators stop at B, nothing goes to
D, nothing comes back."""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402
from sklib import test_main  # noqa: E402
from sync_util import (Node, add_peer, collection, grant, ids_in,  # noqa: E402
                       import_objects, indicator, make_node, sql, sync)


class Leaf(Node):
    """C: a node with a name of its own, a sector and a country (its anonymous
    identity then has sectors and a location)."""

    def __init__(self):
        sklib.Node.__init__(self, name="Leaf water utility C", check=True,
                            init_args=("--sector", "utilities", "--country", "NL"))


def leaf():
    n = Leaf()
    n.name = "C"
    n.ident = n.identity()
    return n


def main():
    test_main(run, make_node("A"), make_node("B"), leaf(), make_node("D"))


def ids(node, where):
    return {r[0] for r in sql(node, f"SELECT DISTINCT id FROM objects WHERE {where}")}


def json_of(node, oid):
    rows = sql(node, f"SELECT json FROM objects WHERE id='{oid}' ORDER BY ver")
    return json.loads(rows[-1][0]) if rows else {}


def companions(node, who):
    """The ids of identity `who`, its located-at relationships and their locations at node."""
    rel = sql(node, f"SELECT id, dst_ref FROM objects WHERE type='relationship'"
                    f" AND src_ref='{who}' AND rel_type='located-at'")
    return {who} | {r[0] for r in rel} | {r[1] for r in rel}


def run(a, b, c, d, R):
    collection(a, "share")
    collection(b, "inbox")
    collection(c, "fromb")
    collection(d, "fromb")
    a.start("--no-sync")
    b.start("--no-sync")
    d.start("--no-sync")
    # B <-> A (pull + push), C <-> B (pull + push), B -> D (push only); no --reshare
    add_peer(b, a, grant(a, b, "share", read=True, write=True), "share", "inbox", push=True)
    add_peer(c, b, grant(b, c, "inbox", read=True, write=True), "inbox", "fromb", push=True)
    add_peer(b, d, grant(d, b, "fromb", read=True, write=True), "fromb", "inbox",
             pull=False, push=True)

    x = indicator(a.ident, "green")
    y = indicator(a.ident, "green")
    import_objects(a, [x, y], "share")
    R.check(sync(b, "A")["rc"] == 0, "B pulls A")
    R.check(sync(c, "B")["rc"] == 0, "C pulls B")
    have_c = {o["id"] for o in ids_in(c, "fromb")}
    R.check({x["id"], y["id"]} <= have_c, "A's GREEN indicators reached C through B")

    # C's own indicators go to B (made here) and no further
    z_green, z_amber = indicator(c.ident, "green"), indicator(c.ident, "amber")
    import_objects(c, [z_green, z_amber], "fromb")

    # --- a sighting made at C, named by C ------------------------------------------------
    s1 = c.run("sighting", "add", x["id"], check=True).out.strip()
    # an opinion about X made at C; a note about something B never held, then X
    op = {"type": "opinion", "spec_version": "2.1", "id": f"opinion--{uuid.uuid4()}",
          "created": "2024-02-01T00:00:00.000Z", "modified": "2024-02-01T00:00:00.000Z",
          "created_by_ref": c.ident, "opinion": "agree", "object_refs": [x["id"]]}
    note = {"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}",
            "created": "2024-02-01T00:00:00.000Z", "modified": "2024-02-01T00:00:00.000Z",
            "created_by_ref": c.ident, "content": "seen at our pumping station",
            "object_refs": [f"indicator--{uuid.uuid4()}", y["id"]],
            "object_marking_refs": [x["object_marking_refs"][0]]}
    import_objects(c, [op, note], "fromb")

    # --- anonymous (one identity per node) -----------------------------------------------
    c.run("config", "set", "sightings.anonymous", "true", check=True)
    s2 = c.run("sighting", "add", y["id"], check=True).out.strip()
    anon = json_of(c, s2)["created_by_ref"]

    # --- anonymous, a fresh identity per sighting ------------------------------------------
    c.run("config", "set", "sightings.anonymous", "per-sighting", check=True)
    s3 = c.run("sighting", "add", x["id"], check=True).out.strip()
    s4 = c.run("sighting", "add", x["id"], check=True).out.strip()
    who3, who4 = json_of(c, s3)["created_by_ref"], json_of(c, s4)["created_by_ref"]
    R.check(len({who3, who4, anon, c.ident}) == 4,
            f"per-sighting: each sighting has an identity of its own ({who3}, {who4})")
    R.check(companions(c, who3).isdisjoint(companions(c, who4)),
            "per-sighting: no location or relationship shared between two sightings")

    # the write rule knows per-sighting identities as C's own: nobody else may claim them
    c.partner("Forger", "--identity", f"identity--{uuid.uuid4()}")
    forged = indicator(who3, "green")
    path = os.path.join(c.dir, "forged.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [forged]}, f)
    c.run("import", "--collection", "fromb", "--from", "Forger", path, check=False)
    R.check(not ids(c, f"id='{forged['id']}'"),
            "an object from elsewhere claiming a per-sighting identity is refused")

    # hop 1: C -> B; hop 2: B -> A and B -> D
    r = sync(c, "B")
    R.check(r["rc"] == 0, f"C pushes to B ({r.get('stderr')})")
    for peer in ("A", "D"):
        r = sync(b, peer)
        R.check(r["rc"] == 0, f"B syncs {peer} ({r.get('stderr')})")

    feedback = {s1, s2, s3, s4, op["id"], note["id"]}
    anon_objs = companions(c, anon) | companions(c, who3) | companions(c, who4)
    R.check(len(anon_objs) == 9, f"three anonymous identities with location and located-at "
            f"at C ({len(anon_objs)})")
    at_b = ids(b, f"rx='{c.ident}'")
    R.check(feedback | anon_objs | {z_green["id"], z_amber["id"]} == at_b,
            f"B holds what C pushed: extra {at_b - feedback - anon_objs}")

    # A has the feedback and the anonymous identities, and nothing else from B
    at_a = ids(a, f"rx='{b.ident}'")
    R.check(feedback <= at_a, f"sightings, opinion and note reached A over two hops "
            f"(missing {feedback - at_a})")
    R.check(anon_objs <= at_a, f"anonymous identity objects came along "
            f"(missing {anon_objs - at_a})")
    R.check(at_a == feedback | anon_objs, f"nothing else reached A from B "
            f"(extra {at_a - feedback - anon_objs})")
    R.check(z_green["id"] not in at_a and z_amber["id"] not in at_a,
            "C's own indicators stopped at B")
    R.check(json_of(a, s1).get("created_by_ref") == c.ident, "the named sighting names C at A")
    for sid in (s2, s3, s4):
        raw = sql(a, f"SELECT json FROM objects WHERE id='{sid}'")
        R.check(raw and b.ident not in raw[0][0] and c.ident not in raw[0][0],
                f"A's copy of anonymous sighting {sid} names neither B nor C")
    for oid in anon_objs:
        raw = sql(a, f"SELECT json FROM objects WHERE id='{oid}'")
        R.check(raw and b.ident not in raw[0][0] and c.ident not in raw[0][0] and
                "Leaf water utility" not in raw[0][0],
                f"anonymous identity object {oid.split('--')[0]} reveals nothing of B or C")
    ident = json_of(a, anon)
    R.check(ident.get("name") == "anonymous" and ident.get("sectors") == ["utilities"],
            f"A's copy of the anonymous identity: sectors only ({ident})")
    tl = sql(a, f"SELECT tlp FROM objects WHERE id='{s1}'")
    tx = sql(a, f"SELECT tlp FROM objects WHERE id='{x['id']}'")
    R.check(tl == tx, f"the sighting keeps the indicator's marking at A ({tl}, {tx})")

    # D, B's other peer, got none of it (B made nothing here; it received the rest)
    at_d = ids(d, "1")
    R.check(not (at_d & (feedback | anon_objs | {z_green["id"], z_amber["id"]})),
            f"nothing of C's went to D ({len(at_d)} objects at D)")
    R.check(not ids(d, f"rx='{b.ident}'"), "D received nothing from B")

    # the next round: echoes are duplicates, nothing is pushed again
    for node, peer in ((b, "A"), (c, "B"), (b, "A"), (b, "D")):
        r = sync(node, peer)
        R.check(r["rc"] == 0 and r.get("queued", 0) == 0,
                f"{node.name} -> {peer}: nothing queued again ({r})")
    R.check(ids(a, f"rx='{b.ident}'") == at_a, "A holds the same after another round")

    # a later sighting by the per-node anonymous identity: its identity goes along again
    # (a duplicate at A), the sighting arrives
    c.run("config", "set", "sightings.anonymous", "true", check=True)
    s5 = c.run("sighting", "add", x["id"], check=True).out.strip()
    sync(c, "B")
    r = sync(b, "A")
    R.check(r["rc"] == 0 and s5 in ids(a, f"rx='{b.ident}'"),
            f"a second anonymous sighting reaches A ({r})")
    R.check(json_of(a, s5).get("created_by_ref") == anon, "under the same per-node identity")

    # scan, per-sighting: one versioned sighting per indicator, which keeps its identity
    c.run("config", "set", "sightings.anonymous", "per-sighting", check=True)
    ip = x["pattern"].split("'")[1]
    log = os.path.join(c.dir, "conn.log")
    with open(log, "w") as f:
        f.write(f"2024-03-01T10:00:00Z connection from 192.0.2.7 to {ip}:443\n")
    before = ids(c, "type='sighting'")
    for _ in range(2):
        c.run("scan", "--quiet", "--format", "text", log, check=True)
    new = ids(c, "type='sighting'") - before
    vers = sql(c, "SELECT json_extract(json,'$.created_by_ref') FROM objects"
                  f" WHERE type='sighting' AND id IN ({','.join(repr(i) for i in new)})")
    who6 = {v[0] for v in vers}
    R.check(len(new) == 1 and len(vers) == 2 and len(who6) == 1 and
            who6.isdisjoint({who3, who4, anon, c.ident}),
            f"per-sighting scan: one sighting, two versions, one fresh identity ({new}, {vers})")
    sync(c, "B")
    sync(b, "A")
    s6 = next(iter(new), None)
    R.check(len(sql(a, f"SELECT 1 FROM objects WHERE id='{s6}'")) == 2 and
            who6 <= ids(a, f"rx='{b.ident}'"),
            "both versions reach A with their identity")


if __name__ == "__main__":
    main()
