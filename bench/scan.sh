#!/bin/sh
# scan.sh - `schakel scan` with the 1.85 M maltrail indicators over Zeek DNS
# TSV and Suricata EVE logs replayed to 1 GB each (--quick: 256 MB): steady
# GB/s per core, start-up (compile against the matcher cache), end-to-end
# wall time, with `LC_ALL=C grep -F -f` and `rg -F -f` over the same input
# as the references.  Prints only.
#
#   bench/scan.sh [--quick] [--keep] [--threads 1,2] [--mb N] [--db STORE]
#   env: BENCH_DIR (default /tmp/schakel-bench; a fresh subdirectory of it is
#        used and removed at the end),
#        BUILD (default build-bench, Release), SK_SHARED (default ../shared)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build-bench}
shared=${SK_SHARED:-$here/../shared}/data
if [ ! -d "$shared/feeds/maltrail" ] || [ ! -d "$shared/logs" ]; then
	echo "scan.sh: $shared is absent: nothing to measure" >&2
	exit 77
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSK_TESTS=OFF >/dev/null
cmake --build "$build" --target schakel-cli -j2 >/dev/null
echo "# commit $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo ' (dirty)')"
exec python3 "$here/bench/scan_bench.py" --bin "$build/schakel" --shared "$shared" "$@"
