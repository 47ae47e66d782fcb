#!/bin/sh
# The one set-up command: install what is missing (Debian 12, as root), build,
# create a node on the embedded SQLite store with the project's demo data,
# show what is in it, match the demo logs against it, then run the
# three-node federation demo (scripts/demo.sh: national centre, partner CERT
# and drinking-water utility on loopback; exits non-zero if a TLP proof
# fails), and print the console's address with the demo logins.  Safe to run
# again: nothing is installed twice, an existing node is kept, re-importing
# known objects adds nothing, and the demo starts afresh in ./demo-run/.
# It ends with the node's server (TAXII 2.1 and the web console) running in
# the background on 127.0.0.1:6543 (log schakel-serve.log, stop with
# `kill $(cat .schakel-serve.pid)`); --foreground (or SETUP_SERVE=1) runs it
# in the foreground instead (Ctrl-C stops it), SETUP_NO_SERVE=1 does not
# start it; SETUP_NO_DEMO=1 skips the three-node demo.  `schakel` is
# installed on the PATH (cmake --install, prefix /usr/local).  The build embeds the console (web/, built with
# Node.js and npm from Debian; SETUP_CMAKE_ARGS=-DSK_UI=OFF builds without it).
set -eu
cd "$(dirname "$0")/.."
SERVE=${SETUP_SERVE:-0}
case "${1:-}" in --serve | --foreground) SERVE=1 ;; esac

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${SETUP_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
cmake --install build >/dev/null
echo "setup: built build/schakel, installed $(command -v schakel || echo /usr/local/bin/schakel) and its manual pages"

SK=./build/schakel
DB=${SCHAKEL_DB:-schakel.db}
LISTEN=${SCHAKEL_LISTEN:-127.0.0.1:6543}
export SCHAKEL_DB="$DB"

if ! $SK stats >/dev/null 2>&1; then
	$SK init --name "National Cyber Centre (demo node)" \
		--sector government-national --country NL \
		--contact "soc@ncc.example"
fi
# the demo data as this node's own (made here: signed, and shared under the TLP rules)
NODE_ID=$($SK stats | sed -n 's/.*\[\(identity--[^]]*\)\].*/\1/p' | head -1)
OWN=$(mktemp)
for f in demo/*.json; do
	python3 scripts/publish-as.py "$f" "$NODE_ID" >"$OWN"
	$SK import --quiet --collection demo "$OWN"
done
rm -f "$OWN"

# a partner CERT that may read the demo collection, with an API token
if ! $SK partner list 2>/dev/null | grep -q "Partner CERT (demo)"; then
	$SK partner add "Partner CERT (demo)" --country BE --sector government-national >/dev/null
	$SK collection grant "Partner CERT (demo)" demo --read --amber
fi
TOKEN_FILE=$(dirname "$DB")/.schakel-demo-token
# the demo logins: `partner` is the partner CERT's account, `analyst` and
# `admin` are this node's own people (the console's analyst and administrator)
role_of() { $SK account list | awk -v n="$1" '$1 == n {print $2}'; }
demo_account() { # NAME PASSWORD OPTIONS...
	name=$1 pw=$2
	shift 2
	[ -n "$(role_of "$name")" ] || printf '%s\n' "$pw" | $SK account add "$name" "$@" --password-stdin >/dev/null
}
if [ "$(role_of analyst)" = partner ]; then
	# set up before the console: `analyst` was the partner's account, now `partner`
	$SK account delete analyst >/dev/null
	rm -f "$TOKEN_FILE"
fi
demo_account partner demo-password --partner "Partner CERT (demo)"
demo_account analyst demo-password --role analyst
demo_account admin demo-admin --role admin
if [ ! -s "$TOKEN_FILE" ]; then
	umask 077
	$SK token create partner --label demo 2>/dev/null >"$TOKEN_FILE"
fi

echo
$SK stats
echo
echo "--- the intrusion set behind the demo wiper campaign ---"
$SK show intrusion-set--58b6a012-3f93-5a0b-81a4-03ec8239010c
echo
echo "--- the demo utility's logs matched against the node's indicators ---"
$SK scan --output demo-hits.jsonl demo/logs/utility-dns.log demo/logs/utility-eve.json
echo "(hits as JSON lines in demo-hits.jsonl; a sighting per indicator is now in the store)"
echo

if [ "${SETUP_NO_DEMO:-0}" != 1 ]; then
	echo
	SCHAKEL_BIN=$SK ./scripts/demo.sh
fi
echo
echo "--- the web console ---"
PIDFILE=$(dirname "$DB")/.schakel-serve.pid
if [ "${SETUP_NO_SERVE:-0}" = 1 ]; then
	echo "Start the node with $SK serve --listen $LISTEN,"
	echo "open http://$LISTEN/ in a browser and log in as"
elif [ "$SERVE" = 1 ]; then
	echo "Open http://$LISTEN/ in a browser (Ctrl-C stops the node) and log in as"
else
	# the node keeps running in the background, a server started before replaced
	if [ -s "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null; then
		while kill -0 "$(cat "$PIDFILE")" 2>/dev/null; do sleep 0.1; done
	fi
	LOG=$(dirname "$DB")/schakel-serve.log
	: >"$LOG.out"
	nohup $SK serve --listen "$LISTEN" >"$LOG.out" 2>"$LOG" </dev/null &
	echo $! >"$PIDFILE"
	i=0
	until grep -q '^listening on' "$LOG.out" 2>/dev/null; do
		if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null || [ $i -ge 600 ]; then
			echo "setup: the node did not start (see $LOG)" >&2
			exit 1
		fi
		i=$((i + 1))
		sleep 0.1
	done
	echo "The node is running in the background ($(sed -n 's/^listening on //p' "$LOG.out"));"
	echo "log $LOG, stop it with: kill \$(cat $PIDFILE)"
	echo "Open http://$LISTEN/ in a browser and log in as"
fi
echo "  analyst / demo-password   this node's analyst: everything the node holds, and writes"
echo "  partner / demo-password   the partner CERT: what TAXII gives it (demo collection, up to AMBER)"
echo "  admin   / demo-admin      this node's administrator: partners, accounts, tokens, grants"
echo
COLL=$($SK collection list | awk '$2 == "demo" {print $1}')
echo "--- TAXII 2.1 ---"
echo "As the partner CERT (TLP:AMBER recipient of 'demo'):"
echo "  curl -s -H 'Accept: application/taxii+json;version=2.1' \\"
echo "       -H \"Authorization: Bearer \$(cat $TOKEN_FILE)\" \\"
echo "       http://$LISTEN/api/collections/$COLL/objects/?limit=5"
echo "or with HTTP Basic: -u partner:demo-password"
[ "$SERVE" = 1 ] && [ "${SETUP_NO_SERVE:-0}" != 1 ] || exit 0
echo
exec $SK serve --listen "$LISTEN"
