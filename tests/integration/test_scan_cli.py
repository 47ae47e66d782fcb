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
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import run, wait_for  # noqa: E402  (run: code, out, err)

BIN = sklib.binary()
FIX = sklib.fixtures()
R = sklib.Results()


def check(name, cond, detail=""):
    R.check(cond, name, detail)


def no_timing(err):
    """stderr without the lines that carry timings."""
    return "\n".join(x for x in err.splitlines() if "GB/s" not in x and "compiled in" not in x)


HDR = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
       "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n"
       "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n")
HDR2 = ("#separator \\x09\n#set_separator\t;\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
        "#fields\tquery\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tanswers\n"
        "#types\tstring\ttime\taddr\tport\taddr\tport\tvector[string]\n")
NAMES = ["www.evil.example", "mail.test", "benign.example", "x.evil.example", "cdn.test"]


def dns_line(i, block2=False):
    q = NAMES[i % len(NAMES)] if i % 7 else "quiet%d.example" % i
    ans = "203.0.113.%d" % (i % 250) if i % 3 == 0 else "192.0.2.%d" % (i % 250)
    ts = "%d.%06d" % (1704067200 + i // 10, i % 1000000)
    if block2:
        return "\t".join([q, ts, "192.0.2.10", str(40000 + i % 20000), "198.51.100.53", "53",
                          ans + ";a%d.test" % i]) + "\n"
    return "\t".join([ts, "C%d" % i, "192.0.2.10", str(40000 + i % 20000), "198.51.100.53", "53",
                      "udp", q, ans + ",a%d.test" % i]) + "\n"


def write_big_dns(path, n):
    """Two header blocks, a malformed line and a CRLF line: many small chunks with SCHAKEL_SCAN_CHUNK."""
    with open(path, "w", newline="") as f:
        f.write(HDR)
        for i in range(n):
            if i == n // 3:
                f.write("not\ta\tzeek\tline\n")
            line = dns_line(i)
            f.write(line[:-1] + "\r\n" if i == n // 5 else line)
        f.write("#close\t2024-01-01-00-10-00\n")
        f.write(HDR2)
        for i in range(n, 2 * n):
            f.write(dns_line(i, True))


def test_threads(db, tmp):
    big = os.path.join(tmp, "big.log")
    write_big_dns(big, 3000)
    c1, o1, e1 = run(db, "scan", "--no-sightings", "--threads", "1", big)
    check("big log: hits with one thread", c1 == 0 and len(hits_of(o1)) > 1000, e1)
    check("big log: malformed line reported", "unparsable" in e1 and ": 1008\n" in e1, e1)
    lines = [h["line"] for h in hits_of(o1)]
    check("hits in input order", lines == sorted(lines), lines[:20])
    check("second header block honoured", any(h["line"] > 3010 and h["value"] == "www.evil.example"
                                              for h in hits_of(o1)))
    for threads, chunk in (("2", "4096"), ("3", "10000"), ("2", "1000000")):
        c2, o2, e2 = run(db, "scan", "--no-sightings", "--threads", threads, big,
                         env={"SCHAKEL_SCAN_CHUNK": chunk})
        check(f"--threads {threads}, chunks of {chunk}: byte-identical output", c2 == 0 and o1 == o2,
              e2[-500:])
        check(f"--threads {threads}, chunks of {chunk}: same report", no_timing(e1) == no_timing(e2),
              e1 + "\n---\n" + e2)
    # gzip and stdin go through the same chunking
    gz = big + ".gz"
    subprocess.run(["gzip", "-k", big], check=True)
    c3, o3, e3 = run(db, "scan", "--no-sightings", "--threads", "2", gz, env={"SCHAKEL_SCAN_CHUNK": "5000"})
    check(".gz with --threads 2: same hits", c3 == 0 and o3.replace(gz, big) == o1, e3[-300:])
    with open(big, "rb") as f:
        p = subprocess.run([BIN, "--db", db, "scan", "--no-sightings", "--threads", "2", "-"], stdin=f,
                           capture_output=True, timeout=300,
                           env=dict(os.environ, SCHAKEL_SCAN_CHUNK="5000"))
    o4 = p.stdout.decode()
    check("stdin with --threads 2: same hits", p.returncode == 0 and
          o4.replace('"file":"-"', '"file":"%s"' % big) == o1, p.stderr.decode()[-300:])
    # not a terminal: no progress bar
    check("no progress bar when stderr is not a terminal", "\r" not in e1 and "\r" not in e3)


def test_shared(db, tmp):
    logs = sklib.shared("data", "logs")
    files = [os.path.join(logs, "zeek-wrccdc2018", "tsv", "dns.log.gz"),
             os.path.join(logs, "suricata-eve", "eve_suricata-verify_mix.json.gz"),
             os.path.join(logs, "zeek-wrccdc2018", "json", "ssl.json.gz")]
    files = [f for f in files if os.path.exists(f)]
    if not files:
        print("SKIP (part): ../shared/data/logs not present; shared-log thread comparison skipped")
        return
    sdb = os.path.join(tmp, "shared.db")
    run(sdb, "init", "--name", "shared scan")
    pats = ["[domain-name:value = 'ise.wrccdc.org']",
            "[ipv4-addr:value ISSUBSET '134.71.0.0/16']",
            "[domain-name:value LIKE '%.cpp.edu']",
            "[domain-name:value = 'ise.wrccdc.org'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.100']",
            "[network-traffic:dst_port = 53] REPEATS 3 TIMES",
            "[network-traffic:src_port > 60000 AND network-traffic:dst_port = 53]"]
    objs = [{"type": "indicator", "spec_version": "2.1",
             "id": "indicator--10000000-0000-4000-8000-%012d" % i, "created": "2020-01-01T00:00:00.000Z",
             "modified": "2020-01-01T00:00:00.000Z", "pattern": p, "pattern_type": "stix",
             "valid_from": "2020-01-01T00:00:00Z"} for i, p in enumerate(pats)]
    bp = os.path.join(tmp, "shared-ind.json")
    with open(bp, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--10000000-0000-4000-8000-000000000000", "objects": objs}, f)
    run(sdb, "import", "--quiet", bp)
    for path in files:
        c1, o1, e1 = run(sdb, "scan", "--no-sightings", "--quiet", "--threads", "1", path)
        c2, o2, e2 = run(sdb, "scan", "--no-sightings", "--quiet", "--threads", "2", path,
                         env={"SCHAKEL_SCAN_CHUNK": "65536"})
        check(f"shared {os.path.basename(path)}: --threads 1 and 2 byte-identical",
              c1 == 0 and c2 == 0 and o1 == o2 and o1 != "", (e1 + e2)[-500:])


def test_follow(db, tmp):
    log = os.path.join(tmp, "follow.log")
    out = os.path.join(tmp, "follow.jsonl")
    with open(log, "w") as f:
        f.write(HDR)
        f.write(dns_line(5))  # www.evil.example, line 8
    sid = [s["id"] for s in sightings_of(db) if s["sighting_of_ref"].endswith("01")]
    sid = sid[0] if sid else None

    def versions():
        if not sid:
            return []
        c, o, e = run(db, "get", "--all-versions", "--compact", sid)
        return [json.loads(x) for x in o.splitlines() if x.strip()] if c == 0 else []
    v0 = versions()
    check("follow: a sighting to version exists", sid is not None and len(v0) >= 1, v0)
    count0 = v0[-1]["count"] if v0 else 0
    p = subprocess.Popen([BIN, "--db", db, "scan", "--follow", "--sightings-every", "1", "--output", out, log],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def hits_now():
            try:
                return hits_of(open(out).read())
            except (OSError, ValueError):
                return []
        check("follow: first hit written", wait_for(lambda: any(h["line"] == 8 for h in hits_now())))
        # periodic sightings while the file is idle (before the scan ends)
        check("follow: periodic sighting stored while following",
              wait_for(lambda: len(versions()) > len(v0) and versions()[-1]["count"] == count0 + 1))
        with open(log, "a") as f:
            f.write(dns_line(3)[:20])  # a partial line, completed after the rotation
        os.rename(log, log + ".1")
        with open(log, "w") as f:
            f.write(HDR)
            f.write(dns_line(1))  # mail.test
            f.write(dns_line(5))  # www.evil.example
        check("follow: lines of the rotated file read",
              wait_for(lambda: sum(1 for h in hits_now() if h["value"] == "www.evil.example") >= 2))
    finally:
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
    err = err.decode("utf-8", "replace")
    check("follow: exit 0 on SIGINT", p.returncode == 0, err)
    check("follow: no progress bar when stderr is not a terminal", "\r" not in err)
    hits = hits_of(open(out).read())
    n01 = sum(1 for h in hits if h["indicator"]["id"].endswith("01"))
    vs = versions()
    check("follow: sightings count every hit exactly once", n01 == 2 and vs and vs[-1]["count"] == count0 + n01,
          (n01, vs[-1] if vs else None))


def test_text_times(db, tmp):
    """Text-log hits carry the time their line has (ISO 8601, log4j, RFC 5424,
    BSD syslog, Apache/nginx common log, squid); a line without one, none."""
    import datetime
    lines = [
        ("2024-05-01T12:00:00.5Z GET http://203.0.113.66/", "2024-05-01T12:00:00.500000Z"),
        ("2024-05-01 13:00:00,250 INFO conn 203.0.113.66", "2024-05-01T13:00:00.250000Z"),
        ("<34>1 2024-05-02T10:00:00+02:00 host app - - to 203.0.113.66",
         "2024-05-02T08:00:00.000000Z"),
        ("Oct  1 13:55:36 host sshd[1]: from 203.0.113.66", None),
        ('192.0.2.1 - - [10/Oct/2024:13:55:36 -0700] "GET http://203.0.113.66/ HTTP/1.1" 200',
         "2024-10-10T20:55:36.000000Z"),
        ("1704067200.123    345 192.0.2.10 TCP_MISS/200 5120 GET http://203.0.113.66/x",
         "2024-01-01T00:00:00.123000Z"),
        ("no time on this line 203.0.113.66", None),
    ]
    now = datetime.datetime.now(datetime.timezone.utc)
    year = now.year
    if datetime.datetime(year, 10, 1, 13, 55, 36, tzinfo=datetime.timezone.utc) > \
            now + datetime.timedelta(days=1):
        year -= 1
    syslog = f"{year}-10-01T13:55:36.000000Z"
    path = os.path.join(tmp, "times.log")
    with open(path, "w") as f:
        f.write("".join(ln + "\n" for ln, _ in lines))
    code, out, err = run(db, "scan", "--format", "text", "--no-sightings", path)
    hits = {h["line"]: h["time"] for h in hits_of(out)}
    for i, (ln, want) in enumerate(lines, 1):
        if i == 4:
            want = syslog
        check(f"text line {i} hit time {want}", hits.get(i, "missing") == want,
              f"{hits.get(i, 'missing')} for {ln!r}")


def test_courses_of_action(db, tmp):
    """A hit carries the courses of action that mitigate its indicator or
    what the indicator indicates, so the alert says what to do."""
    ind = "indicator--7c0a0e1a-1b2c-4d3e-8f40-000000000c0a"
    mal = "malware--7c0a0e1a-1b2c-4d3e-8f40-000000000c0b"
    coa = "course-of-action--7c0a0e1a-1b2c-4d3e-8f40-000000000c0c"
    coa2 = "course-of-action--7c0a0e1a-1b2c-4d3e-8f40-000000000c0d"
    t = "2024-01-01T00:00:00.000Z"

    def rel(n, typ, src, dst):
        return {"type": "relationship", "spec_version": "2.1",
                "id": f"relationship--7c0a0e1a-1b2c-4d3e-8f40-00000000{n:04d}", "created": t,
                "modified": t, "relationship_type": typ, "source_ref": src, "target_ref": dst}
    objs = [
        {"type": "indicator", "spec_version": "2.1", "id": ind, "created": t, "modified": t,
         "name": "CoA test C2", "pattern": "[ipv4-addr:value = '198.51.100.77']",
         "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"},
        {"type": "malware", "spec_version": "2.1", "id": mal, "created": t, "modified": t,
         "name": "CoA test wiper", "is_family": True},
        {"type": "course-of-action", "spec_version": "2.1", "id": coa, "created": t,
         "modified": t, "name": "Block the C2", "description": "Block 198.51.100.77 at the "
         "perimeter firewall."},
        {"type": "course-of-action", "spec_version": "2.1", "id": coa2, "created": t,
         "modified": t, "name": "Restore from offline backups"},
        rel(1, "indicates", ind, mal), rel(2, "mitigates", coa, ind),
        rel(3, "mitigates", coa2, mal), rel(4, "mitigates", coa, mal)]
    path = os.path.join(tmp, "coa.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--7c0a0e1a-1b2c-4d3e-8f40-000000000c0e",
                   "objects": objs}, f)
    code, _, err = run(db, "import", "--quiet", path)
    check("import the courses of action", code == 0, err)
    log = os.path.join(tmp, "coa.log")
    with open(log, "w") as f:
        f.write("2024-05-01T00:00:00Z connect to 198.51.100.77\n")
    code, out, err = run(db, "scan", "--format", "text", "--no-sightings", log)
    hits = [h for h in hits_of(out) if h["indicator"]["id"] == ind]
    coas = hits[0].get("courses_of_action") if hits else None
    check("the hit lists each course of action once",
          coas is not None and sorted(c["id"] for c in coas) == sorted([coa, coa2]), coas)
    by = {c["id"]: c for c in coas or []}
    check("with its name, description and what it mitigates",
          by.get(coa, {}).get("description") == "Block 198.51.100.77 at the perimeter firewall."
          and by.get(coa, {}).get("mitigates") == ind
          and by.get(coa2, {}).get("mitigates") == mal, coas)


def sightings_of(db):
    c, o, e = run(db, "list", "--type", "sighting", "--json")
    return [json.loads(x) for x in o.splitlines() if x.strip()] if c == 0 else []


def hits_of(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    with sklib.Node(init=False) as node:
        tmp, db = node.dir, node.db
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
              and "software:name" in err, err)
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

        code, _, err = run(db, "scan", "--sightings-every", "0", dns)
        check("bad --sightings-every: exit 2", code == 2, err)
        test_threads(db, tmp)
        test_shared(db, tmp)
        test_follow(db, tmp)
        test_text_times(db, tmp)
        test_courses_of_action(db, tmp)
    R.finish()


if __name__ == "__main__":
    main()
