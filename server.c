/* server.c - `nestd server`: accepts agents on TCP and Unix listeners,
 * checks their first message the way the reference server did, keeps the
 * authenticated ones by name, and hands their replies to the router and
 * the operators' HTTP requests to the API.  It owns the running state
 * (server_int.h) and is the only room that moves a peer between kinds.
 *
 * Authentication, in the reference order (docs/PROTOCOL.md,
 * "Authentication"): a first message in time, JSON, status let_me_in_pls,
 * the token's format and checksum, a known agent token, an accepted
 * version.  Each failure gets its own {"status":"error"} and a close;
 * success gets exactly {"status":"info","message":"Authenticated :D"}.  A
 * second connection with the same token takes over (the MQTT rule): a
 * half-dead old TCP connection must never lock an agent out. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "proto.h"
#include "server_admit.h"
#include "server_api.h"
#include "server_audit.h"
#include "server_int.h"
#include "server_metrics.h"
#include "server_router.h"
#include "server_state.h"
#include "tls.h"

static void tokens_recheck(struct server *s);

/* ---- answering a peer ---- */

/* {"status":S,"message":M}, built here: no buffer is shared. */
static void send_simple(struct peer *p, const char *status, const char *msg)
{
	struct buf b;

	buf_init(&b, 0);
	if (proto_simple(&b, status, msg) == 0)
		conn_send_text(p->c, b.p, b.len);
	buf_free(&b);
}

/* {"status":"error","message":M[,"payload":{"retry_after":N}]}, then close. */
static void reject(struct peer *p, const char *msg, int retry_after, unsigned code)
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

static void audit_peer(struct server *s, const char *event, const struct peer *p,
		       const char *why)
{
	audit_agent(s->audit, event, p->name, p->c->peer, p->version, why);
}

/* The agent is no longer one: its commands end, the audit log says so. */
static void agent_gone(struct peer *p, const char *why)
{
	struct server *s = p->srv;

	audit_peer(s, "agent_disconnected", p, why);
	router_agent_gone(s->router, p, why);
	state_agent_down(s->state, p);
}

/* Drops an authenticated agent (replaced, revoked): gone at once, closed
 * with why. */
static void drop_agent(struct peer *p, const char *why)
{
	peers_set_kind(&p->srv->peers, p, PEER_REPLACED);
	agent_gone(p, why);
	reject(p, why, 0, 1008);
}

/* ---- authentication (docs/PROTOCOL.md, "Authentication") ---- */

/* A refused first message: counted against the address, audited,
 * answered with why, closed.  The caller has logged it. */
static void refuse_first(struct peer *p, const char *why)
{
	struct server *s = p->srv;

	admit_failed(s->admit, p->c->peer, loop_now());
	audit_auth_failure(s->audit, "agent", p->c->peer, why);
	reject(p, why, 0, 1008);
}

static void auth_fail(struct peer *p, const char *why, const char *detail)
{
	log_warn("authentication failed from %s: %s%s%s", p->c->peer, why,
		 detail ? ": " : "", detail ? detail : "");
	refuse_first(p, why);
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

/* Only what the reference server looked at decides: a JSON object whose
 * status is let_me_in_pls, with payload.client_token and payload.version.
 * Other members may be anything.  The agent's token entry, or NULL after
 * auth_fail; *pl: the payload object or -1. */
static const struct token_entry *first_message_token(struct peer *p, const struct json *j,
						     int *pl)
{
	const struct token_entry *e;
	const char *why;
	char tok[TOKEN_LEN + 2];
	int t;

	if (json_type(j, 0) != JSON_OBJECT ||
	    !json_str_eq(j, json_get(j, 0, "status"), "let_me_in_pls")) {
		auth_fail(p, "expected status let_me_in_pls", NULL);
		return NULL;
	}
	*pl = json_get(j, 0, "payload");
	if (*pl >= 0 && json_type(j, *pl) != JSON_OBJECT)
		*pl = -1;
	t = pget(j, *pl, "client_token");
	if (t < 0 || json_strcpy(j, t, tok, sizeof(tok)) < 0) {
		auth_fail(p, "invalid token format", "payload.client_token missing or not a token");
		return NULL;
	}
	why = admit_token(&p->srv->db, tok, ROLE_AGENT, &e);
	memset(tok, 0, sizeof(tok));
	if (why) {
		auth_fail(p, why, e ? e->name : NULL);
		return NULL;
	}
	return e;
}

/* payload.version into p->version; 0 after refusing it. */
static int version_accepted(struct peer *p, const struct token_entry *e, const struct json *j,
			    int pl)
{
	const char *accept = p->srv->o->accept_versions;
	char why[400];

	copy_str(j, pget(j, pl, "version"), p->version, sizeof(p->version));
	if (p->version[0] && server_version_ok(accept, p->version))
		return 1;
	snprintf(why, sizeof(why), "version %s not accepted (this server accepts %s)",
		 p->version[0] ? p->version : "(none)", accept);
	log_warn("authentication failed from %s: agent '%s': %s", p->c->peer, e->name, why);
	refuse_first(p, why);
	return 0;
}

/* The agent is in: what it told about itself, its name taken over from
 * an older connection, the one answer the reference client waits for. */
static void admit_agent(struct peer *p, const struct token_entry *e, const struct json *j,
			int pl)
{
	struct server *s = p->srv;
	struct peer *old;
	int t;

	snprintf(p->name, sizeof(p->name), "%s", e->name);
	snprintf(p->owner, sizeof(p->owner), "%s", e->owner);
	memcpy(p->token_hash, e->hash, sizeof(p->token_hash));
	copy_str(j, pget(j, pl, "hostname"), p->hostname, sizeof(p->hostname));
	copy_str(j, pget(j, pl, "services"), p->backend, sizeof(p->backend));
	t = pget(j, pl, "commands");
	if (t >= 0 && json_type(j, t) == JSON_ARRAY)
		p->commands = json_dup(j, t);
	old = peers_find_agent(&s->peers, p->name);
	if (old) {
		log_info("%s: replaced by a newer connection from %s (old one from %s)",
			 p->name, p->c->peer, old->c->peer);
		drop_agent(old, "replaced by a newer connection");
	}
	peers_set_kind(&s->peers, p, PEER_AGENT);
	p->since = (long long)time(NULL);
	conn_set_state(p->c, CONN_OPEN);
	conn_set_max_message(p->c, s->o->max_message);
	send_simple(p, "info", "Authenticated :D");
	state_agent_up(s->state, p);
	log_info("%s connected from %s (version %s%s%s%s%s)", p->name, p->c->peer, p->version,
		 p->hostname[0] ? ", host " : "", p->hostname, p->owner[0] ? ", owner " : "",
		 p->owner);
	audit_peer(s, "agent_connected", p, NULL);
}

static void authenticate(struct peer *p, char *text, size_t n)
{
	struct server *s = p->srv;
	const struct token_entry *e;
	struct json j;
	char err[128];
	int wait, pl = -1;

	conn_set_timer(p->c, 0);
	wait = admit_blocked(s->admit, p->c->peer, loop_now());
	if (wait) {
		log_warn("authentication from %s refused: too many failures, retry in %d s",
			 p->c->peer, wait);
		reject(p, "too many failed authentications from this address", wait, 1008);
		return;
	}
	/* A token minted a moment ago is let in now, not at the next tick. */
	tokens_recheck(s);
	if (json_parse(&j, text, n, err, sizeof(err)) < 0) {
		auth_fail(p, "first message is not valid JSON", err);
		return;
	}
	e = first_message_token(p, &j, &pl);
	if (e && version_accepted(p, e, &j, pl))
		admit_agent(p, e, &j, pl);
	json_free(&j);
}

/* ---- an authenticated agent's messages ---- */

static void agent_message(struct peer *p, char *text, size_t n)
{
	struct nest_msg m;
	char err[128], what[160], w[128];

	if (proto_parse(&m, text, n, err, sizeof(err)) < 0) {
		log_warn("%s: malformed message (%s)", p->name, err);
		snprintf(what, sizeof(what), "malformed message: %s", err);
		send_simple(p, "warning", what);
		return;
	}
	copy_str(&m.j, m.t_message, what, sizeof(what));
	switch (m.status) {
	case NS_COMMAND_RESPONSE:
	case NS_COMMAND_RESPONSE_ERROR:
		router_agent_reply(p->srv->router, p, &m, text, n);
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
		send_simple(p, "warning", m.status == NS_COMMAND ? "agents do not send commands"
			    : "already authenticated");
		break;
	case NS_UNKNOWN:
		copy_str(&m.j, m.t_status, what, 64);
		log_warn("%s: unknown status '%s'", p->name, what);
		snprintf(w, sizeof(w), "unknown status '%s'", what);
		send_simple(p, "warning", w);
		break;
	}
	proto_free(&m);
}

/* ---- the connection's events ---- */

/* Until it is authenticated, a peer gets a small message bound and a
 * deadline for its first message (docs/PROTOCOL.md, "Limits"). */
static void on_open(struct conn *c)
{
	struct peer *p = c->owner;

	conn_set_max_message(c, CFG_MAX_FIRST_MESSAGE);
	conn_set_timer(c, loop_now() + p->srv->o->auth_timeout_ms);
}

static void on_text(struct conn *c, char *text, size_t n)
{
	struct peer *p = c->owner;

	if (c->state == CONN_AUTH)
		authenticate(p, text, n);
	else if (p->kind == PEER_AGENT)
		agent_message(p, text, n);
}

static void on_http(struct conn *c, const struct http_req *req, const char *body, size_t n)
{
	struct peer *p = c->owner;

	peers_set_kind(&p->srv->peers, p, PEER_HTTP);
	server_api_request(c, req, body, n);
}

/* The only timer a peer's connection has: the first message's. */
static void on_timer(struct conn *c)
{
	struct peer *p = c->owner;

	if (c->state == CONN_AUTH)
		auth_fail(p, "authentication timed out: no first message in time", NULL);
}

static void on_close(struct conn *c, const char *why)
{
	struct peer *p = c->owner;

	if (p->kind == PEER_AGENT) {
		log_info("%s disconnected (%s)", p->name, why);
		agent_gone(p, why);
	} else if (p->kind == PEER_NEW && c->ws_up) {
		log_info("connection from %s closed before authentication (%s)", c->peer, why);
	} else if (p->kind == PEER_NEW) {
		log_debug("connection from %s closed (%s)", c->peer, why);
	} else if (p->kind == PEER_HTTP) {
		server_api_gone(p);
	}
	peers_unlink(&p->srv->peers, p);
	peer_free(p);
}

static const struct conn_ops server_conn_ops = {
	.on_open = on_open,
	.on_text = on_text,
	.on_http = on_http,
	.on_timer = on_timer,
	.on_close = on_close,
};

/* A conn dropped before it became a peer. */
static const struct conn_ops dropped_ops = { .on_close = NULL };

/* The router's way to an agent. */
static int send_to_agent(struct peer *agent, const char *text, size_t n)
{
	return conn_send_text(agent->c, text, n);
}

/* ---- listeners ---- */

static void accept_peer(struct server *s, int fd, const char *addr, int tls)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p) {
		close(fd);
		return;
	}
	p->srv = s;
	p->c = conn_accept(s->loop, fd, addr, &server_conn_ops, p);
	if (!p->c) {
		free(p);
		return;
	}
	if (tls && conn_set_tls(p->c, s->tls, NULL) < 0) {
		p->c->owner = NULL;
		p->c->ops = &dropped_ops;
		conn_destroy(p->c, "out of memory");
		free(p);
		return;
	}
	conn_set_ping(p->c, s->o->ping_ms);
	p->c->http_body_max = CFG_HTTP_MAX_BODY;
	peers_add(&s->peers, p);
}

static void listener_ready(struct loop_src *src, short revents)
{
	struct server *s = src->arg;
	int i;

	if (!revents)
		return;
	for (i = 0; i < 64; i++) {
		char addr[64];
		int fd = net_accept(src->fd, addr, sizeof(addr));

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (s->stopping || s->peers.nconn >= CFG_MAX_CONNECTIONS)
			close(fd);
		else
			accept_peer(s, fd, addr, s->o->listen_tls[src - s->ls]);
	}
}

static int listen_all(struct server *s, char *err, size_t errlen)
{
	const struct server_opts *o = s->o;
	int i;

	for (i = 0; i < o->nlisten; i++) {
		const struct net_addr *a = &o->listen[i];
		int fd = net_listen(a, err, errlen);

		if (fd < 0)
			return -1;
		s->ls[i].fd = fd;
		s->ls[i].ready = listener_ready;
		s->ls[i].arg = s;
		loop_add(s->loop, &s->ls[i]);
		s->nls++;
		if (a->kind == NET_UNIX)
			log_info("listening on unix:%s", a->path);
		else
			log_info("listening on %s%s%s:%s%s", strchr(a->host, ':') ? "[" : "", a->host,
				 strchr(a->host, ':') ? "]" : "", a->port,
				 o->listen_tls[i] ? " (TLS)" : "");
	}
	return 0;
}

static void close_listeners(struct server *s)
{
	int i;

	for (i = 0; i < s->nls; i++) {
		if (s->ls[i].fd < 0)
			continue;
		loop_del(s->loop, &s->ls[i]);
		close(s->ls[i].fd);
		s->ls[i].fd = -1;
	}
}

/* ---- the token file ---- */

/* A session is still good when its token is: an agent entry with the hash
 * it logged in with, under the same name (a name handed to another token
 * by revoke and new is not the session's any more). */
static const struct token_entry *session_token(const struct server *s, const struct peer *p)
{
	const struct token_entry *e = token_db_find_hash(&s->db, p->token_hash);

	return e && e->role == ROLE_AGENT && strcmp(e->name, p->name) == 0 ? e : NULL;
}

/* The one reload, for SIGHUP and for a changed file alike: the new file
 * whole or the old tokens kept; then every session whose token is gone is
 * dropped, and the others take their entry's current owner. */
static void reload_tokens(struct server *s, const char *why)
{
	struct token_db db;
	char err[800];
	struct peer *p, *next;

	if (token_db_load_id(s->o->tokens_path, &db, &s->tokens_id, err, sizeof(err)) < 0) {
		log_error("%s: keeping the old tokens: %s", why, err);
		return;
	}
	token_db_free(&s->db);
	s->db = db;
	log_info("%s: %d tokens loaded from %s", why, db.n, s->o->tokens_path);
	for (p = peers_next_agent(s->peers.head); p; p = next) {
		const struct token_entry *e = session_token(s, p);

		next = peers_next_agent(p->next);
		if (e) {
			snprintf(p->owner, sizeof(p->owner), "%s", e->owner);
			continue;
		}
		log_info("%s: token revoked, disconnecting", p->name);
		drop_agent(p, "token revoked");
	}
}

/* One stat(2): has the token file changed since it was read? */
static void tokens_recheck(struct server *s)
{
	if (token_file_changed(s->o->tokens_path, &s->tokens_id))
		reload_tokens(s, "token file changed");
}

/* So a revoked token's sessions go without anyone logging in. */
static void tokens_tick(struct loop_src *src, short revents)
{
	struct server *s = src->arg;

	tokens_recheck(s);
	src->deadline = loop_now() + CFG_TOKEN_RECHECK_MS;
}

/* ---- signals ---- */

static void on_signal(int sig, void *arg)
{
	struct server *s = arg;
	struct peer *p;

	if (sig == SIGHUP) {
		reload_tokens(s, "SIGHUP");
		return;
	}
	if (s->stopping)
		return;
	log_info("%s: closing %d connections", sig == SIGTERM ? "SIGTERM" : "SIGINT",
		 s->peers.nconn);
	s->stopping = 1;
	s->stop_at = loop_now() + CFG_CLOSE_TIMEOUT_MS + CFG_SHUTDOWN_SLACK_MS;
	close_listeners(s);
	for (p = s->peers.head; p; p = p->next) {
		if (p->c->state == CONN_AUTH || p->c->state == CONN_OPEN)
			conn_close(p->c, 1001, "server shutting down");
		else if (p->c->state != CONN_CLOSING)
			conn_abort(p->c, "server shutting down");
	}
}

/* ---- start, run, stop ---- */

/* The rooms below this one, each with its own state. */
static int open_rooms(struct server *s, char *err, size_t errlen)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	const struct server_opts *o = s->o;
	struct router_env env = {
		.peers = &s->peers, .timeout_ms = o->command_timeout_ms, .send = send_to_agent,
	};

	s->loop = env.loop = loop_new();
	s->admit = admit_new();
	s->metrics = metrics_new();
	if (!s->loop || !s->admit || !s->metrics || loop_signals(s->loop, sigs, 3, on_signal, s) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->audit = audit_open(o->audit_path, err, errlen);
	if (!s->audit)
		return -1;
	env.audit = s->audit;
	env.metrics = s->metrics;
	s->router = router_new(&env);
	s->tokens_timer.fd = -1;
	s->tokens_timer.ready = tokens_tick;
	s->tokens_timer.arg = s;
	s->tokens_timer.deadline = loop_now() + CFG_TOKEN_RECHECK_MS;
	s->tokens_recheck = tokens_recheck;
	if (!s->router || loop_add(s->loop, &s->tokens_timer) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->tokens_timer_on = 1;
	if (!(s->state = state_open(s, err, errlen)))
		return -1;
	return server_install_init(&s->install, o->dist_dir, o->public_url, err, errlen);
}

/* 0 when the server may serve; else the exit status, the reason printed. */
static int server_start(struct server *s)
{
	const struct server_opts *o = s->o;
	char err[512];

	if (o->tls_cert[0]) {
		s->tls = tls_server_ctx(o->tls_cert, o->tls_key, err, sizeof(err));
		if (!s->tls) {
			fprintf(stderr, "nestd server: TLS: %s\n", err);
			return 1;
		}
	}
	if (token_db_load_id(o->tokens_path, &s->db, &s->tokens_id, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd server: %s\n", err);
		return 1;
	}
	if (s->db.n == 0)
		log_warn("no tokens in %s yet: create one with 'nestd token new NAME'", o->tokens_path);
	signal(SIGPIPE, SIG_IGN);
	if (open_rooms(s, err, sizeof(err)) < 0 || listen_all(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd server: %s\n", err);
		return 1;
	}
	log_info("nestd %s server ready: %d tokens, accepting agent versions %s",
		 NESTD_VERSION, s->db.n, o->accept_versions);
	return 0;
}

/* Until a signal, then (bounded) until every peer has closed. */
static int serve(struct server *s)
{
	while (!s->stopping || (s->peers.head && loop_now() < s->stop_at)) {
		int wait = -1;

		if (s->stopping) {
			int64_t d = s->stop_at - loop_now();

			wait = d < 0 ? 0 : (int)d;
		}
		if (loop_once(s->loop, wait) < 0) {
			log_error("poll: %s", strerror(errno));
			return 1;
		}
	}
	return 0;
}

/* Whatever server_start got to, undone; ran: it served. */
static void server_stop(struct server *s, int ran)
{
	int i;

	while (s->peers.head)
		conn_destroy(s->peers.head->c, "server shutting down");
	if (ran)
		log_info("server stopped");
	close_listeners(s);
	for (i = 0; i < s->nls; i++)
		if (s->o->listen[i].kind == NET_UNIX)
			unlink(s->o->listen[i].path);
	if (s->tokens_timer_on)
		loop_del(s->loop, &s->tokens_timer);
	state_close(s->state);   /* every agent is gone: all offline, written down */
	router_free(s->router);
	audit_close(s->audit);
	metrics_free(s->metrics);
	admit_free(s->admit);
	tls_ctx_free(s->tls);
	token_db_free(&s->db);
	if (s->loop)
		loop_free(s->loop);
}

int server_run(const struct server_opts *o)
{
	struct server *s = calloc(1, sizeof(*s));
	int rc, ran;

	if (!s)
		return 1;
	s->o = o;
	rc = server_start(s);
	ran = rc == 0;
	if (ran)
		rc = serve(s);
	server_stop(s, ran);
	free(s);
	return rc;
}

int server_main(int argc, char **argv)
{
	struct server_opts *o = calloc(1, sizeof(*o));
	char err[600];
	int rc = 2;

	if (!o)
		return 1;
	switch (server_opts_parse(o, argc - 1, argv + 1, err, sizeof(err))) {
	case SERVER_OPTS_HELP:
		fputs(server_opts_usage, stdout);
		rc = 0;
		break;
	case SERVER_OPTS_RUN:
		if (server_opts_validate(o, err, sizeof(err)) == 0) {
			rc = server_run(o);
			break;
		}
		/* fall through */
	case SERVER_OPTS_BAD:
		fprintf(stderr, "nestd server: %s\n", err);
		break;
	}
	free(o);
	return rc;
}
