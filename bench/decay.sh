#!/bin/sh
# bench/decay.sh - indicator scores and decay (docs/decay.md): what scoring
# costs on write, a full rescore, and what "still alerting?" costs on read,
# against computing every score on read as MISP does (MISP issue 6981).
#
# usage: bench/decay.sh [SCHAKEL_BIN]
#   N=200000        indicators generated (ip, domain, hash; ages up to 1 year)
#   MT_DB=FILE      also a copy of a large store (e.g. the 1.6 M maltrail store,
#                   /work/tmp-detperf/mt-pristine.db): its schema migration
#                   (scores backfilled) and a full rescore; skipped if absent
#   BASE_BIN=FILE   a schakel without scores: the feed import is timed with it
#                   too, for the cost of scoring on write
# Needs sqlite3 (the CLI, with math functions) and GNU time.
set -eu

BIN=${1:-${SCHAKEL_BIN:-build/schakel}}
N=${N:-200000}
command -v sqlite3 >/dev/null || { echo "needs sqlite3"; exit 77; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (GNU time)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# t LABEL CMD...: wall seconds of CMD into $last, its CPU seconds (user + sys)
# into $cpu, both printed with LABEL (on a shared machine CPU time is the
# steadier figure: wall time waits for the disk and for other processes)
t() {
	label=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || {
		echo "$label: failed"; cat "$tmp/err"; exit 1; }
	read -r last u sy <<EOF2
$(tail -1 "$tmp/time")
EOF2
	cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { print u + s }')
	printf "%-52s %8.2f s wall %8.2f s CPU\n" "$label" "$last" "$cpu"
}

# the feed: N entries, a third each IPv4 address, domain, SHA-256
python3 - "$N" "$tmp/feed.txt" <<'EOF'
import hashlib, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        k = i % 3
        if k == 0:
            f.write("10.%d.%d.%d\n" % (i >> 16 & 255, i >> 8 & 255, i & 255))
        elif k == 1:
            f.write("host%d.bench.example\n" % i)
        else:
            f.write(hashlib.sha256(b"%d" % i).hexdigest() + "\n")
EOF
echo "decay bench: $N indicators; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"

db=$tmp/n.db
"$BIN" --db "$db" init --name "bench" >/dev/null
"$BIN" --db "$tmp/plain.db" init --name "bench" >/dev/null
t "feed import ($N, scored on write)" "$BIN" --db "$tmp/plain.db" feed import --quiet \
	--format lines --producer bench --tlp clear "$tmp/feed.txt"
imp=$cpu
t "feed import ($N, scored, named feed: --feed)" "$BIN" --db "$db" feed import --quiet \
	--format lines --producer bench --tlp clear --feed all "$tmp/feed.txt"
impf=$cpu
if [ -n "${BASE_BIN:-}" ]; then
	"$BASE_BIN" --db "$tmp/base.db" init --name "bench" >/dev/null
	t "feed import ($N, without scores: BASE_BIN)" "$BASE_BIN" --db "$tmp/base.db" feed import \
		--quiet --format lines --producer bench --tlp clear "$tmp/feed.txt"
	awk -v a="$imp" -v f="$impf" -v b="$cpu" 'BEGIN {
		printf "%-52s %8.2f\n", "  CPU ratio scored / without", a / b
		printf "%-52s %8.2f\n", "  CPU ratio scored + named feed / without", f / b }'
fi
rm -f "$tmp/plain.db"*
# spread the ages over a year, as a real store has them (refreshed = now - U(0, 365 d))
now=$(date +%s)000000
sqlite3 "$db" "UPDATE indicators SET refreshed=$now - abs(random() % 31536000000000)"

t "rescore all: config set decay.threshold 30" "$BIN" --db "$db" config set decay.threshold 30
awk -v s="$last" -v n="$N" 'BEGIN { printf "%-52s %8.2f us\n", "  per indicator (wall)", s * 1e6 / n }'
t "rescore all: config set decay.ip.lifetime 6w" "$BIN" --db "$db" config set decay.ip.lifetime 6w
t "rescore all: config set decay.default_trust 60" "$BIN" --db "$db" config set decay.default_trust 60
awk -v s="$last" -v n="$N" 'BEGIN { printf "%-52s %8.2f us\n", "  per indicator (wall, bases too)", s * 1e6 / n }' 

# read: which indicators alert now?  indexed comparison vs computing each score
q_idx="SELECT count(*) FROM indicators WHERE alert_until > $now"
q_cmp="SELECT count(*) FROM indicators WHERE base * (1 - min(1.0, max(0.0, ($now - refreshed) * 1.0 /
  CASE kind WHEN 0 THEN 3628800e6 WHEN 1 THEN 15552000e6 WHEN 2 THEN 15552000e6
  WHEN 3 THEN 94608000e6 ELSE 31536000e6 END))) >= 30"
a=$(sqlite3 "$db" "$q_idx")
b=$(sqlite3 "$db" "$q_cmp")
echo "alerting now: $a of $N (computed on read: $b)"
t "read: alerting set, indexed (x20)" sh -c "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sqlite3 '$db' '$q_idx'; done"
ri=$last
t "read: alerting set, computed on read (x20)" sh -c "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sqlite3 '$db' \"$q_cmp\"; done"
rc=$last
awk -v a="$ri" -v b="$rc" -v n="$N" 'BEGIN {
	printf "%-52s %8.3f us\n", "  per indicator read, indexed", a * 1e6 / 20 / n
	printf "%-52s %8.3f us\n", "  per indicator read, computed", b * 1e6 / 20 / n
	printf "%-52s %8.1f\n", "  ratio computed / indexed", b / a }'
: >"$tmp/empty.log"
t "scan compile, decayed left out" "$BIN" --db "$db" scan --no-cache --no-sightings --quiet "$tmp/empty.log"
t "scan compile, --no-decay" "$BIN" --db "$db" scan --no-sightings --quiet --no-decay "$tmp/empty.log"
one=$(sqlite3 "$db" "SELECT id FROM indicators LIMIT 1")
t "show one indicator with its score" "$BIN" --db "$db" show "$one"

if [ -n "${MT_DB:-}" ] && [ -f "$MT_DB" ]; then
	big=$tmp/mt.db
	cp "$MT_DB" "$big"
	n=$(sqlite3 "$big" "SELECT count(*) FROM indicators")
	echo "large store: $n indicators (schema $(sqlite3 "$big" "PRAGMA user_version"))"
	t "migration to schema 17 (scores backfilled)" "$BIN" --db "$big" config get decay.threshold
	t "rescore all: config set decay.threshold 30" "$BIN" --db "$big" config set decay.threshold 30
	awk -v s="$last" -v n="$n" 'BEGIN { printf "%-52s %8.2f us\n", "  per indicator (wall)", s * 1e6 / n }'
	t "rescore all: config set decay.default_trust 60" "$BIN" --db "$big" config set decay.default_trust 60
	t "read: alerting set, indexed" sqlite3 "$big" "$q_idx"
	t "read: alerting set, computed on read" sqlite3 "$big" "$q_cmp"
	rm -f "$big" "$big-wal" "$big-shm"
fi
