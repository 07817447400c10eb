/* help_text.h - the subcommands' --help texts (and the Slack app's
 * manifest, printed as seldom), as C string literals that
 * take their numbers from config.h (CFG_STR), one HELP_TEXT(NAME, TEXT) each
 * (help.h names them HELP_NAME, in this order; the agent's comes first: the
 * agent-only build holds that one alone).
 *
 * Not compiled into nestd as such: tools/helpgen.c prints them at build
 * time, the build stores them as one gzip stream, and help.c inflates the
 * one asked for (they share most of their words: 15.8 KB -> 5.4 KB).  The
 * unit tests include this file too, to check that what help.c prints is
 * these texts byte for byte.  No include guard: include it with HELP_TEXT
 * defined, after config.h. */

/* nestd agent --help */
HELP_TEXT(AGENT,
	"usage: nestd agent --server URL [--token-file FILE] [--config FILE] [OPTIONS]\n"
	"\n"
	"Dials the server, authenticates with a token and answers its commands.\n"
	"\n"
	"  --server URL          ws://HOST[:PORT]/PATH, wss://... or unix:PATH (or\n"
	"                        $NESTD_SERVER; without either: the original bot's,\n"
	"                        from ~/" CFG_ORIG_ENV_FILE " or unix:" CFG_ORIG_SOCKET ");\n"
	"                        repeat it (or separate URLs by commas) for a fleet:\n"
	"                        when one fails the next is tried, as is every address\n"
	"                        a name resolves to\n"
	"  --token-file FILE     file holding the token, bare or as CLIENT_TOKEN=... (or\n"
	"                        $NESTD_TOKEN_FILE); the token may also come from\n"
	"                        $NESTD_TOKEN, $CLIENT_TOKEN or ~/" CFG_ORIG_ENV_FILE ",\n"
	"                        never from the command line\n"
	"  --config FILE         key = value lines, the long options without their\n"
	"                        dashes; flags override them (default: none)\n"
	"  --services BACKEND    auto, systemd, systemd-user, openrc or none: what the\n"
	"                        service commands drive (default auto: systemd if it\n"
	"                        runs, else OpenRC, else none)\n"
	"  --allow LIST          only these commands or groups (read, process, service,\n"
	"                        exec, all), comma-separated (default all)\n"
	"  --deny LIST           refuse these commands or groups (default none)\n"
	"  --exec-timeout S      exec_command and service tools are killed after S\n"
	"                        seconds; the most a command may ask (default " CFG_STR(CFG_EXEC_TIMEOUT_S) ")\n"
	"  --max-output BYTES    exec_command output kept per stream, 1K..256M\n"
	"                        (default 1M)\n"
	"  --max-exec N          exec_commands running at once (default " CFG_STR(CFG_MAX_EXEC) ")\n"
	"  --reconnect-min S     the shortest wait before dialling again (default 1)\n"
	"  --reconnect-max S     the longest (default 60); fractions allowed\n"
	"  --once                exit when the first connection ends, do not reconnect\n"
	"  --ping-interval S     ping a silent server after S seconds (default 20; 0:\n"
	"                        never)\n"
	"  --hostname NAME       the host name announced (default: uname's)\n"
	"  --ca-file FILE        CA certificates for wss:// (default " CFG_TLS_CA_FILE ")\n"
	"  --pin sha256//BASE64  accept the server whose public key has this hash;\n"
	"                        up to " CFG_STR(CFG_TLS_MAX_PINS) ", separated by ; (default: the CA check only)\n"
	"  --insecure            skip the certificate check (said at every connection)\n"
	"  --compat MODE         reply shapes: original (the original bot's), nestd, or\n"
	"                        auto: nestd's once the server says it is nestd (default)\n"
	"  --protocol-version V  the version announced (default " NESTD_VERSION "; the\n"
	"                        original server admits exactly 1.0.0)\n"
	"  --proc-root DIR       read processes from DIR instead of /proc (another\n"
	"                        procfs mount, e.g. the host's in a container)\n"
	"  --cgroup DIR          the cgroup v2 directory obtain_user_usages reports\n"
	"                        (default: the agent's own)\n"
	"  --systemctl PATH      the systemctl to run (default: systemctl on PATH)\n"
	"  --rc-service PATH     OpenRC's rc-service (default: rc-service on PATH)\n"
	"  --rc-status PATH      OpenRC's rc-status (default: rc-status on PATH)\n"
	"  --log-level LEVEL     debug, info, warn or error (default info)\n"
	"  -h, --help            this help\n"
	"\n"
	"SIGTERM closes the connection (1001) and exits 0.  Exit status with --once: 0\n"
	"after an accepted session, 1 otherwise; 2 usage error.\n")

/* nestd server --help */
HELP_TEXT(SERVER,
	"usage: nestd server [--listen ADDR]... [--config FILE] [OPTIONS]\n"
	"\n"
	"Accepts agents over WebSocket, checks their tokens, and serves operators (the\n"
	"HTTP API, nestd ctl, the dashboard) on the same listeners.\n"
	"\n"
	"  --listen ADDR          HOST:PORT, [IPV6]:PORT, tls:HOST:PORT or unix:PATH (or\n"
	"                         the URL that reaches it: http://HOST:PORT/, ws://...,\n"
	"                         https:// for tls:); repeatable (default " CFG_DEFAULT_LISTEN ")\n"
	"  --config FILE          key = value lines, the long options without their\n"
	"                         dashes; flags override them (default: none)\n"
	"  --state-dir DIR        where the token file, the agents seen, their history\n"
	"                         and the dashboard's sessions live (default: the token\n"
	"                         file's directory with --tokens, else " CFG_STATE_DIR_ROOT "\n"
	"                         for root, ~/.local/state/nestd otherwise)\n"
	"  --tokens FILE          the token file (default STATE-DIR/" CFG_TOKENS_FILE ")\n"
	"  --tls-cert FILE        PEM certificate chain; with --tls-key FILE (RSA or EC),\n"
	"  --tls-key FILE         every TCP listener not on loopback serves wss:// and\n"
	"                         https://; tls:HOST:PORT forces TLS on any TCP listener\n"
	"  --auth-timeout S       an agent's first message must come within S seconds\n"
	"                         (default " CFG_STR(CFG_AUTH_TIMEOUT_S) ")\n"
	"  --command-timeout S    how long an operator waits for an agent's answer before\n"
	"                         504 (default " CFG_STR(CFG_COMMAND_TIMEOUT_S) "; exec_command: its own timeout + 10)\n"
	"  --audit-log FILE       append one JSON line per command, authentication\n"
	"                         failure, agent connecting or leaving, login and token\n"
	"                         change (default: none)\n"
	"  --accept-versions L    comma-separated version prefixes, or '*' (default: the\n"
	"                         server's own major version; major.minor for 0.x)\n"
	"  --max-message BYTES    largest agent message after authentication, 1K..1G\n"
	"                         (default 16M)\n"
	"  --ping-interval S      ping a silent peer after S seconds (default 20; 0: never)\n"
	"  --history-interval S   sample each agent's usage every S seconds for the\n"
	"                         dashboard's charts (default " CFG_STR(CFG_HISTORY_INTERVAL_S) "; 0: never)\n"
	"  --ui on|off            serve the web dashboard at / (default on)\n"
	"  --dist-dir DIR         binaries served at /dist/ for install.sh (default: a\n"
	"                         static nestd: this one, or nestd-static beside it)\n"
	"  --public-url URL       how agents reach this server (https://bot.example.org),\n"
	"                         filled into /install.sh (default: the request's Host)\n"
	"  --socket-mode MODE     octal permissions of unix: listeners (default "
	CFG_STR(CFG_SOCKET_MODE) ": every\n"
	"                         local user may connect; each connection shows a token)\n"
	"  --trusted-proxy ADDR   IP, IP/BITS or unix:uid=N of a reverse proxy whose\n"
	"                         X-Forwarded-For names the client that failed\n"
	"                         authentications are charged to; repeatable\n"
	"\n"
	"Several servers, one fleet (NATS with JetStream; see the README):\n"
	"  --cluster URLS         comma-separated nats:// or tls:// URLs of a NATS system\n"
	"  --node NAME            this server's name in the fleet (default: the host's)\n"
	"  --cluster-prefix P     subjects and buckets are named under P (default " CFG_CLUSTER_PREFIX ")\n"
	"  --cluster-replicas N   JetStream replicas of the buckets (default 3 with three\n"
	"                         or more URLs, else 1)\n"
	"  --cluster-creds FILE   a NATS .creds file; or --cluster-user-file FILE (one line\n"
	"                         user:password) or --cluster-token-file FILE\n"
	"  --cluster-ca FILE      NATS over TLS, verified against this CA; with\n"
	"                         --cluster-cert FILE --cluster-key FILE as a client\n"
	"  --slack-app-token-file F, --slack-bot-token-file F  the Slack bot (Socket Mode;\n"
	"                         `nestd slack manifest`): its xapp- and xoxb- tokens (0600;\n"
	"                         or slack-app-token = and slack-bot-token = in the config\n"
	"                         file, never argv)\n"
	"  --slack-api-url URL    default " CFG_SLACK_API_URL "\n"
	"  --slack-admins IDS     U...,U...: Slack users who see every agent\n"
	"  --slack-command CMD    default " CFG_SLACK_COMMAND "\n"
	"  --log-level LEVEL      debug, info, warn or error (default info)\n"
	"  -h, --help             this help\n"
	"\n"
	"Signals: SIGTERM/SIGINT close every connection (1001) and exit 0; SIGHUP\n"
	"re-reads the token file (it is also re-read by itself when it changes)\n"
	"and reopens the audit log (for logrotate).\n"
	"Exit status: 0 stopped by a signal, 1 could not start, 2 usage error.\n")

/* nestd ctl --help */
HELP_TEXT(CTL,
	"usage: nestd ctl [--server URL] [--token-file FILE] [--json] SUBCOMMAND ...\n"
	"\n"
	"  clients                          the agents, online and offline (a fleet's:\n"
	"                                   each with its server)\n"
	"  ps NAME                          processes of an agent\n"
	"  proc NAME PID                    one process in detail\n"
	"  kill NAME PID [--signal SIG]     signal a process (SIGTERM by default)\n"
	"  pause NAME PID | resume NAME PID stop or continue a process\n"
	"  services NAME                    services of an agent\n"
	"  service NAME start|stop|restart|reload|status UNIT\n"
	"  sysinfo NAME                     host, load, memory and disk\n"
	"  exec NAME [--timeout S] [--argv] -- COMMAND...\n"
	"                                   run a shell command; prints its output and\n"
	"                                   exits with its exit status\n"
	"  send NAME COMMAND [key=value|key:=JSON]...\n"
	"                                   any command, with payload fields\n"
	"  audit [--agent NAME] [--operator NAME] [--limit N]\n"
	"                                   the latest audit entries (default " CFG_STR(CFG_AUDIT_LIMIT) "),\n"
	"                                   the whole fleet's, in a fleet\n"
	"\n"
	"  --server URL      http://HOST:PORT, https://..., ws://, unix:PATH, or as\n"
	"                    --listen writes it: HOST:PORT, tls:HOST:PORT (or\n"
	"                    $NESTD_SERVER; default http://" CFG_DEFAULT_LISTEN ")\n"
	"  --token-file FILE operator token (or $NESTD_TOKEN_FILE, or $NESTD_TOKEN)\n"
	"  --config FILE     key = value lines, the long options without their dashes\n"
	"  --json            print the agent's reply object instead of a table\n"
	"  --sort KEY        ps: pid (default), ppid, cpu, rss, start, user, name,\n"
	"                    state; -KEY the other way round\n"
	"  --user NAME       ps: only NAME's processes\n"
	"  --no-headers      tables without their header line\n"
	"  --wait S          how long to wait for an answer (default " CFG_STR(CFG_CTL_WAIT_S) ")\n"
	"  --ca-file FILE    CA certificates for https:// (default " CFG_TLS_CA_FILE ")\n"
	"  --pin sha256//B64 accept the server whose public key has this hash\n"
	"  --insecure        skip the certificate check (said every time)\n"
	"  -h, --help        this help; nestd ctl SUBCOMMAND --help: that one's\n"
	"Exit status: 0 ok, 1 the command failed, 2 usage error; exec: the command's.\n")

/* nestd token --help */
HELP_TEXT(TOKEN,
	"usage: nestd token new NAME [--role agent|operator] [--owner WHO] [--scope SCOPE]\n"
	"       nestd token list\n"
	"       nestd token revoke NAME\n"
	"       nestd token import --tokens FILE --cluster URL\n"
	"       ... [--tokens FILE] [--state-dir DIR] | [--cluster URL [cluster options]]\n"
	"\n"
	"  new      mints a token, prints it once on stdout, stores only its hash\n"
	"  list     names, roles, creation times, owners and scopes (never a token)\n"
	"  revoke   removes a token; the server drops its sessions\n"
	"  A running server picks every change up by itself: no restart, no SIGHUP.\n"
	"\n"
	"  --role agent|operator  agent (default): a machine's token; operator: for\n"
	"                         people and programs that use the API, ctl, the dashboard\n"
	"  --owner WHO            agent tokens: who owns the agent (slack:U0123ABCD, alice,\n"
	"                         alice@example.org: letters, digits and . _ - : @ +)\n"
	"  --scope SCOPE          operator tokens: what they may reach (default: everything)\n"
	"                         agents=SEL,...   owner:WHO, or a name glob (* and ?)\n"
	"                         can=KIND,...     read (lists, details), control (signals,\n"
	"                                          service actions), exec, tokens (agent\n"
	"                                          tokens through the API), all\n"
	"                         e.g. --scope 'agents=owner:slack:U1,web*;can=read,control'\n"
	"  --tokens FILE          the token file (default: DIR/" CFG_TOKENS_FILE ")\n"
	"  --state-dir DIR        default " CFG_STATE_DIR_ROOT " for root, else\n"
	"                         $XDG_STATE_HOME/nestd or ~/.local/state/nestd\n"
	"  --cluster URLS         the fleet's token store instead of a file: the bucket\n"
	"                         PREFIX_tokens of the NATS system every `nestd server\n"
	"                         --cluster` follows (a revocation reaches each at once)\n"
	"  import                 copies the entries of --tokens FILE into the store, once:\n"
	"                         names the store has already are left as they are\n"
	"  --cluster-prefix P, --cluster-creds F, --cluster-user-file F,\n"
	"  --cluster-token-file F, --cluster-ca F, --cluster-cert F, --cluster-key F,\n"
	"  --cluster-replicas N   as for `nestd server`\n"
	"  -h, --help             this help\n")

/* nestd --help (the full build's; nestd.c has the agent-only one) */
HELP_TEXT(NESTD,
	"usage: nestd server [--listen ADDR]... [options]   accept agents, serve operators\n"
	"       nestd agent --server URL [options]          connect and answer commands\n"
	"       nestd token new NAME [--role agent|operator] [--owner WHO] [--scope SCOPE]\n"
	"                 | list | revoke NAME                manage the server's tokens\n"
	"       nestd ctl [--server URL] SUBCOMMAND ...      drive agents through a server\n"
	"       nestd slack manifest                        the Slack app's manifest\n"
	"       nestd --version | --help | help SUBCOMMAND\n"
	"\n"
	"nestd speaks the Nest Management Bot's WebSocket protocol, both ends.\n")

/* nestd slack --help */
HELP_TEXT(SLACK,
	"usage: nestd slack manifest [--slack-command /nest]\n"
	"Prints the Slack app's manifest (JSON) for api.slack.com/apps, \"Create New\n"
	"App\", \"From an app manifest\"; README.md, \"Slack\", has the next steps.\n")

/* nestd slack manifest: the Slack app's manifest, its one %s the slash
 * command (server_slack.c) */
HELP_TEXT(SLACK_MANIFEST,
	"{\"_metadata\":{\"major_version\":1,\"minor_version\":1},\n"
	"\"display_information\":{\"name\":\"Nest Management Bot\",\"description\":"
	"\"Your processes and services, on your machines\"},\n"
	"\"features\":{\"app_home\":{\"home_tab_enabled\":true,\"messages_tab_enabled\":true,"
	"\"messages_tab_read_only_enabled\":true},\n"
	"\"bot_user\":{\"display_name\":\"nest\",\"always_online\":true},\n"
	"\"slash_commands\":[{\"command\":\"%s\",\"description\":\"Your machines\","
	"\"usage_hint\":\"ps | status | services | port | help\",\"should_escape\":false}]},\n"
	"\"oauth_config\":{\"scopes\":{\"bot\":[\"chat:write\",\"commands\"]}},\n"
	"\"settings\":{\"event_subscriptions\":{\"bot_events\":[\"app_home_opened\"]},"
	"\"interactivity\":{\"is_enabled\":true},\"org_deploy_enabled\":false,"
	"\"socket_mode_enabled\":true,\"token_rotation_enabled\":false}}\n")

/* nestd ctl NAME --help: after the usage line (ctl.c's subs[]) */
HELP_TEXT(CTL_CLIENTS,
	"The agents the server knows: connected ones, and those it remembers\n"
	"offline (GET /api/clients), in name order; in a fleet (servers started\n"
	"with --cluster) every server's, each with the server it is on.\n")
HELP_TEXT(CTL_AUDIT,
	"The latest audit entries (GET /api/audit; default " CFG_STR(CFG_AUDIT_LIMIT) ", at most\n"
	CFG_STR(CFG_AUDIT_LIMIT_MAX) "), oldest first, only one agent's with --agent, one\n"
	"operator's with --operator; the whole fleet's when the servers run with\n"
	"--cluster (an unscoped operator token).\n")
HELP_TEXT(CTL_PS,
	"The agent's processes (obtain_all_process_info), by PID unless --sort\n"
	"names another column (cpu and rss: busiest first; -KEY reverses), only\n"
	"one user's with --user.  On a terminal the columns fit its width, the\n"
	"command line cut to what is left, states in colour (not with NO_COLOR).\n")
HELP_TEXT(CTL_SERVICES,
	"The agent's services and their states (list_services).\n")
HELP_TEXT(CTL_SYSINFO,
	"Host, kernel, uptime, load, memory and disk (obtain_system_info).\n")
HELP_TEXT(CTL_PROC,
	"One process in detail (obtain_process_info).\n")
HELP_TEXT(CTL_KILL,
	"Sends a signal to a process: SIGTERM unless --signal names another (by\n"
	"name, SIGKILL or KILL, or number).  A PID is a positive integer; write it\n"
	"after -- when it could look like an option.\n")
HELP_TEXT(CTL_PAUSE,
	"Stops a process (SIGSTOP).\n")
HELP_TEXT(CTL_RESUME,
	"Continues a stopped process (SIGCONT).\n")
HELP_TEXT(CTL_SERVICE,
	"Acts on one service of the agent's service manager (UNIT without a\n"
	"suffix is UNIT.service); status shows it.\n")
HELP_TEXT(CTL_EXEC,
	"Runs COMMAND with /bin/sh -c on the agent, prints its output and exits\n"
	"with its exit status.  The words after -- are joined with spaces into one\n"
	"command, as ssh joins them: exec web1 -- sh -c 'exit 4' runs sh -c exit 4,\n"
	"which exits 0.  --argv quotes each word first, so that it stays one word\n"
	"(exec web1 --argv -- sh -c 'exit 4' exits 4).  --timeout S: the agent kills\n"
	"it after S seconds (default: the agent's --exec-timeout).\n")
HELP_TEXT(CTL_SEND,
	"Sends any command with a payload of those fields: key=value gives a\n"
	"string (or an integer, or true/false, when it reads as one), key:=JSON the\n"
	"value as written.\n")
