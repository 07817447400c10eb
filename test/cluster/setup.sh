#!/bin/sh
# setup.sh - what `make test-cluster` needs beyond `sh deps.sh test`:
# Debian's nats-server (2.9, with JetStream) to run three nodes on
# loopback, and libnats-dev (the official C client, 3.4) to build nestd
# with --cluster.  Installs only what is missing (as root); the Debian
# package's own nats-server service is never started here (the tests run
# their own nodes in a temporary directory).
set -eu
cd "$(dirname "$0")/../.."
sh ./deps.sh test
want="nats-server libnats-dev"
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "test/cluster/setup.sh: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "test/cluster/setup.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if [ ! -f /var/lib/apt/lists/.nestd-updated ]; then
	apt-get update -q >/dev/null && touch /var/lib/apt/lists/.nestd-updated
fi
# A machine without systemd as PID 1 cannot start the package's service;
# policy-rc.d keeps invoke-rc.d from trying on any init.
rc=/usr/sbin/policy-rc.d
made=0
if [ ! -e "$rc" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$rc" && chmod 755 "$rc" && made=1
fi
apt-get install -y -q --no-install-recommends $missing >/dev/null || { [ $made = 1 ] && rm -f "$rc"; exit 1; }
[ $made = 1 ] && rm -f "$rc"
exit 0
