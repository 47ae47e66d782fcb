#!/usr/bin/env python3
"""scan_bench - throughput of `schakel scan` with the 1.85 M maltrail indicators.

Steps (all in a fresh directory under $BENCH_DIR, default /tmp/schakel-bench;
that directory is removed at the end unless --keep):
  1. a node with every maltrail static trail as a STIX 2.1 indicator, streamed
     to NDJSON and imported (domain = exact domain-name, ipv4, ipv4_cidr =
     ISSUBSET, ipv4_port = network-traffic dst address + port, url; regex,
     ipv6_port, domain_port and 'other' rows are left out);
  2. the Zeek TSV DNS log and the Suricata EVE log replayed to --mb MB each
     (default 1024; --quick = 256), one record in 500 rewritten to a
     maltrail domain so that hits are spread through the input;
  3. `schakel scan --no-sightings --no-warninglists` with 1 and 2 threads over each
     (wall time, records/s, GB/s, GB/s per core), the matcher build time and
     peak RSS, RSS of the same scan on an empty node (to get bytes per
     indicator);
  4. start-up: a scan of an empty log compiling (--no-cache) and loading
     the matcher cache; end to end: the wall time of a whole scan of each
     input (sightings written, unless --db names an existing store);
  5. `LC_ALL=C grep -F -c -f domains` and `rg -F -c -f domains` over the
     same input, with the ratios to schakel's matching and end-to-end time.
Prints only; never fails on numbers.  Python 3 stdlib.
"""

import argparse
import gzip
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import uuid

NS = uuid.UUID("0b3b6a8e-62a4-4c77-9d0e-62656e636800")


def sh(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def timed(argv, stdout=subprocess.DEVNULL):
    """(wall seconds, peak RSS kB of this child, stderr text, returncode)."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            if stdout is subprocess.DEVNULL:
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1)
            errfd = os.open(ERRFILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(errfd, 2)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    with open(ERRFILE, errors="replace") as f:
        err = f.read()
    return wall, ru.ru_maxrss, err, os.waitstatus_to_exitcode(status)


def lit(v):
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_of(v, kind):
    if kind == "domain":
        return "[domain-name:value = %s]" % lit(v.lower().rstrip("."))
    if kind == "ipv4":
        return "[ipv4-addr:value = %s]" % lit(v)
    if kind == "ipv4_cidr":
        return "[ipv4-addr:value ISSUBSET %s]" % lit(v)
    if kind == "ipv4_port":
        ip, _, port = v.rpartition(":")
        if not port.isdigit() or not 0 <= int(port) <= 65535:
            return None
        return "[network-traffic:dst_ref.value = %s AND network-traffic:dst_port = %d]" % (
            lit(ip), int(port))
    if kind == "url":
        return "[url:value = %s]" % lit(v)
    return None


def write_indicators(maltrail, out, domains_out):
    """NDJSON of indicators; the domain list for grep; returns (count per kind, sample domains)."""
    import json
    counts, sample = {}, []
    with gzip.open(maltrail, "rt", encoding="utf-8", errors="replace") as f, \
            open(out, "w") as o, open(domains_out, "w") as d:
        for n, line in enumerate(f):
            p = line.rstrip("\n").split("\t")
            if len(p) < 4 or p[0].startswith("#"):
                continue
            v, kind = p[0], p[1]
            pat = pattern_of(v, kind)
            if pat is None or any(ord(c) < 0x20 for c in v):
                continue
            counts[kind] = counts.get(kind, 0) + 1
            obj = {"type": "indicator", "spec_version": "2.1",
                   "id": "indicator--%s" % uuid.uuid5(NS, kind + "\t" + v),
                   "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                   "name": p[3], "pattern": pat, "pattern_type": "stix",
                   "valid_from": "2000-01-01T00:00:00Z"}
            o.write(json.dumps(obj, separators=(",", ":")) + "\n")
            if kind == "domain":
                d.write(v.lower() + "\n")
                if n % 1009 == 0 and len(sample) < 20000 and re.match(r"^[a-z0-9.-]+$", v.lower()):
                    sample.append(v.lower())
    return counts, sample


def replay_zeek_dns(src, dst, mb, sample):
    lines = gzip.open(src, "rt", encoding="utf-8", errors="replace").read().split("\n")
    head = [x for x in lines if x.startswith("#") and not x.startswith("#close")]
    data = [x for x in lines if x and not x.startswith("#")]
    qcol = head[[h.startswith("#fields") for h in head].index(True)].split("\t")[1:].index("query")
    target = mb * 1000 * 1000
    size, k, planted = 0, 0, 0
    with open(dst, "w") as o:
        o.write("\n".join(head) + "\n")
        while size < target:
            block = []
            for i, x in enumerate(data):
                if i % 500 == k % 500:
                    c = x.split("\t")
                    c[qcol] = sample[(k + i) % len(sample)]
                    x = "\t".join(c)
                    planted += 1
                block.append(x)
            s = "\n".join(block) + "\n"
            o.write(s)
            size += len(s)
            k += 1
    return os.path.getsize(dst), planted


_RR = re.compile(r'"rrname":"[^"]*"')


def replay_eve(src, dst, mb, sample):
    data = [x for x in gzip.open(src, "rt", encoding="utf-8", errors="replace").read().split("\n") if x]
    dns_idx = [i for i, x in enumerate(data) if '"event_type":"dns"' in x and '"rrname":"' in x]
    target = mb * 1000 * 1000
    size, k, planted = 0, 0, 0
    with open(dst, "w") as o:
        while size < target:
            block = list(data)
            for j, i in enumerate(dns_idx):
                if (j + k) % 3 == 0:  # about 1 record in 500 overall (dns is ~1/8 of EVE)
                    dom = sample[(k * 7 + j) % len(sample)]
                    block[i] = _RR.sub('"rrname":"%s"' % dom, block[i], count=1)
                    planted += 1
            s = "\n".join(block) + "\n"
            o.write(s)
            size += len(s)
            k += 1
    return os.path.getsize(dst), planted


def parse_summary(err):
    m = re.search(r"(\d+) records, (\d+) bytes in ([\d.]+) s \(([\d.]+) GB/s\), (\d+) hits", err)
    c = re.search(r"(\d+) indicators compiled in ([\d.]+) s", err)
    return (int(m.group(1)) if m else None, int(m.group(5)) if m else None,
            float(m.group(3)) if m else None,
            int(c.group(1)) if c else None, float(c.group(2)) if c else None)


def main():
    global ERRFILE
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--dir", default=os.environ.get("BENCH_DIR", "/tmp/schakel-bench"))
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--db", help="an existing store with the maltrail indicators (skips the "
                    "import; scans run with --no-sightings, so the store is not written, "
                    "except its matcher cache file)")
    a = ap.parse_args()
    if a.quick:
        a.mb = 256
    os.makedirs(a.dir, exist_ok=True)
    # a private directory under BENCH_DIR: only it is removed at the end
    import tempfile
    a.dir = tempfile.mkdtemp(prefix="scan-", dir=a.dir)
    ERRFILE = os.path.join(a.dir, "stderr.txt")
    db = a.db or os.path.join(a.dir, "bench.db")
    empty = os.path.join(a.dir, "empty.db")
    try:
        print("# schakel scan bench: %s, %d MB per input, BENCH_DIR=%s, %d cores"
              % (a.bin, a.mb, a.dir, os.cpu_count()))
        nd = os.path.join(a.dir, "maltrail-indicators.ndjson")
        doms = os.path.join(a.dir, "maltrail-domains.txt")
        t0 = time.monotonic()
        counts, sample = write_indicators(
            os.path.join(a.shared, "feeds", "maltrail", "maltrail_static.tsv.gz"), nd, doms)
        total = sum(counts.values())
        print("indicators written: %d (%s) in %.1f s" % (
            total, ", ".join("%s %d" % kv for kv in sorted(counts.items())), time.monotonic() - t0))
        for path in ((empty,) if a.db else (db, empty)):
            if os.path.exists(path):
                os.unlink(path)
            sh([a.bin, "--db", path, "init", "--name", "bench"]).check_returncode()
        if a.db:
            print("import: skipped, using the store %s" % a.db)
        else:
            wall, rss, err, rc = timed([a.bin, "--db", db, "import", "--quiet", nd])
            print("import: %.1f s, exit %d, peak RSS %.0f MB" % (wall, rc, rss / 1024))
            if rc != 0:
                print(err[-2000:])
        os.unlink(nd)
        zeek = os.path.join(a.dir, "dns-replay.log")
        eve = os.path.join(a.dir, "eve-replay.json")
        t0 = time.monotonic()
        zsz, zp = replay_zeek_dns(os.path.join(a.shared, "logs", "zeek-wrccdc2018", "tsv", "dns.log.gz"),
                                  zeek, a.mb, sample)
        esz, ep = replay_eve(os.path.join(a.shared, "logs", "suricata-eve", "eve_suricata-verify_mix.json.gz"),
                             eve, a.mb, sample)
        print("replayed: Zeek DNS %.0f MB (%d planted), EVE %.0f MB (%d planted) in %.1f s" % (
            zsz / 1e6, zp, esz / 1e6, ep, time.monotonic() - t0))
        # warm the page cache
        for p in (zeek, eve):
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass
        startup(a, db)
        # empty-node RSS baseline
        wall, rss0, err, rc = timed([a.bin, "--db", empty, "scan", "--no-sightings", "--threads", "1",
                                     "--no-warninglists", zeek])
        print("empty node scan of Zeek DNS: %.2f s, peak RSS %.0f MB" % (wall, rss0 / 1024))
        print()
        print("%-10s %-3s %10s %9s %8s %10s %9s %8s %9s %9s" % (
            "input", "thr", "records", "hits", "scan s", "Mrec/s", "GB/s", "GB/s/cor",
            "build s", "RSS MB"))
        best = {}
        for name, path, size in (("zeek-dns", zeek, zsz), ("eve", eve, esz)):
            for th in [int(x) for x in a.threads.split(",")]:
                wall, rss, err, rc = timed([a.bin, "--db", db, "scan", "--no-sightings",
                                            "--no-warninglists", "--threads", str(th), path])
                recs, hits, scan_s, ninds, build_s = parse_summary(err)
                if rc != 0 or recs is None:
                    print("%-10s %-3d scan failed (exit %d): %s" % (name, th, rc, err[-800:]))
                    continue
                # the scan's own clock (excludes compiling); wall includes it
                gbs = size / scan_s / 1e9 if scan_s else 0
                print("%-10s %-3d %10d %9d %8.2f %10.2f %9.3f %8.3f %9.2f %9.0f" % (
                    name, th, recs, hits, scan_s, recs / scan_s / 1e6 if scan_s else 0, gbs,
                    gbs / th, build_s or 0, rss / 1024))
                best.setdefault(name, {})[th] = (gbs, rss, build_s, ninds, wall)
        print()
        z = best.get("zeek-dns", {})
        if 1 in z:
            gbs, rss, build_s, ninds, wall = z[1]
            if ninds:
                print("matcher: %d indicators compiled in %.2f s (store load included); "
                      "(RSS %.0f MB - empty-node RSS %.0f MB) / indicators = %.0f bytes per indicator"
                      % (ninds, build_s, rss / 1024, rss0 / 1024, (rss - rss0) * 1024.0 / ninds))
        for name in ("zeek-dns", "eve"):
            b = best.get(name, {})
            if 1 in b and 2 in b and b[1][0]:
                print("%s: 2 threads / 1 thread = %.2fx" % (name, b[2][0] / b[1][0]))
        print()
        ends = end_to_end(a, db, zeek, zsz, eve, esz)
        print()
        references(a, doms, counts, best, ends, (("zeek-dns", zeek, zsz), ("eve", eve, esz)))
    finally:
        if not a.keep:
            shutil.rmtree(a.dir, ignore_errors=True)


def startup(a, db):
    """Start-up: the compile (--no-cache) against loading the matcher cache, on an empty log."""
    log = os.path.join(a.dir, "empty.log")
    open(log, "w").close()
    base = [a.bin, "--db", db, "scan", "--no-sightings", "--no-warninglists", log]
    rows = []
    for label, extra in (("cold build (--no-cache)", ["--no-cache"]),
                         ("build, writing the cache", []),
                         ("cached (matcher cache)", []), ("cached again", [])):
        if label.startswith("build,"):  # make sure the next ones find a current file
            for suffix in (".matcher", "-nowl.matcher"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
        wall, rss, err, rc = timed(base[:4] + extra + base[4:])
        c = re.search(r"compiled in ([\d.]+) s", err)
        rows.append((label, wall, float(c.group(1)) if c else None, rss, rc,
                     "loaded from the matcher cache" in err))
    print("start-up (scan of an empty log, --no-warninglists):")
    for label, wall, comp, rss, rc, loaded in rows:
        print("  %-26s wall %6.2f s, matcher ready in %s s, peak RSS %4.0f MB%s%s" % (
            label, wall, "%.3f" % comp if comp is not None else "?", rss / 1024,
            " (loaded)" if loaded else "", "" if rc == 0 else " exit %d" % rc))
    if rows[0][2] and rows[2][2]:
        print("  cold / cached matcher start-up = %.0fx" % (rows[0][2] / rows[2][2]))
    print()


def end_to_end(a, db, zeek, zsz, eve, esz):
    """Wall time of a whole scan (cached matcher, default threads), sightings on unless --db."""
    ends = {}
    opts = ["--no-sightings"] if a.db else []
    for name, path, size in (("zeek-dns", zeek, zsz), ("eve", eve, esz)):
        wall, rss, err, rc = timed([a.bin, "--db", db, "scan", "--no-warninglists"] + opts + [path])
        ends[name] = wall
        print("end to end, %s %.0f MB, %d threads, %s: %.2f s wall (%.3f GB/s)%s" % (
            name, size / 1e6, os.cpu_count(), "no sightings" if opts else "sightings written",
            wall, size / wall / 1e9, "" if rc == 0 else " exit %d" % rc))
    return ends


REF_MEM = int(os.environ.get("SK_BENCH_REF_MEM_GB", "4")) << 30
REF_SECS = int(os.environ.get("SK_BENCH_REF_SECS", "600"))


def limit_memory():
    import resource as r
    r.setrlimit(r.RLIMIT_AS, (REF_MEM, REF_MEM))


def references(a, doms, counts, best, ends, inputs):
    """The same input through LC_ALL=C grep -F -f and rg -F -f (domains only), and the ratios.

    Each reference runs with at most SK_BENCH_REF_MEM_GB of address space (default 4) and
    SK_BENCH_REF_SECS seconds (default 600): rg -F -f with the 1.37 M domains grew past
    11 GB on this 24 GB machine shared with others and had not finished after 6 minutes."""
    env = dict(os.environ, LC_ALL="C")
    # also a list that rg can handle: the first 100,000 domains (schakel still has them all)
    sub = doms + ".100k"
    with open(doms) as f, open(sub, "w") as o:
        for i, line in enumerate(f):
            if i >= 100000:
                break
            o.write(line)
    runs = []
    for name, path, size in inputs:
        for lst, n in ((doms, counts.get("domain", 0)), (sub, min(100000, counts.get("domain", 0)))):
            runs.append((name, path, size, lst, n))
    for name, path, size, lst, ndom in runs:
        for tool, argv in (("LC_ALL=C grep -F -c -f", ["grep", "-F", "-c", "-f", lst, path]),
                           ("rg -F -c -f", ["rg", "--no-config", "-F", "-c", "-f", lst, path])):
            if not shutil.which(argv[0]):
                print("reference %s: %s not installed" % (tool, argv[0]))
                continue
            t0 = time.monotonic()
            try:
                p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                   preexec_fn=limit_memory, timeout=REF_SECS)
            except subprocess.TimeoutExpired:
                print("reference %s <%d domains> %s: not finished after %d s (schakel: %.2f s "
                      "end to end)" % (tool, ndom, name, REF_SECS, ends.get(name, 0)))
                continue
            dt = time.monotonic() - t0
            if p.returncode not in (0, 1):
                print("reference %s <%d domains> %s: failed after %.1f s (exit %d, %d GB address "
                      "space limit): %s" % (tool, ndom, name, dt, p.returncode, REF_MEM >> 30,
                                            p.stderr.decode(errors="replace")[-200:].strip()))
                continue
            own = best.get(name, {}).get(1)
            ratio = ""
            if own and own[0]:
                ratio = "; schakel matches %.1fx as fast (1 thread, its own clock)" % (
                    dt / (size / (own[0] * 1e9)))
            if name in ends and ends[name]:
                ratio += ", end to end %.1fx" % (dt / ends[name])
            print("reference %s <%d domains> %s: %.2f s, %.3f GB/s, %s matching lines%s" % (
                tool, ndom, name, dt, size / dt / 1e9,
                p.stdout.decode().strip() or p.stderr.decode()[-200:], ratio))


ERRFILE = None

if __name__ == "__main__":
    main()
