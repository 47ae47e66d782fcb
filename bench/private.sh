#!/bin/sh
# private.sh - the cost of matching personal data without revealing it
# (docs/private-matching.md).  Prints, in one run:
#   1. per core: e-mail values normalised + HMAC-SHA-256 + looked up per second
#      for 1, 2 and 4 held keys, and Bloom-filter lookups per second (private_bench);
#   2. end to end: `schakel scan --format text` of LINES log lines (each with one
#      e-mail address, 1 in 100 of them leaked) against one hashed indicator of
#      VALUES addresses, on 1 thread, and the same plain addresses through
#      `LC_ALL=C grep -F -f` on the same log as the reference ratio (grep sees
#      the addresses in clear: that is what the hashing costs), and the same scan
#      without the key as the reader's own share.
#
#   bench/private.sh [build-dir]     (default: build-bench, Release)
#   LINES=1000000 VALUES=10000 bench/private.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-bench}
lines=${LINES:-1000000}
values=${VALUES:-10000}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSK_TESTS=OFF -DSK_UI=OFF >/dev/null
cmake --build "$build" --target private_bench schakel-cli -j2 >/dev/null
"$build/private_bench"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SCHAKEL_DB="$tmp/n.db"
sk="$build/schakel"
"$sk" init --name "bench" >/dev/null
"$sk" collection add leak >/dev/null
"$sk" hashkey create leak >/dev/null
awk -v n="$values" 'BEGIN { for (i = 0; i < n; i++) printf "person%d@example.org\n", i }' \
	>"$tmp/values.txt"
"$sk" indicator hash --collection leak --type email --input "$tmp/values.txt" 2>/dev/null >/dev/null
awk -v n="$lines" -v v="$values" 'BEGIN {
	for (i = 0; i < n; i++) {
		if (i % 100 == 0) a = sprintf("person%d@example.org", (i / 100) % v);
		else a = sprintf("visitor%d@example.net", i);
		printf "2026-12-07T10:%02d:%02dZ webmail: login for %s from 198.51.100.%d\n", (i / 60) % 60, i % 60, a, i % 250
	}
}' >"$tmp/log.txt"
bytes=$(wc -c <"$tmp/log.txt")
t0=$(date +%s.%N)
hits=$("$sk" scan --format text --no-sightings --no-cache --threads 1 --quiet "$tmp/log.txt" | wc -l)
t1=$(date +%s.%N)
LC_ALL=C grep -F -c -f "$tmp/values.txt" "$tmp/log.txt" >"$tmp/grep.n" || true
t2=$(date +%s.%N)
mv "$SCHAKEL_DB.hashkeys" "$tmp/keys.away"
"$sk" scan --format text --no-sightings --no-cache --threads 1 --quiet "$tmp/log.txt" 2>/dev/null | wc -l >/dev/null
t3=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v by="$bytes" -v l="$lines" -v h="$hits" \
	-v g="$(cat "$tmp/grep.n")" -v d="$t3" 'BEGIN {
	s = b - a; r = c - b; u = d - c
	printf "scan, hashed: %d lines (%.1f MB), %d hits in %.2f s wall, 1 thread: %.0f lines/s, %.1f MB/s\n", l, by / 1e6, h, s, l / s, by / s / 1e6
	printf "scan, same log without the key (reader and the rest alone): %.2f s; hashing and lookup: %.2f s, %.2f µs per address\n", u, s - u, (s - u) / l * 1e6
	printf "grep -F -f, plain addresses: %d matching lines in %.2f s (schakel/grep time ratio %.1f)\n", g, r, s / r
}'
