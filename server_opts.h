/* server_opts.h - `nestd server`'s options: the command line and the config
 * file, parsed and checked once, then handed read-only to server_run.
 * Nothing here changes while the server runs (dropbear's svr-runopts.c). */
#ifndef NESTD_SERVER_OPTS_H
#define NESTD_SERVER_OPTS_H

#include <stddef.h>
#include "config.h"
#include "net.h"
#include "server_admit.h"

#define MAX_LISTENERS 16

/* --cluster and its company; urls "" means a single server. */
struct server_cluster_opts {
	char urls[CFG_CLUSTER_URLS_MAX + 1];
	char node[CFG_CLUSTER_NODE_MAX + 1];      /* default: the host's name (validate) */
	char prefix[CFG_CLUSTER_PREFIX_MAX + 1];  /* subjects and buckets */
	char creds[4096], user_file[4096], token_file[4096];   /* NATS credentials */
	char ca[4096], cert[4096], key[4096];     /* NATS over TLS */
	int replicas;                             /* the buckets'; default by the URLs */
};

struct server_opts {
	struct net_addr listen[MAX_LISTENERS];
	int listen_tls[MAX_LISTENERS];   /* this listener speaks TLS (validate) */
	int nlisten;
	char state_dir[4096];
	char tokens_path[4096];          /* default STATE-DIR/tokens (validate) */
	char tokens_cache[4096];         /* --cluster: STATE-DIR/tokens.cluster (validate) */
	char audit_path[4096];           /* "": no audit log */
	char tls_cert[4096], tls_key[4096];
	char dist_dir[4096];             /* "": serve this server's own binary */
	char public_url[512];            /* no trailing '/'; "": from the Host header */
	char accept_versions[256];
	long long auth_timeout_ms, command_timeout_ms;
	long long history_ms;            /* --history-interval; 0: no history */
	int ping_ms;
	size_t max_message;
	int ui;
	unsigned socket_mode;            /* unix: listeners' permissions (--socket-mode) */
	struct admit_proxy trusted[CFG_TRUSTED_PROXIES];   /* --trusted-proxy */
	int ntrusted;
	char config_path[4096];          /* --config, "" none */
	/* Slack (server_slack.h): the tokens' files, or the tokens themselves
	 * from the config file (never from argv) */
	char slack_app_file[4096], slack_bot_file[4096];
	char slack_app_token[CFG_SLACK_TOKEN_MAX + 1], slack_bot_token[CFG_SLACK_TOKEN_MAX + 1];
	char slack_api_url[512];
	char slack_admins[CFG_SLACK_ADMINS * 16];   /* U…,U… as given */
	char slack_command[33];
	struct server_cluster_opts cluster;
};

/* 1 when the Slack face is configured (both tokens given somehow). */
int server_opts_slack(const struct server_opts *o);

/* What server_opts_parse found. */
enum server_opts_parsed {
	SERVER_OPTS_RUN,     /* options read: validate, then run */
	SERVER_OPTS_HELP,    /* -h/--help: print server_opts_usage, exit 0 */
	SERVER_OPTS_BAD,     /* usage error (exit 2); err holds the message */
};

extern const char server_opts_usage[];

/* The defaults, then the config file (--config), then the flags over it.
 * argv[0] is the first argument, not the program. */
enum server_opts_parsed server_opts_parse(struct server_opts *o, int argc, char **argv,
					  char *err, size_t errlen);
/* Checks what depends on more than one option and fills in the defaults
 * that depend on others (the listener, which listeners speak TLS, the
 * state directory and the token file).  0, or -1 with the reason in err:
 * a usage error (exit 2). */
int server_opts_validate(struct server_opts *o, char *err, size_t errlen);

#endif
