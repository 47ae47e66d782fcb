#!/bin/sh
# Install the Debian 12 packages schakel needs to build, test, fuzz and
# benchmark.  Idempotent: packages already present are not touched, and apt is
# only called when something is missing.  Run as root (or via sudo).
set -eu

PKGS="build-essential cmake pkg-config clang lld llvm libclang-rt-dev
      libsqlite3-dev sqlite3 libjansson-dev libmicrohttpd-dev libgnutls28-dev
      libcurl4-gnutls-dev libsodium-dev libhyperscan-dev zlib1g-dev
      libcriterion-dev publicsuffix python3 wrk curl time openssl
      libnats-dev nats-server ripgrep"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

# the web console's build and browser tests: Node.js with npm, and Chromium
# (by command: a Node.js from elsewhere that brings its own npm is kept)
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$missing; run as root to install them" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
