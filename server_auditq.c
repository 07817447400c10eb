/* server_auditq.c - the fleet's audit log: every server's audit lines in
 * one JetStream stream, PREFIX_audit, as well as in each server's own
 * file, and the queries behind GET /api/audit (`nestd ctl audit`).
 *
 * A line goes to P.audit.NODE.AGENT.OPERATOR (a name's '.' written '=',
 * "-" for none), so that a query filters on the subject and JetStream
 * sends only what matches.  A query wants the latest entries: it reads
 * the stream's last sequence, then follows a consumer of its own from a
 * window before it (the filter applied by the NATS server) to the end,
 * keeping the last `limit`; a window that holds too few starts again
 * eight times wider, up to CFG_AUDIT_SCAN_MAX entries back.  One query
 * runs at a time (its deliveries carry no sign of whose they are but its
 * tag), the others wait in line; each is bounded by its deadline. */
/* Without libnats (make NATS=0, the static binaries) this is compiled out:
 * server_cluster.c's stubs stand in for the cluster. */
#if NESTD_NATS

#include "fmt.h"
#include "server_cluster_int.h"
#include "server_auditq.h"
#include "server_jsreq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "server_opts.h"

#define AQ_DEADLINE_MS (2 * CFG_CLUSTER_JS_TIMEOUT_MS)
#define AQ_FIRST_WINDOW 256

struct audit_query {
	struct audit_query *next;
	cluster_audit_fn done;
	void *arg;
	char agent[TOKEN_NAME_MAX + 1], op[TOKEN_NAME_MAX + 1];   /* "" any */
	int limit;
	int running;
	unsigned gen;                  /* this round's: tag parity, deliver subject */
	struct nats_sub *sub;
	char consumer[64];
	unsigned long long first, last, start, window;
	char **ring;                   /* the last limit entries, oldest at head */
	int nring, head;
	int64_t deadline;
};

/* A name as one subject token. */
static void token_of(const char *name, char *out, size_t n)
{
	size_t i;

	if (!name || !*name) {
		fmt_snprintf(out, n, "-");
		return;
	}
	for (i = 0; name[i] && i + 1 < n; i++)
		out[i] = name[i] == '.' ? '=' : name[i];
	out[i] = '\0';
}

void cluster_audit_line(void *arg, const char *line, size_t n)
{
	struct cluster *c = arg;
	char agent[TOKEN_NAME_MAX + 1] = "", op[TOKEN_NAME_MAX + 1] = "", subj[300], a[80], o[80];
	struct json j;
	char err[32];

	if (!nats_is_up(c->k) || json_parse(&j, line, n, err, sizeof(err)) < 0)
		return;                   /* lost for the stream; the file has it */
	json_strcpy(&j, json_get(&j, 0, "agent"), agent, sizeof(agent));
	json_strcpy(&j, json_get(&j, 0, "operator"), op, sizeof(op));
	json_free(&j);
	token_of(agent, a, sizeof(a));
	token_of(op, o, sizeof(o));
	fmt_snprintf(subj, sizeof(subj), "%s.audit.%s.%s.%s", cluster_prefix(c), cluster_node(c), a, o);
	nats_publish(c->k, subj, NULL, NULL, 0, line, n);
}

/* ---- one query ---- */

static void ring_free(struct audit_query *q)
{
	int i;

	for (i = 0; i < q->nring; i++)
		free(q->ring[(q->head + i) % q->limit]);
	q->nring = q->head = 0;
}

static void ring_push(struct audit_query *q, char *line)
{
	if (q->nring < q->limit) {
		q->ring[(q->head + q->nring++) % q->limit] = line;
		return;
	}
	free(q->ring[q->head]);
	q->ring[q->head] = line;
	q->head = (q->head + 1) % q->limit;
}

static void consumer_stop(struct cluster *c, struct audit_query *q)
{
	char stream[96];

	audit_stream_name(c, stream, sizeof(stream));
	consumer_drop(c, &q->sub, stream, q->consumer);
}

static void query_free(struct audit_query *q)
{
	ring_free(q);
	free(q->ring);
	free(q);
}

static void query_next(struct cluster *c);

/* The query ends: out of the line, told, freed; the next one starts. */
static void finish(struct cluster *c, struct audit_query *q, int status, const char *body, size_t n)
{
	struct audit_query **pp;

	consumer_stop(c, q);
	for (pp = &c->aq; *pp && *pp != q; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = q->next;
	q->done(q->arg, status, body, n);
	query_free(q);
	query_next(c);
}

static void finish_error(struct cluster *c, struct audit_query *q, int status, const char *why)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "error", why);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	finish(c, q, status, b.p ? b.p : "", b.len);
	buf_free(&b);
}

static void finish_entries(struct cluster *c, struct audit_query *q)
{
	struct buf b;
	struct jw w;
	int i;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_arr(&w);
	for (i = 0; i < q->nring; i++) {
		const char *e = q->ring[(q->head + i) % q->limit];

		jw_raw(&w, e, strlen(e));
	}
	jw_arr_end(&w);
	buf_putc(&b, '\n');
	finish(c, q, 200, b.p ? b.p : "", b.len);
	buf_free(&b);
}

static void round_start(struct cluster *c, struct audit_query *q)
{
	char stream[96], filter[300], deliver[192], a[80], o[80];
	struct pend *p;

	q->gen = ++c->aq_gen;
	fmt_snprintf(deliver, sizeof(deliver), "%s.audit.%u", c->winbox, q->gen);
	q->sub = nats_subscribe(c->k, deliver, NULL, TAG_AUDIT + (int)(q->gen & 1));
	token_of(q->agent, a, sizeof(a));
	token_of(q->op, o, sizeof(o));
	fmt_snprintf(filter, sizeof(filter), "%s.audit.*.%s.%s", cluster_prefix(c), q->agent[0] ? a : "*",
		 q->op[0] ? o : "*");
	audit_stream_name(c, stream, sizeof(stream));
	if (!q->sub || consumer_create(c, stream, deliver, filter, q->start, 0, P_AUDIT_CONSUMER,
				       &p) < 0)
		finish_error(c, q, 503, "cannot ask the fleet's audit stream now");
	else
		p->wgen = q->gen;
}

/* The window from start to the end is read: enough, or a wider one. */
static void round_done(struct cluster *c, struct audit_query *q)
{
	consumer_stop(c, q);
	if (q->nring >= q->limit || q->start <= q->first || q->window >= CFG_AUDIT_SCAN_MAX) {
		finish_entries(c, q);
		return;
	}
	q->window *= 8;
	q->start = q->last >= q->window ? q->last - q->window + 1 : 1;
	if (q->start < q->first)
		q->start = q->first;
	ring_free(q);
	round_start(c, q);
}

static void query_next(struct cluster *c)
{
	struct audit_query *q = c->aq;
	char api[192], stream[96];
	struct pend *p;

	if (!q || q->running)
		return;
	q->running = 1;
	q->gen = ++c->aq_gen;
	q->deadline = loop_now() + AQ_DEADLINE_MS;
	audit_stream_name(c, stream, sizeof(stream));
	fmt_snprintf(api, sizeof(api), "$JS.API.STREAM.INFO.%s", stream);
	if (js_send(c, api, P_AUDIT_INFO, NULL, 0, NULL, &p) < 0)
		finish_error(c, q, 503, "cannot ask the fleet's audit stream now");
	else
		p->wgen = q->gen;
}

/* ---- what comes back ---- */

static void info_answer(struct cluster *c, struct audit_query *q, const struct nats_msg *m)
{
	struct json j;
	char why[200];
	long long code, first = 0, last = 0, msgs = 0;
	int st;

	if (js_answer(m, &j, NULL, &code, why, sizeof(why)) < 0) {
		finish_error(c, q, 503, why);
		return;
	}
	st = json_get(&j, 0, "state");
	json_int(&j, json_get(&j, st, "first_seq"), &first);
	json_int(&j, json_get(&j, st, "last_seq"), &last);
	json_int(&j, json_get(&j, st, "messages"), &msgs);
	json_free(&j);
	if (msgs <= 0 || last <= 0) {
		finish_entries(c, q);
		return;
	}
	q->first = (unsigned long long)first;
	q->last = (unsigned long long)last;
	q->window = q->limit * 4 > AQ_FIRST_WINDOW ? (unsigned long long)q->limit * 4 : AQ_FIRST_WINDOW;
	q->start = q->last >= q->window ? q->last - q->window + 1 : 1;
	if (q->start < q->first)
		q->start = q->first;
	round_start(c, q);
}

void auditq_answer(struct cluster *c, const struct pend *p, const struct nats_msg *m)
{
	struct audit_query *q = c->aq;
	struct json j;
	char why[200];
	long long code, pending = -1;
	int t;

	if (!q || !q->running || p->wgen != q->gen)
		return;                   /* a query that is over */
	if (p->kind == P_AUDIT_INFO) {
		info_answer(c, q, m);
		return;
	}
	if (js_answer(m, &j, NULL, &code, why, sizeof(why)) < 0) {
		finish_error(c, q, 503, why);
		return;
	}
	t = json_get(&j, 0, "name");
	if (t < 0 || json_strcpy(&j, t, q->consumer, sizeof(q->consumer)) < 0)
		q->consumer[0] = '\0';
	json_int(&j, json_get(&j, 0, "num_pending"), &pending);
	json_free(&j);
	if (pending == 0)
		round_done(c, q);
}

/* An entry: its line, with the server it came from ("server" first). */
void auditq_msg(struct cluster *c, int tag, const struct nats_msg *m)
{
	struct audit_query *q = c->aq;
	char base[96], node[CFG_CLUSTER_NODE_MAX + 1], *e;
	size_t bl = (size_t)fmt_snprintf(base, sizeof(base), "%s.audit.", cluster_prefix(c)), nl;
	const char *dot;

	if (!q || !q->running || !q->sub || tag - TAG_AUDIT != (int)(q->gen & 1) || !m->js)
		return;
	if (strncmp(m->subject, base, bl) == 0 && (dot = strchr(m->subject + bl, '.')) &&
	    (nl = (size_t)(dot - m->subject - bl)) <= CFG_CLUSTER_NODE_MAX && m->len > 1 &&
	    m->data[0] == '{' && (e = malloc(nl + m->len + 16))) {
		memcpy(node, m->subject + bl, nl);
		node[nl] = '\0';
		fmt_snprintf(e, nl + m->len + 16, "{\"server\":\"%s\",%.*s", node, (int)m->len - 1, m->data + 1);
		ring_push(q, e);
	}
	if (m->js_pending == 0)
		round_done(c, q);
}

void auditq_tick(struct cluster *c, int64_t now)
{
	struct audit_query *q = c->aq;

	if (q && q->running && now >= q->deadline)
		finish_error(c, q, 504, "the fleet's audit stream did not answer in time");
}

void auditq_fail_all(struct cluster *c, const char *why)
{
	while (c->aq)
		finish_error(c, c->aq, 503, why);
}

void auditq_close(struct cluster *c)
{
	struct audit_query *q;

	while ((q = c->aq)) {
		c->aq = q->next;
		consumer_stop(c, q);
		query_free(q);
	}
}

/* ---- asking ---- */

int auditq_query(struct cluster *c, const char *agent, const char *op, int limit,
		 cluster_audit_fn done, void *arg, char *why, size_t n)
{
	struct audit_query *q, **pp;

	q = calloc(1, sizeof(*q));
	if (!q || !(q->ring = calloc((size_t)limit, sizeof(char *)))) {
		free(q);
		fmt_snprintf(why, n, "out of memory");
		return -1;
	}
	q->done = done;
	q->arg = arg;
	q->limit = limit;
	fmt_snprintf(q->agent, sizeof(q->agent), "%s", agent ? agent : "");
	fmt_snprintf(q->op, sizeof(q->op), "%s", op ? op : "");
	for (pp = &c->aq; *pp; pp = &(*pp)->next)
		;
	*pp = q;
	query_next(c);
	return 0;
}

void cluster_audit_cancel(struct cluster *c, void *arg)
{
	struct audit_query **pp, *q;
	int was_running;

	for (pp = &c->aq; *pp && (*pp)->arg != arg; pp = &(*pp)->next)
		;
	if (!(q = *pp))
		return;
	*pp = q->next;
	was_running = q->running;
	consumer_stop(c, q);
	query_free(q);
	if (was_running)
		query_next(c);
}

#endif /* NESTD_NATS */
