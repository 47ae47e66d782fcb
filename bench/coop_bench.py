#!/usr/bin/env python3
"""coop_bench.py - the cooperation report over a simulated year (bench/coop.sh,
bench/README-coop.md).

Builds a node with PARTNERS partners (each with its own identity, a country
and a sector) and imports, per partner with `schakel import --from`, NDJSON
of its object versions: indicators (a tenth with a second version; half of
them produced by another partner and relayed), reports referring to them,
anonymous identities with sectors, and sightings (named or anonymous) of
indicators.  Sightings made here are imported without --from.  Then the
exits: bench/coop_audit.c appends TAXII-page-sized audit entries (1000
versions each) per partner.  Finally the year is spread: objects.added,
provenance and audit timestamps are rewritten with SQL so that arrivals fall
over 2025 (the store stamps everything "now"; this bench-only rewrite breaks
the audit hash chain, which the report does not read).

Then `schakel report cooperation` is timed (best of ROUNDS) over the year,
over one quarter, scoped to one partner, and as HTML.  There is no peer tool
to compare with: no other TI platform computes these figures."""
import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

YEAR0 = 1735689600  # 2025-01-01T00:00:00Z
YEAR = 365 * 86400
TLP = ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",  # green
       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",  # clear
       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]  # amber
SECTORS = ["energy", "water", "healthcare", "financial-services", "government",
           "telecommunications", "transportation"]
COUNTRIES = ["NL", "BE", "DE", "FR", "LU"]


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def run(binary, db, *args, stdin=None):
    r = subprocess.run([binary, "--db", db, *args], input=stdin, capture_output=True, text=True)
    if r.returncode not in (0, 3):
        sys.exit(f"schakel {' '.join(args)}: {r.stderr}")
    return r.stdout


def generate(d, binary, db, parts, versions, sightings):
    run(binary, db, "init", "--name", "Bench national centre", "--sector", "government",
        "--country", "NL")
    idents = []
    for p in range(parts):
        out = run(binary, db, "partner", "add", f"p{p:02d}", "--country", COUNTRIES[p % 5],
                  "--sector", SECTORS[p % 7])
        idents.append(out.split()[0])
    rnd = random.Random(14)
    per = (versions - sightings // 2) // parts
    recv_sight = sightings // 2 // parts
    anon = [f"identity--{uuid.uuid4()}" for _ in range(3 * parts // 5)]
    all_ind = []
    files = []
    for p in range(parts):
        path = os.path.join(d, f"p{p:02d}.ndjson")
        files.append(path)
        own = []
        n = 0
        with open(path, "w") as f:
            def put(o):
                f.write(json.dumps(o, separators=(",", ":")) + "\n")

            mine = anon[p * len(anon) // parts:(p + 1) * len(anon) // parts]
            for a in mine:
                put({"type": "identity", "spec_version": "2.1", "id": a,
                     "created": ts(YEAR0), "modified": ts(YEAR0), "name": "anonymous",
                     "identity_class": "organization", "sectors": [rnd.choice(SECTORS)]})
                n += 1
            body = per - recv_sight - len(mine)
            nrep = body // 200
            nind = (body - nrep) * 10 // 11
            for i in range(nind):
                t = YEAR0 + rnd.random() * YEAR
                by = idents[p] if i % 2 == 0 else idents[rnd.randrange(parts)]
                oid = f"indicator--{uuid.uuid4()}"
                o = {"type": "indicator", "spec_version": "2.1", "id": oid,
                     "created": ts(t), "modified": ts(t), "created_by_ref": by,
                     "pattern": f"[domain-name:value = 'h{p}-{i}.example']",
                     "pattern_type": "stix", "valid_from": ts(t),
                     "object_marking_refs": [TLP[i % 3]]}
                put(o)
                own.append(oid)
                n += 1
                if i % 10 == 0 and n < per - recv_sight - nrep:
                    o["modified"] = ts(min(t + 86400 * 7, YEAR0 + YEAR))
                    put(o)
                    n += 1
            for i in range(per - recv_sight - n):
                t = YEAR0 + rnd.random() * YEAR
                put({"type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}",
                     "created": ts(t), "modified": ts(t), "created_by_ref": idents[p],
                     "name": f"campaign {p}-{i}", "published": ts(t),
                     "object_refs": rnd.sample(own, 10), "object_marking_refs": [TLP[0]]})
            all_ind.extend(own)
            for i in range(recv_sight):
                t = YEAR0 + rnd.random() * YEAR
                who = idents[p] if i % 4 else rnd.choice(anon)
                put({"type": "sighting", "spec_version": "2.1",
                     "id": f"sighting--{uuid.uuid4()}", "created": ts(t), "modified": ts(t),
                     "created_by_ref": who, "sighting_of_ref": rnd.choice(all_ind),
                     "where_sighted_refs": [who], "count": 1,
                     "object_marking_refs": [TLP[0]]})
    here = os.path.join(d, "here.ndjson")
    with open(here, "w") as f:
        for i in range(sightings - recv_sight * parts):
            t = YEAR0 + rnd.random() * YEAR
            f.write(json.dumps({"type": "sighting", "spec_version": "2.1",
                                "id": f"sighting--{uuid.uuid4()}", "created": ts(t),
                                "modified": ts(t), "sighting_of_ref": rnd.choice(all_ind),
                                "count": 1, "object_marking_refs": [TLP[0]]}) + "\n")
    return files, here


def spread(db):
    """Arrivals over the year: each version arrives 1 min - 6 h after its modified time."""
    c = sqlite3.connect(db)
    n = max(1, c.execute("SELECT count(*) FROM audit").fetchone()[0])
    c.executescript("""
        UPDATE objects SET added = CAST((julianday(coalesce(modified, created))
            - 2440587.5) * 86400000000 AS INTEGER) + 60000000 + (ver * 7919 % 21540) * 1000000
            WHERE type <> 'identity' OR rx IS NOT NULL;
        UPDATE provenance SET arrived = (SELECT added FROM objects o WHERE o.ver=provenance.ver),
            source_added = (SELECT added FROM objects o WHERE o.ver=provenance.ver)
                           - (ver * 104729 % 3600) * 1000000;
    """)
    c.execute("UPDATE audit SET ts = ? + seq * ? WHERE versions IS NOT NULL",
              (YEAR0 * 1000000, YEAR * 1000000 // n))
    c.commit()
    c.close()


def timed(binary, db, rounds, *args):
    """Best wall-clock time and best CPU time (user + system) of ROUNDS runs."""
    best = cpu = None
    for _ in range(rounds):
        t = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([binary, "--db", db, "report", "cooperation", *args],
                           capture_output=True, text=True)
        el = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if r.returncode:
            sys.exit(f"report {' '.join(args)}: {r.stderr}")
        best = el if best is None else min(best, el)
        cpu = c if cpu is None else min(cpu, c)
    return best, cpu, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.environ.get("SCHAKEL_BIN", "build/schakel"))
    ap.add_argument("--audit-bin", default=None)
    ap.add_argument("--versions", type=int, default=1000000)
    ap.add_argument("--sightings", type=int, default=100000)
    ap.add_argument("--partners", type=int, default=50)
    ap.add_argument("--exits", type=int, default=20, help="audit entries per partner")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", help="build the store here (reused if it exists)")
    a = ap.parse_args()
    audit_bin = a.audit_bin or os.path.join(os.path.dirname(a.bin), "coop_audit_bench")
    d = a.keep or tempfile.mkdtemp(prefix="sk-coop-bench-")
    os.makedirs(d, exist_ok=True)
    db = os.path.join(d, "node.db")
    if not os.path.exists(db):
        t = time.perf_counter()
        files, here = generate(d, a.bin, db, a.partners, a.versions, a.sightings)
        tg = time.perf_counter() - t
        t = time.perf_counter()
        run(a.bin, db, "collection", "add", "share")
        for i, f in enumerate(files):
            run(a.bin, db, "import", "--quiet", "--collection", "share", "--from",
                f"p{i:02d}", f)
        run(a.bin, db, "import", "--quiet", "--collection", "share", here)
        # each partner reads the collection: a report scoped to it is computed through
        # its view (docs/cooperation.md), which without a grant sees nothing
        for i in range(a.partners):
            run(a.bin, db, "collection", "grant", f"p{i:02d}", "share", "--read")
        ti = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([audit_bin, db, str(a.partners), str(a.exits), "1000"], check=True)
        spread(db)
        print(f"setup: generate {tg:.1f} s, import {ti:.1f} s, exits and spread "
              f"{time.perf_counter() - t:.1f} s")
    c = sqlite3.connect(db)
    nv = c.execute("SELECT count(*) FROM objects").fetchone()[0]
    ns = c.execute("SELECT count(*) FROM objects WHERE type='sighting'").fetchone()[0]
    ne = c.execute("SELECT count(*), sum(json_array_length(versions)) FROM audit"
                   " WHERE versions IS NOT NULL").fetchone()
    c.close()
    print(f"store: {nv} object versions, {ns} sightings, {a.partners} partners, "
          f"{ne[0]} exits listing {ne[1]} versions; {os.path.getsize(db) / 1e6:.0f} MB")
    cases = [("year, json", ("--since", "2025-01-01T00:00:00Z", "--until",
                             "2026-01-01T00:00:00Z")),
             ("whole store, json", ()),
             ("one quarter, json", ("--since", "2025-04-01T00:00:00Z", "--until",
                                    "2025-07-01T00:00:00Z")),
             ("year, one partner", ("--since", "2025-01-01T00:00:00Z", "--until",
                                    "2026-01-01T00:00:00Z", "--partner", "p07")),
             ("year, html", ("--since", "2025-01-01T00:00:00Z", "--until",
                             "2026-01-01T00:00:00Z", "--format", "html"))]
    for name, args in cases:
        el, cpu, out = timed(a.bin, db, a.rounds, *args)
        extra = ""
        if "--format" not in args:
            j = json.loads(out)
            extra = (f"; {len(j['partners'])} partners, received "
                     f"{sum(p['objects_received'] for p in j['partners'])}, sent "
                     f"{sum(p['objects_sent'] for p in j['partners'])}, sightings "
                     f"{j['own']['sightings_here'] + j['own']['sightings_received']}")
        print(f"report cooperation, {name}: {el:.2f} s wall, {cpu:.2f} s CPU (best of "
              f"{a.rounds}){extra} [{'meets' if el < 2 else 'misses'} < 2 s]")
    print(f"load average during the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not a.keep:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
