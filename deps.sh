#!/bin/sh
# deps.sh - installs what building and testing nestd needs on Debian 12,
# and only what is missing.  Run as root on a fresh machine:
#   sh deps.sh          build tools (gcc, make, libjsmn-dev, libbearssl-dev)
#   sh deps.sh test     plus the test peers (python3-websockets, curl, openssl, clang)
#   sh deps.sh static   plus musl-tools, zopfli and BearSSL's source for `make static`
#   sh deps.sh deb      plus dpkg-dev and lintian for `make deb`
set -eu
want="gcc make libc6-dev libjsmn-dev libbearssl-dev"
case "${1:-}" in
test) want="$want python3-websockets curl openssl ca-certificates clang libclang-rt-14-dev procps util-linux file python3-psutil busybox iproute2 iptables dnsmasq-base groff-base man-db bash-completion zsh" ;;
deb) want="$want dpkg-dev lintian" ;;
static) want="$want musl-tools dpkg-dev zopfli node-terser" ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if [ ! -f /var/lib/apt/lists/.nestd-updated ] ; then
	apt-get update -q >/dev/null && touch /var/lib/apt/lists/.nestd-updated
fi
apt-get install -y -q --no-install-recommends $missing >/dev/null
