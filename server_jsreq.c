/* server_jsreq.c - what the cluster's files share, below all of them:
 * the table of requests in flight (each answer on our inbox names its
 * slot and the slot's generation, so a late answer to a slot used again
 * since is recognised and dropped), JetStream requests and their answers,
 * consumers of our own, and a few names. */
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
#include "server_opts.h"
#include "num.h"

/* ---- slots ---- */

struct pend *slot_new(struct slots *s, enum pend_kind kind, int *id)
{
	struct pend *p, *nv;
	unsigned gen;
	int i;

	if (s->free_head >= 0) {
		i = s->free_head;
		s->free_head = s->v[i].next_free;
	} else {
		if (s->n == s->cap) {
			int ncap = s->cap ? s->cap * 2 : 64;

			nv = realloc(s->v, (size_t)ncap * sizeof(*nv));
			if (!nv)
				return NULL;
			s->v = nv;
			s->cap = ncap;
		}
		i = s->n++;
		s->v[i].gen = 0;
	}
	p = &s->v[i];
	gen = p->gen + 1;
	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->kind = kind;
	p->next_free = -1;
	s->used++;
	*id = i;
	return p;
}

struct pend *slot_get(struct slots *s, int id, unsigned gen)
{
	if (id < 0 || id >= s->n || s->v[id].kind == P_FREE || s->v[id].gen != gen)
		return NULL;
	return &s->v[id];
}

void slot_free(struct slots *s, struct pend *p)
{
	buf_free(&p->answer);
	free(p->request);
	p->request = NULL;
	p->kind = P_FREE;
	p->cmd = NULL;
	p->next_free = s->free_head;
	s->free_head = (int)(p - s->v);
	s->used--;
}

void slot_reply(const struct cluster *c, char t, const struct slots *s, int id, char *out,
		size_t n)
{
	fmt_snprintf(out, n, "%s.%c%d_%u", c->inbox, t, id, s->v[id].gen);
}

/* ---- names ---- */

const char *cluster_prefix(const struct cluster *c)
{
	return c->co->prefix;
}

const char *cluster_node(const struct cluster *c)
{
	return fleet_node(c->fleet);
}

void audit_stream_name(const struct cluster *c, char *out, size_t n)
{
	fmt_snprintf(out, n, "%s_audit", c->co->prefix);
}

const char *cluster_holder(const struct cluster *c, const char *name)
{
	const struct fleet_agent *a = fleet_get(c->fleet, name);

	return a && !a->local && fleet_remote_live(c->fleet, a, loop_now()) ? a->claim.node : NULL;
}

/* "<inbox>.<r|c><slot>_<gen>": the table and the slot, or NULL. */
struct pend *slot_of(struct cluster *c, const char *subject, struct slots **t)
{
	size_t il = strlen(c->inbox);
	const char *s = subject + il + 1;
	char *end;
	long id;
	unsigned long gen;

	if (strncmp(subject, c->inbox, il) != 0 || subject[il] != '.' || (*s != 'r' && *s != 'c'))
		return NULL;
	*t = *s == 'r' ? &c->reqs : &c->cmds;
	id = num_strtol(s + 1, &end);
	if (*end != '_')
		return NULL;
	gen = num_strtoul(end + 1, &end);
	if (*end || id > INT32_MAX)
		return NULL;
	return slot_get(*t, (int)id, (unsigned)gen);
}

/* ---- JetStream ---- */

/* A request to JetStream: publish data with a reply into slot p. */
int js_send(struct cluster *c, const char *subject, enum pend_kind kind,
		   const struct nats_hdr *h, int nh, const struct buf *b, struct pend **pp)
{
	char reply[160];
	struct pend *p;
	int id;

	p = slot_new(&c->reqs, kind, &id);
	if (!p)
		return -1;
	p->deadline = loop_now() + CFG_CLUSTER_JS_TIMEOUT_MS;
	slot_reply(c, 'r', &c->reqs, id, reply, sizeof(reply));
	if (nats_publish(c->k, subject, reply, h, nh, b ? b->p : "", b ? b->len : 0) < 0) {
		slot_free(&c->reqs, p);
		return -1;
	}
	if (pp)
		*pp = p;
	return 0;
}

int64_t js_try_timeout(int tries)
{
	int64_t t = CFG_CLUSTER_JS_FIRST_MS;

	while (tries-- > 0 && t < CFG_CLUSTER_JS_TIMEOUT_MS)
		t *= 2;
	return t < CFG_CLUSTER_JS_TIMEOUT_MS ? t : CFG_CLUSTER_JS_TIMEOUT_MS;
}

/* An answer from JetStream: 0 with *seq (a publish ack) or the JSON
 * parsed into j (caller frees), or -1 with why. */
int js_answer(const struct nats_msg *m, struct json *j, unsigned long long *seq,
		     long long *code, char *why, size_t n)
{
	char err[96];
	int e, t;
	long long v;

	*code = 0;
	if (m->status == 503 && m->len == 0) {
		fmt_snprintf(why, n, "JetStream does not answer (is it enabled on the NATS servers?)");
		return -1;
	}
	if (json_parse(j, m->data, m->len, err, sizeof(err)) < 0) {
		fmt_snprintf(why, n, "JetStream answered %d bytes that are no JSON", (int)m->len);
		return -1;
	}
	e = json_type(j, 0) == JSON_OBJECT ? json_get(j, 0, "error") : -1;
	if (e >= 0) {
		t = json_get(j, e, "err_code");
		if (t >= 0)
			json_int(j, t, code);
		t = json_get(j, e, "description");
		if (t < 0 || json_strcpy(j, t, why, n) < 0)
			fmt_snprintf(why, n, "JetStream error %lld", *code);
		json_free(j);
		return -1;
	}
	t = json_type(j, 0) == JSON_OBJECT ? json_get(j, 0, "seq") : -1;
	if (seq)
		*seq = t >= 0 && json_int(j, t, &v) == 0 && v > 0 ? (unsigned long long)v : 0;
	return 0;
}

/* A consumer of ours ends: no more interest in its deliveries, and a
 * delete for JetStream (it would go by itself after its inactive
 * threshold anyway). */
void consumer_drop(struct cluster *c, struct nats_sub **sub, const char *stream, char *consumer)
{
	char api[192];

	if (*sub)
		nats_unsubscribe(c->k, *sub);
	*sub = NULL;
	if (consumer[0]) {
		fmt_snprintf(api, sizeof(api), "$JS.API.CONSUMER.DELETE.%s.%s", stream, consumer);
		nats_publish(c->k, api, NULL, NULL, 0, "", 0);
	}
	consumer[0] = '\0';
}

/* An ephemeral push consumer of ours on stream: deliveries to deliver,
 * only the subjects filter matches; from start_seq on, or (0) the last
 * message of every subject first; heartbeats when idle if asked.  The
 * request's slot into *pp: 0, or -1. */
int consumer_create(struct cluster *c, const char *stream, const char *deliver,
		    const char *filter, unsigned long long start_seq, int heartbeat,
		    enum pend_kind kind, struct pend **pp)
{
	char api[192];
	struct buf b;
	struct jw w;
	int rc;

	fmt_snprintf(api, sizeof(api), "$JS.API.CONSUMER.CREATE.%s", stream);
	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "stream_name", stream);
	jw_key(&w, "config");
	jw_obj(&w);
	jw_kstr(&w, "deliver_subject", deliver);
	jw_kstr(&w, "deliver_policy", start_seq ? "by_start_sequence" : "last_per_subject");
	if (start_seq)
		jw_kint(&w, "opt_start_seq", (long long)start_seq);
	jw_kstr(&w, "ack_policy", "none");
	jw_kstr(&w, "filter_subject", filter);
	jw_kstr(&w, "replay_policy", "instant");
	if (heartbeat)
		jw_kint(&w, "idle_heartbeat", CFG_CLUSTER_WATCH_HB_MS * 1000000ll);
	jw_kint(&w, "inactive_threshold", 2 * CFG_CLUSTER_WATCH_DEAD_MS * 1000000ll);
	jw_kbool(&w, "mem_storage", 1);
	jw_obj_end(&w);
	jw_obj_end(&w);
	rc = jw_error(&w) ? -1 : js_send(c, api, kind, NULL, 0, &b, pp);
	buf_free(&b);
	return rc;
}

#endif /* NESTD_NATS */
