/* agent.c - `nestd agent`: dials the server, authenticates, and answers
 * commands until told to stop, reconnecting by itself.
 *
 * Reconnection uses exponential backoff with full jitter (a random delay
 * between 0 and min(max, min * 2^attempt)), so a thousand agents that lost
 * the same server do not come back in one burst; the attempt count resets
 * only after a link has stayed up CFG_RECONNECT_STABLE_MS.  A server that
 * refuses us (bad token, version) is retried only after the long delay, and
 * a retry_after in its error is honoured.
 *
 * Replies: a command's reply is sent as soon as it is ready when the command
 * carried an "id"; a reply without one waits until every earlier command is
 * answered, because the server matches id-less replies to its oldest
 * unanswered command (PRODUCT.md). */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "cfg.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "proto.h"
#include "rnd.h"
#include "tls.h"
#include "token.h"

enum {
	O_SERVER = 1, O_TOKEN_FILE, O_CONFIG, O_SERVICES, O_ALLOW, O_DENY, O_EXEC_TIMEOUT,
	O_MAX_OUTPUT, O_MAX_EXEC, O_CA_FILE, O_PIN, O_INSECURE, O_RECONNECT_MIN,
	O_RECONNECT_MAX, O_ONCE, O_SYSTEMCTL, O_RC_SERVICE, O_RC_STATUS, O_LOG_LEVEL,
	O_PING_INTERVAL, O_NAME_HOST,
};

static const struct cfg_opt agent_opts[] = {
	{ "server", 1, O_SERVER, 1 },
	{ "token-file", 1, O_TOKEN_FILE, 1 },
	{ "config", 1, O_CONFIG, 0 },
	{ "services", 1, O_SERVICES, 1 },
	{ "allow", 1, O_ALLOW, 1 },
	{ "deny", 1, O_DENY, 1 },
	{ "exec-timeout", 1, O_EXEC_TIMEOUT, 1 },
	{ "max-output", 1, O_MAX_OUTPUT, 1 },
	{ "max-exec", 1, O_MAX_EXEC, 1 },
	{ "ca-file", 1, O_CA_FILE, 1 },
	{ "pin", 1, O_PIN, 1 },
	{ "insecure", 0, O_INSECURE, 1 },
	{ "reconnect-min", 1, O_RECONNECT_MIN, 1 },
	{ "reconnect-max", 1, O_RECONNECT_MAX, 1 },
	{ "once", 0, O_ONCE, 1 },
	{ "systemctl", 1, O_SYSTEMCTL, 1 },
	{ "rc-service", 1, O_RC_SERVICE, 1 },
	{ "rc-status", 1, O_RC_STATUS, 1 },
	{ "log-level", 1, O_LOG_LEVEL, 1 },
	{ "ping-interval", 1, O_PING_INTERVAL, 1 },
	{ "hostname", 1, O_NAME_HOST, 1 },
	{ NULL, 0, 0, 0 },
};

static const char agent_usage[] =
	"usage: nestd agent --server URL [--token-file FILE] [--config FILE]\n"
	"                   [--services auto|systemd|systemd-user|openrc|none]\n"
	"                   [--allow LIST] [--deny LIST] [--exec-timeout SECONDS]\n"
	"                   [--max-output BYTES] [--max-exec N] [--reconnect-min SECONDS]\n"
	"                   [--reconnect-max SECONDS] [--once] [--systemctl PATH]\n"
	"                   [--ping-interval SECONDS] [--log-level debug|info|warn|error]\n"
	"                   [--ca-file FILE] [--pin sha256//BASE64] [--insecure]\n"
	"\n"
	"Dials the server, authenticates with a token and answers its commands.\n"
	"  --server URL        ws://HOST[:PORT]/PATH, wss://... or unix:PATH\n"
	"                      (or $NESTD_SERVER)\n"
	"  --token-file FILE   file holding the token (or $NESTD_TOKEN_FILE); the\n"
	"                      token may also come from $NESTD_TOKEN or $CLIENT_TOKEN,\n"
	"                      never from the command line\n"
	"  --allow/--deny L    commands or groups (read, process, service, exec, all)\n"
	"  --once              exit when the first connection ends\n"
	"SIGTERM closes the connection (1001) and exits 0.\n";

struct job {
	struct agent *a;
	struct job *next;
	char *id;                /* raw JSON string content, or NULL */
	size_t idlen;
	char name[64];
	int done, sent;
	struct buf reply;
};

struct agent {
	struct loop *loop;
	struct agent_cfg cmdcfg;
	struct agent_cmds *cmds;
	char server_str[1100];
	struct net_url url;
	char token[TOKEN_LEN + 8];
	char hostname[65];
	long long rmin_ms, rmax_ms;
	int once, insecure, ping_ms;
	char ca_file[1024], pin[CFG_TLS_MAX_PINS * 60];
	struct tls_ctx *tls;           /* wss://: the verification policy */
	char allow[1024], deny[1024], systemctl[1024], rc_service[1024], rc_status[1024];

	struct conn *c;
	struct loop_src timer;   /* reconnect backoff */
	int attempt;
	int64_t up_since;        /* authenticated at */
	int rejected;            /* the server refused us: long backoff */
	long long retry_after_ms;
	int authenticated_once;
	int stopping;
	int exit_code;
	struct job *jobs, *jobs_tail;
};

static int keep(char *dst, size_t cap, const char *v, const char **slot, char *err, size_t errlen)
{
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "value too long: %.40s...", v);
		return -1;
	}
	strcpy(dst, v);
	*slot = dst;
	return 0;
}

static int agent_set(void *ctx, int id, const char *v, int from_file, char *err, size_t errlen)
{
	struct agent *a = ctx;
	long long ms;
	unsigned long long b;

	switch (id) {
	case O_SERVER:
		snprintf(a->server_str, sizeof(a->server_str), "%s", v);
		return 0;
	case O_TOKEN_FILE:
		if (token_read_file(v, a->token, sizeof(a->token), err, errlen) < 0)
			return -1;
		return 0;
	case O_CONFIG:
		return 0;
	case O_SERVICES:
		if (!strcmp(v, "auto")) a->cmdcfg.services = SVC_AUTO;
		else if (!strcmp(v, "systemd")) a->cmdcfg.services = SVC_SYSTEMD;
		else if (!strcmp(v, "systemd-user")) a->cmdcfg.services = SVC_SYSTEMD_USER;
		else if (!strcmp(v, "openrc")) a->cmdcfg.services = SVC_OPENRC;
		else if (!strcmp(v, "none")) a->cmdcfg.services = SVC_NONE;
		else {
			snprintf(err, errlen, "--services takes auto, systemd, systemd-user, openrc or none");
			return -1;
		}
		return 0;
	/* The file's values live in a line buffer: keep copies. */
	case O_ALLOW: return keep(a->allow, sizeof(a->allow), v, &a->cmdcfg.allow, err, errlen);
	case O_DENY: return keep(a->deny, sizeof(a->deny), v, &a->cmdcfg.deny, err, errlen);
	case O_SYSTEMCTL:
		return keep(a->systemctl, sizeof(a->systemctl), v, &a->cmdcfg.systemctl, err, errlen);
	case O_RC_SERVICE:
		return keep(a->rc_service, sizeof(a->rc_service), v, &a->cmdcfg.rc_service, err, errlen);
	case O_RC_STATUS:
		return keep(a->rc_status, sizeof(a->rc_status), v, &a->cmdcfg.rc_status, err, errlen);
	case O_EXEC_TIMEOUT:
		if (cfg_parse_seconds(v, &ms) < 0 || ms < 1000 || ms > 86400000) {
			snprintf(err, errlen, "--exec-timeout wants 1..86400 seconds");
			return -1;
		}
		a->cmdcfg.exec_timeout_s = (unsigned)(ms / 1000);
		return 0;
	case O_MAX_OUTPUT:
		if (cfg_parse_bytes(v, &b) < 0 || b < 1024 || b > (256ull << 20)) {
			snprintf(err, errlen, "--max-output wants 1K..256M bytes");
			return -1;
		}
		a->cmdcfg.max_output = (size_t)b;
		return 0;
	case O_MAX_EXEC:
		if (atoi(v) < 1 || atoi(v) > 256 || strspn(v, "0123456789") != strlen(v)) {
			snprintf(err, errlen, "--max-exec wants 1..256");
			return -1;
		}
		a->cmdcfg.max_exec = atoi(v);
		return 0;
	case O_CA_FILE: snprintf(a->ca_file, sizeof(a->ca_file), "%s", v); return 0;
	case O_PIN: snprintf(a->pin, sizeof(a->pin), "%s", v); return 0;
	case O_INSECURE: a->insecure = 1; return 0;
	case O_ONCE: a->once = 1; return 0;
	case O_RECONNECT_MIN:
	case O_RECONNECT_MAX:
		if (cfg_parse_seconds(v, &ms) < 0 || ms < 10) {
			snprintf(err, errlen, "bad number of seconds '%s' (at least 0.01)", v);
			return -1;
		}
		if (id == O_RECONNECT_MIN)
			a->rmin_ms = ms;
		else
			a->rmax_ms = ms;
		return 0;
	case O_PING_INTERVAL:
		if (cfg_parse_seconds(v, &ms) < 0 || ms > 86400000) {
			snprintf(err, errlen, "bad --ping-interval '%s'", v);
			return -1;
		}
		a->ping_ms = (int)ms;
		return 0;
	case O_NAME_HOST:
		snprintf(a->hostname, sizeof(a->hostname), "%s", v);
		return 0;
	case O_LOG_LEVEL:
		if (log_set_level(v) < 0) {
			snprintf(err, errlen, "bad --log-level '%s' (debug, info, warn, error)", v);
			return -1;
		}
		return 0;
	}
	return -1;
}

static void schedule_reconnect(struct agent *a);

/* ---- replies ---- */

static void job_free(struct job *j)
{
	free(j->id);
	buf_free(&j->reply);
	free(j);
}

/* Sends what may go now: replies with an id at once, id-less replies once
 * everything before them is answered. */
static void flush_replies(struct agent *a)
{
	struct job *j;

	for (j = a->jobs; j; j = j->next) {
		if (j->done && !j->sent && j->id) {
			if (a->c)
				conn_send_text(a->c, j->reply.p, j->reply.len);
			j->sent = 1;
		}
	}
	while ((j = a->jobs) && j->done) {
		if (!j->sent && a->c)
			conn_send_text(a->c, j->reply.p, j->reply.len);
		a->jobs = j->next;
		if (!a->jobs)
			a->jobs_tail = NULL;
		job_free(j);
	}
}

static void job_done(void *arg, int ok, const char *payload, size_t n, const char *error)
{
	struct job *j = arg;
	struct jw w;

	buf_init(&j->reply, 0);
	if (ok) {
		char msg[80];

		snprintf(msg, sizeof(msg), "response_%s", j->name);
		proto_begin(&w, &j->reply, "command_response", msg, j->id, j->idlen);
		jw_key(&w, "payload");
		jw_raw(&w, payload, n);
		proto_end(&w);
		if (jw_error(&w)) {
			buf_reset(&j->reply);
			proto_reply_error(&j->reply, j->name, j->id, j->idlen, "reply too large");
		}
	} else {
		proto_reply_error(&j->reply, j->name, j->id, j->idlen, error ? error : "failed");
	}
	j->done = 1;
	flush_replies(j->a);
}

static void forget_jobs(struct agent *a)
{
	struct job *j, *next;

	for (j = a->jobs; j; j = next) {
		next = j->next;
		if (!j->done && a->cmds)
			agent_cmd_forget(a->cmds, j);
		job_free(j);
	}
	a->jobs = a->jobs_tail = NULL;
}

static void send_warning(struct agent *a, const char *msg)
{
	struct buf b;

	buf_init(&b, 0);
	if (proto_simple(&b, "warning", msg) == 0)
		conn_send_text(a->c, b.p, b.len);
	buf_free(&b);
}

static void run_command(struct agent *a, struct nest_msg *m)
{
	struct job *j = calloc(1, sizeof(*j));
	size_t idlen = 0;
	const char *id = NULL;

	if (!j) {
		log_error("out of memory: command dropped");
		return;
	}
	j->a = a;
	if (m->t_message < 0 || json_strcpy(&m->j, m->t_message, j->name, sizeof(j->name)) < 0 ||
	    !j->name[0]) {
		/* Still answered, in order, so the server's queue stays right. */
		snprintf(j->name, sizeof(j->name), "unknown");
	}
	if (m->t_id >= 0) {
		id = json_raw(&m->j, m->t_id, &idlen);
		j->id = malloc(idlen + 1);
		if (!j->id) {
			free(j);
			return;
		}
		memcpy(j->id, id, idlen);
		j->id[idlen] = '\0';
		j->idlen = idlen;
	}
	if (a->jobs_tail)
		a->jobs_tail->next = j;
	else
		a->jobs = j;
	a->jobs_tail = j;
	if (!strcmp(j->name, "unknown") && m->t_message < 0)
		job_done(j, 0, NULL, 0, "command without a message");
	else
		agent_cmd_run(a->cmds, m, j, job_done);
}

/* ---- connection ---- */

static void hello(struct agent *a)
{
	struct buf b, cmds;
	struct jw w;
	const char *backend = "none";

	buf_init(&b, 0);
	buf_init(&cmds, 0);
	agent_cmd_describe(a->cmds, &cmds, &backend);
	proto_begin(&w, &b, "let_me_in_pls", "let me in! :D", NULL, 0);
	jw_key(&w, "payload");
	jw_obj(&w);
	jw_kstr(&w, "version", NESTD_VERSION);
	jw_kstr(&w, "client_token", a->token);
	jw_kstr(&w, "hostname", a->hostname);
	jw_kstr(&w, "services", backend);
	if (cmds.len) {
		jw_key(&w, "commands");
		jw_raw(&w, cmds.p, cmds.len);
	}
	jw_obj_end(&w);
	proto_end(&w);
	conn_send_text(a->c, b.p, b.len);
	memset(b.p, 0, b.len);
	buf_free(&b);
	buf_free(&cmds);
}

static void on_open(struct conn *c)
{
	struct agent *a = c->owner;

	log_debug("WebSocket open to %s, authenticating", a->server_str);
	conn_set_max_message(c, CFG_MAX_SERVER_MESSAGE);
	conn_set_timer(c, loop_now() + CFG_AUTH_TIMEOUT_MS + 5000);
	hello(a);
}

static void server_error(struct agent *a, struct nest_msg *m, const char *what)
{
	int t = proto_payload_get(m, "retry_after");
	double ra;

	log_error("server refused us: %s", what);
	if (t >= 0 && json_num(&m->j, t, &ra) == 0 && ra > 0 && ra < 86400)
		a->retry_after_ms = (long long)(ra * 1000);
	if (a->c->state == CONN_AUTH || strstr(what, "replaced") || strstr(what, "revoked"))
		a->rejected = 1;
}

static void on_text(struct conn *c, char *p, size_t n)
{
	struct agent *a = c->owner;
	struct nest_msg m;
	char err[128], what[256];

	if (proto_parse(&m, p, n, err, sizeof(err)) < 0) {
		log_warn("malformed message from server: %s", err);
		snprintf(what, sizeof(what), "malformed message: %s", err);
		if (c->state == CONN_OPEN)
			send_warning(a, what);
		return;
	}
	what[0] = '\0';
	if (m.t_message >= 0)
		json_strcpy(&m.j, m.t_message, what, sizeof(what));
	if (c->state == CONN_AUTH) {
		if (m.status == NS_INFO && strcmp(what, "Authenticated :D") == 0) {
			conn_set_timer(c, 0);
			conn_set_state(c, CONN_OPEN);
			a->up_since = loop_now();
			a->authenticated_once = 1;
			a->rejected = 0;
			log_info("authenticated to %s", a->server_str);
		} else if (m.status == NS_ERROR) {
			server_error(a, &m, what);
		} else {
			log_warn("unexpected %s before authentication: %s",
				 proto_status_name(m.status), what);
		}
		proto_free(&m);
		return;
	}
	switch (m.status) {
	case NS_COMMAND:
		run_command(a, &m);
		break;
	case NS_INFO:
		log_info("server: %s", what);
		break;
	case NS_WARNING:
		log_warn("server warning: %s", what);
		break;
	case NS_ERROR:
		server_error(a, &m, what);
		break;
	case NS_UNKNOWN: {
		char st[64] = "";
		char w[128];

		json_strcpy(&m.j, m.t_status, st, sizeof(st));
		snprintf(w, sizeof(w), "unknown status '%s'", st);
		send_warning(a, w);
		break;
	}
	default:
		snprintf(err, sizeof(err), "unexpected status '%s' from the server",
			 proto_status_name(m.status));
		send_warning(a, err);
		break;
	}
	proto_free(&m);
}

static void on_timer(struct conn *c)
{
	if (c->state == CONN_AUTH)
		conn_close(c, 1008, "no answer to authentication");
}

static void on_close(struct conn *c, const char *why)
{
	struct agent *a = c->owner;

	a->c = NULL;
	forget_jobs(a);
	if (a->up_since) {
		log_info("disconnected from %s: %s", a->server_str, why);
		if (loop_now() - a->up_since >= CFG_RECONNECT_STABLE_MS)
			a->attempt = 0;
	} else if (!a->rejected) {
		log_warn("cannot connect to %s: %s", a->server_str, why);
	}
	a->up_since = 0;
	if (a->stopping) {
		loop_stop(a->loop);
		return;
	}
	if (a->once) {
		a->exit_code = a->authenticated_once && !a->rejected ? 0 : 1;
		loop_stop(a->loop);
		return;
	}
	schedule_reconnect(a);
}

static const struct conn_ops agent_conn_ops = {
	.on_open = on_open,
	.on_text = on_text,
	.on_timer = on_timer,
	.on_close = on_close,
};

static void dial(struct agent *a)
{
	char err[256];
	int fd = net_connect(&a->url, err, sizeof(err));

	if (fd < 0) {
		log_warn("cannot connect to %s: %s", a->server_str, err);
		if (a->once) {
			a->exit_code = 1;
			loop_stop(a->loop);
			return;
		}
		schedule_reconnect(a);
		return;
	}
	a->c = conn_dial(a->loop, fd, &a->url, &agent_conn_ops, a);
	if (!a->c) {
		schedule_reconnect(a);
		return;
	}
	if (a->tls && conn_set_tls(a->c, a->tls, a->url.host) < 0) {
		conn_destroy(a->c, "out of memory");
		return;
	}
	conn_set_ping(a->c, a->ping_ms);
}

static void timer_ready(struct loop_src *s, short revents)
{
	struct agent *a = s->arg;

	if (s->deadline && loop_now() >= s->deadline) {
		s->deadline = 0;
		dial(a);
	}
}

static long long rand_below(long long n)
{
	unsigned long long r = 0;

	if (n <= 0)
		return 0;
	if (rnd_bytes(&r, sizeof(r)) < 0)
		r = (unsigned long long)loop_now() * 2654435761u;
	return (long long)(r % (unsigned long long)n);
}

static void schedule_reconnect(struct agent *a)
{
	long long cap = a->rmin_ms, delay;
	int i;

	for (i = 0; i < a->attempt && cap < a->rmax_ms; i++)
		cap *= 2;
	if (cap > a->rmax_ms)
		cap = a->rmax_ms;
	if (a->attempt < 30)
		a->attempt++;
	if (a->rejected) {
		/* Refused: no point knocking soon.  The long wait (5 minutes by
		 * default, 5 x --reconnect-max when that is shorter), jittered over
		 * its second half so refused agents do not return together. */
		long long base = a->rmax_ms >= CFG_RECONNECT_MAX_MS ?
				 CFG_REJECTED_BACKOFF_MS : a->rmax_ms * 5;

		delay = base / 2 + rand_below(base / 2 + 1);
	} else {
		delay = rand_below(cap + 1);
	}
	if (a->retry_after_ms > delay)
		delay = a->retry_after_ms;
	a->retry_after_ms = 0;
	log_info("reconnecting in %.2f s", (double)delay / 1000.0);
	a->timer.deadline = loop_now() + (delay > 0 ? delay : 1);
}

static void on_signal(int sig, void *arg)
{
	struct agent *a = arg;

	if (a->stopping)
		return;
	a->stopping = 1;
	log_info("%s: closing", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (a->c && (a->c->state == CONN_OPEN || a->c->state == CONN_AUTH))
		conn_close(a->c, 1001, "agent shutting down");
	else if (a->c)
		conn_abort(a->c, "agent shutting down");
	else
		loop_stop(a->loop);
}

int agent_main(int argc, char **argv)
{
	struct agent a;
	char err[512], *pos[1];
	const char *cfgpath, *env;
	int npos, help;
	static const int sigs[] = { SIGTERM, SIGINT };

	memset(&a, 0, sizeof(a));
	a.rmin_ms = CFG_RECONNECT_MIN_MS;
	a.rmax_ms = CFG_RECONNECT_MAX_MS;
	a.ping_ms = CFG_PING_INTERVAL_MS;
	a.cmdcfg.services = SVC_AUTO;
	a.cmdcfg.exec_timeout_s = CFG_EXEC_TIMEOUT_S;
	a.cmdcfg.max_output = CFG_MAX_OUTPUT;
	a.cmdcfg.max_exec = CFG_MAX_EXEC;
	a.timer.fd = -1;
	a.timer.ready = timer_ready;
	a.timer.arg = &a;

	if ((env = getenv("NESTD_SERVER")) && *env)
		snprintf(a.server_str, sizeof(a.server_str), "%s", env);
	cfgpath = cfg_find_config(argc - 1, argv + 1);
	if (cfgpath && cfg_load_file(cfgpath, agent_opts, agent_set, &a, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd agent: %s\n", err);
		return 2;
	}
	if (cfg_parse_args(argc - 1, argv + 1, agent_opts, agent_set, &a, pos, 0, &npos,
			   &help, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd agent: %s\nTry 'nestd agent --help'.\n", err);
		return 2;
	}
	if (help) {
		fputs(agent_usage, stdout);
		return 0;
	}
	if (!a.token[0]) {
		const char *tf = getenv("NESTD_TOKEN_FILE");

		if ((env = getenv("NESTD_TOKEN")) && *env) {
			snprintf(a.token, sizeof(a.token), "%s", env);
		} else if ((env = getenv("CLIENT_TOKEN")) && *env) {
			snprintf(a.token, sizeof(a.token), "%s", env);
		} else if (tf && *tf) {
			if (token_read_file(tf, a.token, sizeof(a.token), err, sizeof(err)) < 0) {
				fprintf(stderr, "nestd agent: %s\n", err);
				return 2;
			}
		}
	}
	if (!a.token[0]) {
		fprintf(stderr, "nestd agent: no token: use --token-file FILE, $NESTD_TOKEN or $CLIENT_TOKEN\n"
			"Try 'nestd agent --help'.\n");
		return 2;
	}
	switch (token_check(a.token, strlen(a.token))) {
	case TOKEN_BAD_FORM:
		fprintf(stderr, "nestd agent: the token is not in the nestd format (64 hex, '.', 8 hex)\n");
		return 2;
	case TOKEN_BAD_SUM:
		fprintf(stderr, "nestd agent: the token's checksum does not match (mistyped?)\n");
		return 2;
	}
	/* Children must not see the token. */
	unsetenv("NESTD_TOKEN");
	unsetenv("CLIENT_TOKEN");
	if (!a.server_str[0]) {
		fprintf(stderr, "nestd agent: --server URL is required (or $NESTD_SERVER)\n"
			"Try 'nestd agent --help'.\n");
		return 2;
	}
	if (net_parse_url(a.server_str, &a.url, err, sizeof(err)) < 0 ||
	    a.url.scheme == URL_HTTP || a.url.scheme == URL_HTTPS) {
		fprintf(stderr, "nestd agent: %s\nTry 'nestd agent --help'.\n",
			a.url.scheme == URL_HTTP || a.url.scheme == URL_HTTPS ?
			"--server wants ws://, wss:// or unix:PATH" : err);
		return 2;
	}
	if (a.url.tls && !tls_available()) {
		fprintf(stderr, "nestd agent: wss:// needs TLS, which this nestd was built without\n");
		return 2;
	}
	if (a.url.tls) {
		struct tls_client_opts o = { a.ca_file[0] ? a.ca_file : NULL,
					     a.pin[0] ? a.pin : NULL, a.insecure };

		a.tls = tls_client_ctx(&o, err, sizeof(err));
		if (!a.tls) {
			fprintf(stderr, "nestd agent: %s\n", err);
			return strncmp(err, "bad --pin", 9) == 0 ? 2 : 1;
		}
	}
	if (a.rmin_ms > a.rmax_ms) {
		fprintf(stderr, "nestd agent: --reconnect-min is larger than --reconnect-max\n");
		return 2;
	}
	if (!a.hostname[0] && gethostname(a.hostname, sizeof(a.hostname) - 1) < 0)
		snprintf(a.hostname, sizeof(a.hostname), "unknown");

	signal(SIGPIPE, SIG_IGN);
	a.loop = loop_new();
	if (!a.loop || loop_signals(a.loop, sigs, 2, on_signal, &a) < 0) {
		fprintf(stderr, "nestd agent: cannot set up the event loop\n");
		return 1;
	}
	a.cmds = agent_cmd_init(a.loop, &a.cmdcfg, err, sizeof(err));
	if (!a.cmds) {
		fprintf(stderr, "nestd agent: %s\n", err);
		loop_free(a.loop);
		return 2;
	}
	loop_add(a.loop, &a.timer);
	log_info("nestd %s agent starting: server %s, host %s", NESTD_VERSION, a.server_str,
		 a.hostname);
	dial(&a);
	loop_run(a.loop);
	if (a.c)
		conn_destroy(a.c, "agent shutting down");
	forget_jobs(&a);
	agent_cmd_free(a.cmds);
	tls_ctx_free(a.tls);
	memset(a.token, 0, sizeof(a.token));
	loop_free(a.loop);
	log_info("agent stopped");
	return a.stopping ? 0 : a.exit_code;
}
