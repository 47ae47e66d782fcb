#!/bin/sh
# The one set-up command: install what is missing (Debian 12, as root), build,
# create a node on the embedded SQLite store, load the project's demo data and
# show what is in it.  Safe to run again: nothing is installed twice, an
# existing node is kept and re-importing known objects adds nothing.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "setup: built build/schakel"

SK=./build/schakel
DB=${SCHAKEL_DB:-schakel.db}
export SCHAKEL_DB="$DB"

if ! $SK stats >/dev/null 2>&1; then
	$SK init --name "National Cyber Centre (demo node)" \
		--sector government-national --country NL \
		--contact "soc@ncc.example"
fi
$SK import --collection demo demo/*.json

echo
$SK stats
echo
echo "--- the intrusion set behind the demo wiper campaign ---"
$SK show intrusion-set--58b6a012-3f93-5a0b-81a4-03ec8239010c
echo
echo "--- indicators, newest last ---"
$SK list --type indicator
echo
echo "The node is in $DB.  Try: $SK show campaign--30ef0bc4-eb99-542f-ad66-d023218470b3"
echo "or: $SK export --collection demo | head"
