/* server_api.c - the operators' side of the server: the HTTP API on the
 * same listeners the agents use, command routing to agents, the audit log
 * and the metrics.
 *
 *   GET  /healthz                      liveness, no token
 *   GET  /metrics                      Prometheus text format, no token
 *   GET  /api/clients                  connected agents      (operator token)
 *   GET  /api/clients/NAME             one agent             (operator token)
 *   POST /api/clients/NAME/commands    {"message":..., "payload":{...}}
 *
 * A command gets a server-assigned id ("c<N>") and waits in its agent's
 * queue, oldest first.  A reply with an id answers that command; a reply
 * without one answers the oldest (what the reference client sends).  A
 * command whose operator gave up (timeout, hang-up) stays queued as an
 * orphan until its agent answers, so later id-less replies still match the
 * right commands. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "server_int.h"

struct pending {
	struct pending *prev, *next;     /* in the agent's queue */
	struct peer *agent;
	struct peer *op;                 /* NULL once the operator is gone */
	char id[24];
	char cmd[64];
	char opname[TOKEN_NAME_MAX + 1];
	char opaddr[64];
	char *payload;                   /* operator's payload JSON, for the audit log */
	int64_t started;                 /* loop_now_us() */
};

#define NBUCKETS 16
static const double bucket_le[NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120,
};

enum result { RES_OK, RES_ERROR, RES_TIMEOUT, RES_AGENT_GONE, RES_N };
static const char *const result_name[RES_N] = { "ok", "error", "timeout", "agent_gone" };

#define MAX_CMD_NAMES 64

struct auth_slot {
	char addr[48];
	double tokens;      /* failures still allowed */
	int64_t at;         /* when tokens was computed */
};

struct api {
	int audit_fd;
	unsigned long long next_id;
	/* metrics */
	struct { char name[40]; unsigned long long n[RES_N]; } cmds[MAX_CMD_NAMES + 1];
	int ncmds;
	unsigned long long hist[NBUCKETS + 1];
	double hist_sum;
	unsigned long long hist_count;
	unsigned long long http_requests;
	struct auth_slot *auth;
};

static struct api *api_of(struct server *s)
{
	return s->api;
}

int server_api_init(struct server *s, char *err, size_t errlen)
{
	struct api *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->auth = calloc(CFG_AUTH_TABLE, sizeof(*a->auth));
	if (!a->auth) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->audit_fd = -1;
	if (s->audit_path[0]) {
		a->audit_fd = open(s->audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (a->audit_fd < 0) {
			snprintf(err, errlen, "cannot open audit log %s: %s", s->audit_path,
				 strerror(errno));
			free(a->auth);
			free(a);
			return -1;
		}
	}
	s->api = a;
	return 0;
}

void server_api_free(struct server *s)
{
	struct api *a = api_of(s);

	if (!a)
		return;
	if (a->audit_fd >= 0)
		close(a->audit_fd);
	free(a->auth);
	free(a);
	s->api = NULL;
}

/* ---- audit log: one JSON object per line, one write(2) per line ---- */

static void audit_begin(struct jw *w, struct buf *b, const char *event)
{
	char ts[40];
	struct timespec t;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	log_fmt_tm(ts, sizeof(ts), &tm, 'T');
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", t.tv_nsec / 1000000);
	buf_init(b, 1u << 20);
	jw_init(w, b);
	jw_obj(w);
	jw_kstr(w, "time", ts);
	jw_kstr(w, "event", event);
}

static void audit_end(struct server *s, struct jw *w, struct buf *b)
{
	struct api *a = api_of(s);

	jw_obj_end(w);
	if (!jw_error(w) && buf_putc(b, '\n') == 0 && a->audit_fd >= 0) {
		ssize_t r = write(a->audit_fd, b->p, b->len);

		if (r != (ssize_t)b->len)
			log_error("audit log %s: write failed: %s", s->audit_path,
				  r < 0 ? strerror(errno) : "short write");
	}
	buf_free(b);
}

void server_audit_auth_failure(struct server *s, const char *kind, const char *addr,
			       const char *reason)
{
	struct jw w;
	struct buf b;

	if (!s->api || api_of(s)->audit_fd < 0)
		return;
	audit_begin(&w, &b, "auth_failure");
	jw_kstr(&w, "kind", kind);
	jw_kstr(&w, "address", addr);
	jw_kstr(&w, "reason", reason);
	audit_end(s, &w, &b);
}

void server_audit_agent(struct server *s, const char *event, const struct peer *p,
			const char *why)
{
	struct jw w;
	struct buf b;

	if (!s->api || api_of(s)->audit_fd < 0)
		return;
	audit_begin(&w, &b, event);
	jw_kstr(&w, "agent", p->name);
	jw_kstr(&w, "address", p->c->peer);
	jw_kstr(&w, "version", p->version);
	if (why)
		jw_kstr(&w, "reason", why);
	audit_end(s, &w, &b);
}

static void audit_command(struct server *s, const struct pending *pd, const char *outcome,
			  int status, const char *error)
{
	struct jw w;
	struct buf b;

	if (api_of(s)->audit_fd < 0)
		return;
	audit_begin(&w, &b, "command");
	jw_kstr(&w, "operator", pd->opname);
	jw_kstr(&w, "address", pd->opaddr);
	jw_kstr(&w, "agent", pd->agent ? pd->agent->name : "");
	jw_kstr(&w, "command", pd->cmd);
	jw_kstr(&w, "id", pd->id);
	jw_key(&w, "payload");
	if (pd->payload)
		jw_raw(&w, pd->payload, strlen(pd->payload));
	else
		jw_null(&w);
	jw_kstr(&w, "outcome", outcome);
	jw_kint(&w, "http_status", status);
	if (error)
		jw_kstr(&w, "error", error);
	jw_kint(&w, "duration_ms", (loop_now_us() - pd->started) / 1000);
	audit_end(s, &w, &b);
}

/* ---- the per-address budget for failed authentications ---- */

static void addr_key(const char *peer, char *out, size_t n)
{
	const char *colon;
	size_t l;

	/* "1.2.3.4:5678" and "[::1]:5678" lose the port; "unix:uid=N" stays
	 * whole, so each local user has a budget of its own. */
	colon = strncmp(peer, "unix", 4) == 0 ? NULL : strrchr(peer, ':');
	l = colon && colon != peer ? (size_t)(colon - peer) : strlen(peer);
	if (l >= n)
		l = n - 1;
	memcpy(out, peer, l);
	out[l] = '\0';
}

static struct auth_slot *auth_slot(struct api *a, const char *peer, int create)
{
	char key[48];
	unsigned h = 2166136261u;
	const char *p;
	int i, best = -1;
	int64_t oldest = 0;

	addr_key(peer, key, sizeof(key));
	for (p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	/* Linear probing over a few slots; the stalest one is reused. */
	for (i = 0; i < 8; i++) {
		struct auth_slot *s = &a->auth[(h + (unsigned)i) % CFG_AUTH_TABLE];

		if (strcmp(s->addr, key) == 0)
			return s;
		if (best < 0 || s->at < oldest) {
			best = (int)((h + (unsigned)i) % CFG_AUTH_TABLE);
			oldest = s->at;
		}
	}
	if (!create)
		return NULL;
	snprintf(a->auth[best].addr, sizeof(a->auth[best].addr), "%s", key);
	a->auth[best].tokens = CFG_AUTH_FAIL_BURST;
	a->auth[best].at = loop_now();
	return &a->auth[best];
}

static void refill(struct auth_slot *s)
{
	int64_t now = loop_now();

	s->tokens += (double)(now - s->at) / CFG_AUTH_FAIL_REFILL_MS;
	if (s->tokens > CFG_AUTH_FAIL_BURST)
		s->tokens = CFG_AUTH_FAIL_BURST;
	s->at = now;
}

/* Seconds the address must wait before it may try again, 0 if it may now. */
int server_auth_blocked(struct server *s, const char *peer)
{
	struct auth_slot *slot = auth_slot(api_of(s), peer, 0);

	if (!slot)
		return 0;
	refill(slot);
	if (slot->tokens >= 1)
		return 0;
	return (int)((1 - slot->tokens) * CFG_AUTH_FAIL_REFILL_MS / 1000) + 1;
}

void server_auth_failed(struct server *s, const char *peer)
{
	struct auth_slot *slot = auth_slot(api_of(s), peer, 1);

	refill(slot);
	slot->tokens -= 1;
	if (slot->tokens < -CFG_AUTH_FAIL_BURST)
		slot->tokens = -CFG_AUTH_FAIL_BURST;
	s->auth_failures++;
}

/* ---- metrics ---- */

static void count_command(struct server *s, const char *cmd, enum result r, int64_t started)
{
	struct api *a = api_of(s);
	double secs = (double)(loop_now_us() - started) / 1e6;
	int i;

	for (i = 0; i < a->ncmds; i++)
		if (strcmp(a->cmds[i].name, cmd) == 0)
			break;
	if (i == a->ncmds) {
		if (a->ncmds < MAX_CMD_NAMES) {
			snprintf(a->cmds[i].name, sizeof(a->cmds[i].name), "%s", cmd);
			a->ncmds++;
		} else {
			i = MAX_CMD_NAMES;    /* everything past the cap is "other" */
			snprintf(a->cmds[i].name, sizeof(a->cmds[i].name), "other");
		}
	}
	a->cmds[i].n[r]++;
	if (r == RES_OK || r == RES_ERROR) {
		int b;

		for (b = 0; b < NBUCKETS && secs > bucket_le[b]; b++)
			;
		a->hist[b]++;
		a->hist_sum += secs;
		a->hist_count++;
	}
}

static void metrics(struct server *s, struct buf *b)
{
	struct api *a = api_of(s);
	unsigned long long cum = 0;
	int i, r;

	buf_printf(b, "# HELP nestd_agents_connected Agents currently connected and authenticated.\n"
		   "# TYPE nestd_agents_connected gauge\nnestd_agents_connected %d\n", s->nagents);
	buf_printf(b, "# HELP nestd_connections Open connections of every kind.\n"
		   "# TYPE nestd_connections gauge\nnestd_connections %d\n", s->nconn);
	buf_printf(b, "# HELP nestd_auth_failures_total Failed authentications (agents and operators).\n"
		   "# TYPE nestd_auth_failures_total counter\nnestd_auth_failures_total %llu\n",
		   s->auth_failures);
	buf_printf(b, "# HELP nestd_http_requests_total HTTP requests served.\n"
		   "# TYPE nestd_http_requests_total counter\nnestd_http_requests_total %llu\n",
		   a->http_requests);
	buf_printf(b, "# HELP nestd_commands_total Commands routed to agents, by command and result.\n"
		   "# TYPE nestd_commands_total counter\n");
	for (i = 0; i <= MAX_CMD_NAMES; i++) {
		if (!a->cmds[i].name[0])
			continue;
		for (r = 0; r < RES_N; r++)
			buf_printf(b, "nestd_commands_total{command=\"%s\",result=\"%s\"} %llu\n",
				   a->cmds[i].name, result_name[r], a->cmds[i].n[r]);
	}
	buf_printf(b, "# HELP nestd_command_duration_seconds Time from an operator's request to its agent's reply.\n"
		   "# TYPE nestd_command_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += a->hist[i];
		buf_printf(b, "nestd_command_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[i], cum);
	}
	cum += a->hist[NBUCKETS];
	buf_printf(b, "nestd_command_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	buf_printf(b, "nestd_command_duration_seconds_sum %.6f\nnestd_command_duration_seconds_count %llu\n",
		   a->hist_sum, a->hist_count);
}

/* ---- HTTP helpers ---- */

static void respond_json(struct conn *c, int status, const char *extra, struct buf *b)
{
	conn_http_respond(c, status, "application/json", extra, b->p ? b->p : "", b->len);
}

static void respond_error(struct conn *c, int status, const char *extra, const char *msg)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "error", msg);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	respond_json(c, status, extra, &b);
	buf_free(&b);
}

static int span_is(const struct http_span *s, const char *lit)
{
	return s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

/* Checks the Bearer token; answers 401/429 itself and returns NULL. */
static const struct token_entry *operator_auth(struct server *s, struct conn *c,
					       const struct http_req *req)
{
	const struct http_span *h = http_get(req->h, req->nh, "Authorization");
	const struct token_entry *e = NULL;
	const char *why;
	char tok[TOKEN_LEN + 1];
	int wait = server_auth_blocked(s, c->peer);

	if (wait) {
		char hdr[64];

		snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", wait);
		log_warn("operator authentication from %s refused: too many failures", c->peer);
		respond_error(c, 429, hdr, "too many failed authentications from this address");
		return NULL;
	}
	if (!h) {
		why = "missing Authorization: Bearer token";
	} else if (h->n != 7 + TOKEN_LEN || strncasecmp(h->p, "Bearer ", 7) != 0) {
		why = "invalid token format";
	} else {
		memcpy(tok, h->p + 7, TOKEN_LEN);
		tok[TOKEN_LEN] = '\0';
		switch (token_check(tok, TOKEN_LEN)) {
		case TOKEN_BAD_FORM: why = "invalid token format"; break;
		case TOKEN_BAD_SUM: why = "invalid token checksum (mistyped token?)"; break;
		default:
			e = token_db_find(&s->db, tok, TOKEN_LEN);
			why = !e ? "unknown or revoked token" :
			      e->role != ROLE_OPERATOR ? "agent tokens cannot be used as operators" : NULL;
		}
		memset(tok, 0, sizeof(tok));
	}
	if (why) {
		/* A missing header is not a guess; everything else counts. */
		if (h)
			server_auth_failed(s, c->peer);
		log_warn("operator authentication failed from %s: %s", c->peer, why);
		server_audit_auth_failure(s, "operator", c->peer, why);
		respond_error(c, 401, "WWW-Authenticate: Bearer realm=\"nestd\"\r\n", why);
		return NULL;
	}
	return e;
}

static void agent_json(struct jw *w, const struct peer *p)
{
	jw_obj(w);
	jw_kstr(w, "name", p->name);
	jw_kstr(w, "version", p->version);
	jw_kstr(w, "hostname", p->hostname);
	jw_kstr(w, "address", p->c->peer);
	jw_kint(w, "connected_since", p->since);
	jw_kint(w, "inflight", p->inflight);
	jw_kstr(w, "services", p->backend);
	jw_key(w, "commands");
	if (p->commands)
		jw_raw(w, p->commands, strlen(p->commands));
	else
		jw_null(w);
	jw_obj_end(w);
}

static int valid_command_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 48)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static void pending_unlink(struct pending *pd)
{
	struct peer *ag = pd->agent;

	if (!ag)
		return;
	if (pd->prev)
		pd->prev->next = pd->next;
	else
		ag->pend_head = pd->next;
	if (pd->next)
		pd->next->prev = pd->prev;
	else
		ag->pend_tail = pd->prev;
	pd->prev = pd->next = NULL;
	ag->inflight--;
}

static void pending_free(struct pending *pd)
{
	free(pd->payload);
	free(pd);
}

static void post_command(struct server *s, struct conn *c, const struct token_entry *op,
			 const char *name, const char *body, size_t n)
{
	struct api *a = api_of(s);
	struct peer *agent = server_find_agent(s, name), *opp = c->owner;
	struct json j;
	char err[160], cmd[64];
	int tm, tp;
	struct pending *pd;
	struct buf b;
	struct jw w;
	long long cmd_timeout = s->command_timeout_ms;

	if (json_parse(&j, body, n, err, sizeof(err)) < 0) {
		char msg[220];

		snprintf(msg, sizeof(msg), "body is not valid JSON: %s", err);
		respond_error(c, 400, NULL, msg);
		return;
	}
	if (json_type(&j, 0) != JSON_OBJECT) {
		respond_error(c, 400, NULL, "body must be a JSON object");
		goto out;
	}
	tm = json_get(&j, 0, "message");
	if (tm < 0 || json_type(&j, tm) != JSON_STRING) {
		respond_error(c, 400, NULL, "body needs a string \"message\" (the command name)");
		goto out;
	}
	if (json_strcpy(&j, tm, cmd, sizeof(cmd)) < 0 || !valid_command_name(cmd)) {
		respond_error(c, 400, NULL, "\"message\" must be a command name: lowercase letters, digits and _");
		goto out;
	}
	tp = json_get(&j, 0, "payload");
	if (tp >= 0 && json_type(&j, tp) != JSON_OBJECT && json_type(&j, tp) != JSON_NULL) {
		respond_error(c, 400, NULL, "\"payload\" must be a JSON object");
		goto out;
	}
	if (!agent) {
		snprintf(err, sizeof(err), "agent '%s' is not connected", name);
		respond_error(c, 404, NULL, err);
		goto out;
	}
	if (agent->inflight >= CFG_MAX_INFLIGHT) {
		respond_error(c, 503, "Retry-After: 1\r\n", "too many commands in flight for this agent");
		goto out;
	}
	pd = calloc(1, sizeof(*pd));
	if (!pd) {
		respond_error(c, 500, NULL, "out of memory");
		goto out;
	}
	snprintf(pd->id, sizeof(pd->id), "c%llu", ++a->next_id);
	snprintf(pd->cmd, sizeof(pd->cmd), "%s", cmd);
	snprintf(pd->opname, sizeof(pd->opname), "%s", op->name);
	snprintf(pd->opaddr, sizeof(pd->opaddr), "%s", c->peer);
	pd->started = loop_now_us();
	if (tp >= 0 && json_type(&j, tp) == JSON_OBJECT) {
		size_t rl;
		const char *raw = json_raw(&j, tp, &rl);

		pd->payload = malloc(rl + 1);
		if (pd->payload) {
			memcpy(pd->payload, raw, rl);
			pd->payload[rl] = '\0';
		}
		if (strcmp(cmd, "exec_command") == 0) {
			int tt = json_get(&j, tp, "timeout");
			double secs = CFG_EXEC_TIMEOUT_S;

			if (tt >= 0 && json_num(&j, tt, &secs) == 0 && secs > 0 && secs < 86400)
				;
			else
				secs = CFG_EXEC_TIMEOUT_S;
			if ((long long)(secs * 1000) + CFG_EXEC_MARGIN_MS > cmd_timeout)
				cmd_timeout = (long long)(secs * 1000) + CFG_EXEC_MARGIN_MS;
		}
	} else if (strcmp(cmd, "exec_command") == 0 &&
		   CFG_EXEC_TIMEOUT_S * 1000LL + CFG_EXEC_MARGIN_MS > cmd_timeout) {
		cmd_timeout = CFG_EXEC_TIMEOUT_S * 1000LL + CFG_EXEC_MARGIN_MS;
	}
	/* {"status":"command","message":M,"id":ID,"payload":P} */
	buf_init(&b, CFG_MAX_SERVER_MESSAGE);
	proto_begin(&w, &b, "command", cmd, pd->id, strlen(pd->id));
	if (pd->payload) {
		jw_key(&w, "payload");
		jw_raw(&w, pd->payload, strlen(pd->payload));
	}
	proto_end(&w);
	if (jw_error(&w) || conn_send_text(agent->c, b.p, b.len) < 0) {
		buf_free(&b);
		respond_error(c, 502, NULL, "could not send the command to the agent");
		pending_free(pd);
		goto out;
	}
	buf_free(&b);
	pd->agent = agent;
	pd->op = opp;
	pd->prev = agent->pend_tail;
	if (agent->pend_tail)
		agent->pend_tail->next = pd;
	else
		agent->pend_head = pd;
	agent->pend_tail = pd;
	agent->inflight++;
	opp->waiting = pd;
	conn_set_timer(c, loop_now() + cmd_timeout);
	log_debug("%s -> %s: %s (%s)", op->name, agent->name, cmd, pd->id);
out:
	json_free(&j);
}

void server_agent_reply(struct peer *agent, const struct nest_msg *m, const char *text, size_t n)
{
	struct server *s = agent->srv;
	struct pending *pd = agent->pend_head;
	int err = m->status == NS_COMMAND_RESPONSE_ERROR;

	if (m->t_id >= 0) {
		for (; pd; pd = pd->next)
			if (json_str_eq(&m->j, m->t_id, pd->id))
				break;
	}
	if (!pd) {
		char what[64] = "";

		if (m->t_message >= 0)
			json_strcpy(&m->j, m->t_message, what, sizeof(what));
		log_warn("%s: reply %s matches no command in flight; dropped", agent->name, what);
		return;
	}
	pending_unlink(pd);
	count_command(s, pd->cmd, err ? RES_ERROR : RES_OK, pd->started);
	if (pd->op) {
		struct conn *oc = pd->op->c;

		pd->op->waiting = NULL;
		conn_set_timer(oc, 0);
		conn_http_respond(oc, 200, "application/json", NULL, text, n);
		audit_command(s, pd, err ? "error" : "ok", 200, NULL);
	} else {
		audit_command(s, pd, err ? "late_error" : "late_ok", 0, "operator no longer waiting");
	}
	pending_free(pd);
}

void server_agent_gone(struct peer *agent, const char *why)
{
	struct server *s = agent->srv;
	struct pending *pd;
	char msg[300];

	s->nagents--;
	server_audit_agent(s, "agent_disconnected", agent, why);
	snprintf(msg, sizeof(msg), "agent disconnected before answering (%s)", why);
	while ((pd = agent->pend_head)) {
		pending_unlink(pd);
		count_command(s, pd->cmd, RES_AGENT_GONE, pd->started);
		if (pd->op) {
			pd->op->waiting = NULL;
			conn_set_timer(pd->op->c, 0);
			respond_error(pd->op->c, 502, NULL, msg);
			audit_command(s, pd, "agent_gone", 502, why);
		}
		pending_free(pd);
	}
}

void server_api_gone(struct peer *op)
{
	if (op->waiting) {
		op->waiting->op = NULL;   /* stays queued until its agent answers */
		op->waiting = NULL;
	}
}

void server_peer_timer(struct peer *op)
{
	struct server *s = op->srv;
	struct pending *pd = op->waiting;
	char msg[160];

	if (!pd)
		return;
	op->waiting = NULL;
	pd->op = NULL;
	count_command(s, pd->cmd, RES_TIMEOUT, pd->started);
	snprintf(msg, sizeof(msg), "agent '%s' did not answer %s in time",
		 pd->agent ? pd->agent->name : "?", pd->cmd);
	log_warn("%s", msg);
	audit_command(s, pd, "timeout", 504, msg);
	respond_error(op->c, 504, NULL, msg);
}

void server_api_request(struct conn *c, const struct http_req *req, const char *body, size_t n)
{
	struct peer *p = c->owner;
	struct server *s = p->srv;
	struct http_span path = req->target;
	const struct token_entry *op;
	const char *q = memchr(path.p, '?', path.n);
	static const char prefix[] = "/api/clients";
	struct buf b;
	struct jw w;

	api_of(s)->http_requests++;
	p->kind = PEER_HTTP;
	if (q)
		path.n = (size_t)(q - path.p);
	buf_init(&b, 0);
	if (span_is(&path, "/healthz")) {
		buf_printf(&b, "{\"status\":\"ok\",\"agents\":%d}\n", s->nagents);
		respond_json(c, 200, NULL, &b);
		goto out;
	}
	if (span_is(&path, "/metrics")) {
		metrics(s, &b);
		conn_http_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
		goto out;
	}
	if (server_extra_route(s, c, req, &path))
		goto out;
	if (path.n < sizeof(prefix) - 1 || memcmp(path.p, prefix, sizeof(prefix) - 1) != 0 ||
	    (path.n > sizeof(prefix) - 1 && path.p[sizeof(prefix) - 1] != '/')) {
		respond_error(c, 404, NULL, "not found");
		goto out;
	}
	op = operator_auth(s, c, req);
	if (!op)
		goto out;
	path.p += sizeof(prefix) - 1;
	path.n -= sizeof(prefix) - 1;
	if (path.n <= 1) {            /* /api/clients or /api/clients/ */
		struct peer *ag;

		if (!span_is(&req->method, "GET") && !span_is(&req->method, "HEAD")) {
			respond_error(c, 405, "Allow: GET\r\n", "method not allowed");
			goto out;
		}
		jw_init(&w, &b);
		jw_arr(&w);
		for (ag = s->peers; ag; ag = ag->next)
			if (ag->kind == PEER_AGENT)
				agent_json(&w, ag);
		jw_arr_end(&w);
		buf_putc(&b, '\n');
		respond_json(c, 200, NULL, &b);
		goto out;
	}
	{
		/* /NAME or /NAME/commands */
		char name[TOKEN_NAME_MAX + 1];
		const char *slash = memchr(path.p + 1, '/', path.n - 1);
		size_t nl = slash ? (size_t)(slash - path.p - 1) : path.n - 1;
		struct http_span rest = { slash, slash ? path.n - (size_t)(slash - path.p) : 0 };

		if (nl == 0 || nl > TOKEN_NAME_MAX) {
			respond_error(c, 404, NULL, "not found");
			goto out;
		}
		memcpy(name, path.p + 1, nl);
		name[nl] = '\0';
		if (!token_name_valid(name)) {
			respond_error(c, 404, NULL, "not found");
			goto out;
		}
		if (!slash) {
			struct peer *ag = server_find_agent(s, name);

			if (!span_is(&req->method, "GET") && !span_is(&req->method, "HEAD")) {
				respond_error(c, 405, "Allow: GET\r\n", "method not allowed");
			} else if (!ag) {
				char msg[128];

				snprintf(msg, sizeof(msg), "agent '%s' is not connected", name);
				respond_error(c, 404, NULL, msg);
			} else {
				jw_init(&w, &b);
				agent_json(&w, ag);
				buf_putc(&b, '\n');
				respond_json(c, 200, NULL, &b);
			}
			goto out;
		}
		if (!span_is(&rest, "/commands")) {
			respond_error(c, 404, NULL, "not found");
			goto out;
		}
		if (!span_is(&req->method, "POST")) {
			respond_error(c, 405, "Allow: POST\r\n", "method not allowed");
			goto out;
		}
		post_command(s, c, op, name, body, n);
	}
out:
	buf_free(&b);
}
