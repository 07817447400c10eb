/* httpc.h - an outbound HTTP/1.1 client for the event loop: requests to
 * one origin (scheme, host, port) over a few keep-alive connections, TLS
 * through tls.c with the same verification as every other dial, every
 * exchange bounded in time and in size.  The server's Slack face calls the
 * Web API with it; nothing in it knows Slack.
 *
 * Two layers, as everywhere in nestd:
 *   - the response parser (RFC 9112: status line and head through http.c,
 *     then a body framed by Content-Length, chunked transfer coding, or the
 *     end of the connection) takes bytes and never touches a socket, so
 *     the unit tests and a fuzzer feed it one byte at a time;
 *   - the client moves bytes between it and conn.c's raw client mode.
 *
 * Requests are answered in the order each connection sent them; a request
 * that finds every connection busy waits in a queue (bounded by its own
 * deadline).  A keep-alive connection the server closed while idle is
 * noticed when a request on it gets end of file before any byte of an
 * answer: that request alone is sent once more on a fresh connection. */
#ifndef NESTD_HTTPC_H
#define NESTD_HTTPC_H

#include <stddef.h>
#include "buf.h"
#include "net.h"

struct loop;
struct tls_ctx;

/* ---- the response parser ---- */

enum httpc_pstate { HP_HEAD, HP_BODY, HP_CHUNK_SIZE, HP_CHUNK_DATA, HP_CHUNK_END,
		    HP_TRAILER, HP_UNTIL_EOF, HP_DONE, HP_ERROR };

struct httpc_parser {
	enum httpc_pstate state;
	struct buf head;             /* the head being read */
	struct buf body;             /* the body, bounded by its max */
	char line[256];              /* a chunk-size or trailer line */
	size_t line_len;
	unsigned long long left;     /* bytes of the body or chunk still to come */
	int status;
	long long retry_after;       /* Retry-After in seconds; -1 absent */
	int keep_alive;              /* the connection may carry another request */
	const char *why;             /* HP_ERROR: a static reason */
};

void httpc_parser_init(struct httpc_parser *p, size_t max_body);
void httpc_parser_free(struct httpc_parser *p);
/* Consumes bytes from in[0..n): the count used.  Call again with the rest
 * while it uses some and the state is neither HP_DONE nor HP_ERROR. */
size_t httpc_parser_feed(struct httpc_parser *p, const char *in, size_t n);
/* The connection ended: 0 when that completes the answer (a body read
 * until the end), -1 (state HP_ERROR, why set) when the answer was cut. */
int httpc_parser_eof(struct httpc_parser *p);

/* ---- the client ---- */

struct httpc;
struct httpc_req;

/* A request's end, called exactly once unless cancelled first: status is
 * the HTTP status and body the whole body (NUL-terminated at body[n]), or
 * status 0 and err the reason nothing usable came (connect failed, TLS
 * refused the certificate, timed out...).  retry_after: seconds from a
 * Retry-After header, -1 without one.  The request is gone afterwards. */
typedef void (*httpc_done_fn)(void *arg, int status, long long retry_after,
			      const char *body, size_t n, const char *err);

/* A client of origin's scheme, host and port (http:// or https://; the
 * path is ignored).  tls: the verification policy for https://, or NULL
 * for http://.  max_conns: connections open at once, at least 1. */
struct httpc *httpc_new(struct loop *l, const struct net_url *origin, struct tls_ctx *tls,
			int max_conns);
/* Ends every request (their done is not called) and every connection. */
void httpc_free(struct httpc *h);

/* POSTs body (its Content-Type in ctype) to path ("/api/x"); headers:
 * extra lines each ending in CRLF, or NULL (they may hold a secret: they
 * are never logged).  timeout_ms bounds the whole exchange, queueing
 * included.  NULL when memory runs out (done is then not called). */
struct httpc_req *httpc_post(struct httpc *h, const char *path, const char *headers,
			     const char *ctype, const char *body, size_t n, long long timeout_ms,
			     httpc_done_fn done, void *arg);
/* The asker is gone: done will not be called. */
void httpc_cancel(struct httpc_req *r);

#endif
