/* httpc.c - the outbound HTTP/1.1 client (see httpc.h): a sans-I/O
 * response parser (RFC 9112 sections 6 and 7: Content-Length, chunked
 * transfer coding, a body delimited by the end of the connection), and a
 * small keep-alive pool on conn.c's raw client mode. */
#include "httpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "fmt.h"
#include "http.h"
#include "log.h"
#include "loop.h"

/* ---- the response parser ---- */

void httpc_parser_init(struct httpc_parser *p, size_t max_body)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->head, CFG_HTTP_MAX_HEADER);
	buf_init(&p->body, max_body);
	p->retry_after = -1;
}

void httpc_parser_free(struct httpc_parser *p)
{
	buf_free(&p->head);
	buf_free(&p->body);
}

static size_t fail(struct httpc_parser *p, const char *why, size_t used)
{
	p->state = HP_ERROR;
	p->why = why;
	return used;
}

/* Retry-After in delay-seconds (RFC 9110 10.2.3); an HTTP-date is taken
 * as one second, which only makes the caller retry sooner. */
static long long retry_after(const struct http_span *v)
{
	long long x = 0;
	size_t i;

	for (i = 0; i < v->n && i < 9; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			return 1;
		x = x * 10 + (v->p[i] - '0');
	}
	return i ? x : 1;
}

/* The whole head is in p->head: how the body is framed. */
static int head_done(struct httpc_parser *p, const struct http_resp *r)
{
	const struct http_span *te = http_get(r->h, r->nh, "Transfer-Encoding");
	const struct http_span *ra = http_get(r->h, r->nh, "Retry-After");
	const struct http_span *cn = http_get(r->h, r->nh, "Connection");
	long long cl = http_content_length(r->h, r->nh);

	p->status = r->status;
	if (r->status < 200)
		return -1;      /* an interim answer: we never send Expect, so never wait for one */
	if (ra)
		p->retry_after = retry_after(ra);
	p->keep_alive = r->minor >= 1 && !(cn && http_has_token(cn, "close"));
	if (r->status == 204 || r->status == 304) {   /* no body (we never send HEAD) */
		p->state = HP_DONE;
	} else if (te) {
		/* chunked must be the last coding (RFC 9112 6.3); we ask for
		 * no other, so any other is refused. */
		if (!http_span_ieq(te, "chunked"))
			return -1;
		p->state = HP_CHUNK_SIZE;
	} else if (cl == -2) {
		return -1;
	} else if (cl >= 0) {
		p->left = (unsigned long long)cl;
		p->state = cl ? HP_BODY : HP_DONE;
	} else {
		p->keep_alive = 0;
		p->state = HP_UNTIL_EOF;
	}
	return 0;
}

static size_t feed_head(struct httpc_parser *p, const char *in, size_t n)
{
	size_t room = p->head.max - p->head.len, take = n < room ? n : room, rest;
	struct http_resp r;
	int h;

	if (buf_append(&p->head, in, take) < 0)
		return fail(p, "out of memory", 0);
	h = http_parse_response(p->head.p, p->head.len, &r);
	if (h == HTTP_INCOMPLETE)
		return take < n || p->head.len == p->head.max ? fail(p, "response head too large", take)
							       : take;
	if (h < 0)
		return fail(p, h == HTTP_TOO_LARGE ? "response head too large" : "malformed response head",
			    take);
	rest = p->head.len - (size_t)h;          /* bytes past the head came from in */
	if (head_done(p, &r) < 0)
		return fail(p, "unsupported response framing", take - rest);
	return take - rest;
}

/* A chunk-size line or a trailer line, collected until LF: 1 when
 * p->line holds one (without its CR LF), 0 when more is needed. */
static int take_line(struct httpc_parser *p, const char *in, size_t n, size_t *used)
{
	const char *lf = memchr(in, '\n', n);
	size_t k = lf ? (size_t)(lf - in) : n;

	if (p->line_len + k >= sizeof(p->line)) {
		*used = n;
		return -1;
	}
	memcpy(p->line + p->line_len, in, k);
	p->line_len += k;
	*used = lf ? k + 1 : k;
	if (!lf)
		return 0;
	if (p->line_len && p->line[p->line_len - 1] == '\r')
		p->line_len--;
	p->line[p->line_len] = '\0';
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* chunk-size [ chunk-ext ]: the size, or -1. */
static long long chunk_size(const char *s)
{
	long long x = 0;
	int i, d;

	for (i = 0; (d = hexval(s[i])) >= 0; i++) {
		if (i >= 15)
			return -1;
		x = x * 16 + d;
	}
	if (i == 0 || (s[i] && s[i] != ';' && s[i] != ' ' && s[i] != '\t'))
		return -1;
	return x;
}

static size_t feed_lines(struct httpc_parser *p, const char *in, size_t n)
{
	size_t used;
	int got = take_line(p, in, n, &used);
	long long sz;

	if (got < 0)
		return fail(p, "chunk line too long", used);
	if (!got)
		return used;
	p->line_len = 0;
	if (p->state == HP_CHUNK_END) {
		if (p->line[0])
			return fail(p, "malformed chunk end", used);
		p->state = HP_CHUNK_SIZE;
	} else if (p->state == HP_TRAILER) {
		if (!p->line[0])
			p->state = HP_DONE;      /* trailer fields are read and dropped */
	} else if ((sz = chunk_size(p->line)) < 0) {
		return fail(p, "malformed chunk size", used);
	} else if (sz == 0) {
		p->state = HP_TRAILER;
	} else {
		p->left = (unsigned long long)sz;
		p->state = HP_CHUNK_DATA;
	}
	return used;
}

size_t httpc_parser_feed(struct httpc_parser *p, const char *in, size_t n)
{
	size_t k;

	switch (p->state) {
	case HP_HEAD:
		return feed_head(p, in, n);
	case HP_BODY:
	case HP_CHUNK_DATA:
	case HP_UNTIL_EOF:
		k = p->state == HP_UNTIL_EOF || p->left > n ? n : (size_t)p->left;
		if (buf_append(&p->body, in, k) < 0)
			return fail(p, "response body too large", k);
		if (p->state != HP_UNTIL_EOF && !(p->left -= k))
			p->state = p->state == HP_BODY ? HP_DONE : HP_CHUNK_END;
		return k;
	case HP_CHUNK_SIZE:
	case HP_CHUNK_END:
	case HP_TRAILER:
		return feed_lines(p, in, n);
	default:
		return 0;
	}
}

int httpc_parser_eof(struct httpc_parser *p)
{
	if (p->state == HP_UNTIL_EOF)
		p->state = HP_DONE;
	if (p->state == HP_DONE)
		return 0;
	if (p->state != HP_ERROR) {
		p->state = HP_ERROR;
		p->why = "connection closed before the whole answer";
	}
	return -1;
}

/* ---- the client ---- */

struct hconn;

struct httpc_req {
	struct httpc *h;
	struct httpc_req *next;       /* in the queue */
	struct hconn *hc;             /* carrying it; NULL while queued */
	struct buf text;              /* the request as sent */
	int64_t deadline;
	int retried;
	char err[160];                /* failed before it was sent: why */
	httpc_done_fn done;           /* NULL: cancelled */
	void *arg;
};

struct hconn {
	struct httpc *h;
	struct conn *c;
	struct httpc_req *cur;        /* in flight, or NULL: idle */
	struct httpc_parser p;
	int answered;                 /* requests it answered (so: reused) */
	int got_bytes;                /* some of cur's answer arrived */
	int dead;
	struct hconn *next;
};

struct httpc {
	struct loop *loop;
	struct net_url origin;
	struct tls_ctx *tls;
	int max_conns, nconns;
	struct hconn *conns;
	struct httpc_req *queue, *queue_tail;
	struct loop_src timer;        /* the queue's deadlines */
	int freeing;
	int pumping;                  /* pump is on the stack: do not re-enter */
	char host_hdr[300];
};

static void pump(struct httpc *h);

static void req_free(struct httpc_req *r)
{
	if (r->text.p)
		memset(r->text.p, 0, r->text.len);   /* it may hold a token */
	buf_free(&r->text);
	free(r);
}

static void req_end(struct httpc_req *r, int status, long long ra, const char *body, size_t n,
		    const char *err)
{
	if (r->done && !r->h->freeing)
		r->done(r->arg, status, ra, body, n, err);
	req_free(r);
}

/* cur's exchange is over: answered (err NULL) or failed.  The answer is
 * taken out of hc first: while done runs, hc may carry the next request. */
static void finish(struct hconn *hc, const char *err)
{
	struct httpc_req *r = hc->cur;
	struct httpc_parser p = hc->p;
	struct httpc *h = hc->h;

	memset(&hc->p, 0, sizeof(hc->p));
	hc->cur = NULL;
	r->hc = NULL;
	hc->answered++;
	if (err || !p.keep_alive) {
		hc->dead = 1;
		conn_abort(hc->c, err ? err : "answered");
	} else {
		conn_set_timer(hc->c, loop_now() + CFG_HTTPC_IDLE_MS);
	}
	if (err)
		req_end(r, 0, -1, NULL, 0, err);
	else
		req_end(r, p.status, p.retry_after, p.body.p ? p.body.p : "", p.body.len, NULL);
	httpc_parser_free(&p);
	pump(h);
}

static void on_bytes(struct conn *c, const char *in, size_t n)
{
	struct hconn *hc = c->owner;
	struct httpc_parser *p = &hc->p;

	if (!hc->cur) {
		hc->dead = 1;
		conn_abort(c, n ? "bytes from the server while idle" : "closed while idle");
		return;
	}
	if (!n) {
		if (!hc->got_bytes && hc->answered && !hc->cur->retried) {
			/* A reused connection the server had closed: send the
			 * request once more on a fresh one. */
			struct httpc_req *r = hc->cur;

			hc->cur = NULL;
			r->hc = NULL;
			r->retried = 1;
			r->next = hc->h->queue;
			hc->h->queue = r;
			if (!r->next)
				hc->h->queue_tail = r;
			hc->dead = 1;
			httpc_parser_free(p);
			return;     /* pumped from on_close */
		}
		finish(hc, httpc_parser_eof(p) == 0 ? NULL : p->why);
		return;
	}
	hc->got_bytes = 1;
	while (n && p->state != HP_DONE && p->state != HP_ERROR) {
		size_t k = httpc_parser_feed(p, in, n);

		in += k;
		n -= k;
		if (!k)
			break;
	}
	if (p->state == HP_ERROR)
		finish(hc, p->why);
	else if (p->state == HP_DONE) {
		if (n)
			p->keep_alive = 0;      /* bytes beyond the answer: not ours */
		finish(hc, NULL);
	}
}

static void on_timer(struct conn *c)
{
	struct hconn *hc = c->owner;

	if (hc->cur) {
		finish(hc, "timed out");
	} else {
		hc->dead = 1;
		conn_abort(c, "idle");
	}
}

static void on_close(struct conn *c, const char *why)
{
	struct hconn *hc = c->owner, **pp;
	struct httpc *h = hc->h;

	for (pp = &h->conns; *pp; pp = &(*pp)->next)
		if (*pp == hc) {
			*pp = hc->next;
			break;
		}
	h->nconns--;
	if (hc->cur) {
		hc->cur->hc = NULL;
		req_end(hc->cur, 0, -1, NULL, 0, why);
		httpc_parser_free(&hc->p);
	}
	free(hc);
	if (!h->freeing)
		pump(h);
}

static const struct conn_ops httpc_ops = {
	.on_bytes = on_bytes,
	.on_timer = on_timer,
	.on_close = on_close,
};

static void start(struct hconn *hc, struct httpc_req *r)
{
	hc->cur = r;
	hc->got_bytes = 0;
	r->hc = hc;
	httpc_parser_init(&hc->p, CFG_HTTPC_MAX_BODY);
	conn_set_timer(hc->c, r->deadline);
	if (conn_send_raw(hc->c, r->text.p, r->text.len) < 0)
		finish(hc, "cannot send the request");
}

/* A new connection for r; -1 (r->err set) when it cannot be opened. */
static int dial(struct httpc *h, struct httpc_req *r)
{
	struct hconn *hc = calloc(1, sizeof(*hc));

	if (!hc) {
		fmt_snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	hc->h = h;
	hc->c = conn_dial_url(h->loop, &h->origin, 1, &httpc_ops, hc, r->err, sizeof(r->err));
	if (!hc->c) {
		free(hc);
		return -1;
	}
	hc->next = h->conns;
	h->conns = hc;
	h->nconns++;
	if (h->tls && conn_set_tls(hc->c, h->tls, h->origin.host) < 0) {
		fmt_snprintf(r->err, sizeof(r->err), "out of memory");
		conn_destroy(hc->c, "out of memory");
		return -1;
	}
	start(hc, r);
	return 0;
}

static struct hconn *idle_conn(struct httpc *h)
{
	struct hconn *hc;

	for (hc = h->conns; hc; hc = hc->next)
		if (!hc->cur && !hc->dead)
			return hc;
	return NULL;
}

/* Queued requests go out while a connection can take them.  A request
 * that cannot be sent fails from the timer, never from inside
 * httpc_post. */
static void pump(struct httpc *h)
{
	struct httpc_req *r;
	struct hconn *hc;
	int64_t d = 0;

	if (h->pumping)
		return;
	h->pumping = 1;
	while ((r = h->queue) && !r->err[0]) {
		hc = idle_conn(h);
		if (!hc && h->nconns >= h->max_conns)
			break;
		h->queue = r->next;
		if (!h->queue)
			h->queue_tail = NULL;
		r->next = NULL;
		if (hc) {
			start(hc, r);
		} else if (dial(h, r) < 0) {
			r->next = h->queue;      /* fails at the timer, with r->err */
			h->queue = r;
			if (!r->next)
				h->queue_tail = r;
			break;
		}
	}
	for (r = h->queue; r; r = r->next)
		if (!d || r->deadline < d || r->err[0])
			d = r->err[0] ? loop_now() : r->deadline;
	h->timer.deadline = d;
	h->pumping = 0;
}

static void timer_ready(struct loop_src *s, short revents)
{
	struct httpc *h = s->arg;
	struct httpc_req **pp = &h->queue, *r;
	int64_t now = loop_now();

	h->queue_tail = NULL;
	while ((r = *pp)) {
		if (r->err[0] || now >= r->deadline) {
			*pp = r->next;
			req_end(r, 0, -1, NULL, 0, r->err[0] ? r->err : "timed out waiting for a connection");
			continue;
		}
		h->queue_tail = r;
		pp = &r->next;
	}
	pump(h);
}

struct httpc *httpc_new(struct loop *l, const struct net_url *origin, struct tls_ctx *tls,
			int max_conns)
{
	struct httpc *h = calloc(1, sizeof(*h));
	int v6 = strchr(origin->host, ':') != NULL;
	const char *dport = origin->tls ? "443" : "80";

	if (!h)
		return NULL;
	h->loop = l;
	h->origin = *origin;
	h->tls = tls;
	h->max_conns = max_conns > 0 ? max_conns : 1;
	fmt_snprintf(h->host_hdr, sizeof(h->host_hdr), "%s%s%s%s%s", v6 ? "[" : "", origin->host,
		 v6 ? "]" : "", strcmp(origin->port, dport) ? ":" : "",
		 strcmp(origin->port, dport) ? origin->port : "");
	h->timer.fd = -1;
	h->timer.ready = timer_ready;
	h->timer.arg = h;
	if (loop_add(l, &h->timer) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void httpc_free(struct httpc *h)
{
	struct httpc_req *r;

	if (!h)
		return;
	h->freeing = 1;
	while (h->conns)
		conn_destroy(h->conns->c, "client shutting down");
	while ((r = h->queue)) {
		h->queue = r->next;
		req_free(r);
	}
	loop_del(h->loop, &h->timer);
	free(h);
}

struct httpc_req *httpc_post(struct httpc *h, const char *path, const char *headers,
			     const char *ctype, const char *body, size_t n, long long timeout_ms,
			     httpc_done_fn done, void *arg)
{
	struct httpc_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->h = h;
	r->done = done;
	r->arg = arg;
	r->deadline = loop_now() + timeout_ms;
	buf_init(&r->text, 0);
	if (buf_printf(&r->text, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nestd/" NESTD_VERSION
		       "\r\nAccept: application/json\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
		       path, h->host_hdr, ctype, n, headers ? headers : "") < 0 ||
	    buf_append(&r->text, body, n) < 0) {
		req_free(r);
		return NULL;
	}
	if (h->queue_tail)
		h->queue_tail->next = r;
	else
		h->queue = r;
	h->queue_tail = r;
	pump(h);
	return r;
}

void httpc_cancel(struct httpc_req *r)
{
	struct httpc *h = r->h;
	struct httpc_req **pp;

	r->done = NULL;
	if (r->hc)
		return;             /* in flight: dropped when it ends */
	h->queue_tail = NULL;
	for (pp = &h->queue; *pp;) {
		if (*pp == r) {
			*pp = r->next;
			req_free(r);
			continue;
		}
		h->queue_tail = *pp;
		pp = &(*pp)->next;
	}
	pump(h);
}
