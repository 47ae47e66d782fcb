"""sklib - shared helpers for schakel's integration tests (Python 3 stdlib only).

Every test script drives the real `schakel` binary against a fresh temporary
database.  This module finds the binary, the project fixtures and the shared
reference data, runs commands, sets a node up (Node: `schakel init` in a
temporary directory; partners, accounts, tokens and grants; `schakel serve`
on a free port of 127.0.0.1, stopped by itself), waits on events (wait_for),
parses the import and feed summaries, reads STIX files independently of
schakel (to compute expected counts), and keeps the tally that each script
ends with ("N passed, N failed"; exit 0, 1, or 77 = skipped).

A test with a served node is a few lines of set-up:

    with sklib.Node() as node:
        node.partner("Alpha")
        node.account("ana", "Alpha", "pw-ana")
        tok = node.token("ana")
        node.run("collection", "add", "feed", check=True)
        node.grant("Alpha", "feed", "--read")
        with node.serve() as srv:       # srv.url, srv.host, srv.port
            ...
"""

import atexit
import gzip
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP = 77

# --- locations --------------------------------------------------------------


def binary():
    """Path of the schakel binary: $SCHAKEL_BIN, else ./build/schakel in the repo.

    A missing binary named by $SCHAKEL_BIN is a failure (CTest said it is
    there); a missing fallback means nothing was built, so the script skips.
    """
    b = os.environ.get("SCHAKEL_BIN")
    if b:
        b = os.path.abspath(b)
        if not os.access(b, os.X_OK):
            print("FAIL: SCHAKEL_BIN=%s is not an executable" % b)
            print("0 passed, 1 failed")
            sys.exit(1)
        return b
    b = os.path.join(REPO, "build", "schakel")
    if not os.access(b, os.X_OK):
        print("SKIP: no schakel binary (set SCHAKEL_BIN or build into ./build)")
        print("0 passed, 0 failed")
        sys.exit(SKIP)
    return b


def fixtures():
    return os.environ.get("SK_FIXTURES") or os.path.join(REPO, "tests", "fixtures")


def fixture(*parts):
    return os.path.join(fixtures(), *parts)


# The ashfall fixture set: one file for each input form of `schakel import`,
# and more versions of some of its objects (ashfall-versions.json).
ASHFALL_FORMS = ("bundle", "envelope", "array", "single", "observables", "stix20")


def ashfall(form):
    """The ashfall fixture file of FORM (one of ASHFALL_FORMS, or "versions")."""
    return fixture("ashfall", "ashfall-%s.%s" % (form, "ndjson" if form == "observables" else "json"))


def shared(*parts):
    """A path in the shared reference data: $SK_SHARED, else ../shared beside the repo."""
    root = os.environ.get("SK_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
    return os.path.join(root, *parts)


def shared_stix():
    """The shared STIX data directory, or None when ../shared is absent."""
    d = shared("data", "stix")
    return d if os.path.isdir(d) else None


# --- the tally --------------------------------------------------------------


class Checker:
    """Counts checks; finish() prints the closing line and exits.

    Verbose by default: an "ok" line for every check passed.  quiet=True (or
    Results) prints only the failed ones, as "FAIL: what".
    """

    def __init__(self, name=None, quiet=False):
        self.name = name or os.path.splitext(os.path.basename(sys.argv[0]))[0]
        self.quiet = quiet
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            if not self.quiet:
                print("ok   - %s" % what)
        else:
            self.failed += 1
            self.failures.append(what)
            print(("FAIL: %s" if self.quiet else "FAIL - %s") % what)
            if detail:
                indent = "  " if self.quiet else "         "
                for line in str(detail).rstrip().splitlines()[:40]:
                    print(indent + line)
        sys.stdout.flush()
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, what, "got:  %r\nwant: %r" % (_short(got), _short(want)))

    def skip(self, what):
        print("SKIP - %s" % what)
        sys.stdout.flush()

    def run(self, fn, *args):
        """Run one test function; an exception is a failed check, not a crash."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - report and carry on with the next test
            self.check(False, "%s raised" % fn.__name__, traceback.format_exc())

    def finish(self):
        if self.failures and not self.quiet:
            print("\nfailed checks in %s:" % self.name)
            for f in self.failures:
                print("  - %s" % f)
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


class Results(Checker):
    """A quiet Checker: prints only the failed checks ("FAIL: what")."""

    def __init__(self, name=None):
        super().__init__(name, quiet=True)


def test_main(test, *nodes):
    """A script's main(): test(*NODES, R) with a quiet tally R (Results); then
    every node's cleanup(), the closing line and the exit."""
    R = Results()
    try:
        test(*nodes, R)
    finally:
        for n in nodes:
            n.cleanup()
    R.finish()


def skip_all(reason):
    print("SKIP: %s" % reason)
    print("0 passed, 0 failed")
    sys.exit(SKIP)


def _short(v, n=1500):
    s = repr(v)
    return v if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


# --- running the binary -----------------------------------------------------

_TMPDIRS = []


@atexit.register
def _cleanup():
    if os.environ.get("SK_KEEP_TMP"):
        return
    for d in _TMPDIRS:
        shutil.rmtree(d, ignore_errors=True)


def tempdir(prefix="sk-itest-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _TMPDIRS.append(d)
    return d


class Result:
    """One run of the binary: code (the exit status, or "timeout"), out, err.

    Reads also as a subprocess.CompletedProcess (returncode, stdout, stderr)
    and unpacks as the tuple (code, out, err).
    """

    def __init__(self, args, code, out, err):
        self.args = args
        self.code = code
        self.out = out
        self.err = err

    returncode = property(lambda self: self.code)
    stdout = property(lambda self: self.out)
    stderr = property(lambda self: self.err)

    def __iter__(self):
        return iter((self.code, self.out, self.err))

    def __repr__(self):
        return "exit %s for %s\n--- stdout\n%s\n--- stderr\n%s" % (
            self.code, " ".join(self.args), self.out[-3000:], self.err[-3000:])


def _env(extra=None):
    env = dict(os.environ)
    env.pop("SCHAKEL_DB", None)
    # an installed /etc/schakel/schakel.conf must not change the servers of tests
    env["SCHAKEL_CONFIG"] = "/dev/null"
    env.update(extra or {})
    return env


def run(db, *args, stdin=None, env=None, timeout=300, cwd=None, check=False):
    """`schakel --db DB ARGS` (no --db when db is None), as a Result.

    stdin: bytes or str; env: variables added to the environment; check=True
    raises RuntimeError when the command fails.
    """
    argv = [binary()] + (["--db", db] if db else []) + [str(a) for a in args]
    if isinstance(stdin, str):
        stdin = stdin.encode()
    try:
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=cwd, env=_env(env))
        r = Result(argv, p.returncode, _txt(p.stdout), _txt(p.stderr))
    except subprocess.TimeoutExpired as e:
        r = Result(argv, "timeout", _txt(e.stdout), _txt(e.stderr))
    if check and r.code != 0:
        raise RuntimeError("schakel %s failed: %r" % (" ".join(argv[1:]), r))
    return r


class Node:
    """One schakel database (node.db) in its own fresh temporary directory.

    Node() runs `schakel init --name NAME INIT_ARGS` (init=False: not yet);
    run() runs the binary on the database, raising on failure when asked
    (check=True, for every run by default when the node was made with
    check=True).  partner(), account(), token() and grant() let a partner
    in; serve() and start() run `schakel serve` on a free port of 127.0.0.1.
    A with block on the node (or cleanup()) stops its servers and removes
    its directory; the end of the script does too.
    """

    def __init__(self, init=True, name="test node", init_args=(), check=False):
        self.bin = binary()
        self.dir = tempdir()
        self.db = os.path.join(self.dir, "node.db")
        self.check_default = check
        self.server = None  # the server of serve()/start(), until it stops
        self.url = self.host = self.port = None
        self.tls = False
        if init:
            self.run("init", "--name", name, *init_args, check=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args, stdin=None, env=None, timeout=300, db=True, cwd=None, check=None):
        """`schakel --db NODE.DB ARGS` in the node's directory (or cwd), as a Result."""
        return run(self.db if db else None, *args, stdin=stdin, env=env, timeout=timeout,
                   cwd=cwd or self.dir, check=self.check_default if check is None else check)

    def identity(self):
        """The id of the node's own identity (from `schakel stats`)."""
        line = self.run("stats", check=True).out.splitlines()[0]
        return line[line.index("[") + 1:line.index("]")]

    # --- who may use the node ---

    def partner(self, name, *args):
        """`partner add NAME ARGS` (--identity, --country, ...); the partner's identity id."""
        out = self.run("partner", "add", name, *args, check=True).out.split()
        return out[0] if out else None

    def account(self, name, partner, password=None):
        """`account add NAME --partner PARTNER [--password PASSWORD]`; what it
        printed (without a password: the one schakel made)."""
        args = ["account", "add", name, "--partner", partner]
        if password is not None:
            args += ["--password", password]
        return self.run(*args, check=True).out.strip()

    def token(self, account):
        """A new API token of ACCOUNT."""
        return self.run("token", "create", account, check=True).out.strip()

    def grant(self, partner, collection, *flags):
        """`collection grant PARTNER COLLECTION FLAGS` (--read, --write, --amber, ...)."""
        self.run("collection", "grant", partner, collection, *flags, check=True)

    # --- serving ---

    def serve(self, *extra, **kw):
        """A Server running `schakel serve EXTRA` for this node (keywords: see
        Server).  Once it answers it is the node's server: node.url, host,
        port and tls say where."""
        srv = Server(self, *extra, **kw)
        if srv.url:
            self.server = srv
            self.url, self.host, self.port, self.tls = srv.url, srv.host, srv.port, srv.tls
        return srv

    def start(self, *extra, err="access.log", **kw):
        """serve() that must answer (else RuntimeError with the server's
        stderr); its stderr, the access log, goes to access.log."""
        srv = self.serve(*extra, err=err, **kw)
        if not srv.url:
            rc = srv.stop()
            raise RuntimeError("server did not start (exit %s): %s" % (rc, srv.log()[-3000:]))
        return srv

    def stop(self):
        """Stop the node's server (SIGTERM); its exit code (None: none was running)."""
        return self.server.stop() if self.server else None

    def cleanup(self):
        """Stop the node's servers, print the errors in access.log, remove the directory."""
        for srv in [s for s in _SERVERS if s.node is self]:
            srv.stop()
        try:  # server-side errors help when a test fails
            with open(self.path("access.log")) as f:
                for line in f:
                    if line.startswith("schakel:") and "shutting down" not in line:
                        print("server:", line.rstrip())
        except OSError:
            pass
        if not os.environ.get("SK_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def imp(self, *args, stdin=None):
        return self.run("import", *args, stdin=stdin)

    def stats(self):
        """stats --json as {(collection, type): (objects, versions)}; None on failure."""
        r = self.run("stats", "--json")
        if r.code != 0:
            return None
        out = {}
        for line in r.out.splitlines():
            if line.strip():
                d = json.loads(line)
                out[(d["collection"], d["type"])] = (d["objects"], d["versions"])
        return out

    def export(self, *args):
        """Objects of `export ARGS`, as a list; raises if export fails."""
        out = self.path("export-%d.json" % len(os.listdir(self.dir)))
        r = self.run("export", "--output", out, *args)
        if r.code != 0:
            raise RuntimeError("export failed: %r" % r)
        with open(out, encoding="utf-8") as f:
            b = json.load(f)
        os.unlink(out)
        return b["objects"]

    def snapshot(self):
        """Everything observable about the store content, for before/after checks."""
        objs = self.export()
        r = self.run("collection", "list")
        return {"objects": sorted(canon(o) for o in objs), "stats": self.stats(),
                "collections": r.out}

    def get(self, oid, *flags):
        """Objects printed by `get --compact [FLAGS] ID` (list), and the Result."""
        r = self.run("get", "--compact", *flags, oid)
        objs = [json.loads(line) for line in r.out.splitlines() if line.strip()] \
            if r.code == 0 else []
        return objs, r

    def list_json(self, *args):
        r = self.run("list", "--json", *args)
        objs = [json.loads(line) for line in r.out.splitlines() if line.strip()] \
            if r.code == 0 else None
        return objs, r

    def list_rows(self, *args):
        """Table rows of `list`: dicts with date_added, modified, type, id, tlp, revoked."""
        r = self.run("list", *args)
        rows = []
        for line in r.out.splitlines():
            f = line.split()
            if len(f) >= 5:
                rows.append({"date_added": f[0], "modified": f[1], "type": f[2], "id": f[3],
                             "tlp": f[4], "revoked": len(f) > 5 and f[5] == "REVOKED"})
        return rows, r


def _txt(b):
    if b is None:
        return ""
    return b.decode("utf-8", errors="replace") if isinstance(b, bytes) else b


# --- waiting and serving ------------------------------------------------------

WAIT = 60.0  # the overall limit of a wait on an event: generous, for a loaded machine


def wait_for(fn, timeout=WAIT, step=0.1):
    """Poll fn() until it returns something true, for at most `timeout` seconds.

    Returns that value; at the deadline, fn()'s last answer (false: the event
    did not come).
    """
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def read_jsonl(path):
    """The objects of a JSON-lines file (lines starting with "{"; a line that
    does not parse, e.g. one half written, is passed over); [] while it is missing."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


_SERVERS = []  # started, not yet stopped


class Server:
    """`schakel serve EXTRA` for one node, on a free port of 127.0.0.1.

    Starts at once and waits (polling, up to `wait` seconds) for the line
    "listening on URL" on its stdout; url, host, port and tls then say where
    it answers.  url is None when it did not get there (it exited, or said
    nothing in time).  Its stdout and stderr go to the files `out` and `err`
    in the node's directory (out_path, err_path).  stop() ends it with
    SIGTERM and returns its exit code; a with block, the node's cleanup()
    and the end of the script stop it too.  listen must be on 127.0.0.1
    (port 0: a free one); env adds variables to its environment.
    """

    def __init__(self, node, *extra, listen="127.0.0.1:0", out="serve.out", err="serve.err",
                 env=None, wait=WAIT):
        if not listen.startswith("127.0.0.1:"):
            raise ValueError("a test server listens on 127.0.0.1 only, not %s" % listen)
        self.node = node
        self.out_path, self.err_path = node.path(out), node.path(err)
        self.url = self.host = self.port = None
        self.tls = False
        self.rc = None
        with open(self.out_path, "w") as o, open(self.err_path, "w") as e:
            self.proc = subprocess.Popen(
                [node.bin, "--db", node.db, "serve", "--listen", listen] + [str(a) for a in extra],
                stdin=subprocess.DEVNULL, stdout=o, stderr=e, cwd=node.dir, env=_env(env))
        _SERVERS.append(self)
        line = wait_for(lambda: self._listening() or self.proc.poll() is not None, wait)
        if isinstance(line, str):
            self.url = line.split()[-1]
            u = urllib.parse.urlparse(self.url)
            self.host, self.port, self.tls = u.hostname, u.port, u.scheme == "https"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _listening(self):
        try:
            with open(self.out_path) as f:
                for line in f:
                    if line.startswith("listening on ") and line.endswith("\n"):
                        return line.strip()
        except OSError:
            pass
        return None

    def log(self):
        """What the server wrote to stderr so far."""
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=30):
        """SIGTERM and wait for the exit (SIGKILL after `timeout` s); the exit code."""
        if self.rc is None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=timeout)
            self.rc = self.proc.returncode
        self._forget()
        return self.rc

    def kill(self):
        """SIGKILL (a crash) and wait for the exit; the exit code."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.rc = self.proc.wait(timeout=WAIT)
        self._forget()
        return self.rc

    def _forget(self):
        if self in _SERVERS:
            _SERVERS.remove(self)
        if self.node.server is self:
            self.node.server = None


@atexit.register
def _stop_servers():  # registered after _cleanup, so it runs before the directories go
    for srv in list(_SERVERS):
        srv.stop()


class HttpServer(http.server.ThreadingHTTPServer):
    """A stdlib HTTP server with HANDLER (a stand-in peer, a webhook) on a free
    port of 127.0.0.1, serving from a thread at once; url is its base URL.
    A with block (or shutdown()) stops it; a handler still running is not
    waited for (its thread ends with the script)."""
    daemon_threads = True
    block_on_close = False

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d/" % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


# --- the import summary -----------------------------------------------------

_SUM_RE = re.compile(r"^(.*): (\d+) objects read: (\d+) new, (\d+) already stored and now in "
                     r"the collection, (\d+) already in the collection, (\d+) rejected \(")
_ROW_RE = re.compile(r"^  (\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
FIELDS = ("stored", "added", "duplicate", "rejected")


def parse_summaries(stderr):
    """{name: {"objects", "stored", ..., "types": {type: {stored, added, ...}}}}."""
    out = {}
    cur = None
    for line in stderr.splitlines():
        m = _SUM_RE.match(line)
        if m:
            cur = {"objects": int(m.group(2)), "types": {}}
            for i, k in enumerate(FIELDS):
                cur[k] = int(m.group(3 + i))
            out[m.group(1)] = cur
            continue
        m = _ROW_RE.match(line)
        if m and cur is not None:
            cur["types"][m.group(1)] = {k: int(m.group(2 + i)) for i, k in enumerate(FIELDS)}
    return out


def summary_of(stderr, name=None):
    s = parse_summaries(stderr)
    if name is not None:
        return s.get(name)
    return next(iter(s.values())) if len(s) == 1 else None


def type_counts(summary, field):
    """{type: n} of one column of a summary, leaving out zero entries."""
    if not summary:
        return None
    return {t: c[field] for t, c in summary["types"].items() if c[field]}


_FEED_KIND_RE = re.compile(r"^  ([a-z0-9_]+)\s+(\d+)$", re.M)
_FEED_TOT_RE = re.compile(r"(\d+) indicators: (\d+) new, (\d+) already stored and now in the "
                          r"collection, (\d+) already in the collection, (\d+) rejected")


def feed_summary(err):
    """The summary of `feed import`: ({kind: count} from its per-kind lines,
    {entries, stored, added, duplicate, rejected} from its totals, {} if none)."""
    kinds = {m.group(1): int(m.group(2)) for m in _FEED_KIND_RE.finditer(err)}
    tot = _FEED_TOT_RE.search(err)
    t = dict(zip(["entries", "stored", "added", "duplicate", "rejected"],
                 map(int, tot.groups()))) if tot else {}
    return kinds, t


# --- STIX, independently of schakel ------------------------------------------

SCO_TYPES = {
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
    "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
    "software", "url", "user-account", "windows-registry-key", "x509-certificate",
}

_TS_RE = re.compile(r"^(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(?:\.(\d+))?[Zz]$")
_ID_RE = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)--"
                    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_of(obj):
    """spec_version as stated, or inferred: 2.1 for cyber-observables, else 2.0."""
    sv = obj.get("spec_version")
    if isinstance(sv, str):
        return sv
    return "2.1" if obj.get("type") in SCO_TYPES else "2.0"


def ts_key(s):
    """A comparable key for an RFC 3339 timestamp (fraction padded to 9 digits)."""
    if not isinstance(s, str):
        return None
    m = _TS_RE.match(s)
    if not m:
        return None
    return "%sT%s.%s" % (m.group(1), m.group(2), (m.group(3) or "")[:9].ljust(9, "0"))


def version_of(obj):
    return ts_key(obj.get("modified")) or ts_key(obj.get("created")) or ""


def key_of(obj):
    """The identity of one object version: (id, spec, version)."""
    return (obj.get("id"), spec_of(obj), version_of(obj))


def spec_problem(obj):
    """Why obj breaks a basic STIX 2.x MUST that no importer may ignore, or None.

    Deliberately small and independent of schakel's validator: id and type
    well-formed and consistent, created and modified present on everything
    but cyber-observables (modified optional on marking definitions),
    timestamps well-formed, and modified not earlier than created.
    """
    if not isinstance(obj, dict):
        return "not an object"
    oid, typ = obj.get("id"), obj.get("type")
    if not isinstance(oid, str) or not isinstance(typ, str):
        return "no id or type"
    m = _ID_RE.match(oid)
    if not m or m.group(1) != typ:
        return "malformed id"
    if typ in SCO_TYPES:
        return None
    if "created" not in obj:
        return "no created"
    if "modified" not in obj and typ != "marking-definition":
        return "no modified"
    c, md = ts_key(obj.get("created")), ts_key(obj.get("modified", obj.get("created")))
    if c is None or md is None:
        return "bad timestamp"
    if md < c:
        return "modified before created"
    return ref_problem(obj)


_NOT_RELATABLE = {"bundle", "marking-definition", "relationship", "sighting",
                  "language-content", "extension-definition"}
_TLP1 = {"613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
         "34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
         "f88d31f6-486f-44da-b317-01333bde0b82": "amber",
         "5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red"}


def ref_problem(obj):
    """The STIX 2.1 MUSTs on what relationships and sightings may name, and on
    TLP definitions (7.2.1.4), written from the specification."""
    typ = obj.get("type")

    def kind(ref):
        return ref.split("--")[0] if isinstance(ref, str) else ""
    if typ == "relationship":
        for k in ("source_ref", "target_ref"):
            if kind(obj.get(k)) in _NOT_RELATABLE:
                return f"{k} names a {kind(obj.get(k))}"
    if typ == "sighting":
        of = kind(obj.get("sighting_of_ref"))
        if of in _NOT_RELATABLE or of in SCO_TYPES:
            return f"sighting of a {of}"
        allowed = {"identity", "location"} if obj.get("spec_version") == "2.1" else {"identity"}
        for w in obj.get("where_sighted_refs") or []:
            if kind(w) not in allowed:
                return f"sighted where a {kind(w)} is"
    if typ == "marking-definition" and obj.get("definition_type") == "tlp":
        level = _TLP1.get(obj.get("id", "").split("--")[-1])
        if level is None or (obj.get("definition") or {}).get("tlp") != level:
            return "a TLP definition STIX does not define"
    return None


def read_stix(path):
    """The objects of a STIX file in any input form schakel accepts, in order."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("objects"), list):
        return doc["objects"]
    return [doc]


class StoreModel:
    """What a store holds as far as the write rule goes (docs/sharing-policy.md, "The
    write rule"), for files imported here without --from: the content of each stored
    version and the producer (created_by_ref of the first version) of each id."""

    def __init__(self, keys=()):
        self.content = {k: None for k in keys}  # key -> comparable content (None: unknown)
        self.producer = {}

    @staticmethod
    def comparable(o):
        c = dict(o)
        for k in ("created", "modified"):
            if isinstance(c.get(k), str):
                c[k] = ts_key(c[k])
        return canon(c)

    def put(self, o):
        """'stored', 'duplicate' or 'rejected' for valid object o, and remember it."""
        k, oid = key_of(o), o["id"]
        by = o.get("created_by_ref")
        if k in self.content:
            old = self.content[k]
            return "duplicate" if old is None or old == self.comparable(o) else "rejected"
        if oid in self.producer and self.producer[oid] != by:
            return "rejected"  # a version by another producer than the id's
        self.producer.setdefault(oid, by)
        self.content[k] = self.comparable(o)
        return "stored"


def expected_counts(objs, known=()):
    """What an import of objs into a store that already holds `known` (a set of keys,
    or a StoreModel that this import updates) must report.

    Returns ({type: {stored, duplicate, rejected}}, set of keys stored).
    Invalid objects (spec_problem) count as rejected; the first valid copy of
    a key is stored, later copies with the same content (in the file or
    already known) duplicate, and the write rule refuses a copy with other
    content or a version by another producer than the id's first version.
    """
    model = known if isinstance(known, StoreModel) else StoreModel(known)
    before = set(model.content)
    counts = {}
    for o in objs:
        t = o.get("type") if isinstance(o, dict) and isinstance(o.get("type"), str) else None
        c = counts.setdefault(t, {"stored": 0, "added": 0, "duplicate": 0, "rejected": 0})
        if spec_problem(o):
            c["rejected"] += 1
            continue
        c[model.put(o)] += 1
    return counts, set(model.content) - before


def column(counts, field):
    return {t: c[field] for t, c in counts.items() if c[field]}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)
    return path


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def gzip_file(src, dst):
    with open(src, "rb") as f, gzip.open(dst, "wb") as g:
        shutil.copyfileobj(f, g)
    return dst
