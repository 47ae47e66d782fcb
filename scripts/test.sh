#!/bin/sh
# The one test command: install what is missing, build, and run every test
# (unit tests with Criterion and integration tests against the real binary)
# through CTest.  Extra arguments go to ctest (e.g. -R store).
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j2 "$@"
