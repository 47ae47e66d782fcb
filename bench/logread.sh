#!/bin/sh
# logread.sh - throughput of each log reader over the shared logs, replayed
# in memory to at least 256 MB (override with MB=...).  Prints one line per
# input: format, size, CPU seconds, MB/s, million records/s, counts.
#
#   bench/logread.sh [build-dir]        (default: build-bench, Release)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-bench}
shared=${SK_SHARED:-$here/../shared}/data/logs
mb=${MB:-256}
if [ ! -d "$shared" ]; then
	echo "logread.sh: $shared is absent: nothing to measure" >&2
	exit 77
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSK_TESTS=OFF >/dev/null
cmake --build "$build" --target logread_bench -j2 >/dev/null
for f in "$shared"/zeek-wrccdc2018/tsv/dns.log.gz "$shared"/zeek-wrccdc2018/tsv/ssl.log.gz \
	"$shared"/zeek-wrccdc2018/tsv/x509.log.gz "$shared"/zeek-wrccdc2018/tsv/smtp.log.gz \
	"$shared"/zeek-wrccdc2018/json/dns.json.gz "$shared"/zeek-wrccdc2018/json/ssl.json.gz \
	"$shared"/suricata-eve/eve_suricata-verify_mix.json.gz; do
	printf '%-34s ' "$(basename "$(dirname "$f")")/$(basename "$f")"
	"$build/logread_bench" -m "$mb" "$f"
done
