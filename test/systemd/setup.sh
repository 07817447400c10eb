#!/bin/sh
# test/systemd/setup.sh - what `make test-systemd` and `make test-openrc`
# need: systemd-nspawn (Debian's systemd-container), debootstrap, and two
# Debian 12 roots built once and cached as tarballs in /var/tmp:
#   systemd  systemd, systemd-sysv, dbus, libpam-systemd (logind, user managers)
#   openrc   openrc and sysvinit-core (/sbin/init), no systemd at all
# Run as root.  Only what is missing is installed or built.
#   sh test/systemd/setup.sh            both roots
#   sh test/systemd/setup.sh systemd    just one
# The tarball's name carries the package list, so changing it rebuilds.
set -eu
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (containers need it)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
missing=""
for p in systemd-container debootstrap util-linux; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup.sh: installing$missing" >&2
	if [ ! -f /var/lib/apt/lists/.nestd-updated ]; then
		apt-get update -q >/dev/null && touch /var/lib/apt/lists/.nestd-updated
	fi
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

CACHE=${NESTD_ROOT_CACHE:-/var/tmp}
# Raised when the way a root is built changes, so old tarballs are not used.
REV=2
# libnats3.4: what the clustered build links (the package depends on it;
# the agent tests run that same binary).
PKG_systemd="systemd,systemd-sysv,dbus,libpam-systemd,libnats3.4"
# openrc and sysv-rc (which debootstrap would pick for initscripts) conflict:
# it is installed by apt inside the new root, which resolves that.
PKG_openrc="openrc,sysvinit-core,libnats3.4"
APT_openrc=1

mirror() {
	m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$m" ] || m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# tarball KIND: the cache file's path for that root.
tarball() {
	eval "pk=\$PKG_$1"
	echo "$CACHE/nestd-root-$1-bookworm-$(printf '%s %s' "$REV" "$pk" | cksum | cut -d' ' -f1).tar"
}

# apt_in ROOT PKGS: apt-get install inside a new root (chroot; /proc
# mounted for the time of it; no service started: policy-rc.d says no).
apt_in() {
	cp /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null || true
	printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
	chmod 755 "$1/usr/sbin/policy-rc.d"
	mount -t proc proc "$1/proc"
	chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $2
	_rc=$?
	umount "$1/proc"
	rm -f "$1/usr/sbin/policy-rc.d"
	return $_rc
}

build() {
	t=$(tarball "$1")
	[ -s "$t" ] && return 0
	eval "pk=\$PKG_$1"
	tmp=$(mktemp -d "$CACHE/nestd-root-$1.XXXXXX")
	# mktemp -d makes it 0700, and the tarball would keep that: then no
	# user but root could reach anything in the container (dbus-daemon
	# as messagebus could not even read its own configuration)
	chmod 755 "$tmp"
	echo "setup.sh: debootstrap bookworm with $pk into $tmp (once; cached in $t)" >&2
	eval "by_apt=\${APT_$1:-}"
	inc=--include=$pk
	[ -z "$by_apt" ] || inc=
	if ! debootstrap --variant=minbase $inc bookworm "$tmp" "$(mirror)" >"$tmp.log" 2>&1 ||
		{ [ -n "$by_apt" ] && ! apt_in "$tmp" "$(echo "$pk" | tr , ' ')" >>"$tmp.log" 2>&1; }; then
		tail -n 20 "$tmp.log" >&2
		rm -rf --one-file-system "$tmp" "$tmp.log"
		exit 1
	fi
	# apt's caches are not needed to boot; keep the tarball small
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
	tar -C "$tmp" -cf "$t.new" . && mv "$t.new" "$t"
	# the roots an older setup.sh built are not used again
	for old in "$CACHE/nestd-root-$1-bookworm-"*.tar; do
		[ "$old" = "$t" ] || rm -f "$old"
	done
	rm -rf --one-file-system "$tmp" "$tmp.log"
}

case "${1:-all}" in
all) build systemd; build openrc ;;
systemd | openrc) build "$1" ;;
path) tarball "$2" ;;
*) echo "usage: setup.sh [systemd|openrc|path KIND]" >&2; exit 2 ;;
esac
