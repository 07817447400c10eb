#!/bin/sh
# bench_agent.sh - a real `nestd agent` over loopback, driven by
# bench/bench_agent.c acting as the server: obtain_process_info round trips
# per second (1 in flight without id; 32 in flight with ids), the agent's
# VmRSS idle and after obtain_all_process_info with NPROC extra processes,
# against a python-websockets + psutil reference-style client
# (bench/ref_client.py), and the static build's idle VmRSS when
# ./nestd-static exists (make static).
#   sh bench/bench_agent.sh [NPROC]        (default 2000; < 2 min)
# Everything it starts (agents, sleep children) is killed and reaped by the
# driver; the sleeps also die with it (PR_SET_PDEATHSIG).
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
O=${O:-build}
NESTD=${NESTD:-./nestd}
STATIC=${NESTD_STATIC:-./nestd-static}
make -s O="$O" nestd "$O/sha1.o" "$O/md.o" "$O/base64.o"
$CC -O2 -g -Wall -Wextra -D_GNU_SOURCE -I. -o "$O/bench_agent" bench/bench_agent.c \
	"$O/sha1.o" "$O/md.o" "$O/base64.o"
h=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
BENCH_TOKEN="$h.$(printf %s "$h" | sha256sum | cut -c1-8)"
export BENCH_TOKEN
/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
	{ echo "bench_agent: /usr/bin/python3 lacks python3-websockets" >&2; exit 1; }
BENCH_PY_LABEL="python ref (psutil)"
/usr/bin/python3 -c 'import psutil' 2>/dev/null || {
	echo "note: python3-psutil missing (apt-get install python3-psutil);" \
		"the reference client reads /proc itself"
	BENCH_PY_LABEL="python ref (/proc)"
}
export BENCH_PY_LABEL
ulimit -u unlimited 2>/dev/null || true
echo "nestd $($NESTD --version | cut -d' ' -f2), $(nproc) CPUs, $(uname -r)"
if [ -x "$STATIC" ]; then
	exec timeout 110 "$O/bench_agent" "$NESTD" bench/ref_client.py "${1:-2000}" "$STATIC"
fi
exec timeout 110 "$O/bench_agent" "$NESTD" bench/ref_client.py "${1:-2000}"
