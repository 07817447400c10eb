/* server_api.c - the operators' side of the server: the HTTP routes on the
 * same listeners the agents use.  It checks operator tokens, shows the
 * agents, and hands commands to the router, turning each outcome into an
 * HTTP answer; the pages and files beside the API come from
 * server_install.c and server_ui.c.
 *
 *   GET  /healthz                      liveness, no token
 *   GET  /metrics                      Prometheus text format, no token
 *   GET  /install.sh, /dist/NAME       the installer (server_install.c)
 *   GET  /, /app.js, /style.css        the dashboard (server_ui.c)
 *   GET  /api/me                       the operator: name, role, scope
 *   GET  /api/audit?agent=&operator=&limit=  the latest audit entries (unscoped
 *                                      operators): the fleet's stream with
 *                                      --cluster, else this server's --audit-log
 *   GET  /api/clients                  the agents seen, online or not (operator token)
 *   GET  /api/clients/NAME             one agent             (operator token)
 *   DELETE /api/clients/NAME           forget an offline one (server_api_agents.c)
 *   GET  /api/clients/NAME/history     its usage over time   (server_api_agents.c)
 *   POST /api/clients/NAME/commands    {"message":..., "payload":{...}}
 *   /api/session, /api/tokens          the dashboard's login, agent tokens (server_web.c)
 *
 * A command's answer: 200 with the agent's reply as it sent it, whichever
 * of the two reply shapes it is (docs/PROTOCOL.md, "Replies"); 404 no such
 * agent, 503 too many in flight or the server stopping, 502 not sent or
 * the agent went, 504 no answer in time.  Methods are case-sensitive; a
 * route answers another method with 405 and Allow.  In a fleet (--cluster)
 * the listing and the agents are the whole fleet's, each with its
 * "server"; what needs the other servers while they cannot be asked is 503
 * with the reason (?scope=local lists this server's own agents whatever
 * the fleet's state).
 *
 * Who may do what is server_authz.h's: an agent outside the operator's
 * scope is answered exactly as one that is not connected (404, and not
 * listed), a command of a kind the scope does not allow gets 403 with the
 * reason; both refusals are audited.  An operator is a Bearer token, or
 * the dashboard's session cookie with its header (server_web.c). */
#include "server_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "server_admit.h"
#include "server_audit.h"
#include "server_authz.h"
#include "server_cluster.h"
#include "server_gate.h"
#include "server_int.h"
#include "server_metrics.h"
#include "server_router.h"
#include "server_ui.h"
#include "server_api_agents.h"
#include "server_api_tokens.h"
#include "server_reply.h"
#include "server_web.h"
#include "num.h"

void server_api_timer(struct peer *op)
{
	char hdr[64];

	if (!op->refuse_retry)
		return;
	fmt_snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", op->refuse_retry);
	op->refuse_retry = 0;
	api_error(op->c, 429, hdr, "too many failed authentications from this address");
}

/* ---- commands ---- */

int server_api_outcome_status(enum router_outcome o)
{
	switch (o) {
	case ROUTER_OK:
	case ROUTER_ERROR:
		return 200;
	case ROUTER_TIMEOUT:
		return 504;
	case ROUTER_NOT_CONNECTED:
		return 404;
	case ROUTER_NOT_OFFERED:
		return 409;
	case ROUTER_SHUTDOWN:
	case ROUTER_BUSY:
	case ROUTER_CLUSTER_DOWN:
		return 503;
	case ROUTER_NO_MEMORY:
		return 500;
	default:
		return 502;
	}
}

/* The router's outcome as the HTTP answer; the status for the audit log.
 * From another server, the refusals come this way too, with their text. */
static int command_done(void *arg, enum router_outcome o, const char *text, size_t n)
{
	struct peer *op = arg;
	int status = server_api_outcome_status(o);

	op->waiting = NULL;
	if (o == ROUTER_SHUTDOWN)
		conn_http_last(op->c);
	if (status == 200)
		api_send(op->c, 200, "application/json", NULL, text, n);
	else
		api_error(op->c, status, status == 503 && o != ROUTER_SHUTDOWN ?
			      "Retry-After: 1\r\n" : NULL, text);
	return status;
}

/* A refusal as its HTTP status, in the router's words. */
static void command_refused(struct server *s, struct conn *c, const struct router_req *q,
			    enum router_outcome o)
{
	char msg[300];

	router_refusal(s->router, q, o, msg, sizeof(msg));
	switch (o) {
	case ROUTER_NOT_CONNECTED:
		api_error(c, 404, NULL, msg);
		break;
	case ROUTER_NOT_OFFERED:       /* the agent is there; the command is not for it */
		api_error(c, 409, NULL, msg);
		break;
	case ROUTER_BUSY:
		api_error(c, 503, "Retry-After: 1\r\n", msg);
		break;
	case ROUTER_CLUSTER_DOWN:
		api_error(c, 503, "Retry-After: 1\r\n", msg);
		break;
	case ROUTER_NO_MEMORY:
		api_error(c, 500, NULL, msg);
		break;
	default:
		api_error(c, 502, NULL, msg);
		break;
	}
}

/* Why the body is no command (docs/PROTOCOL.md, "Commands"), NULL when it
 * is one: its name into cmd, its payload (pointing into body) into q. */
static const char *read_command(const struct json *j, char *cmd, size_t cap,
				struct router_req *q)
{
	int tm, tp;

	if (json_type(j, 0) != JSON_OBJECT)
		return "body must be a JSON object";
	tm = json_get(j, 0, "message");
	if (tm < 0 || json_type(j, tm) != JSON_STRING)
		return "body needs a string \"message\" (the command name)";
	if (json_strcpy(j, tm, cmd, cap) < 0 || !router_command_valid(cmd))
		return "\"message\" must be a command name: lowercase letters, digits and _";
	tp = json_get(j, 0, "payload");
	if (tp >= 0 && json_type(j, tp) != JSON_OBJECT && json_type(j, tp) != JSON_NULL)
		return "\"payload\" must be a JSON object";
	if (tp >= 0 && json_type(j, tp) == JSON_OBJECT)
		q->payload = json_raw(j, tp, &q->payload_len);
	q->command = cmd;
	return NULL;
}

/* The connected agent of that name if op's scope reaches it, else NULL. */
static struct peer *visible_agent(struct server *s, const struct token_entry *op, const char *name)
{
	struct peer *ag = peers_find_agent(&s->peers, name);

	return ag && authz_agent_visible(&op->scope, ag->name, ag->owner) ? ag : NULL;
}

/* In a fleet, an agent not here that op's scope reaches: by the owner its
 * server's claim gives, else its token's (the fleet shares the tokens).
 * *known: a live claim says some server holds it. */
static int remote_in_scope(struct server *s, const struct token_entry *op, const char *name,
			   int *known)
{
	const char *owner;
	const struct token_entry *e;

	*known = 0;
	if (!SRV_CLUSTER(s) || peers_find_agent(&s->peers, name))
		return 0;
	owner = cluster_agent_owner(SRV_CLUSTER(s), name);
	*known = owner != NULL;
	if (!owner) {
		e = token_db_by_name(&s->db, name);
		owner = e && e->role == ROLE_AGENT ? e->owner : "";
	}
	return authz_agent_visible(&op->scope, name, owner);
}

/* A command the scope refuses, in the audit log like any other. */
static void audit_refusal(struct server *s, const struct router_req *q, int status,
			  const char *why)
{
	char *payload = q->payload ? strndup(q->payload, q->payload_len) : NULL;
	struct audit_command a = {
		.op = q->who, .address = q->from, .agent = q->agent, .command = q->command,
		.payload = payload, .outcome = "forbidden", .status = status, .error = why,
	};

	audit_command(s->audit, &a);
	free(payload);
}

/* 1 when op may send q; else 0 after answering (404 for an agent out of
 * scope, as for one not connected; 403 for a kind of command out of it). */
static int command_authorized(struct server *s, struct conn *c, const struct token_entry *op,
			      const struct router_req *q)
{
	char why[300];
	int known = 0;

	/* Out of scope or not connected: one answer, so that no command can
	 * tell the two apart.  Only the first is an attempt worth auditing. */
	if (!visible_agent(s, op, q->agent) && !remote_in_scope(s, op, q->agent, &known)) {
		if (peers_find_agent(&s->peers, q->agent) || known) {
			log_info("operator %s: %s on %s refused: agent outside the token's scope",
				 op->name, q->command, q->agent);
			audit_refusal(s, q, 404, "agent outside the token's scope");
		}
		api_not_connected(c, q->agent);
		return 0;
	}
	if (authz_command_allowed(&op->scope, q->command, why, sizeof(why))) {
		log_info("operator %s: %s on %s refused: %s", op->name, q->command, q->agent, why);
		audit_refusal(s, q, 403, why);
		api_error(c, 403, NULL, why);
		return 0;
	}
	return 1;
}

static void post_command(struct server *s, struct conn *c, const struct token_entry *op,
			 const char *name, const char *body, size_t n)
{
	struct peer *opp = c->owner;
	struct router_req q = { .agent = name, .who = op->name, .from = c->peer };
	enum router_outcome refused;
	struct json j;
	char err[160], msg[220], cmd[64];
	const char *why;

	if (json_parse(&j, body, n, err, sizeof(err)) < 0) {
		fmt_snprintf(msg, sizeof(msg), "body is not valid JSON: %s", err);
		api_error(c, 400, NULL, msg);
		return;
	}
	why = read_command(&j, cmd, sizeof(cmd), &q);
	if (why)
		api_error(c, 400, NULL, why);
	else if (!command_authorized(s, c, op, &q))
		;   /* answered and audited */
	else if (!(opp->waiting = router_post(s->router, &q, command_done, opp, &refused)))
		command_refused(s, c, &q, refused);
	json_free(&j);
}

void server_api_gone(struct peer *op)
{
	if (op->waiting)
		router_cancel(op->waiting);
	op->waiting = NULL;
	if (SRV_CLUSTER(op->srv))
		cluster_audit_cancel(SRV_CLUSTER(op->srv), op);
}

/* ---- routes ---- */

/* /api/clients[/NAME[/commands]], path without the query. */
static void clients_route(struct server *s, struct conn *c, const struct http_req *req,
			  struct http_span path, const char *body, size_t n)
{
	static const char prefix[] = "/api/clients";
	const size_t pl = sizeof(prefix) - 1;
	const struct token_entry *op;
	char name[TOKEN_NAME_MAX + 1];
	const char *slash;
	size_t nl;

	if (path.n < pl || memcmp(path.p, prefix, pl) != 0 || (path.n > pl && path.p[pl] != '/')) {
		api_error(c, 404, NULL, "not found");
		return;
	}
	op = api_operator(s, c, req);
	if (!op)
		return;
	path.p += pl;
	path.n -= pl;
	if (path.n <= 1) {            /* /api/clients or /api/clients/ */
		api_list_agents(s, c, req, op);
		return;
	}
	slash = memchr(path.p + 1, '/', path.n - 1);
	nl = slash ? (size_t)(slash - path.p - 1) : path.n - 1;
	if (nl == 0 || nl > TOKEN_NAME_MAX) {
		api_error(c, 404, NULL, "not found");
		return;
	}
	memcpy(name, path.p + 1, nl);
	name[nl] = '\0';
	path.p += 1 + nl;
	path.n -= 1 + nl;
	if (!token_name_valid(name))
		api_error(c, 404, NULL, "not found");
	else if (!slash)
		api_agent(s, c, req, op, name);
	else if (http_span_eq(&path, "/history"))
		api_agent_history(s, c, req, op, name);
	else if (!http_span_eq(&path, "/commands"))
		api_error(c, 404, NULL, "not found");
	else if (!http_span_eq(&req->method, "POST"))
		api_error(c, 405, "Allow: POST\r\n", "method not allowed");
	else
		post_command(s, c, op, name, body, n);
}

/* ---- the audit log ---- */

static void audit_done(void *arg, int status, const char *body, size_t n)
{
	struct peer *op = arg;

	conn_http_respond(op->c, status, "application/json", NULL, body, n);
}

/* The filters; 0, or -1 after a 400. */
static int audit_filters(struct conn *c, const struct http_req *req, char *agent, char *oper,
			 int *limit)
{
	char lim[16] = "";
	int ra = http_query_param(req, "agent", agent, TOKEN_NAME_MAX + 1);
	int ro = http_query_param(req, "operator", oper, TOKEN_NAME_MAX + 1);
	int rl = http_query_param(req, "limit", lim, sizeof(lim));
	char *end;
	long l = rl > 0 ? num_strtol(lim, &end) : CFG_AUDIT_LIMIT;

	if (ra < 0 || ro < 0 || rl < 0 || (ra > 0 && !token_name_valid(agent)) ||
	    (ro > 0 && !token_name_valid(oper)) || (rl > 0 && (*end || l < 1 || l > CFG_AUDIT_LIMIT_MAX))) {
		api_error(c, 400, NULL, "agent= and operator= take names, limit= 1 to "
			      CFG_STR(CFG_AUDIT_LIMIT_MAX));
		return -1;
	}
	if (ra <= 0)
		agent[0] = '\0';
	if (ro <= 0)
		oper[0] = '\0';
	*limit = (int)l;
	return 0;
}

/* GET /api/audit: the latest entries, oldest first. */
static void show_audit(struct server *s, struct conn *c, const struct http_req *req)
{
	const struct token_entry *op = api_operator(s, c, req);
	char agent[TOKEN_NAME_MAX + 1], oper[TOKEN_NAME_MAX + 1], why[400];
	int limit;
	struct buf b;
	struct jw w;

	if (!op || api_refuse_unless_get(c, req) || audit_filters(c, req, agent, oper, &limit) < 0)
		return;
	if (!token_scope_is_all(&op->scope)) {
		api_error(c, 403, NULL, "the audit log is for operators whose scope is everything");
		return;
	}
	if (SRV_CLUSTER(s)) {
		if (cluster_audit_query(SRV_CLUSTER(s), agent, oper, limit, audit_done, c->owner, why,
					sizeof(why)) < 0)
			api_error(c, 503, "Retry-After: 1\r\n", why);
		return;
	}
	if (!s->o->audit_path[0]) {
		api_error(c, 404, NULL, "this server keeps no audit log (--audit-log FILE)");
		return;
	}
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_arr(&w);
	if (audit_tail(s->o->audit_path, agent[0] ? agent : NULL, oper[0] ? oper : NULL, limit, &w,
		       why, sizeof(why)) < 0) {
		api_error(c, 500, NULL, why);
	} else {
		jw_arr_end(&w);
		buf_putc(&b, '\n');
		api_json(c, 200, NULL, &b);
	}
	buf_free(&b);
}

/* GET /api/me: who the token is and what its scope reaches, for the
 * dashboard to offer only what will work. */
static void show_me(struct server *s, struct conn *c, const struct http_req *req)
{
	const struct token_entry *op;
	char scope[CFG_SCOPE_MAX + 1];
	const char *p;
	struct buf b;
	struct jw w;
	unsigned k;

	if (!(op = api_operator(s, c, req)) || api_refuse_unless_get(c, req))
		return;
	token_scope_format(&op->scope, scope, sizeof(scope));
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "name", op->name);
	jw_kstr(&w, "role", token_role_name(op->role));
	jw_kstr(&w, "scope", scope[0] ? scope : NULL);
	jw_key(&w, "agents");
	if (!op->scope.agents[0]) {
		jw_null(&w);
	} else {
		jw_arr(&w);
		for (p = op->scope.agents; *p;) {
			size_t l = strcspn(p, ",");

			jw_strn(&w, p, l);
			p += l + (p[l] == ',');
		}
		jw_arr_end(&w);
	}
	jw_key(&w, "can");
	jw_arr(&w);
	for (k = TOKEN_CAN_READ; k <= TOKEN_CAN_TOKENS; k <<= 1)
		if (op->scope.can & k) {
			char kind[16];

			token_scope_kinds(k, kind, sizeof(kind));
			jw_str(&w, kind);
		}
	jw_arr_end(&w);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	api_json(c, 200, NULL, &b);
	buf_free(&b);
}

static void metrics_page(struct server *s, struct conn *c)
{
	struct metrics_gauges g = {
		.agents = s->peers.nagents, .connections = s->peers.nconn,
		.auth_failures = admit_failures(s->admit),
	};
	struct buf b;

	tls_sessions_stats(s->tls, &g.tls_resumed, &g.tls_unknown);
	buf_init(&b, 0);
	metrics_text(s->metrics, &g, &b);
	if (SRV_CLUSTER(s))
		cluster_metrics(SRV_CLUSTER(s), &b);
	conn_http_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
	buf_free(&b);
}

/* Alive: 200.  In a fleet, "degraded" while the other servers cannot be
 * asked, with the reason; this server's own agents are served anyway. */
static void healthz(struct server *s, struct conn *c)
{
	struct cluster_status st;
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	if (SRV_CLUSTER(s))
		cluster_status(SRV_CLUSTER(s), &st);
	jw_kstr(&w, "status", !SRV_CLUSTER(s) || st.ready ? "ok" : "degraded");
	jw_kint(&w, "agents", s->peers.nagents);
	if (SRV_CLUSTER(s)) {
		jw_key(&w, "cluster");
		jw_obj(&w);
		jw_kstr(&w, "node", st.node);
		jw_kstr(&w, "link", st.link_up ? "up" : "down");
		jw_kbool(&w, "ready", st.ready);
		jw_kint(&w, "servers", st.nodes);
		jw_kint(&w, "agents", (long long)st.agents);
		if (!st.ready)
			jw_kstr(&w, "reason", st.why);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	api_json(c, 200, NULL, &b);
	buf_free(&b);
}

/* /api/tokens[/NAME] (server_api_tokens.c): 1 when it answered, 0 when
 * the path is not one of those. */
static int tokens_route(struct server *s, struct conn *c, const struct http_req *req,
			const struct http_span *path, const char *body, size_t n)
{
	static const char tokens[] = "/api/tokens";
	const struct token_entry *op;
	char name[TOKEN_NAME_MAX + 1];
	size_t tl = sizeof(tokens) - 1;

	if (path->n < tl || memcmp(path->p, tokens, tl) || (path->n > tl && path->p[tl] != '/'))
		return 0;
	if (!(op = api_operator(s, c, req)))
		return 1;
	if (path->n <= tl + 1) {
		api_tokens(s, c, req, op, NULL, body, n);
	} else if (path->n - tl - 1 > TOKEN_NAME_MAX || memchr(path->p + tl + 1, '/', path->n - tl - 1)) {
		api_error(c, 404, NULL, "not found");
	} else {
		memcpy(name, path->p + tl + 1, path->n - tl - 1);
		name[path->n - tl - 1] = '\0';
		if (token_name_valid(name))
			api_tokens(s, c, req, op, name, body, n);
		else
			api_error(c, 404, NULL, "not found");
	}
	return 1;
}

void server_api_request(struct conn *c, const struct http_req *req, const char *body, size_t n)
{
	struct peer *p = c->owner;
	struct server *s = p->srv;
	struct http_span path = req->target;
	const char *q = memchr(path.p, '?', path.n);

	metrics_http_request(s->metrics);
	p->gzip_ok = http_accepts_gzip(req->h, req->nh);
	if (q)
		path.n = (size_t)(q - path.p);
	if (http_span_eq(&path, "/healthz")) {
		if (!api_refuse_unless_get(c, req))
			healthz(s, c);
	} else if (http_span_eq(&path, "/metrics")) {
		if (!api_refuse_unless_get(c, req))
			metrics_page(s, c);
	} else if (!server_install_route(&s->install, c, req, &path) &&
		   !(s->o->ui && server_ui_route(c, req, &path))) {
		if (http_span_eq(&path, "/api/me"))
			show_me(s, c, req);
		else if (http_span_eq(&path, "/api/audit"))
			show_audit(s, c, req);
		else if (!web_route(s, c, req, &path) && !tokens_route(s, c, req, &path, body, n))
			clients_route(s, c, req, path, body, n);
	}
}
