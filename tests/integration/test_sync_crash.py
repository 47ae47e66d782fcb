"""kill -9 of a node in the middle of a sync (the scheduler inside
`schakel serve`), then a restart: the pull cursor and the push outbox resume
with nothing lost and nothing duplicated."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Server, test_main, wait_for  # noqa: E402
from sync_util import (add_peer, collection, grant, import_objects, indicator,  # noqa: E402
                       make_node, sql, sync)

N_PULL = 30000
N_PUSH = 6000


def cursor_us(ts):
    """A TAXII timestamp (UTC, up to microseconds) as microseconds since 1970."""
    import datetime
    day, frac = ts.rstrip("Z"), "0"
    if "." in day:
        day, frac = day.split(".")
    t = datetime.datetime.strptime(day, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000000 + int((frac + "000000")[:6])


def main():
    test_main(run, make_node("A"), make_node("B"))


def run(a, b, R):
    collection(a, "share")
    collection(b, "inbox")
    import_objects(a, [indicator(a.ident, "green") for _ in range(N_PULL)], "share")
    import_objects(b, [indicator(b.ident, "green") for _ in range(N_PUSH)], "inbox")
    a.start("--no-sync", "--page-size", "200")
    tok = grant(a, b, "share", read=True, write=True)
    add_peer(b, a, tok, "share", "inbox", pull=True, push=True)

    killed = 0
    for attempt in range(3):
        # transactions of 5 pages: the kills land inside and between them
        srv = Server(b, env={"SCHAKEL_SYNC_TX": "1000"})
        target = (attempt + 1) * N_PULL // 4
        wait_for(lambda: sql(b, "SELECT count(*) FROM provenance")[0][0] >= target,
                 step=0.01)  # until the sync is under way
        srv.kill()
        killed += 1
    R.check(killed == 3, "killed the syncing node three times")
    partial = sql(b, "SELECT count(*) FROM provenance")[0][0]
    R.check(0 < partial, f"some progress before the kills ({partial})")
    # a page and the cursor it reached are committed together: what B holds
    # from A is exactly A's objects up to B's durable cursor
    cur = sql(b, "SELECT pull_cursor FROM peer_state")[0][0]
    upto = sql(a, "SELECT count(*) FROM collection_objects co JOIN collections c"
                  " ON c.cid=co.coll WHERE c.name='share' AND co.date_added <="
                  f" {cursor_us(cur)}")[0][0] if cur else 0
    R.check(upto == partial, f"cursor and stored objects agree ({upto} vs {partial})")
    # restart and finish
    for _ in range(5):
        r = sync(b, "A", check=False)
        if r["rc"] == 0 and r.get("outbox") == 0:
            break
    got = sql(b, "SELECT count(*), count(DISTINCT id) FROM objects WHERE rx IS NOT NULL")[0]
    R.check(got == (N_PULL, N_PULL), f"pull: every object once after the crashes ({got})")
    prov = sql(b, "SELECT count(*) FROM provenance")[0][0]
    R.check(prov == N_PULL, f"provenance once per version ({prov})")
    co = sql(b, "SELECT count(*) FROM collection_objects co JOIN objects o ON o.ver=co.ver"
                " WHERE o.rx IS NOT NULL")[0][0]
    R.check(co == N_PULL, f"once in the collection ({co})")
    pushed = sql(a, f"SELECT count(*), count(DISTINCT id) FROM objects WHERE rx='{b.ident}'")[0]
    R.check(pushed == (N_PUSH, N_PUSH), f"push: every object once at A ({pushed})")
    R.check(sql(b, "SELECT count(*) FROM outbox")[0][0] == 0, "outbox empty")
    sync(b, "A")  # reads back, once, what B pushed to A (stored once: duplicates)
    R.check(sql(b, "SELECT count(*) FROM objects WHERE rx IS NOT NULL")[0][0] == N_PULL,
            "echo of pushed objects stored nothing")
    r = sync(b, "A")
    R.check(r.get("requests") == 1 and r.get("stored") == 0 and r.get("sent") == 0,
            f"then a no-op ({r})")


if __name__ == "__main__":
    main()
