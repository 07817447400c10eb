#!/bin/sh
# bench_storm.sh - a reconnect storm absorbed (issue 12): N agents
# (default 10,000; bench/manyagents.c) connected over wss:// to one `nestd
# server`, the server restarted (SIGTERM, then started again on the same
# addresses and state), and every agent back with the backoff nestd agent
# uses (full jitter from 1 s).  Printed, in one run:
#   - the time until the last agent is back, and the server's CPU in it
#   - refusals of valid tokens (target: 0)
#   - TLS sessions resumed and full handshakes: the server writes its
#     session cache beside the token file at SIGTERM and reads it back, the
#     agents offer their sessions again
#   - operators answered meanwhile (4 of them, GET /api/me every 5 ms each
#     on the plain loopback listener): their p50/p99 during the storm
# then the same storm without the saved sessions (the file removed before
# the restart), for comparison.
#
#   sh bench/bench_storm.sh          (env: N=10000, NESTD, KEY=ec|rsa)
#
# The agents run at the lowest priority (nice 19): here they share the
# server's two cores, which on a real network they would not.
# Bounded: every wait gives up (connecting 120 s, each storm 180 s), the
# agents exit by themselves after 600 s, and everything started is killed
# at the end.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-10000}
KEY=${KEY:-ec}

ulimit -n $((N + 2000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((N + 200)) ] || { echo "ulimit -n $(ulimit -n) is too low for $N agents" >&2; exit 1; }
make -s nestd >/dev/null
"$NESTD" --version | grep -q 'TLS: yes' || { echo "bench_storm: $NESTD has no TLS" >&2; exit 1; }
make -s build/base64.o
mkdir -p bench/out
cc -O2 -Wall -DBENCH_TLS=1 -I. -o bench/out/manyagents-tls bench/manyagents.c build/base64.o -l:libbearssl.a
cc -O2 -Wall -o bench/out/loadgen bench/loadgen.c
bench_tmp storm

if [ "$KEY" = rsa ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
		-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
else
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
		-out "$tmp/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
fi
$PY bench/mktokens.py "$N" "$tmp/tokens" "$tmp/agents"
"$NESTD" token new op --role operator --tokens "$tmp/tokens" >"$tmp/op.token" 2>/dev/null
tport=$(freeport); pport=$(freeport)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime+stime, clock ticks
hz=$(getconf CLK_TCK)
spid=""
serve() {   # serve LOGNAME: a server on both listeners, ready
	"$NESTD" server --listen "tls:127.0.0.1:$tport" --listen "127.0.0.1:$pport" \
		--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --tokens "$tmp/tokens" \
		--log-level info 2>"$tmp/$1.log" &
	spid=$!; pids="$pids $spid"
	i=0
	until curl -sf "http://127.0.0.1:$pport/healthz" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 400 ] || { echo "server did not start" >&2; cat "$tmp/$1.log" >&2; exit 1; }
		sleep 0.01
	done
}
serve server0
# The agents run niced: on a real network their CPU is not the server's.
nice -n 19 bench/out/manyagents-tls -t "$tmp/cert.pem" -R -T 600 "127.0.0.1:$tport" "$tmp/agents" \
	>"$tmp/many.out" 2>"$tmp/many.err" &
mpid=$!; pids="$pids $mpid"
wait_ready 120 $mpid "$tmp/many.out" "$tmp/many.err" "$tmp/server0.log"
echo "$N agents over wss:// ($KEY key), first connected in $(awk '{ print $3 }' "$tmp/many.out") s" \
	"(full handshakes, nothing to resume yet)"

storm() {   # storm NAME KEEP_SESSIONS: restart the server, wait for everyone
	nback=$(grep -c '^back' "$tmp/many.out" || true)
	kill -TERM "$spid"
	wait "$spid" 2>/dev/null || true
	[ "$2" = yes ] || rm -f "$tmp/tls-sessions"
	saved=$(sed -n 's/.*TLS sessions: \([0-9]*\) written.*/\1/p' "$tmp/$last.log" | tail -1)
	t0=$(date +%s.%N)
	serve "$1"
	c0=$(cpu "$spid")
	bench/out/loadgen -a "127.0.0.1:$pport" -c 4 -n 1000000 -d 600 -i 5000 -p /api/me \
		-t "$tmp/op.token" >"$tmp/$1.ops" 2>&1 &
	lpid=$!; pids="$pids $lpid"
	i=0
	until [ "$(grep -c '^back' "$tmp/many.out" || true)" -gt "$nback" ]; do
		i=$((i + 1))
		if [ $i -ge 3600 ]; then
			echo "storm $1: not everyone back in 180 s: $(curl -s "http://127.0.0.1:$pport/healthz")" >&2
			exit 1
		fi
		sleep 0.05
	done
	c1=$(cpu "$spid")
	t1=$(date +%s.%N)
	kill -INT "$lpid" 2>/dev/null || true
	wait "$lpid" 2>/dev/null || true
	line=$(grep '^back' "$tmp/many.out" | tail -1)
	ops=$(cat "$tmp/$1.ops")
	agents=$(curl -s "http://127.0.0.1:$pport/healthz" | sed -n 's/.*"agents":\([0-9]*\).*/\1/p')
	loaded=$(sed -n 's/.*TLS sessions: \([0-9]*\) read.*/\1/p' "$tmp/$1.log" | tail -1)
	echo "storm $1: sessions written at SIGTERM ${saved:-0}, read back ${loaded:-0};" \
		"the last agent back $(echo "$line" | awk '{ print $3 }') s after the first loss," \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after the restart; $agents agents"
	echo "  valid tokens refused: $(echo "$line" | awk '{ print $5 }') (target 0);" \
		"TLS resumed $(echo "$line" | awk '{ print $7 }'), full handshakes $(echo "$line" | awk '{ print $9 }')"
	echo "  server CPU from its start to the last one back: $(awk -v a="$c0" -v b="$c1" -v hz="$hz" \
		'BEGIN { printf "%.2f", (b - a) / hz }') s" \
		"($(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v s="$t0" -v e="$t1" \
		'BEGIN { printf "%.0f", (b - a) / hz / (e - s) * 100 }') % of one core)"
	echo "  operators meanwhile (GET /api/me, 4 connections, one request each per 5 ms): $ops"
	last=$1
}
last=server0
storm resumed yes
storm full no
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); bench time: $(( $(date +%s) - start )) s"
