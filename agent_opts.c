/* agent_opts.c - `nestd agent`'s options (see agent_opts.h).
 *
 * One table carries every option: its name (the flag, and the config
 * file's key), whether it takes a value, whether the file may set it, and
 * the setter that checks the value and stores it.  cfg.c reads the file
 * and the command line against it; the checks that need the whole record
 * (a token from somewhere, a server, min <= max) come after. */
#include "agent_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_exec.h"
#include "cfg.h"
#include "dotenv.h"
#include "fmt.h"
#include "log.h"
#include "tls.h"
#include "token.h"
#include "num.h"

struct opt;
typedef int (*opt_set_fn)(struct agent_opts *o, const struct opt *d, const char *v,
			  char *err, size_t errlen);

struct opt {
	const char *name;            /* --NAME, and the config file's key */
	int has_arg;                 /* 0: a flag */
	int file_ok;                 /* may stand in the config file */
	opt_set_fn set;
	size_t off;                  /* the field, for the setters shared by several */
};

static int set_string(struct agent_opts *o, const struct opt *d, const char *v,
		      char *err, size_t errlen);
static int set_flag(struct agent_opts *o, const struct opt *d, const char *v,
		    char *err, size_t errlen);
static int set_reconnect(struct agent_opts *o, const struct opt *d, const char *v,
			 char *err, size_t errlen);
static int set_token_file(struct agent_opts *o, const struct opt *d, const char *v,
			  char *err, size_t errlen);
static int set_none(struct agent_opts *o, const struct opt *d, const char *v,
		    char *err, size_t errlen);
static int set_services(struct agent_opts *o, const struct opt *d, const char *v,
			char *err, size_t errlen);
static int set_exec_timeout(struct agent_opts *o, const struct opt *d, const char *v,
			    char *err, size_t errlen);
static int set_max_output(struct agent_opts *o, const struct opt *d, const char *v,
			  char *err, size_t errlen);
static int set_max_exec(struct agent_opts *o, const struct opt *d, const char *v,
			char *err, size_t errlen);
static int set_log_level(struct agent_opts *o, const struct opt *d, const char *v,
			 char *err, size_t errlen);
static int set_ping(struct agent_opts *o, const struct opt *d, const char *v,
		    char *err, size_t errlen);
static int set_hostname(struct agent_opts *o, const struct opt *d, const char *v,
			char *err, size_t errlen);
static int set_compat(struct agent_opts *o, const struct opt *d, const char *v,
		      char *err, size_t errlen);
static int set_version(struct agent_opts *o, const struct opt *d, const char *v,
		       char *err, size_t errlen);

#define AT(field) offsetof(struct agent_opts, field)

static const struct opt opt_tab[] = {
	{ "server", 1, 1, set_string, AT(server) },       /* first: $NESTD_SERVER */
	{ "token-file", 1, 1, set_token_file, 0 },
	{ "config", 1, 0, set_none, 0 },
	{ "services", 1, 1, set_services, 0 },
	{ "allow", 1, 1, set_string, AT(cmd.allow) },
	{ "deny", 1, 1, set_string, AT(cmd.deny) },
	{ "exec-timeout", 1, 1, set_exec_timeout, 0 },
	{ "max-output", 1, 1, set_max_output, 0 },
	{ "max-exec", 1, 1, set_max_exec, 0 },
	{ "ca-file", 1, 1, set_string, AT(ca_file) },
	{ "pin", 1, 1, set_string, AT(pin) },
	{ "insecure", 0, 1, set_flag, AT(insecure) },
	{ "reconnect-min", 1, 1, set_reconnect, AT(reconnect_min_ms) },
	{ "reconnect-max", 1, 1, set_reconnect, AT(reconnect_max_ms) },
	{ "once", 0, 1, set_flag, AT(once) },
	{ "systemctl", 1, 1, set_string, AT(cmd.systemctl) },
	{ "rc-service", 1, 1, set_string, AT(cmd.rc_service) },
	{ "rc-status", 1, 1, set_string, AT(cmd.rc_status) },
	{ "log-level", 1, 1, set_log_level, 0 },
	{ "ping-interval", 1, 1, set_ping, 0 },
	{ "hostname", 1, 1, set_hostname, 0 },
	{ "compat", 1, 1, set_compat, 0 },
	{ "protocol-version", 1, 1, set_version, 0 },
	{ "proc-root", 1, 1, set_string, AT(cmd.proc_root) },
	{ "cgroup", 1, 1, set_string, AT(cmd.cgroup) },
};

#define NOPTS (sizeof(opt_tab) / sizeof(opt_tab[0]))

/* The --help text is HELP_TEXT(agent) in help_text.h (help.c prints it). */

/* ---- setters ---- */

static void *field(struct agent_opts *o, const struct opt *d)
{
	return (char *)o + d->off;
}

/* The file's values live in cfg.c's line buffer: o keeps its own copy. */
static int set_string(struct agent_opts *o, const struct opt *d, const char *v,
		      char *err, size_t errlen)
{
	const char **slot = field(o, d);
	char *copy = strdup(v);

	if (!copy) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	free((void *)*slot);
	*slot = copy;
	return 0;
}

static int set_flag(struct agent_opts *o, const struct opt *d, const char *v,
		    char *err, size_t errlen)
{
	*(int *)field(o, d) = 1;
	return 0;
}

static int set_reconnect(struct agent_opts *o, const struct opt *d, const char *v,
			 char *err, size_t errlen)
{
	long long ms;

	if (cfg_parse_seconds(v, &ms) < 0 || ms < CFG_RECONNECT_FLOOR_MS) {
		fmt_snprintf(err, errlen, "bad number of seconds '%s' (at least 0.01)", v);
		return -1;
	}
	*(long long *)field(o, d) = ms;
	return 0;
}

static int set_token_file(struct agent_opts *o, const struct opt *d, const char *v,
			  char *err, size_t errlen)
{
	return token_read_file(v, o->token, sizeof(o->token), err, errlen) < 0 ? -1 : 0;
}

/* --config: read before everything else, by cfg_find_config. */
static int set_none(struct agent_opts *o, const struct opt *d, const char *v,
		    char *err, size_t errlen)
{
	return 0;
}

static int set_services(struct agent_opts *o, const struct opt *d, const char *v,
			char *err, size_t errlen)
{
	static const struct { const char *name; enum svc_backend b; } tab[] = {
		{ "auto", SVC_AUTO }, { "systemd", SVC_SYSTEMD },
		{ "systemd-user", SVC_SYSTEMD_USER }, { "openrc", SVC_OPENRC },
		{ "none", SVC_NONE },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (!strcmp(v, tab[i].name)) {
			o->cmd.services = tab[i].b;
			return 0;
		}
	}
	fmt_snprintf(err, errlen, "--services takes auto, systemd, systemd-user, openrc or none");
	return -1;
}

static int set_exec_timeout(struct agent_opts *o, const struct opt *d, const char *v,
			    char *err, size_t errlen)
{
	long long ms;

	if (cfg_parse_seconds(v, &ms) < 0 || ms < 1000 || ms > CFG_EXEC_TIMEOUT_MAX_S * 1000LL) {
		fmt_snprintf(err, errlen, "--exec-timeout wants 1..%d seconds", CFG_EXEC_TIMEOUT_MAX_S);
		return -1;
	}
	o->cmd.exec_timeout_s = (unsigned)(ms / 1000);
	return 0;
}

static int set_max_output(struct agent_opts *o, const struct opt *d, const char *v,
			  char *err, size_t errlen)
{
	unsigned long long b;

	if (cfg_parse_bytes(v, &b) < 0 || b < CFG_MAX_OUTPUT_MIN || b > CFG_MAX_OUTPUT_MAX) {
		fmt_snprintf(err, errlen, "--max-output wants 1K..256M bytes");
		return -1;
	}
	o->cmd.max_output = (size_t)b;
	return 0;
}

static int set_max_exec(struct agent_opts *o, const struct opt *d, const char *v,
			char *err, size_t errlen)
{
	if (num_atoi(v) < 1 || num_atoi(v) > CFG_MAX_EXEC_MAX || strspn(v, "0123456789") != strlen(v)) {
		fmt_snprintf(err, errlen, "--max-exec wants 1..%d", CFG_MAX_EXEC_MAX);
		return -1;
	}
	o->cmd.max_exec = num_atoi(v);
	return 0;
}

static int set_log_level(struct agent_opts *o, const struct opt *d, const char *v,
			 char *err, size_t errlen)
{
	if (log_set_level(v) < 0) {
		fmt_snprintf(err, errlen, "bad --log-level '%s' (debug, info, warn, error)", v);
		return -1;
	}
	return 0;
}

static int set_ping(struct agent_opts *o, const struct opt *d, const char *v,
		    char *err, size_t errlen)
{
	long long ms;

	if (cfg_parse_seconds(v, &ms) < 0 || ms > CFG_PING_INTERVAL_MAX_MS) {
		fmt_snprintf(err, errlen, "bad --ping-interval '%s'", v);
		return -1;
	}
	o->ping_ms = (int)ms;
	return 0;
}

static int set_hostname(struct agent_opts *o, const struct opt *d, const char *v,
			char *err, size_t errlen)
{
	fmt_snprintf(o->hostname, sizeof(o->hostname), "%s", v);
	return 0;
}

static int set_compat(struct agent_opts *o, const struct opt *d, const char *v,
		      char *err, size_t errlen)
{
	if (!strcmp(v, "auto"))
		o->compat = COMPAT_AUTO;
	else if (!strcmp(v, "original"))
		o->compat = COMPAT_ORIGINAL;
	else if (!strcmp(v, "nestd"))
		o->compat = COMPAT_NESTD;
	else {
		fmt_snprintf(err, errlen, "--compat takes auto, original or nestd");
		return -1;
	}
	return 0;
}

/* What a server keeps of a version (CFG_VERSION_MAX) and can show: no
 * blanks, no control characters. */
static int set_version(struct agent_opts *o, const struct opt *d, const char *v,
		       char *err, size_t errlen)
{
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
			break;
	if (!n || n > CFG_VERSION_MAX || i < n) {
		fmt_snprintf(err, errlen, "--protocol-version wants 1 to %d printable characters, "
			 "no blanks (e.g. 1.0.0)", CFG_VERSION_MAX);
		return -1;
	}
	memcpy(o->version, v, n + 1);
	return 0;
}

/* cfg.c's callback: the id is the option's row in opt_tab. */
/* --server: each source (the environment, then the file, then the flags)
 * replaces the list of the one before; within one, URLs add up. */
static int set_server(struct agent_opts *o, int src, const char *v, char *err, size_t errlen)
{
	size_t have = o->server && o->server_src == src ? strlen(o->server) : 0;
	char *list = malloc(have + strlen(v) + 2);

	if (!list) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (have)
		fmt_snprintf(list, have + strlen(v) + 2, "%s,%s", o->server, v);
	else
		fmt_snprintf(list, strlen(v) + 1, "%s", v);
	free((void *)o->server);
	o->server = list;
	o->server_src = src;
	return 0;
}

static int opts_set(void *ctx, int id, const char *v, int from_file, char *err, size_t errlen)
{
	if (opt_tab[id].off == AT(server) && opt_tab[id].set == set_string)
		return set_server(ctx, from_file ? 2 : 3, v, err, errlen);
	return opt_tab[id].set(ctx, &opt_tab[id], v, err, errlen);
}

/* ---- the whole record ---- */

/* The original client's file, $HOME/.env.nest-management-bot, as read
 * once for what neither the options nor the environment gave. */
struct orig_env {
	char path[4096];
	char text[CFG_TOKEN_READ_MAX];
	size_t n;
	int found;
};

static void orig_env_read(struct orig_env *e)
{
	const char *home = getenv("HOME");
	struct stat st;
	ssize_t r = 0;
	int fd;

	e->found = 0;
	e->n = 0;
	if (!home || !*home)
		return;
	fmt_snprintf(e->path, sizeof(e->path), "%s/%s", home, CFG_ORIG_ENV_FILE);
	fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		e->found = 1;
		/* The original's setup left it as the umask made it: refusing it
		 * would break the drop-in, so it is only pointed out. */
		if (st.st_mode & 0077)
			log_warn("%s is readable by others (mode %03o): chmod 600 it", e->path,
				 (unsigned)(st.st_mode & 0777));
		while (e->n < sizeof(e->text) &&
		       ((r = read(fd, e->text + e->n, sizeof(e->text) - e->n)) > 0 ||
			(r < 0 && errno == EINTR)))
			e->n += r > 0 ? (size_t)r : 0;
	}
	close(fd);
}

/* KEY from the environment, else from the original's file (python-dotenv
 * never overrides the environment); "" when neither has it. */
static void orig_env_get(const struct orig_env *e, const char *key, char *out, size_t cap)
{
	const char *v = getenv(key);

	if (v)
		fmt_snprintf(out, cap, "%s", v);
	else if (!e->found || dotenv_get(e->text, e->n, key, out, cap) < 0)
		out[0] = '\0';
}

/* The token from the environment when no --token-file gave one, then from
 * the original's file; then its checks; once it is in o, the variables go. */
static int opts_token(struct agent_opts *o, const struct orig_env *oe, char *err, size_t errlen)
{
	const char *env, *tf = getenv("NESTD_TOKEN_FILE");

	if (!o->token[0]) {
		if ((env = getenv("NESTD_TOKEN")) && *env)
			fmt_snprintf(o->token, sizeof(o->token), "%s", env);
		else if ((env = getenv("CLIENT_TOKEN")) && *env)
			fmt_snprintf(o->token, sizeof(o->token), "%s", env);
		else if (tf && *tf && token_read_file(tf, o->token, sizeof(o->token), err, errlen) < 0)
			return AGENT_OPTS_BAD;
		else if (oe->found && !o->token[0] &&
			 dotenv_get(oe->text, oe->n, "CLIENT_TOKEN", o->token, sizeof(o->token)) > 0)
			log_info("token from %s (CLIENT_TOKEN)", oe->path);
	}
	if (!o->token[0]) {
		fmt_snprintf(err, errlen, "no token: use --token-file FILE, $NESTD_TOKEN, $CLIENT_TOKEN "
			 "or ~/" CFG_ORIG_ENV_FILE);
		return AGENT_OPTS_USAGE;
	}
	switch (token_check(o->token, strlen(o->token))) {
	case TOKEN_BAD_FORM:
		fmt_snprintf(err, errlen, "the token is not in the nestd format (64 hex, '.', 8 hex)");
		return AGENT_OPTS_BAD;
	case TOKEN_BAD_SUM:
		fmt_snprintf(err, errlen, "the token's checksum does not match (mistyped?)");
		return AGENT_OPTS_BAD;
	}
	/* Children must not see the token, not even in /proc/PPID/environ. */
	exec_env_scrub();
	return AGENT_OPTS_RUN;
}

/* One URL of the list into o->servers/urls[o->nservers]. */
static int opts_one_server(struct agent_opts *o, const char *s, size_t n, char *err,
			   size_t errlen)
{
	struct net_url *u = &o->urls[o->nservers];
	char *text;

	if (o->nservers >= CFG_AGENT_SERVERS_MAX) {
		fmt_snprintf(err, errlen, "too many --server URLs (at most %d)", CFG_AGENT_SERVERS_MAX);
		return AGENT_OPTS_USAGE;
	}
	if (!(text = strndup(s, n))) {
		fmt_snprintf(err, errlen, "out of memory");
		return AGENT_OPTS_BAD;
	}
	o->servers[o->nservers++] = text;
	if (net_parse_url(text, u, err, errlen) < 0)
		return AGENT_OPTS_USAGE;
	if (u->scheme == URL_HTTP || u->scheme == URL_HTTPS) {
		fmt_snprintf(err, errlen, "--server wants ws://, wss:// or unix:PATH");
		return AGENT_OPTS_USAGE;
	}
	if (u->tls && !tls_available()) {
		fmt_snprintf(err, errlen, "wss:// needs TLS, which this nestd was built without");
		return AGENT_OPTS_BAD;
	}
	return AGENT_OPTS_RUN;
}

/* No --server: what the original client would have dialled, its WS_URL
 * when DEV=true, else its server's Unix socket. */
static int opts_orig_server(struct agent_opts *o, const struct orig_env *oe, char *err,
			    size_t errlen)
{
	char dev[16], url[1024];
	const struct opt *d = &opt_tab[0];     /* server */

	orig_env_get(oe, "DEV", dev, sizeof(dev));
	orig_env_get(oe, "WS_URL", url, sizeof(url));
	if (!strcmp(dev, "true") && url[0])
		return set_string(o, d, url, err, errlen);
	if (!strcmp(dev, "true"))
		log_warn("DEV=true but no WS_URL: dialling unix:" CFG_ORIG_SOCKET);
	return set_string(o, d, "unix:" CFG_ORIG_SOCKET, err, errlen);
}

static int opts_server(struct agent_opts *o, const struct orig_env *oe, char *err, size_t errlen)
{
	const char *p;
	int rc;

	if ((!o->server || !o->server[0]) && opts_orig_server(o, oe, err, errlen) < 0)
		return AGENT_OPTS_BAD;
	for (p = o->server; *p; ) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0) {
			fmt_snprintf(err, errlen, "--server: an empty URL in '%s'", o->server);
			return AGENT_OPTS_USAGE;
		}
		if ((rc = opts_one_server(o, p, n, err, errlen)) != AGENT_OPTS_RUN)
			return rc;
		p += n + (end ? 1 : 0);
	}
	o->url = o->urls[0];
	return AGENT_OPTS_RUN;
}

static int opts_check(struct agent_opts *o, char *err, size_t errlen)
{
	struct orig_env *oe = malloc(sizeof(*oe));
	int rc;

	if (!oe) {
		fmt_snprintf(err, errlen, "out of memory");
		return AGENT_OPTS_BAD;
	}
	oe->found = 0;
	if (!o->token[0] || !o->server || !o->server[0])
		orig_env_read(oe);
	rc = opts_token(o, oe, err, errlen);
	if (rc == AGENT_OPTS_RUN)
		rc = opts_server(o, oe, err, errlen);
	memset(oe, 0, sizeof(*oe));
	free(oe);
	if (rc != AGENT_OPTS_RUN)
		return rc;
	if (o->reconnect_min_ms > o->reconnect_max_ms) {
		fmt_snprintf(err, errlen, "--reconnect-min is larger than --reconnect-max");
		return AGENT_OPTS_BAD;
	}
	if (!o->hostname[0] && gethostname(o->hostname, sizeof(o->hostname) - 1) < 0)
		fmt_snprintf(o->hostname, sizeof(o->hostname), "unknown");
	if (!o->version[0])
		fmt_snprintf(o->version, sizeof(o->version), "%s", NESTD_VERSION);
	return AGENT_OPTS_RUN;
}

static const struct agent_opts opts_default = {
	.reconnect_min_ms = CFG_RECONNECT_MIN_MS,
	.reconnect_max_ms = CFG_RECONNECT_MAX_MS,
	.ping_ms = CFG_PING_INTERVAL_MS,
	.cmd = {
		.services = SVC_AUTO,
		.exec_timeout_s = CFG_EXEC_TIMEOUT_S,
		.max_output = CFG_MAX_OUTPUT,
		.max_exec = CFG_MAX_EXEC,
	},
};

int agent_opts_parse(struct agent_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct cfg_opt tab[NOPTS + 1];
	const char *cfgpath, *env;
	char *pos[1];
	int npos, help;
	size_t i;

	*o = opts_default;
	memset(tab, 0, sizeof(tab));
	for (i = 0; i < NOPTS; i++) {
		tab[i].name = opt_tab[i].name;
		tab[i].has_arg = opt_tab[i].has_arg;
		tab[i].id = (int)i;
		tab[i].file_ok = opt_tab[i].file_ok;
	}
	/* $NESTD_SERVER first: the file and the flags override it. */
	if ((env = getenv("NESTD_SERVER")) && *env && set_server(o, 1, env, err, errlen) < 0)
		return AGENT_OPTS_BAD;
	cfgpath = cfg_find_config(argc - 1, argv + 1);
	if (cfgpath && cfg_load_file(cfgpath, tab, opts_set, o, err, errlen) < 0)
		return AGENT_OPTS_BAD;
	if (cfg_parse_args(argc - 1, argv + 1, tab, opts_set, o, pos, 0, &npos, &help,
			   err, errlen) < 0)
		return AGENT_OPTS_USAGE;
	if (help)
		return AGENT_OPTS_HELP;
	return opts_check(o, err, errlen);
}

void agent_opts_free(struct agent_opts *o)
{
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		if (opt_tab[i].set == set_string) {
			const char **slot = field(o, &opt_tab[i]);

			free((void *)*slot);
			*slot = NULL;
		}
	}
	for (i = 0; i < (size_t)o->nservers; i++)
		free(o->servers[i]);
	o->nservers = 0;
	memset(o->token, 0, sizeof(o->token));
}
