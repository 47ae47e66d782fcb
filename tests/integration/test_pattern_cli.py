#!/usr/bin/env python3
"""`schakel pattern check` and the importer's pattern validation, end to end.

Drives the real binary (env SCHAKEL_BIN): exit codes and messages of
`pattern check`, its --json tree, reading the pattern from stdin, and
`import` rejecting an indicator whose STIX pattern does not parse with the
parser's message.  With ../shared present (env SK_SHARED) it also checks that
every indicator of the OASIS examples passes.
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

R = sklib.Results()


def check(name, cond, detail=""):
    R.check(cond, name, detail)


def run(*args, stdin=None, db=None):
    """code, out, err of `schakel [--db DB] ARGS`."""
    return sklib.run(db, *args, stdin=stdin, timeout=120)


def test_check():
    rc, out, err = run("pattern", "check", "[ipv4-addr:value = '198.51.100.1']")
    check("valid exits 0", rc == 0, f"rc={rc} err={err}")
    check("valid says so", "valid pattern: 1 observation expression, 1 comparison" in out, out)

    rc, out, err = run("pattern", "check", "[file:size = ]")
    check("invalid exits 1", rc == 1, f"rc={rc}")
    check("invalid message",
          "invalid pattern: pattern offset 13: expected a literal value, found ']'" in err, err)
    check("caret under the position", "  [file:size = ]\n               ^" in err, err)
    check("nothing on stdout when invalid", out == "", out)

    rc, out, err = run("pattern", "check", "[ipv4-addr:value = '198.51.100.1' FOO]")
    check("brief's example message",
          "pattern offset 34: expected ']' or AND/OR, found 'FOO'" in err, err)

    rc, out, err = run("pattern", "check",
                       "[a:b = 1 AND c:d = 2]")
    check("AND over two object types is rejected",
          rc == 1 and "must use the same object type, found 'a' and 'c'" in err, err)


def test_json():
    pattern = ("[file:hashes.'SHA-256' = 'ab' AND file:size > 10] REPEATS 5 TIMES "
               "WITHIN 1800 SECONDS")
    rc, out, err = run("pattern", "check", "--json", pattern)
    check("--json exits 0", rc == 0, err)
    try:
        tree = json.loads(out)
    except ValueError as e:
        check("--json prints JSON", False, f"{e}: {out[:200]}")
        return
    check("root is the outer qualifier",
          tree.get("kind") == "qualified" and tree["qualifier"] == {"type": "WITHIN",
                                                                     "seconds": 1800.0},
          json.dumps(tree)[:300])
    inner = tree.get("operand", {})
    check("then REPEATS", inner.get("qualifier") == {"type": "REPEATS", "times": 5})
    obs = inner.get("operand", {})
    check("then the observation", obs.get("kind") == "observation"
          and obs.get("object_type") == "file")
    cmp = obs.get("comparison", {})
    ops = cmp.get("operands", [])
    check("AND of two comparisons", cmp.get("kind") == "and" and len(ops) == 2)
    if len(ops) == 2:
        check("first comparison", ops[0].get("path") == "file:hashes.'SHA-256'"
              and ops[0].get("op") == "="
              and ops[0].get("value") == {"type": "string", "value": "ab"}, json.dumps(ops[0]))
        check("second comparison", ops[1].get("op") == ">"
              and ops[1].get("value") == {"type": "int", "value": 10}, json.dumps(ops[1]))

    rc, out, err = run("pattern", "check", "--json", "[a:b = ")
    check("--json on an invalid pattern exits 1", rc == 1 and out == "", f"{rc} {out}")


def test_stdin_and_usage():
    rc, out, err = run("pattern", "check", "-", stdin=b"[url:value = 'http://example.com/x']\n")
    check("stdin valid", rc == 0 and "valid pattern" in out, f"{rc} {err}")
    rc, out, err = run("pattern", "check", "-", stdin=b"[url:value = 'x'] WITHIN 0 SECONDS\n")
    check("stdin invalid", rc == 1 and "pattern offset 25:" in err, err)
    rc, out, err = run("pattern", "check", "-", stdin=b"[a:b = 1]" + b" " * (64 * 1024))
    check("too long", rc == 1 and "more than the limit" in err, err)

    for args, what in ((["pattern"], "no subcommand"),
                       (["pattern", "frob", "[a:b = 1]"], "unknown subcommand"),
                       (["pattern", "check"], "no pattern"),
                       (["pattern", "check", "[a:b", "= 1]"], "two arguments"),
                       (["pattern", "check", "--frob", "[a:b = 1]"], "unknown option")):
        rc, out, err = run(*args)
        check(f"usage error: {what}", rc == 2, f"rc={rc} err={err}")
    rc, out, err = run("help", "pattern")
    check("help pattern", rc == 0 and "schakel pattern check" in out, out)


INDICATOR_BAD = "indicator--2f4c1a8e-7d3b-4e6a-9c5f-0b1d2e3f4a5b"
INDICATOR_GOOD = "indicator--3a5d2b9f-8e4c-4f7b-8d6a-1c2e3f4a5b6c"
INDICATOR_SNORT = "indicator--4b6e3c0a-9f5d-4a8c-9e7b-2d3f4a5b6c7d"
INDICATOR_20 = "indicator--5c7f4d1b-0a6e-4b9d-8f8c-3e4a5b6c7d8e"


def indicator(ident, pattern, pattern_type="stix", v21=True):
    o = {"type": "indicator", "id": ident, "created": "2024-01-01T00:00:00.000Z",
         "modified": "2024-01-01T00:00:00.000Z", "pattern": pattern,
         "valid_from": "2024-01-01T00:00:00Z"}
    if v21:
        o["spec_version"] = "2.1"
        o["pattern_type"] = pattern_type
    else:
        o["labels"] = ["malicious-activity"]
    return o


def test_import(tmp):
    db = os.path.join(tmp, "node.db")
    rc, out, err = run("init", "--name", "test node", db=db)
    check("init", rc == 0, err)
    bundle = {"type": "bundle", "id": "bundle--6e8a5e2c-1b7f-4c0d-9a9e-4f5a6b7c8d9e", "objects": [
        indicator(INDICATOR_BAD, "[ipv4-addr:value = '198.51.100.7' FOO]"),
        indicator(INDICATOR_GOOD, "[ipv4-addr:value = '198.51.100.8']"),
        indicator(INDICATOR_SNORT, "alert tcp any any -> any any (msg:\"x\";)", "snort"),
        indicator(INDICATOR_20, "[domain-name:value = 'bad.example' AND url:value = 'x']",
                  v21=False),
    ]}
    path = os.path.join(tmp, "bundle.json")
    with open(path, "w") as f:
        json.dump(bundle, f, indent=1)
    rc, out, err = run("import", "--quiet", path, db=db)
    check("import with a bad pattern exits 3 (the good ones stored)", rc == 3,
          f"rc={rc} err={err}")
    check("bad pattern rejected with the parser's message",
          f"rejected: {INDICATOR_BAD}: invalid pattern: pattern offset 34: expected ']' or "
          "AND/OR, found 'FOO'" in err, err)
    check("2.0 indicators (no pattern_type) are parsed too",
          f"rejected: {INDICATOR_20}: invalid pattern: pattern offset 39: comparisons joined "
          "by AND must use the same object type" in err, err)
    check("only the two bad ones are rejected", err.count("rejected:") == 2, err)
    for ident, present in ((INDICATOR_GOOD, True), (INDICATOR_SNORT, True),
                           (INDICATOR_BAD, False), (INDICATOR_20, False)):
        rc, out, err2 = run("get", "--compact", ident, db=db)
        check(f"get {ident} {'found' if present else 'absent'}", (rc == 0) == present,
              f"rc={rc} {err2}")

    # --strict: one bad pattern rejects the whole file
    db2 = os.path.join(tmp, "strict.db")
    run("init", db=db2)
    rc, out, err = run("import", "--quiet", "--strict", path, db=db2)
    rc2, out2, _ = run("get", "--compact", INDICATOR_GOOD, db=db2)
    check("--strict stores nothing", rc == 1 and rc2 != 0, f"{rc} {rc2} {err}")


def test_shared_examples(tmp):
    files = sorted(glob.glob(sklib.shared("data", "stix", "oasis-examples", "*.json")))
    if not files:
        print("note: ../shared/data/stix/oasis-examples absent; skipping the real-data check")
        return
    db = os.path.join(tmp, "shared.db")
    run("init", db=db)
    rc, out, err = run("import", "--quiet", *files, db=db)
    check("every OASIS example indicator's pattern parses", "invalid pattern" not in err,
          "\n".join(l for l in err.splitlines() if "invalid pattern" in l)[:2000])


def test_spec_versions(tmp):
    """The grammar follows the spec version: START/STOP literals and repeated
    qualifiers, in `pattern check --spec-version` and in imports."""
    t21 = "[ipv4-addr:value = '192.0.2.1'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'"
    t20 = "[ipv4-addr:value = '192.0.2.1'] START '2024-01-01T00:00:00Z' STOP '2024-02-01T00:00:00Z'"
    rep = "[ipv4-addr:value = '192.0.2.1'] WITHIN 5 SECONDS WITHIN 10 SECONDS"
    for spec, pat, ok in (("2.1", t21, True), ("2.1", t20, False), ("2.0", t20, True),
                          ("2.0", t21, False), ("2.1", rep, False), ("2.0", rep, True)):
        rc, _, err = run("pattern", "check", "--spec-version", spec, pat)
        check(f"--spec-version {spec}: {'valid' if ok else 'invalid'}: {pat[32:70]}",
              (rc == 0) == ok, f"rc={rc} {err}")
    rc, _, err = run("pattern", "check", t20)
    check("the default is STIX 2.1", rc == 1 and "STIX 2.1 writes" in err, err)
    rc, _, err = run("pattern", "check", "--spec-version", "3.0", t21)
    check("an unknown spec version is a usage error", rc == 2, err)
    # an import checks each indicator under its own version
    db = os.path.join(tmp, "spec.db")
    run("init", db=db)
    i21 = {"type": "indicator", "spec_version": "2.1", "id": INDICATOR_BAD.replace(
        INDICATOR_BAD.split("--")[1], "7d2a5c3e-1f2b-4c3d-8e4f-5a6b7c8d9e01"),
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "pattern": t20, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    i20 = {"type": "indicator", "id": "indicator--7d2a5c3e-1f2b-4c3d-8e4f-5a6b7c8d9e02",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "labels": ["malicious-activity"], "pattern": t20,
           "valid_from": "2024-01-01T00:00:00Z"}
    path = os.path.join(tmp, "specs.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--7d2a5c3e-1f2b-4c3d-8e4f-5a6b7c8d9e03",
                   "objects": [i21, i20]}, f)
    rc, _, err = run("import", "--quiet", path, db=db)
    check("a 2.1 indicator with a 2.0 START literal is rejected, the 2.0 one stored",
          rc == 3 and i21["id"] in err and "STIX 2.1 writes" in err and i20["id"] not in err,
          f"rc={rc} {err}")


def main():
    sklib.binary()  # skips (77) when there is none
    test_check()
    test_json()
    test_stdin_and_usage()
    tmp = sklib.tempdir()
    test_import(tmp)
    test_spec_versions(tmp)
    test_shared_examples(tmp)
    R.finish()


if __name__ == "__main__":
    main()
