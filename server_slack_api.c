/* server_slack_api.c - Slack's Web API over httpc.c (see
 * server_slack_api.h): one record per call from the asker to its answer,
 * through any wait a 429 imposes. */
#include "server_slack_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "httpc.h"
#include "log.h"
#include "loop.h"
#include "net.h"

struct slack_call {
	struct slack_api *a;
	struct slack_call *next;        /* waiting out a 429 */
	struct slack_call *anext, **aprev;   /* every call of the api */
	char method[40];
	int token;
	struct buf body;
	int64_t deadline, resend_at;
	struct httpc_req *req;          /* in flight; NULL while waiting */
	slack_api_fn done;              /* NULL: cancelled */
	void *arg;
};

struct slack_api {
	struct loop *loop;
	struct httpc *http;
	char path[sizeof(((struct net_url *)0)->path) + 2];
	char hdr[2][320];               /* "Authorization: Bearer …\r\n", bot and app */
	struct slack_call *waiting;
	struct slack_call *all;
	struct loop_src timer;
	int64_t held_until;             /* after a 429: no call goes before this */
};

static void call_free(struct slack_call *c)
{
	*c->aprev = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	buf_free(&c->body);
	free(c);
}

static void end(struct slack_call *c, const char *error, const struct json *j)
{
	if (c->done)
		c->done(c->arg, error, j);
	call_free(c);
}

static void wait_then_send(struct slack_call *c, int64_t at)
{
	struct slack_api *a = c->a;

	c->resend_at = at;
	c->next = a->waiting;
	a->waiting = c;
	if (!a->timer.deadline || at < a->timer.deadline)
		a->timer.deadline = at;
}

static void http_done(void *arg, int status, long long ra, const char *body, size_t n,
		      const char *err);

static void send_call(struct slack_call *c)
{
	struct slack_api *a = c->a;
	int64_t now = loop_now(), until = a->held_until;
	char path[sizeof(a->path) + 48];

	if (until > now) {
		wait_then_send(c, until);
		return;
	}
	fmt_snprintf(path, sizeof(path), "%s%s", a->path, c->method);
	c->req = httpc_post(a->http, path, a->hdr[c->token], "application/json; charset=utf-8",
			    c->body.p, c->body.len, c->deadline - now, http_done, c);
	if (!c->req)
		wait_then_send(c, now);     /* out of memory: try once more from the timer */
}

/* A 200's body: Slack's verdict. */
static void answered(struct slack_call *c, const char *body, size_t n)
{
	struct json j;
	char err[96], code[64];
	int ok = 0;

	if (json_parse(&j, body, n, err, sizeof(err)) < 0 || json_type(&j, 0) != JSON_OBJECT) {
		if (j.t)
			json_free(&j);
		log_warn("slack: %s: the answer is not a JSON object", c->method);
		end(c, "malformed answer", NULL);
		return;
	}
	json_bool(&j, json_get(&j, 0, "ok"), &ok);
	if (ok) {
		end(c, NULL, &j);
	} else {
		if (json_strcpy(&j, json_get(&j, 0, "error"), code, sizeof(code)) < 0 || !code[0])
			fmt_snprintf(code, sizeof(code), "unknown_error");
		log_warn("slack: %s failed: %s", c->method, code);
		end(c, code, &j);
	}
	json_free(&j);
}

static void http_done(void *arg, int status, long long ra, const char *body, size_t n,
		      const char *err)
{
	struct slack_call *c = arg;
	char why[200];
	int64_t now = loop_now();

	c->req = NULL;
	if (!c->done) {
		call_free(c);
		return;
	}
	if (status == 429) {
		long long wait_ms = (ra > 0 ? (ra < CFG_RETRY_AFTER_MAX_S ? ra : CFG_RETRY_AFTER_MAX_S) : 1) * 1000;

		/* Slack limits each method on its own; holding every call is
		 * simpler and never sooner than asked. */
		c->a->held_until = now + wait_ms;
		if (now + wait_ms < c->deadline) {
			log_warn("slack: %s rate limited: sending again in %lld s", c->method, wait_ms / 1000);
			wait_then_send(c, now + wait_ms);
			return;
		}
		log_warn("slack: %s rate limited past its deadline", c->method);
		end(c, "ratelimited", NULL);
		return;
	}
	if (!status || status != 200) {
		if (status)
			fmt_snprintf(why, sizeof(why), "HTTP %d", status);
		else
			fmt_snprintf(why, sizeof(why), "%s", err ? err : "no answer");
		log_warn("slack: %s: %s", c->method, why);
		end(c, why, NULL);
		return;
	}
	answered(c, body, n);
}

static void timer_ready(struct loop_src *s, short revents)
{
	struct slack_api *a = s->arg;
	struct slack_call *c, *due = NULL, **pp = &a->waiting;
	int64_t now = loop_now(), next = 0;

	while ((c = *pp)) {
		if (c->resend_at <= now) {
			*pp = c->next;
			c->next = due;
			due = c;
			continue;
		}
		if (!next || c->resend_at < next)
			next = c->resend_at;
		pp = &c->next;
	}
	s->deadline = next;
	while ((c = due)) {
		due = c->next;
		c->next = NULL;
		if (!c->done)
			call_free(c);
		else if (now >= c->deadline)
			end(c, "timed out", NULL);
		else
			send_call(c);
	}
}

struct slack_api *slack_api_new(struct loop *l, const struct net_url *base, struct tls_ctx *tls,
				const char *bot_token, const char *app_token)
{
	struct slack_api *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->loop = l;
	fmt_snprintf(a->path, sizeof(a->path), "%s%s", base->path,
		 base->path[strlen(base->path) - 1] == '/' ? "" : "/");
	fmt_snprintf(a->hdr[SLACK_BOT], sizeof(a->hdr[0]), "Authorization: Bearer %.255s\r\n", bot_token);
	fmt_snprintf(a->hdr[SLACK_APP], sizeof(a->hdr[0]), "Authorization: Bearer %.255s\r\n", app_token);
	a->http = httpc_new(l, base, tls, CFG_SLACK_HTTP_CONNS);
	a->timer.fd = -1;
	a->timer.ready = timer_ready;
	a->timer.arg = a;
	if (!a->http || loop_add(l, &a->timer) < 0) {
		httpc_free(a->http);
		free(a);
		return NULL;
	}
	return a;
}

void slack_api_free(struct slack_api *a)
{
	struct slack_call *c;

	if (!a)
		return;
	/* In-flight calls end inside httpc_free without their done. */
	httpc_free(a->http);
	while ((c = a->all))
		call_free(c);
	loop_del(a->loop, &a->timer);
	memset(a->hdr, 0, sizeof(a->hdr));
	free(a);
}

struct slack_call *slack_api_call(struct slack_api *a, const char *method, int token,
				  const char *body, size_t n, long long timeout_ms,
				  slack_api_fn done, void *arg)
{
	struct slack_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->a = a;
	c->anext = a->all;
	c->aprev = &a->all;
	if (a->all)
		a->all->aprev = &c->anext;
	a->all = c;
	c->token = token == SLACK_APP;
	c->done = done;
	c->arg = arg;
	c->deadline = loop_now() + timeout_ms;
	fmt_copy(c->method, sizeof(c->method), method);
	buf_init(&c->body, 0);
	if (buf_append(&c->body, body, n) < 0) {
		call_free(c);
		return NULL;
	}
	send_call(c);
	return c;
}

void slack_api_cancel(struct slack_call *c)
{
	c->done = NULL;
	if (c->req) {
		httpc_cancel(c->req);    /* its done will not come: free it here */
		call_free(c);
	}
	/* waiting: freed when the timer comes to it */
}
