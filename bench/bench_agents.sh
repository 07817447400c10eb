#!/bin/sh
# bench_agents.sh - N agents (default 10,000) connected to one `nestd
# server` over its Unix socket: the server's resident memory per connection
# and the time to route one command while they are all connected.
#
#   sh bench/bench_agents.sh          (env: N=10000, NESTD)
#
# Agents: bench/manyagents.c, one process holding N WebSocket connections
# that authenticate with N tokens (written straight into the token file as
# "NAME agent SHA256(TOKEN) 0" lines, tokens in the reference format) and
# answer every command at once.  Bounded: gives up after 100 s.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
PY=/usr/bin/python3
NESTD=${NESTD:-$root/nestd}
N=${N:-10000}
RN=${RN:-300}

ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((N + 100)) ] || { echo "ulimit -n $(ulimit -n) is too low for $N agents" >&2; exit 1; }
make -s nestd >/dev/null
mkdir -p bench/out
cc -O2 -Wall -o bench/out/manyagents bench/manyagents.c
cc -O2 -Wall -o bench/out/loadgen bench/loadgen.c
tmp=$(mktemp -d /tmp/nestd-bench-agents.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
umask 077
start=$(date +%s)

# N agent tokens in the reference format, straight into the token file.
$PY - "$N" "$tmp/tokens" "$tmp/agents" <<'EOF'
import hashlib, os, sys
n, tf, af = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(tf, "w") as t, open(af, "w") as a:
    for i in range(n):
        h = os.urandom(32).hex()
        tok = h + "." + hashlib.sha256(h.encode()).hexdigest()[:8]
        name = "ag%05d" % i
        t.write("%s agent %s 0\n" % (name, hashlib.sha256(tok.encode()).hexdigest()))
        a.write("%s %s\n" % (name, tok))
EOF
"$NESTD" token new op --role operator --tokens "$tmp/tokens" >"$tmp/op.token" 2>/dev/null
"$NESTD" token new probe --tokens "$tmp/tokens" >"$tmp/probe.token" 2>/dev/null
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$NESTD" server --listen "127.0.0.1:$port" --listen "unix:$tmp/s.sock" --tokens "$tmp/tokens" \
	--log-level ${LOG_LEVEL:-warn} 2>"$tmp/server.log" &
spid=$!; pids="$pids $spid"
i=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
	sleep 0.05
done
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
sleep 0.3

# A real `nestd agent` ("probe", its own process polling one socket): the
# route time to it isolates the server's cost from the load agents'.
"$NESTD" agent --server "unix:$tmp/s.sock" --token-file "$tmp/probe.token" --log-level warn \
	2>"$tmp/probe.log" &
pids="$pids $!"
i=0
until curl -sf -H "Authorization: Bearer $(cat "$tmp/op.token")" "http://127.0.0.1:$port/api/clients/probe" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "probe agent did not connect" >&2; exit 1; }
	sleep 0.05
done
lg() {   # lg AGENT COUNT
	bench/out/loadgen -a "127.0.0.1:$port" -c 1 -n "$2" -p "/api/clients/$1/commands" \
		-b '{"message":"bench_noop"}' -t "$tmp/op.token" -e response_bench_noop || true
}
r_base=$(lg probe 2000)
idle=$(rss $spid)

bench/out/manyagents "unix:$tmp/s.sock" "$tmp/agents" >"$tmp/many.out" 2>"$tmp/many.err" &
mpid=$!; pids="$pids $mpid"
i=0
until grep -q "^ready" "$tmp/many.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -ge 1800 ] || ! kill -0 $mpid 2>/dev/null; then
		echo "agents did not all connect in 90 s" >&2
		tail -5 "$tmp/many.err" "$tmp/server.log" >&2
		exit 1
	fi
	sleep 0.05
done
connect_s=$(awk '{ print $3 }' "$tmp/many.out")
sleep 1
full=$(rss $spid)
agents=$(curl -s "http://127.0.0.1:$port/healthz" | sed -n 's/.*"agents":\([0-9]*\).*/\1/p')
echo "agents connected:        $agents = $N load agents + the probe (over unix:, $N authenticated in ${connect_s} s)"
echo "server RSS idle:         $idle KiB ($N tokens loaded, the probe connected, 2000 commands routed)"
echo "server RSS with $N:   $full KiB"
awk -v a="$idle" -v b="$full" -v n="$N" 'BEGIN { printf "RSS per connection:      %.2f KiB   (target < 8 KiB)\n", (b - a) / n }'

# The server's CPU while the N agents sit idle (pings every 20 s each).
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime+stime, clock ticks
hz=$(getconf CLK_TCK)
i0=$(cpu $spid); sleep 5; i1=$(cpu $spid)
awk -v a="$i0" -v b="$i1" -v hz="$hz" -v n="$N" \
	'BEGIN { printf "server CPU, %d agents idle, before the first pings: %.0f%% of one core (5 s)\n", n, (b - a) / hz / 5 * 100 }'
sleep 12    # the server pings each silent agent 20 s after its last frame
i0=$(cpu $spid); sleep 5; i1=$(cpu $spid)
awk -v a="$i0" -v b="$i1" -v hz="$hz" -v n="$N" \
	'BEGIN { printf "server CPU, %d agents idle, pinging each every 20 s: %.0f%% of one core (5 s)\n", n, (b - a) / hz / 5 * 100 }'

# Route time: 50 commands to random load agents (Python http.client, one
# keep-alive connection; includes manyagents' own poll over N sockets),
# then exact per-request figures with the C load generator to the probe.
route=$($PY - "$port" "$tmp/op.token" "$N" <<'EOF'
import http.client, json, random, statistics, sys, time
port, tok, n = int(sys.argv[1]), open(sys.argv[2]).read().strip(), int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
lat, bad = [], 0
for i in range(60):
    name = "ag%05d" % random.randrange(n)
    t = time.perf_counter()
    c.request("POST", "/api/clients/%s/commands" % name, json.dumps({"message": "bench_noop"}), h)
    r = c.getresponse()
    body = r.read()
    if i >= 10:
        lat.append((time.perf_counter() - t) * 1e6)
        bad += r.status != 200 or b"response_bench_noop" not in body
print("median_us=%.0f p90_us=%.0f max_us=%.0f bad=%d" % (statistics.median(lat),
      sorted(lat)[44], max(lat), bad))
EOF
)
s0=$(cpu $spid); m0=$(cpu $mpid)
r_probe=$(lg probe "$RN")
s1=$(cpu $spid); m1=$(cpu $mpid)
per() { awk -v a="$1" -v b="$2" -v hz="$hz" -v rn="$RN" 'BEGIN { printf "%.0f", (b - a) / hz * 1e6 / rn }'; }
peak=$(hwm $spid)

echo "server peak RSS (VmHWM): $peak KiB"
echo "route, 50 random agents (python http.client, keep-alive): $route"
echo "route to the probe agent, alone (C loadgen, 2000 sequential):        $r_base"
echo "route to the probe agent, $N connected (C loadgen, $RN sequential): $r_probe"
echo "CPU per command routed to the probe while $N are connected: server $(per "$s0" "$s1") us (manyagents $(per "$m0" "$m1") us)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench time: $(( $(date +%s) - start )) s"
