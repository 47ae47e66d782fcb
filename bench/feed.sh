#!/bin/sh
# bench/feed.sh - throughput of the plain-feed importer (maltrail, 1.85 M rows)
# and of the MISP warning-list import, with zcat | wc -l as a floor; then what
# the warning lists cost `warninglist check` and `scan` (compiling every
# indicator against an empty log, with and without the lists).
#
# usage: bench/feed.sh [SCHAKEL_BIN]   (env SK_SHARED = ../shared by default)
# Prints rows/s, MB/s (uncompressed input) and peak RSS of each step.
set -eu

BIN=${1:-${SCHAKEL_BIN:-build/schakel}}
SHARED=${SK_SHARED:-../shared}
MT=$SHARED/data/feeds/maltrail/maltrail_static.tsv.gz
WL=$SHARED/data/feeds/misp-warninglists
[ -f "$MT" ] || { echo "no $MT (set SK_SHARED)"; exit 77; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (GNU time)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
db=$tmp/bench.db

rows=$(zcat "$MT" | LC_ALL=C wc -l)
bytes=$(zcat "$MT" | wc -c)

# time_it LABEL CMD...: run, print wall seconds, rows/s, MB/s and peak RSS
time_it() {
	label=$1
	shift
	/usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || true
	read -r secs rss <<EOF2
$(tail -1 "$tmp/time")
EOF2
	awk -v l="$label" -v s="$secs" -v r="$rows" -v b="$bytes" -v m="$rss" 'BEGIN {
		printf "%-34s %8.2f s %10.0f rows/s %7.1f MB/s %7.0f MB peak RSS\n",
		       l, s, r / s, b / s / 1e6, m / 1024 }'
}

echo "maltrail_static.tsv.gz: $rows lines, $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}') MB uncompressed; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
time_it "reference: zcat | LC_ALL=C wc -l" sh -c "zcat '$MT' | LC_ALL=C wc -l"
wc_s=$(tail -1 "$tmp/time" | cut -d' ' -f1)
"$BIN" --db "$db" init --name "bench node" >/dev/null
time_it "feed import (new store)" "$BIN" --db "$db" feed import --format maltrail \
	--producer Maltrail --tlp clear "$MT"
# The split: the rows are committed (usable for matching: `scan` finds them)
# first; the search index is caught up after that, in the command's tail
# phase, timed apart (a kill there leaves a resume point for the next
# read-write open).  CPU per thread: the store thread (lookups, write rule,
# inserts) against the reader thread (parse, build, validate).
awk -v wc="$wc_s" '
	/: stored and committed in/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "in" && $(i - 1) == "committed") c = $(i + 1)
			if ($i == "versions" && $(i + 1) == "in") { n = $(i - 1); y = $(i + 2) }
		}
		printf "  import committed (usable for matching) after %.2f s (%.0fx zcat | wc -l); background work (search index, %s versions) %.2f s\n", c, c / wc, n, y
	}
	/: CPU until committed:/ { sub(/^[^:]*: /, "  "); print }' "$tmp/err"
time_it "feed import again (all duplicate)" "$BIN" --db "$db" feed import --quiet \
	--format maltrail --producer Maltrail --tlp clear "$MT"
time_it "feed import --check (no store)" "$BIN" --db "$db" feed import --check --quiet \
	--format maltrail --producer Maltrail --tlp clear "$MT"
echo "store size: $(du -m "$db" | cut -f1) MB"

if [ -d "$WL" ]; then
	wlbytes=$(cat "$WL"/*/list.json | wc -c)
	/usr/bin/time -f "%e %M" -o "$tmp/time" "$BIN" --db "$db" warninglist import --quiet \
		"$WL" 2>"$tmp/err" >/dev/null || true
	read -r secs rss <<EOF2
$(tail -1 "$tmp/time")
EOF2
	summary=$(tail -1 "$tmp/err")
	entries=$(echo "$summary" | sed -n 's/.*; \([0-9]*\) entries.*/\1/p')
	awk -v s="$secs" -v e="$entries" -v b="$wlbytes" -v m="$rss" -v sum="$summary" 'BEGIN {
		printf "%-34s %8.2f s %10.0f entries/s %5.1f MB/s %5.0f MB peak RSS (%s)\n",
		       "warninglist import", s, e / s, b / s / 1e6, m / 1024, sum }'
	/usr/bin/time -f "%e %M" -o "$tmp/time" "$BIN" --db "$db" warninglist check 8.8.8.8 \
		>/dev/null 2>&1 || true
	read -r secs rss <<EOF2
$(tail -1 "$tmp/time")
EOF2
	printf "%-34s %8.2f s (%s entries loaded into the lookup set) %5.0f MB peak RSS\n" \
		"warninglist check (load + match)" "$secs" "$entries" "$(echo "$rss/1024" | bc)"
	# what the lists cost `scan`: compile every indicator (empty log), with and without
	: >"$tmp/empty.log"
	for opt in "" --no-warninglists; do
		/usr/bin/time -f "%e %U" -o "$tmp/time" "$BIN" --db "$db" scan --no-sightings \
			--no-cache --format text $opt "$tmp/empty.log" >/dev/null 2>"$tmp/err" || true
		read -r secs user <<EOF2
$(tail -1 "$tmp/time")
EOF2
		printf "%-34s %8.2f s compile %8.2f s wall %6.2f s user (%s suppressed)\n" \
			"scan, empty log${opt:+ $opt}" \
			"$(sed -n 's/.*compiled in \([0-9.]*\) s.*/\1/p' "$tmp/err")" "$secs" "$user" \
			"$(sed -n 's/.*, \([0-9]*\) on warning lists.*/\1/p' "$tmp/err")"
	done
fi
