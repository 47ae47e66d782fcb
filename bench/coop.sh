#!/bin/sh
# coop.sh - the cooperation report over a simulated year (bench/coop_bench.py;
# figures in bench/README-coop.md).  Builds the exits helper (coop_audit_bench)
# in BUILD_DIR (default build) and uses BUILD_DIR/schakel.  Further arguments go
# to coop_bench.py (--versions, --sightings, --partners, --rounds, --keep DIR).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
cmake --build "$build" --target schakel-cli coop_audit_bench -j2 >/dev/null
exec python3 "$here/coop_bench.py" --bin "$build/schakel" "$@"
