#!/usr/bin/env python3
"""Durability: kill -9 during a large import, several times, then check the store.

A ~60,000-object NDJSON file is made in the temporary directory.  Each round
starts `schakel import --batch 1000` on the same database and kills it with
SIGKILL after a random delay of up to half the time a full import takes (a
round whose import finished first is noted, and the next round starts on a
fresh node).  After every kill: the database opens, `stats` works, PRAGMA integrity_check is ok,
every stored version is complete (its JSON parses, its id and type match the
columns, it equals the source object), collection membership matches the
stored objects, and what is stored is a whole number of committed batches
(a prefix of the file).  Finally the import is re-run to completion and
stored + duplicate must equal the total.  One more round kills a --strict
import (one transaction): nothing or everything of the file is stored.

The random seed is printed; set SK_SEED to replay a run.
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True  # keep the source tree clean under CTest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

ck = sklib.Checker("test_durability")
TOTAL = 60000
BATCH = 1000
# SK_DURABILITY_ROUNDS lets the (10x slower) sanitizer pass in CI run fewer rounds
ROUNDS = int(os.environ.get("SK_DURABILITY_ROUNDS", "5") or 5)


def make_objects(rng):
    """TOTAL distinct object versions: indicators, relationships, notes, some with
    several versions (versions of one object are not adjacent)."""
    def uid():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    mal = "malware--" + uid()
    objs = []
    ind_ids = []
    while len(objs) < TOTAL:
        i = len(objs)
        kind = i % 10
        if kind < 6:
            oid = "indicator--" + uid()
            ind_ids.append(oid)
            ip = ("198.51.100.%d" if i % 2 else "203.0.113.%d") % (i % 256)
            objs.append({"type": "indicator", "spec_version": "2.1", "id": oid,
                         "created": "2025-03-01T00:00:00.000Z",
                         "modified": "2025-03-01T00:00:00.000Z",
                         "name": "Ashfall relay %d" % i,
                         "pattern": "[ipv4-addr:value = '%s'] OR "
                                    "[domain-name:value = 'r%d.relay.ashfall.example']" % (ip, i),
                         "pattern_type": "stix", "valid_from": "2025-03-01T00:00:00Z",
                         "indicator_types": ["malicious-activity"],
                         "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]})
        elif kind < 8 and ind_ids:
            objs.append({"type": "relationship", "spec_version": "2.1", "id": "relationship--" + uid(),
                         "created": "2025-03-01T00:00:00.000Z", "modified": "2025-03-01T00:00:00.000Z",
                         "relationship_type": "indicates", "source_ref": rng.choice(ind_ids),
                         "target_ref": mal})
        elif kind == 8 and len(ind_ids) > 100:
            # a later version of an earlier indicator
            src = rng.choice(ind_ids[:-50])
            objs.append({"type": "indicator", "spec_version": "2.1", "id": src,
                         "created": "2025-03-01T00:00:00.000Z",
                         "modified": "2025-04-%02dT%02d:%02d:%02d.%06dZ" % (
                             1 + i % 28, i % 24, i % 60, (i // 60) % 60, i),
                         "name": "Ashfall relay, revised %d" % i,
                         "pattern": "[ipv4-addr:value = '203.0.113.%d']" % (i % 256),
                         "pattern_type": "stix", "valid_from": "2025-03-01T00:00:00Z"})
        else:
            objs.append({"type": "note", "spec_version": "2.1", "id": "note--" + uid(),
                         "created": "2025-03-02T00:00:00.000Z", "modified": "2025-03-02T00:00:00.000Z",
                         "content": "Observed at site %d; see cert@water-cert.example. %s"
                                    % (i, "x" * (i % 300)),
                         "object_refs": [mal]})
    return objs


def db_facts(db):
    """Open with Python's sqlite3 (recovering the WAL) and collect the facts."""
    con = sqlite3.connect(db, timeout=30)
    try:
        integrity = [r[0] for r in con.execute("PRAGMA integrity_check")]
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        rows = con.execute("SELECT ver, id, type, spec, version, json FROM objects").fetchall()
        colls = dict(con.execute(
            "SELECT c.name, COUNT(co.ver) FROM collections c LEFT JOIN collection_objects co"
            " ON co.coll=c.cid GROUP BY c.cid").fetchall())
        default_vers = set(r[0] for r in con.execute(
            "SELECT co.ver FROM collection_objects co JOIN collections c ON c.cid=co.coll"
            " WHERE c.name='default'"))
        # every membership row points at a stored version
        co_mismatch = con.execute(
            "SELECT COUNT(*) FROM collection_objects co LEFT JOIN objects o ON o.ver=co.ver"
            " WHERE o.ver IS NULL"
        ).fetchone()[0]
    finally:
        con.close()
    return {"integrity": integrity, "fk": fk, "rows": rows, "colls": colls,
            "default_vers": default_vers, "co_mismatch": co_mismatch}


def check_store(n, label, source, order, batch_prefix=True):
    """All the after-crash checks; returns the number of file objects stored."""
    r = n.run("stats", "--json")
    ck.check(r.code == 0, "%s: the database opens and stats works" % label, r)
    r = n.run("list", "--limit", "1")
    ck.check(r.code == 0, "%s: list works" % label, r)
    f = db_facts(n.db)
    ck.eq(f["integrity"], ["ok"], "%s: PRAGMA integrity_check is ok" % label)
    ck.eq(f["fk"], [], "%s: PRAGMA foreign_key_check finds nothing" % label)
    bad = []
    stored_keys = set()
    file_vers = set()
    for ver, oid, typ, spec, version, text in f["rows"]:
        k = (oid, spec, version)
        if text == source.get(k):
            # byte-equal to the (minified) source, which parses and has this id and type
            if not (oid.startswith(typ + "--")):
                bad.append((ver, oid, "type column differs from the id"))
            stored_keys.add(k)
            file_vers.add(ver)
            continue
        try:
            o = json.loads(text)
        except ValueError:
            bad.append((ver, oid, "json does not parse"))
            continue
        if o.get("id") != oid or o.get("type") != typ:
            bad.append((ver, oid, "id/type differ from the columns"))
            continue
        if sklib.key_of(o) != k:
            bad.append((ver, oid, "id/spec/version columns differ from the JSON"))
        elif k in source:
            bad.append((ver, oid, "differs from the source object"))
    ck.eq(bad[:5], [], "%s: every stored version is complete and intact" % label)
    ck.check(len(f["rows"]) >= len(stored_keys) and all(
        r[1].startswith("identity--") for r in f["rows"] if r[0] not in file_vers),
        "%s: no stored version other than the node's identity and the file's" % label)
    ck.eq(f["co_mismatch"], 0, "%s: collection rows agree with their object rows" % label)
    ck.check(f["default_vers"] == file_vers,
             "%s: collection 'default' holds exactly the stored versions of the file "
             "(%d rows, %d versions)" % (label, len(f["default_vers"]), len(file_vers)))
    st = n.stats() or {}
    ck.eq(sum(v[1] for k, v in st.items() if k[0] == "default"), f["colls"].get("default"),
          "%s: stats agrees with the collection table" % label)
    if batch_prefix:
        k = len(stored_keys)
        prefix = set(order[:k])
        ck.check((k % BATCH == 0 or k == len(order)) and stored_keys == prefix,
                 "%s: what is stored is whole batches, in file order (%d versions)" % (label, k))
    return len(stored_keys)


def run_and_kill(n, args, delay):
    p = subprocess.Popen([n.bin, "--db", n.db, "import"] + args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, cwd=n.dir)
    time.sleep(delay)
    finished = p.poll() is not None
    if not finished:
        os.kill(p.pid, signal.SIGKILL)
    _, err = p.communicate()
    return finished, p.returncode, err.decode("utf-8", "replace")


def main():
    seed = int(os.environ.get("SK_SEED") or random.SystemRandom().randrange(1 << 30))
    print("seed %d (set SK_SEED=%d to replay)" % (seed, seed))
    rng = random.Random(seed)
    objs = make_objects(rng)
    order = [sklib.key_of(o) for o in objs]
    # stored text is the input minified: json.dumps with compact separators
    source = {sklib.key_of(o): json.dumps(o, separators=(",", ":")) for o in objs}
    ck.eq(len(source), TOTAL, "generated %d distinct object versions" % TOTAL)
    tmp = sklib.tempdir()
    data = os.path.join(tmp, "big.ndjson")
    with open(data, "w", encoding="utf-8") as f:
        for o in objs:
            f.write(json.dumps(o) + "\n")

    # calibrate: how long does a full import take here?
    cal = sklib.Node()
    t0 = time.monotonic()
    r = cal.imp("--batch", str(BATCH), data)
    full = time.monotonic() - t0
    s = sklib.summary_of(r.err, data)
    ck.check(r.code == 0 and s and s["stored"] == TOTAL,
             "uninterrupted import stores all %d versions" % TOTAL, r)
    print("a full import takes %.2f s" % full)

    n = sklib.Node()
    killed = 0
    for rnd in range(ROUNDS):
        # each run first skims the already-stored prefix as duplicates, so keep
        # the delay short enough that most kills land in the middle
        delay = rng.uniform(0.05, 0.5) * full
        label = "round %d (kill after %.2f s)" % (rnd + 1, delay)
        if rnd == 2:
            # a reader works while the import writes
            p = subprocess.Popen([n.bin, "--db", n.db, "import", "--batch", str(BATCH), "--quiet",
                                  data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay / 2)
            rr = n.run("stats", "--json")
            ck.check(rr.code == 0, "%s: stats works during an import" % label, rr)
            rest = delay / 2
            time.sleep(rest)
            done = p.poll() is not None
            if not done:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
        else:
            done, code, err = run_and_kill(n, ["--batch", str(BATCH), "--quiet", data], delay)
        check_store(n, label, source, order)
        if done:
            # nothing left to interrupt on this node: go on with a fresh one
            print("note - %s: the import finished before the kill; next round on a new node"
                  % label)
            n = sklib.Node()
        else:
            killed += 1
    ck.check(killed > 0, "at least one import was killed mid-way (%d of %d)" % (killed, ROUNDS))

    r = n.imp("--batch", str(BATCH), data)
    s = sklib.summary_of(r.err, data)
    ck.check(r.code == 0, "re-running the import completes with exit 0", r)
    ck.check(s and s["stored"] + s["duplicate"] == TOTAL and s["rejected"] == 0 and s["added"] == 0,
             "re-run: stored + duplicate = %d" % TOTAL, s)
    got = check_store(n, "after the completing run", source, order)
    ck.eq(got, TOTAL, "after the completing run: all versions stored")
    ck.eq(n.stats(), cal.stats(),
          "the crashed-and-resumed node has the same counts as the uninterrupted one")

    # --strict is one transaction: a kill leaves nothing or everything
    n2 = sklib.Node()
    delay = rng.uniform(0.2, 0.6) * full
    done, code, err = run_and_kill(n2, ["--strict", "--quiet", data], delay)
    got = check_store(n2, "--strict killed after %.2f s" % delay, source, order, batch_prefix=False)
    ck.check(got in (0, TOTAL), "--strict killed: nothing or everything stored (%d)" % got)



ck.run(main)
ck.finish()
