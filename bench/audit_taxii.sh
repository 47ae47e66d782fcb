#!/bin/bash
# The audit log's cost on TAXII reads: wrk against a node holding the ATT&CK
# enterprise bundle (as bench/taxii.sh), each request type measured with the
# log off and on (node setting audit.enabled, which a running server reads
# per request) in the same run, alternating off/on ROUNDS times so that
# drift on a shared machine falls on both.  Prints req/s and p99 per mode,
# the on/off ratio, and checks that the log verifies afterwards.
# Usage: bench/audit_taxii.sh [BUILD_DIR]   (needs wrk; reads ../shared/data)
#        DURATION=S (default 5) per run, ROUNDS=N (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/schakel
DATA=${SK_SHARED:-../shared}/data/stix/enterprise-attack-18.1.stix20.json
DUR=${DURATION:-5}
ROUNDS=${ROUNDS:-2}
[ -f "$DATA" ] || { echo "skip: $DATA not found"; exit 77; }
command -v wrk >/dev/null || { echo "skip: wrk not installed (apt-get install wrk)"; exit 77; }
dir=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
export SCHAKEL_DB=$dir/node.db
$BIN init --name "bench node" >/dev/null
cid=$($BIN collection add attack --alias attack --default-tlp clear | awk '{print $1}')
$BIN import --quiet --collection attack "$DATA"
$BIN partner add Bench >/dev/null
$BIN account add bench --partner Bench --password bench-pass 2>/dev/null
$BIN collection grant Bench attack --read --amber
tok=$($BIN token create bench 2>/dev/null)
$BIN serve --listen 127.0.0.1:0 --threads "$(nproc)" --no-access-log --no-sync \
	>"$dir/url" 2>"$dir/err" &
srv=$!
for _ in $(seq 50); do [ -s "$dir/url" ] && break; sleep 0.1; done
url=$(sed 's|listening on ||; s|/taxii2/||' "$dir/url")
cat >"$dir/auth.lua" <<LUA
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
wrk.headers["Authorization"] = "Bearer $tok"
LUA
# a version the partner sees: TLP:CLEAR (the bundle's AMBER ones came from an unnamed file)
oid=$(sqlite3 "$SCHAKEL_DB" "SELECT id FROM objects WHERE type='attack-pattern' AND tlp=0 LIMIT 1")
echo "$(nproc) cores; wrk ${DUR}s per run, $ROUNDS rounds of off/on"

rate() { # path conns threads -> "req/s p99"
	local out
	out=$(wrk -t"$3" -c"$2" -d"${DUR}s" --latency -s "$dir/auth.lua" "$url$1")
	if grep -q Non-2xx <<<"$out"; then echo "non-2xx answers: $out" >&2; exit 1; fi
	echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}

bench() { # name path conns threads
	local off=0 on=0 r p99off="" p99on=""
	for _ in $(seq "$ROUNDS"); do
		$BIN config set audit.enabled false
		r=$(rate "$2" "$3" "$4"); off=$(echo "$off + ${r% *}" | bc); p99off="$p99off ${r#* }"
		$BIN config set audit.enabled true
		r=$(rate "$2" "$3" "$4"); on=$(echo "$on + ${r% *}" | bc); p99on="$p99on ${r#* }"
	done
	printf '%-20s %3s conn  off %9.1f req/s (p99%s)  on %9.1f req/s (p99%s)  on/off %.3f\n' \
		"$1" "$3" "$(echo "$off / $ROUNDS" | bc -l)" "$p99off" "$(echo "$on / $ROUNDS" | bc -l)" \
		"$p99on" "$(echo "$on / $off" | bc -l)"
}

for c in 1 64; do
	t=$([ "$c" = 1 ] && echo 1 || echo 2)
	bench "objects limit=100" "/api/collections/$cid/objects/?limit=100" "$c" "$t"
	bench "manifest limit=100" "/api/collections/$cid/manifest/?limit=100" "$c" "$t"
	bench "single object" "/api/collections/$cid/objects/$oid/" "$c" "$t"
done
n=$(sqlite3 "$SCHAKEL_DB" "SELECT count(*) FROM audit")
kill "$srv"; wait "$srv" 2>/dev/null || true; srv=
echo "audit entries written: $n; database $(du -h "$SCHAKEL_DB" | cut -f1)"
$BIN audit verify --no-checkpoint | head -1
