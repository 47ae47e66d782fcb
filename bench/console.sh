#!/usr/bin/env bash
# bench/console.sh - the console's API on a node holding ATT&CK enterprise, the
# MISP threat-actor galaxy and the 1.63 M maltrail indicators: p50/p95 of every
# call the pages make, on one connection (bench/console_api.py), beside the
# TAXII objects call on the same node; and the front end's size, gzipped.
#
# usage: bench/console.sh [SCHAKEL_BIN]   (env SK_SHARED = ../shared;
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
trap 'kill $SRV 2>/dev/null || true; rm -rf "$TMP"' EXIT
DB=${SK_BENCH_DB:-$TMP/node.db}
if [ ! -f "$DB" ]; then
	"$BIN" --db "$DB" init --name "Console bench" >/dev/null
	t0=$(date +%s.%N)
	"$BIN" --db "$DB" collection add attack --alias attack --public --default-tlp clear >/dev/null
	"$BIN" --db "$DB" import --quiet --collection attack "$ATT"
	"$BIN" --db "$DB" galaxy import --quiet "$GAL"
	"$BIN" --db "$DB" feed import --quiet --format maltrail --producer "maltrail" --tlp clear "$MT" || true
	echo "node built in $(echo "$(date +%s.%N) - $t0" | bc) s"
fi
"$BIN" --db "$DB" account add bench-analyst --role analyst --password bench-password-1 >/dev/null 2>&1 || true
"$BIN" --db "$DB" stats | sed -n '/^whole store/,/total/p' | tail -1
"$BIN" --db "$DB" serve --listen 127.0.0.1:0 --no-sync --no-access-log >"$TMP/out" 2>"$TMP/err" &
SRV=$!
for _ in $(seq 600); do grep -q listening "$TMP/out" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on \(http:\/\/[^/]*\)\/.*/\1/p' "$TMP/out")
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
python3 bench/console_api.py "$URL" bench-analyst bench-password-1 "${N:-50}"
# the peer path: a TAXII page of 50 techniques from the same server (anonymous, public)
python3 - "$URL" <<'PY'
import http.client, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
h = {"Accept": "application/taxii+json;version=2.1"}
path = "/api/collections/attack/objects/?limit=50&match%5Btype%5D=attack-pattern"
ts = []
for i in range(51):
    t0 = time.perf_counter()
    c.request("GET", path, headers=h)
    r = c.getresponse()
    r.read()
    ts.append((time.perf_counter() - t0) * 1000)
ts = sorted(ts[1:])
print(f"{'TAXII objects, 50 techniques (peer path)':44} {ts[len(ts)//2]:8.1f} "
      f"{ts[int(len(ts)*.95)]:8.1f} {ts[-1]:8.1f}  (status {r.status})")
PY
if [ -d web/dist ]; then
	total=0
	for f in web/dist/assets/* web/dist/index.html; do
		total=$((total + $(gzip -9c "$f" | wc -c)))
	done
	echo "front end: $total bytes gzipped ($(du -sb web/dist | cut -f1) bytes raw)"
fi
