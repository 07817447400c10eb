/* server.c - `nestd server`: accepts agents on TCP and Unix listeners,
 * checks their first message the way the reference server did, and keeps
 * the authenticated ones by name.
 *
 * Authentication, in the reference order (PRODUCT.md): a first message in
 * time, JSON, status let_me_in_pls, the token's format and checksum, a known
 * agent token, an accepted version.  Each failure gets its own
 * {"status":"error"} and a close; success gets exactly
 * {"status":"info","message":"Authenticated :D"}.  A second connection with
 * the same token takes over (the MQTT rule): a half-dead old TCP connection
 * must never lock an agent out. */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "proto.h"
#include "server_int.h"
#include "tls.h"
#include "token.h"

enum {
	O_LISTEN = 1, O_STATE_DIR, O_TOKENS, O_CONFIG, O_AUTH_TIMEOUT, O_COMMAND_TIMEOUT,
	O_AUDIT_LOG, O_TLS_CERT, O_TLS_KEY, O_ACCEPT_VERSIONS, O_MAX_MESSAGE, O_DIST_DIR,
	O_LOG_LEVEL, O_PING_INTERVAL, O_UI, O_PUBLIC_URL,
};

static const struct cfg_opt server_opts[] = {
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
	{ NULL, 0, 0, 0 },
};

static const char server_usage[] =
	"usage: nestd server [--listen ADDR]... [--state-dir DIR] [--tokens FILE] [--config FILE]\n"
	"                    [--auth-timeout SECONDS] [--command-timeout SECONDS] [--audit-log FILE]\n"
	"                    [--tls-cert FILE --tls-key FILE] [--accept-versions LIST]\n"
	"                    [--max-message BYTES] [--ping-interval SECONDS]\n"
	"                    [--dist-dir DIR] [--public-url URL]\n"
	"                    [--log-level debug|info|warn|error]\n"
	"\n"
	"Accepts agents over WebSocket and checks their tokens.\n"
	"  --listen ADDR          HOST:PORT, [IPV6]:PORT, tls:HOST:PORT or unix:PATH;\n"
	"                         repeatable (default " CFG_DEFAULT_LISTEN ")\n"
	"  --tls-cert FILE        PEM certificate chain; with --tls-key FILE (RSA or EC),\n"
	"                         every TCP listener not on loopback serves wss:// and\n"
	"                         https://; tls:HOST:PORT forces TLS on any TCP listener\n"
	"  --state-dir DIR        where the token file lives (default /var/lib/nestd for\n"
	"                         root, ~/.local/state/nestd otherwise)\n"
	"  --tokens FILE          the token file (default STATE-DIR/tokens)\n"
	"  --auth-timeout S       first message deadline (default 10)\n"
	"  --accept-versions L    comma-separated version prefixes, or '*' (default: the\n"
	"                         server's own major version; major.minor for 0.x)\n"
	"  --max-message BYTES    largest agent message after authentication (default 16M)\n"
	"  --ping-interval S      ping a silent peer after S seconds (default 20; 0: never)\n"
	"  --dist-dir DIR         binaries served at /dist/ for install.sh (default: this\n"
	"                         server's own binary, for its own architecture)\n"
	"  --public-url URL       how agents reach this server (https://bot.example.org),\n"
	"                         filled into /install.sh (default: the request's Host)\n"
	"Signals: SIGTERM/SIGINT close every connection (1001) and exit 0; SIGHUP\n"
	"re-reads the token file and drops agents whose token was revoked.\n";

static int server_set(void *ctx, int id, const char *v, int from_file, char *err, size_t errlen)
{
	struct server *s = ctx;
	long long ms;
	unsigned long long b;

	switch (id) {
	case O_LISTEN:
		if (!from_file && !s->listen_from_flags) {
			s->nlisten = 0;   /* flags replace the file's list */
			s->listen_from_flags = 1;
		}
		if (s->nlisten >= MAX_LISTENERS) {
			snprintf(err, errlen, "too many --listen addresses (at most %d)", MAX_LISTENERS);
			return -1;
		}
		if (net_parse_addr(v, &s->listen[s->nlisten], err, errlen) < 0)
			return -1;
		s->nlisten++;
		return 0;
	case O_STATE_DIR: snprintf(s->state_dir, sizeof(s->state_dir), "%s", v); return 0;
	case O_TOKENS: snprintf(s->tokens_path, sizeof(s->tokens_path), "%s", v); return 0;
	case O_CONFIG: return 0;
	case O_AUTH_TIMEOUT:
	case O_COMMAND_TIMEOUT:
	case O_PING_INTERVAL:
		if (cfg_parse_seconds(v, &ms) < 0 || (ms == 0 && id != O_PING_INTERVAL)) {
			snprintf(err, errlen, "bad number of seconds '%s'", v);
			return -1;
		}
		if (id == O_AUTH_TIMEOUT)
			s->auth_timeout_ms = ms;
		else if (id == O_COMMAND_TIMEOUT)
			s->command_timeout_ms = ms;
		else
			s->ping_ms = (int)(ms > 86400000 ? 86400000 : ms);
		return 0;
	case O_AUDIT_LOG: snprintf(s->audit_path, sizeof(s->audit_path), "%s", v); return 0;
	case O_TLS_CERT: snprintf(s->tls_cert, sizeof(s->tls_cert), "%s", v); return 0;
	case O_TLS_KEY: snprintf(s->tls_key, sizeof(s->tls_key), "%s", v); return 0;
	case O_DIST_DIR: snprintf(s->dist_dir, sizeof(s->dist_dir), "%s", v); return 0;
	case O_PUBLIC_URL: return server_install_set_public_url(s, v, err, errlen);
	case O_ACCEPT_VERSIONS:
		if (!*v || strlen(v) >= sizeof(s->accept_versions)) {
			snprintf(err, errlen, "bad --accept-versions '%s'", v);
			return -1;
		}
		snprintf(s->accept_versions, sizeof(s->accept_versions), "%s", v);
		return 0;
	case O_MAX_MESSAGE:
		if (cfg_parse_bytes(v, &b) < 0 || b < 1024 || b > (1ull << 30)) {
			snprintf(err, errlen, "bad --max-message '%s' (1K..1G)", v);
			return -1;
		}
		s->max_message = (size_t)b;
		return 0;
	case O_LOG_LEVEL:
		if (log_set_level(v) < 0) {
			snprintf(err, errlen, "bad --log-level '%s' (debug, info, warn, error)", v);
			return -1;
		}
		return 0;
	case O_UI:
		if (strcmp(v, "on") && strcmp(v, "off")) {
			snprintf(err, errlen, "--ui takes on or off");
			return -1;
		}
		s->ui = strcmp(v, "on") == 0;
		return 0;
	}
	return -1;
}

/* "0.1.0a" is accepted by the prefix "0.1": equal, or followed by a
 * character that cannot continue the last number. */
int server_version_ok(const char *accept, const char *version)
{
	const char *p = accept;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		if (n == 1 && *p == '*')
			return 1;
		if (n && strncmp(version, p, n) == 0 &&
		    (version[n] == '\0' || version[n] < '0' || version[n] > '9'))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static void default_versions(char *out, size_t n)
{
	int major = atoi(NESTD_VERSION), minor = 0;
	const char *dot = strchr(NESTD_VERSION, '.');

	if (dot)
		minor = atoi(dot + 1);
	if (major == 0)
		snprintf(out, n, "0.%d", minor);
	else
		snprintf(out, n, "%d", major);
}

/* ---- peers ---- */

static void peer_unlink(struct server *s, struct peer *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		s->peers = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

struct peer *server_find_agent(struct server *s, const char *name)
{
	struct peer *p;

	for (p = s->peers; p; p = p->next)
		if (p->kind == PEER_AGENT && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* {"status":"error","message":M[,"payload":{"retry_after":N}]}, then close. */
void server_reject(struct peer *p, const char *msg, int retry_after, unsigned code)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 4096);
	proto_begin(&w, &b, "error", msg, NULL, 0);
	if (retry_after > 0) {
		jw_key(&w, "payload");
		jw_obj(&w);
		jw_kint(&w, "retry_after", retry_after);
		jw_obj_end(&w);
	}
	proto_end(&w);
	if (!jw_error(&w))
		conn_send_text(p->c, b.p, b.len);
	buf_free(&b);
	conn_close(p->c, code, msg);
}

static void auth_fail(struct peer *p, const char *why, const char *detail)
{
	log_warn("authentication failed from %s: %s%s%s", p->c->peer, why,
		 detail ? ": " : "", detail ? detail : "");
	server_auth_failed(p->srv, p->c->peer);
	server_audit_auth_failure(p->srv, "agent", p->c->peer, why);
	server_reject(p, why, 0, 1008);
}

static void on_auth_timer(struct conn *c)
{
	struct peer *p = c->owner;

	if (c->state == CONN_AUTH)
		auth_fail(p, "authentication timed out: no first message in time", NULL);
}

static void copy_str(const struct json *j, int tok, char *out, size_t cap)
{
	out[0] = '\0';
	if (tok >= 0 && json_strcpy(j, tok, out, cap) < 0)
		out[0] = '\0';
}

/* Value of payload.key, or -1. */
static int pget(const struct json *j, int payload, const char *key)
{
	return payload >= 0 ? json_get(j, payload, key) : -1;
}

static void authenticate(struct peer *p, char *text, size_t n)
{
	struct server *s = p->srv;
	struct json j;
	char err[128], tok[TOKEN_LEN + 2];
	const struct token_entry *e;
	struct peer *old;
	int t, pl;

	conn_set_timer(p->c, 0);
	t = server_auth_blocked(s, p->c->peer);
	if (t) {
		log_warn("authentication from %s refused: too many failures, retry in %d s",
			 p->c->peer, t);
		server_reject(p, "too many failed authentications from this address", t, 1008);
		return;
	}
	/* Only what the reference server looked at decides: a JSON object
	 * whose status is let_me_in_pls, with payload.client_token and
	 * payload.version.  Other members may be anything. */
	if (json_parse(&j, text, n, err, sizeof(err)) < 0) {
		auth_fail(p, "first message is not valid JSON", err);
		return;
	}
	if (json_type(&j, 0) != JSON_OBJECT ||
	    !json_str_eq(&j, json_get(&j, 0, "status"), "let_me_in_pls")) {
		auth_fail(p, "expected status let_me_in_pls", NULL);
		goto out;
	}
	pl = json_get(&j, 0, "payload");
	if (pl >= 0 && json_type(&j, pl) != JSON_OBJECT)
		pl = -1;
	t = pget(&j, pl, "client_token");
	if (t < 0 || json_strcpy(&j, t, tok, sizeof(tok)) < 0) {
		auth_fail(p, "invalid token format", "payload.client_token missing or not a token");
		goto out;
	}
	switch (token_check(tok, strlen(tok))) {
	case TOKEN_BAD_FORM:
		auth_fail(p, "invalid token format", NULL);
		goto out;
	case TOKEN_BAD_SUM:
		auth_fail(p, "invalid token checksum (mistyped token?)", NULL);
		goto out;
	}
	e = token_db_find(&s->db, tok, strlen(tok));
	memset(tok, 0, sizeof(tok));
	if (!e) {
		auth_fail(p, "unknown or revoked token", NULL);
		goto out;
	}
	if (e->role != ROLE_AGENT) {
		auth_fail(p, "operator tokens cannot connect as agents", e->name);
		goto out;
	}
	t = pget(&j, pl, "version");
	copy_str(&j, t, p->version, sizeof(p->version));
	if (!p->version[0] || !server_version_ok(s->accept_versions, p->version)) {
		char why[400];

		snprintf(why, sizeof(why), "version %s not accepted (this server accepts %s)",
			 p->version[0] ? p->version : "(none)", s->accept_versions);
		log_warn("authentication failed from %s: agent '%s': %s", p->c->peer, e->name, why);
		server_auth_failed(s, p->c->peer);
		server_audit_auth_failure(s, "agent", p->c->peer, why);
		server_reject(p, why, 0, 1008);
		goto out;
	}
	snprintf(p->name, sizeof(p->name), "%s", e->name);
	copy_str(&j, pget(&j, pl, "hostname"), p->hostname, sizeof(p->hostname));
	copy_str(&j, pget(&j, pl, "services"), p->backend, sizeof(p->backend));
	t = pget(&j, pl, "commands");
	if (t >= 0 && json_type(&j, t) == JSON_ARRAY) {
		size_t rl;
		const char *raw = json_raw(&j, t, &rl);

		p->commands = malloc(rl + 1);
		if (p->commands) {
			memcpy(p->commands, raw, rl);
			p->commands[rl] = '\0';
		}
	}
	/* Same token, newer connection: the old one goes. */
	old = server_find_agent(s, p->name);
	if (old) {
		log_info("%s: replaced by a newer connection from %s (old one from %s)",
			 p->name, p->c->peer, old->c->peer);
		old->kind = PEER_REPLACED;
		server_agent_gone(old, "replaced by a newer connection");
		server_reject(old, "replaced by a newer connection", 0, 1008);
	}
	p->kind = PEER_AGENT;
	p->since = (long long)time(NULL);
	s->nagents++;
	conn_set_state(p->c, CONN_OPEN);
	conn_set_max_message(p->c, s->max_message);
	proto_simple(&s->scratch, "info", "Authenticated :D");
	conn_send_text(p->c, s->scratch.p, s->scratch.len);
	buf_reset(&s->scratch);
	log_info("%s connected from %s (version %s%s%s)", p->name, p->c->peer, p->version,
		 p->hostname[0] ? ", host " : "", p->hostname);
	server_audit_agent(s, "agent_connected", p, NULL);
out:
	json_free(&j);
}

static void send_warning(struct peer *p, const char *msg)
{
	struct server *s = p->srv;

	buf_reset(&s->scratch);
	if (proto_simple(&s->scratch, "warning", msg) == 0)
		conn_send_text(p->c, s->scratch.p, s->scratch.len);
	buf_reset(&s->scratch);
}

static void agent_message(struct peer *p, char *text, size_t n)
{
	struct nest_msg m;
	char err[128], what[160];

	if (proto_parse(&m, text, n, err, sizeof(err)) < 0) {
		log_warn("%s: malformed message (%s)", p->name, err);
		snprintf(what, sizeof(what), "malformed message: %s", err);
		send_warning(p, what);
		return;
	}
	copy_str(&m.j, m.t_message, what, sizeof(what));
	switch (m.status) {
	case NS_COMMAND_RESPONSE:
	case NS_COMMAND_RESPONSE_ERROR:
		server_agent_reply(p, &m, text, n);
		break;
	case NS_INFO:
		log_info("%s: info: %s", p->name, what);
		break;
	case NS_WARNING:
		log_warn("%s: warning: %s", p->name, what);
		break;
	case NS_ERROR:
		log_warn("%s: error: %s", p->name, what);
		break;
	case NS_COMMAND:
	case NS_LET_ME_IN:
		send_warning(p, m.status == NS_COMMAND ? "agents do not send commands"
			     : "already authenticated");
		break;
	case NS_UNKNOWN:
		copy_str(&m.j, m.t_status, what, 64);
		log_warn("%s: unknown status '%s'", p->name, what);
		{
			char w[128];

			snprintf(w, sizeof(w), "unknown status '%s'", what);
			send_warning(p, w);
		}
		break;
	}
	proto_free(&m);
}

static void on_open(struct conn *c)
{
	struct peer *p = c->owner;

	conn_set_max_message(c, CFG_MAX_FIRST_MESSAGE);
	conn_set_timer(c, loop_now() + p->srv->auth_timeout_ms);
}

static void on_text(struct conn *c, char *p_, size_t n)
{
	struct peer *p = c->owner;

	if (c->state == CONN_AUTH)
		authenticate(p, p_, n);
	else if (p->kind == PEER_AGENT)
		agent_message(p, p_, n);
}

static void on_close(struct conn *c, const char *why)
{
	struct peer *p = c->owner;
	struct server *s = p->srv;

	if (p->kind == PEER_AGENT) {
		log_info("%s disconnected (%s)", p->name, why);
		server_agent_gone(p, why);
	} else if (p->kind == PEER_NEW && c->ws_up) {
		log_info("connection from %s closed before authentication (%s)", c->peer, why);
	} else if (p->kind == PEER_NEW) {
		log_debug("connection from %s closed (%s)", c->peer, why);
	}
	if (p->kind == PEER_HTTP)
		server_api_gone(p);
	peer_unlink(s, p);
	s->nconn--;
	free(p->commands);
	free(p);
}

static void on_timer(struct conn *c)
{
	struct peer *p = c->owner;

	if (c->state == CONN_AUTH)
		on_auth_timer(c);
	else
		server_peer_timer(p);
}

static const struct conn_ops server_conn_ops = {
	.on_open = on_open,
	.on_text = on_text,
	.on_http = server_api_request,
	.on_timer = on_timer,
	.on_close = on_close,
};

/* A conn dropped before it became a peer. */
static const struct conn_ops dropped_ops = { .on_close = NULL };

static void listener_ready(struct loop_src *src, short revents)
{
	struct server *s = src->arg;
	int i;

	if (!revents)
		return;
	for (i = 0; i < 64; i++) {
		char peer[64];
		int fd = net_accept(src->fd, peer, sizeof(peer));
		struct peer *p;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (s->stopping || s->nconn >= CFG_MAX_CONNECTIONS) {
			close(fd);
			continue;
		}
		p = calloc(1, sizeof(*p));
		if (!p) {
			close(fd);
			continue;
		}
		p->srv = s;
		p->c = conn_accept(s->loop, fd, peer, &server_conn_ops, p);
		if (!p->c) {
			free(p);
			continue;
		}
		if (s->ls_tls[src - s->ls] && conn_set_tls(p->c, s->tls, NULL) < 0) {
			p->c->owner = NULL;
			p->c->ops = &dropped_ops;
			conn_destroy(p->c, "out of memory");
			free(p);
			continue;
		}
		conn_set_ping(p->c, s->ping_ms);
		p->c->http_body_max = CFG_HTTP_MAX_BODY;
		p->next = s->peers;
		if (s->peers)
			s->peers->prev = p;
		s->peers = p;
		s->nconn++;
	}
}

static void reload_tokens(struct server *s)
{
	struct token_db db;
	char err[256];
	struct peer *p;

	if (token_db_load(s->tokens_path, &db, err, sizeof(err)) < 0) {
		log_error("SIGHUP: keeping the old tokens: %s", err);
		return;
	}
	token_db_free(&s->db);
	s->db = db;
	log_info("SIGHUP: %d tokens loaded from %s", db.n, s->tokens_path);
	for (p = s->peers; p; p = p->next) {
		const struct token_entry *e;

		if (p->kind != PEER_AGENT)
			continue;
		e = token_db_by_name(&s->db, p->name);
		if (!e || e->role != ROLE_AGENT) {
			log_info("%s: token revoked, disconnecting", p->name);
			p->kind = PEER_REPLACED;
			server_agent_gone(p, "token revoked");
			server_reject(p, "token revoked", 0, 1008);
		}
	}
}

static void on_signal(int sig, void *arg)
{
	struct server *s = arg;
	struct peer *p;
	int i;

	if (sig == SIGHUP) {
		reload_tokens(s);
		return;
	}
	if (s->stopping)
		return;
	log_info("%s: closing %d connections", sig == SIGTERM ? "SIGTERM" : "SIGINT", s->nconn);
	s->stopping = 1;
	s->stop_at = loop_now() + CFG_CLOSE_TIMEOUT_MS + 500;
	for (i = 0; i < s->nls; i++) {
		loop_del(s->loop, &s->ls[i]);
		close(s->ls[i].fd);
		s->ls[i].fd = -1;
	}
	for (p = s->peers; p; p = p->next) {
		if (p->c->state == CONN_AUTH || p->c->state == CONN_OPEN)
			conn_close(p->c, 1001, "server shutting down");
		else if (p->c->state != CONN_CLOSING)
			conn_abort(p->c, "server shutting down");
	}
}

int server_main(int argc, char **argv)
{
	struct server *s;
	char err[512], *pos[1];
	const char *cfgpath;
	int npos, help, i, rc = 0;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->auth_timeout_ms = CFG_AUTH_TIMEOUT_MS;
	s->command_timeout_ms = CFG_COMMAND_TIMEOUT_MS;
	s->max_message = CFG_MAX_AGENT_MESSAGE;
	s->ping_ms = CFG_PING_INTERVAL_MS;
	s->ui = 1;
	default_versions(s->accept_versions, sizeof(s->accept_versions));
	buf_init(&s->scratch, 0);

	cfgpath = cfg_find_config(argc - 1, argv + 1);
	if (cfgpath && cfg_load_file(cfgpath, server_opts, server_set, s, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd server: %s\n", err);
		free(s);
		return 2;
	}
	if (cfg_parse_args(argc - 1, argv + 1, server_opts, server_set, s, pos, 0, &npos,
			   &help, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd server: %s\nTry 'nestd server --help'.\n", err);
		free(s);
		return 2;
	}
	if (help) {
		fputs(server_usage, stdout);
		free(s);
		return 0;
	}
	if ((s->tls_cert[0] || s->tls_key[0]) && !server_tls_available()) {
		fprintf(stderr, "nestd server: --tls-cert/--tls-key: this nestd was built without TLS (make TLS=1)\n");
		free(s);
		return 2;
	}
	if (!s->tls_cert[0] != !s->tls_key[0]) {
		fprintf(stderr, "nestd server: --tls-cert and --tls-key go together\n");
		free(s);
		return 2;
	}
	if (s->nlisten == 0)
		net_parse_addr(CFG_DEFAULT_LISTEN, &s->listen[s->nlisten++], err, sizeof(err));
	/* Which listeners speak TLS: with a certificate, every TCP listener
	 * that is not on loopback; "tls:" forces it.  Unix sockets and
	 * loopback stay plain (local reverse proxies, tests, the CLI). */
	for (i = 0; i < s->nlisten; i++) {
		const struct net_addr *a = &s->listen[i];

		if (a->tls && !s->tls_cert[0]) {
			fprintf(stderr, "nestd server: --listen tls:%s:%s needs --tls-cert and --tls-key\n",
				a->host, a->port);
			free(s);
			return 2;
		}
		s->ls_tls[i] = a->kind == NET_TCP && s->tls_cert[0] &&
			       (a->tls || !net_is_loopback(a->host));
	}
	if (s->tls_cert[0]) {
		s->tls = tls_server_ctx(s->tls_cert, s->tls_key, err, sizeof(err));
		if (!s->tls) {
			fprintf(stderr, "nestd server: TLS: %s\n", err);
			free(s);
			return 1;
		}
	}
	if (!s->state_dir[0])
		token_default_state_dir(s->state_dir, sizeof(s->state_dir));
	if (!s->tokens_path[0])
		snprintf(s->tokens_path, sizeof(s->tokens_path), "%.4080s/tokens", s->state_dir);
	if (token_db_load(s->tokens_path, &s->db, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd server: %s\n", err);
		free(s);
		return 1;
	}
	if (s->db.n == 0)
		log_warn("no tokens in %s yet: create one with 'nestd token new NAME'", s->tokens_path);

	signal(SIGPIPE, SIG_IGN);
	s->loop = loop_new();
	if (!s->loop || loop_signals(s->loop, sigs, 3, on_signal, s) < 0 ||
	    server_api_init(s, err, sizeof(err)) < 0 || server_install_init(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd server: %s\n", s->loop ? err : "out of memory");
		return 1;
	}
	for (i = 0; i < s->nlisten; i++) {
		int fd = net_listen(&s->listen[i], err, sizeof(err));

		if (fd < 0) {
			fprintf(stderr, "nestd server: %s\n", err);
			return 1;
		}
		s->ls[i].fd = fd;
		s->ls[i].ready = listener_ready;
		s->ls[i].arg = s;
		loop_add(s->loop, &s->ls[i]);
		s->nls++;
		if (s->listen[i].kind == NET_UNIX)
			log_info("listening on unix:%s", s->listen[i].path);
		else
			log_info("listening on %s%s%s:%s%s", strchr(s->listen[i].host, ':') ? "[" : "",
				 s->listen[i].host, strchr(s->listen[i].host, ':') ? "]" : "",
				 s->listen[i].port, s->ls_tls[i] ? " (TLS)" : "");
	}
	log_info("nestd %s server ready: %d tokens, accepting agent versions %s",
		 NESTD_VERSION, s->db.n, s->accept_versions);
	while (!s->stopping || (s->peers && loop_now() < s->stop_at)) {
		int wait = -1;

		if (s->stopping) {
			int64_t d = s->stop_at - loop_now();

			wait = d < 0 ? 0 : (int)d;
		}
		if (loop_once(s->loop, wait) < 0) {
			log_error("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
	}
	while (s->peers)
		conn_destroy(s->peers->c, "server shutting down");
	for (i = 0; i < s->nlisten; i++)
		if (s->listen[i].kind == NET_UNIX)
			unlink(s->listen[i].path);
	server_api_free(s);
	tls_ctx_free(s->tls);
	log_info("server stopped");
	token_db_free(&s->db);
	buf_free(&s->scratch);
	loop_free(s->loop);
	free(s);
	return rc;
}
