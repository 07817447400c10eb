#!/bin/sh
# bench_agent.sh - the agent builds against each other and against this
# machine's limits, in one run (bench/bench_agent.c): obtain_process_info
# round trips (1 in flight; 32 in flight with ids), the obtain_all_process_info
# round trip with NPROC extra processes, idle and peak RSS, for ./nestd
# (glibc), ./nestd-static and ./nestd-agent-static (musl, static; built
# here when missing), beside a raw C TCP ping-pong of the same sizes and a
# stat+fstat+cmdline probe of /proc; a python-websockets + psutil client
# (bench/ref_client.py) once, for scale.
#   sh bench/bench_agent.sh [NPROC [ROUNDS]]     (defaults 2000 and 3; < 2 min)
# Prints each target with its ratio (static within 10 % of glibc, round
# trips >= 0.8x raw TCP, listing <= 1.1x the probe).  Everything it starts
# is killed and reaped by the driver; the sleeps also die with it
# (PR_SET_PDEATHSIG).
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
O=${O:-build}
NESTD=${NESTD:-./nestd}
STATIC=${NESTD_STATIC:-./nestd-static}
AGENT_STATIC=${NESTD_AGENT_STATIC:-./nestd-agent-static}
make -s O="$O" nestd "$O/sha1.o" "$O/md.o" "$O/base64.o"
[ -x "$STATIC" ] || make -s static >/dev/null
[ -x "$AGENT_STATIC" ] || make -s static-agent >/dev/null
$CC -O2 -g -Wall -Wextra -D_GNU_SOURCE -I. -o "$O/bench_agent" bench/bench_agent.c \
	"$O/sha1.o" "$O/md.o" "$O/base64.o"
h=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
BENCH_TOKEN="$h.$(printf %s "$h" | sha256sum | cut -c1-8)"
export BENCH_TOKEN
ref=""
if /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	ref="-p bench/ref_client.py"
	BENCH_PY_LABEL="python ref (psutil)"
	/usr/bin/python3 -c 'import psutil' 2>/dev/null || BENCH_PY_LABEL="python ref (/proc)"
	export BENCH_PY_LABEL
else
	echo "note: /usr/bin/python3 lacks python3-websockets: no Python reference"
fi
ulimit -u unlimited 2>/dev/null || true
echo "nestd $($NESTD --version | cut -d' ' -f2), $(nproc) CPUs, $(uname -r)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
exec timeout 170 "$O/bench_agent" -n "${1:-2000}" -r "${2:-3}" $ref \
	"glibc=$NESTD" "static=$STATIC" "agent-static=$AGENT_STATIC"
