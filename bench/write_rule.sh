#!/bin/bash
# The cost of the write rule (issue 10): POST and pull throughput of two
# builds in the same run, alternated, with the ratio after/before.
#
#   bench/write_rule.sh BEFORE_BUILD AFTER_BUILD [N] [ROUNDS]
#
# BEFORE_BUILD is a build of the commit before the rule (e.g. a worktree of
# 4d954d9 built into build-before), AFTER_BUILD the current one.  For each
# build and round: `bench/sync.sh N` (B pulls N indicators from A in pages
# of 10,000; its `seconds` figure) and a TAXII POST of N indicators in
# envelopes of 1,000 (bench/taxii_walk.py post; objects/s).  Prints each
# figure with the load average and the medians' ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:?before build dir}
AFTER=${2:?after build dir}
N=${3:-100000}
ROUNDS=${4:-3}
dir=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

pull() { # BIN -> objects/s of the pull
	SYNC_PRODUCER=identity--5e1f3c2a-0b4d-4e6f-8a9b-1c2d3e4f5a6b SCHAKEL_BIN=$1 \
		bench/sync.sh "$N" 10000 2>&1 |
		awk -v n="$N" '/seconds/ && !s {for (i = 1; i < NF; i++) if ($i == "seconds") s = $(i + 1)}
			END {printf "%.0f\n", n / s}'
}

post() { # BIN -> objects/s of the POST
	local bin=$1 db=$dir/post.db url tok
	rm -f "$db"*
	"$bin" --db "$db" init --name "bench node" >/dev/null
	"$bin" --db "$db" collection add inbox --alias inbox >/dev/null
	"$bin" --db "$db" partner add Bench >/dev/null
	"$bin" --db "$db" account add bench --partner Bench --password bench-pass >/dev/null 2>&1
	"$bin" --db "$db" collection grant Bench inbox --read --write >/dev/null
	tok=$("$bin" --db "$db" token create bench 2>/dev/null)
	"$bin" --db "$db" serve --listen 127.0.0.1:0 --no-sync --no-access-log \
		>"$dir/url" 2>"$dir/err" &
	srv=$!
	for _ in $(seq 100); do [ -s "$dir/url" ] && break; sleep 0.1; done
	url=$(sed 's|listening on ||; s|/taxii2/||' "$dir/url")
	python3 bench/taxii_walk.py post "$url/api/collections/inbox/objects/" "Bearer $tok" \
		"$dir/in.json" 1000 | awk '{gsub(",", "", $(NF-4)); print $(NF-4)}'
	kill "$srv"
	wait "$srv" 2>/dev/null || true
	srv=
}

# a partner's indicators (its identity as producer), as a partner would POST them
python3 bench/gen_indicators.py "$N" "identity--5e1f3c2a-0b4d-4e6f-8a9b-1c2d3e4f5a6b" >"$dir/in.json"
declare -A res
for r in $(seq "$ROUNDS"); do
	for side in before after; do
		bin=$([ $side = before ] && echo "$BEFORE" || echo "$AFTER")/schakel
		p=$(pull "$bin")
		q=$(post "$bin")
		res[$side,pull]+="$p "
		res[$side,post]+="$q "
		printf 'round %d %-6s pull %8s obj/s  post %8s obj/s  (load %s)\n' "$r" "$side" "$p" \
			"$q" "$(cut -d' ' -f1-3 /proc/loadavg)"
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for what in pull post; do
	b=$(median <<<"${res[before,$what]}")
	a=$(median <<<"${res[after,$what]}")
	printf '%s: before %s obj/s, after %s obj/s (medians of %d); after/before = %s\n' \
		"$what" "$b" "$a" "$ROUNDS" "$(echo "scale=3; $a / $b" | bc)"
done
