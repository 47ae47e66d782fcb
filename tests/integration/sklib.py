"""sklib - shared helpers for schakel's integration tests (Python 3 stdlib only).

Every test script drives the real `schakel` binary against a fresh temporary
database.  This module finds the binary, the project fixtures and the shared
reference data, runs commands, parses the import summary, reads STIX files
independently of schakel (to compute expected counts), and keeps the tally
that each script ends with ("N passed, N failed"; exit 0, 1, or 77 = skipped).
"""

import atexit
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

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


def shared_stix():
    """The shared STIX data directory, or None when ../shared is absent."""
    root = os.environ.get("SK_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
    d = os.path.join(root, "data", "stix")
    return d if os.path.isdir(d) else None


# --- the tally --------------------------------------------------------------


class Checker:
    """Counts checks; finish() prints the closing line and exits."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok   - %s" % what)
        else:
            self.failed += 1
            self.failures.append(what)
            print("FAIL - %s" % what)
            if detail:
                for line in str(detail).rstrip().splitlines()[:40]:
                    print("         %s" % line)
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
        if self.failures:
            print("\nfailed checks in %s:" % self.name)
            for f in self.failures:
                print("  - %s" % f)
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


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
    def __init__(self, args, code, out, err):
        self.args = args
        self.code = code
        self.out = out
        self.err = err

    def __repr__(self):
        return "exit %s for %s\n--- stdout\n%s\n--- stderr\n%s" % (
            self.code, " ".join(self.args), self.out[-3000:], self.err[-3000:])


class Node:
    """One schakel database in its own fresh temporary directory."""

    def __init__(self, init=True, name="test node"):
        self.bin = binary()
        self.dir = tempdir()
        self.db = os.path.join(self.dir, "node.db")
        if init:
            r = self.run("init", "--name", name)
            if r.code != 0:
                raise RuntimeError("init failed: %r" % r)

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args, stdin=None, timeout=300, db=True):
        argv = [self.bin] + (["--db", self.db] if db else []) + [str(a) for a in args]
        env = dict(os.environ)
        env.pop("SCHAKEL_DB", None)
        try:
            p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, cwd=self.dir, env=env)
        except subprocess.TimeoutExpired as e:
            return Result(argv, "timeout", _txt(e.stdout), _txt(e.stderr))
        return Result(argv, p.returncode, _txt(p.stdout), _txt(p.stderr))

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
        """Table rows of `list`: dicts with date_added, type, id, tlp."""
        r = self.run("list", *args)
        rows = []
        for line in r.out.splitlines():
            f = line.split()
            if len(f) >= 4:
                rows.append({"date_added": f[0], "type": f[1], "id": f[2], "tlp": f[3]})
        return rows, r


def _txt(b):
    if b is None:
        return ""
    return b.decode("utf-8", errors="replace") if isinstance(b, bytes) else b


# --- the import summary -----------------------------------------------------

_SUM_RE = re.compile(r"^(.*): (\d+) objects read: (\d+) stored, (\d+) added to collection, "
                     r"(\d+) duplicate, (\d+) rejected \(")
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


def expected_counts(objs, known=()):
    """What an import of objs into a store that already holds `known` keys must report.

    Returns ({type: {stored, duplicate, rejected}}, set of keys stored).
    Invalid objects (spec_problem) count as rejected; the first valid copy of
    a key is stored, later copies (in the file or already known) duplicate.
    """
    seen = set(known)
    counts = {}
    for o in objs:
        t = o.get("type") if isinstance(o, dict) and isinstance(o.get("type"), str) else None
        c = counts.setdefault(t, {"stored": 0, "added": 0, "duplicate": 0, "rejected": 0})
        if spec_problem(o):
            c["rejected"] += 1
            continue
        k = key_of(o)
        if k in seen:
            c["duplicate"] += 1
        else:
            seen.add(k)
            c["stored"] += 1
    return counts, seen - set(known)


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
