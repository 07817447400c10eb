#!/bin/sh
# demo.sh - builds nestd and starts, on loopback, a server with a state
# directory of its own and one local agent connected to it, then prints the
# `nestd ctl` lines to try.   sh demo.sh        start (or restart)
#                             sh demo.sh stop   stop both
set -eu
cd "$(dirname "$0")"
dir=${NESTD_DEMO_DIR:-$PWD/.demo}
port=${NESTD_DEMO_PORT:-8989}

stop() {
	for p in agent server; do
		if [ -f "$dir/$p.pid" ]; then
			kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
			rm -f "$dir/$p.pid"
		fi
	done
}

if [ "${1:-}" = stop ]; then
	stop
	echo "demo stopped (state kept in $dir)"
	exit 0
fi

sh ./deps.sh
make -s nestd
stop
sleep 0.3
mkdir -p "$dir"
chmod 700 "$dir"
for t in local:agent operator:operator; do
	name=${t%%:*} role=${t#*:}
	if [ ! -s "$dir/$name.token" ]; then
		./nestd token revoke "$name" --tokens "$dir/tokens" 2>/dev/null || true
		(umask 077; ./nestd token new "$name" --role "$role" --tokens "$dir/tokens" \
			>"$dir/$name.token" 2>/dev/null)
	fi
done
./nestd server --listen "127.0.0.1:$port" --listen "unix:$dir/nest.sock" \
	--state-dir "$dir" --audit-log "$dir/audit.log" 2>>"$dir/server.log" &
echo $! >"$dir/server.pid"
i=0
while [ ! -S "$dir/nest.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
./nestd agent --server "unix:$dir/nest.sock" --token-file "$dir/local.token" \
	2>>"$dir/agent.log" &
echo $! >"$dir/agent.pid"
export NESTD_SERVER="http://127.0.0.1:$port" NESTD_TOKEN_FILE="$dir/operator.token"
i=0
until ./nestd ctl clients 2>/dev/null | grep -q '^local '; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		echo "the agent did not connect; see $dir/server.log and $dir/agent.log" >&2
		exit 1
	fi
	sleep 0.1
done
cat <<MSG

nestd is running: a server on 127.0.0.1:$port and unix:$dir/nest.sock,
and an agent named "local" connected to it.  Logs and the audit log are in
$dir.  Try:

  export NESTD_SERVER=$NESTD_SERVER NESTD_TOKEN_FILE=$NESTD_TOKEN_FILE
  ./nestd ctl clients
  ./nestd ctl ps local
  ./nestd ctl proc local $(cat "$dir/agent.pid")
  ./nestd ctl sysinfo local
  ./nestd ctl services local
  ./nestd ctl exec local -- uname -a
  curl -s -H "Authorization: Bearer \$(cat $dir/operator.token)" http://127.0.0.1:$port/api/clients
  curl -s http://127.0.0.1:$port/metrics

Stop it with: sh demo.sh stop
MSG
