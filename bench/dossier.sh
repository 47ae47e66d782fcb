#!/usr/bin/env bash
# bench/dossier.sh - building the APT28 attribution dossier (docs/dossier.md)
# on a node holding ATT&CK enterprise, the MISP threat-actor galaxy and the
# 1.63 M maltrail indicators: p50 and max wall time of `dossier build` as
# JSON, HTML and signed STIX, and of the releasable version for a partner
# (--for, audited).  Target: under 1 s.  No peer tool builds attribution
# dossiers (MISP and OpenCTI have no equivalent), so no ratio is printed.
#
# usage: bench/dossier.sh [SCHAKEL_BIN]   (env SK_SHARED = ../shared; N = runs;
#        SK_BENCH_DB = a node made before, to skip the import)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/schakel}
SHARED=${SK_SHARED:-../shared}
MT=$SHARED/data/feeds/maltrail/maltrail_static.tsv.gz
ATT=$SHARED/data/stix/enterprise-attack-18.1.stix20.json
GAL=$SHARED/data/galaxies/threat-actor.json
for f in "$MT" "$ATT" "$GAL"; do [ -f "$f" ] || { echo "no $f (set SK_SHARED)"; exit 77; }; done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DB=${SK_BENCH_DB:-$TMP/node.db}
if [ ! -f "$DB" ]; then
	"$BIN" --db "$DB" init --name "Dossier bench" >/dev/null
	t0=$(date +%s.%N)
	"$BIN" --db "$DB" collection add attack --public --default-tlp clear >/dev/null
	"$BIN" --db "$DB" import --quiet --collection attack "$ATT"
	"$BIN" --db "$DB" galaxy import --quiet "$GAL"
	"$BIN" --db "$DB" feed import --quiet --format maltrail --producer "maltrail" --tlp clear "$MT" || true
	echo "node built in $(echo "$(date +%s.%N) - $t0" | bc) s"
fi
"$BIN" --db "$DB" partner add bench-partner >/dev/null 2>&1 || true
"$BIN" --db "$DB" collection grant bench-partner attack --read
"$BIN" --db "$DB" collection grant bench-partner galaxies --read
"$BIN" --db "$DB" stats | sed -n '/^whole store/,/total/p' | tail -1
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
N=${N:-10}
run() { # label, args...
	local label=$1
	shift
	python3 - "$N" "$label" "$BIN" --db "$DB" dossier build APT28 "$@" --output "$TMP/out" <<'PY'
import resource, subprocess, sys, time
n, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
ts, cpu = [], []
for _ in range(n + 1):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    ts.append(time.perf_counter() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
ts, cpu = sorted(ts[1:]), sorted(cpu[1:])
print(f"{label:38} wall p50 {ts[len(ts)//2]*1000:7.1f} ms  max {ts[-1]*1000:7.1f} ms"
      f"  cpu p50 {cpu[len(cpu)//2]*1000:7.1f} ms")
PY
	echo "    output $(stat -c %s "$TMP/out") bytes"
}
run "APT28 dossier, JSON" --format json
run "APT28 dossier, HTML" --format html
run "APT28 dossier, signed STIX bundle" --format stix
run "APT28 releasable version (--for)" --format json --for bench-partner
"$BIN" --db "$DB" dossier build APT28 | python3 -c '
import json, sys
d = json.load(sys.stdin)
a = d["activity"]
print("APT28: %d techniques, %d campaigns, %d malware, %d tools, %d indicators (%d sighted); "
      "attribution %s, confidence %s; cut: %s" % (a["techniques"]["count"],
      a["counts"]["campaigns"], a["counts"]["malware"], a["counts"]["tools"],
      d["impact"]["indicators"], d["impact"]["indicators_sighted"], d["attribution"]["result"],
      d["attribution"]["confidence"], ", ".join(c["list"] for c in d["limits"]["cut"]) or "none"))'
