#!/bin/sh
# bench_api.sh - operator round trips per second through the server
# (operator HTTP request -> agent -> reply), nestd against a reference stack
# on Python's websockets, and against the server's own ceiling: the same
# load generator asking GET /healthz, which the server answers itself,
# measured in the same run (issue 12's targets: the relay at >= 0.6x that
# ceiling with 1 and 32 operators, p99 < 2 ms at 32).
#
#   sh bench/bench_api.sh            (env: N1, N32 request counts; NESTD)
#
# The command is one both agents answer from its payload alone:
# kill_process with pid 0, refused with a command_response_error (HTTP 200
# from both servers; a command the agent did not announce would be the
# server's 409, never relayed).  nestd: `nestd server` + a real `nestd
# agent`.  Reference: bench/ref_server.py (asyncio HTTP + websockets
# server, the bot's work) + test/api_fakes.py noid (a websockets client
# answering in order without ids, as the reference client did).  Load:
# bench/loadgen.c (C, poll, keep-alive, one request in flight per
# connection, every latency recorded).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
N1=${N1:-20000}
N32=${N32:-100000}
RN1=${RN1:-3000}
RN32=${RN32:-10000}

make -s nestd >/dev/null
mkdir -p bench/out
cc -O2 -Wall -o bench/out/loadgen bench/loadgen.c
bench_tmp api

"$NESTD" token new op --role operator --tokens "$tmp/tokens" >"$tmp/op.token" 2>/dev/null
"$NESTD" token new bench --tokens "$tmp/tokens" >"$tmp/agent.token" 2>/dev/null
port=$(freeport)
"$NESTD" server --listen "127.0.0.1:$port" --tokens "$tmp/tokens" --log-level warn 2>"$tmp/server.log" &
spid=$!; pids="$pids $spid"
waitfor 10 curl -sf "http://127.0.0.1:$port/healthz"
"$NESTD" agent --server "ws://127.0.0.1:$port/" --token-file "$tmp/agent.token" --log-level warn 2>"$tmp/agent.log" &
apid=$!; pids="$pids $apid"
waitfor 10 sh -c "curl -sf -H \"Authorization: Bearer \$(cat $tmp/op.token)\" http://127.0.0.1:$port/api/clients | grep -q '\"bench\"'"

wsport=$(freeport); rport=$(freeport)
$PY bench/ref_server.py "$wsport" "$rport" "$tmp/op.token" >"$tmp/ref.log" 2>&1 &
pids="$pids $!"
waitfor 10 grep -q ready "$tmp/ref.log"
$PY test/api_fakes.py noid "ws://127.0.0.1:$wsport/" "$tmp/agent.token" >"$tmp/refclient.log" 2>&1 &
pids="$pids $!"
waitfor 10 grep -q authenticated "$tmp/refclient.log"

body='{"message":"kill_process","payload":{"pid":0}}'
path=/api/clients/bench/commands
lg() {   # lg ADDR CONNS N
	bench/out/loadgen -a "$1" -c "$2" -n "$3" -p "$path" -b "$body" -t "$tmp/op.token" \
		-e response_kill_process || true
}
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime+stime, clock ticks
hz=$(getconf CLK_TCK)
cpu_per_req() {   # cpu_per_req BEFORE AFTER N: microseconds of CPU per request
	awk -v a="$1" -v b="$2" -v n="$3" -v hz="$hz" 'BEGIN { printf "%.0f", (b - a) / hz * 1e6 / n }'
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

echo "command: kill_process with pid 0 (refused from the payload alone by both agents: an error reply, no system call)"
echo "machine: $(nproc) CPUs, $(uname -sr)"
lg "127.0.0.1:$port" 1 1000 >/dev/null            # warm up
lg "127.0.0.1:$rport" 1 300 >/dev/null
s0=$(cpu $spid); a0=$(cpu $apid)
n1=$(lg "127.0.0.1:$port" 1 "$N1")
s1=$(cpu $spid); a1=$(cpu $apid)
n32=$(lg "127.0.0.1:$port" 32 "$N32")
s2=$(cpu $spid); a2=$(cpu $apid)
h1=$(bench/out/loadgen -a "127.0.0.1:$port" -c 1 -n "$N1" -p /healthz -e '"ok"' || true)
h32=$(bench/out/loadgen -a "127.0.0.1:$port" -c 32 -n "$N32" -p /healthz -e '"ok"' || true)
r1=$(lg "127.0.0.1:$rport" 1 "$RN1")
r32=$(lg "127.0.0.1:$rport" 32 "$RN32")
echo "ceiling    1 operator : $h1   (GET /healthz: the server answers itself)"
echo "ceiling   32 operators: $h32"
echo "nestd      1 operator : $n1"
echo "nestd     32 operators: $n32"
echo "reference  1 operator : $r1"
echo "reference 32 operators: $r32"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\n%-24s %12s %12s %8s\n' "" "nestd" "reference" "ratio"
printf '%-24s %12s %12s %7sx\n' "rps, 1 operator" "$(field "$n1" rps)" "$(field "$r1" rps)" \
	"$(ratio "$(field "$n1" rps)" "$(field "$r1" rps)")"
printf '%-24s %12s %12s %7sx\n' "rps, 32 operators" "$(field "$n32" rps)" "$(field "$r32" rps)" \
	"$(ratio "$(field "$n32" rps)" "$(field "$r32" rps)")"
for c in 1 32; do
	eval "a=\$n$c; b=\$r$c"
	printf '%-24s %12s %12s\n' "p50 us, $c op" "$(field "$a" p50_us)" "$(field "$b" p50_us)"
	printf '%-24s %12s %12s\n' "p99 us, $c op" "$(field "$a" p99_us)" "$(field "$b" p99_us)"
done
echo "nestd CPU per request (us): 1 op: server $(cpu_per_req "$s0" "$s1" "$N1"), agent $(cpu_per_req "$a0" "$a1" "$N1");" \
	"32 ops: server $(cpu_per_req "$s1" "$s2" "$N32"), agent $(cpu_per_req "$a1" "$a2" "$N32")"
echo "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
ok=yes
for c in 1 32; do
	eval "a=\$n$c; b=\$r$c"
	[ "$(field "$a" bad)" = 0 ] || { echo "nestd: $(field "$a" bad) bad answers with $c operators"; ok=no; }
	[ "$(field "$b" bad)" = 0 ] || echo "reference: $(field "$b" bad) bad answers with $c operators"
done
echo
echo "targets: relay >= 0.6x the server's own ceiling (same loadgen, same run):" \
	"1 op $(field "$n1" rps)/$(field "$h1" rps) = $(ratio2 "$(field "$n1" rps)" "$(field "$h1" rps)")," \
	"32 ops $(field "$n32" rps)/$(field "$h32" rps) = $(ratio2 "$(field "$n32" rps)" "$(field "$h32" rps)");" \
	"p99 at 32 operators $(field "$n32" p99_us) us < 2000 us: ratio $(ratio2 "$(field "$n32" p99_us)" 2000)"
echo "targets: nestd >= 10x the reference's throughput: 1 op $(ratio "$(field "$n1" rps)" "$(field "$r1" rps)")x," \
	"32 ops $(ratio "$(field "$n32" rps)" "$(field "$r32" rps)")x; p99 < 5000 us: 1 op $(field "$n1" p99_us)," \
	"32 ops $(field "$n32" p99_us)"
[ $ok = yes ]
