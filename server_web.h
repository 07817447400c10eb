/* server_web.h - what the API has only for the dashboard: its login
 * (an operator token exchanged once for a session cookie, server_session.h)
 * and agent-token management (server_api_tokens.c).  docs/PROTOCOL.md,
 * "Sessions" and "Agent tokens". */
#ifndef NESTD_SERVER_WEB_H
#define NESTD_SERVER_WEB_H

#include <stddef.h>
#include "http.h"

struct conn;
struct server;
struct token_entry;

/* The name of the cookie, and of the header every request made with it
 * must carry: a page of another site can send the cookie (a form, an
 * image) but not a header of its own without this server's consent
 * (CORS), which it never gives. */
#define WEB_COOKIE      "nestd_session"
#define WEB_CSRF_HEADER "X-Nestd-CSRF"

/* 1 when the request carries a session cookie. */
int web_has_session(const struct http_req *req);
/* The session's operator: the token it was made from, as it is now (its
 * scope included); NULL after answering 401 (no such session, expired,
 * the token revoked) or 403 (no WEB_CSRF_HEADER) itself. */
const struct token_entry *web_session_operator(struct server *s, struct conn *c,
					       const struct http_req *req);
/* /api/session and /api/tokens[/NAME]: 1 when it answered, 0 when the
 * path is not one of those. */
int web_route(struct server *s, struct conn *c, const struct http_req *req,
	      const struct http_span *path, const char *body, size_t n);

/* server_api_tokens.c: GET, POST /api/tokens and DELETE /api/tokens/NAME
 * (name NULL for the first two). */
void api_tokens(struct server *s, struct conn *c, const struct http_req *req,
		const struct token_entry *op, const char *name, const char *body, size_t n);

#endif
