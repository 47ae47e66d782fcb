#!/bin/sh
# import.sh - run the import benchmark (bench/import_bench.py; see bench/README.md).
# Builds nothing: uses $SCHAKEL_BIN or build/schakel.  Arguments are passed on
# (--big adds the 1 GB bundle; --help lists the rest).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/import_bench.py" "$@"
