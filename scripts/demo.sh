#!/usr/bin/env bash
# demo.sh - the three-node federation demo (issue 5), on loopback only.
#
# A national cyber centre (NCC), a partner country's CERT and a drinking-water
# utility each run their own schakel node (own database, own TAXII server on
# a free 127.0.0.1 port).  The NCC publishes the KETTLEWIPE wiper indicators
# (demo/federation/ncc-kettlewipe.json): a TLP:GREEN set for everyone who
# reads its 'early-warning' collection, one TLP:AMBER indicator for the
# partner CERT only and one TLP:RED indicator for itself.  The CERT and the
# utility pull every second; the utility follows its live connection log
# (demo/federation/utility-live.log, replayed line by line with the current
# time), alerts when the wiper's C2 shows up and pushes its
# sighting back to the NCC.  The script prints a timeline measured by the
# nodes themselves (date_added in each store) and a table of which node holds
# which object, with PASS/FAIL lines; it exits non-zero if any proof fails.
#
# Detection uses `schakel serve --watch` when this build has it (the utility's
# server follows the log and swaps in new indicators as they arrive); without
# it, `schakel scan --follow` is started on the log as soon as the indicators
# have arrived (and stopped after the alert, which stores the sighting).
#
# Env: SCHAKEL_BIN (default build/schakel), DEMO_DIR (default ./demo-run,
# removed and recreated), DEMO_WAIT (seconds any single wait may take, 30),
# DEMO_MODE=watch|scan (default: watch if available), DEMO_KEEP=1 (the three
# nodes keep running afterwards, each with an analyst login to browse its
# console; their pids in DEMO_DIR/servers.pid).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SK=${SCHAKEL_BIN:-$ROOT/build/schakel}
RUN=${DEMO_DIR:-$ROOT/demo-run}
WAIT=${DEMO_WAIT:-30}
BUNDLE=$ROOT/demo/federation/ncc-kettlewipe.json
LIVELOG_SRC=$ROOT/demo/federation/utility-live.log

# the demo's objects (ids in ncc-kettlewipe.json)
GREEN_SET=(grouping--75cde2ca-3509-51da-b770-1c1fc39b8d51 # the set itself
	indicator--08f436ef-f63a-531c-9c48-cbec87f312bf  # C2 server 203.0.113.66
	indicator--9c6ed78c-51be-5e2e-9511-67c7db2f835e  # C2 domain update.kettle-cdn.example
	indicator--947dd57e-fd96-526b-bbd1-74814cb9000e  # dropper SHA-256
	indicator--ec633393-7d26-51dc-a2b5-55dc5deb575f) # fake firmware URL
C2_IND=indicator--08f436ef-f63a-531c-9c48-cbec87f312bf
AMBER_IND=indicator--8799685c-c15c-51a9-a886-6f93eee86e50
RED_IND=indicator--e70e996b-3813-571a-a40d-583e4cdff094
C2_IP=203.0.113.66

die() {
	echo "demo: $*" >&2
	exit 1
}
[ -x "$SK" ] || die "no binary at $SK (build first: cmake -S . -B build && cmake --build build)"
[ -r "$BUNDLE" ] || die "missing $BUNDLE"

rm -rf "$RUN"
mkdir -p "$RUN"
umask 077

PIDS=()
SERVER_PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		# bounded: 10 s per process, then SIGKILL
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
# epoch seconds of an RFC 3339 timestamp
epoch() { date -d "$1" +%s.%N; }
# seconds (3 decimals) from the demo's t0
rel() { awk -v a="$1" -v b="$T0" 'BEGIN { printf "%.3f", a - b }'; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a - b) * 1000 }'; }
later() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }

sk() {
	local node=$1
	shift
	"$SK" --db "$RUN/$node.db" "$@"
}
ident() { sk "$1" stats | head -1 | sed 's/.*\[\(.*\)\].*/\1/'; }

# wait_for SECONDS CMD...: run CMD every 50 ms until it succeeds; false on timeout
wait_for() {
	local limit
	limit=$(awk -v t="$(now)" -v w="$1" 'BEGIN { printf "%.3f", t + w }')
	shift
	while :; do
		"$@" && return 0
		awk -v t="$(now)" -v l="$limit" 'BEGIN { exit !(t > l) }' && return 1
		sleep 0.05
	done
}

# start_server NODE [EXTRA...]: serve on a free loopback port; sets URL_<NODE>
start_server() {
	local node=$1
	shift
	# "$SK" directly, not the sk function: $! must be the server's own pid
	"$SK" --db "$RUN/$node.db" serve --listen 127.0.0.1:0 "$@" \
		>"$RUN/$node.out" 2>"$RUN/$node.log" &
	PIDS+=($!)
	SERVER_PIDS+=("$node:$!")
	wait_for "$WAIT" grep -q '^listening on ' "$RUN/$node.out" ||
		die "$node: server did not start (see $RUN/$node.log)"
	local url
	url=$(awk '/^listening on /{print $NF; exit}' "$RUN/$node.out")
	printf -v "URL_$node" '%s' "${url%/taxii2/}/"
}

# date_added (epoch) of the newest version of ID in NODE's collection, or fail
added_at() {
	local line
	line=$(sk "$1" list --collection early-warning --all-versions 2>/dev/null |
		awk -v id="$2" '$4 == id {print $1}' | sort | tail -1)
	[ -n "$line" ] && epoch "$line"
}
has() { sk "$1" get "$2" >/dev/null 2>&1; }
has_sighting() { [ -n "$(first_sighting "$1")" ]; }
first_sighting() {
	sk "$1" list --collection early-warning --type sighting 2>/dev/null | awk '{print $4}' | head -1
}

echo "== schakel three-node demo: Operation DRY WELL / KETTLEWIPE (fictional) =="
echo "nodes in $RUN"

# --- three nodes ---------------------------------------------------------------------------
sk ncc init --name "Nationaal Cyber Centrum (NCC, demo)" --sector government-national \
	--country NL --contact "soc@ncc.example" >/dev/null
sk cert init --name "Partner country CERT (demo)" --sector government-national \
	--country BE --contact "cert@partner-cert.example" >/dev/null
sk utility init --name "Drinking-water utility (demo)" --sector utilities --sector water \
	--country NL --contact "soc@water-utility.example" >/dev/null
NCC_ID=$(ident ncc)
CERT_ID=$(ident cert)
UTIL_ID=$(ident utility)
for n in ncc cert utility; do
	sk "$n" collection add early-warning --alias early-warning \
		--title "Early warning" >/dev/null
done

# NCC: the CERT reads early-warning and is a named AMBER recipient; the utility reads
# it (GREEN/CLEAR only) and may write (its sightings come back by POST)
sk ncc partner add "Partner country CERT (demo)" --identity "$CERT_ID" --country BE \
	--sector government-national >/dev/null
sk ncc partner add "Drinking-water utility (demo)" --identity "$UTIL_ID" --country NL \
	--sector utilities --sector water >/dev/null
sk ncc account add cert-sync --partner "Partner country CERT (demo)" >/dev/null 2>&1
sk ncc account add utility-sync --partner "Drinking-water utility (demo)" >/dev/null 2>&1
sk ncc collection grant "Partner country CERT (demo)" early-warning --read --amber
sk ncc collection grant "Drinking-water utility (demo)" early-warning --read --write
sk ncc token create cert-sync --label demo 2>/dev/null >"$RUN/cert.token"
sk ncc token create utility-sync --label demo 2>/dev/null >"$RUN/utility.token"
# the utility reports anonymously: every sighting it makes (`schakel sighting add`,
# serve --watch, scan) names an identity with only its sectors and country (the NCC
# still knows who pushed them), marked like the indicator it sighted
sk utility config set sightings.anonymous true >/dev/null

# the NCC publishes as itself: "made here" means produced by this node's identity
# (docs/sharing-policy.md), so its bundle names the NCC node as producer
python3 "$ROOT/scripts/publish-as.py" "$BUNDLE" "$NCC_ID" >"$RUN/ncc-bundle.json"

start_server ncc
echo "NCC        $URL_ncc"

# CERT and utility: the NCC as a peer, pulled every second (the utility also pushes)
sk cert peer add ncc "$URL_ncc" --api-root /api/ --collection early-warning --auth token \
	--secret-stdin --identity "$NCC_ID" --local-collection early-warning --interval 1 \
	--pull <"$RUN/cert.token" 2>/dev/null
sk utility peer add ncc "$URL_ncc" --api-root /api/ --collection early-warning --auth token \
	--secret-stdin --identity "$NCC_ID" --local-collection early-warning --interval 1 \
	--pull --push <"$RUN/utility.token" 2>/dev/null

MODE=${DEMO_MODE:-}
if [ -z "$MODE" ]; then
	if "$SK" help serve 2>&1 | grep -q -- '--watch'; then MODE=watch; else MODE=scan; fi
fi
LIVE=$RUN/utility-live.log
ALERTS=$RUN/utility-alerts.jsonl
: >"$LIVE"
: >"$ALERTS"

start_server cert
echo "CERT       $URL_cert"
if [ "$MODE" = watch ]; then
	# --lookback: a record read just before the new matcher is live is rescanned
	start_server utility --watch "$LIVE" --alerts "$ALERTS" --no-alerts-stdout \
		--lookback 10m
else
	start_server utility
fi
echo "utility    $URL_utility (detection: $MODE)"

# --- the utility's live log: replayed with the current time, one line every 0.2 s;
# the C2 connection waits until the indicators have reached the utility ------------------
replay() {
	local line rest
	while IFS= read -r line; do
		case $line in
		'#'*) printf '%s\n' "$line" >>"$LIVE" ;;
		*)
			sleep 0.2
			if [[ $line == *"$C2_IP"* ]]; then
				wait_for "$WAIT" test -e "$RUN/release" || return 1
			fi
			rest=${line#*$'\t'}
			printf '%s\t%s\n' "$(date +%s.%6N)" "$rest" >>"$LIVE"
			[[ $line == *"$C2_IP"* ]] && now >"$RUN/c2-written"
			;;
		esac
	done <"$LIVELOG_SRC"
}
replay &
PIDS+=($!)

# let every scheduler run once with nothing to pull
sleep 1.5

# --- t0: the NCC publishes --------------------------------------------------------------------
sk ncc import --quiet --collection early-warning "$RUN/ncc-bundle.json"
T0=$(added_at ncc "$C2_IND") || die "the NCC did not store its own bundle"
N_NCC=$(sk ncc list --collection early-warning | wc -l)

wait_for "$WAIT" has cert "$C2_IND" || die "the CERT did not pull within ${WAIT}s"
T_CERT=$(added_at cert "$C2_IND")
N_CERT=$(sk cert list --collection early-warning | wc -l) # a page is one transaction
wait_for "$WAIT" has utility "$C2_IND" || die "the utility did not pull within ${WAIT}s"
T_UTIL=$(added_at utility "$C2_IND")
N_UTIL=$(sk utility list --collection early-warning | wc -l)

SCAN_PID=
if [ "$MODE" = scan ]; then
	# fallback: follow the log with the indicators the utility now holds
	"$SK" --db "$RUN/utility.db" scan --follow --collection early-warning \
		--output "$ALERTS" "$LIVE" 2>"$RUN/scan.log" &
	SCAN_PID=$!
	PIDS+=("$SCAN_PID")
	wait_for "$WAIT" grep -q 'indicators compiled' "$RUN/scan.log" ||
		die "scan did not start (see $RUN/scan.log)"
fi
touch "$RUN/release"

wait_for "$WAIT" grep -q "$C2_IND" "$ALERTS" || die "no alert on the C2 within ${WAIT}s"
T_SEEN=$(now)
wait_for 5 test -s "$RUN/c2-written" || die "the replay did not record the C2 line"
T_C2=$(cat "$RUN/c2-written")
if [ "$MODE" = watch ] && grep -q '"alert_time"' "$ALERTS"; then
	T_ALERT=$(epoch "$(grep "$C2_IND" "$ALERTS" | head -1 |
		sed 's/.*"alert_time": *"\([^"]*\)".*/\1/')")
else
	T_ALERT=$T_SEEN
fi
if [ -n "$SCAN_PID" ]; then
	# stopping the scan stores its sighting (one per indicator with hits)
	kill -TERM "$SCAN_PID" 2>/dev/null || true
fi

wait_for "$WAIT" has_sighting utility ||
	die "the utility stored no sighting within ${WAIT}s"
SIGHTING=$(first_sighting utility)
T_SIGHT=$(added_at utility "$SIGHTING")
wait_for "$WAIT" has ncc "$SIGHTING" || die "the sighting did not reach the NCC within ${WAIT}s"
T_SIGHT_NCC=$(added_at ncc "$SIGHTING")
# its marking at the NCC ('-' = none: the collection default, TLP:AMBER)
SIGHT_TLP=$(sk ncc list --collection early-warning --type sighting |
	awk -v id="$SIGHTING" '$4 == id {print $5}')
[ "$SIGHT_TLP" = - ] && SIGHT_TLP="TLP:AMBER (collection default)"
if sk ncc get "$SIGHTING" | grep -q "\"created_by_ref\": *\"$UTIL_ID\""; then
	SIGHT_WHO="names the utility, $SIGHT_TLP"
else
	SIGHT_WHO="anonymous: sector and country only, $SIGHT_TLP"
fi
# one more pull by the CERT, certainly after the sighting reached the NCC, so the
# table below shows settled state (the schedulers keep running meanwhile)
sk cert peer sync ncc --timeout "$WAIT" >/dev/null 2>&1 || die "the CERT's last pull failed"


echo
echo "--- timeline (times from the nodes' own stores, t0 = the NCC's date_added) ---"
printf 't+%7s  NCC publishes %d objects in early-warning (GREEN set, AMBER, RED)\n' \
	"$(rel "$T0")" "$N_NCC"
printf 't+%7s  partner CERT pulled %d objects\n' "$(rel "$T_CERT")" "$N_CERT"
printf 't+%7s  utility pulled %d objects\n' "$(rel "$T_UTIL")" "$N_UTIL"
printf 't+%7s  C2 connection 192.0.2.50 -> %s:443 written to the utility'"'"'s live log\n' \
	"$(rel "$T_C2")" "$C2_IP"
if [ "$MODE" = watch ] && grep -q '"detection_delay_ms"' "$ALERTS"; then
	DELAY=$(grep "$C2_IND" "$ALERTS" | head -1 |
		sed 's/.*"detection_delay_ms": *\([0-9.]*\).*/\1/')
else
	DELAY=$(ms "$T_ALERT" "$T_UTIL")
fi
printf 't+%7s  utility ALERT: KETTLEWIPE C2 server (detection delay %s ms after the\n' \
	"$(rel "$T_ALERT")" "$DELAY"
printf '           indicator arrived, %s ms after the log line; %s)\n' \
	"$(ms "$T_ALERT" "$T_C2")" "$([ "$MODE" = watch ] && echo 'serve --watch' ||
		echo 'scan --follow started on arrival')"
printf 't+%7s  utility stored its sighting (%s)\n' "$(rel "$T_SIGHT")" "$SIGHT_WHO"
printf 't+%7s  NCC has the utility'"'"'s sighting (%s ms after the alert%s)\n' \
	"$(rel "$T_SIGHT_NCC")" "$(ms "$T_SIGHT_NCC" "$T_ALERT")" \
	"$([ "$MODE" = watch ] && echo '; the first hit on an indicator is written and pushed at once')"
if has cert "$SIGHTING"; then
	printf 't+%7s  partner CERT has it too (%s)\n' \
		"$(rel "$(added_at cert "$SIGHTING")")" "$SIGHT_WHO"
fi

# --- who holds what ---------------------------------------------------------------------------
echo
echo "--- which node holds which object (schakel get on each store) ---"
row() {
	local label=$1
	shift
	local n out=""
	for n in ncc cert utility; do
		local k=0 id
		for id in "$@"; do has "$n" "$id" && k=$((k + 1)); done
		if [ $# -gt 1 ]; then
			out+=$(printf '  %-9s' "$k/$#")
		elif [ $k = 1 ]; then
			out+=$(printf '  %-9s' yes)
		else
			out+=$(printf '  %-9s' -)
		fi
	done
	printf '%-38s%s\n' "$label" "$out"
}
printf '%-38s  %-9s  %-9s  %-9s\n' object NCC CERT utility
row "GREEN set (grouping + indicators)" "${GREEN_SET[@]}"
row "AMBER indicator (staging range)" "$AMBER_IND"
row "RED indicator (source-protected lead)" "$RED_IND"
row "utility's sighting of the C2" "$SIGHTING"

echo
FAILED=0
check() {
	local what=$1
	shift
	if "$@"; then
		echo "PASS: $what"
	else
		echo "FAIL: $what"
		FAILED=1
	fi
}
all_green() {
	local id
	for id in "${GREEN_SET[@]}"; do has "$1" "$id" || return 1; done
}
check "GREEN indicator set: at all three nodes" \
	eval 'all_green ncc && all_green cert && all_green utility'
check "AMBER indicator: at NCC and partner CERT only" \
	eval 'has ncc $AMBER_IND && has cert $AMBER_IND && ! has utility $AMBER_IND'
check "RED indicator: at NCC only" \
	eval 'has ncc $RED_IND && ! has cert $RED_IND && ! has utility $RED_IND'
check "utility alerted on the wiper's C2 connection" grep -q "$C2_IND" "$ALERTS"
check "sighting of the C2 indicator reached NCC" \
	eval 'sk ncc get "$SIGHTING" | grep -q "\"sighting_of_ref\": *\"$C2_IND\""'
case $SIGHT_TLP in
TLP:CLEAR* | TLP:GREEN*)
	# readers of early-warning may have it; it must not name the utility
	check "sighting ($SIGHT_TLP) at NCC and CERT is anonymous" \
		eval '! sk ncc get $SIGHTING | grep -q $UTIL_ID'
	;;
*)
	check "sighting ($SIGHT_TLP): at the utility and NCC only" \
		eval 'has utility $SIGHTING && has ncc $SIGHTING && ! has cert $SIGHTING'
	;;
esac

# --- joint attribution: the NCC's dossier on VOLT KETTLE; the CERT answers -------------------
echo
echo "--- attribution dossier: VOLT KETTLE / KETTLEWIPE (docs/dossier.md) ---"
CERT_P="Partner country CERT (demo)"
# the releasable draft for the CERT (a signed report), shared in early-warning
sk ncc dossier build "VOLT KETTLE" --for "$CERT_P" --format stix \
	--output "$RUN/dossier-draft.json" 2>/dev/null || die "the NCC could not build the draft"
DRAFT=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["objects"][0]["id"])' \
	"$RUN/dossier-draft.json")
sk ncc import --quiet --collection early-warning "$RUN/dossier-draft.json"
# the CERT may now write back (its opinion travels to the report's producer)
sk ncc collection grant "$CERT_P" early-warning --read --amber --write
sk cert peer set ncc --push >/dev/null 2>&1
wait_for "$WAIT" has cert "$DRAFT" || die "the draft did not reach the CERT within ${WAIT}s"
OPINION=$(sk cert opinion add "$DRAFT" --opinion agree \
	--explanation "Our national sensors saw the KETTLEWIPE C2 at two water utilities")
wait_for "$WAIT" has ncc "$OPINION" || die "the CERT's opinion did not reach the NCC within ${WAIT}s"
DOSSIER_HTML=$RUN/volt-kettle-dossier.html
sk ncc dossier build "VOLT KETTLE" --format html --output "$DOSSIER_HTML" 2>/dev/null
sk ncc dossier build "VOLT KETTLE" --output "$RUN/volt-kettle-dossier.json" 2>/dev/null
python3 - "$RUN/volt-kettle-dossier.json" "$DRAFT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["executive_summary"]
print("who:          " + s["who"])
print("against whom: " + s["against_whom"])
print("how sure:     " + s["how_sure"])
for r in d["opinions"]["reports"]:
    if r["id"] != sys.argv[2]:
        continue
    for v in r["versions"]:
        print("tally of the draft, version %d: %s" % (v["version"], ", ".join(
            "%s %d" % kv for kv in v["tally"].items()) or "no opinion yet"))
        for o in v["opinions"]:
            print("  %s: %s (%s; signature %s)" % (o["by"]["name"], o["opinion"], o["text"],
                                                   o["provenance"]["signature"]))
PY
echo "HTML dossier written to $DOSSIER_HTML"
check "the partner CERT's opinion on the draft is in the NCC's tally" \
	eval 'grep -q "\"opinion\": \"agree\"" "$RUN/volt-kettle-dossier.json"'
check "the dossier is attributed to a state and names the water sector" \
	eval 'grep -q "KETTLE COLLECTIVE" "$DOSSIER_HTML" && grep -q "Water" "$DOSSIER_HTML"'
if [ $FAILED = 0 ]; then
	echo "demo: all proofs passed"
else
	echo "demo: some proofs FAILED (nodes and logs in $RUN)"
fi
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	# the three nodes stay up to be browsed: an analyst login on each
	echo
	echo "The three nodes keep running (DEMO_KEEP=1); their consoles, as analyst / demo-password:"
	: >"$RUN/servers.pid"
	for entry in "${SERVER_PIDS[@]}"; do
		node=${entry%%:*} pid=${entry#*:}
		printf '%s\n' demo-password |
			sk "$node" account add analyst --role analyst --password-stdin >/dev/null 2>&1 || true
		url_var="URL_$node"
		printf '  %-8s %sui/\n' "$node" "${!url_var}"
		echo "$pid" >>"$RUN/servers.pid"
		# not stopped on exit
		for i in "${!PIDS[@]}"; do [ "${PIDS[$i]}" = "$pid" ] && unset 'PIDS[i]'; done
	done
	PIDS=("${PIDS[@]}")
	echo "Stop them with: kill \$(cat $RUN/servers.pid)"
fi
exit $FAILED
