#!/usr/bin/env python3
"""Accounts of the node's own people, immediate account changes, password-guessing
limits, /metrics credentials, private files and a non-dumpable server.

- own accounts with a role (`account add NAME --role R`): metrics reads /metrics
  and gets 403 on TAXII; a partner account gets 403 on /metrics; no credentials
  get 401 unless /metrics is public (default on a loopback listener; tested with
  --metrics-public no, since tests listen on 127.0.0.1 only);
- disable / enable / passwd / delete and token revocation take effect on the very
  next request of a running server (no sleeping: the CLI runs against the same db);
- wrong passwords back off per (user, address) and per address with 429 +
  Retry-After, logged with the user name, never the password; other users' correct
  logins and every token keep working; the concurrency cap lets a token request
  through a flood of wrong passwords;
- with umask 022, the database, -wal, -shm, the secrets file, exports and alerts
  are 0600;
- `serve` is not dumpable (its /proc/PID files belong to root).
"""
import os
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import test_main, wait_for  # noqa: E402
from taxii_util import Node, basic, bearer  # noqa: E402


def status(node, path, auth=None, accept=None):
    st, hd, _ = node.request("GET", path, auth=auth, accept=accept)
    return st, hd


def own(node, name, role, pw):
    node.run("account", "add", name, "--role", role, "--password-stdin", stdin=pw + "\n")


def setup(node):
    node.partner("Alpha")
    node.account("ana", "Alpha", "ana-pw")
    node.account("bob", "Alpha", "bob-pw")
    own(node, "mon", "metrics", "mon-pw")
    own(node, "adm", "admin", "adm-pw")
    own(node, "vie", "viewer", "vie-pw")
    node.run("collection", "add", "feed", "--alias", "feed")
    node.grant("Alpha", "feed", "--read")


def roles_and_metrics(node, R):
    mon_tok = node.token("mon")
    r = node.run("account", "list")
    lines = {ln.split()[0]: ln.split() for ln in r.out.splitlines() if ln.strip()}
    R.check(lines.get("mon", [None, None])[1] == "metrics" and lines["ana"][1] == "partner"
            and lines["ana"][2] == "Alpha" and lines["mon"][2] == "-",
            "account list shows roles and partners", r.out)
    R.check("Alpha" in node.run("partner", "list").out
            and len(node.run("partner", "list").out.splitlines()) == 1,
            "the reserved row of own accounts is not a listed partner")
    R.check(node.run("collection", "grant", "", "feed", "--read", check=False).code != 0,
            "the reserved row cannot be granted anything")

    srv = node.start("--metrics", "--metrics-public", "no", err="m.log")
    st, hd = status(node, "/metrics")
    R.check(st == 401 and "www-authenticate" in hd, f"/metrics without credentials: {st}")
    R.eq(status(node, "/metrics", basic("mon", "wrong"))[0], 401, "/metrics wrong password")
    st, _, body = node.request("GET", "/metrics", auth=basic("mon", "mon-pw"), accept=None)
    R.check(st == 200 and b"schakel_" in body, f"/metrics as role metrics (Basic): {st}")
    R.eq(status(node, "/metrics", bearer(mon_tok))[0], 200, "/metrics as role metrics (token)")
    R.eq(status(node, "/metrics", basic("adm", "adm-pw"))[0], 200, "/metrics as admin")
    R.eq(status(node, "/metrics", basic("ana", "ana-pw"))[0], 403, "/metrics as a partner")
    R.eq(status(node, "/metrics", basic("vie", "vie-pw"))[0], 403, "/metrics as a viewer")
    for path in ("/taxii2/", "/api/", "/api/collections/", "/api/collections/feed/objects/"):
        R.eq(node.get_json(path, basic("mon", "mon-pw"))[0], 403, f"metrics account on {path}")
        R.eq(node.get_json(path, bearer(mon_tok))[0], 403, f"metrics token on {path}")
    st, _, j = node.get_json("/api/collections/", basic("ana", "ana-pw"))
    R.check(st == 200 and any(c.get("title") == "feed" or "feed" in str(c)
                              for c in (j or {}).get("collections", [])),
            f"the partner account works as before: {st}")
    st, _, j = node.get_json("/api/collections/", basic("adm", "adm-pw"))
    R.check(st == 200 and not (j or {}).get("collections"),
            f"an own account holds no TAXII grants: {st} {j}")
    srv.stop()

    srv = node.start("--metrics", err="m2.log")  # 127.0.0.1: public by default
    R.eq(status(node, "/metrics")[0], 200, "/metrics open on a loopback-only listener")
    srv.stop()


def immediate_changes(node, R):
    node.start(err="imm.log")
    A = basic("ana", "ana-pw")
    path = "/api/collections/"
    R.eq(node.get_json(path, A)[0], 200, "ana logs in (and is cached)")
    tok = node.token("ana")
    R.eq(node.get_json(path, bearer(tok))[0], 200, "ana's token works")

    node.run("account", "disable", "ana")
    R.eq(node.get_json(path, A)[0], 401, "disable: the cached login is refused at once")
    R.eq(node.get_json(path, bearer(tok))[0], 401, "disable: the token is refused at once")
    node.run("account", "enable", "ana")
    R.eq(node.get_json(path, A)[0], 200, "enable: the login works again")
    R.eq(node.get_json(path, bearer(tok))[0], 200, "enable: the token works again")

    node.run("account", "passwd", "ana", "--password-stdin", stdin="ana-new\n")
    R.eq(node.get_json(path, A)[0], 401, "passwd: the old password is refused at once")
    R.eq(node.get_json(path, basic("ana", "ana-new"))[0], 200, "passwd: the new one works")

    tid = node.run("token", "create", "ana").err.split()[1]
    tok2 = node.run("token", "create", "ana").out.strip()
    R.eq(node.get_json(path, bearer(tok2))[0], 200, "a second token works")
    node.run("token", "revoke", tok2)
    R.eq(node.get_json(path, bearer(tok2))[0], 401, "a revoked token is refused at once")
    R.check(tid.startswith("tk"), "token create names the token id", tid)

    node.run("account", "delete", "ana")
    R.eq(node.get_json(path, basic("ana", "ana-new"))[0], 401, "delete: the login is refused")
    R.eq(node.get_json(path, bearer(tok))[0], 401, "delete: its token is refused")
    R.check(node.run("account", "disable", "ana", check=False).code != 0,
            "a deleted account is gone")
    node.stop()


def backoff(node, R):
    node.account("carl", "Alpha", "carl-pw")
    node.account("dora", "Alpha", "dora-pw")
    carl_tok = node.token("carl")
    srv = node.start("--auth-user-failures", "3", "--auth-addr-failures", "1000",
                     "--auth-block", "600", err="bo.log")
    path = "/api/collections/"
    secret = "Guess-Not-Logged-7x"
    got = [node.get_json(path, basic("carl", secret))[0] for _ in range(3)]
    R.eq(got, [401, 401, 401], "the first wrong passwords are answered 401")
    st, hd, _ = node.get_json(path, basic("carl", secret))
    R.check(st == 429 and int(hd.get("retry-after", "0")) > 0,
            f"then 429 with Retry-After ({st}, {hd.get('retry-after')})")
    R.eq(node.get_json(path, basic("carl", "carl-pw"))[0], 429,
         "while blocked, (user, address) is refused without a password check")
    R.eq(node.get_json(path, bearer(carl_tok))[0], 200, "the blocked user's token still works")
    R.eq(node.get_json(path, basic("dora", "dora-pw"))[0], 200,
         "another user's correct login from the same address works")
    log = srv.log()
    R.check('user "carl"' in log and "127.0.0.1" in log, "the log names the user and address",
            log[-2000:])
    R.check(secret not in log and "carl-pw" not in log, "the log never holds a password")
    srv.stop()

    # per address: many users, one address
    node.account("erik", "Alpha", "erik-pw")
    erik_tok = node.token("erik")
    srv = node.start("--auth-user-failures", "1000", "--auth-addr-failures", "4",
                     "--auth-block", "600", err="bo2.log")
    got = [node.get_json(path, basic("nobody%d" % i, "x"))[0] for i in range(4)]
    R.eq(got, [401] * 4, "wrong passwords of four users")
    st, hd, _ = node.get_json(path, basic("erik", "erik-pw"))
    R.check(st == 429 and "retry-after" in hd, f"then the address backs off: {st}")
    R.eq(node.get_json(path, bearer(erik_tok))[0], 200, "tokens from that address still work")
    R.check("refusing password logins from it" in srv.log(), "the address block is logged")
    srv.stop()


def concurrency_cap(node, R):
    node.account("fay", "Alpha", "fay-pw")
    tok = node.token("fay")
    srv = node.start("--auth-concurrency", "1", "--auth-wait-ms", "1",
                     "--auth-user-failures", "100000", "--auth-addr-failures", "100000",
                     "--threads", "4", err="cap.log")
    path = "/api/collections/"
    stop = threading.Event()
    seen = []
    lock = threading.Lock()

    def flood(i):
        n = 0
        while not stop.is_set() and n < 200:
            try:
                st, hd, _ = node.get_json(path, basic("flood%d-%d" % (i, n), "wrong"))
                with lock:
                    seen.append((st, hd.get("retry-after")))
            except OSError:
                pass
            n += 1

    threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    # once the flood is under way (wrong passwords are being checked) ...
    R.check(wait_for(lambda: srv.log().count("wrong password") >= 3), "the flood runs")
    st = node.get_json(path, bearer(tok))[0]
    R.eq(st, 200, "a token request is answered during a flood of wrong passwords")
    st = node.get_json(path, basic("fay", "fay-pw"))[0]
    R.check(st in (200, 503), f"a correct password gets a check or a prompt 503 ({st})")
    stop.set()
    for t in threads:
        t.join(timeout=sklib.WAIT)
    codes = {s for s, _ in seen}
    R.check(codes <= {401, 503}, f"the flood gets only 401 or 503: {codes}")
    R.check(all(ra for s, ra in seen if s == 503), "every 503 says Retry-After")
    R.eq(node.get_json(path, basic("fay", "fay-pw"))[0], 200, "after the flood, logins work")
    srv.stop()


def mode(path):
    return os.stat(path).st_mode & 0o777


def file_modes(node, R):
    old = os.umask(0o022)
    try:
        n = sklib.Node()  # init under umask 022
        db = n.db
        R.eq(mode(db), 0o600, "init: the database is 0600")
        n.run("import", sklib.ashfall("bundle"), check=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                R.eq(mode(db + suffix), 0o600, "import: node.db%s is 0600" % suffix)
        n.run("peer", "add", "P", "http://127.0.0.1:9/", "--api-root", "/api/",
              "--collection", "c", "--auth", "token", "--secret-stdin", stdin="sk_x\n",
              check=True)
        R.eq(mode(db + ".secrets"), 0o600, "the secrets file is 0600")
        out = n.path("export.json")
        n.run("export", "--output", out, check=True)
        R.eq(mode(out), 0o600, "export --output: a new file is 0600")
        with open(n.path("old.json"), "w") as f:
            f.write("x")
        os.chmod(n.path("old.json"), 0o644)
        n.run("export", "--output", n.path("old.json"), check=True)
        R.eq(mode(n.path("old.json")), 0o600, "export --output over a 0644 file makes it 0600")
        alerts = n.path("alerts.jsonl")
        log = sklib.write_text(n.path("watch.log"), "")
        srv = n.start("--no-sync", "--watch", log, "--watch-format", "text", "--alerts", alerts)
        for suffix in ("", "-wal", "-shm"):
            R.check(wait_for(lambda: os.path.exists(db + suffix)), "serve: node.db%s" % suffix)
            R.eq(mode(db + suffix), 0o600, "serve: node.db%s is 0600" % suffix)
        if os.path.exists(alerts):
            R.eq(mode(alerts), 0o600, "serve --alerts: the alerts file is 0600")
        srv.stop()
        # an older node's world-readable files are tightened when opened
        os.chmod(db, 0o644)
        r = n.run("stats")
        R.eq(mode(db), 0o600, "opening tightens an older 0644 database")
        R.check("made it owner-only" in r.err, "and says so", r.err)
        n.cleanup()
    finally:
        os.umask(old)


def reachable_by_others(path):
    """Whether every directory above path lets other users through (o+x)."""
    d = os.path.dirname(os.path.abspath(path))
    while True:
        if not os.stat(d).st_mode & 0o001:
            return False
        parent = os.path.dirname(d)
        if parent == d:
            return True
        d = parent


def not_dumpable(node, R):
    """A non-dumpable process's /proc/PID files belong to root.  Run as root, the
    server runs as nobody (uid 65534) so that the owner tells."""
    uid = os.getuid()
    if uid == 0 and not reachable_by_others(sklib.binary()):
        # a checkout in a private directory (mktemp -d makes it 0700): nobody cannot run
        # the binary there, and the check needs a second uid to tell the owner by
        print("# skipped not_dumpable: %s is not reachable by other users (a directory "
              "above it lacks o+x); clone into a world-readable directory to run it"
              % sklib.binary())
        return
    n = sklib.Node()
    user = None
    if uid == 0:
        user = 65534
        for root, dirs, files in os.walk(n.dir):
            for x in dirs + files:
                os.chown(os.path.join(root, x), user, user)
        os.chown(n.dir, user, user)
    out = open(n.path("serve.out"), "w")
    err = open(n.path("serve.err"), "w")
    kw = {"user": user, "group": user} if user else {}
    p = subprocess.Popen([n.bin, "--db", n.db, "serve", "--no-sync", "--listen", "127.0.0.1:0"],
                         stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=n.dir, **kw)
    try:
        up = wait_for(lambda: "listening on" in open(n.path("serve.out")).read()
                      or p.poll() is not None)
        R.check(up and p.poll() is None, "serve runs",
                open(n.path("serve.err")).read()[-2000:])
        owner = os.stat("/proc/%d/environ" % p.pid).st_uid
        R.eq(owner, 0, "serve is not dumpable (/proc/PID/environ belongs to root, "
                       "not to uid %d)" % (user if user else uid))
    finally:
        p.terminate()
        p.wait(timeout=sklib.WAIT)
        out.close()
        err.close()
        if uid == 0:
            shutil.rmtree(n.dir, ignore_errors=True)
        n.cleanup()


def run(node, R):
    setup(node)
    for fn in (roles_and_metrics, immediate_changes, backoff, concurrency_cap, file_modes,
               not_dumpable):
        try:
            fn(node, R)
        except Exception:  # noqa: BLE001 - one part failing must not hide the others
            import traceback
            R.check(False, "%s raised" % fn.__name__, traceback.format_exc())
            node.stop()


if __name__ == "__main__":
    test_main(run, Node())
