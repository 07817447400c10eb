#!/bin/sh
# bearssl-musl.sh - builds BearSSL's static library with musl-gcc from
# Debian's source package, for `make static`.
#
# Debian ships libbearssl.a built against glibc only, so the static musl
# binary needs BearSSL compiled again.  Steps (each skipped when already
# done): a deb-src entry for the suites of debian.sources, `apt-get source
# bearssl` into $O/bearssl-src, BearSSL's own Makefile with CC=musl-gcc,
# then lib and headers into $O/bearssl-musl/{lib,include}.
#   usage: sh tools/bearssl-musl.sh [BUILD_DIR]     (default: build)
set -eu
O=${1:-build}
mkdir -p "$O"
O=$(cd "$O" && pwd)
DEST=$O/bearssl-musl
# For a static binary of C: no -fPIC (no GOT to go through), no unwind
# tables (nothing unwinds), LTO objects (the final link inlines across
# BearSSL and nestd and drops what neither uses); 16 KiB off the binary.
FLAGS="-W -Wall -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables -flto"
if [ -f "$DEST/lib/libbearssl.a" ] && [ -f "$DEST/include/bearssl.h" ] &&
   [ "$(cat "$DEST/flags" 2>/dev/null)" = "$FLAGS" ]; then
	exit 0
fi
command -v musl-gcc >/dev/null 2>&1 || {
	[ "$(id -u)" = 0 ] || { echo "bearssl-musl.sh: musl-gcc missing (apt-get install musl-tools)" >&2; exit 1; }
	sh ./deps.sh static
}
command -v dpkg-source >/dev/null 2>&1 || {
	[ "$(id -u)" = 0 ] || { echo "bearssl-musl.sh: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }
	sh ./deps.sh static
}

src=$(ls -d "$O"/bearssl-src/bearssl-*/ 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
	# A deb-src entry for the same suites, in deb822 form, once.
	if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
	   ! grep -qs '^deb-src ' /etc/apt/sources.list; then
		[ "$(id -u)" = 0 ] || { echo "bearssl-musl.sh: no deb-src entry and not root to add one" >&2; exit 1; }
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
				> /etc/apt/sources.list.d/nestd-src.sources
		else
			sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list \
				> /etc/apt/sources.list.d/nestd-src.list
		fi
		apt-get update -q >/dev/null
	fi
	rm -rf "$O/bearssl-src"
	mkdir -p "$O/bearssl-src"
	if ! (cd "$O/bearssl-src" && apt-get source -q bearssl >/dev/null 2>&1); then
		[ "$(id -u)" = 0 ] && apt-get update -q >/dev/null
		(cd "$O/bearssl-src" && apt-get source -q bearssl >/dev/null)
	fi
	src=$(ls -d "$O"/bearssl-src/bearssl-*/ | head -n 1)
fi
src=${src%/}

# BearSSL's own Makefile (conf/Unix.mk): static library only, small.
echo "bearssl-musl.sh: building $(basename "$src") with musl-gcc" >&2
rm -rf "$src/musl-build"
(cd "$src" && make -s CONF=Unix CC=musl-gcc LD=musl-gcc LDDLL=musl-gcc AR=gcc-ar \
	CFLAGS="$FLAGS" BUILD=musl-build DLL=no TOOLS=no TESTS=no musl-build/libbearssl.a >/dev/null)
mkdir -p "$DEST/lib" "$DEST/include"
cp "$src/musl-build/libbearssl.a" "$DEST/lib/"
cp "$src"/inc/*.h "$DEST/include/"
printf '%s\n' "$FLAGS" > "$DEST/flags"
echo "bearssl-musl.sh: $DEST/lib/libbearssl.a" >&2
