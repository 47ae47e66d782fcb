#!/usr/bin/env python3
"""CLI basics: help texts, exit codes for usage errors, init, uninitialised stores.

Exit codes under test: 0 ok, 1 input error (including "no node here"),
2 usage error.  Every check uses its own fresh temporary database.
"""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

COMMANDS = ["init", "import", "get", "list", "show", "stats", "export", "collection", "help"]
ck = sklib.Checker("test_cli_basics")


def test_help():
    n = sklib.Node(init=False)
    r = n.run("--help")
    ck.check(r.code == 0 and "usage: schakel" in r.out, "--help exits 0 with usage on stdout", r)
    for c in COMMANDS:
        ck.check(c in r.out, "--help lists command '%s'" % c, r)
    r = n.run("help")
    ck.check(r.code == 0 and "usage: schakel" in r.out, "'help' alone exits 0 with usage", r)
    r = n.run("--version")
    ck.check(r.code == 0 and r.out.startswith("schakel "), "--version exits 0", r)
    for c in COMMANDS:
        r = n.run("help", c)
        ck.check(r.code == 0 and ("usage: schakel %s" % c) in r.out,
                 "help %s exits 0 and shows its usage" % c, r)
    for c in COMMANDS[:-1]:
        r = n.run(c, "--help")
        ck.check(r.code == 0 and ("usage: schakel %s" % c) in r.out,
                 "%s --help exits 0 and shows its usage" % c, r)
    r = n.run("help", "frobnicate")
    ck.check(r.code == 2 and "frobnicate" in r.err, "help of an unknown command exits 2", r)
    ck.check(not os.path.exists(n.db), "help and --version create no database")


def test_usage_errors():
    n = sklib.Node()
    cases = [
        (["frobnicate"], "unknown command"),
        ([], "no command at all"),
        (["import"], "import without files"),
        (["get"], "get without id"),
        (["get", "a", "b"], "get with two ids"),
        (["show"], "show without id"),
        (["collection"], "collection without subcommand"),
        (["collection", "add"], "collection add without name"),
        (["collection", "frob"], "collection with unknown subcommand"),
        (["list", "extra"], "list with a stray argument"),
        (["list", "--bogus"], "list with an unknown option"),
        (["list", "--limit", "0"], "list --limit 0"),
        (["list", "--limit", "ten"], "list --limit ten"),
        (["list", "--added-after", "yesterday"], "list --added-after with a non-timestamp"),
        (["export", "--added-after", "2024-13-45T00:00:00Z"], "export --added-after bad date"),
        (["import", "--batch", "0", "x.json"], "import --batch 0"),
        (["import", "--frob", "x.json"], "import with an unknown option"),
        (["stats", "--frob"], "stats with an unknown option"),
        (["init", "stray"], "init with a stray argument"),
        (["get"], "get without id (again, after the others)"),
    ]
    for args, what in cases:
        r = n.run(*args)
        ck.check(r.code == 2, "%s -> exit 2" % what, r)
        ck.check(r.err.strip() != "", "%s -> a message on stderr" % what, r)
    r = n.run("list", "--db", db=False)
    ck.check(r.code == 2 and "--db" in r.err, "--db without a path -> exit 2", r)


def test_init_twice():
    n = sklib.Node(init=False)
    r = n.run("init", "--name", "Example Water CERT", "--sector", "water", "--country", "NL")
    ck.check(r.code == 0 and "Example Water CERT" in r.out, "init exits 0 and names the node", r)
    before = n.snapshot()
    r = n.run("init", "--name", "Second")
    ck.check(r.code == 1, "init twice -> exit 1", r)
    ck.check("already" in r.err, "init twice -> says the node already exists", r)
    ck.eq(n.snapshot(), before, "init twice changes nothing")
    st = n.stats()
    ck.eq({k: v for k, v in st.items() if k[0] is None},
          {(None, "identity"): (1, 1), (None, "location"): (1, 1),
           (None, "relationship"): (1, 1)},
          "init --country makes an identity, a location and a located-at relationship")
    r = n.run("collection", "list")
    ck.check(r.code == 0 and "default" in r.out, "init makes the collection 'default'", r)
    n2 = sklib.Node(init=False)
    r = n2.run("init", "--name", "X", "--country", "Netherlands")
    ck.check(r.code in (1, 2) and "country" in r.err, "init --country with a bad code fails", r)


def test_uninitialised():
    """Every command that needs a node says how to make one, and creates no file."""
    cmds = [["stats"], ["list"], ["get", "campaign--0f0fc553-4fc4-49b5-a8d7-146d155a577a"],
            ["show", "campaign--0f0fc553-4fc4-49b5-a8d7-146d155a577a"], ["export"],
            ["collection", "list"], ["collection", "add", "partners"],
            ["import", sklib.fixture("ashfall", "ashfall-single.json")]]
    for cmd in cmds:
        n = sklib.Node(init=False)
        r = n.run(*cmd)
        what = " ".join(cmd[:2]) if cmd[0] == "collection" else cmd[0]
        ck.check(r.code == 1, "%s on a missing database -> exit 1" % what, r)
        ck.check("run 'schakel init'" in r.err, "%s on a missing database -> \"run 'schakel init'\""
                 % what, r)
        ck.check(not os.path.exists(n.db), "%s on a missing database creates no file" % what)
        # an empty file, as left by touch(1) or an aborted copy
        open(n.db, "w").close()
        r = n.run(*cmd)
        ck.check(r.code == 1 and "run 'schakel init'" in r.err,
                 "%s on an empty file -> exit 1, \"run 'schakel init'\"" % what, r)
    n = sklib.Node(init=False)
    r = n.run("stats")
    ck.check(r.err.count(n.db) == 1, "the 'no node' message names the database once", r)


def test_collections_cli():
    n = sklib.Node()
    r = n.run("collection", "add", "partners", "--title", "Partner feed",
              "--id", "6F0C6B6E-8D1A-4C34-9B61-2D4F7A9E1C55")
    ck.check(r.code == 0 and "6f0c6b6e-8d1a-4c34-9b61-2d4f7a9e1c55" in r.out,
             "collection add with --id exits 0 and prints the (lower-cased) id", r)
    r = n.run("collection", "add", "partners")
    ck.check(r.code == 1 and "partners" in r.err, "adding an existing name -> exit 1", r)
    r = n.run("collection", "add", "other", "--id", "6f0c6b6e-8d1a-4c34-9b61-2d4f7a9e1c55")
    ck.check(r.code == 1, "adding an existing id -> exit 1", r)
    r = n.run("collection", "add", "bad", "--id", "not-a-uuid")
    ck.check(r.code in (1, 2) and "not-a-uuid" in r.err, "adding with a non-UUID id fails", r)
    r = n.run("collection", "list")
    ck.check(r.code == 0 and "partners" in r.out and "Partner feed" in r.out
             and "default" in r.out and "bad" not in r.out.split(),
             "collection list shows default and partners only", r)


for t in (test_help, test_usage_errors, test_init_twice, test_uninitialised, test_collections_cli):
    ck.run(t)
ck.finish()
