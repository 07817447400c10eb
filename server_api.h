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

/* ---- for the API's other rooms (server_api_agents.c, server_web.c) ---- */

struct buf;
struct server;
struct token_entry;

/* The request's operator (a Bearer token, or the dashboard's session);
 * NULL after answering 401/403/429 itself. */
const struct token_entry *api_operator(struct server *s, struct conn *c,
				       const struct http_req *req);
/* Answers: a body as is, gzip'd when the client takes it; b's JSON;
 * {"error":msg}; 404 "agent 'NAME' is not connected". */
void api_send(struct conn *c, int status, const char *ctype, const char *extra,
	      const char *body, size_t n);
void api_json(struct conn *c, int status, const char *extra, struct buf *b);
void api_error(struct conn *c, int status, const char *extra, const char *msg);
void api_not_connected(struct conn *c, const char *name);
/* KEY=VALUE of the request's query into out: 1, 0 when absent, -1 when
 * too long for cap. */
int  api_query_param(const struct http_req *req, const char *key, char *out, size_t cap);
/* 1 if the query has scope=local (in a fleet: this server's agents only). */
int  api_scope_local(const struct http_req *req);
/* 1 after answering 405 to anything but GET and HEAD. */
int  api_refuse_unless_get(struct conn *c, const struct http_req *req);

/* server_api_agents.c: GET /api/clients; GET and DELETE /api/clients/NAME;
 * GET /api/clients/NAME/history (docs/PROTOCOL.md). */
void api_list_agents(struct server *s, struct conn *c, const struct http_req *req,
		     const struct token_entry *op);
void api_agent(struct server *s, struct conn *c, const struct http_req *req,
	       const struct token_entry *op, const char *name);
void api_agent_history(struct server *s, struct conn *c, const struct http_req *req,
		       const struct token_entry *op, const char *name);

#endif
