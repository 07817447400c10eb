/* server_web.h - who is asking the API: an operator's Bearer token, or
 * the dashboard's session (an operator token exchanged once for a session
 * cookie, server_session.h), and the login routes.  docs/PROTOCOL.md,
 * "Authentication" and "Sessions". */
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
/* The request's operator: a Bearer token, else the dashboard's session
 * (above); NULL after answering 401/403/429 itself (a refusal over the
 * source's budget is held back and answered by server_api_timer). */
const struct token_entry *api_operator(struct server *s, struct conn *c,
				       const struct http_req *req);
/* /api/session: 1 when it answered, 0 when the path is another. */
int web_route(struct server *s, struct conn *c, const struct http_req *req,
	      const struct http_span *path);

#endif
