# bench/lib.sh - what the benchmark scripts share; sourced from the
# project's root (. bench/lib.sh) after `set -eu`.
root=$PWD
PY=/usr/bin/python3
NESTD=${NESTD:-$root/nestd}

# bench_tmp NAME: a private scratch folder, $tmp, and $pids, the processes
# to stop; at exit (or a signal) each is killed and waited for and the
# folder removed (KEEP=1 keeps it).  Files made from here on are 0600.
bench_tmp() {
	tmp=$(mktemp -d "/tmp/nestd-bench-$1.XXXXXX")
	pids=""
	trap bench_cleanup EXIT INT TERM
	umask 077
	start=$(date +%s)
}

bench_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}

# A TCP port on the loopback that nothing listens on now.
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# waitfor SECONDS COMMAND...: until the command succeeds; exits the script
# when it has not within SECONDS.
waitfor() {
	t=$1; shift; i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt $((t * 20)) ] && { echo "timed out: $*" >&2; exit 1; }
		sleep 0.05
	done
}

# wait_ready SECONDS PID OUT ERRLOG...: until the agents' driver (PID,
# bench/manyagents.c) prints "ready" in OUT; exits the script, with the
# tails of the logs, when it dies first or SECONDS pass.
wait_ready() {
	_secs=$1 _pid=$2 _out=$3; shift 3; _i=0
	until grep -q "^ready" "$_out" 2>/dev/null; do
		_i=$((_i + 1))
		if [ $_i -ge $((_secs * 20)) ] || ! kill -0 "$_pid" 2>/dev/null; then
			echo "agents did not all connect in $_secs s" >&2
			tail -5 "$@" >&2
			exit 1
		fi
		sleep 0.05
	done
}
