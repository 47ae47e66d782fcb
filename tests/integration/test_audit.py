"""The tamper-evident audit log (docs/audit.md): a partner's TAXII reads
(objects, object, versions, manifest), `export --for`, a sync push and
changes of partners, accounts, tokens and grants each leave one entry that
says who, what and by which path; `audit verify` holds (exit 0) and names
the first bad entry (exit 1) after a row is changed, removed or reordered,
or the tail cut off; archives keep the chain verifiable; a kill -9 of
`serve` during concurrent reads leaves a chain that verifies."""
import json
import os
import sqlite3
import stat
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main, wait_for  # noqa: E402
from sync_util import (add_peer, bearer, collection, grant, import_objects,  # noqa: E402
                       indicator, make_node, sql, sync)


def main():
    test_main(run, make_node("A"), make_node("B"))


def audit(node, *args, db=None):
    """`audit list --json ARGS` as a list of entries."""
    if db:
        p = node.run("--db", db, "audit", "list", "--json", *args, db=False, check=True)
    else:
        p = node.run("audit", "list", "--json", *args, check=True)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def verify(node, db, *args):
    return node.run("--db", db, "audit", "verify", "--no-checkpoint", *args, db=False,
                    check=False)


def copy_db(node, name):
    """A consistent copy of the node's database (the server may be running)."""
    dst = node.path(name)
    src = sqlite3.connect(node.db, timeout=30)
    out = sqlite3.connect(dst)
    try:
        src.backup(out)
    finally:
        src.close()
        out.close()
    return dst


def edit(db, *stmts):
    c = sqlite3.connect(db)
    try:
        for s in stmts:
            c.execute(s)
        c.commit()
    finally:
        c.close()


def by_action(entries, action):
    return [e for e in entries if e["action"] == action]


def run(a, b, R):
    collection(a, "share")
    collection(b, "inbox")
    a.start("--no-sync")
    tok = grant(a, b, "share", read=True, write=True, amber=True)
    objs = [indicator(a.ident, "green") for _ in range(5)]
    import_objects(a, objs, "share")
    auth = bearer(tok)

    # --- exits: TAXII reads by a partner, export --for -------------------------------
    base = "/api/collections/share/"
    st, _, j = a.get_json(base + "objects/", auth)
    R.check(st == 200 and len(j["objects"]) == 5, f"partner reads objects ({st})")
    oid = objs[0]["id"]
    st1, _, _ = a.get_json(base + f"objects/{oid}/", auth)
    st2, _, _ = a.get_json(base + f"objects/{oid}/versions/", auth)
    st3, _, _ = a.get_json(base + "manifest/?match[type]=indicator", auth)
    R.check((st1, st2, st3) == (200, 200, 200), f"object, versions, manifest ({st1} {st2} {st3})")
    a.run("export", "--for", "p-B", "--output", a.path("for-b.json"))
    # a name that is both an account and a partner is refused, never guessed
    a.account("p-B", "p-B", "pw-B2")
    amb = a.run("export", "--for", "p-B", "--output", a.path("amb.json"), check=False)
    R.check(amb.returncode != 0 and "both an account and a partner" in amb.stderr
            and not os.path.exists(a.path("amb.json")), "ambiguous --for refused")
    for who in ("partner:p-B", "account:p-B"):
        r = a.run("export", "--for", who, "--output", a.path("for-x.json"), check=False)
        R.check(r.returncode == 0, f"--for {who} resolves ({r.returncode} {r.stderr[:80]})")
    r = a.run("export", "--for", "account:nobody", "--output", a.path("n.json"), check=False)
    R.check(r.returncode != 0 and "no account named 'nobody'" in r.stderr, "unknown account")
    a.run("account", "delete", "p-B")

    # --- changes of accounts, tokens and grants ----------------------------------------
    a.run("account", "disable", "a-B")
    a.run("account", "enable", "a-B")
    tok2 = a.token("a-B")
    tid = [e for e in audit(a, "--action", "token.create")][-1]["detail"]["token"]
    a.run("token", "revoke", tid)
    a.grant("p-B", "share", "--read", "--write")

    entries = audit(a)
    text = a.run("audit", "list").stdout + json.dumps(entries)
    R.check(tok not in text and tok2 not in text and "pw-B" not in text,
            "no token or password in the log")
    reads = by_action(entries, "taxii.objects")
    R.check(len(reads) == 1 and reads[0]["actor"] == "account:a-B"
            and reads[0]["subject"] == "partner:p-B" and len(reads[0]["versions"]) == 5
            and reads[0]["detail"]["path"] == base + "objects/",
            f"objects read: who, what, path ({reads})")
    for action, n in (("taxii.object", 1), ("taxii.versions", 1), ("taxii.manifest", 5)):
        got = by_action(entries, action)
        R.check(len(got) == 1 and got[0]["subject"] == "partner:p-B"
                and len(got[0]["versions"]) == n, f"{action}: one entry, {n} versions ({got})")
    man = by_action(entries, "taxii.manifest")
    R.check(man and man[0]["detail"]["filters"] == ["match[type]"],
            f"filters by name only, never their values ({man})")
    exp = by_action(entries, "export.for")
    R.check(len(exp) == 3 and all(e["subject"] == "partner:p-B" and len(e["versions"]) == 5
                                  and e["actor"].startswith("cli:") for e in exp)
            and [e["detail"]["account"] for e in exp] == [None, None, "p-B"],
            f"export --for: one entry per export, none for the refused one ({exp})")
    for action in ("partner.add", "account.add", "token.create", "grant.set", "account.disable",
                   "account.enable", "token.revoke"):
        got = by_action(entries, action)
        R.check(got and got[-1]["actor"].startswith("cli:")
                and got[-1]["detail"].get("partner") == "p-B", f"{action} logged ({got})")
    grants = by_action(entries, "grant.set")
    R.check(grants[-1]["detail"]["write"] is True and grants[-1]["detail"]["collection"] == "share",
            f"the grant's new state ({grants[-1]})")
    R.check(entries == sorted(entries, key=lambda e: e["seq"])
            and [e["seq"] for e in entries] == list(range(1, len(entries) + 1)),
            "one line of entries, numbered from 1")

    mine = audit(a, "--partner", "p-B")
    want = [e for e in entries
            if e["subject"] == "partner:p-B" or e["detail"].get("partner") == "p-B"]
    R.check(mine == want and len(want) >= 12, f"--partner p-B ({len(mine)} of {len(entries)})")
    about = {e["action"] for e in audit(a, "--object", oid)}
    R.check(about == {"taxii.objects", "taxii.object", "taxii.versions", "taxii.manifest",
                      "export.for"}, f"--object: the exits that listed it ({about})")
    R.check(audit(a, "--object", objs[1]["id"], "--action", "taxii.object") == [],
            "--object: not the exits that did not")

    # --- a sync push, on the pushing side -------------------------------------------------
    add_peer(b, a, tok, "share", "inbox", pull=False, push=True)
    mine_b = [indicator(b.ident, "green") for _ in range(3)]
    import_objects(b, mine_b, "inbox")
    r = sync(b, "A")
    R.check(r["rc"] == 0, f"push ran ({r.get('stderr')})")
    eb = audit(b)
    push = by_action(eb, "sync.push")
    R.check(len(push) == 1 and push[0]["subject"] == "peer:A" and len(push[0]["versions"]) == 3
            and push[0]["detail"]["peer"] == "A", f"sync.push: to whom, which versions ({push})")
    R.check(by_action(eb, "peer.add") and tok not in json.dumps(eb), "peer.add, without its secret")

    # --- verify: the chain holds ------------------------------------------------------------
    for n in (a, b):
        p = n.run("audit", "verify", check=False)
        R.check(p.returncode == 0 and "form one chain" in p.stdout,
                f"{n.name}: audit verify exits 0 ({p.stdout} {p.stderr})")
    ea = audit(a)
    last = ea[-1]["seq"]
    cps = sql(a, "SELECT seq FROM audit_checkpoints")
    R.check((last,) in cps, f"verify wrote a checkpoint at the last entry ({cps}, {last})")

    # --- tampering, each on a fresh copy -------------------------------------------------
    k = by_action(ea, "taxii.objects")[0]["seq"]
    cols = "ts, actor, action, subject, detail, versions, prev, hash"
    cases = [
        ("a row changed", [f"UPDATE audit SET subject='partner:nobody' WHERE seq={k}"], k),
        ("a row's versions changed", [f"UPDATE audit SET versions='[]' WHERE seq={k}"], k),
        ("a row removed", [f"DELETE FROM audit WHERE seq={k}"], k),
        ("two rows swapped", [
            f"CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN ({k},{k + 1})",
            f"UPDATE audit SET ({cols}) = (SELECT {cols} FROM t WHERE seq={k + 1}) WHERE seq={k}",
            f"UPDATE audit SET ({cols}) = (SELECT {cols} FROM t WHERE seq={k}) WHERE seq={k + 1}",
        ], k),
        ("the tail cut off", [f"DELETE FROM audit WHERE seq>={last - 1}"], last - 1),
        ("a checkpoint removed with the tail", [
            f"DELETE FROM audit WHERE seq>={last - 1}",
            f"DELETE FROM audit_checkpoints WHERE seq={last}"], None),
    ]
    for i, (what, stmts, want) in enumerate(cases):
        db = copy_db(a, f"tamper{i}.db")
        p = verify(a, db)
        R.check(p.returncode == 0, f"{what}: the copy verifies first ({p.stdout})")
        edit(db, *stmts)
        p = verify(a, db)
        if want is None:
            # nothing signed says the tail was there: the documented limit
            R.check(p.returncode == 0, f"{what}: undetectable without a witness ({p.stdout})")
            continue
        R.check(p.returncode == 1 and f"BROKEN at entry {want}:" in p.stdout,
                f"{what}: exit 1 naming entry {want} ({p.returncode}: {p.stdout.strip()})")

    # --- turning the log off is itself logged --------------------------------------------
    a.run("config", "set", "audit.enabled", "false")
    a.get_json(base + "objects/", auth)
    a.run("config", "set", "audit.enabled", "true")
    tail = audit(a, "--since", "1970-01-01T00:00:00Z")[-2:]
    R.check([(e["action"], e["subject"], e["detail"]["value"]) for e in tail]
            == [("config.set", "audit.enabled", "false"), ("config.set", "audit.enabled", "true")],
            f"audit.enabled changes logged, the read between not ({tail})")

    # --- archive: old entries move, the chain still verifies ----------------------------
    before_count = len(audit(a))
    arch = a.path("audit-1.jsonl")
    p = a.run("audit", "archive", "--before", "2999-01-01T00:00:00Z", "--output", arch)
    R.check(os.path.exists(arch) and stat.S_IMODE(os.stat(arch).st_mode) == 0o600,
            "archive file written, mode 0600")
    left = audit(a)
    R.check(len(left) == 1 and left[0]["action"] == "audit.archive"
            and left[0]["detail"]["entries"] == before_count,
            f"the store keeps the record of the archive only ({left})")
    p = a.run("audit", "verify", check=False)
    R.check(p.returncode == 0, f"verify without the archive: anchored by its checkpoint ({p.stdout})")
    p = a.run("audit", "verify", "--archive", arch, check=False)
    R.check(p.returncode == 0 and f"{before_count + 1} entries (1 to" in p.stdout,
            f"verify with the archive spans it all ({p.stdout})")
    p = a.run("audit", "archive", "--before", "2999-01-01T00:00:00Z", "--output", arch, check=False)
    R.check(p.returncode != 0, "an archive file is never overwritten")
    bad = a.path("audit-bad.jsonl")
    with open(arch) as f, open(bad, "w") as g:
        for line in f:
            g.write(line.replace('"partner:p-B"', '"partner:p-X"', 1))
    p = a.run("audit", "verify", "--archive", bad, check=False)
    R.check(p.returncode == 1 and "BROKEN at entry" in p.stdout,
            f"a changed archive fails ({p.stdout.strip()})")

    # --- kill -9 of serve during concurrent reads ------------------------------------------
    n0 = sql(a, "SELECT count(*) FROM audit")[0][0]
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                a.get_json(base + "objects/", auth)
            except OSError:
                pass

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    grew = wait_for(lambda: sql(a, "SELECT count(*) FROM audit")[0][0] >= n0 + 200)
    R.check(grew, "concurrent reads are being logged")
    a.server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=60)
    p = a.run("audit", "verify", "--archive", arch, check=False)
    R.check(p.returncode == 0, f"after kill -9 the chain verifies ({p.stdout} {p.stderr})")
    seqs = [r[0] for r in sql(a, "SELECT seq FROM audit ORDER BY seq")]
    R.check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "no gaps after the crash")


if __name__ == "__main__":
    main()
