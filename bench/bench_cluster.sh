#!/bin/sh
# bench_cluster.sh - a fleet on loopback: three nats-server nodes (JetStream,
# cluster routes, three replicas) and three `nestd server --cluster`.
#
#   1. Routed round trips: operator -> server -> agent -> reply, to one real
#      `nestd agent` on server A (obtain_process_info of pid 1), asked on A
#      itself (local) and on B (routed over NATS to A), interleaved in the
#      same run: p50/p99 of each and what the routing adds (target: under
#      1 ms at p99 on loopback).
#   2. N agents (default 30,000) spread over the three servers
#      (bench/manyagents.c, one process per server): how long until every
#      server lists the whole fleet, then GET /api/clients (the whole
#      fleet, every agent with its server) timed on each server; the round
#      trips again while they are all connected; each server's RSS.
#
#   sh bench/bench_cluster.sh        (env: N=30000, RT=5000 round trips, NESTD)
#
# Tokens: N agent tokens in the reference format, written as a token file
# and imported once into the fleet's store (nestd token import --cluster).
# Needs nats-server (test/cluster/setup.sh) and a nestd built with libnats.
# Bounded: every wait gives up (240 s for the agents to connect, 120 s for every server to list them).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-30000}
RT=${RT:-5000}
PER=$(( (N + 2) / 3 ))

command -v nats-server >/dev/null || { echo "no nats-server: sh test/cluster/setup.sh" >&2; exit 1; }
ulimit -n $((PER + 2000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((PER + 500)) ] || { echo "ulimit -n $(ulimit -n) is too low for $PER agents a server" >&2; exit 1; }
make -s nestd >/dev/null
"$NESTD" --version | grep -q "clustering: yes" || { echo "$NESTD is built without NATS" >&2; exit 1; }
mkdir -p bench/out
cc -O2 -Wall -o bench/out/manyagents bench/manyagents.c
cc -O2 -Wall -o bench/out/loadgen bench/loadgen.c
bench_tmp cluster
now() { $PY -c 'import time; print("%.3f" % time.monotonic())'; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

# ---- three NATS nodes ----
for i in 1 2 3; do
	eval "np$i=$(freeport) cp$i=$(freeport) mp$i=$(freeport)"
done
urls="nats://127.0.0.1:$np1,nats://127.0.0.1:$np2,nats://127.0.0.1:$np3"
for i in 1 2 3; do
	eval "p=\$np$i c=\$cp$i m=\$mp$i"
	routes=""
	for j in 1 2 3; do
		[ $j = $i ] && continue
		eval "routes=\"\${routes:+\$routes,}nats://127.0.0.1:\$cp$j\""
	done
	nats-server -n "n$i" -a 127.0.0.1 -p "$p" -m "$m" -js -sd "$tmp/js$i" --cluster_name bench \
		--cluster "nats://127.0.0.1:$c" --routes "$routes" >"$tmp/nats$i.log" 2>&1 &
	pids="$pids $!"
done
waitfor 60 sh -c "curl -sf http://127.0.0.1:$mp1/jsz | grep -q '\"leader\"'"

# ---- tokens, into the fleet's store ----
$PY - "$N" "$tmp" <<'EOF'
import hashlib, os, sys
n, d = int(sys.argv[1]), sys.argv[2]
def tok():
    h = os.urandom(32).hex()
    return h + "." + hashlib.sha256(h.encode()).hexdigest()[:8]
per = (n + 2) // 3
files = [open("%s/agents.%d" % (d, k), "w") for k in range(3)]
with open(d + "/tokens", "w") as t:
    for name, role in (("op", "operator"), ("probe", "agent")):
        x = tok()
        t.write("%s %s %s 0\n" % (name, role, hashlib.sha256(x.encode()).hexdigest()))
        with open("%s/%s.token" % (d, name), "w") as f:
            f.write(x + "\n")
    for i in range(n):
        x = tok()
        name = "ag%05d" % i
        t.write("%s agent %s 0\n" % (name, hashlib.sha256(x.encode()).hexdigest()))
        files[i // per].write("%s %s\n" % (name, x))
EOF
chmod 600 "$tmp"/*.token
t0=$(now)
"$NESTD" token import --tokens "$tmp/tokens" --cluster "$urls" 2>"$tmp/import.log" ||
	{ cat "$tmp/import.log" >&2; exit 1; }
t1=$(now)
echo "tokens: $((N + 2)) imported into the fleet's store in $($PY -c "print('%.1f' % ($t1 - $t0))") s"

# ---- three servers ----
for s in A B C; do
	eval "port$s=$(freeport)"
	eval "port=\$port$s"
	"$NESTD" server --listen "127.0.0.1:$port" --listen "unix:$tmp/$s.sock" --state-dir "$tmp/state$s" \
		--cluster "$urls" --node "$s" --log-level warn 2>"$tmp/server$s.log" &
	eval "pid$s=$!"
	pids="$pids $!"
done
for s in A B C; do
	eval "port=\$port$s"
	waitfor 60 sh -c "curl -sf http://127.0.0.1:$port/healthz | grep -q '\"ready\":true'"
done
op="Authorization: Bearer $(cat "$tmp/op.token")"
"$NESTD" agent --server "unix:$tmp/A.sock" --token-file "$tmp/probe.token" --services none \
	--log-level warn 2>"$tmp/probe.log" &
pids="$pids $!"
waitfor 30 sh -c "curl -sf -H '$op' http://127.0.0.1:$portB/api/clients/probe | grep -q '\"server\":\"A\"'"

# The command: one the agent announces (a server never sends it another)
# and answers from /proc at once, the same work on both paths.
lg() {   # lg SERVER_PORT COUNT: the loadgen line
	bench/out/loadgen -a "127.0.0.1:$1" -c 1 -n "$2" -p "/api/clients/probe/commands" \
		-b '{"message":"obtain_process_info","payload":{"pid":1}}' -t "$tmp/op.token" \
		-e response_obtain_process_info || true
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
roundtrips() {   # roundtrips LABEL
	lg "$portA" 500 >/dev/null          # warm up both paths
	lg "$portB" 500 >/dev/null
	l1=$(lg "$portA" "$RT"); r1=$(lg "$portB" "$RT")
	l2=$(lg "$portA" "$RT"); r2=$(lg "$portB" "$RT")
	for k in 1 2; do
		eval "l=\$l$k r=\$r$k"
		echo "$1 round $k: local (asked on A)  $l"
		echo "$1 round $k: routed (asked on B) $r"
		echo "$1 round $k: routing adds p50 $(( $(field "$r" p50_us) - $(field "$l" p50_us) )) us," \
			"p99 $(( $(field "$r" p99_us) - $(field "$l" p99_us) )) us (target: p99 < 1000 us)"
	done
}
roundtrips "idle fleet"

# ---- N agents over the three servers ----
t0=$(now)
for k in 0 1 2; do
	s=$(echo ABC | cut -c$((k + 1)))
	bench/out/manyagents "unix:$tmp/$s.sock" "$tmp/agents.$k" >"$tmp/many$k.out" 2>&1 &
	pids="$pids $!"
done
for k in 0 1 2; do
	waitfor 240 grep -q '^ready' "$tmp/many$k.out"
done
t1=$(now)
count() { curl -sf -H "$op" "http://127.0.0.1:$1/api/clients" | grep -o '"name":' | wc -l; }
for s in A B C; do
	eval "port=\$port$s"
	waitfor 120 sh -c "[ \$(curl -sf -H '$op' http://127.0.0.1:$port/api/clients | grep -o '\"name\":' | wc -l) -eq $((N + 1)) ]"
done
t2=$(now)
echo "agents: $N authenticated over three servers in $($PY -c "print('%.1f' % ($t1 - $t0))") s;" \
	"every server lists all $((N + 1)) after $($PY -c "print('%.1f' % ($t2 - $t0))") s"
for s in A B C; do
	eval "port=\$port$s pid=\$pid$s"
	times=""
	for i in 1 2 3 4 5; do
		times="$times $(curl -s -o "$tmp/list" -w '%{time_total}' -H "$op" "http://127.0.0.1:$port/api/clients")"
	done
	med=$(echo "$times" | tr ' ' '\n' | grep . | sort -n | sed -n 3p)
	echo "GET /api/clients on $s: $(grep -o '"name":' "$tmp/list" | wc -l) agents," \
		"$(wc -c < "$tmp/list") bytes, median of 5: ${med} s (runs:$times); RSS $(rss "$pid") kB"
done
sleep 5      # the claims, the watches and the token store settle
roundtrips "$N agents connected"
