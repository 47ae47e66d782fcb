"""Federation between two nodes on loopback: pull with paging and a durable
cursor, provenance, the one-request no-op sync, secrets kept out of the
database and output, push with status polling (large envelopes answered
"pending"), a peer that is down and comes back (outbox, nothing lost or
duplicated), revocation propagation, and sightings reaching the producer."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from sync_util import (add_peer, collection, grant, ids_in, import_objects,  # noqa: E402
                       indicator, make_node, sql, sync)


def main():
    test_main(run, make_node("A"), make_node("B"))


def run(a, b, R):
    collection(a, "share")
    collection(b, "inbox")
    a.start("--no-sync", "--page-size", "100")
    tok = grant(a, b, "share", read=True, write=True, amber=True)
    add_peer(b, a, tok, "share", "inbox", pull=True, push=True)

    # the secret: in <db>.secrets, mode 0600, not in the database, never printed
    sp = b.db + ".secrets"
    R.check(os.path.exists(sp) and stat.S_IMODE(os.stat(sp).st_mode) == 0o600,
            "secrets file exists with mode 0600")
    with open(b.db, "rb") as f:
        R.check(tok.encode() not in f.read(), "token not in the database file")
    for args in (("peer", "list"), ("peer", "status")):
        p = b.run(*args)
        R.check(tok not in p.stdout + p.stderr, f"{' '.join(args)} does not print the token")

    # --- pull across many pages ---------------------------------------------------
    objs = [indicator(a.ident, "green") for _ in range(1050)]
    import_objects(a, objs, "share")
    r = sync(b, "A")
    R.check(r["rc"] == 0, f"first sync ok ({r.get('stderr')})")
    R.check(r.get("pages", 0) >= 11, f"paged with next ({r.get('pages')} pages)")
    got = {o["id"] for o in ids_in(b, "inbox") if o["type"] == "indicator"}
    R.check(got == {o["id"] for o in objs}, f"all 1050 pulled ({len(got)})")
    prov = sql(b, "SELECT count(*), count(source_added), min(peer), max(peer) FROM provenance")[0]
    R.check(prov[0] == 1050 and prov[1] == 1050 and prov[2] == prov[3] == "A",
            f"provenance per version: peer and source date_added ({prov})")
    rx = sql(b, "SELECT DISTINCT rx FROM objects WHERE type='indicator'")
    R.check(rx == [(a.ident,)], f"received versions carry their source ({rx})")

    # --- incremental: nothing new = one request ------------------------------------
    r = sync(b, "A")
    R.check(r["rc"] == 0 and r.get("requests") == 1 and r.get("stored") == 0,
            f"no-op sync is one request ({r})")
    new = [indicator(a.ident, "green") for _ in range(5)]
    import_objects(a, new, "share")
    r = sync(b, "A")
    R.check(r.get("stored") == 5 and r.get("requests") == 1, f"incremental pulls only new ({r})")

    # --- push: made here goes out; received does not go back ------------------------
    mine = [indicator(b.ident, "amber") for _ in range(2500)]  # > 2000: "pending" at A
    import_objects(b, mine, "inbox")
    r = sync(b, "A")
    R.check(r["rc"] == 0 and r.get("sent") == 2500 and r.get("outbox") == 0,
            f"pushed 2500 with status polling ({r})")
    a_ids = {o["id"] for o in ids_in(a, "share")}
    R.check({o["id"] for o in mine} <= a_ids, "B's objects arrived at A")
    n_a = sql(a, "SELECT count(*) FROM collection_objects")[0][0]
    r = sync(b, "A")
    R.check(r.get("queued") == 0 and r.get("sent") == 0, f"nothing pushed twice ({r})")
    R.check(sql(a, "SELECT count(*) FROM collection_objects")[0][0] == n_a,
            "no echo of A's own objects")
    rxa = sql(a, f"SELECT count(*) FROM objects WHERE rx='{b.ident}'")[0][0]
    R.check(rxa == 2500, f"A records B as the source of the pushed versions ({rxa})")

    # --- peer down, objects made meanwhile, peer back: nothing lost or duplicated ---
    port = a.port
    a.stop()
    later = [indicator(b.ident, "green") for _ in range(30)]
    import_objects(b, later, "inbox")
    r = sync(b, "A", check=False)
    R.check(r["rc"] != 0, "sync fails while A is down")
    ob = sql(b, "SELECT count(*), max(attempts) FROM outbox")[0]
    R.check(ob[0] == 30 and ob[1] >= 1, f"30 kept in the outbox with an attempt counted ({ob})")
    st = b.run("peer", "status").stdout
    R.check("failures 1" in st and "last error" in st, f"status shows the failure: {st!r}")
    a.start("--no-sync", "--page-size", "100", listen=f"127.0.0.1:{port}")
    sql_reset = "UPDATE outbox SET next_try=0"
    import sqlite3
    c = sqlite3.connect(b.db)
    c.execute(sql_reset)
    c.commit()
    c.close()
    r = sync(b, "A")
    R.check(r["rc"] == 0 and r.get("sent") == 30 and r.get("outbox") == 0,
            f"caught up after A came back ({r})")
    cnt = sql(a, "SELECT count(*) FROM objects WHERE id IN (%s)" %
              ",".join(f"'{o['id']}'" for o in later))[0][0]
    R.check(cnt == 30, f"each delivered once ({cnt})")

    # --- revocation propagates along the same path ----------------------------------
    victim = objs[0]
    rev = dict(victim, modified="2024-06-01T00:00:00.000Z", revoked=True)
    import_objects(a, [rev], "share")
    r = sync(b, "A")
    vs = sql(b, f"SELECT revoked FROM objects WHERE id='{victim['id']}' ORDER BY version")
    R.check(vs == [(0,), (1,)], f"revoked version reached B ({vs})")

    # --- a sighting of A's indicator made at B reaches A ----------------------------
    sid = b.run("sighting", "add", objs[1]["id"], "--count", "3").stdout.strip()
    r = sync(b, "A")
    s_at_a = sql(a, f"SELECT created_by, rx FROM objects WHERE id='{sid}'")
    R.check(s_at_a == [(b.ident, b.ident)], f"sighting reached the producer ({s_at_a})")
    # anonymous: only sectors and country
    b.run("config", "set", "sightings.anonymous", "true")
    sid2 = b.run("sighting", "add", objs[2]["id"]).stdout.strip()
    r = sync(b, "A")
    row = sql(a, f"SELECT created_by FROM objects WHERE id='{sid2}'")
    R.check(row and row[0][0] != b.ident, f"anonymous sighting does not name B ({row})")
    if row:
        ident = sql(a, f"SELECT json FROM objects WHERE id='{row[0][0]}'")
        R.check(ident and '"name":"anonymous"' in ident[0][0] and "Test CERT" not in ident[0][0],
                f"anonymous identity arrived without the organisation's name ({ident})")
    m = b.run("metrics").stdout
    R.check('schakel_sync_objects_in_total{peer="A"}' in m and
            'schakel_sync_sightings_sent_total{peer="A"} 2' in m, "metrics per peer")


if __name__ == "__main__":
    main()
