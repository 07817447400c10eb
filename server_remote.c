/* server_remote.c - commands routed between the servers of a fleet.
 *
 * Asking: the router hands us a command for an agent that is not here
 * (router_remote.post); we publish it on the agent's subject,
 * P.agent.NAME, with a reply subject on our inbox.  Whichever server holds
 * NAME subscribes to that subject (in one queue group, so a session being
 * taken over elsewhere never runs a command twice) and answers; no server
 * subscribed means NATS itself answers "no responders", our 404.
 *
 * Answering: a command on one of our agents' subjects goes to our router
 * as if a face here had asked (here_only: never sent on again), and its
 * outcome goes back: the outcome's name in a header, the agent's text as
 * the body, cut into chunks when it is larger than the NATS servers'
 * max_payload, and put together again on the asking side.
 *
 * Wire formats: docs/PROTOCOL.md, "More than one server". */
#include "server_cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "server_api.h"
#include "server_opts.h"
#include "server_peer.h"

/* ---- asking another server ---- */

static int remote_post(void *arg, struct router_cmd *cmd, const struct router_req *q,
		       long long wait_ms, enum router_outcome *err, char *why, size_t wl)
{
	struct cluster *c = arg;
	char subj[160], reply[160];
	struct pend *p;
	struct buf b;
	struct jw w;
	int id, rc;

	if (!nats_is_up(c->k)) {
		*err = ROUTER_CLUSTER_DOWN;
		snprintf(why, wl, "agent '%s' is not on this server, and the other servers cannot "
			 "be asked (%s)", q->agent, c->link_why);
		return -1;
	}
	p = slot_new(&c->cmds, P_COMMAND, &id);
	if (!p) {
		*err = ROUTER_NO_MEMORY;
		return -1;
	}
	p->cmd = cmd;
	buf_init(&p->answer, c->env.max_reply);
	slot_reply(c, 'c', &c->cmds, id, reply, sizeof(reply));
	snprintf(subj, sizeof(subj), "%s.agent.%s", c->co->prefix, q->agent);
	buf_init(&b, CFG_HTTP_MAX_BODY * 2);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "command", q->command);
	jw_key(&w, "payload");
	if (q->payload)
		jw_raw(&w, q->payload, q->payload_len);
	else
		jw_null(&w);
	jw_kstr(&w, "who", q->who);
	jw_kstr(&w, "from", q->from);
	jw_kstr(&w, "via", cluster_node(c));
	jw_kint(&w, "timeout_ms", wait_ms);
	jw_obj_end(&w);
	rc = jw_error(&w) ? -1 : nats_publish(c->k, subj, reply, NULL, 0, b.p, b.len);
	buf_free(&b);
	if (rc < 0) {
		slot_free(&c->cmds, p);
		*err = ROUTER_CLUSTER_DOWN;
		snprintf(why, wl, "could not send the command for agent '%s' to the fleet", q->agent);
		return -1;
	}
	return 0;
}

static void remote_forget(void *arg, struct router_cmd *cmd)
{
	struct cluster *c = arg;
	int i;

	for (i = 0; i < c->cmds.n; i++)
		if (c->cmds.v[i].kind == P_COMMAND && c->cmds.v[i].cmd == cmd) {
			slot_free(&c->cmds, &c->cmds.v[i]);
			return;
		}
}

void remote_init(struct cluster *c)
{
	struct router_remote rr = { remote_post, remote_forget, c };

	router_set_remote(c->env.router, &rr);
}

/* The command's end: its slot is free before the asker hears of it (the
 * asker may post again, and the table may move). */
static void finish(struct cluster *c, struct pend *p, enum router_outcome o, const char *text,
		   size_t n)
{
	struct router_cmd *cmd = p->cmd;
	char *own = NULL;

	if (text == p->answer.p) {
		own = buf_steal(&p->answer);
		text = own ? own : "";
	}
	slot_free(&c->cmds, p);
	c->routed[o < ROUTER_NOUTCOMES ? o : ROUTER_SEND_FAILED]++;
	router_remote_done(cmd, o, text, n);
	free(own);
}

static void finish_msg(struct cluster *c, struct pend *p, enum router_outcome o, const char *fmt,
		       const char *arg)
{
	char msg[300];

	snprintf(msg, sizeof(msg), fmt, arg);
	finish(c, p, o, msg, strlen(msg));
}

/* "I/N" with 0 <= I < N: 0, else -1. */
static int parse_chunk(const char *v, int *i, int *n)
{
	char *end;
	long a, b;

	a = strtol(v, &end, 10);
	if (end == v || *end != '/')
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end || a < 0 || b < 1 || a >= b || b > 1 << 20)
		return -1;
	*i = (int)a;
	*n = (int)b;
	return 0;
}

void remote_answer(struct cluster *c, struct pend *p, const struct nats_msg *m)
{
	const char *name = m->status == 503 ? NULL : nats_msg_header(m, "Nestd-Outcome");
	const char *chunk = name ? nats_msg_header(m, "Nestd-Chunk") : NULL;
	char agent[TOKEN_NAME_MAX + 1];
	enum router_outcome o;
	int i = 0, n = 1;

	snprintf(agent, sizeof(agent), "%s", router_cmd_agent(p->cmd));
	if (m->status == 503 && m->len == 0) {
		finish_msg(c, p, ROUTER_NOT_CONNECTED, "agent '%s' is not connected to any server",
			   agent);
		return;
	}
	o = name ? router_outcome_parse(name) : ROUTER_NOUTCOMES;
	if (o == ROUTER_NOUTCOMES || (chunk && parse_chunk(chunk, &i, &n) < 0)) {
		finish_msg(c, p, ROUTER_SEND_FAILED, "agent '%s': its server sent an answer this "
			   "server does not understand", agent);
		return;
	}
	if (i != p->chunk || (i > 0 && (n != p->chunks || o != p->outcome))) {
		finish_msg(c, p, ROUTER_AGENT_GONE, "agent '%s': part of the answer was lost "
			   "between the servers", agent);
		return;
	}
	if (buf_append(&p->answer, m->data, m->len) < 0) {
		finish_msg(c, p, ROUTER_SEND_FAILED, "agent '%s': the answer is larger than this "
			   "server's --max-message", agent);
		return;
	}
	p->chunks = n;
	p->outcome = o;
	if (++p->chunk < n)
		return;                       /* more to come */
	finish(c, p, o, p->answer.p ? p->answer.p : "", p->answer.len);
}

void remote_link_lost(struct cluster *c, const char *why)
{
	int i;

	for (i = 0; i < c->cmds.n; i++)
		if (c->cmds.v[i].kind == P_COMMAND)
			finish_msg(c, &c->cmds.v[i], ROUTER_AGENT_GONE,
				   "no answer: the link to the fleet was lost (%s)", why);
}

/* ---- answering another server ---- */

/* The outcome and the text to reply, cut to fit max_payload. */
static void reply_text(struct cluster *c, const char *reply, enum router_outcome o,
		       const char *text, size_t n)
{
	long long maxp = nats_max_payload(c->k) - CFG_CLUSTER_CHUNK_SLACK;
	struct nats_hdr h[2] = { { "Nestd-Outcome", router_outcome_name(o) },
				 { "Nestd-Chunk", NULL } };
	char part[48];
	size_t i, nchunks, off;

	if (maxp < 1024)
		maxp = 1024;
	if (n <= (size_t)maxp) {
		nats_publish(c->k, reply, NULL, h, 1, text, n);
		return;
	}
	nchunks = (n + (size_t)maxp - 1) / (size_t)maxp;
	h[1].val = part;
	for (i = 0, off = 0; i < nchunks; i++, off += (size_t)maxp) {
		size_t len = n - off < (size_t)maxp ? n - off : (size_t)maxp;

		snprintf(part, sizeof(part), "%zu/%zu", i, nchunks);
		if (nats_publish(c->k, reply, NULL, h, 2, text + off, len) < 0)
			return;                /* the asker times out */
	}
}

static void reply_msg(struct cluster *c, const char *reply, enum router_outcome o,
		      const char *fmt, const char *arg)
{
	char msg[300];

	snprintf(msg, sizeof(msg), fmt, arg);
	reply_text(c, reply, o, msg, strlen(msg));
}

static void served_unlink(struct served *sv)
{
	struct cluster *c = sv->c;

	if (sv->prev)
		sv->prev->next = sv->next;
	else
		c->served = sv->next;
	if (sv->next)
		sv->next->prev = sv->prev;
}

static int served_done(void *arg, enum router_outcome o, const char *text, size_t n)
{
	struct served *sv = arg;

	reply_text(sv->c, sv->reply, o, text, n);
	served_unlink(sv);
	free(sv);
	return server_api_outcome_status(o);
}

/* The command's fields from the asking server's JSON into q (strings
 * point into j or into the caller's arrays). */
static int read_request(const struct json *j, struct router_req *q, char *cmd, size_t cl,
			char *who, size_t wl, char *from, size_t fl)
{
	char via[CFG_CLUSTER_NODE_MAX + 1] = "?", addr[64] = "";
	int tp;

	if (json_type(j, 0) != JSON_OBJECT ||
	    json_strcpy(j, json_get(j, 0, "command"), cmd, cl) < 0 || !router_command_valid(cmd) ||
	    json_strcpy(j, json_get(j, 0, "who"), who, wl) < 0)
		return -1;
	json_strcpy(j, json_get(j, 0, "via"), via, sizeof(via));
	json_strcpy(j, json_get(j, 0, "from"), addr, sizeof(addr));
	snprintf(from, fl, "%s/%s", via, addr);
	tp = json_get(j, 0, "payload");
	if (tp >= 0 && json_type(j, tp) == JSON_OBJECT)
		q->payload = json_raw(j, tp, &q->payload_len);
	q->command = cmd;
	q->who = who;
	q->from = from;
	q->here_only = 1;
	return 0;
}

void remote_serve(struct cluster *c, const struct nats_msg *m)
{
	char base[96], cmd[CFG_COMMAND_NAME_MAX + 1], who[TOKEN_NAME_MAX + 1], from[64], err[64];
	size_t bl = (size_t)snprintf(base, sizeof(base), "%s.agent.", c->co->prefix);
	const char *name = m->subject + bl;
	struct router_req q = { .agent = name };
	struct fleet_agent *a;
	struct served *sv;
	enum router_outcome refused;
	struct json j;

	if (!m->reply || strncmp(m->subject, base, bl) != 0 || strlen(name) > TOKEN_NAME_MAX)
		return;
	a = fleet_get(c->fleet, name);
	if (!a || !a->local) {
		reply_msg(c, m->reply, ROUTER_NOT_CONNECTED, "agent '%s' is not connected", name);
		return;
	}
	if (json_parse(&j, m->data, m->len, err, sizeof(err)) < 0) {
		reply_msg(c, m->reply, ROUTER_SEND_FAILED, "a command for '%s' this server cannot read",
			  name);
		return;
	}
	sv = calloc(1, sizeof(*sv));
	if (!sv || read_request(&j, &q, cmd, sizeof(cmd), who, sizeof(who), from, sizeof(from)) < 0) {
		reply_msg(c, m->reply, sv ? ROUTER_SEND_FAILED : ROUTER_NO_MEMORY,
			  "a command for '%s' this server cannot read", name);
		free(sv);
		json_free(&j);
		return;
	}
	sv->c = c;
	snprintf(sv->reply, sizeof(sv->reply), "%s", m->reply);
	sv->next = c->served;
	if (sv->next)
		sv->next->prev = sv;
	c->served = sv;
	c->served_n++;
	sv->cmd = router_post(c->env.router, &q, served_done, sv, &refused);
	if (!sv->cmd) {
		const char *why = router_refusal(c->env.router);

		reply_msg(c, m->reply, refused, "%s", why[0] ? why : "the command was refused");
		served_unlink(sv);
		free(sv);
	}
	json_free(&j);
}

void remote_close(struct cluster *c)
{
	struct served *sv;
	int i;

	while ((sv = c->served)) {
		served_unlink(sv);
		router_cancel(sv->cmd);
		free(sv);
	}
	for (i = 0; i < c->cmds.n; i++)
		if (c->cmds.v[i].kind == P_COMMAND)
			finish_msg(c, &c->cmds.v[i], ROUTER_AGENT_GONE, "no answer: %s",
				   "this server is shutting down");
}
