/* server_remote.c - commands routed between the servers of a fleet.
 *
 * Asking: the router hands us a command for an agent that is not here
 * (router_remote.post).  When the fleet's presence names the server that
 * holds it, the command goes straight to that server's subject,
 * P.server.NODE (a subscription each server drains on its own thread: the
 * fast way).  Otherwise, and once more when that server says the agent is
 * not there (it moved a moment ago), it goes to the agent's own subject,
 * P.agent.NAME: whichever server holds NAME subscribes to it (in one queue
 * group, so a session being taken over elsewhere never runs a command
 * twice) and answers; no server subscribed means NATS itself answers "no
 * responders", our 404.  Either way the reply subject is on our inbox,
 * where NATS's "no responders" arrives.  An answer to a command sent
 * directly comes back directly too: to the asking server's own subject,
 * naming the reply subject in a header (those two subjects are drained on
 * the servers' own threads, so the fast way has no thread switch at all).
 *
 * Answering: a command on one of our agents' subjects goes to our router
 * as if a face here had asked (here_only: never sent on again), and its
 * outcome goes back: the outcome's name in a header, the agent's text as
 * the body, cut into chunks when it is larger than the NATS servers'
 * max_payload, and put together again on the asking side.
 *
 * Wire formats: docs/PROTOCOL.md, "More than one server". */
/* Without libnats (make NATS=0, the static binaries) this is compiled out:
 * server_cluster.c's stubs stand in for the cluster. */
#if NESTD_NATS

#include "fmt.h"
#include "server_cluster_int.h"
#include "server_jsreq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "server_opts.h"
#include "server_peer.h"
#include "num.h"

/* ---- asking another server ---- */

/* Sends p's request to the holder's server (direct) or the agent's own
 * subject: 0, or -1. */
static int send_request(struct cluster *c, struct pend *p, int id, const char *agent,
			const char *holder)
{
	char subj[160], reply[160];

	slot_reply(c, 'c', &c->cmds, id, reply, sizeof(reply));
	if (holder)
		fmt_snprintf(subj, sizeof(subj), "%s.server.%s", c->co->prefix, holder);
	else
		fmt_snprintf(subj, sizeof(subj), "%s.agent.%s", c->co->prefix, agent);
	p->direct = holder != NULL;
	return nats_publish(c->k, subj, reply, NULL, 0, p->request, p->request_len);
}

static int remote_post(void *arg, struct router_cmd *cmd, const struct router_req *q,
		       long long wait_ms, enum router_outcome *err, char *why, size_t wl)
{
	struct cluster *c = arg;
	struct pend *p;
	struct buf b;
	struct jw w;
	int id, rc;

	if (!nats_is_up(c->k)) {
		*err = ROUTER_CLUSTER_DOWN;
		fmt_snprintf(why, wl, "agent '%s' is not on this server, and the other servers cannot "
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
	buf_init(&b, CFG_HTTP_MAX_BODY * 2);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "agent", q->agent);
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
	rc = -1;
	if (!jw_error(&w)) {
		p->request_len = b.len;
		p->request = buf_steal(&b);
		rc = p->request ? send_request(c, p, id, q->agent, cluster_holder(c, q->agent)) : -1;
	}
	buf_free(&b);
	if (rc < 0) {
		slot_free(&c->cmds, p);
		*err = ROUTER_CLUSTER_DOWN;
		fmt_snprintf(why, wl, "could not send the command for agent '%s' to the fleet", q->agent);
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

	fmt_snprintf(msg, sizeof(msg), fmt, arg);
	finish(c, p, o, msg, strlen(msg));
}

/* "I/N" with 0 <= I < N: 0, else -1. */
static int parse_chunk(const char *v, int *i, int *n)
{
	char *end;
	long a, b;

	a = num_strtol(v, &end);
	if (end == v || *end != '/')
		return -1;
	b = num_strtol(end + 1, &end);
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

	fmt_copy(agent, sizeof(agent), router_cmd_agent(p->cmd));
	if (m->status == 503 && m->len == 0 && p->direct &&
	    send_request(c, p, (int)(p - c->cmds.v), agent, NULL) == 0)
		return;                       /* that server is gone: whoever holds it now */
	if (m->status == 503 && m->len == 0) {
		finish_msg(c, p, ROUTER_NOT_CONNECTED, "agent '%s' is not connected to any server",
			   agent);
		return;
	}
	o = name ? router_outcome_parse(name) : ROUTER_NOUTCOMES;
	if (o == ROUTER_NOT_CONNECTED && p->direct && p->chunk == 0) {
		/* Not on the server the presence named: it moved meanwhile. */
		if (send_request(c, p, (int)(p - c->cmds.v), agent, NULL) == 0)
			return;
	}
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

/* The outcome and the text to reply (to the reply subject, or via that
 * server's subject), cut to fit max_payload. */
static void reply_text(struct cluster *c, const char *reply, const char *via,
		       enum router_outcome o, const char *text, size_t n)
{
	long long maxp = nats_max_payload(c->k) - CFG_CLUSTER_CHUNK_SLACK;
	struct nats_hdr h[3] = { { "Nestd-Outcome", router_outcome_name(o) },
				 { "Nestd-Reply", reply }, { "Nestd-Chunk", NULL } };
	char part[48], to[160];
	size_t i, nchunks, off;
	int nh = 1;

	if (via && via[0]) {
		fmt_snprintf(to, sizeof(to), "%s.server.%s", c->co->prefix, via);
		nh = 2;
	} else {
		fmt_copy(to, sizeof(to), reply);
		h[1] = h[2];
	}
	if (maxp < 1024)
		maxp = 1024;
	if (n <= (size_t)maxp) {
		nats_publish(c->k, to, NULL, h, nh, text, n);
		return;
	}
	nchunks = (n + (size_t)maxp - 1) / (size_t)maxp;
	h[nh].key = "Nestd-Chunk";
	h[nh].val = part;
	for (i = 0, off = 0; i < nchunks; i++, off += (size_t)maxp) {
		size_t len = n - off < (size_t)maxp ? n - off : (size_t)maxp;

		fmt_snprintf(part, sizeof(part), "%zu/%zu", i, nchunks);
		if (nats_publish(c->k, to, NULL, h, nh + 1, text + off, len) < 0)
			return;                /* the asker times out */
	}
}

static void reply_msg(struct cluster *c, const char *reply, const char *via,
		      enum router_outcome o, const char *fmt, const char *arg)
{
	char msg[300];

	fmt_snprintf(msg, sizeof(msg), fmt, arg);
	reply_text(c, reply, via, o, msg, strlen(msg));
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

	struct cluster *c = sv->c;

	reply_text(c, sv->reply, sv->via, o, text, n);
	served_unlink(sv);
	free(sv);
	return c->env.outcome_status ? c->env.outcome_status(o) : 0;
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
	fmt_snprintf(from, fl, "%s/%s", via, addr);
	tp = json_get(j, 0, "payload");
	if (tp >= 0 && json_type(j, tp) == JSON_OBJECT)
		q->payload = json_raw(j, tp, &q->payload_len);
	q->command = cmd;
	q->who = who;
	q->from = from;
	q->here_only = 1;
	return 0;
}

/* The agent a command is for: from the subject P.agent.NAME, or from the
 * request of one sent to P.server.NODE.  0, or -1 (not ours to answer). */
static int command_agent(struct cluster *c, const struct nats_msg *m, const struct json *j,
			 char *name, size_t n)
{
	char base[96];
	size_t bl = (size_t)fmt_snprintf(base, sizeof(base), "%s.agent.", c->co->prefix);

	if (strncmp(m->subject, base, bl) == 0) {
		if (strlen(m->subject + bl) >= n)
			return -1;
		fmt_copy(name, n, m->subject + bl);
		return 0;
	}
	return json_strcpy(j, json_get(j, 0, "agent"), name, n) == 0 && name[0] ? 0 : -1;
}

/* A command sent to our server subject: the asking server's node, to
 * answer on its own server subject; "" for one sent to the agent's subject. */
static void direct_via(struct cluster *c, const struct nats_msg *m, const struct json *j,
		       char *via, size_t n)
{
	char base[96];
	size_t i;

	via[0] = '\0';
	fmt_snprintf(base, sizeof(base), "%s.server.", c->co->prefix);
	if (strncmp(m->subject, base, strlen(base)) != 0 ||
	    json_strcpy(j, json_get(j, 0, "via"), via, n) < 0) {
		via[0] = '\0';
		return;
	}
	for (i = 0; via[i]; i++)
		if (!((via[i] >= 'a' && via[i] <= 'z') || (via[i] >= 'A' && via[i] <= 'Z') ||
		      (via[i] >= '0' && via[i] <= '9') || via[i] == '_' || via[i] == '-'))
			via[0] = '\0';           /* not a node name: answer the plain way */
}

void remote_serve(struct cluster *c, const struct nats_msg *m)
{
	char name[TOKEN_NAME_MAX + 1], cmd[CFG_COMMAND_NAME_MAX + 1], who[TOKEN_NAME_MAX + 1];
	char from[64], err[64], via[CFG_CLUSTER_NODE_MAX + 1] = "";
	struct router_req q = { .agent = name };
	const char *answer_for = nats_msg_header(m, "Nestd-Reply");
	struct fleet_agent *a;
	struct served *sv;
	enum router_outcome refused;
	struct json j;

	if (answer_for) {                     /* an answer to one of ours, sent directly */
		struct slots *t;
		struct pend *p = slot_of(c, answer_for, &t);

		if (p && t == &c->cmds)
			remote_answer(c, p, m);
		return;
	}
	if (!m->reply)
		return;
	if (json_parse(&j, m->data, m->len, err, sizeof(err)) < 0) {
		reply_msg(c, m->reply, NULL, ROUTER_SEND_FAILED, "a command %s cannot read",
			  "this server");
		return;
	}
	direct_via(c, m, &j, via, sizeof(via));
	if (command_agent(c, m, &j, name, sizeof(name)) < 0) {
		json_free(&j);
		return;
	}
	a = fleet_get(c->fleet, name);
	if (!a || !a->local) {
		reply_msg(c, m->reply, via, ROUTER_NOT_CONNECTED, "agent '%s' is not connected", name);
		json_free(&j);
		return;
	}
	sv = calloc(1, sizeof(*sv));
	if (!sv || read_request(&j, &q, cmd, sizeof(cmd), who, sizeof(who), from, sizeof(from)) < 0) {
		reply_msg(c, m->reply, via, sv ? ROUTER_SEND_FAILED : ROUTER_NO_MEMORY,
			  "a command for '%s' this server cannot read", name);
		free(sv);
		json_free(&j);
		return;
	}
	sv->c = c;
	fmt_copy(sv->reply, sizeof(sv->reply), m->reply);
	fmt_copy(sv->via, sizeof(sv->via), via);
	sv->next = c->served;
	if (sv->next)
		sv->next->prev = sv;
	c->served = sv;
	c->served_n++;
	sv->cmd = router_post(c->env.router, &q, served_done, sv, &refused);
	if (!sv->cmd) {
		char why[300];

		router_refusal(c->env.router, &q, refused, why, sizeof(why));
		reply_msg(c, m->reply, via, refused, "%s", why);
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

#endif /* NESTD_NATS */
