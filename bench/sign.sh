#!/bin/bash
# The cost of signatures (docs/provenance.md): import and pull of N indicators
# produced by the node itself (signed on import, verified by the puller,
# which pins the producer's key) against N indicators of another producer
# (stored as they are, nothing to verify), in the same run.
#
#   bench/sign.sh [N] [BUILD_DIR]
#
# Prints objects/s for each and the ratios signed/unsigned.  libsodium alone
# does about 55k signatures and 20k verifications per second per core here.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BIN=${2:-build}/schakel
D=$(mktemp -d)
APID=
trap '[ -n "$APID" ] && kill "$APID" 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
now() { date +%s.%N; }
rate() { echo "scale=0; $N / ($2 - $1)" | bc; }

run() { # signed|unsigned -> "import_rate pull_rate"
	local kind=$1 a=$D/$1-a.db b=$D/$1-b.db aid bid tok url key t0 t1 t2
	"$BIN" --db "$a" init --name A >/dev/null
	"$BIN" --db "$b" init --name B >/dev/null
	aid=$("$BIN" --db "$a" stats | sed -n 's/.*\[\(.*\)\].*/\1/p')
	bid=$("$BIN" --db "$b" stats | sed -n 's/.*\[\(.*\)\].*/\1/p')
	"$BIN" --db "$a" collection add share --alias share --default-tlp green >/dev/null
	"$BIN" --db "$b" collection add inbox >/dev/null
	"$BIN" --db "$a" partner add B --identity "$bid" >/dev/null
	"$BIN" --db "$a" account add b --partner B --password pw-b >/dev/null 2>&1
	"$BIN" --db "$a" collection grant B share --read >/dev/null
	tok=$("$BIN" --db "$a" token create b 2>/dev/null)
	if [ "$kind" = signed ]; then
		python3 bench/gen_indicators.py "$N" "$aid" >"$D/in.json"
	else
		python3 bench/gen_indicators.py "$N" "identity--5e1f3c2a-0b4d-4e6f-8a9b-1c2d3e4f5a6b" \
			>"$D/in.json"
	fi
	t0=$(now)
	"$BIN" --db "$a" import --quiet --collection share "$D/in.json" 2>/dev/null
	t1=$(now)
	rm -f "$D/url"
	"$BIN" --db "$a" serve --listen 127.0.0.1:0 --no-sync --no-access-log \
		--page-size 10000 >"$D/url" 2>"$D/a.log" &
	APID=$!
	while [ ! -s "$D/url" ]; do sleep 0.05; done
	url=$(sed 's|listening on ||; s|/taxii2/||' "$D/url")
	key=$("$BIN" --db "$a" key show | awk '/^public key/ {print $3}')
	echo "$tok" | "$BIN" --db "$b" peer add A "$url/" --api-root /api/ --collection share \
		--auth token --secret-stdin --identity "$aid" --key "$key" \
		--local-collection inbox --pull 2>/dev/null
	t2=$(now)
	SCHAKEL_SYNC_PAGE=10000 ${PERF:-} "$BIN" --db "$b" peer sync A >/dev/null
	t3=$(now)
	kill "$APID"
	wait "$APID" 2>/dev/null || true
	APID=
	if [ "$kind" = signed ]; then
		# every pulled version verified
		v=$(sqlite3 "$b" "SELECT count(*) FROM objects WHERE sig=1 AND created_by='$aid'")
		[ "$v" = "$N" ] || echo "warning: $v of $N verified" >&2
	fi
	echo "$(rate "$t0" "$t1") $(rate "$t2" "$t3")"
}

echo "N=$N indicators; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
read -r ui up < <(run unsigned)
read -r si sp < <(run signed)
printf 'import: unsigned %s obj/s, signed (signing) %s obj/s, ratio %s\n' "$ui" "$si" \
	"$(echo "scale=3; $si / $ui" | bc)"
printf 'pull:   unsigned %s obj/s, signed (verifying) %s obj/s, ratio %s\n' "$up" "$sp" \
	"$(echo "scale=3; $sp / $up" | bc)"
