#!/bin/sh
# The sensor fleet on NATS JetStream (docs/fleet.md) against TAXII polling, in
# one run: indicators hub -> sensors (objects/s per sensor, time until the
# last sensor holds all), publication -> alert on a sensor (p50/p99 over
# trials), sightings/s from the sensors into the hub beside the hub's plain
# import rate.
# usage: bench/fleet.sh [INDICATORS [SENSORS [TRIALS [SIGHTINGS]]]]
#        (default 20000 5 30 20000)
# The same from the environment: FLEET_N (indicators), FLEET_SENSORS,
# FLEET_TRIALS, FLEET_SIGHTINGS; FLEET_PARTS picks parts
# (latency,throughput,sightings); FLEET_PERF=FILE records a perf profile of
# the hub while it drains the sightings; SK_FLEET_PROFILE=1 prints each
# sensor's account of its time (apply: parse, signature, put; commit); FLEET_WATCH=0 starts only sensor s0 with a
# live matcher (--watch), the others store without one.  The issue's full run:
#   FLEET_N=1000000 FLEET_SENSORS=20 FLEET_TRIALS=100 bench/fleet.sh
set -eu
BIN=${SCHAKEL_BIN:-build/schakel}
case "$BIN" in /*) ;; *) BIN="$(pwd)/$BIN" ;; esac
command -v nats-server >/dev/null || { echo "SKIP: nats-server is not installed"; exit 0; }
exec python3 "$(dirname "$0")/fleet_bench.py" "$BIN" "${1:-${FLEET_N:-20000}}" \
	"${2:-${FLEET_SENSORS:-5}}" "${3:-${FLEET_TRIALS:-30}}" "${4:-${FLEET_SIGHTINGS:-20000}}"
