#!/bin/sh
# Time-to-detection: publish an indicator at node A, push to node B, alert at
# B on a log line written at once.  usage: bench/ttd.sh [TRIALS]  (default 100)
set -eu
BIN=${SCHAKEL_BIN:-build/schakel}
case "$BIN" in /*) ;; *) BIN="$(pwd)/$BIN" ;; esac
exec python3 "$(dirname "$0")/ttd_bench.py" "$BIN" "${1:-100}"
