/* server_opts.c - parses and validates `nestd server`'s command line and
 * config file into a struct server_opts (see server_opts.h).  One option
 * table serves both (cfg.c), so a key in the file and a flag always mean
 * the same thing; the flags win.  Nothing is opened or started here. */
#include "buf.h"
#include "server_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <sys/stat.h>

#include "cfg.h"
#include "config.h"
#include "fmt.h"
#include "log.h"
#include "server_install.h"
#include "server_nats.h"
#include "tls.h"
#include "token.h"
#include "token_file.h"
#include "num.h"

enum {
	O_LISTEN = 1, O_STATE_DIR, O_TOKENS, O_CONFIG, O_AUTH_TIMEOUT, O_COMMAND_TIMEOUT,
	O_AUDIT_LOG, O_TLS_CERT, O_TLS_KEY, O_ACCEPT_VERSIONS, O_MAX_MESSAGE, O_DIST_DIR,
	O_LOG_LEVEL, O_PING_INTERVAL, O_UI, O_PUBLIC_URL, O_SOCKET_MODE, O_TRUSTED_PROXY,
	O_CLUSTER, O_NODE, O_CLUSTER_PREFIX, O_CLUSTER_CREDS, O_CLUSTER_USER, O_CLUSTER_TOKEN,
	O_CLUSTER_CA, O_CLUSTER_CERT, O_CLUSTER_KEY, O_CLUSTER_REPLICAS,
	O_SLACK_APP_FILE, O_SLACK_BOT_FILE, O_SLACK_APP, O_SLACK_BOT, O_SLACK_API_URL,
	O_SLACK_ADMINS, O_SLACK_COMMAND,
	O_HISTORY_INTERVAL,
};

static const struct cfg_opt server_cfg[] = {
	{ "listen", 1, O_LISTEN, 1 },
	{ "state-dir", 1, O_STATE_DIR, 1 },
	{ "tokens", 1, O_TOKENS, 1 },
	{ "config", 1, O_CONFIG, 0 },
	{ "auth-timeout", 1, O_AUTH_TIMEOUT, 1 },
	{ "command-timeout", 1, O_COMMAND_TIMEOUT, 1 },
	{ "audit-log", 1, O_AUDIT_LOG, 1 },
	{ "tls-cert", 1, O_TLS_CERT, 1 },
	{ "tls-key", 1, O_TLS_KEY, 1 },
	{ "accept-versions", 1, O_ACCEPT_VERSIONS, 1 },
	{ "max-message", 1, O_MAX_MESSAGE, 1 },
	{ "dist-dir", 1, O_DIST_DIR, 1 },
	{ "log-level", 1, O_LOG_LEVEL, 1 },
	{ "ping-interval", 1, O_PING_INTERVAL, 1 },
	{ "ui", 1, O_UI, 1 },
	{ "public-url", 1, O_PUBLIC_URL, 1 },
	{ "socket-mode", 1, O_SOCKET_MODE, 1 },
	{ "trusted-proxy", 1, O_TRUSTED_PROXY, 1 },
	{ "cluster", 1, O_CLUSTER, 1 },
	{ "node", 1, O_NODE, 1 },
	{ "cluster-prefix", 1, O_CLUSTER_PREFIX, 1 },
	{ "cluster-creds", 1, O_CLUSTER_CREDS, 1 },
	{ "cluster-user-file", 1, O_CLUSTER_USER, 1 },
	{ "cluster-token-file", 1, O_CLUSTER_TOKEN, 1 },
	{ "cluster-ca", 1, O_CLUSTER_CA, 1 },
	{ "cluster-cert", 1, O_CLUSTER_CERT, 1 },
	{ "cluster-key", 1, O_CLUSTER_KEY, 1 },
	{ "cluster-replicas", 1, O_CLUSTER_REPLICAS, 1 },
	{ "history-interval", 1, O_HISTORY_INTERVAL, 1 },
	{ "slack-app-token-file", 1, O_SLACK_APP_FILE, 1 },
	{ "slack-bot-token-file", 1, O_SLACK_BOT_FILE, 1 },
	{ "slack-app-token", 1, O_SLACK_APP, 1 },
	{ "slack-bot-token", 1, O_SLACK_BOT, 1 },
	{ "slack-api-url", 1, O_SLACK_API_URL, 1 },
	{ "slack-admins", 1, O_SLACK_ADMINS, 1 },
	{ "slack-command", 1, O_SLACK_COMMAND, 1 },
	{ NULL, 0, 0, 0 },
};

/* The --help text is HELP_TEXT(server) in help_text.h (help.c prints it). */

/* What parsing needs beyond the options themselves. */
struct parsing {
	struct server_opts *o;
	int listen_from_flags;   /* the first --listen flag replaces the file's list */
};

static int set_listen(struct parsing *ps, const char *v, int from_file, char *err, size_t errlen)
{
	struct server_opts *o = ps->o;
	char spelled[300];

	if (!from_file && !ps->listen_from_flags) {
		o->nlisten = 0;
		ps->listen_from_flags = 1;
	}
	if (o->nlisten >= MAX_LISTENERS) {
		fmt_snprintf(err, errlen, "too many --listen addresses (at most %d)", MAX_LISTENERS);
		return -1;
	}
	if (str_find(v, "://") && net_url_as_addr(v, spelled, sizeof(spelled)) == 0)
		v = spelled;    /* --listen http://127.0.0.1:8989/ as ctl --server writes it */
	if (net_parse_addr(v, &o->listen[o->nlisten], err, errlen) < 0)
		return -1;
	o->nlisten++;
	return 0;
}

static int set_seconds(struct server_opts *o, int id, const char *v, char *err, size_t errlen)
{
	long long ms;

	if (cfg_parse_seconds(v, &ms) < 0 || (ms == 0 && id != O_PING_INTERVAL &&
					      id != O_HISTORY_INTERVAL)) {
		fmt_snprintf(err, errlen, "bad number of seconds '%s'", v);
		return -1;
	}
	if (id == O_AUTH_TIMEOUT)
		o->auth_timeout_ms = ms;
	else if (id == O_COMMAND_TIMEOUT)
		o->command_timeout_ms = ms;
	else if (id == O_HISTORY_INTERVAL)
		o->history_ms = ms;
	else
		o->ping_ms = (int)(ms > CFG_PING_INTERVAL_MAX_MS ? CFG_PING_INTERVAL_MAX_MS : ms);
	return 0;
}

/* A path option, kept as given (PATH_MAX bounds it). */
static int set_path(char *out, size_t n, const char *v)
{
	fmt_copy(out, n, v);
	return 0;
}

#if NESTD_NATS
/* A name for subjects and buckets: 1..max of [A-Za-z0-9_-]. */
static int subject_word_ok(const char *v, size_t max)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '-'))
			return 0;
	return 1;
}

/* --cluster URLS: each nats:// or tls://, at most CFG_CLUSTER_URLS_N. */
static int set_cluster_urls(struct server_cluster_opts *c, const char *v, char *err,
			    size_t errlen)
{
	const char *p = v;
	int n = 0;

	if (strlen(v) > CFG_CLUSTER_URLS_MAX) {
		fmt_snprintf(err, errlen, "--cluster: too long (at most %d bytes)", CFG_CLUSTER_URLS_MAX);
		return -1;
	}
	while (*p) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if ((l <= 7 || strncmp(p, "nats://", 7) != 0) && (l <= 6 || strncmp(p, "tls://", 6) != 0)) {
			fmt_snprintf(err, errlen, "--cluster '%s': each URL is nats://HOST:PORT or tls://HOST:PORT", v);
			return -1;
		}
		if (++n > CFG_CLUSTER_URLS_N) {
			fmt_snprintf(err, errlen, "--cluster: at most %d URLs", CFG_CLUSTER_URLS_N);
			return -1;
		}
		p += l + (end ? 1 : 0);
	}
	if (n == 0) {
		fmt_snprintf(err, errlen, "--cluster needs at least one nats:// URL");
		return -1;
	}
	fmt_copy(c->urls, sizeof(c->urls), v);
	return 0;
}

static int set_cluster(struct server_cluster_opts *c, int id, const char *v, char *err,
		       size_t errlen)
{
	char *end;
	long n;

	switch (id) {
	case O_CLUSTER: return set_cluster_urls(c, v, err, errlen);
	case O_CLUSTER_CREDS: return set_path(c->creds, sizeof(c->creds), v);
	case O_CLUSTER_USER: return set_path(c->user_file, sizeof(c->user_file), v);
	case O_CLUSTER_TOKEN: return set_path(c->token_file, sizeof(c->token_file), v);
	case O_CLUSTER_CA: return set_path(c->ca, sizeof(c->ca), v);
	case O_CLUSTER_CERT: return set_path(c->cert, sizeof(c->cert), v);
	case O_CLUSTER_KEY: return set_path(c->key, sizeof(c->key), v);
	case O_NODE:
		if (!subject_word_ok(v, CFG_CLUSTER_NODE_MAX)) {
			fmt_snprintf(err, errlen, "bad --node '%s' (1 to %d of A-Z a-z 0-9 _ -)", v,
				 CFG_CLUSTER_NODE_MAX);
			return -1;
		}
		fmt_copy(c->node, sizeof(c->node), v);
		return 0;
	case O_CLUSTER_PREFIX:
		if (!subject_word_ok(v, CFG_CLUSTER_PREFIX_MAX)) {
			fmt_snprintf(err, errlen, "bad --cluster-prefix '%s' (1 to %d of A-Z a-z 0-9 _ -)",
				 v, CFG_CLUSTER_PREFIX_MAX);
			return -1;
		}
		fmt_copy(c->prefix, sizeof(c->prefix), v);
		return 0;
	case O_CLUSTER_REPLICAS:
		n = num_strtol(v, &end);
		if (*v < '0' || *v > '9' || *end || n < 1 || n > CFG_CLUSTER_REPLICAS_MAX) {
			fmt_snprintf(err, errlen, "bad --cluster-replicas '%s' (1 to %d)", v,
				 CFG_CLUSTER_REPLICAS_MAX);
			return -1;
		}
		c->replicas = (int)n;
		return 0;
	}
	return -1;
}

/* The cluster options that depend on each other, and the defaults. */
static int validate_cluster(struct server_cluster_opts *c, char *err, size_t errlen)
{
	char host[256] = "", *dot;
	const char *p;
	int n = 1;

	if (!c->urls[0]) {
		if (c->node[0] || c->creds[0] || c->user_file[0] || c->token_file[0] || c->ca[0] ||
		    c->cert[0] || c->replicas) {
			fmt_snprintf(err, errlen, "--node and the --cluster-* options need --cluster");
			return -1;
		}
		return 0;
	}
	if (!nats_available()) {
		fmt_snprintf(err, errlen, "--cluster: this nestd was built without NATS "
			 "(make NATS=1 with libnats-dev installed)");
		return -1;
	}
	if (!c->cert[0] != !c->key[0]) {
		fmt_snprintf(err, errlen, "--cluster-cert and --cluster-key go together");
		return -1;
	}
	if (!!c->creds[0] + !!c->user_file[0] + !!c->token_file[0] > 1) {
		fmt_snprintf(err, errlen, "one of --cluster-creds, --cluster-user-file, --cluster-token-file");
		return -1;
	}
	if (!c->node[0]) {
		gethostname(host, sizeof(host) - 1);
		if ((dot = strchr(host, '.')))
			*dot = '\0';
		if (!subject_word_ok(host, CFG_CLUSTER_NODE_MAX)) {
			fmt_snprintf(err, errlen, "--cluster: name this server with --node NAME "
				 "(the host name '%s' will not do)", host);
			return -1;
		}
		fmt_copy(c->node, sizeof(c->node), host);
	}
	if (!c->prefix[0])
		fmt_copy(c->prefix, sizeof(c->prefix), CFG_CLUSTER_PREFIX);
	for (p = c->urls; (p = strchr(p, ',')); p++)
		n++;
	if (!c->replicas)
		c->replicas = n >= 3 ? 3 : 1;
	return 0;
}

#else /* !NESTD_NATS */

/* Without NATS nothing of the fleet's can run: each of its options is
 * refused as it is read, by its name. */
static int set_cluster(struct server_cluster_opts *c, int id, const char *v, char *err,
		       size_t errlen)
{
	int i;

	for (i = 0; server_cfg[i].id != id; i++)
		;
	fmt_snprintf(err, errlen, "--%s: this nestd was built without NATS (make NATS=1 with "
		     "libnats-dev installed)", server_cfg[i].name);
	return -1;
}

static int validate_cluster(struct server_cluster_opts *c, char *err, size_t errlen)
{
	return 0;
}
#endif /* NESTD_NATS */

/* Slack user ids: U or W and 2 to 20 of [A-Z0-9], comma-separated. */
static int ids_valid(const char *v)
{
	int n = 0;

	for (;;) {
		size_t k = strspn(v + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

		if ((*v != 'U' && *v != 'W') || k < 2 || k > 20 || ++n > CFG_SLACK_ADMINS)
			return 0;
		v += 1 + k;
		if (!*v)
			return 1;
		if (*v++ != ',')
			return 0;
	}
}

static int set_token(char *out, const char *v, int from_file, const char *name, char *err,
		     size_t errlen)
{
	size_t n = strlen(v);

	if (!from_file) {
		fmt_snprintf(err, errlen, "--%s: a token never goes on the command line; use "
			 "--%s-file FILE or the config file", name, name);
		return -1;
	}
	if (n < 8 || n > CFG_SLACK_TOKEN_MAX || strspn(v, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n) {
		fmt_snprintf(err, errlen, "%s: not a Slack token", name);
		return -1;
	}
	memcpy(out, v, n + 1);
	return 0;
}

static int set_slack(struct server_opts *o, int id, const char *v, char *err, size_t errlen)
{
	struct net_url u;

	switch (id) {
	case O_SLACK_API_URL:
		if (net_parse_url(v, &u, err, errlen) < 0 || (u.scheme != URL_HTTP && u.scheme != URL_HTTPS) ||
		    strlen(v) >= sizeof(o->slack_api_url)) {
			fmt_snprintf(err, errlen, "--slack-api-url takes an http:// or https:// URL");
			return -1;
		}
		fmt_copy(o->slack_api_url, sizeof(o->slack_api_url), v);
		return 0;
	case O_SLACK_ADMINS:
		if (*v && !ids_valid(v)) {
			fmt_snprintf(err, errlen, "--slack-admins takes Slack user ids: U0123ABCD,U0456EFGH");
			return -1;
		}
		fmt_copy(o->slack_admins, sizeof(o->slack_admins), v);
		return 0;
	case O_SLACK_COMMAND:
		if (v[0] != '/' || strlen(v) < 2 || strlen(v) >= sizeof(o->slack_command) ||
		    strspn(v + 1, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(v + 1)) {
			fmt_snprintf(err, errlen, "--slack-command takes a slash command: /nest");
			return -1;
		}
		fmt_copy(o->slack_command, sizeof(o->slack_command), v);
		return 0;
	}
	return -1;
}

int server_opts_slack(const struct server_opts *o)
{
	return (o->slack_app_file[0] || o->slack_app_token[0]) &&
	       (o->slack_bot_file[0] || o->slack_bot_token[0]);
}

/* Octal permission bits, as chmod takes them (no setuid, setgid or
 * sticky bit: they mean nothing on a socket). */
static int set_socket_mode(struct server_opts *o, const char *v, char *err, size_t errlen)
{
	unsigned m = 0;
	size_t i, n = strlen(v);

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '7'; i++)
		m = m * 8 + (unsigned)(v[i] - '0');
	if (!n || i < n || n > 4 || m > 0777) {
		fmt_snprintf(err, errlen, "bad --socket-mode '%s' (octal permissions, 0 to 0777, e.g. 0660)", v);
		return -1;
	}
	o->socket_mode = m;
	return 0;
}

/* The options whose value is checked on its own. */
static int set_checked(struct server_opts *o, int id, const char *v, char *err, size_t errlen)
{
	unsigned long long b;

	switch (id) {
	case O_ACCEPT_VERSIONS:
		if (!*v || strlen(v) >= sizeof(o->accept_versions)) {
			fmt_snprintf(err, errlen, "bad --accept-versions '%s'", v);
			return -1;
		}
		fmt_copy(o->accept_versions, sizeof(o->accept_versions), v);
		return 0;
	case O_MAX_MESSAGE:
		if (cfg_parse_bytes(v, &b) < 0 || b < CFG_MAX_MESSAGE_MIN || b > CFG_MAX_MESSAGE_MAX) {
			fmt_snprintf(err, errlen, "bad --max-message '%s' (1K..1G)", v);
			return -1;
		}
		o->max_message = (size_t)b;
		return 0;
	case O_LOG_LEVEL:
		/* The level is the process's, not the server's: it holds from
		 * here on, so that start-up already obeys it. */
		if (log_set_level(v) < 0) {
			fmt_snprintf(err, errlen, "bad --log-level '%s' (debug, info, warn, error)", v);
			return -1;
		}
		return 0;
	case O_UI:
		if (strcmp(v, "on") && strcmp(v, "off")) {
			fmt_snprintf(err, errlen, "--ui takes on or off");
			return -1;
		}
		o->ui = strcmp(v, "on") == 0;
		return 0;
	case O_PUBLIC_URL:
		return server_install_parse_url(v, o->public_url, sizeof(o->public_url), err, errlen);
	case O_SOCKET_MODE:
		return set_socket_mode(o, v, err, errlen);
	case O_TRUSTED_PROXY:
		if (o->ntrusted >= CFG_TRUSTED_PROXIES) {
			fmt_snprintf(err, errlen, "too many --trusted-proxy entries (at most %d)",
				 CFG_TRUSTED_PROXIES);
			return -1;
		}
		if (admit_proxy_parse(v, &o->trusted[o->ntrusted]) < 0) {
			fmt_snprintf(err, errlen, "bad --trusted-proxy '%s' (IP, IP/BITS or unix:uid=N)", v);
			return -1;
		}
		o->ntrusted++;
		return 0;
	}
	if (id >= O_CLUSTER && id <= O_CLUSTER_REPLICAS)
		return set_cluster(&o->cluster, id, v, err, errlen);
	return set_slack(o, id, v, err, errlen);
}

static int server_set(void *ctx, int id, const char *v, int from_file, char *err, size_t errlen)
{
	struct parsing *ps = ctx;
	struct server_opts *o = ps->o;

	switch (id) {
	case O_LISTEN: return set_listen(ps, v, from_file, err, errlen);
	case O_STATE_DIR: return set_path(o->state_dir, sizeof(o->state_dir), v);
	case O_TOKENS: return set_path(o->tokens_path, sizeof(o->tokens_path), v);
	case O_AUDIT_LOG: return set_path(o->audit_path, sizeof(o->audit_path), v);
	case O_TLS_CERT: return set_path(o->tls_cert, sizeof(o->tls_cert), v);
	case O_TLS_KEY: return set_path(o->tls_key, sizeof(o->tls_key), v);
	case O_DIST_DIR: return set_path(o->dist_dir, sizeof(o->dist_dir), v);
	case O_CONFIG: return set_path(o->config_path, sizeof(o->config_path), v);
	case O_SLACK_APP_FILE: return set_path(o->slack_app_file, sizeof(o->slack_app_file), v);
	case O_SLACK_BOT_FILE: return set_path(o->slack_bot_file, sizeof(o->slack_bot_file), v);
	case O_SLACK_APP: return set_token(o->slack_app_token, v, from_file, "slack-app-token", err, errlen);
	case O_SLACK_BOT: return set_token(o->slack_bot_token, v, from_file, "slack-bot-token", err, errlen);
	case O_AUTH_TIMEOUT:
	case O_COMMAND_TIMEOUT:
	case O_PING_INTERVAL:
	case O_HISTORY_INTERVAL:
		return set_seconds(o, id, v, err, errlen);
	}
	return set_checked(o, id, v, err, errlen);
}

/* The server's own major version; major.minor while it is 0.x. */
static void default_versions(char *out, size_t n)
{
	int major = num_atoi(NESTD_VERSION), minor = 0;
	const char *dot = strchr(NESTD_VERSION, '.');

	if (dot)
		minor = num_atoi(dot + 1);
	if (major == 0)
		fmt_snprintf(out, n, "0.%d", minor);
	else
		fmt_snprintf(out, n, "%d", major);
}

enum server_opts_parsed server_opts_parse(struct server_opts *o, int argc, char **argv,
					  char *err, size_t errlen)
{
	struct parsing ps = { o, 0 };
	const char *cfgpath;
	char *pos[1];
	int npos, help;

	memset(o, 0, sizeof(*o));
	o->auth_timeout_ms = CFG_AUTH_TIMEOUT_MS;
	o->command_timeout_ms = CFG_COMMAND_TIMEOUT_MS;
	o->max_message = CFG_MAX_AGENT_MESSAGE;
	o->ping_ms = CFG_PING_INTERVAL_MS;
	o->history_ms = CFG_HISTORY_INTERVAL_MS;
	o->ui = 1;
	fmt_copy(o->slack_api_url, sizeof(o->slack_api_url), CFG_SLACK_API_URL);
	fmt_copy(o->slack_command, sizeof(o->slack_command), CFG_SLACK_COMMAND);
	o->socket_mode = CFG_SOCKET_MODE;
	default_versions(o->accept_versions, sizeof(o->accept_versions));

	cfgpath = cfg_find_config(argc, argv);
	if (cfgpath && cfg_load_file(cfgpath, server_cfg, server_set, &ps, err, errlen) < 0)
		return SERVER_OPTS_BAD;
	if (cfg_parse_args(argc, argv, server_cfg, server_set, &ps, pos, 0, &npos, &help,
			   err, errlen) < 0) {
		size_t l = strlen(err);

		fmt_snprintf(err + l, errlen - l, "\nTry 'nestd server --help'.");
		return SERVER_OPTS_BAD;
	}
	return help ? SERVER_OPTS_HELP : SERVER_OPTS_RUN;
}

/* Both tokens or neither; https:// needs TLS; a config file that holds a
 * token is checked like a token file (readable by its owner alone). */
static int slack_validate(const struct server_opts *o, char *err, size_t errlen)
{
	struct stat st;
	int app = o->slack_app_file[0] || o->slack_app_token[0];
	int bot = o->slack_bot_file[0] || o->slack_bot_token[0];

	if (app != bot) {
		fmt_snprintf(err, errlen, "Slack needs both tokens: --slack-app-token-file and "
			 "--slack-bot-token-file");
		return -1;
	}
	if (app && !tls_available() && strncasecmp(o->slack_api_url, "https:", 6) == 0) {
		fmt_snprintf(err, errlen, "--slack-api-url %s: this nestd was built without TLS",
			 o->slack_api_url);
		return -1;
	}
	if ((o->slack_app_token[0] || o->slack_bot_token[0]) &&
	    (stat(o->config_path, &st) < 0 || (st.st_mode & 0077))) {
		fmt_snprintf(err, errlen, "%s holds a Slack token and others can read it; chmod 600 it",
			 o->config_path);
		return -1;
	}
	return 0;
}

int server_opts_validate(struct server_opts *o, char *err, size_t errlen)
{
	const char *base;
	int i;

	if ((o->tls_cert[0] || o->tls_key[0]) && !tls_available()) {
		fmt_snprintf(err, errlen, "--tls-cert/--tls-key: this nestd was built without TLS (make TLS=1)");
		return -1;
	}
	if (!o->tls_cert[0] != !o->tls_key[0]) {
		fmt_snprintf(err, errlen, "--tls-cert and --tls-key go together");
		return -1;
	}
	if (o->nlisten == 0)
		net_parse_addr(CFG_DEFAULT_LISTEN, &o->listen[o->nlisten++], err, errlen);
	/* Which listeners speak TLS: with a certificate, every TCP listener
	 * that is not on loopback; "tls:" forces it.  Unix sockets and
	 * loopback stay plain (local reverse proxies, tests, the CLI). */
	for (i = 0; i < o->nlisten; i++) {
		const struct net_addr *a = &o->listen[i];

		if (a->tls && !o->tls_cert[0]) {
			fmt_snprintf(err, errlen, "--listen tls:%s:%s needs --tls-cert and --tls-key",
				 a->host, a->port);
			return -1;
		}
		o->listen_tls[i] = a->kind == NET_TCP && o->tls_cert[0] &&
				   (a->tls || !net_is_loopback(a->host));
		o->listen[i].mode = o->socket_mode;
	}
	/* A token file named without a state directory: its directory is the
	 * state directory (the agents seen, their history, the sessions). */
	if (!o->state_dir[0] && o->tokens_path[0] &&
	    token_path_split(o->tokens_path, o->state_dir, sizeof(o->state_dir), &base) < 0)
		o->state_dir[0] = '\0';
	if (validate_cluster(&o->cluster, err, errlen) < 0 || slack_validate(o, err, errlen) < 0)
		return -1;
	if (!o->state_dir[0])
		token_default_state_dir(o->state_dir, sizeof(o->state_dir));
	if (!o->tokens_path[0])
		fmt_snprintf(o->tokens_path, sizeof(o->tokens_path), "%.4080s/tokens", o->state_dir);
	if (o->cluster.urls[0])
		fmt_snprintf(o->tokens_cache, sizeof(o->tokens_cache), "%.4000s/%s", o->state_dir,
			 CFG_CLUSTER_TOKENS_CACHE);
	return 0;
}
