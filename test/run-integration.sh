#!/bin/sh
# run-integration.sh - runs every test/it_*.py against the binary in $NESTD
# (default ./nestd) with Debian's /usr/bin/python3 (it has python3-websockets;
# the python3 first on PATH may not), sums the counts and prints the skips
# with their reasons and a final line "N passed, N failed, N skipped".
# A file's last line is "N passed, N failed, N skipped" (or the older
# "N passed, N failed": nothing skipped).  Exits non-zero if any check
# failed, any file crashed or did not end with its count line, or any
# captured log holds a sanitizer report (AddressSanitizer, LeakSanitizer,
# UBSan "runtime error:").
#
#   NESTD=build/asan/nestd-asan sh test/run-integration.sh
#   NESTD_IT_LONG=1 ...     also run the slow cases (20 s pong timeout)
#   NESTD_AGENT=BIN ...     `nestd agent` runs as BIN (nestlib.py)
#   IT_ONLY="it_agent ..."  only those files
set -u

here=$(cd "$(dirname "$0")" && pwd)
NESTD=${NESTD:-./nestd}
case $NESTD in /*) ;; *) NESTD=$(pwd)/${NESTD#./} ;; esac
export NESTD
PY=/usr/bin/python3

if [ ! -x "$NESTD" ]; then
	echo "run-integration: no binary at $NESTD (run make first)" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if ! $PY -c 'import websockets' 2>/dev/null; then
	echo "run-integration: $PY lacks python3-websockets (apt-get install python3-websockets)" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

NESTD_IT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nestd-it.XXXXXX") || exit 1
export NESTD_IT_DIR
start=$(date +%s)
pass=0
fail=0
skip=0
reasons="$NESTD_IT_DIR/skipped"
: >"$reasons"

# "P passed, F failed, S skipped" or "P passed, F failed" -> "P F S"; nothing
# for any other line.
counts() {
	sed -n -e 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed, \([0-9][0-9]*\) skipped$/\1 \2 \3/p' \
		-e 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2 0/p'
}

# IT_ONLY="it_agent it_tls": those files only (make test-static-agent).
files=""
for t in "$here"/it_*.py; do
	if [ -n "${IT_ONLY:-}" ]; then
		case " $IT_ONLY " in *" $(basename "$t" .py) "*) ;; *) continue ;; esac
	fi
	files="$files $t"
done
for t in $files; do
	name=$(basename "$t")
	out="$NESTD_IT_DIR/$name.out"
	$PY "$t" >"$out" 2>&1
	rc=$?
	last=$(tail -n 1 "$out")
	set -- $(printf '%s\n' "$last" | counts)
	if [ $# -ne 3 ]; then
		echo "$name: CRASHED (exit $rc, no count line)"
		tail -n 20 "$out" | sed 's/^/    /'
		fail=$((fail + 1))
		continue
	fi
	p=$1 f=$2 s=$3
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exit $rc with no failed check"
		f=$((f + 1))
	fi
	# Each skip is a "SKIP - name: reason" line; the count must match them.
	n=$(grep -c '^SKIP - ' "$out")
	if [ "$n" -ne "$s" ]; then
		echo "$name: $s skipped, but $n SKIP lines"
		f=$((f + 1))
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	echo "$name: $last"
	grep -E '^(FAIL|XFAIL|XPASS)' "$out" | sed 's/^/    /'
	grep '^SKIP - ' "$out" | sed "s/^SKIP - /$name: /" >>"$reasons"
done

# Every log any test captured (server, agent, test output).
bad=$(grep -rlIE 'AddressSanitizer|LeakSanitizer|runtime error:' "$NESTD_IT_DIR" 2>/dev/null)
if [ -n "$bad" ]; then
	echo "sanitizer reports in:"
	printf '    %s\n' $bad
	fail=$((fail + 1))
fi

echo "integration: $(($(date +%s) - start)) s with $NESTD"
if [ "$skip" -gt 0 ]; then
	echo "skipped ($skip):"
	sed 's/^/    /' "$reasons"
fi
if [ "$fail" -eq 0 ]; then
	rm -rf "$NESTD_IT_DIR"
else
	echo "logs kept in $NESTD_IT_DIR"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
