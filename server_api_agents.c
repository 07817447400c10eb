/* server_api_agents.c - the agents as the API shows them: the connected
 * ones from their sessions, the others from what the server remembers
 * (server_roster.h), each with its last usage sample; one agent; its
 * history; forgetting an offline one.
 *
 * Scope (server_authz.h) applies to offline agents as to connected ones:
 * by name, and by the owner its token has now.  Outside the scope, an
 * agent is nowhere and every request about it is answered as for an
 * unknown one; so is an offline agent whose token was revoked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "json.h"
#include "log.h"
#include "server_api.h"
#include "server_authz.h"
#include "server_int.h"
#include "server_roster.h"
#include "server_state.h"

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

static void online_json(struct jw *w, const struct peer *p, const struct roster_agent *a)
{
	jw_obj(w);
	jw_kstr(w, "name", p->name);
	jw_kbool(w, "online", 1);
	jw_kstr(w, "owner", p->owner[0] ? p->owner : NULL);
	jw_kstr(w, "version", p->version);
	jw_kstr(w, "hostname", p->hostname);
	jw_kstr(w, "address", p->c->peer);
	jw_kint(w, "connected_since", p->since);
	jw_kint(w, "inflight", p->inflight);
	jw_kstr(w, "services", p->backend);
	commands_json(w, p->commands);
	remembered_json(w, a, 1);
	jw_obj_end(w);
}

static void offline_json(struct jw *w, const struct roster_agent *a, const char *owner)
{
	jw_obj(w);
	jw_kstr(w, "name", a->name);
	jw_kbool(w, "online", 0);
	jw_kstr(w, "owner", owner[0] ? owner : NULL);
	jw_kstr(w, "version", a->version);
	jw_kstr(w, "hostname", a->hostname);
	jw_kstr(w, "address", NULL);
	jw_key(w, "connected_since");
	jw_null(w);
	jw_kint(w, "inflight", 0);
	jw_kstr(w, "services", a->backend);
	commands_json(w, a->commands);
	remembered_json(w, a, 0);
	jw_obj_end(w);
}

static int by_name(const void *x, const void *y)
{
	return strcmp((*(struct peer *const *)x)->name, (*(struct peer *const *)y)->name);
}

/* The connected agents in op's reach, sorted by name, into *out (n). */
static int online_sorted(struct server *s, const struct token_entry *op, struct peer ***out)
{
	struct peer **v = malloc(sizeof(*v) * (size_t)(s->peers.nagents + 1)), *p;
	int n = 0;

	if (!v)
		return -1;
	for (p = peers_next_agent(s->peers.head); p && n < s->peers.nagents; p = peers_next_agent(p->next))
		if (authz_agent_visible(&op->scope, p->name, p->owner))
			v[n++] = p;
	qsort(v, (size_t)n, sizeof(*v), by_name);
	*out = v;
	return n;
}

/* Every agent op reaches, online or remembered, in name order: the two
 * sorted lists merged. */
static void list_json(struct server *s, const struct token_entry *op, struct jw *w,
		      struct peer **on, int non)
{
	struct roster *r = state_roster(s->state);
	int i = 0, k = 0;

	jw_arr(w);
	while (i < non || k < r->n) {
		struct roster_agent *a = k < r->n ? r->a[k] : NULL;
		int c = i >= non ? 1 : !a ? -1 : strcmp(on[i]->name, a->name);

		if (c <= 0) {
			online_json(w, on[i++], c == 0 ? a : NULL);
			k += c == 0;
		} else {
			if (!a->online && offline_visible(s, op, a))
				offline_json(w, a, token_of(s, a)->owner);
			k++;
		}
	}
	jw_arr_end(w);
}

void api_list_agents(struct server *s, struct conn *c, const struct http_req *req,
		     const struct token_entry *op)
{
	struct peer **on = NULL;
	struct buf b;
	struct jw w;
	int non;

	if (api_refuse_unless_get(c, req))
		return;
	if ((non = online_sorted(s, op, &on)) < 0) {
		api_error(c, 500, NULL, "out of memory");
		return;
	}
	buf_init(&b, 0);
	jw_init(&w, &b);
	list_json(s, op, &w, on, non);
	buf_putc(&b, '\n');
	api_json(c, 200, NULL, &b);
	buf_free(&b);
	free(on);
}

/* What op can see of name: its session (*p), or its memory (*a, offline);
 * 0 when neither (unknown, or outside the scope). */
static int find_visible(struct server *s, const struct token_entry *op, const char *name,
			struct peer **p, struct roster_agent **a)
{
	*p = peers_find_agent(&s->peers, name);
	*a = roster_find(state_roster(s->state), name);
	if (*p)
		return authz_agent_visible(&op->scope, (*p)->name, (*p)->owner);
	return *a && offline_visible(s, op, *a);
}

/* DELETE /api/clients/NAME: an offline agent and its history, forgotten. */
static void forget(struct server *s, struct conn *c, const struct token_entry *op,
		   const char *name, struct peer *p)
{
	char why[300], msg[200];
	struct buf b;
	struct jw w;

	if (authz_action_allowed(&op->scope, TOKEN_CAN_CONTROL, "forgetting an agent", why,
				 sizeof(why))) {
		api_error(c, 403, NULL, why);
		return;
	}
	if (p || roster_forget(state_roster(s->state), name) == -2) {
		snprintf(msg, sizeof(msg), "agent '%s' is connected: only an offline agent can be "
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
	struct buf b;
	struct jw w;
	int del = http_span_eq(&req->method, "DELETE");

	if (!del && api_refuse_unless_get(c, req))
		return;
	if (!find_visible(s, op, name, &p, &a)) {
		api_not_connected(c, name);
		return;
	}
	if (del) {
		forget(s, c, op, name, p);
		return;
	}
	buf_init(&b, 0);
	jw_init(&w, &b);
	if (p)
		online_json(&w, p, a);
	else
		offline_json(&w, a, token_of(s, a)->owner);
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
	struct buf b;
	struct jw w;
	int i;

	if (api_refuse_unless_get(c, req))
		return;
	if (!find_visible(s, op, name, &p, &a)) {
		api_not_connected(c, name);
		return;
	}
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "name", name);
	jw_kbool(&w, "online", p != NULL);
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
