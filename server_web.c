/* server_web.c - who is asking (see server_web.h): an operator's Bearer
 * token, or the dashboard's session cookie, and the login that makes one.
 *
 *   POST   /api/session    Authorization: Bearer TOKEN -> Set-Cookie, the session
 *   GET    /api/session    the session: operator, created, expires
 *   DELETE /api/session    logout (?all=1: every session of this token)
 *
 * The cookie: nestd_session=64 hex; HttpOnly (no script reads it),
 * SameSite=Strict (no other site's page sends it), Secure when the
 * connection is TLS or --public-url is https, Max-Age CFG_SESSION_TTL_S,
 * and no Path: the browser's default, the API's own directory.  Every
 * request made with it, the login included, must carry X-Nestd-CSRF.
 * Bearer tokens keep working everywhere, with or without a session. */
#include "server_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "conn.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "server_admit.h"
#include "server_gate.h"
#include "server_reply.h"
#include "server_audit.h"
#include "server_int.h"
#include "server_session.h"
#include "server_state.h"

/* The cookie's value in the request, *n bytes; NULL when absent. */
static const char *cookie_value(const struct http_req *req, size_t *n)
{
	const struct http_span *h = http_get(req->h, req->nh, "Cookie");
	static const char key[] = WEB_COOKIE "=";
	const size_t kl = sizeof(key) - 1;
	size_t i = 0;

	while (h && i + kl <= h->n) {
		while (i < h->n && (h->p[i] == ' ' || h->p[i] == ';'))
			i++;
		if (i + kl <= h->n && !memcmp(h->p + i, key, kl)) {
			size_t b = i + kl, e = b;

			while (e < h->n && h->p[e] != ';' && h->p[e] != ' ')
				e++;
			*n = e - b;
			return h->p + b;
		}
		while (i < h->n && h->p[i] != ';')
			i++;
	}
	return NULL;
}

int web_has_session(const struct http_req *req)
{
	size_t n;

	return cookie_value(req, &n) != NULL;
}

static int secure(const struct server *s, const struct conn *c)
{
	return c->tls || !strncmp(s->o->public_url, "https://", 8);
}

/* "Set-Cookie: ..." with the value (NULL: an expired cookie, to clear it). */
static void set_cookie(const struct server *s, const struct conn *c, const char *v, char *out,
		       size_t cap)
{
	fmt_snprintf(out, cap, "Set-Cookie: " WEB_COOKIE "=%s; Max-Age=%d; HttpOnly; SameSite=Strict%s\r\n",
		 v ? v : "", v ? CFG_SESSION_TTL_S : 0, secure(s, c) ? "; Secure" : "");
}

/* 401 with the cookie cleared. */
static void ended(struct server *s, struct conn *c, const char *why)
{
	char clear[200], hdr[300];

	set_cookie(s, c, NULL, clear, sizeof(clear));
	fmt_snprintf(hdr, sizeof(hdr), "%sWWW-Authenticate: Bearer realm=\"nestd\"\r\n", clear);
	api_error(c, 401, hdr, why);
}

/* 1 after answering 403 to a request without the header. */
static int csrf_refused(struct conn *c, const struct http_req *req)
{
	const struct http_span *h = http_get(req->h, req->nh, WEB_CSRF_HEADER);

	if (h && h->n)
		return 0;
	log_warn("request from %s with a session cookie but no " WEB_CSRF_HEADER " header: refused",
		 c->peer);
	api_error(c, 403, NULL, "a session cookie must come with the " WEB_CSRF_HEADER " header "
		  "(the dashboard sends it): a request from another site's page is refused");
	return 1;
}

const struct token_entry *web_session_operator(struct server *s, struct conn *c,
					       const struct http_req *req)
{
	struct sessions *ss = state_sessions(s->state);
	const struct token_entry *e;
	const struct session *se;
	size_t n = 0;
	const char *v = cookie_value(req, &n);

	if (csrf_refused(c, req))
		return NULL;
	if (s->tokens_recheck)
		s->tokens_recheck(s);
	se = v ? session_find(ss, v, n, (long long)time(NULL)) : NULL;
	if (!se) {
		ended(s, c, "your session has ended (expired, logged out, or the server forgot it): "
		      "log in again");
		return NULL;
	}
	e = token_db_find_hash(&s->db, se->token_hash);
	if (!e || e->role != ROLE_OPERATOR) {
		log_info("session of %s ended: its token was revoked", se->name);
		session_end(ss, v, n);
		state_changed(s->state);
		ended(s, c, "the token this session was made from was revoked: log in again");
		return NULL;
	}
	return e;
}

/* The operator the token this connection showed last names, if t is that
 * token again: keep-alive clients send the same header with every
 * request, and its two SHA-256 (checksum, then the hash looked up) were
 * a third of the server's work per relayed command.  The entry is looked
 * up by hash each time, so a revoked token fails here as it would
 * anywhere.  Compared in constant time. */
static const struct token_entry *bearer_again(struct server *s, const struct peer *p,
					      const char *t)
{
	const struct token_entry *e;
	unsigned char d = 0;
	size_t i;

	if (!p->bearer)
		return NULL;
	for (i = 0; i < TOKEN_LEN; i++)
		d |= (unsigned char)(p->bearer->token[i] ^ t[i]);
	if (d)
		return NULL;
	e = token_db_find_hash(&s->db, p->bearer->hash);
	return e && e->role == ROLE_OPERATOR ? e : NULL;
}

/* Why a Bearer header names no operator; NULL when *e is one. */
static const char *check_bearer(struct server *s, struct peer *p, const struct http_span *h,
				const struct token_entry **e)
{
	char tok[TOKEN_LEN + 1];
	const char *why;

	if (h->n != 7 + TOKEN_LEN || strncasecmp(h->p, "Bearer ", 7) != 0)
		return "invalid token format";
	if ((*e = bearer_again(s, p, h->p + 7)))
		return NULL;
	memcpy(tok, h->p + 7, TOKEN_LEN);
	tok[TOKEN_LEN] = '\0';
	why = admit_token(&s->db, tok, ROLE_OPERATOR, e);
	if (!why && (p->bearer || (p->bearer = malloc(sizeof(*p->bearer))))) {
		memcpy(p->bearer->token, tok, TOKEN_LEN);
		memcpy(p->bearer->hash, (*e)->hash, TOKEN_HASH_LEN);
	}
	memset(tok, 0, sizeof(tok));
	return why;
}

/* Checks the Bearer token; answers 401 itself, or over the source's
 * budget 429 late (server_api_timer), and returns NULL
 * (docs/PROTOCOL.md, "Authentication" and "Admission").  A valid token is
 * never refused, whatever its source did before.  Without one, the
 * dashboard's session cookie (server_web.c). */
const struct token_entry *api_operator(struct server *s, struct conn *c,
				       const struct http_req *req)
{
	const struct http_span *h = http_get(req->h, req->nh, "Authorization");
	const struct token_entry *e = NULL;
	struct peer *p = c->owner;
	struct admit_verdict v;
	const char *why;

	if (!h && web_has_session(req))
		return web_session_operator(s, c, req);   /* the dashboard's cookie */
	if (!h) {
		/* Not a guess: not charged, and no line of its own. */
		log_debug("operator request from %s without a token", c->peer);
		api_error(c, 401, "WWW-Authenticate: Bearer realm=\"nestd\"\r\n",
			      "missing Authorization: Bearer token");
		return NULL;
	}
	if (s->tokens_recheck)
		s->tokens_recheck(s);   /* a token minted a moment ago works now */
	why = check_bearer(s, p, h, &e);
	if (!why)
		return e;
	gate_failed(s->gate, "operator", c->peer, p->source, why, NULL, &v);
	if (v.delay_ms) {
		p->refuse_retry = v.retry_after > 0 ? v.retry_after : 1;
		conn_set_timer(c, loop_now() + v.delay_ms);
		return NULL;
	}
	api_error(c, 401, "WWW-Authenticate: Bearer realm=\"nestd\"\r\n", why);
	return NULL;
}

/* {"name":..,"created":..,"expires":..} of a session. */
static void session_json(struct conn *c, int status, const char *hdr, const struct session *se)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "name", se->name);
	jw_kint(&w, "created", se->created);
	jw_kint(&w, "expires", se->expires);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	api_json(c, status, hdr, &b);
	buf_free(&b);
}

/* POST /api/session: the Bearer token checked like any other (failures
 * count against the address), a session made from it. */
static void login(struct server *s, struct conn *c, const struct http_req *req)
{
	struct sessions *ss = state_sessions(s->state);
	char cookie[SESSION_ID_HEX + 1], hdr[300];
	const struct token_entry *e;
	long long now = (long long)time(NULL);

	if (csrf_refused(c, req))
		return;
	if (!http_get(req->h, req->nh, "Authorization")) {
		api_error(c, 401, "WWW-Authenticate: Bearer realm=\"nestd\"\r\n",
			  "missing Authorization: Bearer token (the operator token to log in with)");
		return;
	}
	if (!(e = api_operator(s, c, req)))
		return;
	if (session_new(ss, e->hash, e->name, now, CFG_SESSION_TTL_S, cookie) < 0) {
		api_error(c, 500, NULL, "could not make a session (no random bytes, or out of memory)");
		return;
	}
	state_changed(s->state);
	log_info("operator %s logged in to the dashboard from %s", e->name, c->peer);
	audit_action(s->audit, "login", e->name, c->peer, NULL, NULL);
	set_cookie(s, c, cookie, hdr, sizeof(hdr));
	memset(cookie, 0, sizeof(cookie));
	session_json(c, 200, hdr, &ss->s[ss->n - 1]);
}

/* DELETE /api/session[?all=1]: this session ended (or all of its token's). */
static void logout(struct server *s, struct conn *c, const struct http_req *req, int all)
{
	struct sessions *ss = state_sessions(s->state);
	size_t n = 0;
	const char *v = cookie_value(req, &n);
	const struct session *se = v ? session_find(ss, v, n, (long long)time(NULL)) : NULL;
	char hdr[300], body[64], who[TOKEN_NAME_MAX + 1] = "";
	int k = 0;

	if (csrf_refused(c, req))
		return;
	if (se)
		fmt_copy(who, sizeof(who), se->name);
	if (se && all)
		k = session_end_token(ss, se->token_hash);
	else if (v)
		k = session_end(ss, v, n);
	if (k) {
		state_changed(s->state);
		audit_action(s->audit, "logout", who[0] ? who : NULL, c->peer, NULL,
			     all ? "every session of the token" : NULL);
	}
	set_cookie(s, c, NULL, hdr, sizeof(hdr));
	fmt_snprintf(body, sizeof(body), "{\"ended\":%d}\n", k);
	conn_http_respond(c, 200, "application/json", hdr, body, strlen(body));
}

static void session_route(struct server *s, struct conn *c, const struct http_req *req,
			  const struct http_span *query)
{
	struct sessions *ss = state_sessions(s->state);
	const struct session *se;
	size_t n = 0;
	const char *v;

	if (http_span_eq(&req->method, "POST")) {
		login(s, c, req);
	} else if (http_span_eq(&req->method, "DELETE")) {
		logout(s, c, req, http_span_eq(query, "all=1"));
	} else if (!api_refuse_unless_get(c, req) && api_operator(s, c, req)) {
		v = cookie_value(req, &n);
		se = v && !http_get(req->h, req->nh, "Authorization") ?
		     session_find(ss, v, n, (long long)time(NULL)) : NULL;
		if (se)
			session_json(c, 200, NULL, se);
		else
			api_error(c, 404, NULL, "no session: this request came with a Bearer token");
	}
}

int web_route(struct server *s, struct conn *c, const struct http_req *req,
	      const struct http_span *path)
{
	const char *q = memchr(req->target.p, '?', req->target.n);
	struct http_span query = { q ? q + 1 : "", q ? req->target.n - (size_t)(q + 1 - req->target.p) : 0 };

	if (!http_span_eq(path, "/api/session"))
		return 0;
	session_route(s, c, req, &query);
	return 1;
}
