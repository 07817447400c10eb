/* config.h - every limit and default of nestd, named in one place.
 *
 * Change a bound here and every module that enforces it follows.  The C
 * sources take these numbers from here and do not spell them themselves,
 * help texts included (CFG_STR turns a plain number into text).  Tests and
 * documents that must state a number (test/, docs/PROTOCOL.md) name the
 * constant beside it, so that a change here can be followed with grep. */
#ifndef NESTD_CONFIG_H
#define NESTD_CONFIG_H

#define NESTD_VERSION "0.1.0"

/* "600" from 600: for help texts (plain numbers only, not expressions). */
#define CFG_STR_(x) #x
#define CFG_STR(x) CFG_STR_(x)

/* WebSocket / HTTP / JSON */
#define CFG_JSON_MAX_DEPTH       64        /* nesting of any JSON nestd reads */
#define CFG_HTTP_MAX_HEADER      8192      /* request or response head, bytes */
#define CFG_HTTP_MAX_HEADERS     64        /* header lines in one head */
#define CFG_WS_MAX_MESSAGE       (1u << 20)   /* default message limit: 1 MiB */
#define CFG_MAX_FIRST_MESSAGE    (16u << 10)  /* before authentication: 16 KiB */
#define CFG_MAX_AGENT_MESSAGE    (16u << 20)  /* agent -> server after auth */
#define CFG_MAX_SERVER_MESSAGE   (1u << 20)   /* server -> agent */
#define CFG_WS_MAX_CONTROL       125       /* RFC 6455 5.5 */

/* Timers, milliseconds */
#define CFG_AUTH_TIMEOUT_S       10
#define CFG_AUTH_TIMEOUT_MS      (CFG_AUTH_TIMEOUT_S * 1000)
#define CFG_AUTH_ANSWER_SLACK_MS 5000      /* agent: waits the server's auth timeout plus this */
#define CFG_HANDSHAKE_TIMEOUT_MS 10000
#define CFG_PING_INTERVAL_MS     20000
#define CFG_PING_INTERVAL_MAX_MS 86400000  /* --ping-interval, both roles */
#define CFG_PONG_TIMEOUT_MS      20000     /* no frame at all for this long after a ping: dead */
#define CFG_CLOSE_TIMEOUT_MS     3000      /* wait for the peer's close frame */
#define CFG_SHUTDOWN_SLACK_MS    500       /* server: SIGTERM waits the close timeout plus this */
#define CFG_RECONNECT_MIN_MS     1000
#define CFG_RECONNECT_MAX_MS     60000
#define CFG_RECONNECT_FLOOR_MS   10        /* the least --reconnect-min/max accepted */
#define CFG_RECONNECT_STABLE_MS  30000     /* link up this long resets backoff */
#define CFG_REJECTED_BACKOFF_MS  300000    /* token refused: wait 5 min */
#define CFG_REJECTED_BACKOFF_FACTOR 5      /* ...or this many --reconnect-max, when shorter */
#define CFG_RETRY_AFTER_MAX_S    86400     /* a server's retry_after above this is ignored */
#define CFG_COMMAND_TIMEOUT_S    30
#define CFG_COMMAND_TIMEOUT_MS   (CFG_COMMAND_TIMEOUT_S * 1000)

/* Server */
#define CFG_MAX_CONNECTIONS      262144    /* 100,000 agents and room to spare */
#define CFG_MAX_LISTENERS        16        /* --listen addresses */
#define CFG_SETUP_WINDOW_MS      2         /* new connections' setup paced per window... */
#define CFG_SETUP_BUDGET_US      1000      /* ...to this much CPU time in it (conn.c) */
#define CFG_ACCEPT_BATCH         64        /* accept(2) calls per wake-up of a listener */
#define CFG_SEND_BUFFER_MAX      (64u << 20)  /* queued output per WebSocket peer */
#define CFG_HTTP_SEND_MAX        (1u << 20)   /* queued output per HTTP connection, beyond one answer */
#define CFG_HTTP_PIPELINE_OUT_MAX (64u << 10) /* no next request read while more than this waits to go */
#define CFG_HTTP_FILE_CHUNK      (64u << 10)  /* a /dist/ file is queued this much at a time */
#define CFG_HTTP_STALL_MS        30000     /* an answer the client takes nothing of for this long: dropped */
#define CFG_FD_RESERVE           64        /* descriptors kept out of the connection cap (at most a quarter) */
#define CFG_ACCEPT_PAUSE_MS      250       /* out of descriptors, nothing to drop: listeners rest this long */
#define CFG_PREAUTH_PER_SOURCE   256       /* connections not yet authenticated, per source */
#define CFG_PREAUTH_GRACE_MS     2000      /* a new connection may not be dropped for room before this */
#define CFG_DEFAULT_LISTEN       "127.0.0.1:8989"
#define CFG_LISTEN_BACKLOG       512       /* listen(2) queue of every listener */
#define CFG_SOCKET_MODE          0666      /* unix: listeners: every local user may
					    * connect (each shows a token), as on Nest */
#define CFG_MAX_MESSAGE_MIN      (1u << 10)   /* --max-message bounds */
#define CFG_MAX_MESSAGE_MAX      (1ull << 30)
#define CFG_HTTP_STREAM_CHUNK    (64u << 10)  /* a streamed answer's pieces (GET /api/clients) */
#define CFG_HTTP_MAX_BODY        (256u << 10) /* operator request body */
#define CFG_MAX_INFLIGHT         4096      /* commands waiting per agent */
#define CFG_COMMAND_NAME_MAX     48        /* an operator's "message" */
#define CFG_EXEC_MARGIN_MS       10000     /* exec_command: its timeout plus this */
#define CFG_AUTH_FAIL_BURST      10        /* failures an address may make at once */
#define CFG_AUTH_FAIL_REFILL_MS  3000      /* then one more per this interval */
#define CFG_AUTH_TABLE           1024      /* sources tracked for that budget */
#define CFG_AUTH_SLOW_MS         1000      /* over budget: a failed attempt is answered this late */
#define CFG_AUTH_SUMMARY_MS      5000      /* over budget: one log line per source per interval */
#define CFG_TRUSTED_PROXIES      16        /* --trusted-proxy entries */
#define CFG_VERSION_MAX          32        /* an agent's announced version, kept */
#define CFG_HOSTNAME_MAX         64        /* an agent's hostname, kept */
#define CFG_BACKEND_NAME_MAX     16        /* an agent's "services" backend, kept */
#define CFG_AUDIT_LINE_MAX       (1u << 20)   /* one --audit-log line */
#define CFG_AUDIT_TAIL_MAX       (64ll << 20) /* GET /api/audit reads this much of the file back */
#define CFG_AUDIT_LIMIT          20        /* GET /api/audit's entries by default ... */
#define CFG_AUDIT_LIMIT_MAX      1000      /* ... and at most */
#define CFG_AUDIT_SCAN_MAX       (1 << 20) /* the fleet's stream: entries looked at, at most */
#define CFG_METRICS_COMMANDS     64        /* command names counted apart; the rest: "other" */

/* Cluster (--cluster): servers joined over NATS with JetStream */
#define CFG_CLUSTER_PREFIX       "nestd"   /* --cluster-prefix: subjects and buckets */
#define CFG_CLUSTER_PREFIX_MAX   32
#define CFG_CLUSTER_NODE_MAX     64        /* --node NAME */
#define CFG_CLUSTER_URLS_MAX     2048      /* --cluster's text */
#define CFG_CLUSTER_URLS_N       32        /* NATS URLs in it */
#define CFG_CLUSTER_REPLICAS_MAX 5         /* --cluster-replicas */
#define CFG_CLUSTER_CONNECT_TIMEOUT_MS 2000 /* one NATS connect attempt */
#define CFG_CLUSTER_RECONNECT_MS 1000      /* between rounds of NATS reconnects (jittered) */
#define CFG_CLUSTER_REOPEN_MS    5000      /* a NATS connection closed for good: a new one */
#define CFG_CLUSTER_PING_MS      5000      /* NATS pings: two unanswered mean dead */
#define CFG_CLUSTER_CLOSE_WAIT_MS 2000     /* at exit, for the NATS client's threads */
#define CFG_CLUSTER_HEARTBEAT_MS 1000      /* each server's presence in the nodes bucket */
#define CFG_CLUSTER_NODE_TTL_S   5         /* the nodes bucket's max_age */
#define CFG_CLUSTER_NODE_DEAD_MS 4000      /* no heartbeat this long: that server is gone */
#define CFG_CLUSTER_CLAIM_TTL_S  3600      /* the agents bucket's max_age */
#define CFG_CLUSTER_CLAIM_REFRESH_S 900    /* a held claim is put again this often */
#define CFG_CLUSTER_REFRESH_BATCH 500      /* claims refreshed per heartbeat at most */
#define CFG_CLUSTER_JS_TIMEOUT_MS 5000     /* a JetStream API request or publish ack */
#define CFG_CLUSTER_JS_FIRST_MS  1500      /* the buckets' and watches' first try: doubled
					    * per try that went unanswered, up to the above */
#define CFG_CLUSTER_JS_RETRY_MS  1000      /* setup again after this, doubled per failure,
					    * up to CFG_CLUSTER_REOPEN_MS */
#define CFG_CLUSTER_WATCH_HB_MS  1000      /* a bucket watch's idle heartbeat */
#define CFG_CLUSTER_WATCH_DEAD_MS 5000     /* nothing from a watch this long: a new one */
#define CFG_CLUSTER_ROUTE_MARGIN_MS 2000   /* a routed command: the holder's deadline plus this */
#define CFG_CLUSTER_CHUNK_SLACK  4096      /* a reply chunk: max_payload less this */
#define CFG_CLUSTER_TOKENS_SAVE_MS 5000    /* the token store's cache file, at most this often */
#define CFG_CLUSTER_TOKENS_CACHE "tokens.cluster"  /* ... in the state dir */
#define CFG_CLUSTER_AUDIT_AGE_S  (30 * 86400)  /* the audit stream keeps a month ... */
#define CFG_CLUSTER_AUDIT_BYTES  (1ll << 30)   /* ... and at most 1 GiB */

/* Outbound HTTP (httpc.c) */
#define CFG_RESOLVE_ADDRS        4         /* addresses a name resolved in a child tries */
#define CFG_HTTPC_IDLE_MS        30000     /* a keep-alive connection unused this long is closed */
#define CFG_HTTPC_MAX_BODY       (4u << 20)   /* an answer's body */

/* Slack (server_slack*.c) */
#define CFG_SLACK_API_URL        "https://slack.com/api/"
#define CFG_SLACK_COMMAND        "/nest"
#define CFG_SLACK_HTTP_CONNS     4         /* connections to the Web API at once */
#define CFG_SLACK_CALL_TIMEOUT_MS 15000    /* a Web API call, 429 waits included */
#define CFG_SLACK_MAX_ENVELOPE   (4u << 20)   /* a Socket Mode message */
#define CFG_SLACK_DRAIN_MS       15000     /* an old link kept after a refresh */
#define CFG_SLACK_SEEN           256       /* envelope ids remembered (redeliveries) */
#define CFG_SLACK_ACK_WAIT_MS    2000      /* a slash command's answer waits this long for
					    * its agent; Slack wants the ack within 3 s */
#define CFG_SLACK_TRIGGER_MS     2500      /* a trigger_id is good for 3 s */
#define CFG_SLACK_MAX_USERS      10000     /* people with settings */
#define CFG_SLACK_ADMINS         64        /* --slack-admins */
#define CFG_SLACK_TOKEN_MAX      255       /* an xapp- or xoxb- token */
#define CFG_SLACK_AGENTS_MAX     100       /* agents one person is shown */
#define CFG_SLACK_HOME_DELAY_MS  200       /* an agent came or went: home tabs after this */
#define CFG_SLACK_SETTLE_MS      150       /* after a signal or a service action, the view
					    * of its result is asked for this much later */

/* Server state */
#define CFG_STATE_DIR_ROOT       "/var/lib/nestd"  /* --state-dir for root; others: XDG's */
#define CFG_TOKENS_FILE          "tokens"          /* the token file, in the state dir */
#define CFG_AGENTS_FILE          "agents"          /* the agents seen (server_roster.h) */
#define CFG_HISTORY_FILE         "history"         /* their usage history */
#define CFG_SESSIONS_FILE        "sessions"        /* the dashboard's sessions */
#define CFG_STATE_FILE_MAX       (64u << 20)       /* each of those three files */
#define CFG_STATE_SAVE_MS        60000     /* agents and sessions written at most this often */
#define CFG_STATE_QUICK_MS       5000      /* ...but a change within this, at most once per it */
#define CFG_HISTORY_SAVE_MS      300000    /* the history written at most this often */
#define CFG_ROSTER_MAX           16384     /* agents remembered; the offline one seen longest ago goes */
#define CFG_ROSTER_COMMANDS_MAX  2048      /* an announced command list remembered (bytes) */
#define CFG_HISTORY_INTERVAL_S   60        /* --history-interval: one sample an agent */
#define CFG_HISTORY_INTERVAL_MS  (CFG_HISTORY_INTERVAL_S * 1000)
#define CFG_HISTORY_FIRST_MS     2000      /* the first sample after an agent connects */
#define CFG_HISTORY_SAMPLES      360       /* samples kept an agent (6 h at the default) */
#define CFG_HISTORY_AGENTS_MAX   1024      /* agents with a history (~20 KiB each) */
#define CFG_SESSION_TTL_S        43200     /* a dashboard session lasts 12 h */
#define CFG_SESSIONS_MAX         4096      /* sessions kept; the oldest goes */
#define CFG_GZIP_MIN             1024      /* API answers this big or more go gzip'd */

/* Agent */
#define CFG_AGENT_SERVERS_MAX    16        /* --server URLs, tried in turn */
#define CFG_EXEC_TIMEOUT_S       60
#define CFG_EXEC_TIMEOUT_MAX_S   86400     /* --exec-timeout, and payload.timeout as the server reads it */
#define CFG_MAX_OUTPUT           (1u << 20)
#define CFG_MAX_OUTPUT_MIN       (1u << 10)   /* --max-output bounds */
#define CFG_MAX_OUTPUT_MAX       (256u << 20)
#define CFG_MAX_EXEC             4
#define CFG_MAX_EXEC_MAX         256       /* --max-exec */
#define CFG_SERVICE_NAME_MAX     256
#define CFG_EXEC_COMMAND_MAX     (64u << 10)  /* exec_command's command text */
#define CFG_SVC_MAX_OUTPUT       (8u << 20)   /* a service tool's output per stream */
#define CFG_MAX_SVC_RUNNING      8            /* service tools at once */
#define CFG_PROC_LIST_CMDLINE_MAX 4096      /* a command line in obtain_all_process_info */
#define CFG_PROC_INFO_CMDLINE_MAX 65536     /* a command line in obtain_process_info */
#define CFG_EXEC_KILL_GRACE_MS   2000      /* a child's group: SIGTERM, then SIGKILL after this */
#define CFG_EXEC_EOF_GRACE_MS    300       /* child gone, a grandchild holds its pipe this long */
#define CFG_PASSWD_MAX           (64u << 20)  /* /etc/passwd, read for user names */
#define CFG_PROC_ROOT            "/proc"   /* --proc-root's default */
#define CFG_CGROUP_ROOT          "/sys/fs/cgroup"  /* where the agent's own cgroup v2 is */
#define CFG_USAGE_WALK_MS        400       /* obtain_user_usages: du's walk, at most */
#define CFG_USAGE_WALK_ENTRIES   200000    /* ...and this many entries */
#define CFG_USAGE_WALK_DEPTH     64        /* ...and this deep (a descriptor each) */
#define CFG_USAGE_ROWS_MAX       500       /* storage rows (folders) in a reply */
#define CFG_USAGE_ORIG_TEXT      2600      /* original shape: storage rows' text, as
					    * the original's view joins them (Slack
					    * refuses a section over 3,000) */
#define CFG_NEST_TOOL_TIMEOUT_MS 700       /* `nest resources`, `nest get_port` */
#define CFG_NEST_MAX_OUTPUT      (64u << 10)  /* ...their output kept */
#define CFG_SVC_ORIG_ANSWER_MS   700       /* original shape, OpenRC: an action's answer
					    * is due by then (the original server
					    * waits 1 s); the job goes on */
#define CFG_SVC_WAIT_MARGIN_MS   2000      /* a nestd server's command timeout, less
					    * this, bounds a service action's wait */

/* The original Nest Management Bot, where nestd stands in for one half */
#define CFG_ORIG_ENV_FILE        ".env.nest-management-bot"  /* in $HOME: its client's token, server */
#define CFG_ORIG_SOCKET          "/var/community/nest-management-bot.sock"  /* its server */

/* TLS (BearSSL) */
#define CFG_TLS_MAX_PEM          (4u << 20)   /* a certificate bundle or key file */
#define CFG_TLS_MAX_EE_CERT      (16u << 10)  /* server certificate kept for --pin */
#define CFG_TLS_MAX_PINS         8         /* sha256//A;sha256//B... */
#define CFG_TLS_SESSION_CACHE    65536     /* server: sessions kept for resumption */
#define CFG_TLS_SESSION_LIFETIME_S 86400   /* a session resumes for this long */
#define CFG_TLS_SESSIONS_FILE    "tls-sessions"   /* in the state dir, across restarts */
#define CFG_TLS_CA_FILE          "/etc/ssl/certs/ca-certificates.crt"  /* without --ca-file */

/* nestd ctl */
#define CFG_CTL_WAIT_S           600       /* --wait: the whole exchange */
#define CFG_CTL_CONNECT_TIMEOUT_MS 10000   /* the TCP (or unix) connect */
#define CFG_CTL_MAX_ANSWER       (64u << 20)  /* an answer's head and body */

/* Tokens */
#define TOKEN_HEX_LEN            64
#define TOKEN_SUM_LEN            8
#define TOKEN_LEN                (TOKEN_HEX_LEN + 1 + TOKEN_SUM_LEN)
#define TOKEN_NAME_MAX           64
#define TOKEN_OWNER_MAX          64        /* an agent token's --owner */
#define CFG_SCOPE_MAX            320       /* an operator token's --scope, as text */
#define CFG_SCOPE_SELECTORS_MAX  16        /* agents= items in one scope */
#define CFG_TOKEN_LINE_MAX       1024      /* one line of the token file, newline excluded */
#define CFG_TOKEN_FILE_MAX       (64u << 20)  /* the whole token file */
#define CFG_TOKEN_READ_MAX       4096      /* what token_read_file reads of a --token-file */
#define CFG_TOKEN_RECHECK_MS     1000      /* server: how often it re-stats the token file */

#endif
