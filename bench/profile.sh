#!/bin/sh
# profile.sh - callgrind profile of one import into a fresh node (see bench/README.md).
# Builds nothing: uses $SCHAKEL_BIN or build/schakel.  Usage:
#   bench/profile.sh [FILE] [TOP]
# FILE defaults to the ATT&CK ICS bundle in ../shared (3.5 MB), TOP to 15.
# Prints callgrind_annotate's top TOP functions by exclusive instruction count,
# then by inclusive count; keeps the raw profile in $BENCH_DIR (default
# /tmp/schakel-bench) as callgrind.out for kcachegrind/callgrind_annotate.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${SCHAKEL_BIN:-$root/build/schakel}
shared=${SK_SHARED:-$root/../shared}
file=${1:-$shared/data/stix/ics-attack-18.1.json}
top=${2:-15}
dir=${BENCH_DIR:-/tmp/schakel-bench}

[ -x "$bin" ] || { echo "profile: no schakel binary at $bin (build first or set SCHAKEL_BIN)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "profile: valgrind not installed (apt-get install valgrind)" >&2; exit 2; }
[ -f "$file" ] || { echo "profile: SKIP: $file not found"; exit 77; }

mkdir -p "$dir"
db="$dir/profile.db"
rm -f "$db" "$db-wal" "$db-shm"
trap 'rm -f "$db" "$db-wal" "$db-shm"' EXIT
"$bin" --db "$db" init --name profile >/dev/null
valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
	"$bin" --db "$db" import --quiet "$file" 2>"$dir/callgrind.log" ||
	{ tail -20 "$dir/callgrind.log" >&2; exit 1; }
grep 'Collected' "$dir/callgrind.log" | sed 's/^==[0-9]*== /instructions /'
# Body rows of callgrind_annotate's function table start with a count; the
# first one is PROGRAM TOTALS.
echo "== top $top by exclusive Ir =="
callgrind_annotate "$dir/callgrind.out" | grep -E '^ *[0-9,]+ \(' | sed -n "2,$((top + 1))p"
echo "== top $top by inclusive Ir =="
# (minus the startup frames above cmd_import and rows repeated without their object)
callgrind_annotate --inclusive=yes "$dir/callgrind.out" | grep -E '^ *[0-9,]+ \(.*\]$' |
	grep -vE 'below main|libc_start|ld-linux|cli/main\.c:main' | sed -n "1,${top}p"
echo "raw profile: $dir/callgrind.out"
