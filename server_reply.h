/* server_reply.h - how the API answers (server_reply.c), for every room
 * of it (server_api.c, server_api_agents.c, server_api_tokens.c,
 * server_web.c). */
#ifndef NESTD_SERVER_REPLY_H
#define NESTD_SERVER_REPLY_H

#include <stddef.h>
#include "http.h"

struct buf;
struct conn;

/* Answers: a body as is, gzip'd when the client takes it; b's JSON;
 * {"error":msg}; 404 "agent 'NAME' is not connected". */
void api_send(struct conn *c, int status, const char *ctype, const char *extra,
	      const char *body, size_t n);
void api_json(struct conn *c, int status, const char *extra, struct buf *b);
void api_error(struct conn *c, int status, const char *extra, const char *msg);
void api_not_connected(struct conn *c, const char *name);
/* 1 after answering 405 to anything but GET and HEAD. */
int  api_refuse_unless_get(struct conn *c, const struct http_req *req);

#endif
