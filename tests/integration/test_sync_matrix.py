"""The onward-sharing matrix (docs/sharing-policy.md, "Onward sharing"):
node A shares objects at every TLP level with B; B must never pass A's
AMBER, AMBER+STRICT or RED objects on to C, neither by push nor through its
own TAXII server (even to a named AMBER/RED recipient); GREEN and CLEAR
reach C only by a push configured to re-share, or through a collection
grant; A (the producer) may read its own objects back from B."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from taxii_util import walk  # noqa: E402
from sync_util import (add_peer, bearer, collection, grant, ids_in,  # noqa: E402
                       import_objects, indicator, make_node, sync)

LEVELS = ["clear", "green", "amber", "strict", "red", None]  # None: collection default (amber)


def main():
    test_main(run, *(make_node(n) for n in ("A", "B", "C1", "C2")))


def run(a, b, c1, c2, R):
    collection(a, "share")
    collection(b, "inbox")
    for c in (c1, c2):
        collection(c, "fromb")
    a.start("--no-sync")
    tok_ab = grant(a, b, "share", amber=True)
    a.run("collection", "grant", "p-B", "share", "--read", "--amber", "--amber-strict")
    a.run("collection", "red-recipient", "a-B", "share")
    objs = {lv: indicator(a.ident, lv) for lv in LEVELS}
    import_objects(a, list(objs.values()), "share")
    add_peer(b, a, tok_ab, "share", "inbox")
    r = sync(b, "A")
    got = {o["id"] for o in ids_in(b, "inbox")}
    R.check(got == {o["id"] for o in objs.values()}, f"B received every level ({r})")
    # B also makes its own AMBER object: that one may go to C
    own = indicator(b.ident, "amber")
    import_objects(b, [own], "inbox")

    # --- push B -> C1 (no reshare), B -> C2 (reshare) ---------------------------------
    for c, reshare in ((c1, False), (c2, True)):
        c.start("--no-sync")
        tok = grant(c, b, "fromb", read=True, write=True)
        add_peer(b, c, tok, "fromb", "inbox", pull=False, push=True, reshare=reshare)
        r = sync(b, c.name)
        R.check(r["rc"] == 0, f"push to {c.name} ok ({r.get('stderr')})")
        have = {o["id"] for o in ids_in(c, "fromb")}
        want = {own["id"]} | ({objs["clear"]["id"], objs["green"]["id"]} if reshare else set())
        R.check(have == want, f"{c.name} (reshare={reshare}) got exactly {len(want)}: "
                f"extra {have - want}, missing {want - have}")

    # --- C reads B's TAXII server: GREEN/CLEAR only, even as AMBER and RED recipient --
    b.start("--no-sync")
    tok_cb = grant(b, c1, "inbox", read=True, amber=True)
    b.run("collection", "grant", "p-C1", "inbox", "--read", "--amber", "--amber-strict")
    b.run("collection", "red-recipient", "a-C1", "inbox")
    items, st, _ = walk(b, "/api/collections/inbox/objects/", bearer(tok_cb))
    seen = {o["id"] for o in items or []}
    R.check(st == 200 and seen == {objs["clear"]["id"], objs["green"]["id"], own["id"]},
            f"C1 reading B sees only A's CLEAR/GREEN and B's own ({st}, {len(seen)})")
    for lv in ("amber", "strict", "red", None):
        st, _, _ = b.get_json(f"/api/collections/inbox/objects/{objs[lv]['id']}/",
                              bearer(tok_cb))
        R.check(st == 404, f"A's {lv or 'unmarked'} object is 404 for C1 at B ({st})")
    # the producer may read its own objects back at B
    tok_ba = grant(b, a, "inbox", read=True)
    items, st, _ = walk(b, "/api/collections/inbox/objects/", bearer(tok_ba))
    seen = {o["id"] for o in items or []}
    want = {o["id"] for lv, o in objs.items() if lv != "red"} | {o["id"] for o in [objs["red"]]}
    R.check(want <= seen and own["id"] not in seen,
            f"A sees its own objects back at B, not B's AMBER ({len(seen)})")
    # and C1 pulling from B gets the same as reading
    add_peer(c1, b, tok_cb, "inbox", "fromb", name="B2")
    r = sync(c1, "B2")
    have = {o["id"] for o in ids_in(c1, "fromb")}
    bad = have & {objs[lv]["id"] for lv in ("amber", "strict", "red", None)}
    R.check(r["rc"] == 0 and not bad, f"C1's pull from B: no AMBER/RED of A ({bad})")


if __name__ == "__main__":
    main()
