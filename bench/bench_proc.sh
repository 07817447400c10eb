#!/bin/sh
# bench_proc.sh - obtain_all_process_info against ps, psutil and a bare
# /proc read, with 2,000 extra processes alive (see bench/bench_proc.c).
#   sh bench/bench_proc.sh [NPROC [RUNS]]      (defaults 2000 and 15)
# Builds with the tree's objects; the sleep children are killed and reaped
# by the bench program, and die with it if it is killed (PDEATHSIG).
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
O=${O:-build}
objs="agent_cmd agent_proc agent_sys agent_svc agent_exec agent_usage json proto buf loop log num fmt env tz"
targets=""
for o in $objs; do targets="$targets $O/$o.o"; done
make -s O="$O" CFLAGS="${CFLAGS:--O2 -g}" $targets
$CC -O2 -g -D_GNU_SOURCE -I. -o "$O/bench_proc" bench/bench_proc.c $targets
ulimit -u unlimited 2>/dev/null || true
exec "$O/bench_proc" "${1:-2000}" "${2:-15}"
