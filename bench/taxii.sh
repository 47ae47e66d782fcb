#!/bin/bash
# TAXII server benchmark: wrk against a node holding the ATT&CK enterprise
# bundle.  Prints requests/s and p50/p99 latency for 100-object pages,
# manifest pages and single-object GETs with 1 and 64 connections, the
# objects/s of a full paged walk, and the objects/s a POST accepts.
# Usage: bench/taxii.sh [BUILD_DIR]   (needs wrk; reads ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/schakel
DATA=${SK_SHARED:-../shared}/data/stix/enterprise-attack-18.1.stix20.json
DUR=${DURATION:-10}
[ -f "$DATA" ] || { echo "skip: $DATA not found"; exit 77; }
command -v wrk >/dev/null || { echo "skip: wrk not installed (apt-get install wrk)"; exit 77; }
dir=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
export SCHAKEL_DB=$dir/node.db
$BIN init --name "bench node" >/dev/null
# ATT&CK is public: the node imports it from a file (no --from), so its unmarked
# objects take this collection's default, and a file's others' AMBER would never leave
cid=$($BIN collection add attack --alias attack --default-tlp clear | awk '{print $1}')
pid=$($BIN collection add inbox --alias inbox | awk '{print $1}')
$BIN import --quiet --collection attack "$DATA"
$BIN partner add Bench >/dev/null
$BIN account add bench --partner Bench --password bench-pass 2>/dev/null
$BIN collection grant Bench attack --read --amber
$BIN collection grant Bench inbox --read --write --amber
tok=$($BIN token create bench 2>/dev/null)
$BIN serve --listen 127.0.0.1:0 --threads "$(nproc)" --no-access-log >"$dir/url" 2>"$dir/err" &
srv=$!
for _ in $(seq 50); do [ -s "$dir/url" ] && break; sleep 0.1; done
url=$(sed 's|listening on ||; s|/taxii2/||' "$dir/url")
cat >"$dir/auth.lua" <<LUA
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
wrk.headers["Authorization"] = "Bearer $tok"
LUA
oid=$(sqlite3 "$SCHAKEL_DB" "SELECT id FROM objects WHERE type='attack-pattern' LIMIT 1")
echo "node: $(sqlite3 "$SCHAKEL_DB" "SELECT COUNT(*) FROM collection_objects WHERE coll=(SELECT cid FROM collections WHERE uuid='$cid')") object versions; $(nproc) cores; wrk ${DUR}s per run"
run() { # name path conns threads
	local out
	out=$(wrk -t"$4" -c"$3" -d"${DUR}s" --latency -s "$dir/auth.lua" "$url$2")
	printf '%-22s %3s conn  %10s req/s  p50 %-9s p99 %-9s non-2xx %s\n' "$1" "$3" \
		"$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" \
		"$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)"
}
for c in 1 64; do
	t=$([ "$c" = 1 ] && echo 1 || echo 2)
	run "objects limit=100" "/api/collections/$cid/objects/?limit=100" "$c" "$t"
	run "manifest limit=100" "/api/collections/$cid/manifest/?limit=100" "$c" "$t"
	run "single object" "/api/collections/$cid/objects/$oid/" "$c" "$t"
done
python3 bench/taxii_walk.py walk "$url/api/collections/$cid/objects/" "Bearer $tok" 1000
python3 bench/taxii_walk.py post "$url/api/collections/$pid/objects/" "Bearer $tok" "$DATA" 5000
