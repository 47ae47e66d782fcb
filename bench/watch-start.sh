#!/bin/sh
# watch-start.sh - start-up of `schakel scan` and `schakel serve --watch`
# from the matcher cache (a base plus a delta of the indicators stored since)
# against a full build, on a copy of a large store.  Prints only.
#
#   bench/watch-start.sh [--db STORE] [--delta N] [--keep]
#   env: BENCH_DB (default /work/tmp-detperf/mt-pristine.db: the 1.63 M
#        maltrail indicators; copied, never modified), BENCH_DIR (default
#        /tmp/schakel-bench), BUILD (default build-bench, Release)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build-bench}
db=${BENCH_DB:-/work/tmp-detperf/mt-pristine.db}
case "${1:-}" in --db) db=$2; shift 2 ;; esac
if [ ! -f "$db" ]; then
	echo "watch-start.sh: $db is absent: nothing to measure" >&2
	exit 77
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSK_TESTS=OFF >/dev/null
cmake --build "$build" --target schakel-cli -j2 >/dev/null
echo "# commit $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo ' (dirty)')"
exec python3 "$here/bench/watch_start_bench.py" --bin "$build/schakel" --db "$db" "$@"
