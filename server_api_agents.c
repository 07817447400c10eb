/* server_api_agents.c - the agents as the API shows them: the connected
 * ones from their sessions, the others from what the server remembers
 * (server_roster.h), each with its last usage sample; one agent; its
 * history; forgetting an offline one.
 *
 * In a fleet (--cluster) the other servers' agents are there too, as
 * their servers' claims describe them (server_cluster.h), and every agent
 * names its "server" (null when it is offline: on none); an agent shows
 * once, as it is where it is connected: here, else on another server,
 * else as this server remembers it.  What needs the other servers while
 * they cannot be asked is 503 with the reason; ?scope=local lists this
 * server's own agents and memory whatever the fleet's state.
 *
 * Scope (server_authz.h) applies to offline agents as to connected ones:
 * by name, and by the owner its token has now.  Outside the scope, an
 * agent is nowhere and every request about it is answered as for an
 * unknown one; so is an offline agent whose token was revoked. */
#include "server_api_agents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "server_reply.h"
#include "server_authz.h"
#include "server_cluster.h"
#include "server_int.h"
#include "server_roster.h"
#include "server_state.h"
#include "sort.h"

/* The agent token an offline agent would come back with; NULL when its
 * name has none any more (revoked): such an agent is shown nowhere until a
 * token of that name is minted again, and then with that token's owner. */
static const struct token_entry *token_of(const struct server *s, const struct roster_agent *a)
{
	const struct token_entry *e = token_db_by_name(&s->db, a->name);

	return e && e->role == ROLE_AGENT ? e : NULL;
}

/* An offline agent op may see: its name still has a token, and the scope
 * reaches it. */
static int offline_visible(const struct server *s, const struct token_entry *op,
			   const struct roster_agent *a)
{
	const struct token_entry *e = token_of(s, a);

	return e && authz_agent_visible(&op->scope, a->name, e->owner);
}

static void num_or_null(struct jw *w, const char *key, double v, int decimals)
{
	jw_key(w, key);
	if (v < 0)
		jw_null(w);
	else if (decimals)
		jw_double(w, v, decimals);
	else
		jw_int(w, (long long)v);
}

static void used_total(struct jw *w, const char *key, long long used, long long total)
{
	jw_key(w, key);
	jw_obj(w);
	num_or_null(w, "used", (double)used, 0);
	num_or_null(w, "total", (double)total, 0);
	jw_obj_end(w);
}

/* {"t":..,"cpu":..,"load":[..],"memory":{..},"disk":{..},"uptime":..} */
static void sample_json(struct jw *w, const struct roster_sample *x)
{
	int i;

	jw_obj(w);
	jw_kint(w, "t", x->t);
	num_or_null(w, "cpu", x->cpu, 1);
	jw_key(w, "load");
	jw_arr(w);
	for (i = 0; i < 3; i++)
		if (x->load[i] < 0)
			jw_null(w);
		else
			jw_double(w, x->load[i], 2);
	jw_arr_end(w);
	used_total(w, "memory", x->mem_used, x->mem_total);
	used_total(w, "disk", x->disk_used, x->disk_total);
	num_or_null(w, "uptime", (double)x->uptime, 0);
	jw_obj_end(w);
}

/* "first_seen", "last_seen", "usage": what the server remembers. */
static void remembered_json(struct jw *w, const struct roster_agent *a, int online)
{
	jw_key(w, "first_seen");
	if (a)
		jw_int(w, a->first_seen);
	else
		jw_null(w);
	jw_kint(w, "last_seen", online || !a ? (long long)time(NULL) : a->last_seen);
	jw_key(w, "usage");
	if (a && a->hn)
		sample_json(w, roster_sample_at(a, a->hn - 1));
	else
		jw_null(w);
}

/* "commands", and "compat": an agent that announced nothing is an
 * original client, which gets only the original's commands
 * (docs/PROTOCOL.md, "Two reply shapes"). */
static void commands_json(struct jw *w, const char *commands)
{
	jw_key(w, "commands");
	if (commands)
		jw_raw(w, commands, strlen(commands));
	else
		jw_null(w);
	jw_kstr(w, "compat", commands ? "nestd" : "original");
}

/* This server's name in a fleet, or NULL. */
static const char *node_of(const struct server *s)
{
	return SRV_CLUSTER(s) ? cluster_node(SRV_CLUSTER(s)) : NULL;
}

/* One agent's object: p its session here, or NULL (offline: a, what is
 * remembered of it); "server" its server's name (node) in a fleet, null
 * for an offline one there (fleet). */
static void agent_json(struct jw *w, const struct peer *p, const struct roster_agent *a,
		       const char *owner, const char *node, int fleet)
{
	jw_obj(w);
	jw_kstr(w, "name", p ? p->name : a->name);
	jw_kbool(w, "online", p != NULL);
	jw_kstr(w, "owner", owner[0] ? owner : NULL);
	jw_kstr(w, "version", p ? p->version : a->version);
	jw_kstr(w, "hostname", p ? p->hostname : a->hostname);
	jw_kstr(w, "address", p ? p->c->peer : NULL);
	jw_key(w, "connected_since");
	if (p)
		jw_int(w, p->since);
	else
		jw_null(w);
	jw_kint(w, "inflight", p ? p->inflight : 0);
	jw_kstr(w, "services", p ? p->backend : a->backend);
	commands_json(w, p ? p->commands : a->commands);
	remembered_json(w, a, p != NULL);
	if (node || fleet)
		jw_kstr(w, "server", node);
	jw_obj_end(w);
}

/* Another server's agent: its claim's object (with its "server"), and
 * what this server remembers of it, if anything, as for one of its own:
 * the two objects made one. */
static int remote_json(struct buf *out, const char *info, const struct roster_agent *a)
{
	size_t n = strlen(info);
	struct buf tail;
	struct jw w;
	int rc;

	if (n < 2 || info[n - 1] != '}')
		return -1;
	buf_init(&tail, 0);
	jw_init(&w, &tail);
	jw_obj(&w);
	remembered_json(&w, a, 1);
	jw_obj_end(&w);
	rc = jw_error(&w) || buf_append(out, info, n - 1) < 0 || buf_putc(out, ',') < 0 ||
	     buf_append(out, tail.p + 1, tail.len - 1) < 0 ? -1 : 0;
	buf_free(&tail);
	return rc;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* GET /api/clients: every agent op reaches, online (here or, in a fleet,
 * on another server) or remembered, in name order.  100,000 agents are
 * megabytes of JSON: written a piece at a time as the client takes it
 * (conn_http_stream), never whole.  The walk merges the connected agents'
 * names and the other servers' (both taken when it starts) with the
 * roster, and each step resumes after the last name written: an agent
 * that comes, goes or moves meanwhile is in the list once or not at all
 * (shown as it is when its turn comes), and the JSON stays whole. */
struct clients_walk {
	struct server *s;
	struct token_entry op;        /* a copy: a reload may free the token */
	char **on;                    /* the connected agents' names, sorted */
	int non, i;
	char **rem;                   /* the other servers' agents' names, sorted */
	int nrem, ri;
	int fleet;                    /* the other servers' agents too */
	char last[TOKEN_NAME_MAX + 1];   /* "" before the first */
	int n, opened;
};

/* The first roster entry whose name sorts after last. */
static int roster_after(const struct roster *r, const char *last)
{
	int lo = 0, hi = r->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (strcmp(r->a[mid]->name, last) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One agent's object, if op reaches it as it is now; a is its roster
 * entry or NULL. */
static int walk_one(struct clients_walk *cw, struct buf *out, const char *name,
		    const struct roster_agent *a)
{
	struct server *s = cw->s;
	struct peer *p = peers_find_agent(&s->peers, name);
	const char *info = NULL, *owner = "";
	struct jw w;

	if (!p && cw->fleet)
		info = cluster_remote_info(SRV_CLUSTER(s), name, &owner);
	if (p ? !authz_agent_visible(&cw->op.scope, p->name, p->owner)
	      : info ? !authz_agent_visible(&cw->op.scope, name, owner)
	      : !a || a->online || !offline_visible(s, &cw->op, a))
		return 0;
	if (cw->n++ && buf_putc(out, ',') < 0)
		return -1;
	if (info)
		return remote_json(out, info, a);
	jw_init(&w, out);
	if (p)
		agent_json(&w, p, a, p->owner, node_of(s), 0);
	else
		agent_json(&w, NULL, a, token_of(s, a)->owner, NULL, SRV_CLUSTER(s) != NULL);
	return jw_error(&w) ? -1 : 0;
}

/* The first of names[*i..n) after last, or NULL. */
static const char *next_after(char **names, int n, int *i, const char *last)
{
	while (*i < n && last[0] && strcmp(names[*i], last) <= 0)
		(*i)++;
	return *i < n ? names[*i] : NULL;
}

static const char *least(const char *x, const char *y)
{
	return !x ? y : !y ? x : strcmp(x, y) <= 0 ? x : y;
}

static int clients_more(void *arg, struct buf *out)
{
	struct clients_walk *cw = arg;
	struct roster *r = state_roster(cw->s->state);
	int k = 0;

	if (!cw->opened) {
		cw->opened = 1;
		if (buf_putc(out, '[') < 0)
			return -1;
	}
	while (out->len < CFG_HTTP_STREAM_CHUNK) {
		const struct roster_agent *a;
		const char *on = next_after(cw->on, cw->non, &cw->i, cw->last);
		const char *rem = next_after(cw->rem, cw->nrem, &cw->ri, cw->last);
		char name[TOKEN_NAME_MAX + 1];

		if (cw->last[0])
			k = roster_after(r, cw->last);
		a = k < r->n ? r->a[k] : NULL;
		if (!on && !rem && !a)
			return buf_puts(out, "]\n") < 0 ? -1 : 0;
		fmt_copy(name, sizeof(name), least(least(on, rem), a ? a->name : NULL));
		if (walk_one(cw, out, name, a && !strcmp(a->name, name) ? a : NULL) < 0)
			return -1;
		fmt_copy(cw->last, sizeof(cw->last), name);
	}
	return 1;
}

static void free_names(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void clients_done(void *arg)
{
	struct clients_walk *cw = arg;

	free_names(cw->on, cw->non);
	free_names(cw->rem, cw->nrem);
	free(cw);
}

/* The connected agents' names, sorted, into cw->on: 0, or -1. */
static int names_here(struct server *s, struct clients_walk *cw)
{
	struct peer *p;

	cw->on = malloc(sizeof(*cw->on) * (size_t)(s->peers.nagents + 1));
	if (!cw->on)
		return -1;
	for (p = peers_next_agent(s->peers.head); p && cw->non < s->peers.nagents;
	     p = peers_next_agent(p->next)) {
		if (!(cw->on[cw->non] = strdup(p->name)))
			return -1;
		cw->non++;
	}
	sort_items(cw->on, (size_t)cw->non, sizeof(*cw->on), by_name);
	return 0;
}

/* 1 if the query has scope=local: this server's own agents and memory. */
static int scope_local(const struct http_req *req)
{
	char v[16];

	return http_query_param(req, "scope", v, sizeof(v)) > 0 && strcmp(v, "local") == 0;
}

void api_list_agents(struct server *s, struct conn *c, const struct http_req *req,
		     const struct token_entry *op)
{
	struct clients_walk *cw;
	char why[300];

	if (api_refuse_unless_get(c, req))
		return;
	if (!(cw = calloc(1, sizeof(*cw)))) {
		api_error(c, 503, NULL, "out of memory");
		return;
	}
	cw->s = s;
	cw->op = *op;
	cw->fleet = SRV_CLUSTER(s) && !scope_local(req);
	if (names_here(s, cw) < 0) {
		clients_done(cw);
		api_error(c, 503, NULL, "out of memory");
		return;
	}
	if (cw->fleet && cluster_remote_names(SRV_CLUSTER(s), &cw->rem, &cw->nrem, why, sizeof(why)) < 0) {
		clients_done(cw);
		api_error(c, 503, "Retry-After: 1\r\n", why);
		return;
	}
	conn_http_stream(c, 200, "application/json", NULL, clients_more, clients_done, cw);
}

/* Where name is, as op may see it: its session here (*p), another
 * server's claim (*info, in a fleet), or the memory of it (*a, offline);
 * 1 found, 0 when none (unknown, or outside the scope), -1 (why) when
 * only the other servers could tell and they cannot be asked now. */
static int find_visible(struct server *s, const struct token_entry *op, const char *name,
			struct peer **p, struct roster_agent **a, const char **info, char *why,
			size_t wn)
{
	struct cluster_status st;
	const char *owner = "";

	*p = peers_find_agent(&s->peers, name);
	*a = roster_find(state_roster(s->state), name);
	*info = NULL;
	if (*p)
		return authz_agent_visible(&op->scope, (*p)->name, (*p)->owner);
	if (SRV_CLUSTER(s)) {
		cluster_status(SRV_CLUSTER(s), &st);
		if (!st.ready) {
			fmt_copy(why, wn, st.why);
			return -1;
		}
		if ((*info = cluster_remote_info(SRV_CLUSTER(s), name, &owner)))
			return authz_agent_visible(&op->scope, name, owner);
	}
	return *a && offline_visible(s, op, *a);
}

/* find_visible's answer when there is nothing to show: 1 after answering
 * (404, or 503 when the fleet cannot be asked). */
static int answered_missing(struct conn *c, const char *name, int found, const char *why)
{
	if (found > 0)
		return 0;
	if (found < 0)
		api_error(c, 503, "Retry-After: 1\r\n", why);
	else
		api_not_connected(c, name);
	return 1;
}

/* DELETE /api/clients/NAME: an offline agent and its history, forgotten. */
static void forget(struct server *s, struct conn *c, const struct token_entry *op,
		   const char *name, int connected)
{
	char why[300], msg[200];
	struct buf b;
	struct jw w;

	if (authz_action_allowed(&op->scope, TOKEN_CAN_CONTROL, "forgetting an agent", why,
				 sizeof(why))) {
		api_error(c, 403, NULL, why);
		return;
	}
	if (connected || roster_forget(state_roster(s->state), name) == -2) {
		fmt_snprintf(msg, sizeof(msg), "agent '%s' is connected: only an offline agent can be "
			 "forgotten", name);
		api_error(c, 409, NULL, msg);
		return;
	}
	state_changed(s->state);
	log_info("operator %s: forgot the offline agent %s and its history", op->name, name);
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "forgotten", name);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	api_json(c, 200, NULL, &b);
	buf_free(&b);
}

void api_agent(struct server *s, struct conn *c, const struct http_req *req,
	       const struct token_entry *op, const char *name)
{
	struct peer *p;
	struct roster_agent *a;
	const char *info;
	char why[300];
	struct buf b;
	struct jw w;
	int del = http_span_eq(&req->method, "DELETE");

	if (!del && api_refuse_unless_get(c, req))
		return;
	if (answered_missing(c, name, find_visible(s, op, name, &p, &a, &info, why, sizeof(why)),
			     why))
		return;
	if (del) {
		forget(s, c, op, name, p || info);
		return;
	}
	buf_init(&b, 0);
	jw_init(&w, &b);
	if (info)
		remote_json(&b, info, a);
	else if (p)
		agent_json(&w, p, a, p->owner, node_of(s), 0);
	else
		agent_json(&w, NULL, a, token_of(s, a)->owner, NULL, SRV_CLUSTER(s) != NULL);
	buf_putc(&b, '\n');
	api_json(c, 200, NULL, &b);
	buf_free(&b);
}

/* GET /api/clients/NAME/history: every sample kept, oldest first. */
void api_agent_history(struct server *s, struct conn *c, const struct http_req *req,
		       const struct token_entry *op, const char *name)
{
	struct peer *p;
	struct roster_agent *a;
	const char *info;
	char why[300];
	struct buf b;
	struct jw w;
	int i;

	if (api_refuse_unless_get(c, req))
		return;
	if (answered_missing(c, name, find_visible(s, op, name, &p, &a, &info, why, sizeof(why)),
			     why))
		return;
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "name", name);
	jw_kbool(&w, "online", p || info);
	jw_key(&w, "interval");
	jw_double(&w, (double)state_history_ms(s->state) / 1000.0, 3);
	jw_key(&w, "samples");
	jw_arr(&w);
	for (i = 0; a && i < a->hn; i++)
		sample_json(&w, roster_sample_at(a, i));
	jw_arr_end(&w);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	api_json(c, 200, NULL, &b);
	buf_free(&b);
}
