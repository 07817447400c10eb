#!/bin/sh
# install.sh - installs, upgrades or removes the nestd agent on one machine.
#
#   curl -fsSL BASE/install.sh | sh -s -- --server wss://SERVER/ --token-file F
#   curl -fsSL https://SERVER/install.sh | sh -s -- --token-file F
#
# POSIX sh (dash, busybox ash).  It downloads BASE/nestd-agent-linux-ARCH,
# the agent-only build (or BASE/nestd-agent-VERSION-linux-ARCH with
# --version; the full nestd-linux-ARCH with --full, or when BASE has no
# agent-only build) and its .sha256, checks the
# sum before anything is installed, then writes the binary, the agent's
# config (mode 0600, the token in a file beside it: a token never goes on a
# command line) and a service (systemd unit, OpenRC script, or neither), and
# starts it.  Every path it creates is listed in a manifest, so a second run
# upgrades in place and --uninstall removes exactly those paths.
#
# `nestd server` serves this file at /install.sh with the two defaults below
# filled in (its own ws:// URL and its /dist download base): keep each on a
# line of its own, the server replaces the line by its prefix.
NESTD_DEFAULT_SERVER=''
NESTD_DEFAULT_BASE=''

PROG=nestd-install

usage() {
	# Run from a file: sh FILE; piped (curl ... | sh), $0 is the shell: then
	# the way to run it again is the pipe, with sh -s -- before the options.
	case $0 in
	*install.sh) _how="sh $0" ;;
	*) _how="curl -fsSL ${NESTD_DEFAULT_BASE:-SERVER/dist}" _how="${_how%/dist}/install.sh | sh -s --" ;;
	esac
	cat <<EOF
usage: $_how [OPTIONS]
  [--server URL] [--token-file FILE] [--base-url URL] [--version V] [--arch ARCH]
  [--full] [--init auto|systemd|openrc|none] [--user|--system] [--root DIR]
  [--no-start] [--migrate] [--uninstall]

Installs the nestd agent and its service; run again to upgrade.
  --server URL       the agent's server: ws://HOST[:PORT]/, wss://..., unix:PATH
                     (or \$NESTD_SERVER)${NESTD_DEFAULT_SERVER:+; default $NESTD_DEFAULT_SERVER}
  --token-file FILE  the agent's token (or \$NESTD_TOKEN): the bare token, or a
                     .env file with CLIENT_TOKEN=... (the original client's);
                     copied, mode 0600, into the config directory.  Never pass
                     a token as an argument.
  --base-url URL     where nestd-agent-linux-ARCH, nestd-linux-ARCH and their
                     .sha256 are (or \$NESTD_BASE_URL; a local directory works
                     too)${NESTD_DEFAULT_BASE:+; default $NESTD_DEFAULT_BASE}
  --version V        fetch version V instead of the newest
  --full             the full nestd (server, ctl, token tools too) instead of the
                     agent-only build fetched by default
  --arch ARCH        instead of the one uname -m names
  --init KIND        service manager to install for (default: detected)
  --user/--system    per-user install (~/.local/bin, a systemd user unit) or
                     system-wide (/usr/local/bin, /etc/nestd); default: system
                     for root, user otherwise
  --root DIR         install below DIR (images, tests); the service is not started
  --no-start         install the service but do not (re)start it
  --migrate          replace the original Nest Management Bot client of this
                     user: its token and server from ~/.env.nest-management-bot
                     (unless given), protocol-version 1.0.0 for its server, and
                     its unit nest_management_bot.service stopped and disabled
                     (its files are left where they are)
  --uninstall        stop the service and remove every path the install created
Exit status: 0 done, 1 failure, 2 usage error.
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_die() {
	printf '%s: %s\nTry: sh install.sh --help\n' "$PROG" "$*" >&2
	exit 2
}
have() { command -v "$1" >/dev/null 2>&1; }

# ---- service files: the same text as contrib/ (test/it_install.py checks) ----

service_system() {
	cat <<'EOF'
# nestd-agent.service - the nestd agent as a system service.
# install.sh writes it to /etc/systemd/system; `make install` to
# PREFIX/lib/systemd/system with ExecStart pointing at PREFIX/bin.
#
# The agent runs as root so it can signal any process and drive systemctl,
# and exec_command runs operators' commands as root: so the sandbox below
# only takes away what none of that needs.  The file system stays writable
# and /home visible, or an allowed `apt-get upgrade` would fail.
[Unit]
Description=nestd agent (Nest Management Bot)
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
ExecStart=/usr/local/bin/nestd agent --config /etc/nestd/agent.conf
Restart=always
RestartSec=5
# SIGTERM goes to the agent alone: it closes the connection (1001) and kills
# its own exec_command process groups; whatever is left is killed after 10 s.
KillMode=mixed
TimeoutStopSec=10
# Already root: nothing it starts needs setuid/file capabilities to gain more.
NoNewPrivileges=yes
# Neither the agent nor an admin's command needs another execution domain,
# realtime scheduling, foreign-architecture syscalls, or sockets beyond
# IP, Unix (D-Bus, systemctl) and netlink (ip, ss).
LockPersonality=yes
RestrictRealtime=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
# Where commands are denied (deny = exec in agent.conf), lock it down
# further with `systemctl edit nestd-agent`:
#ProtectSystem=strict
#ProtectHome=read-only
#PrivateTmp=yes
#ProtectKernelTunables=yes
#ProtectKernelModules=yes
#ProtectControlGroups=yes

[Install]
WantedBy=multi-user.target
EOF
}

service_user() {
	cat <<'EOF'
# nestd-agent.service (user unit) - the nestd agent for one user, managing
# that user's processes and `systemctl --user` services, like the reference
# client's nest_management_bot.service.  install.sh writes it to
# ~/.config/systemd/user; `make install` to PREFIX/lib/systemd/user.
# `loginctl enable-linger USER` keeps it running after the user logs out.
#
# No sandboxing options: the agent has only its user's rights anyway, and in
# a user manager the seccomp-based ones imply NoNewPrivileges, which would
# break a user's `sudo` in exec_command.
[Unit]
Description=nestd agent (Nest Management Bot), for this user

[Service]
Type=exec
ExecStart=%h/.local/bin/nestd agent --config %h/.config/nestd/agent.conf
Restart=always
RestartSec=5
KillMode=mixed
TimeoutStopSec=10

[Install]
WantedBy=default.target
EOF
}

service_openrc() {
	cat <<'EOF'
#!/sbin/openrc-run
# nestd-agent - the nestd agent under OpenRC (Alpine), as root.
# install.sh and `make install` write it to /etc/init.d/nestd-agent.
# supervise-daemon restarts the agent if it ever exits; its log lines
# (stderr) go to /var/log/nestd-agent.log.

name="nestd agent"
description="nestd agent (Nest Management Bot)"
supervisor="supervise-daemon"
command="/usr/local/bin/nestd"
command_args="agent --config /etc/nestd/agent.conf"
respawn_delay=5
respawn_max=0
output_log="/var/log/nestd-agent.log"
error_log="/var/log/nestd-agent.log"
# SIGTERM: the agent closes its connection (1001) and exits 0.
retry="TERM/10/KILL/5"

# use, not need: the agent redials until the server answers, so it need
# not wait for a network provider, and where there is none (a Debian
# machine or container with OpenRC and no ifupdown) `need net` would refuse
# to start it: "needs non existent service `net'".
depend() {
	use net
	after firewall
}
EOF
}

# ---- helpers ----

# uname -m -> the ARCH of the download names.
arch_name() {
	case $1 in
	x86_64 | amd64) echo x86_64 ;;
	armv8l | armv7*) echo armv7 ;;
	aarch64 | arm64 | armv8*) echo aarch64 ;;
	armv6*) echo armv6 ;;
	i[3456]86 | x86 | i86pc) echo i386 ;;
	*) echo "$1" ;;
	esac
}

# fetch URL FILE: curl or wget, or a copy when URL is a local directory's file.
fetch() {
	case $1 in
	/*) cp "$1" "$2" 2>/dev/null ;;
	*)
		if have curl; then
			curl -fsSL --retry 2 -o "$2" "$1"
		elif have wget; then
			wget -q -O "$2" "$1"
		else
			die "neither curl nor wget is installed"
		fi
		;;
	esac
}

# sha256 FILE: the lowercase hex digest on stdout, or nothing.
sha256() {
	if have sha256sum; then
		sha256sum "$1"
	elif have busybox && busybox sha256sum /dev/null >/dev/null 2>&1; then
		busybox sha256sum "$1"
	elif have shasum; then
		shasum -a 256 "$1"
	elif have openssl; then
		openssl dgst -sha256 -r "$1"
	fi 2>/dev/null | {
		read -r _h _rest
		case ${_h:-} in
		*[!0-9a-fA-F]* | '') ;;
		*) [ ${#_h} = 64 ] && printf '%s\n' "$_h" | tr 'A-F' 'a-f' ;;
		esac
	}
}

# Paths in the manifest are without the --root prefix; R is that prefix.
in_manifest() {
	[ -f "$R$MANIFEST" ] && grep -qxF "$1 $2" "$R$MANIFEST"
}

record() {
	in_manifest "$1" "$2" || printf '%s %s\n' "$1" "$2" >>"$R$MANIFEST" ||
		die "cannot write $R$MANIFEST"
}

# mkdirs DIR: creates DIR and missing parents, remembering which it created
# (in NEW_DIRS, recorded once the manifest's own directory exists).
mkdirs() {
	_rest=${1#/}
	_acc=
	while [ -n "$_rest" ]; do
		_c=${_rest%%/*}
		case $_rest in
		*/*) _rest=${_rest#*/} ;;
		*) _rest= ;;
		esac
		[ -n "$_c" ] || continue
		_acc=$_acc/$_c
		if [ ! -d "$R$_acc" ]; then
			mkdir "$R$_acc" || die "cannot create $R$_acc"
			NEW_DIRS="$NEW_DIRS $_acc"
		fi
	done
}

flush_dirs() {
	for _d in $NEW_DIRS; do
		record dir "$_d"
	done
	NEW_DIRS=
}

# put FILE MODE: stdin into FILE (below R) through a temporary file and a
# rename, so a reader never sees half a file.  At the end of a pipeline it
# runs in a subshell, where die only ends that: callers add `|| exit 1`.
put() {
	[ ! -d "$R$1" ] || die "$R$1 is a directory"
	_t="$R$1.new.$$"
	(umask 077 && cat >"$_t") && chmod "$2" "$_t" && mv -f "$_t" "$R$1" || {
		rm -f "$_t"
		die "cannot write $R$1"
	}
	record file "$1"
}

bad_chars() {
	case $1 in
	*[[:space:]\'\"\\\`]*) return 0 ;;
	esac
	return 1
}

# ---- the steps ----

parse_args() {
	OPT_SERVER='' OPT_TOKEN_FILE='' OPT_BASE='' OPT_VERSION='' OPT_ARCH='' OPT_INIT=auto
	OPT_MODE='' OPT_ROOT='' NO_START=0 UNINSTALL=0 SHOW='' MIGRATE=0 OPT_FULL=0
	while [ $# -gt 0 ]; do
		opt=$1
		shift
		case $opt in
		--*=*) val=${opt#*=} opt=${opt%%=*} hasval=1 ;;
		*) val='' hasval=0 ;;
		esac
		case $opt in
		--server | --token-file | --base-url | --version | --arch | --init | --root | --show-service)
			if [ $hasval = 0 ]; then
				[ $# -gt 0 ] || usage_die "$opt needs a value"
				val=$1
				shift
			fi
			[ -n "$val" ] || usage_die "$opt needs a value"
			case $opt in
			--server) OPT_SERVER=$val ;;
			--token-file) OPT_TOKEN_FILE=$val ;;
			--base-url) OPT_BASE=$val ;;
			--version) OPT_VERSION=$val ;;
			--arch) OPT_ARCH=$val ;;
			--init) OPT_INIT=$val ;;
			--root) OPT_ROOT=$val ;;
			--show-service) SHOW=$val ;;
			esac
			;;
		--user | --system | --no-start | --uninstall | --migrate | --full | --help | -h)
			[ $hasval = 0 ] || usage_die "$opt takes no value"
			case $opt in
			--user) OPT_MODE=user ;;
			--full) OPT_FULL=1 ;;
			--system) OPT_MODE=system ;;
			--no-start) NO_START=1 ;;
			--uninstall) UNINSTALL=1 ;;
			--migrate) MIGRATE=1 ;;
			*) usage && exit 0 ;;
			esac
			;;
		--token)
			usage_die "a token never goes on a command line: use --token-file FILE or \$NESTD_TOKEN"
			;;
		*) usage_die "unknown argument '$opt'" ;;
		esac
	done
	[ "$MIGRATE" = 1 ] && [ "$OPT_MODE" = system ] &&
		usage_die "--migrate replaces one user's original client: run it as that user (--user)"
	case $OPT_INIT in
	auto | systemd | openrc | none) ;;
	*) usage_die "--init takes auto, systemd, openrc or none" ;;
	esac
	case $OPT_VERSION in
	*[!A-Za-z0-9._+-]*) usage_die "bad --version '$OPT_VERSION'" ;;
	esac
	case $OPT_ARCH in
	*[!A-Za-z0-9_-]*) usage_die "bad --arch '$OPT_ARCH'" ;;
	esac
}

# Where things go, by mode.  Per-user installs use the XDG defaults
# (~/.config, ~/.local) literally, as the user unit's %h paths do.
set_paths() {
	uid=$(id -u) || die "id -u failed"
	if [ -n "$OPT_MODE" ]; then
		MODE=$OPT_MODE
	elif [ "$uid" = 0 ]; then
		MODE=system
	else
		MODE=user
	fi
	R=
	if [ -n "$OPT_ROOT" ]; then
		case $OPT_ROOT in
		/*) R=$OPT_ROOT ;;
		*) R=$(pwd)/$OPT_ROOT ;;
		esac
		while [ "${R%/}" != "$R" ]; do R=${R%/}; done
		[ -d "$R" ] || usage_die "--root $OPT_ROOT: no such directory"
		bad_chars "$R" && usage_die "--root: no spaces or quotes, please"
	fi
	if [ "$MODE" = system ]; then
		[ "$uid" = 0 ] || [ -n "$R" ] || die "--system needs root (or --root DIR)"
		BIN_DIR=/usr/local/bin
		CONF_DIR=/etc/nestd
		STATE_DIR=/var/lib/nestd
		UNIT_DIR=/etc/systemd/system
	else
		[ -n "${HOME:-}" ] || die "HOME is not set"
		bad_chars "$HOME" && die "HOME has spaces or quotes; install with --system"
		BIN_DIR=$HOME/.local/bin
		CONF_DIR=$HOME/.config/nestd
		STATE_DIR=$HOME/.local/state/nestd
		UNIT_DIR=$HOME/.config/systemd/user
	fi
	BIN=$BIN_DIR/nestd
	CONF=$CONF_DIR/agent.conf
	TOKEN=$CONF_DIR/agent.token
	MANIFEST=$STATE_DIR/install.manifest
	UNIT=$UNIT_DIR/nestd-agent.service
	OPENRC=/etc/init.d/nestd-agent
	INIT=$OPT_INIT
	if [ "$INIT" = auto ]; then
		if [ -d "$R/run/systemd/system" ]; then
			INIT=systemd
		elif [ -e "$R/sbin/openrc-run" ] || [ -e "$R/sbin/rc-service" ]; then
			INIT=openrc
		else
			INIT=none
		fi
	fi
	if [ "$INIT" = openrc ] && [ "$MODE" = user ]; then
		warn "OpenRC runs services as root only: no service for a per-user install"
		INIT=none
	fi
	START=1
	[ -z "$R" ] && [ "$NO_START" = 0 ] || START=0
	ORIG_ENV=
	ORIG_UNIT=
	if [ "$MODE" = user ]; then
		ORIG_ENV=$HOME/.env.nest-management-bot
		ORIG_UNIT=$HOME/.config/systemd/user/nest_management_bot.service
	elif [ "$MIGRATE" = 1 ]; then
		usage_die "--migrate replaces one user's original client: run it as that user (--user)"
	fi
	if [ "$MODE" = user ]; then SYSTEMCTL="systemctl --user"; else SYSTEMCTL=systemctl; fi
}

# env_value FILE KEY: KEY's value in a file of the .env form (KEY=VALUE
# lines, comments, "export ", quotes), the last binding's, on stdout.
env_value() {
	sed -n "s/^[[:space:]]*\(export[[:space:]][[:space:]]*\)\{0,1\}$2[[:space:]]*=[[:space:]]*//p" "$1" |
		tail -n 1 | sed "s/^\"\([^\"]*\)\".*/\1/; t; s/^'\([^']*\)'.*/\1/; t; s/[[:space:]][[:space:]]*#.*//; s/[[:space:]]*\$//"
}

# token_from FILE: the token a token file holds (bare, or CLIENT_TOKEN /
# NESTD_TOKEN of the .env form) into $TMP/token.
token_from() {
	if grep -Eq '^[[:space:]]*(export[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=' "$1"; then
		{ env_value "$1" CLIENT_TOKEN | grep . || env_value "$1" NESTD_TOKEN; } |
			tr -d ' \t\r\n' >"$TMP/token" || die "cannot read $1"
	else
		tr -d ' \t\r\n' <"$1" >"$TMP/token" || die "cannot read $1"
	fi
}

# The token: from --token-file, $NESTD_TOKEN_FILE or $NESTD_TOKEN (with
# --migrate: the original client's file), into $TMP/token (only ever
# through files and pipes, never an argument).  Returns 1 if none was given.
read_token() {
	_tf=${OPT_TOKEN_FILE:-${NESTD_TOKEN_FILE:-}}
	if [ -n "$_tf" ]; then
		[ -r "$_tf" ] || usage_die "cannot read the token file $_tf"
		token_from "$_tf"
	elif printenv NESTD_TOKEN >/dev/null 2>&1; then
		# printenv, not "$NESTD_TOKEN": the token never shows up as an
		# argument, not even to a builtin (sh -x would print it).
		printenv NESTD_TOKEN | tr -d ' \t\r\n' >"$TMP/token"
	elif [ "$MIGRATE" = 1 ] && [ -r "$R$ORIG_ENV" ]; then
		token_from "$R$ORIG_ENV"
		say "the token of the original client, from $R$ORIG_ENV"
	else
		return 1
	fi
	grep -Eqx '[0-9a-f]{64}\.[0-9a-f]{8}' "$TMP/token" ||
		usage_die "that is not a nestd token (64 hex digits, '.', 8 hex digits)"
	_want=$(cut -d. -f2 "$TMP/token")
	cut -d. -f1 "$TMP/token" | tr -d '\n' >"$TMP/token.hex"
	_got=$(sha256 "$TMP/token.hex" | cut -c1-8)
	rm -f "$TMP/token.hex"
	[ -z "$_got" ] || [ "$_got" = "$_want" ] ||
		usage_die "the token's checksum is wrong (mistyped or truncated?)"
	return 0
}

# dist_name KIND: the download's name, KIND nestd or nestd-agent.
dist_name() {
	if [ -n "$OPT_VERSION" ]; then
		echo "$1-$OPT_VERSION-linux-$ARCH"
	else
		echo "$1-linux-$ARCH"
	fi
}

# The original client's files, when this user has them: offered, or with
# --migrate taken over (the server it dialled: WS_URL when DEV=true, else
# its server's socket).
find_original() {
	[ -n "$ORIG_ENV" ] && { [ -e "$R$ORIG_ENV" ] || [ -e "$R$ORIG_UNIT" ]; } || return 0
	if [ "$MIGRATE" = 0 ]; then
		say "found the original Nest Management Bot client here ($R$ORIG_ENV, $R$ORIG_UNIT):"
		say "  to replace it with nestd, run this again with --migrate"
		return 0
	fi
	[ -z "$SERVER_GIVEN" ] && [ -r "$R$ORIG_ENV" ] || return 0
	if [ "$(env_value "$R$ORIG_ENV" DEV)" = true ] && [ -n "$(env_value "$R$ORIG_ENV" WS_URL)" ]; then
		SERVER_GIVEN=$(env_value "$R$ORIG_ENV" WS_URL)
	else
		SERVER_GIVEN=unix:/var/community/nest-management-bot.sock
	fi
	SERVER=$SERVER_GIVEN
	say "the original client's server: $SERVER"
}

download() {
	if [ -n "$OPT_ARCH" ]; then ARCH=$OPT_ARCH; else ARCH=$(arch_name "$(uname -m)"); fi
	# The agent-only build by default (smaller; all an agent needs); the
	# full one with --full, or where BASE has no agent-only build (a
	# server without --dist-dir serves its own binary only).
	NAME=$(dist_name nestd)
	if [ "$OPT_FULL" = 0 ]; then
		say "downloading $BASE/$(dist_name nestd-agent)"
		if fetch "$BASE/$(dist_name nestd-agent)" "$TMP/nestd"; then
			NAME=$(dist_name nestd-agent)
		else
			say "no agent-only build there; downloading the full $BASE/$NAME"
			fetch "$BASE/$NAME" "$TMP/nestd" ||
				die "cannot download $BASE/$NAME (no nestd for $ARCH there?)"
		fi
	else
		say "downloading $BASE/$NAME"
		fetch "$BASE/$NAME" "$TMP/nestd" ||
			die "cannot download $BASE/$NAME (no nestd for $ARCH there?)"
	fi
	fetch "$BASE/$NAME.sha256" "$TMP/nestd.sha256" ||
		die "cannot download $BASE/$NAME.sha256: refusing to install an unchecked binary"
	_want=
	read -r _want _rest <"$TMP/nestd.sha256" || [ -n "$_want" ] ||
		die "$NAME.sha256 is empty"
	_want=$(printf '%s\n' "$_want" | tr 'A-F' 'a-f')
	case $_want in
	*[!0-9a-f]*) die "$NAME.sha256 does not hold a SHA-256 sum" ;;
	esac
	[ ${#_want} = 64 ] || die "$NAME.sha256 does not hold a SHA-256 sum"
	_got=$(sha256 "$TMP/nestd")
	[ -n "$_got" ] || die "no SHA-256 tool found (sha256sum, busybox, shasum or openssl)"
	if [ "$_got" != "$_want" ]; then
		die "checksum mismatch for $NAME (expected $_want, got $_got): nothing installed"
	fi
	say "checksum verified: $_got"
	chmod 755 "$TMP/nestd"
	if _v=$("$TMP/nestd" --version 2>/dev/null | sed -n 1p) && [ -n "$_v" ]; then
		say "downloaded $_v"
	else
		warn "the downloaded binary does not run here (another architecture?)"
	fi
}

write_config() {
	if [ -e "$R$CONF" ] && ! in_manifest file "$CONF"; then
		say "keeping $R$CONF: it was not written by this installer"
		return 0
	fi
	if [ ! -e "$R$CONF" ]; then
		{
			echo "# nestd agent, written by install.sh; 'nestd agent --help' lists the keys."
			echo "server = $SERVER"
			echo "token-file = $TOKEN"
			# the original server admits exactly its client's version
			[ "$MIGRATE" = 0 ] || echo "protocol-version = 1.0.0"
		} | put "$CONF" 600 || exit 1
		say "wrote $R$CONF"
	elif [ -n "$SERVER_GIVEN" ]; then
		awk -v s="$SERVER" '
			/^[ \t]*server[ \t]*=/ { if (!done) print "server = " s; done = 1; next }
			{ print }
			END { if (!done) print "server = " s }' "$R$CONF" | put "$CONF" 600 || exit 1
		say "updated the server in $R$CONF"
	else
		say "kept $R$CONF"
	fi
}

write_token() {
	if [ ! -s "$TMP/token" ]; then
		say "kept the token in $R$TOKEN"
		return 0
	fi
	if [ -e "$R$TOKEN" ] && ! in_manifest file "$TOKEN"; then
		say "keeping $R$TOKEN: it was not written by this installer"
		return 0
	fi
	{ cat "$TMP/token" && echo; } | put "$TOKEN" 600 || exit 1
	say "wrote the token to $R$TOKEN (mode 0600)"
}

write_service() {
	case $INIT in
	systemd)
		mkdirs "$UNIT_DIR"
		flush_dirs
		if [ "$MODE" = system ]; then service_system; else service_user; fi | put "$UNIT" 644 || exit 1
		say "wrote $R$UNIT"
		;;
	openrc)
		mkdirs /etc/init.d
		flush_dirs
		service_openrc | put "$OPENRC" 755 || exit 1
		say "wrote $R$OPENRC"
		;;
	esac
}

# --migrate: the original client's unit goes, so that one agent holds the
# token (its server admits one connection a token).
stop_original() {
	[ "$MIGRATE" = 1 ] && [ -e "$R$ORIG_UNIT" ] || return 0
	if [ "$START" = 0 ] || [ "$INIT" != systemd ]; then
		say "later, stop the original client: $SYSTEMCTL disable --now nest_management_bot.service"
		return 0
	fi
	$SYSTEMCTL disable --now nest_management_bot.service >/dev/null 2>&1 ||
		warn "could not stop nest_management_bot.service: see $SYSTEMCTL status nest_management_bot"
	say "stopped and disabled nest_management_bot.service (its files are left in place)"
}

start_service() {
	stop_original
	case $INIT in
	systemd)
		if [ "$START" = 0 ]; then
			say "not starting; later: $SYSTEMCTL enable --now nestd-agent"
			return 0
		fi
		$SYSTEMCTL daemon-reload && $SYSTEMCTL enable nestd-agent.service >/dev/null 2>&1 &&
			$SYSTEMCTL restart nestd-agent.service ||
			die "installed, but the service did not start: see $SYSTEMCTL status nestd-agent"
		_j="journalctl -u nestd-agent"
		[ "$MODE" = user ] && _j="journalctl --user -u nestd-agent"
		say "started: $SYSTEMCTL status nestd-agent; logs: $_j"
		if [ "$MODE" = user ] && have loginctl &&
			loginctl show-user "$(id -un)" -p Linger 2>/dev/null | grep -q '=no'; then
			say "to keep it running after you log out: loginctl enable-linger $(id -un)"
		fi
		;;
	openrc)
		if [ "$START" = 0 ]; then
			say "not starting; later: rc-update add nestd-agent default && rc-service nestd-agent start"
			return 0
		fi
		rc-update add nestd-agent default >/dev/null 2>&1
		rc-service nestd-agent restart >/dev/null ||
			die "installed, but the service did not start: see /var/log/nestd-agent.log"
		say "started: rc-service nestd-agent status; logs: /var/log/nestd-agent.log"
		;;
	none)
		say "no systemd or OpenRC here: run it in the foreground with"
		say "  $BIN agent --config $CONF"
		;;
	esac
}

do_install() {
	SERVER_GIVEN=${OPT_SERVER:-${NESTD_SERVER:-}}
	SERVER=${SERVER_GIVEN:-$NESTD_DEFAULT_SERVER}
	BASE=${OPT_BASE:-${NESTD_BASE_URL:-$NESTD_DEFAULT_BASE}}
	while [ "${BASE%/}" != "$BASE" ]; do BASE=${BASE%/}; done
	[ -n "$BASE" ] || usage_die "where is nestd to be downloaded from? --base-url URL"
	bad_chars "$BASE" && usage_die "bad --base-url '$BASE'"
	case $BASE in
	http://?* | https://?* | /?*) ;;
	*) usage_die "--base-url takes http://, https:// or a local directory" ;;
	esac
	fresh=1
	[ -e "$R$CONF" ] && fresh=0
	find_original
	if [ -z "$SERVER" ] && [ $fresh = 1 ]; then
		usage_die "which server should the agent dial? --server URL"
	fi
	if [ -n "$SERVER" ]; then
		bad_chars "$SERVER" && usage_die "bad server URL '$SERVER'"
		case $SERVER in
		ws://?* | wss://?* | unix:/?*) ;;
		*) usage_die "the server URL takes ws://, wss:// or unix:/PATH" ;;
		esac
	fi
	[ -z "$SERVER_GIVEN" ] && [ $fresh = 1 ] && SERVER_GIVEN=$SERVER
	if ! read_token; then
		: >"$TMP/token"
		[ -e "$R$TOKEN" ] || [ $fresh = 0 ] ||
			usage_die "no token: --token-file FILE or \$NESTD_TOKEN"
	fi

	download # nothing below runs unless the sum matched

	mkdirs "$STATE_DIR"
	[ -f "$R$MANIFEST" ] && upgrade=1 || upgrade=0
	: >>"$R$MANIFEST" || die "cannot write $R$MANIFEST"
	flush_dirs
	record file "$MANIFEST"
	mkdirs "$BIN_DIR"
	mkdirs "$CONF_DIR"
	flush_dirs
	# The binary goes in by rename: a running agent keeps its old inode.
	put "$BIN" 755 <"$TMP/nestd"
	if [ "$upgrade" = 1 ]; then say "upgraded $R$BIN"; else say "installed $R$BIN"; fi
	write_token
	write_config
	write_service
	say "manifest of installed paths: $R$MANIFEST"
	start_service
	say "done"
}

do_uninstall() {
	if [ ! -f "$R$MANIFEST" ]; then
		say "nothing to remove: no manifest at $R$MANIFEST ($MODE install)"
		return 0
	fi
	if [ "$START" = 1 ]; then
		if in_manifest file "$UNIT" && have systemctl; then
			$SYSTEMCTL disable --now nestd-agent.service >/dev/null 2>&1 &&
				say "stopped and disabled nestd-agent"
		fi
		if in_manifest file "$OPENRC" && have rc-service; then
			rc-service nestd-agent stop >/dev/null 2>&1
			rc-update del nestd-agent default >/dev/null 2>&1
			say "stopped nestd-agent"
		fi
	fi
	# Files first, then the directories this installer created, deepest
	# first (the manifest lists parents before children); a directory that
	# is not empty now holds something else and stays.
	_list=$(cat "$R$MANIFEST") || die "cannot read $R$MANIFEST"
	printf '%s\n' "$_list" | while read -r _kind _path; do
		[ "$_kind" = file ] && [ -n "$_path" ] || continue
		if [ -e "$R$_path" ] || [ -L "$R$_path" ]; then
			rm -f "$R$_path" && say "removed $R$_path"
		fi
	done
	# supervise-daemon's log, named by the OpenRC script above
	if in_list "$_list" "$OPENRC" && [ -f "$R/var/log/nestd-agent.log" ]; then
		rm -f "$R/var/log/nestd-agent.log" && say "removed $R/var/log/nestd-agent.log"
	fi
	printf '%s\n' "$_list" | sed -n '1!G;h;$p' | while read -r _kind _path; do
		[ "$_kind" = dir ] && [ -n "$_path" ] || continue
		rmdir "$R$_path" 2>/dev/null && say "removed $R$_path/"
	done
	if [ "$START" = 1 ] && in_list "$_list" "$UNIT" && have systemctl; then
		$SYSTEMCTL daemon-reload >/dev/null 2>&1
	fi
	say "uninstalled"
}

in_list() {
	printf '%s\n' "$1" | grep -qxF "file $2"
}

main() {
	parse_args "$@"
	case $SHOW in
	'') ;;
	system) service_system && exit 0 ;;
	user) service_user && exit 0 ;;
	openrc) service_openrc && exit 0 ;;
	*) usage_die "--show-service takes system, user or openrc" ;;
	esac
	set_paths
	NEW_DIRS=
	umask 022
	if [ "$UNINSTALL" = 1 ]; then
		do_uninstall
		exit 0
	fi
	TMP=$(mktemp -d 2>/dev/null) || {
		TMP=${TMPDIR:-/tmp}/nestd-install.$$
		(umask 077 && mkdir "$TMP") || die "cannot create a temporary directory"
	}
	trap 'rm -rf "$TMP"' EXIT
	trap 'exit 1' INT TERM HUP
	do_install
	exit 0
}

# Everything above is definitions: when this arrives through a pipe, nothing
# runs before the whole script is read, and no command eats its rest.
main "$@" </dev/null
