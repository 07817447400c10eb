/* server_api.h - the operators' HTTP side of the server (server_api.c). */
#ifndef NESTD_SERVER_API_H
#define NESTD_SERVER_API_H

#include <stddef.h>
#include "http.h"
#include "server_router.h"

struct conn;
struct peer;

/* One HTTP request of a PEER_HTTP peer (c->owner) with its whole body;
 * answered now, or later when its command ends. */
void server_api_request(struct conn *c, const struct http_req *req, const char *body, size_t n);
/* The peer's connection timer passed: a refusal held back (over budget)
 * is answered now. */
void server_api_timer(struct peer *op);
/* The operator's connection is going: its command, if any, is orphaned. */
void server_api_gone(struct peer *op);
/* The HTTP status a command's outcome is answered with (200 for the
 * agent's replies, 404, 503, 504, 502...). */
int  server_api_outcome_status(enum router_outcome o);

#endif
