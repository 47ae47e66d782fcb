#!/usr/bin/env python3
"""`schakel scan` end to end (the contract in docs/matcher.md).

Imports tests/fixtures/scan/indicators.json into a fresh node, scans the log
fixtures of tests/fixtures/logs and checks: the JSON-lines fields of each
hit, compile-time reports (unsupported, expired, revoked, other pattern
types), --subdomains, multi-observation hits with their records, stable
output with --threads 2, malformed lines reported, exit codes, and the
sighting objects (created by one scan, versioned by the next).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("SCHAKEL_BIN")
FIX = os.environ.get("SK_FIXTURES") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}" + (f"\n  {detail}" if detail else ""))


def run(db, *args):
    p = subprocess.run([BIN, "--db", db] + list(args), capture_output=True, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def hits_of(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print("SKIP: SCHAKEL_BIN not set")
        return 77
    tmp = tempfile.mkdtemp(prefix="sk-scan-")
    try:
        db = os.path.join(tmp, "n.db")
        dns = os.path.join(FIX, "logs", "zeek_dns.log")
        eve = os.path.join(FIX, "logs", "eve.json")

        code, _, err = run(db, "scan", dns)
        check("no node: exit 1", code == 1, err)
        run(db, "init", "--name", "scan node")
        code, _, err = run(db, "import", "--quiet", os.path.join(FIX, "scan", "indicators.json"))
        check("import fixtures", code == 0, err)
        code, _, err = run(db, "scan")
        check("no FILE: exit 2", code == 2, err)
        code, _, err = run(db, "scan", "--threads", "zero", dns)
        check("bad --threads: exit 2", code == 2, err)
        code, _, err = run(db, "scan", os.path.join(tmp, "missing.log"))
        check("missing file: exit 1", code == 1, err)

        code, out, err = run(db, "scan", dns)
        check("scan dns: exit 0", code == 0, err)
        hits = hits_of(out)
        ids = [h["indicator"]["id"][-2:] for h in hits]
        check("unsupported reported once", err.count("indicator--00000000-0000-4000-8000-000000000003") == 1
              and "process:name" in err, err)
        check("expired / revoked / sigma not compiled",
              not any(i in ("05", "06", "08") for i in ids), ids)
        first = hits[0] if hits else {}
        check("hit fields", set(first) >= {"time", "file", "line", "offset", "field", "kind", "value",
                                           "indicator", "indicates", "records"}, first)
        check("hit values", first.get("value") == "www.evil.example" and first.get("kind") == "domain"
              and first.get("field") == "query" and first.get("line") == 9
              and first.get("time") == "2024-01-01T00:00:00.123456Z" and first.get("file") == dns, first)
        ind = first.get("indicator", {})
        check("indicator metadata", ind.get("name") == "evil domain" and ind.get("marking") == "TLP:GREEN"
              and ind.get("confidence") == 80 and ind.get("producer_name") == "Example CERT", ind)
        check("indicates", first.get("indicates") == [{"id": "malware--33333333-3333-4333-8333-333333333333",
                                                       "type": "malware", "name": "EvilBot"}], first)
        check("records of a single observation", first.get("records") == [{"file": dns, "line": 9}], first)
        seq = [h for h in hits if h["indicator"]["id"].endswith("04")]
        check("FOLLOWEDBY hit on the completing record", len(seq) == 1 and seq[0]["line"] == 10
              and [r["line"] for r in seq[0]["records"]] == [9, 10], seq)
        check("exact domain without --subdomains", "09" not in ids, ids)
        check("summary on stderr", "records" in err and "GB/s" in err and "hits" in err, err)

        code, out2, err = run(db, "scan", "--subdomains", "--no-sightings", dns)
        ids2 = [h["indicator"]["id"][-2:] for h in hits_of(out2)]
        check("--subdomains matches www.evil.example for evil.example", "09" in ids2, ids2)

        # sightings: one per indicator with hits, then a new version
        def sightings():
            c, o, e = run(db, "list", "--type", "sighting", "--json")
            return [json.loads(x) for x in o.splitlines() if x.strip()] if c == 0 else []
        sl = sightings()
        hit_inds = {h["indicator"]["id"] for h in hits}
        check("one sighting per indicator with hits",
              sorted(s["sighting_of_ref"] for s in sl) == sorted(hit_inds), sl)
        s1 = next((s for s in sl if s["sighting_of_ref"].endswith("01")), {})
        sid = s1.get("id", "sighting--x")
        check("sighting fields", s1.get("count") == 1 and len(s1.get("where_sighted_refs", [])) == 1
              and s1.get("first_seen") == "2024-01-01T00:00:00.123456Z" and s1.get("last_seen"), s1)
        run(db, "scan", "--quiet", dns)
        code, out, err = run(db, "get", "--all-versions", "--compact", sid)
        vers = [json.loads(x) for x in out.splitlines() if x.strip()] if code == 0 else []
        check("second scan: new version of the same sighting", len(vers) == 2, out + err)
        if len(vers) == 2:
            check("count accumulated", vers[-1]["count"] == 2, vers)
            check("created kept, modified later", vers[-1]["created"] == vers[0]["created"]
                  and vers[-1]["modified"] > vers[0]["modified"], vers)
        check("still one sighting per indicator", len(sightings()) == len(sl))

        # EVE with malformed lines; --threads 2 gives the same output
        code, o1, err = run(db, "scan", "--no-sightings", eve)
        check("eve: exit 0 despite malformed lines", code == 0, err)
        check("malformed lines reported with numbers", "unparsable" in err and "10" in err, err)
        check("ports + addresses", any(h["indicator"]["id"].endswith("07") for h in hits_of(o1)), o1)
        code, o2, err = run(db, "scan", "--no-sightings", "--threads", "2", eve)
        check("--threads 2: same output", o1 == o2 and code == 0, err)
        outf = os.path.join(tmp, "hits.jsonl")
        code, o3, err = run(db, "scan", "--no-sightings", "--quiet", "--output", outf, eve)
        check("--output FILE", code == 0 and o3 == "" and open(outf).read() == o1 and "GB/s" not in err, err)
        check("--no-sightings leaves sightings alone", len(sightings()) == len(sl))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
