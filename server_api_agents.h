/* server_api_agents.h - the agent routes (server_api_agents.c):
 * GET /api/clients; GET and DELETE /api/clients/NAME;
 * GET /api/clients/NAME/history (docs/PROTOCOL.md). */
#ifndef NESTD_SERVER_API_AGENTS_H
#define NESTD_SERVER_API_AGENTS_H

#include "http.h"

struct conn;
struct server;
struct token_entry;

void api_list_agents(struct server *s, struct conn *c, const struct http_req *req,
		     const struct token_entry *op);
void api_agent(struct server *s, struct conn *c, const struct http_req *req,
	       const struct token_entry *op, const char *name);
void api_agent_history(struct server *s, struct conn *c, const struct http_req *req,
		       const struct token_entry *op, const char *name);

#endif
