#!/usr/bin/env python3
"""watch_start_bench - start-up of `schakel scan` and `schakel serve --watch`
against the matcher cache (docs/matcher.md, "The matcher cache").

On a copy of a large store (--db, e.g. the 1.63 M-indicator maltrail store;
never modified: it is copied into a fresh directory under $BENCH_DIR, default
/tmp/schakel-bench, removed at the end unless --keep):
  1. scan of a one-line log: full build (--no-cache), the build that writes
     the cache, and loads of the cache (best of 3);
  2. --delta N new indicators imported (default 1000): the scan that loads the
     base and compiles only those (best of 3), against a full build;
  3. serve --watch: process start to the "indicators live" line (the watcher
     is ready) with the cache (base + the same delta) and with no cache
     (a full build); the watcher's own figure too.
All with --no-warninglists, as bench/scan.sh.  Prints only; never fails on
numbers.  Python 3 stdlib.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

NS = uuid.UUID("5d7e3c2a-8f41-4c55-9b6e-77617463680a")


CPU = {}


def run(argv):
    """(wall s, stderr, returncode); the child's CPU seconds (user + sys) in CPU["last"]."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    CPU["last"] = ru.ru_utime + ru.ru_stime
    return time.monotonic() - t0, err.decode(errors="replace"), p.returncode


def proc_cpu(pid):
    """CPU seconds (user + sys) of a running process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan(a, db, log, *extra):
    wall, err, rc = run([a.bin, "--db", db, "scan", "--no-sightings", "--no-warninglists",
                         "--format", "text"] + list(extra) + [log])
    if rc:
        sys.exit("scan failed: " + err[-800:])
    m = re.search(r"(\d+) indicators compiled in ([0-9.]+) s", err)
    return wall, int(m.group(1)) if m else 0, err, CPU["last"]


def best(n, fn):
    rows = [fn() for _ in range(n)]
    return min(rows, key=lambda r: r[0])


def watch_start(a, db, log, d):
    """(wall seconds to the ready line, the watcher's own ms, its stderr, CPU s by then)."""
    errp = os.path.join(d, "serve.err")
    with open(errp, "w") as ef:
        t0 = time.monotonic()
        p = subprocess.Popen([a.bin, "--db", db, "serve", "--listen", "127.0.0.1:0",
                              "--no-access-log", "--no-sync", "--watch", log, "--watch-format",
                              "text", "--no-warninglists", "--no-sightings",
                              "--no-alerts-stdout"], stdout=subprocess.DEVNULL, stderr=ef)
        wall, own, text, cpu = None, None, "", 0.0
        while wall is None and p.poll() is None and time.monotonic() - t0 < 600:
            with open(errp, errors="replace") as f:
                text = f.read()
            m = re.search(r"indicators live in ([0-9.]+) ms", text)
            if m:
                wall, own = time.monotonic() - t0, float(m.group(1))
                cpu = proc_cpu(p.pid)
                break
            time.sleep(0.005)
        p.terminate()
        p.wait(timeout=600)
    with open(errp, errors="replace") as f:
        text = f.read()
    if wall is None:
        sys.exit("serve --watch did not get ready: " + text[-800:])
    return wall, own, text, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--db", required=True, help="a store to copy (left as it is)")
    ap.add_argument("--delta", type=int, default=1000)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(a.db):
        print("watch_start_bench: %s is absent: nothing to measure" % a.db, file=sys.stderr)
        sys.exit(77)
    root = os.environ.get("BENCH_DIR", "/tmp/schakel-bench")
    os.makedirs(root, exist_ok=True)
    size = os.path.getsize(a.db)
    free = shutil.disk_usage(root).free
    if free < size * 1.2 + (2 << 30):
        sys.exit("watch_start_bench: %.1f GB free under %s, %.1f GB needed"
                 % (free / 1e9, root, (size * 1.2 + (2 << 30)) / 1e9))
    d = tempfile.mkdtemp(prefix="watch-start-", dir=root)
    try:
        db = os.path.join(d, "store.db")
        shutil.copyfile(a.db, db)
        os.chmod(db, 0o600)
        log = os.path.join(d, "one.log")
        with open(log, "w") as f:
            f.write("2024-05-01T10:00:00Z startup 192.0.2.1\n")
        print("# store %s (%.1f GB), copied to %s" % (a.db, size / 1e9, d))

        full = scan(a, db, log, "--no-cache")
        write = scan(a, db, log)
        load = best(3, lambda: scan(a, db, log))
        print("# load average %.1f (wall times on a shared machine: CPU is the steadier figure)"
              % os.getloadavg()[0])
        print("scan start-up (a one-line log, --no-warninglists), %d indicators:" % load[1])
        print("  full build (--no-cache)          %7.3f s wall %7.3f s CPU" % (full[0], full[3]))
        print("  full build, writing the cache    %7.3f s wall %7.3f s CPU" % (write[0], write[3]))
        print("  cache load (best of 3)           %7.3f s wall %7.3f s CPU (%s)" % (
            load[0], load[3],
            "loaded" if "loaded from the matcher cache" in load[2] else "NOT LOADED"))
        print("  full build / cache load          %7.0fx wall %7.0fx CPU" % (
            full[0] / load[0], full[3] / max(load[3], 1e-3)))

        objs = [{"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--%s" % uuid.uuid5(NS, str(i)),
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "name": "bench delta %d" % i, "pattern_type": "stix",
                 "pattern": "[domain-name:value = 'delta-%d.bench.example']" % i,
                 "valid_from": "2024-01-01T00:00:00Z"} for i in range(a.delta)]
        bundle = os.path.join(d, "delta.json")
        with open(bundle, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, f)
        wall, err, rc = run([a.bin, "--db", db, "import", bundle])
        if rc:
            sys.exit("import failed: " + err[-800:])
        delta = best(3, lambda: scan(a, db, log))
        fresh = scan(a, db, log, "--no-cache")
        print("scan start-up with %d indicators stored since the base:" % a.delta)
        print("  base + delta (best of 3)         %7.3f s wall %7.3f s CPU (%s)" % (
            delta[0], delta[3], "base + delta" if "and a delta" in delta[2] else "NO DELTA"))
        print("  full build (--no-cache)          %7.3f s wall %7.3f s CPU" % (fresh[0], fresh[3]))
        print("  full build / base + delta        %7.0fx wall %7.0fx CPU" % (
            fresh[0] / delta[0], fresh[3] / max(delta[3], 1e-3)))

        wc = [watch_start(a, db, log, d) for _ in range(2)]
        w1 = min(wc, key=lambda r: r[0])
        for suffix in (".matcher", "-nowl.matcher"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        w0 = watch_start(a, db, log, d)
        print("serve --watch start-up to ready (the \"indicators live\" line):")
        print("  cache base + %d delta (best of 2) %6.3f s wall %7.3f s CPU, %7.1f ms in the "
              "watcher (%s)" % (a.delta, w1[0], w1[3], w1[1],
                                "loaded" if "matcher loaded from" in w1[2] else "NOT LOADED"))
        print("  full build (no cache)            %7.3f s wall %7.3f s CPU, %7.1f ms in the "
              "watcher" % (w0[0], w0[3], w0[1]))
        print("  full build / cache               %7.0fx wall %7.0fx CPU" % (
            w0[0] / w1[0], w0[3] / max(w1[3], 1e-3)))
    finally:
        if a.keep:
            print("# kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
