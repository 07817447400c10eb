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
 * half-dead old TCP connection must never lock an agent out.
 *
 * Admission (docs/PROTOCOL.md, "Admission") never refuses a valid token:
 * a failure is charged to its source (server_gate.c), and a source over
 * its budget has its next failures answered late and summarised, while
 * its valid tokens still come in.  A silent connection that times out is
 * no failure.  Room is bounded per source and in all: past either cap,
 * the connection not yet authenticated that has been silent longest is
 * dropped for the newcomer; out of descriptors, the same, or the
 * listeners rest a moment (never a spin). */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "help.h"
#include "fmt.h"
#include "log.h"
#include "net.h"
#include "out.h"
#include "proto.h"
#include "server_admit.h"
#include "server_api.h"
#include "server_audit.h"
#include "server_cluster.h"
#include "server_gate.h"
#include "server_int.h"
#include "server_metrics.h"
#include "server_router.h"
#include "server_state.h"
#include "server_slack.h"
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
	if (SRV_CLUSTER(s))
		cluster_agent_down(SRV_CLUSTER(s), p);
	server_slack_agent(s->slack, p->name);
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

/* A refused first message: charged to the peer's source, and answered
 * with why and closed; over budget, answered late (on_timer) with the
 * budget's refusal instead.  The gate logs it. */
static void refuse_first(struct peer *p, const char *why, const char *detail)
{
	struct admit_verdict v;

	gate_failed(p->srv->gate, "agent", p->c->peer, p->source, why, detail, &v);
	if (v.delay_ms) {
		p->refuse_retry = v.retry_after > 0 ? v.retry_after : 1;
		conn_set_timer(p->c, loop_now() + v.delay_ms);
		return;
	}
	reject(p, why, 0, 1008);
}

/* A known token refused for its role or version: no guess, so not
 * charged; the reason at once, whatever the source's budget. */
static void refuse_known(struct peer *p, const char *why, const char *detail)
{
	log_warn("authentication failed from %s: %s%s%s", p->c->peer, why, detail ? ": " : "",
		 detail ? detail : "");
	audit_auth_failure(p->srv->audit, "agent", p->c->peer, NULL, why);
	reject(p, why, 0, 1008);
}

/* This peer no longer counts among its source's connections not yet
 * authenticated. */
static void leave_preauth(struct peer *p)
{
	if (p->preauth >= 0)
		admit_preauth_close(p->srv->admit, p->preauth);
	p->preauth = -1;
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
 * refusing it; *pl: the payload object or -1. */
static const struct token_entry *first_message_token(struct peer *p, const struct json *j,
						     int *pl)
{
	const struct token_entry *e;
	const char *why;
	char tok[TOKEN_LEN + 2];
	int t;

	if (json_type(j, 0) != JSON_OBJECT ||
	    !json_str_eq(j, json_get(j, 0, "status"), "let_me_in_pls")) {
		refuse_first(p, "expected status let_me_in_pls", NULL);
		return NULL;
	}
	*pl = json_get(j, 0, "payload");
	if (*pl >= 0 && json_type(j, *pl) != JSON_OBJECT)
		*pl = -1;
	t = pget(j, *pl, "client_token");
	if (t < 0 || json_strcpy(j, t, tok, sizeof(tok)) < 0) {
		refuse_first(p, "invalid token format", "payload.client_token missing or not a token");
		return NULL;
	}
	why = admit_token(&p->srv->db, tok, ROLE_AGENT, &e);
	memset(tok, 0, sizeof(tok));
	if (why && e)
		refuse_known(p, why, e->name);
	else if (why)
		refuse_first(p, why, NULL);
	return why ? NULL : e;
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
	fmt_snprintf(why, sizeof(why), "version %s not accepted (this server accepts %s)",
		 p->version[0] ? p->version : "(none)", accept);
	refuse_known(p, why, e->name);
	return 0;
}

/* To an agent that announced itself (its commands list), right after
 * "Authenticated :D": what this server is and does (docs/PROTOCOL.md,
 * "The negotiation").  Never to one that did not: the original client
 * exits on any info. */
static void send_hello_info(struct peer *p)
{
	static const char *const features[] = { "id", "shapes", "service_wait" };
	struct buf b;
	struct jw w;
	size_t i;

	buf_init(&b, 4096);
	proto_begin(&w, &b, "info", "nestd", NULL, 0);
	jw_key(&w, "payload");
	jw_obj(&w);
	jw_kstr(&w, "server", "nestd");
	jw_kstr(&w, "version", NESTD_VERSION);
	jw_key(&w, "features");
	jw_arr(&w);
	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		jw_str(&w, features[i]);
	jw_arr_end(&w);
	jw_key(&w, "command_timeout");
	jw_double(&w, (double)p->srv->o->command_timeout_ms / 1000.0, 3);
	jw_obj_end(&w);
	proto_end(&w);
	if (!jw_error(&w))
		conn_send_text(p->c, b.p, b.len);
	buf_free(&b);
}

/* The agent is in: what it told about itself, its name taken over from
 * an older connection, the one answer the reference client waits for. */
static void admit_agent(struct peer *p, const struct token_entry *e, const struct json *j,
			int pl)
{
	struct server *s = p->srv;
	struct peer *old;
	int t;

	fmt_snprintf(p->name, sizeof(p->name), "%s", e->name);
	fmt_snprintf(p->owner, sizeof(p->owner), "%s", e->owner);
	memcpy(p->token_hash, e->hash, sizeof(p->token_hash));
	copy_str(j, pget(j, pl, "hostname"), p->hostname, sizeof(p->hostname));
	copy_str(j, pget(j, pl, "services"), p->backend, sizeof(p->backend));
	t = pget(j, pl, "commands");
	if (t >= 0 && json_type(j, t) == JSON_ARRAY)
		p->commands = json_dup(j, t);
	if (json_int(j, pget(j, pl, "uid"), &p->uid) < 0 || p->uid < 0)
		p->uid = -1;
	old = peers_find_agent(&s->peers, p->name);
	if (old) {
		log_info("%s: replaced by a newer connection from %s (old one from %s)",
			 p->name, p->c->peer, old->c->peer);
		drop_agent(old, "replaced by a newer connection");
	}
	leave_preauth(p);
	peers_set_kind(&s->peers, p, PEER_AGENT);
	p->since = (long long)time(NULL);
	conn_set_state(p->c, CONN_OPEN);
	conn_set_max_message(p->c, s->o->max_message);
	send_simple(p, "info", "Authenticated :D");
	state_agent_up(s->state, p);
	if (p->commands)
		send_hello_info(p);
	log_info("%s connected from %s (version %s%s%s%s%s%s)", p->name, p->c->peer, p->version,
		 p->hostname[0] ? ", host " : "", p->hostname, p->owner[0] ? ", owner " : "",
		 p->owner, p->commands ? "" : ", an original client");
	audit_peer(s, "agent_connected", p, NULL);
	if (SRV_CLUSTER(s))
		cluster_agent_up(SRV_CLUSTER(s), p);
	server_slack_agent(s->slack, p->name);
}

static void authenticate(struct peer *p, char *text, size_t n)
{
	const struct token_entry *e;
	struct json j;
	char err[128];
	int pl = -1;

	conn_set_timer(p->c, 0);
	/* A token minted a moment ago is let in now, not at the next tick. */
	tokens_recheck(p->srv);
	if (json_parse(&j, text, n, err, sizeof(err)) < 0) {
		refuse_first(p, "first message is not valid JSON", err);
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
		fmt_snprintf(what, sizeof(what), "malformed message: %s", err);
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
		fmt_snprintf(w, sizeof(w), "unknown status '%s'", what);
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

	if (c->state == CONN_AUTH && !p->refuse_retry)
		authenticate(p, text, n);
	else if (p->kind == PEER_AGENT)
		agent_message(p, text, n);
}

/* Whom this request's failures are charged to: the connection's source,
 * or behind a --trusted-proxy the client its X-Forwarded-For names. */
static void on_head(struct conn *c, const struct http_req *req)
{
	struct peer *p = c->owner;
	const struct server_opts *o = p->srv->o;
	struct http_span xff[CFG_HTTP_MAX_HEADERS];
	char own[ADMIT_SOURCE_MAX];
	int i, n = 0;

	admit_source(c->peer, own);
	if (!o->ntrusted) {
		fmt_snprintf(p->source, sizeof(p->source), "%s", own);
		return;
	}
	for (i = 0; i < req->nh; i++)
		if (http_span_ieq(&req->h[i].name, "X-Forwarded-For"))
			xff[n++] = req->h[i].value;
	admit_forwarded(o->trusted, o->ntrusted, own, xff, n, p->source);
}

static void on_http(struct conn *c, const struct http_req *req, const char *body, size_t n)
{
	struct peer *p = c->owner;

	leave_preauth(p);
	peers_set_kind(&p->srv->peers, p, PEER_HTTP);
	server_api_request(c, req, body, n);
}

/* A peer's timers: a refusal held back (over budget), the first
 * message's deadline, an operator's. */
static void on_timer(struct conn *c)
{
	struct peer *p = c->owner;

	if (p->kind == PEER_HTTP) {
		server_api_timer(p);
	} else if (c->state == CONN_AUTH && p->refuse_retry) {
		reject(p, "too many failed authentications from this address", p->refuse_retry, 1008);
	} else if (c->state == CONN_AUTH) {
		/* Silence is no guess at a token: not charged, and logged only
		 * where connections closing before authentication are. */
		reject(p, "authentication timed out: no first message in time", 0, 1008);
	}
}

static void on_close(struct conn *c, const char *why)
{
	struct peer *p = c->owner;

	if (p->kind == PEER_AGENT) {
		log_info("%s disconnected (%s)", p->name, why);
		agent_gone(p, why);
	} else if (p->kind == PEER_NEW && c->ws_up && !p->refuse_retry) {
		log_info("connection from %s closed before authentication (%s)", c->peer, why);
	} else if (p->kind == PEER_NEW) {
		log_debug("connection from %s closed (%s)", c->peer, why);
	} else if (p->kind == PEER_HTTP) {
		server_api_gone(p);
	}
	leave_preauth(p);
	peers_unlink(&p->srv->peers, p);
	peer_free(p);
}

static const struct conn_ops server_conn_ops = {
	.on_open = on_open,
	.on_head = on_head,
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

/* ---- room for connections ---- */

/* Log lines about connections dropped or refused for room: at most one
 * per interval, with the count of those not logged. */
static void note_drop(struct server *s, const char *what)
{
	int64_t now = loop_now();

	s->drops++;
	if (now < s->drop_log_at)
		return;
	log_warn("%s (%u such since the last line)", what, s->drops);
	s->drops = 0;
	s->drop_log_at = now + CFG_AUTH_SUMMARY_MS;
}

/* Drops the connection not yet authenticated that has been silent
 * longest, of those older than CFG_PREAUTH_GRACE_MS (a client that just
 * connected has not had its chance to speak): of the source whose handle
 * is slot, or of any source (slot -1).  0 when there is none. */
static int drop_idle(struct server *s, int slot, const char *why)
{
	int64_t now = loop_now();
	struct peer *p, *best = NULL;
	char msg[200];

	for (p = s->peers.preauth; p; p = p->pa_next)
		if (!p->c->dead && (slot < 0 || p->preauth == slot) &&
		    now - p->born >= CFG_PREAUTH_GRACE_MS &&
		    (!best || p->c->last_rx < best->c->last_rx))
			best = p;
	if (!best)
		return 0;
	fmt_snprintf(msg, sizeof(msg), "%s: dropped %s, the connection not yet authenticated that was"
		 " silent longest", why, best->c->peer);
	note_drop(s, msg);
	conn_abort(best->c, why);
	return 1;
}

static struct peer *new_peer(struct server *s, int fd, const char *addr, int tls)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p) {
		close(fd);
		return NULL;
	}
	p->srv = s;
	p->preauth = -1;
	p->born = loop_now();
	p->c = conn_accept(s->loop, fd, addr, &server_conn_ops, p);
	if (!p->c) {
		free(p);
		return NULL;
	}
	if (tls && conn_set_tls(p->c, s->tls, NULL) < 0) {
		p->c->owner = NULL;
		p->c->ops = &dropped_ops;
		conn_destroy(p->c, "out of memory");
		free(p);
		return NULL;
	}
	return p;
}

static void accept_peer(struct server *s, int fd, const char *addr, int tls)
{
	char src[ADMIT_SOURCE_MAX];
	unsigned count;
	struct peer *p;

	if (s->peers.nconn >= s->max_conns &&
	    !drop_idle(s, -1, "connection limit reached")) {
		close(fd);
		note_drop(s, "connection limit reached: refused a new connection (none old enough to drop)");
		return;
	}
	p = new_peer(s, fd, addr, tls);
	if (!p)
		return;
	conn_set_ping(p->c, s->o->ping_ms);
	p->c->http_body_max = CFG_HTTP_MAX_BODY;
	admit_source(addr, src);
	fmt_snprintf(p->source, sizeof(p->source), "%s", src);
	p->preauth = admit_preauth_open(s->admit, src, loop_now(), &count);
	peers_add(&s->peers, p);
	if (count > CFG_PREAUTH_PER_SOURCE)
		drop_idle(s, p->preauth, "too many connections not yet authenticated from one source");
}

/* ---- listeners ---- */

/* Paused (out of descriptors) listeners are not polled. */
static short listener_want(struct loop_src *src)
{
	struct server *s = src->arg;

	return s->accept_paused ? 0 : POLLIN;
}

static void pause_accept(struct server *s, int paused)
{
	int i;

	s->accept_paused = paused;
	for (i = 0; i < s->nls; i++)
		s->ls[i].deadline = paused ? loop_now() + CFG_ACCEPT_PAUSE_MS : 0;
}

/* accept(2) failed with err.  Out of descriptors (or memory), the level-
 * triggered listener would stay readable: make room by dropping the
 * longest-silent connection not yet authenticated, or else rest the
 * listeners a moment.  Logged once, and once more when a listener's
 * queue is empty again without a shortage in between. */
static void accept_failed(struct server *s, int err)
{
	int short_of = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;

	if ((err == EAGAIN || err == EWOULDBLOCK) && s->fd_short) {
		log_info("accept: caught up, no shortage of descriptors left");
		s->fd_short = 0;
	}
	if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED || err == EINTR)
		return;
	if (!short_of || !s->fd_short)
		log_warn("accept: %s%s", strerror(err), short_of ? ": dropping connections not yet"
			 " authenticated, or pausing accept, until there is room" : "");
	s->fd_short = short_of;
	if (!short_of || !drop_idle(s, -1, "out of descriptors"))
		pause_accept(s, 1);
}

static void listener_ready(struct loop_src *src, short revents)
{
	struct server *s = src->arg;
	int i;

	if (!revents) {
		if (s->accept_paused && loop_now() >= src->deadline)
			pause_accept(s, 0);
		return;
	}
	for (i = 0; i < CFG_ACCEPT_BATCH; i++) {
		char addr[64];
		int fd = net_accept(src->fd, addr, sizeof(addr));

		if (fd < 0) {
			accept_failed(s, errno);
			return;
		}
		if (s->stopping)
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
		s->ls[i].want = listener_want;
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

/* The tokens changed: every session whose token is gone is dropped, and
 * the others take their entry's current owner. */
static void sessions_recheck(struct server *s)
{
	struct peer *p, *next;

	for (p = peers_next_agent(s->peers.head); p; p = next) {
		const struct token_entry *e = session_token(s, p);

		next = peers_next_agent(p->next);
		if (e) {
			fmt_snprintf(p->owner, sizeof(p->owner), "%s", e->owner);
			continue;
		}
		log_info("%s: token revoked, disconnecting", p->name);
		drop_agent(p, "token revoked");
	}
}

/* The one reload, for SIGHUP and for a changed file alike: the new file
 * whole or the old tokens kept.  In a fleet the tokens are the store's
 * (server_tokens.c), and the file is not read. */
static void reload_tokens(struct server *s, const char *why)
{
	struct token_db db;
	char err[800];

	if (SRV_CLUSTER(s)) {
		log_info("%s: the tokens are the fleet's store (--cluster); no file to read", why);
		return;
	}
	if (token_db_load_id(s->o->tokens_path, &db, &s->tokens_id, err, sizeof(err)) < 0) {
		log_error("%s: keeping the old tokens: %s", why, err);
		return;
	}
	token_db_free(&s->db);
	s->db = db;
	log_info("%s: %d tokens loaded from %s", why, db.n, s->o->tokens_path);
	sessions_recheck(s);
}

/* One stat(2): has the token file changed since it was read? */
static void tokens_recheck(struct server *s)
{
	if (!SRV_CLUSTER(s) && token_file_changed(s->o->tokens_path, &s->tokens_id))
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

/* SIGHUP also starts the audit log afresh at its path, for logrotate. */
static void reopen_audit(struct server *s)
{
	char err[600];

	if (!s->o->audit_path[0])
		return;
	if (audit_reopen(s->audit, err, sizeof(err)) < 0)
		log_error("SIGHUP: %s", err);
	else
		log_info("SIGHUP: audit log %s reopened", s->o->audit_path);
}

static void on_signal(int sig, void *arg)
{
	struct server *s = arg;
	struct peer *p;

	if (sig == SIGHUP) {
		reload_tokens(s, "SIGHUP");
		reopen_audit(s);
		return;
	}
	if (s->stopping)
		return;
	log_info("%s: closing %d connections", sig == SIGTERM ? "SIGTERM" : "SIGINT",
		 s->peers.nconn);
	s->stopping = 1;
	s->stop_at = loop_now() + CFG_CLOSE_TIMEOUT_MS + CFG_SHUTDOWN_SLACK_MS;
	close_listeners(s);
	/* Operators waiting on an agent get their answer first (503 and
	 * Connection: close), while their connections still stand. */
	router_stop(s->router, "server shutting down");
	server_slack_close(s->slack);
	for (p = s->peers.head; p; p = p->next) {
		if (p->c->state == CONN_AUTH || p->c->state == CONN_OPEN)
			conn_close(p->c, 1001, "server shutting down");
		else if (p->c->state == CONN_HTTP)
			conn_http_last(p->c);    /* a file or a late refusal: its end, then close */
		else if (p->c->state != CONN_CLOSING)
			conn_abort(p->c, "server shutting down");
	}
}

/* ---- the fleet (--cluster) ---- */

/* The cluster's way to drop one of ours: a newer session elsewhere. */
static void cluster_drop(void *arg, struct peer *p, const char *why)
{
	drop_agent(p, why);
}

/* Another server's agent came or went (NULL: any may have). */
static void cluster_seen(void *arg, const char *name)
{
	struct server *s = arg;

	server_slack_agent(s->slack, name);
}

static int cluster_tokens_put(struct server *s, const struct token_entry *e, int create,
			      char *err, size_t errlen)
{
	return cluster_token_put(SRV_CLUSTER(s), e, create, err, errlen);
}

static int cluster_tokens_drop(struct server *s, const char *name, char *err, size_t errlen)
{
	return cluster_token_drop(SRV_CLUSTER(s), name, err, errlen);
}

/* The fleet's token store changed (s->db is its mirror). */
static void cluster_tokens(void *arg)
{
	sessions_recheck(arg);
}

static int open_cluster(struct server *s, char *err, size_t errlen)
{
	const struct server_opts *o = s->o;
	const struct net_addr *a = &o->listen[0];
	char listen[300];
	struct cluster_env env = {
		.loop = s->loop, .o = &o->cluster, .listen = listen, .peers = &s->peers,
		.router = s->router, .max_reply = o->max_message, .drop_agent = cluster_drop,
		.agent_seen = cluster_seen, .arg = s, .db = &s->db, .tokens_changed = cluster_tokens,
		.outcome_status = server_api_outcome_status,
		.tokens_cache = o->tokens_cache, .tokens_part = &cluster_tokens_part,
	};

	if (!SRV_FLEET(o))
		return 0;
	if (a->kind == NET_UNIX)
		fmt_snprintf(listen, sizeof(listen), "unix:%s", a->path);
	else
		fmt_snprintf(listen, sizeof(listen), "%s%s%s:%s", strchr(a->host, ':') ? "[" : "",
			 a->host, strchr(a->host, ':') ? "]" : "", a->port);
	s->cluster = cluster_open(&env, err, errlen);
	if (!s->cluster)
		return -1;
	s->tokens_put = cluster_tokens_put;
	s->tokens_drop = cluster_tokens_drop;
	audit_set_tap(s->audit, cluster_audit_line, s->cluster);
	return 0;
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
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->audit = audit_open(o->audit_path, err, errlen);
	if (!s->audit)
		return -1;
	env.audit = s->audit;
	env.metrics = s->metrics;
	s->router = router_new(&env);
	s->gate = gate_new(s->loop, s->admit, s->audit);
	s->tokens_timer.fd = -1;
	s->tokens_timer.ready = tokens_tick;
	s->tokens_timer.arg = s;
	s->tokens_timer.deadline = loop_now() + CFG_TOKEN_RECHECK_MS;
	s->tokens_recheck = tokens_recheck;
	if (!s->router || !s->gate || loop_add(s->loop, &s->tokens_timer) < 0) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->tokens_timer_on = 1;
	if (!(s->state = state_open(s, err, errlen)))
		return -1;
	if (server_install_init(&s->install, o->dist_dir, o->public_url, err, errlen) < 0)
		return -1;
	if (open_cluster(s, err, errlen) < 0)
		return -1;
	s->slack = server_slack_new(s, err, errlen);
	return s->slack || !err[0] ? 0 : -1;
}

/* The token file; in a fleet, the last copy of the fleet's store until
 * the store itself is read. */
static int load_tokens(struct server *s, char *err, size_t errlen)
{
	const struct server_opts *o = s->o;

	if (SRV_FLEET(o)) {
		if (cluster_load_tokens(o->tokens_cache, &s->db, err, errlen) < 0)
			return -1;
		log_info("the tokens are the fleet's store (--cluster): %d known from %s until it is "
			 "read", s->db.n, o->tokens_cache);
		return 0;
	}
	if (token_db_load_id(o->tokens_path, &s->db, &s->tokens_id, err, errlen) < 0)
		return -1;
	if (s->db.n == 0)
		log_warn("no tokens in %s yet: create one with 'nestd token new NAME'", o->tokens_path);
	return 0;
}

/* The TLS sessions, written beside the token file (the state directory,
 * unless --tokens put it elsewhere) when the server stops and read back
 * when it starts, so agents returning after a restart resume them rather
 * than each costing a full handshake. */
static void tls_sessions_keep(struct server *s, int save)
{
	const char *tp = s->o->tokens_path, *slash = strrchr(tp, '/');
	char path[4200], err[4400];
	int n;

	if (!s->tls)
		return;
	if (slash)
		fmt_snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - tp), tp, CFG_TLS_SESSIONS_FILE);
	else
		fmt_snprintf(path, sizeof(path), "%s", CFG_TLS_SESSIONS_FILE);
	n = save ? tls_sessions_save(s->tls, path, err, sizeof(err)) :
		   tls_sessions_load(s->tls, path, err, sizeof(err));
	if (n < 0)
		log_warn("TLS sessions: %s", err);
	else if (n > 0)
		log_info("TLS sessions: %d %s %s", n, save ? "written to" : "read from", path);
}

/* Descriptors: the soft limit raised to the hard one, and the connection
 * cap kept below it, with room for the listeners, the audit log, the
 * token file and the files being served. */
static int connection_cap(void)
{
	struct rlimit rl;
	long long cap, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return CFG_MAX_CONNECTIONS;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = rl;

		/* The kernel may refuse "unlimited" (fs.nr_open): then enough.
		 * prlimit, not setrlimit: the same system call, without musl's
		 * every-thread broadcast for pre-2.6.36 kernels (2 KB). */
		up.rlim_cur = rl.rlim_max;
		if (prlimit(0, RLIMIT_NOFILE, &up, NULL) < 0) {
			up.rlim_cur = (rlim_t)CFG_MAX_CONNECTIONS + CFG_FD_RESERVE;
			if (up.rlim_cur > rl.rlim_cur && up.rlim_cur < rl.rlim_max)
				prlimit(0, RLIMIT_NOFILE, &up, NULL);
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)CFG_MAX_CONNECTIONS * 2)
		return CFG_MAX_CONNECTIONS;
	reserve = (long long)rl.rlim_cur / 4 < CFG_FD_RESERVE ? (long long)rl.rlim_cur / 4
							       : CFG_FD_RESERVE;
	cap = (long long)rl.rlim_cur - reserve;
	if (cap > CFG_MAX_CONNECTIONS)
		cap = CFG_MAX_CONNECTIONS;
	if (cap < CFG_MAX_CONNECTIONS)
		log_info("descriptor limit %lld: at most %lld connections", (long long)rl.rlim_cur, cap);
	return cap > 1 ? (int)cap : 1;
}

/* 0 when the server may serve; else the exit status, the reason printed. */
static int server_start(struct server *s)
{
	const struct server_opts *o = s->o;
	char err[512];

	if (o->tls_cert[0]) {
		s->tls = tls_server_ctx(o->tls_cert, o->tls_key, err, sizeof(err));
		if (!s->tls) {
			out_printf(&out_stderr, "nestd server: TLS: %s\n", err);
			return 1;
		}
		tls_sessions_keep(s, 0);
	}
	if (load_tokens(s, err, sizeof(err)) < 0) {
		out_printf(&out_stderr, "nestd server: %s\n", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	s->max_conns = connection_cap();
	if (open_rooms(s, err, sizeof(err)) < 0 || listen_all(s, err, sizeof(err)) < 0) {
		out_printf(&out_stderr, "nestd server: %s\n", err);
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
	if (ran) {
		tls_sessions_keep(s, 1);
		log_info("server stopped");
	}
	close_listeners(s);
	for (i = 0; i < s->nls; i++)
		if (s->o->listen[i].kind == NET_UNIX)
			unlink(s->o->listen[i].path);
	if (SRV_CLUSTER(s))
		audit_set_tap(s->audit, NULL, NULL);
	cluster_close(SRV_CLUSTER(s));
	if (s->tokens_timer_on)
		loop_del(s->loop, &s->tokens_timer);
	state_close(s->state);   /* every agent is gone: all offline, written down */
	server_install_free(&s->install);
	server_slack_free(s->slack);
	router_free(s->router);
	gate_free(s->gate);
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
	s->install.self_fd = -1;   /* nothing opened yet, whatever start-up reaches */
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
		help_print(HELP_SERVER, &out_stdout);
		rc = 0;
		break;
	case SERVER_OPTS_RUN:
		if (server_opts_validate(o, err, sizeof(err)) == 0) {
			rc = server_run(o);
			break;
		}
		/* fall through */
	case SERVER_OPTS_BAD:
		out_printf(&out_stderr, "nestd server: %s\n", err);
		break;
	}
	free(o);
	return rc;
}
