#!/bin/sh
# bench_agent_instr.sh - the agent builds compared by the instructions
# they execute (valgrind --tool=callgrind), which unlike wall-clock time
# repeat exactly on a shared, noisy machine: N obtain_process_info round
# trips 1 in flight and N with 32 in flight (bench/bench_agent.c with
# BENCH_FIXED=N), whole process included (start-up, handshake), for
# ./nestd (glibc) and ./nestd-static, ./nestd-agent-static (musl).
#   sh bench/bench_agent_instr.sh [N]        (default 5000; ~1 min)
# Prints instructions per round trip and the static/glibc ratio (target:
# within 10 %).  Syscalls are the kernel's and not counted: this is the
# user-space share, where the C library differs.
set -eu
cd "$(dirname "$0")/.."
O=${O:-build}
N=${1:-5000}
command -v valgrind >/dev/null || { echo "bench_agent_instr: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
make -s O="$O" nestd "$O/sha1.o" "$O/md.o" "$O/base64.o"
[ -x ./nestd-static ] || make -s static >/dev/null
[ -x ./nestd-agent-static ] || make -s static-agent >/dev/null
cc -O2 -g -Wall -Wextra -D_GNU_SOURCE -I. -o "$O/bench_agent" bench/bench_agent.c \
	"$O/sha1.o" "$O/md.o" "$O/base64.o"
tmp=$(mktemp -d /tmp/nestd-bench-instr.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
h=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
BENCH_TOKEN="$h.$(printf %s "$h" | sha256sum | cut -c1-8)"
export BENCH_TOKEN
for b in nestd nestd-static nestd-agent-static; do
	printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s/%s.out %s/%s "$@"\n' \
		"$tmp" "$b" "$PWD" "$b" >"$tmp/$b.sh"
	chmod +x "$tmp/$b.sh"
done
BENCH_FIXED=$N timeout 600 "$O/bench_agent" -n 0 -r 1 -l 0 "glibc=$tmp/nestd.sh" \
	"static=$tmp/nestd-static.sh" "agent-static=$tmp/nestd-agent-static.sh" >/dev/null 2>&1 || true
ir() { sed -n 's/^summary: *//p; s/^totals: *//p' "$tmp/$1.out" | head -1; }
g=$(ir nestd)
echo "instructions per obtain_process_info round trip ($N 1-deep + $N 32-deep, whole process):"
for b in nestd nestd-static nestd-agent-static; do
	i=$(ir "$b")
	awk -v i="$i" -v g="$g" -v n="$N" -v b="$b" 'BEGIN {
		printf "  %-20s %8.0f   %.2fx the glibc build (target <= 1.10)\n", b, i / (2 * n), i / g }'
done
