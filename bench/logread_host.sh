#!/bin/sh
# logread_host.sh - throughput of the host log readers (ECS, osquery,
# auditd).  No public host logs of this size ship with the project, so the
# inputs are the project's fixtures (tests/fixtures/logs, broken lines
# included) replayed in memory to at least 256 MB (MB=...); the auditd
# events keep their serials, so consecutive copies of an event merge, which
# changes the record count but not the work per byte.
#
#   bench/logread_host.sh [build-dir]        (default: build-bench, Release)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-bench}
mb=${MB:-256}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSK_TESTS=OFF -DSK_UI=OFF >/dev/null
cmake --build "$build" --target logread_bench -j2 >/dev/null
for f in ecs:ecs.json osquery:osquery.log auditd:audit.log; do
	printf '%-14s ' "${f#*:}"
	"$build/logread_bench" -f "${f%%:*}" -m "$mb" "$here/tests/fixtures/logs/${f#*:}"
done
