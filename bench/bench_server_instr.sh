#!/bin/sh
# bench_server_instr.sh - the server's own work, counted in instructions
# (valgrind's callgrind), so builds can be compared on a shared, noisy
# machine where wall-clock figures swing: per relayed operator request
# (HTTP -> agent -> reply), per GET /healthz (answered by the server
# itself), and per full TLS handshake (curl, TLS 1.2, a fresh P-256
# certificate).  Each binary is counted in the same run over the same
# requests; only the server runs under callgrind (the agent and the load
# generator run natively), and its counters are zeroed after start-up and
# dumped after each phase, so start-up costs nothing in the figures.
#
#   sh bench/bench_server_instr.sh [N]     (N relayed requests and /healthz, default 3000;
#                                           N/20 handshakes)
#   env BINS="./nestd ./nestd-static"      the servers to count (the first is the reference)
#
# Why: the static builds are chosen for size (-Oz, no jump tables, our own
# malloc); this shows what that costs the server per request, next to
# bench_agent_instr.sh for the agent.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-3000}
H=$((N / 20)); [ "$H" -ge 5 ] || H=5
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
	{ echo "bench_server_instr: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
command -v openssl >/dev/null && command -v curl >/dev/null ||
	{ echo "bench_server_instr: needs openssl and curl" >&2; exit 1; }
make -s nestd >/dev/null
[ -x ./nestd-static ] || make -s static >/dev/null
BINS=${BINS:-./nestd ./nestd-static}
mkdir -p bench/out
cc -O2 -Wall -o bench/out/loadgen bench/loadgen.c
bench_tmp srvinstr

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 -subj /CN=localhost >/dev/null 2>&1
"$NESTD" token new op --role operator --tokens "$tmp/tokens" >"$tmp/op.token" 2>/dev/null
"$NESTD" token new bench --tokens "$tmp/tokens" >"$tmp/agent.token" 2>/dev/null
body='{"message":"kill_process","payload":{"pid":0}}'

# The instructions callgrind has counted since the last zeroing, from the
# dump it writes on --dump (the newest file of the run).
counted() {
	callgrind_control --dump "$1" >/dev/null 2>&1 || return 1
	f=$(ls -t "$tmp"/cg.out.* 2>/dev/null | head -n 1)
	sed -n 's/^summary: *//p; s/^totals: *//p' "$f" | head -n 1
}

# count BIN: prints "relay healthz handshake" instructions, each per request.
count() {
	rm -f "$tmp"/cg.out*
	port=$(freeport); tport=$(freeport)
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$1" server \
		--listen "127.0.0.1:$port" --listen "tls:127.0.0.1:$tport" \
		--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
		--tokens "$tmp/tokens" --log-level warn 2>"$tmp/server.log" &
	spid=$!; pids="$pids $spid"
	waitfor 60 curl -sf "http://127.0.0.1:$port/healthz"
	"$NESTD" agent --server "ws://127.0.0.1:$port/" --token-file "$tmp/agent.token" \
		--log-level warn 2>"$tmp/agent.log" &
	apid=$!; pids="$pids $apid"
	waitfor 60 sh -c "curl -sf -H \"Authorization: Bearer \$(cat $tmp/op.token)\" http://127.0.0.1:$port/api/clients | grep -q '\"bench\"'"
	lg() { bench/out/loadgen -a "127.0.0.1:$port" "$@" >"$tmp/lg.out" || { cat "$tmp/lg.out" >&2; return 1; }; }
	lg -c 4 -n 200 -p /api/clients/bench/commands -b "$body" -t "$tmp/op.token" -e response_kill_process
	callgrind_control --zero "$spid" >/dev/null 2>&1
	lg -c 32 -n "$N" -p /api/clients/bench/commands -b "$body" -t "$tmp/op.token" -e response_kill_process
	r=$(counted "$spid")
	callgrind_control --zero "$spid" >/dev/null 2>&1
	lg -c 1 -n "$N" -p /healthz -e '"ok"'
	h=$(counted "$spid")
	callgrind_control --zero "$spid" >/dev/null 2>&1
	i=0
	while [ $i -lt "$H" ]; do
		curl -sfk --tls-max 1.2 -o /dev/null "https://127.0.0.1:$tport/healthz"
		i=$((i + 1))
	done
	t=$(counted "$spid")
	kill "$apid" "$spid" 2>/dev/null || true
	wait "$apid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	pids=""
	echo "$r $h $t" | awk -v n="$N" -v hs="$H" '{ printf "%.0f %.0f %.0f\n", $1 / n, $2 / n, $3 / hs }'
}

echo "server instructions per request (callgrind; $N relayed kill_process with 32 operators," \
	"$N GET /healthz with 1, $H full TLS 1.2 handshakes by curl):"
printf '  %-26s %10s %10s %12s\n' "" relayed /healthz handshake
ref=""
for b in $BINS; do
	set -- $(count "$b")
	[ -n "$ref" ] || ref="$1 $2 $3"
	echo "$ref" | awk -v b="$b" -v r="$1" -v h="$2" -v t="$3" '{
		printf "  %-26s %10d %10d %12d   %.3fx %.3fx %.3fx the first\n", b, r, h, t, r / $1, h / $2, t / $3 }'
done
