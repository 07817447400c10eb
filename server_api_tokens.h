/* server_api_tokens.h - agent tokens through the API
 * (server_api_tokens.c; docs/PROTOCOL.md, "Agent tokens"). */
#ifndef NESTD_SERVER_API_TOKENS_H
#define NESTD_SERVER_API_TOKENS_H

#include <stddef.h>
#include "http.h"

struct conn;
struct server;
struct token_entry;

/* GET, POST /api/tokens and DELETE /api/tokens/NAME (name NULL for the
 * first two), for the operator op. */
void api_tokens(struct server *s, struct conn *c, const struct http_req *req,
		const struct token_entry *op, const char *name, const char *body, size_t n);

#endif
