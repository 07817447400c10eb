#!/bin/sh
# test/browser/setup.sh - what the browser tests need: Debian's chromium
# (installed as root when /usr/bin/chromium is missing) and playwright-core
# from npm (the versions pinned by package-lock.json).  Only what is missing.
set -eu
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: /usr/bin/chromium is missing (run as root, or apt-get install chromium)" >&2
		exit 1
	fi
	echo "setup.sh: installing chromium" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends chromium >/dev/null
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: node and npm are missing (apt-get install nodejs npm)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -f node_modules/playwright-core/package.json ]; then
	if [ -f package-lock.json ]; then
		npm ci --no-audit --no-fund --loglevel=error
	else
		npm install --no-audit --no-fund --loglevel=error
	fi
fi
