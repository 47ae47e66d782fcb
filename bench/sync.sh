#!/bin/sh
# Replicate N indicators from node A to node B over TAXII 2.1 on loopback and
# time B's pull, then a no-op incremental sync.  usage: bench/sync.sh [N] [PAGE]
set -eu
N=${1:-1000000}
PAGE=${2:-10000}
BIN=${SCHAKEL_BIN:-build/schakel}
D=$(mktemp -d)
trap 'kill $APID 2>/dev/null || true; rm -rf "$D"' EXIT
"$BIN" --db "$D/a.db" init --name A >/dev/null
"$BIN" --db "$D/b.db" init --name B >/dev/null
AID=$("$BIN" --db "$D/a.db" stats | sed -n 's/.*\[\(.*\)\].*/\1/p')
BID=$("$BIN" --db "$D/b.db" stats | sed -n 's/.*\[\(.*\)\].*/\1/p')
"$BIN" --db "$D/a.db" collection add share --alias share >/dev/null
"$BIN" --db "$D/b.db" collection add inbox >/dev/null
"$BIN" --db "$D/a.db" partner add B --identity "$BID" >/dev/null
"$BIN" --db "$D/a.db" account add b --partner B --password pw-b >/dev/null
"$BIN" --db "$D/a.db" collection grant B share --read >/dev/null
TOK=$("$BIN" --db "$D/a.db" token create b)
# SYNC_PRODUCER: another producer than A (nothing signed; bench/write_rule.sh)
python3 "$(dirname "$0")/gen_indicators.py" "$N" "${SYNC_PRODUCER:-$AID}" > "$D/in.json"
t0=$(date +%s.%N)
"$BIN" --db "$D/a.db" import --quiet --collection share "$D/in.json"
t1=$(date +%s.%N)
echo "import into A: $N in $(echo "$t1 - $t0" | bc) s"
"$BIN" --db "$D/a.db" serve --listen 127.0.0.1:0 --no-sync --no-access-log \
  --page-size "$PAGE" > "$D/url" 2>"$D/a.log" &
APID=$!
while [ ! -s "$D/url" ]; do sleep 0.05; done
URL=$(sed 's|listening on ||; s|/taxii2/||' "$D/url")
echo "$TOK" | "$BIN" --db "$D/b.db" peer add A "$URL/" --api-root /api/ --collection share \
  --auth token --secret-stdin --identity "$AID" --local-collection inbox --pull 2>/dev/null
echo "pull (B from A, page $PAGE; load: $(cut -d' ' -f1-3 /proc/loadavg)):"
# the puller's CPU time (all its threads) when GNU time is there: less noisy than wall time
TIME=
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f cpu_%Us_user_%Ss_sys_%MKB_maxrss"
SCHAKEL_SYNC_PAGE=$PAGE $TIME "$BIN" --db "$D/b.db" peer sync A
echo "no-op incremental syncs:"
for i in 1 2 3 4 5; do SCHAKEL_SYNC_PAGE=$PAGE "$BIN" --db "$D/b.db" peer sync A; done
