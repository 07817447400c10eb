#!/bin/sh
# bench_agents.sh - N agents (default 100,000) connected to one `nestd
# server` over loopback TCP, spread over several 127.0.0.x source addresses
# (each has its own ~28,000 ephemeral ports toward the server), against
# the targets of issue 12:
#   - the server's resident memory per connection       <= 1.5 KiB
#   - its CPU while they all sit idle, over one whole ping interval (every
#     agent pinged once)                                 < 5 % of a core
#   - routing one command to a random agent, p99         < 1 ms
#   - GET /api/clients listing all of them               < 0.5 s
#
#   sh bench/bench_agents.sh          (env: N=100000, NESTD, PING=20)
#
# Agents: bench/manyagents.c, one epoll process holding N WebSocket
# connections that authenticate with N tokens (written straight into the
# token file in its format) and answer every command at once; a real
# `nestd agent` (the probe) beside them.  RLIMIT_NOFILE is raised for the
# server and the agents (root may raise the hard limit).  Bounded: every
# wait gives up (agents connecting: 240 s), the agents exit by themselves
# after 600 s, and everything started is killed at the end.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-100000}
PING=${PING:-20}
NSRC=$(( (N + 24999) / 25000 ))

# One descriptor per connection in one server process: its RLIMIT_NOFILE
# bounds N.  Root raises the hard limit only with CAP_SYS_RESOURCE; without
# it (some containers) N shrinks to what fits, and the figures that grow
# with N are also given scaled to the N asked for (they are linear in it:
# one record, one timer, one ping per agent).
ASKED=$N
want=$((N + 2000))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt "$want" ]; then
	N=$(( $(ulimit -n) - 1000 ))
	NSRC=$(( (N + 24999) / 25000 ))
	echo "note: RLIMIT_NOFILE is $(ulimit -n) and cannot be raised here (no CAP_SYS_RESOURCE:" \
		"$(grep CapEff /proc/self/status | tr -s '\t' ' ')), so one server holds at most that many" \
		"descriptors: measuring $N agents; per-agent figures hold for $ASKED, totals are scaled"
fi
[ "$N" -gt 100 ] || { echo "ulimit -n $(ulimit -n) is too low" >&2; exit 1; }
make -s nestd >/dev/null
mkdir -p bench/out
cc -O2 -Wall -o bench/out/manyagents bench/manyagents.c
cc -O2 -Wall -o bench/out/loadgen bench/loadgen.c
bench_tmp agents

$PY bench/mktokens.py "$N" "$tmp/tokens" "$tmp/agents"
"$NESTD" token new op --role operator --tokens "$tmp/tokens" >"$tmp/op.token" 2>/dev/null
"$NESTD" token new probe --tokens "$tmp/tokens" >"$tmp/probe.token" 2>/dev/null
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$NESTD" server --listen "127.0.0.1:$port" --listen "unix:$tmp/s.sock" --tokens "$tmp/tokens" \
	--ping-interval "$PING" --log-level "${LOG_LEVEL:-warn}" 2>"$tmp/server.log" &
spid=$!; pids="$pids $spid"
i=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 400 ] || { echo "server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
	sleep 0.05
done
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime+stime, clock ticks
hz=$(getconf CLK_TCK)
sleep 0.3

# A real `nestd agent` ("probe", its own process polling one socket).
"$NESTD" agent --server "unix:$tmp/s.sock" --token-file "$tmp/probe.token" --log-level warn \
	2>"$tmp/probe.log" &
pids="$pids $!"
i=0
until curl -sf -H "Authorization: Bearer $(cat "$tmp/op.token")" "http://127.0.0.1:$port/api/clients/probe" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "probe agent did not connect" >&2; exit 1; }
	sleep 0.05
done
lg() {   # lg PATH COUNT [-r N]
	p=$1; n=$2; shift 2
	bench/out/loadgen -a "127.0.0.1:$port" -c 1 -n "$n" -p "$p" \
		-b '{"message":"kill_process","payload":{"pid":0}}' \
		-t "$tmp/op.token" -e response_kill_process "$@" || true
}
r_base=$(lg /api/clients/probe/commands 2000)
idle=$(rss $spid)

bench/out/manyagents -s "$NSRC" -T 600 "127.0.0.1:$port" "$tmp/agents" >"$tmp/many.out" 2>"$tmp/many.err" &
mpid=$!; pids="$pids $mpid"
wait_ready 240 $mpid "$tmp/many.out" "$tmp/many.err" "$tmp/server.log"
connect_s=$(awk '{ print $3 }' "$tmp/many.out")
sleep 1
full=$(rss $spid)
agents=$(curl -s "http://127.0.0.1:$port/healthz" | sed -n 's/.*"agents":\([0-9]*\).*/\1/p')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
per_kib=$(awk -v a="$idle" -v b="$full" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')
echo "agents connected:        $agents = $N load agents (TCP from $NSRC source addresses, authenticated in ${connect_s} s) + the probe"
echo "server RSS idle:         $idle KiB (tokens loaded, the probe connected, 2000 commands routed)"
echo "server RSS with $N:  $full KiB"
echo "RSS per connection:      $per_kib KiB   (target <= 1.5 KiB: ratio $(ratio "$per_kib" 1.5))"

# Idle: one whole ping interval, once the first round of pings began (the
# server pings an agent PING s after its last frame; they connected over
# connect_s seconds, so after PING + 1 s every agent is in its cycle).
sleep "$PING"
i0=$(cpu $spid); sleep "$PING"; i1=$(cpu $spid)
idle_pct=$(awk -v a="$i0" -v b="$i1" -v hz="$hz" -v p="$PING" 'BEGIN { printf "%.1f", (b - a) / hz / p * 100 }')
idle_scaled=$(awk -v p="$idle_pct" -v n="$N" -v a="$ASKED" 'BEGIN { printf "%.1f", p * a / n }')
echo "server CPU, $N agents idle, each pinged once in the $PING s measured: $idle_pct % of one core;" \
	"for $ASKED: $idle_scaled % (target < 5 %: ratio $(ratio "$idle_scaled" 5))"

# Routing, and the list.
r_rand=$(lg "/api/clients/ag%05d/commands" 3000 -r "$N")
r_probe=$(lg /api/clients/probe/commands 2000)
p99() { echo "$1" | tr ' ' '\n' | sed -n 's/^p99_us=//p'; }
echo "route to a random agent, $N connected (C loadgen, 3000 sequential): $r_rand"
echo "route to the probe agent, $N connected (2000 sequential):          $r_probe"
echo "route to the probe agent, alone (2000 sequential):                  $r_base"
echo "routing p99: $(p99 "$r_rand") us to random agents (target < 1000 us: ratio $(ratio "$(p99 "$r_rand")" 1000))," \
	"$(p99 "$r_probe") us to the probe"
curl -s -o "$tmp/clients.json" -w '%{time_total} %{size_download}\n' \
	-H "Authorization: Bearer $(cat "$tmp/op.token")" "http://127.0.0.1:$port/api/clients" >"$tmp/list.t"
list_s=$(cut -d' ' -f1 "$tmp/list.t")
listed=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/clients.json")
list_scaled=$(awk -v t="$list_s" -v n="$N" -v a="$ASKED" 'BEGIN { printf "%.3f", t * a / n }')
echo "GET /api/clients: $listed agents, $(cut -d' ' -f2 "$tmp/list.t") bytes in $list_s s; for $ASKED:" \
	"$list_scaled s (target < 0.5 s: ratio $(ratio "$list_scaled" 0.5)); server peak RSS $(hwm $spid) KiB"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); bench time: $(( $(date +%s) - start )) s"
