# bash completion for nestd: subcommands, their options and values, and for
# `nestd ctl` the agents' names, asked of the server the command line names
# (`nestd ctl clients --json`, at most 2 s).  Installed by make install and
# the Debian package as PREFIX/share/bash-completion/completions/nestd.
# test/it_docs.py checks that every option of every --help is here.

_nestd_server_opts="--listen --config --state-dir --tokens --tls-cert --tls-key --auth-timeout
 --command-timeout --audit-log --accept-versions --max-message --ping-interval --history-interval
 --ui --dist-dir --public-url --socket-mode --trusted-proxy --slack-app-token-file
 --slack-bot-token-file --slack-api-url --slack-admins --slack-command --cluster --node
 --cluster-prefix --cluster-replicas --cluster-creds --cluster-user-file --cluster-token-file
 --cluster-ca --cluster-cert --cluster-key --log-level --help"
_nestd_agent_opts="--server --token-file --config --services --allow --deny --exec-timeout
 --max-output --max-exec --reconnect-min --reconnect-max --once --ping-interval --hostname
 --ca-file --pin --insecure --compat --protocol-version --proc-root --cgroup --systemctl
 --rc-service --rc-status --log-level --help"
_nestd_token_opts="--role --owner --scope --tokens --state-dir --cluster --cluster-prefix
 --cluster-replicas --cluster-creds --cluster-user-file --cluster-token-file --cluster-ca
 --cluster-cert --cluster-key --help"
_nestd_ctl_opts="--server --token-file --config --json --wait --signal --timeout --argv --ca-file
 --pin --insecure --sort --user --no-headers --agent --operator --limit --help"
_nestd_ctl_cmds="clients ps proc kill pause resume services service sysinfo exec send audit"

# The agents' names from the server this command line talks to.
_nestd_agents()
{
	local i args=()
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--server | --token-file | --config | --ca-file | --pin)
			args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
		--insecure) args+=(--insecure) ;;
		esac
	done
	command -v timeout >/dev/null 2>&1 || return 0
	timeout 2 "${COMP_WORDS[0]}" ctl "${args[@]}" --json clients 2>/dev/null |
		tr ',' '\n' | sed -n 's/^[[{]*"name":"\([A-Za-z0-9._-]*\)".*/\1/p'
}

# Values of the option before the word being completed; 1 when it took one.
_nestd_value()
{
	local prev=$1 cur=$2
	case $prev in
	--role) COMPREPLY=($(compgen -W "agent operator" -- "$cur")) ;;
	--services) COMPREPLY=($(compgen -W "auto systemd systemd-user openrc none" -- "$cur")) ;;
	--compat) COMPREPLY=($(compgen -W "auto original nestd" -- "$cur")) ;;
	--log-level) COMPREPLY=($(compgen -W "debug info warn error" -- "$cur")) ;;
	--ui) COMPREPLY=($(compgen -W "on off" -- "$cur")) ;;
	--signal) COMPREPLY=($(compgen -W "SIGTERM SIGKILL SIGINT SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGSTOP SIGCONT" -- "$cur")) ;;
	--allow | --deny) COMPREPLY=($(compgen -W "read process service exec all" -- "$cur")) ;;
	--sort) COMPREPLY=($(compgen -W "pid ppid cpu rss start user name state -pid -cpu -rss" -- "$cur")) ;;
	--user) COMPREPLY=($(compgen -u -- "$cur")) ;;
	--config | --tokens | --tls-cert | --tls-key | --audit-log | --token-file | --ca-file | --systemctl | \
	--rc-service | --rc-status | --slack-app-token-file | --slack-bot-token-file | --cluster-creds | \
	--cluster-user-file | --cluster-token-file | --cluster-ca | --cluster-cert | --cluster-key)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	--state-dir | --dist-dir | --proc-root | --cgroup) COMPREPLY=($(compgen -d -- "$cur")) ;;
	--listen | --server | --owner | --scope | --auth-timeout | --command-timeout | --accept-versions | \
	--max-message | --ping-interval | --history-interval | --public-url | --socket-mode | --trusted-proxy | \
	--exec-timeout | --max-output | --max-exec | --reconnect-min | --reconnect-max | --hostname | --pin | \
	--protocol-version | --wait | --timeout | --slack-api-url | --slack-admins | --slack-command | \
	--cluster | --node | --cluster-prefix | --cluster-replicas | --agent | --operator | --limit) COMPREPLY=() ;;
	*) return 1 ;;
	esac
	return 0
}

_nestd()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} sub=${COMP_WORDS[1]}
	local i words=() nonopt=0
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "server agent token ctl slack help --version --help" -- "$cur"))
		return 0
	fi
	_nestd_value "$prev" "$cur" && return 0
	# The words after the subcommand that are not options or their values.
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) break ;;
		--json | --insecure | --once | --help | --argv | --no-headers) ;;
		--*) ((i++)) ;;
		*) words+=("${COMP_WORDS[i]}") ;;
		esac
	done
	nonopt=${#words[@]}
	case $sub in
	help) ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W "server agent token ctl slack" -- "$cur")) ;;
	slack)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--slack-command --help" -- "$cur"))
		elif ((nonopt == 0)); then
			COMPREPLY=($(compgen -W "manifest" -- "$cur"))
		fi ;;
	server) COMPREPLY=($(compgen -W "$_nestd_server_opts" -- "$cur")) ;;
	agent) COMPREPLY=($(compgen -W "$_nestd_agent_opts" -- "$cur")) ;;
	token)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_nestd_token_opts" -- "$cur"))
		elif ((nonopt == 0)); then
			COMPREPLY=($(compgen -W "new list revoke import" -- "$cur"))
		fi ;;
	ctl)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_nestd_ctl_opts" -- "$cur"))
		elif ((nonopt == 0)); then
			COMPREPLY=($(compgen -W "$_nestd_ctl_cmds" -- "$cur"))
		elif ((nonopt == 1)) && [[ ${words[0]} != clients && ${words[0]} != audit ]]; then
			COMPREPLY=($(compgen -W "$(_nestd_agents)" -- "$cur"))
		elif ((nonopt == 2)) && [[ ${words[0]} == service ]]; then
			COMPREPLY=($(compgen -W "start stop restart reload status" -- "$cur"))
		fi ;;
	esac
	return 0
}
complete -F _nestd nestd
