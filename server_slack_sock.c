/* server_slack_sock.c - the Socket Mode session (see server_slack_sock.h):
 * its links, their hello and disconnect, acknowledgements, redeliveries
 * and the backoff between attempts. */
#include "server_slack_sock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "fmt.h"
#include "log.h"
#include "rnd.h"
#include "server_slack_api.h"
#include "server_slack_env.h"

#define DEFERRED 64

struct link {
	struct slack_sock *s;
	struct conn *c;
	int hello, draining;
	int64_t up_since;
	struct link *next;
};

struct slack_sock {
	struct slack_sock_env env;
	struct link *links;
	struct slack_call *opening;      /* apps.connections.open in flight */
	struct loop_src timer;           /* the next attempt */
	int attempt, closing;
	char (*seen)[SLACK_ID_MAX];      /* CFG_SLACK_SEEN ids, a ring */
	int seen_next;
	struct { char id[SLACK_ID_MAX]; struct link *l; } deferred[DEFERRED];
};

static void open_link(struct slack_sock *s);

/* A link that is, or will be, the one Slack sends to. */
static int have_live_link(const struct slack_sock *s)
{
	const struct link *l;

	for (l = s->links; l; l = l->next)
		if (!l->draining)
			return 1;
	return 0;
}

/* The next attempt, after the backoff (now when asap). */
static void schedule(struct slack_sock *s, int asap)
{
	long long d = asap ? 0 : rnd_backoff_ms(s->env.backoff_min_ms, s->env.backoff_max_ms,
						  s->attempt);

	if (s->closing || s->opening || s->timer.deadline || have_live_link(s))
		return;
	if (!asap && s->attempt < 30)
		s->attempt++;
	if (!asap)
		log_info("slack: connecting again in %.2f s", (double)d / 1000.0);
	s->timer.deadline = loop_now() + (d > 0 ? d : 1);
}

static void timer_ready(struct loop_src *src, short revents)
{
	struct slack_sock *s = src->arg;

	if (src->deadline && loop_now() >= src->deadline) {
		src->deadline = 0;
		open_link(s);
	}
}

/* ---- acknowledgements and redeliveries ---- */

static struct link *newest(struct slack_sock *s)
{
	struct link *l, *best = NULL;

	for (l = s->links; l; l = l->next)
		if (l->hello && (!best || (best->draining && !l->draining) ||
				 (l->draining == best->draining && l->up_since > best->up_since)))
			best = l;
	return best;
}

static int ack_on(struct link *l, const char *id, const char *payload, size_t n)
{
	struct buf b;
	int r;

	if (!l)
		return -1;
	buf_init(&b, 0);
	r = slack_env_ack(&b, id, payload, n);
	if (r == 0)
		r = conn_send_text(l->c, b.p, b.len);
	buf_free(&b);
	return r;
}

/* 1 when id came before (and is acknowledged again by the caller). */
static int seen_before(struct slack_sock *s, const char *id)
{
	int i;

	for (i = 0; i < CFG_SLACK_SEEN; i++)
		if (!strcmp(s->seen[i], id))
			return 1;
	fmt_copy(s->seen[s->seen_next], SLACK_ID_MAX, id);
	s->seen_next = (s->seen_next + 1) % CFG_SLACK_SEEN;
	return 0;
}

static void defer(struct slack_sock *s, struct link *l, const char *id)
{
	int i, k = 0;

	for (i = 0; i < DEFERRED; i++)
		if (!s->deferred[i].id[0]) {
			k = i;
			break;
		}
	fmt_copy(s->deferred[k].id, SLACK_ID_MAX, id);
	s->deferred[k].l = l;
}

int slack_sock_ack(struct slack_sock *s, const char *id, const char *payload, size_t n)
{
	struct link *l = NULL;
	int i;

	for (i = 0; i < DEFERRED; i++)
		if (!strcmp(s->deferred[i].id, id)) {
			l = s->deferred[i].l;
			s->deferred[i].id[0] = '\0';
			break;
		}
	if (!l)
		l = newest(s);
	return ack_on(l, id, payload, n);
}

/* ---- a link's messages ---- */

static void on_disconnect(struct link *l, const char *reason)
{
	struct slack_sock *s = l->s;

	log_info("slack: disconnect (%s)", reason);
	if (l->draining)
		return;
	l->draining = 1;
	/* Kept until Slack closes it, so what it still carries arrives. */
	conn_set_timer(l->c, loop_now() + CFG_SLACK_DRAIN_MS);
	schedule(s, strcmp(reason, "link_disabled") != 0);
}

static void on_envelope(struct link *l, const struct slack_env *e, int bad, const char *why)
{
	struct slack_sock *s = l->s;

	if (!e->envelope_id[0]) {
		log_warn("slack: %s without an envelope_id", slack_env_type_name(e->type));
		return;
	}
	if (seen_before(s, e->envelope_id)) {
		log_info("slack: envelope %s again (retry %d): not acted on twice", e->envelope_id,
			 e->retry_attempt);
		ack_on(l, e->envelope_id, NULL, 0);
		return;
	}
	if (bad)
		log_warn("slack: envelope %s not understood: %s", e->envelope_id, why);
	if (e->type == SE_SLASH && !bad) {
		defer(s, l, e->envelope_id);
		if (!s->env.on_envelope(s->env.arg, e))
			slack_sock_ack(s, e->envelope_id, NULL, 0);
		return;
	}
	ack_on(l, e->envelope_id, NULL, 0);
	if (!bad && e->kind != SK_NONE)
		s->env.on_envelope(s->env.arg, e);
}

static void on_text(struct conn *c, char *p, size_t n)
{
	struct link *l = c->owner;
	struct slack_env *e = malloc(sizeof(*e));
	char why[160];
	int bad;

	if (!e)
		return;
	bad = slack_env_parse(e, p, n, why, sizeof(why)) < 0;
	if (e->type == SE_HELLO) {
		l->hello = 1;
		l->up_since = loop_now();
		conn_set_timer(c, 0);
		log_info("slack: Socket Mode link up (%s)", c->peer);
	} else if (e->type == SE_DISCONNECT) {
		on_disconnect(l, e->reason);
	} else if (e->type != SE_UNKNOWN) {
		on_envelope(l, e, bad, why);
	} else if (bad && !e->envelope_id[0]) {
		log_warn("slack: malformed Socket Mode message: %s", why);
	} else {
		log_debug("slack: a message of another type");
		if (e->envelope_id[0])
			ack_on(l, e->envelope_id, NULL, 0);
	}
	free(e);
}

static void on_open(struct conn *c)
{
	conn_set_state(c, CONN_OPEN);
	conn_set_max_message(c, CFG_SLACK_MAX_ENVELOPE);
	conn_set_timer(c, loop_now() + CFG_HANDSHAKE_TIMEOUT_MS);    /* for hello */
}

static void on_timer(struct conn *c)
{
	struct link *l = c->owner;

	conn_close(c, 1000, l->hello ? "refreshed" : "no hello");
}

static void on_close(struct conn *c, const char *why)
{
	struct link *l = c->owner, **pp;
	struct slack_sock *s = l->s;
	int i;

	for (pp = &s->links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	for (i = 0; i < DEFERRED; i++)
		if (s->deferred[i].l == l)
			s->deferred[i].l = NULL;
	if (l->hello && loop_now() - l->up_since >= CFG_RECONNECT_STABLE_MS)
		s->attempt = 0;
	if (s->closing)
		;
	else if (l->draining)
		log_info("slack: the refreshed link closed: %s", why);
	else
		log_warn("slack: link lost: %s", why);
	free(l);
	schedule(s, 0);
}

static const struct conn_ops link_ops = {
	.on_open = on_open,
	.on_text = on_text,
	.on_timer = on_timer,
	.on_close = on_close,
};

/* ---- opening a link ---- */

static int dial(struct slack_sock *s, const char *url, char *err, size_t errlen)
{
	struct net_url u;
	struct link *l;

	if (net_parse_url(url, &u, err, errlen) < 0)
		return -1;
	if (u.scheme != URL_WS && u.scheme != URL_WSS) {
		fmt_snprintf(err, errlen, "not a ws:// or wss:// URL");
		return -1;
	}
	if (u.tls && !s->env.tls) {
		fmt_snprintf(err, errlen, "wss:// needs TLS: built without it");
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (!l || !(l->c = conn_dial_url(s->env.loop, &u, 0, &link_ops, l, err, errlen))) {
		if (!l)
			fmt_snprintf(err, errlen, "out of memory");
		free(l);
		return -1;
	}
	l->s = s;
	l->next = s->links;
	s->links = l;
	if (u.tls && conn_set_tls(l->c, s->env.tls, u.host) < 0) {
		conn_destroy(l->c, "out of memory");
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	conn_set_ping(l->c, s->env.ping_ms);
	return 0;
}

static void opened(void *arg, const char *error, const struct json *j)
{
	struct slack_sock *s = arg;
	char url[1200], err[200];

	s->opening = NULL;
	if (error) {
		log_error("slack: apps.connections.open: %s", error);
	} else if (json_strcpy(j, json_get(j, 0, "url"), url, sizeof(url)) < 0) {
		log_error("slack: apps.connections.open: no url");
	} else if (dial(s, url, err, sizeof(err)) < 0) {
		/* The URL holds a one-time ticket: not logged. */
		log_error("slack: Socket Mode link: %s", err);
	} else {
		return;
	}
	schedule(s, 0);
}

static void open_link(struct slack_sock *s)
{
	if (s->closing || s->opening)
		return;
	s->opening = slack_api_call(s->env.api, "apps.connections.open", SLACK_APP, "{}", 2,
				    CFG_SLACK_CALL_TIMEOUT_MS, opened, s);
	if (!s->opening)
		schedule(s, 0);
}

struct slack_sock *slack_sock_new(const struct slack_sock_env *env)
{
	struct slack_sock *s = calloc(1, sizeof(*s));

	if (!s || !(s->seen = calloc(CFG_SLACK_SEEN, SLACK_ID_MAX))) {
		free(s);
		return NULL;
	}
	s->env = *env;
	s->timer.fd = -1;
	s->timer.ready = timer_ready;
	s->timer.arg = s;
	if (loop_add(env->loop, &s->timer) < 0) {
		free(s->seen);
		free(s);
		return NULL;
	}
	open_link(s);
	return s;
}

void slack_sock_close(struct slack_sock *s)
{
	struct link *l;

	s->closing = 1;
	s->timer.deadline = 0;
	if (s->opening)
		slack_api_cancel(s->opening);
	s->opening = NULL;
	for (l = s->links; l; l = l->next)
		conn_close(l->c, 1001, "server shutting down");
}

void slack_sock_free(struct slack_sock *s)
{
	if (!s)
		return;
	s->closing = 1;
	if (s->opening)
		slack_api_cancel(s->opening);
	while (s->links)
		conn_destroy(s->links->c, "server shutting down");
	loop_del(s->env.loop, &s->timer);
	free(s->seen);
	free(s);
}

int slack_sock_up(const struct slack_sock *s)
{
	const struct link *l;
	int n = 0;

	for (l = s->links; l; l = l->next)
		n += l->hello;
	return n;
}
