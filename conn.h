/* conn.h - one WebSocket connection over a non-blocking socket, for either
 * role: the part of the agent and the server that moves bytes between the
 * kernel and the sans-I/O engines (http.c, ws.c).
 *
 * States (one enum, one place that moves between them, conn_set_state):
 *   RESOLVING   client (conn_dial_url): a child resolves the host's name
 *   CONNECTING  client: TCP connect in progress
 *   HANDSHAKE   server: reading the HTTP request head; client: reading the
 *               101 response
 *   HTTP        server: a plain HTTP request is being answered (operator API),
 *               its file body included; client (conn_dial_raw): no WebSocket,
 *               bytes go both ways as they are (an outbound HTTP client, httpc.c)
 *   AUTH        WebSocket open, the first message not yet accepted
 *   OPEN        authenticated
 *   CLOSING     close frame (or HTTP response) queued: flush, wait for the
 *               peer briefly, then close the socket
 *
 * TLS sits between the socket and the engines: with c->tls set, bytes go
 * through tls_read/tls_write and poll is asked what BearSSL wants.
 *
 * A conn never frees itself in the middle of a callback: conn_abort and
 * conn_close only mark it; the loop destroys it at a safe point and then
 * calls ops->on_close exactly once. */
#ifndef NESTD_CONN_H
#define NESTD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "http.h"
#include "loop.h"
#include "net.h"
#include "tls.h"
#include "ws.h"

enum conn_state { CONN_RESOLVING, CONN_CONNECTING, CONN_HANDSHAKE, CONN_HTTP, CONN_AUTH, CONN_OPEN,
		  CONN_CLOSING };

struct conn;
struct conn_stream;

struct conn_ops {
	/* WebSocket handshake completed (state is AUTH). */
	void (*on_open)(struct conn *c);
	/* One text message.  p is writable and NUL-terminated at p[n]. */
	void (*on_text)(struct conn *c, char *p, size_t n);
	/* Server: a request head was read (an upgrade or a plain request),
	 * before anything is done with it.  NULL: nothing to do. */
	void (*on_head)(struct conn *c, const struct http_req *req);
	/* Server: a plain HTTP request with its whole body.  Answer with
	 * conn_http_respond, now or later.  NULL: 426 for anything but an
	 * upgrade. */
	void (*on_http)(struct conn *c, const struct http_req *req, const char *body, size_t n);
	/* A raw client (conn_dial_raw): bytes as they were read; n == 0 when
	 * the peer closed its side (end of file; the conn ends right after). */
	void (*on_bytes)(struct conn *c, const char *p, size_t n);
	/* The owner's deadline (conn_set_timer) passed. */
	void (*on_timer)(struct conn *c);
	/* The connection is gone; why says how.  c is freed right after. */
	void (*on_close)(struct conn *c, const char *why);
};

struct conn {
	struct loop_src src;
	struct loop *loop;
	enum conn_state state;
	enum ws_role role;
	const struct conn_ops *ops;
	void *owner;              /* the role's record for this peer */
	char peer[64];

	struct buf in;            /* HTTP head (and body) being read */
	struct buf out;           /* bytes for the kernel */
	size_t out_off;           /* bytes of out already written */
	struct ws ws;
	struct tls_conn *tls;     /* NULL: plain socket */
	struct conn_stream *stream;   /* conn_http_stream's answer, or NULL */
	char ws_key[25];          /* client: our Sec-WebSocket-Key */
	size_t http_body_max;
	int body_fd;              /* an answer's file still being queued, or -1 */
	size_t body_left;         /* its bytes not yet queued */

	int64_t timer;            /* owner's deadline, 0: none */
	int64_t state_deadline;   /* handshake / closing bound */
	int64_t last_rx;
	int64_t last_tx;          /* HTTP: the last write that moved bytes */
	int64_t ping_at;          /* 0: no ping outstanding */
	int ping_ms;              /* idle time before a ping; 0: no pings */

	unsigned dead:1;          /* destroy at the next safe point */
	unsigned in_ready:1;
	unsigned wr_shut:1;
	unsigned ws_up:1;         /* WebSocket framing in use */
	unsigned close_done:1;    /* both close frames exchanged */
	unsigned reparse:1;       /* c->in holds a pipelined request */
	unsigned http_head:1;     /* answering a HEAD request: no body */
	unsigned rd_eof:1;        /* the peer half-closed while we answer */
	unsigned http_busy:1;     /* a request is being answered */
	unsigned http_close:1;    /* close after this response */
	unsigned http10:1;        /* the request is HTTP/1.0: no chunks */
	unsigned set_up:1;        /* server: first request or authentication done */
	unsigned raw:1;           /* conn_dial_raw: no WebSocket at all */
	int resolver;             /* RESOLVING: the resolving child's pid */
	struct net_url *rurl;     /* RESOLVING: where to, once resolved */
	char why[256];
};

/* Accepted socket (role server) and dialled socket (role client).  NULL on
 * out-of-memory (fd is then closed). */
struct conn *conn_accept(struct loop *l, int fd, const char *peer,
			 const struct conn_ops *ops, void *owner);
struct conn *conn_dial(struct loop *l, int fd, const struct net_url *u,
		       const struct conn_ops *ops, void *owner);

/* A client connection that speaks no WebSocket: once connected (and the
 * TLS handshake is done, over TLS) it is in state HTTP and every byte read
 * goes to ops->on_bytes; conn_send_raw queues bytes as they are.  The
 * owner bounds the exchange with conn_set_timer. */
struct conn *conn_dial_raw(struct loop *l, int fd, const struct net_url *u,
			   const struct conn_ops *ops, void *owner);
int  conn_send_raw(struct conn *c, const char *p, size_t n);
/* conn_dial (raw 0) or conn_dial_raw (raw 1) of u without blocking the
 * loop on its name (net_resolve_start): the conn starts in RESOLVING, and
 * the handshake bound (CFG_HANDSHAKE_TIMEOUT_MS) covers it.  NULL with
 * the reason in err when nothing could start. */
struct conn *conn_dial_url(struct loop *l, const struct net_url *u, int raw,
			   const struct conn_ops *ops, void *owner, char *err, size_t errlen);

/* Speak TLS on this connection (right after conn_accept / conn_dial,
 * before any byte moved).  host: the server's name for a client.  -1 on
 * out of memory (the caller then destroys the conn). */
int  conn_set_tls(struct conn *c, struct tls_ctx *x, const char *host);
void conn_set_state(struct conn *c, enum conn_state st);
void conn_set_timer(struct conn *c, int64_t at);         /* 0 cancels */
void conn_set_max_message(struct conn *c, size_t max);
void conn_set_ping(struct conn *c, int ms);

/* Queue one text message; -1 when the connection is closing or its send
 * queue is full (the conn is then aborted: a peer that does not read). */
int  conn_send_text(struct conn *c, const char *p, size_t n);
/* Close handshake: close frame now, socket once the peer answers or after
 * CFG_CLOSE_TIMEOUT_MS. */
void conn_close(struct conn *c, unsigned code, const char *reason);
/* Drop at once (no close frame). */
void conn_abort(struct conn *c, const char *why);
/* Answer the pending HTTP request.  headers: extra lines, each ending in
 * CRLF, or NULL.  An HTTP connection queues at most CFG_HTTP_SEND_MAX, or
 * this one answer when it is larger; the next request is read only once
 * no more than CFG_HTTP_PIPELINE_OUT_MAX of it waits for the kernel. */
void conn_http_respond(struct conn *c, int status, const char *ctype,
		       const char *headers, const char *body, size_t n);
/* An answer whose body is written as it is made, never whole: more(arg,
 * out) appends the next piece (about CFG_HTTP_STREAM_CHUNK bytes) each time
 * the send queue has drained, and returns 1 while there is more, 0 after
 * the last piece, -1 to give up (the connection is then dropped: the
 * client sees a truncated answer).  done(arg) is called
 * exactly once, when the body is complete or the connection goes, so the
 * owner frees arg there.  -1 (done already called) on out of memory.
 * Close-delimited instead of chunked when the connection ends after this
 * answer anyway (Connection: close, HTTP/1.0). */
typedef int (*conn_more_fn)(void *arg, struct buf *out);
int  conn_http_stream(struct conn *c, int status, const char *ctype, const char *headers,
		      conn_more_fn more, void (*done)(void *arg), void *arg);
/* The same with size bytes of the file fd as the body, queued
 * CFG_HTTP_FILE_CHUNK at a time as the socket drains (never whole).  fd
 * is the conn's from here on, closed once sent or when the conn goes.  A
 * client that takes nothing for CFG_HTTP_STALL_MS is dropped. */
void conn_http_respond_fd(struct conn *c, int status, const char *ctype,
			  const char *headers, int fd, size_t size);
/* The answer to come is the connection's last: Connection: close, then
 * the close. */
void conn_http_last(struct conn *c);
/* Destroy every conn of the loop?  No: owners keep their lists; this frees
 * one immediately (shutdown paths only, never inside its callbacks). */
void conn_destroy(struct conn *c, const char *why);

#endif
