#!/bin/sh
# mkdeb.sh VERSION - builds dist/nestd_VERSION-1_ARCH.deb with dpkg-deb, no
# debhelper: `make install` into a staging root laid out as Debian wants it
# (/usr, units in /lib/systemd/system for bookworm, /etc/nestd/server.conf a
# conffile), the binary stripped, the docs and maintainer scripts of
# contrib/deb/ (the nestd system user, /var/lib/nestd, the server's unit
# enabled and started), then lintian when it is installed (sh deps.sh deb).
# A static nestd built beforehand (make static) goes in as
# /usr/lib/nestd/nestd-static, which /dist/ then serves.  Run from the
# source tree (make deb).
set -eu
ver=${1:?usage: mkdeb.sh VERSION}
debver=$ver-1
arch=$(dpkg --print-architecture)
out=dist/nestd_${debver}_${arch}.deb
stage=build/deb
root=$stage/root
rm -rf "$stage"
mkdir -p "$root/DEBIAN" dist
make -s install DESTDIR="$PWD/$root" PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system \
	USERUNITDIR=/usr/lib/systemd/user O="$stage/o"
# OpenRC's script is for OpenRC systems (install.sh writes it there).
rm -rf "$root/etc/init.d"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/nestd"
[ ! -f "$root/usr/lib/nestd/nestd-static" ] || strip "$root/usr/lib/nestd/nestd-static"
gzip -9n "$root/usr/share/man/man1/nestd.1"
doc=$root/usr/share/doc/nestd
install -d "$doc"
install -m 0644 contrib/deb/copyright "$doc/copyright"
sed "s/@VERSION@/$debver/" contrib/deb/changelog | gzip -9n > "$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"
for s in postinst prerm postrm; do
	install -m 0755 contrib/deb/$s "$root/DEBIAN/$s"
done
echo /etc/nestd/server.conf > "$root/DEBIAN/conffiles"
# The C library the binary needs: the newest GLIBC_ symbol version it uses.
glibc=$(objdump -T "$root/usr/bin/nestd" | sed -n 's/.*GLIBC_\([0-9][0-9.]*\).*/\1/p' | sort -t. -k1,1n -k2,2n | tail -n 1)
depends="libc6 (>= ${glibc:-2.17})"
# Any other shared library it needs (libnats, in the clustered build):
# the Debian package that holds that soname here.
for lib in $(objdump -p "$root/usr/bin/nestd" | awk '$1 == "NEEDED" { print $2 }'); do
	case $lib in libc.so.* | ld-linux*) continue ;; esac
	pkg=$(dpkg -S "*/$lib" 2>/dev/null | head -n 1 | cut -d: -f1)
	[ -n "$pkg" ] || { echo "deb: no Debian package holds $lib, which nestd needs" >&2; exit 1; }
	depends="$depends, $pkg"
done
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
	contrib/deb/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) \
	> "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "deb: $out ($(wc -c < "$out") bytes)"
if command -v lintian >/dev/null 2>&1; then
	# initial-upload-closes-no-bugs: this is no upload to Debian.
	rc=0
	lintian --fail-on error,warning --suppress-tags initial-upload-closes-no-bugs "$out" \
		> "$stage/lintian.log" 2>&1 || rc=$?
	grep -v "root privileges is not recommended" "$stage/lintian.log" >&2 || true
	[ "$rc" = 0 ] || { echo "deb: lintian found errors or warnings (above)" >&2; exit 1; }
	echo "deb: lintian: no errors, no warnings"
else
	echo "deb: lintian is not installed (sh deps.sh deb): not checked" >&2
fi
