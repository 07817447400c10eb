/* conn.c - a WebSocket connection on a non-blocking socket (see conn.h).
 *
 * Everything here is plumbing: read(2) feeds http.c or ws.c, their output
 * goes to one send queue per peer, and poll is asked for POLLOUT only while
 * that queue holds bytes.  The only policy is about liveness: handshake
 * deadlines, pings after CFG_PING_INTERVAL_MS of silence, a bounded wait for
 * the peer's close frame, and a bounded send queue (a peer that stops
 * reading is dropped rather than allowed to grow our memory).  An HTTP
 * client's memory is bounded too: its next request is read only once the
 * answers before it have mostly left (CFG_HTTP_PIPELINE_OUT_MAX), a file
 * goes out a chunk at a time, and its queue is capped far below an
 * agent's (CFG_HTTP_SEND_MAX). */
#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fmt.h"
#include "log.h"
#include "num.h"

#define READ_CHUNK 65536

static char rbuf[READ_CHUNK];

/* The agent-only binary (nestd.c) never accepts a connection: with this
 * constant false there, the HTTP server half below compiles away. */
#ifndef NESTD_AGENT_ONLY
#define NESTD_AGENT_ONLY 0
#endif
#define IS_SERVER(c) (!NESTD_AGENT_ONLY && (c)->role == WS_ROLE_SERVER)

static void conn_ready(struct loop_src *s, short revents);
static void stream_end(struct conn *c);

/* Pacing.  A reconnect storm is thousands of connections setting up at
 * once: TLS handshakes (a full one costs a signature and an ECDH, a
 * millisecond or more), upgrades, authentications.  Within every window of
 * CFG_SETUP_WINDOW_MS, the server's connections that are setting up get
 * CFG_SETUP_BUDGET_US of CPU time together; one that would go over waits
 * for the next window, in the kernel's queue, while the loop answers
 * everything else: operators, agents already in.  When nothing else wants
 * the CPU the next window comes at once, so a storm alone still goes at
 * full speed, less the pauses. */
static int64_t pace_window_ms, pace_used_us;

/* A server's connection before its first HTTP request or before its
 * agent is authenticated. */
static int setting_up(const struct conn *c)
{
	return IS_SERVER(c) && !c->set_up &&
	       (c->state == CONN_HANDSHAKE || c->state == CONN_AUTH);
}

/* 0 when c may go on now, else the loop_now() time at which it may. */
static int64_t paced_until(const struct conn *c)
{
	int64_t now;

	if (!setting_up(c))
		return 0;
	now = loop_now();
	if (now - pace_window_ms >= CFG_SETUP_WINDOW_MS) {
		pace_window_ms = now;
		pace_used_us = 0;
	}
	return pace_used_us < CFG_SETUP_BUDGET_US ? 0 : pace_window_ms + CFG_SETUP_WINDOW_MS;
}

/* Bytes of our queue not yet with the kernel. */
static size_t unsent(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* Bytes not yet with the kernel: our queue, a file still to queue, or
 * records inside BearSSL. */
static int out_pending(struct conn *c)
{
	return unsent(c) || c->body_fd >= 0 || c->stream ||
	       (c->tls && (tls_events(c->tls, 0) & POLLOUT));
}

/* A server connection speaking plain HTTP (not, or not yet, WebSocket). */
static int is_http(const struct conn *c)
{
	return IS_SERVER(c) && !c->ws_up;
}

/* An HTTP answer still leaving (closing connections have their own,
 * shorter bound): the client must keep taking it. */
static int answer_leaving(struct conn *c)
{
	return is_http(c) && (c->state == CONN_HTTP || c->state == CONN_HANDSHAKE) &&
	       out_pending(c);
}

/* Whether to take more bytes from the peer now.  An HTTP client gets its
 * next request read only once the answers before it have mostly left, so
 * one that sends and never reads cannot grow our queue; while a request
 * is answered, what it pipelines waits in c->in up to its bound (and then
 * in the kernel), never failing the request before it.  Over TLS nothing
 * is read while a request is answered (BearSSL's one buffer). */
static int may_read(const struct conn *c)
{
	if (c->rd_eof)
		return 0;
	if (!is_http(c))
		return 1;
	if (c->state == CONN_HTTP && c->http_busy)
		return !c->tls && c->in.len < c->in.max;
	if (c->state == CONN_HANDSHAKE)
		return unsent(c) <= CFG_HTTP_PIPELINE_OUT_MAX;
	return 1;
}

static short conn_want(struct loop_src *s)
{
	struct conn *c = s->arg;
	int64_t until;
	short ev = 0;

	if (c->dead)
		return 0;
	if (c->state <= CONN_CONNECTING)
		return c->state == CONN_CONNECTING ? POLLOUT : POLLIN;
	/* A connection setting up past the window's budget waits for the
	 * next window.  The loop reads the deadline right after asking this,
	 * and the budget may have run out since update_deadline: the wake-up
	 * is set here, with the answer. */
	if ((until = paced_until(c))) {
		if (!s->deadline || until < s->deadline)
			s->deadline = until;
		return 0;
	}
	if (c->tls) {
		/* BearSSL decides: it may need to read before it can send (a
		 * handshake) or send before it can read (its one shared buffer). */
		ev = tls_events(c->tls, unsent(c) || c->body_fd >= 0 || c->stream);
		if (!may_read(c))
			ev &= ~POLLIN;
		return ev;
	}
	/* Readable while an HTTP answer is pending, within may_read's
	 * bounds: a pipelined request waits in c->in, a hang-up is seen at
	 * once, and the loop does not re-register the socket twice per
	 * request. */
	if (may_read(c))
		ev |= POLLIN;
	if (unsent(c) || c->body_fd >= 0 || c->stream)
		ev |= POLLOUT;
	return ev;
}

static ssize_t io_read(struct conn *c, void *p, size_t n)
{
	return c->tls ? tls_read(c->tls, c->src.fd, p, n) : read(c->src.fd, p, n);
}

static ssize_t io_write(struct conn *c, const void *p, size_t n)
{
	return c->tls ? tls_write(c->tls, c->src.fd, p, n) : write(c->src.fd, p, n);
}

/* Aborts for a failed read or write (errno set). */
static void io_failed(struct conn *c)
{
	char msg[256];

	if (c->tls && errno == EPROTO) {
		fmt_snprintf(msg, sizeof(msg), "TLS: %.200s", tls_why(c->tls));
		conn_abort(c, msg);
	} else {
		conn_abort(c, errno == EPIPE || errno == ECONNRESET ?
			   "connection reset by peer" : strerror(errno));
	}
}

/* Everything that may change what the conn wants from the loop ends here:
 * the deadline is recomputed and the loop is told to ask again. */
static void update_deadline(struct conn *c)
{
	int64_t d = 0;

	loop_touch(c->loop, &c->src);

#define MIN_D(x) do { if ((x) && (!d || (x) < d)) d = (x); } while (0)
	/* Now: to be destroyed, a pipelined request to parse, or plaintext
	 * inside BearSSL that poll cannot announce. */
	if (c->dead || (c->reparse && may_read(c)) ||
	    (c->tls && may_read(c) && tls_pending(c->tls))) {
		c->src.deadline = loop_now();
		return;
	}
	MIN_D(c->state_deadline);
	MIN_D(c->timer);
	if (answer_leaving(c))
		MIN_D(c->last_tx + CFG_HTTP_STALL_MS);
	MIN_D(paced_until(c));
	if (c->ping_ms && (c->state == CONN_AUTH || c->state == CONN_OPEN)) {
		if (c->ping_at)
			MIN_D(c->ping_at + CFG_PONG_TIMEOUT_MS);
		else
			MIN_D(c->last_rx + c->ping_ms);
	}
#undef MIN_D
	c->src.deadline = d;
}

static struct conn *conn_new(struct loop *l, int fd, enum ws_role role,
			     const struct conn_ops *ops, void *owner)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return NULL;
	}
	c->loop = l;
	c->role = role;
	c->ops = ops;
	c->owner = owner;
	c->src.fd = fd;
	c->src.want = conn_want;
	c->src.flags = LOOP_TOUCH;
	c->src.ready = conn_ready;
	c->src.arg = c;
	buf_init(&c->in, CFG_HTTP_MAX_HEADER);
	/* A server's peer speaks HTTP until it upgrades (start_ws). */
	buf_init(&c->out, role == WS_ROLE_SERVER ? CFG_HTTP_SEND_MAX : CFG_SEND_BUFFER_MAX);
	ws_init(&c->ws, role, CFG_WS_MAX_MESSAGE, &c->out);
	c->body_fd = -1;
	c->last_rx = c->last_tx = loop_now();
	c->http_body_max = CFG_HTTP_MAX_BODY;
	if (loop_add(l, &c->src) < 0) {
		ws_free(&c->ws);
		close(fd);
		free(c);
		return NULL;
	}
	return c;
}

struct conn *conn_accept(struct loop *l, int fd, const char *peer,
			 const struct conn_ops *ops, void *owner)
{
	struct conn *c = conn_new(l, fd, WS_ROLE_SERVER, ops, owner);

	if (!c)
		return NULL;
	fmt_snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->state = CONN_HANDSHAKE;
	c->state_deadline = loop_now() + CFG_HANDSHAKE_TIMEOUT_MS;
	update_deadline(c);
	return c;
}

static const struct conn_ops no_ops;

/* A client conn, connecting. */
static struct conn *dial_new(struct loop *l, int fd, const struct net_url *u,
			     const struct conn_ops *ops, void *owner)
{
	struct conn *c = conn_new(l, fd, WS_ROLE_CLIENT, ops, owner);

	if (!c)
		return NULL;
	if (u->scheme == URL_UNIX)
		fmt_snprintf(c->peer, sizeof(c->peer), "unix:%.50s", u->unix_path);
	else
		fmt_snprintf(c->peer, sizeof(c->peer), "%.40s:%s", u->host, u->port);
	c->state = CONN_CONNECTING;
	c->state_deadline = loop_now() + CFG_HANDSHAKE_TIMEOUT_MS;
	return c;
}

struct conn *conn_dial_raw(struct loop *l, int fd, const struct net_url *u,
			   const struct conn_ops *ops, void *owner)
{
	struct conn *c = dial_new(l, fd, u, ops, owner);

	if (!c)
		return NULL;
	c->raw = 1;
	update_deadline(c);
	return c;
}

int conn_send_raw(struct conn *c, const char *p, size_t n)
{
	if (c->dead || c->state == CONN_CLOSING)
		return -1;
	if (buf_append(&c->out, p, n) < 0) {
		conn_abort(c, "send queue full");
		return -1;
	}
	if (!c->in_ready && c->state > CONN_CONNECTING)
		loop_defer(c->loop, &c->src);
	update_deadline(c);
	return 0;
}

struct conn *conn_dial_url(struct loop *l, const struct net_url *u, int raw,
			   const struct conn_ops *ops, void *owner, char *err, size_t errlen)
{
	int pid = 0, fd = net_resolve_start(u, &pid, err, errlen);
	struct conn *c;

	if (fd == -2)
		fd = net_connect(u, err, errlen);
	if (fd < 0)
		return NULL;
	c = raw ? conn_dial_raw(l, fd, u, ops, owner) : conn_dial(l, fd, u, ops, owner);
	if (c && pid && !(c->rurl = malloc(sizeof(*u)))) {
		c->ops = &no_ops;
		conn_destroy(c, "out of memory");
		c = NULL;
	}
	if (!c) {
		if (pid)
			kill(pid, SIGKILL), waitpid(pid, NULL, 0);
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pid) {
		*c->rurl = *u;
		c->resolver = pid;
		c->state = CONN_RESOLVING;
		update_deadline(c);
	}
	return c;
}

struct conn *conn_dial(struct loop *l, int fd, const struct net_url *u,
		       const struct conn_ops *ops, void *owner)
{
	struct conn *c = dial_new(l, fd, u, ops, owner);

	if (!c)
		return NULL;
	if (ws_client_request(&c->out, u->host, u->path, c->ws_key) < 0) {
		/* Like conn_new's own failures: NULL, and no on_close for a
		 * connection its owner never had. */
		c->ops = &no_ops;
		conn_destroy(c, "cannot build the handshake request");
		return NULL;
	}
	update_deadline(c);
	return c;
}

int conn_set_tls(struct conn *c, struct tls_ctx *x, const char *host)
{
	char err[128];

	c->tls = tls_conn_new(x, host, err, sizeof(err));
	return c->tls ? 0 : -1;
}

void conn_set_state(struct conn *c, enum conn_state st)
{
	c->state = st;
	if (st == CONN_OPEN)
		c->set_up = 1;
	if (st == CONN_AUTH || st == CONN_OPEN)
		c->state_deadline = 0;
	update_deadline(c);
}

void conn_set_timer(struct conn *c, int64_t at)
{
	c->timer = at;
	update_deadline(c);
}

void conn_set_max_message(struct conn *c, size_t max)
{
	c->ws.max_message = max;
}

void conn_set_ping(struct conn *c, int ms)
{
	c->ping_ms = ms;
	update_deadline(c);
}

void conn_destroy(struct conn *c, const char *why)
{
	loop_del(c->loop, &c->src);
	if (c->resolver) {
		net_resolve_cancel(c->src.fd, c->resolver);
		c->src.fd = -1;
	}
	free(c->rurl);
	if (c->tls) {
		if (c->src.fd >= 0 && tls_handshake_done(c->tls))
			tls_close_notify(c->tls, c->src.fd);
		tls_conn_free(c->tls);
		c->tls = NULL;
	}
	if (c->src.fd >= 0)
		close(c->src.fd);
	c->src.fd = -1;
	if (c->body_fd >= 0)
		close(c->body_fd);
	c->body_fd = -1;
	stream_end(c);
	if (c->ops->on_close)
		c->ops->on_close(c, why);
	ws_free(&c->ws);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

void conn_abort(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	if (why != c->why)
		fmt_snprintf(c->why, sizeof(c->why), "%s", why);
	update_deadline(c);
}

/* Closing: flush the queue, half-close, wait (bounded) for the peer. */
static void begin_closing(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	c->timer = 0;
	c->state_deadline = loop_now() + CFG_CLOSE_TIMEOUT_MS;
	if (why && !c->why[0])
		fmt_snprintf(c->why, sizeof(c->why), "%s", why);
	update_deadline(c);
}

void conn_close(struct conn *c, unsigned code, const char *reason)
{
	if (c->dead || c->state == CONN_CLOSING)
		return;
	if (c->state == CONN_AUTH || c->state == CONN_OPEN)
		ws_send_close(&c->ws, code, reason);
	begin_closing(c, reason && *reason ? reason : "closed by us");
}

static void fill_body(struct conn *c);
static void fill_stream(struct conn *c);

/* The queue drained: memory a large answer needed goes back, and an HTTP
 * connection's cap returns to CFG_HTTP_SEND_MAX; then a closing
 * connection half-closes. */
static void drained(struct conn *c)
{
	/* A server's peers are many and mostly idle: an empty queue holds no
	 * memory there.  The agent keeps its one (unless a large answer grew
	 * it). */
	if (c->out.cap > CFG_HTTP_SEND_MAX || IS_SERVER(c))
		buf_free(&c->out);
	buf_reset(&c->out);
	c->out_off = 0;
	if (is_http(c))
		c->out.max = CFG_HTTP_SEND_MAX;
	if (c->state == CONN_CLOSING && c->close_done) {
		conn_abort(c, c->why[0] ? c->why : "closed");
	} else if (c->state == CONN_CLOSING && !c->wr_shut) {
		/* Half-close.  Over TLS a WebSocket still waits for the peer's
		 * close frame, which BearSSL would drop once it sent
		 * close_notify: there only the HTTP answer ends so. */
		if (!c->tls || !c->ws_up) {
			if (c->tls)
				tls_close_notify(c->tls, c->src.fd);
			shutdown(c->src.fd, SHUT_WR);
		}
		c->wr_shut = 1;
	}
}

static void flush(struct conn *c)
{
	for (;;) {
		ssize_t w;

		if ((c->body_fd >= 0 || c->stream) && unsent(c) < CFG_HTTP_FILE_CHUNK) {
			if (c->stream)
				fill_stream(c);
			else
				fill_body(c);
			if (c->dead)
				return;
			continue;      /* (a stream may have ended with nothing more) */
		}
		if (!unsent(c))
			break;
		w = io_write(c, c->out.p + c->out_off, unsent(c));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			io_failed(c);
			return;
		}
		c->out_off += (size_t)w;
		c->last_tx = loop_now();
	}
	if (c->tls && !unsent(c) && tls_flush(c->tls, c->src.fd) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			io_failed(c);
		return;     /* records still inside BearSSL: not drained yet */
	}
	if (!unsent(c) && c->body_fd < 0 && !c->stream)
		drained(c);
	else if (c->out_off > (1u << 20) && c->out_off > c->out.len / 2) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
}

int conn_send_text(struct conn *c, const char *p, size_t n)
{
	if (c->dead || c->state == CONN_CLOSING)
		return -1;
	if (ws_send_text(&c->ws, p, n) < 0) {
		conn_abort(c, "send queue full: peer is not reading");
		return -1;
	}
	/* Flushed at the end of the loop's round (or of our own ready()):
	 * commands that many operators send to one agent in the same round
	 * share one write. */
	if (!c->in_ready && c->state > CONN_CONNECTING)
		loop_defer(c->loop, &c->src);
	update_deadline(c);
	return 0;
}

/* The answer is wholly queued: the connection takes the next request, or
 * closes. */
static void http_answered(struct conn *c)
{
	c->http_busy = 0;
	if (c->http_close) {
		begin_closing(c, "HTTP request answered");
	} else {
		c->state = CONN_HANDSHAKE;
		c->state_deadline = loop_now() + CFG_HANDSHAKE_TIMEOUT_MS;
		/* A pipelined request may already be waiting in c->in: parse it
		 * from the loop, not from inside this (maybe nested) call. */
		c->reparse = c->in.len > 0;
	}
	update_deadline(c);
}

/* Room for an answer of n bytes: within the cap, or the cap raised for
 * this one answer when little else waits (its size is bounded where it
 * is made: an agent's reply by --max-message).  -1 after aborting. */
static int http_room(struct conn *c, size_t n)
{
	if (c->out.max && c->out.len + n > c->out.max) {
		if (unsent(c) > CFG_HTTP_PIPELINE_OUT_MAX) {
			conn_abort(c, "send queue full: client is not reading");
			return -1;
		}
		c->out.max = c->out.len + n;
	}
	return 0;
}

/* The status line and headers of an answer whose body is n bytes, or
 * (n == STREAMED) made as it goes: chunked, or up to the close when the
 * connection ends after it anyway; -1 after aborting. */
#define STREAMED ((size_t)-1)

/* "HTTP/1.1 STATUS REASON" and the headers, in pieces of known text: an
 * answer to every relayed command, where printf's format walk cost more
 * than the rest of the answer. */
static int head_puts(struct buf *b, int status, const char *length, const char *ctype,
		     const char *headers, int close)
{
	char code[4] = { (char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
			 (char)('0' + status % 10), ' ' };
	int rc = 0;

	rc |= buf_append(b, "HTTP/1.1 ", 9);
	rc |= buf_append(b, code, 4);
	rc |= buf_puts(b, http_reason(status));
	rc |= buf_append(b, "\r\n", 2);
	rc |= buf_puts(b, length);
	rc |= buf_puts(b, "Cache-Control: no-store\r\n");
	if (ctype) {
		rc |= buf_append(b, "Content-Type: ", 14);
		rc |= buf_puts(b, ctype);
		rc |= buf_append(b, "\r\n", 2);
	}
	if (headers)
		rc |= buf_puts(b, headers);
	rc |= buf_puts(b, close ? "Connection: close\r\n\r\n" : "\r\n");
	return rc < 0 ? -1 : 0;
}

static int http_head_out(struct conn *c, int status, const char *ctype, const char *headers,
			 size_t n)
{
	char length[48] = "";

	if (c->dead || c->state != CONN_HTTP)
		return -1;
	c->last_tx = loop_now();     /* the stall clock starts with the answer */
	if (http_room(c, 512 + (ctype ? strlen(ctype) : 0) + (headers ? strlen(headers) : 0) +
		      (c->http_head || n == STREAMED ? 0 : n)) < 0)
		return -1;
	if (n != STREAMED) {
		char digits[24], *d = num_u64(digits + sizeof(digits), n);

		memcpy(length, "Content-Length: ", 16);
		memcpy(length + 16, d, (size_t)(digits + sizeof(digits) - d));
		memcpy(length + 16 + (digits + sizeof(digits) - d), "\r\n", 3);
	} else if (!c->http_close)
		fmt_snprintf(length, sizeof(length), "Transfer-Encoding: chunked\r\n");
	if (head_puts(&c->out, status, length, ctype, headers, c->http_close) < 0) {
		conn_abort(c, "out of memory");
		return -1;
	}
	return 0;
}

void conn_http_respond(struct conn *c, int status, const char *ctype,
		       const char *headers, const char *body, size_t n)
{
	if (http_head_out(c, status, ctype, headers, n) < 0)
		return;
	if (!c->http_head && buf_append(&c->out, body, n) < 0) {
		conn_abort(c, "out of memory");
		return;
	}
	http_answered(c);
	if (!c->in_ready)
		flush(c);
}

void conn_http_respond_fd(struct conn *c, int status, const char *ctype,
			  const char *headers, int fd, size_t size)
{
	if (http_head_out(c, status, ctype, headers, size) < 0) {
		close(fd);
		return;
	}
	if (c->http_head || size == 0) {
		close(fd);
		http_answered(c);
	} else {
		/* Still answering: no request is parsed until the last chunk is
		 * queued (fill_body), and a client that stops reading is let go. */
		c->body_fd = fd;
		c->body_left = size;
		update_deadline(c);
	}
	if (!c->in_ready)
		flush(c);
}

/* Tops the queue up with the next chunk of the answer's file; the answer
 * is whole once its last byte is queued. */
static void fill_body(struct conn *c)
{
	size_t n = c->body_left < CFG_HTTP_FILE_CHUNK ? c->body_left : CFG_HTTP_FILE_CHUNK;
	ssize_t r;

	if (c->out_off) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	if (buf_reserve(&c->out, n) < 0) {
		conn_abort(c, "out of memory");
		return;
	}
	do
		r = read(c->body_fd, c->out.p + c->out.len, n);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		/* The length is sent: a short file cannot be answered right. */
		conn_abort(c, r == 0 ? "the file shrank while being sent" : strerror(errno));
		return;
	}
	c->out.len += (size_t)r;
	c->out.p[c->out.len] = '\0';
	c->body_left -= (size_t)r;
	if (c->body_left == 0) {
		close(c->body_fd);
		c->body_fd = -1;
		http_answered(c);
	}
}

void conn_http_last(struct conn *c)
{
	c->http_close = 1;
}

/* conn_http_stream's answer: its producer and the piece being made. */
struct conn_stream {
	conn_more_fn more;
	void (*done)(void *arg);
	void *arg;
	int chunked;
	struct buf piece;
};

static void stream_end(struct conn *c)
{
	struct conn_stream *st = c->stream;

	if (!st)
		return;
	c->stream = NULL;
	st->done(st->arg);
	buf_free(&st->piece);
	free(st);
}

int conn_http_stream(struct conn *c, int status, const char *ctype, const char *headers,
		     conn_more_fn more, void (*done)(void *arg), void *arg)
{
	struct conn_stream *st;

	if (c->stream || c->body_fd >= 0 || !(st = calloc(1, sizeof(*st)))) {
		done(arg);
		conn_abort(c, "out of memory");
		return -1;
	}
	/* HTTP/1.0 knows no chunks: the end of the connection ends its body. */
	if (c->http10)
		c->http_close = 1;
	if (http_head_out(c, status, ctype, headers, STREAMED) < 0) {
		free(st);
		done(arg);
		return -1;
	}
	if (c->http_head) {      /* HEAD: the head alone */
		free(st);
		done(arg);
		http_answered(c);
	} else {
		st->more = more;
		st->done = done;
		st->arg = arg;
		st->chunked = !c->http_close;
		buf_init(&st->piece, 0);
		c->stream = st;
		update_deadline(c);
	}
	if (!c->in_ready)
		flush(c);
	return 0;
}

/* Tops the queue up with the stream's next piece (framed as a chunk);
 * the answer is whole once the last one is queued. */
static void fill_stream(struct conn *c)
{
	struct conn_stream *st = c->stream;
	int r, bad = 0, k = 0;

	do
		r = st->more(st->arg, &st->piece);
	while (r == 1 && !st->piece.len && ++k < 100);
	if (r < 0 || (r == 1 && !st->piece.len)) {
		stream_end(c);
		conn_abort(c, "the answer could not be completed");
		return;
	}
	if (http_room(c, st->piece.len + 32) < 0) {
		stream_end(c);
		return;
	}
	if (st->piece.len && st->chunked)
		bad |= buf_printf(&c->out, "%zx\r\n", st->piece.len);
	bad |= buf_append(&c->out, st->piece.p, st->piece.len);
	if (st->piece.len && st->chunked)
		bad |= buf_append(&c->out, "\r\n", 2);
	if (r == 0 && st->chunked)
		bad |= buf_append(&c->out, "0\r\n\r\n", 5);
	buf_reset(&st->piece);
	if (bad) {
		stream_end(c);
		conn_abort(c, "out of memory");
	} else if (r == 0) {
		stream_end(c);
		http_answered(c);
	}
}

/* Feeds bytes to the WebSocket engine and dispatches its events. */
static void feed_ws(struct conn *c, const char *p, size_t n)
{
	while (!c->dead) {
		struct ws_event ev;
		size_t used = ws_recv(&c->ws, p, n, &ev);

		p += used;
		n -= used;
		switch (ev.type) {
		case WS_EV_NONE:
			if (used == 0 || n == 0)
				return;
			break;
		case WS_EV_TEXT:
			if (c->state != CONN_CLOSING && c->ops->on_text)
				c->ops->on_text(c, (char *)ev.data, ev.len);
			break;
		case WS_EV_PING:
		case WS_EV_PONG:
			break;
		case WS_EV_CLOSE:
			if (c->state == CONN_CLOSING) {
				/* Our close was answered: the handshake is over. */
				if (!c->why[0])
					fmt_snprintf(c->why, sizeof(c->why), "closed");
			} else {
				fmt_snprintf(c->why, sizeof(c->why), "peer closed (%u%s%.*s)",
					 ev.code, ev.len ? " " : "", (int)(ev.len > 100 ? 100 : ev.len),
					 ev.data);
			}
			/* Both close frames are now exchanged (the engine queued
			 * the echo if we had not sent ours). */
			c->close_done = 1;
			begin_closing(c, NULL);
			return;
		case WS_EV_ERROR:
			fmt_snprintf(c->why, sizeof(c->why), "protocol error: %s (closed %u)",
				 ev.data ? ev.data : "?", ev.code);
			begin_closing(c, NULL);
			return;
		}
	}
}

/* The handshake is done: the rest of c->in already holds frames. */
static void start_ws(struct conn *c)
{
	size_t rest = c->in.len;
	char *tail = rest ? malloc(rest) : NULL;

	if (rest && !tail) {
		conn_abort(c, "out of memory");
		return;
	}
	if (rest)
		memcpy(tail, c->in.p, rest);
	buf_free(&c->in);
	c->ws_up = 1;
	c->out.max = CFG_SEND_BUFFER_MAX;
	conn_set_state(c, CONN_AUTH);
	if (c->ops->on_open)
		c->ops->on_open(c);
	if (rest && !c->dead)
		feed_ws(c, tail, rest);
	free(tail);
}

static void http_error(struct conn *c, int status, const char *msg)
{
	c->state = CONN_HTTP;
	c->http_busy = 1;
	c->http_close = 1;
	c->http_head = 0;
	conn_http_respond(c, status, "text/plain; charset=utf-8", NULL, msg, strlen(msg));
	fmt_snprintf(c->why, sizeof(c->why), "bad HTTP request: %d %s", status, msg);
}

/* Server side: a whole request head is in c->in. */
static void handle_request(struct conn *c, int head)
{
	struct http_req req;
	const char *why = NULL;

	if (http_parse_request(c->in.p, c->in.len, &req) != head)
		head = HTTP_BAD;
	if (c->ops->on_head)
		c->ops->on_head(c, &req);
	if (ws_is_upgrade(&req)) {
		if (ws_server_handshake(&req, &c->out, &why) < 0) {
			fmt_snprintf(c->why, sizeof(c->why), "bad WebSocket handshake: %s", why);
			begin_closing(c, NULL);
			return;
		}
		buf_consume(&c->in, (size_t)head);
		start_ws(c);
		return;
	}
	if (!c->ops->on_http) {
		http_error(c, 426, "this endpoint speaks WebSocket only\n");
		return;
	}
	{
		long long cl = http_content_length(req.h, req.nh);
		const struct http_span *te = http_get(req.h, req.nh, "Transfer-Encoding");
		const struct http_span *conn_h = http_get(req.h, req.nh, "Connection");

		if (te) {
			http_error(c, 411, "chunked bodies are not supported; send Content-Length\n");
			return;
		}
		if (cl == -2) {
			http_error(c, 400, "bad Content-Length\n");
			return;
		}
		if (cl < 0)
			cl = 0;
		if ((size_t)cl > c->http_body_max) {
			http_error(c, 413, "request body too large\n");
			return;
		}
		if (c->in.len < (size_t)head + (size_t)cl) {
			c->in.max = (size_t)head + (size_t)cl;
			return;    /* wait for the rest of the body */
		}
		c->http10 = req.minor == 0;
		c->http_close = req.minor == 0 || (conn_h && http_has_token(conn_h, "close"));
		/* HEAD: the same head, Content-Length included, and no body. */
		c->http_head = req.method.n == 4 && memcmp(req.method.p, "HEAD", 4) == 0;
		c->set_up = 1;
		c->state = CONN_HTTP;
		c->http_busy = 1;
		c->state_deadline = 0;
		update_deadline(c);
		c->ops->on_http(c, &req, c->in.p + head, (size_t)cl);
		buf_consume(&c->in, (size_t)head + (size_t)cl);
		c->in.max = CFG_HTTP_MAX_HEADER;
	}
}

static void on_readable_head(struct conn *c, const char *p, size_t n)
{
	int head;

	/* One read may carry the head and a good part of the body: room for
	 * both (http_parse_request still refuses a head past its own limit). */
	if (IS_SERVER(c) && c->in.max < CFG_HTTP_MAX_HEADER + c->http_body_max)
		c->in.max = CFG_HTTP_MAX_HEADER + c->http_body_max;
	if (n && buf_append(&c->in, p, n) < 0) {
		if (IS_SERVER(c))
			http_error(c, 431, "request head too large\n");
		else
			conn_abort(c, "handshake response too large");
		return;
	}
	if (IS_SERVER(c)) {
		struct http_req req;

		head = http_parse_request(c->in.p, c->in.len, &req);
		if (head == HTTP_INCOMPLETE)
			return;
		if (head == HTTP_BAD) {
			http_error(c, 400, "malformed HTTP request\n");
			return;
		}
		if (head == HTTP_TOO_LARGE) {
			http_error(c, 431, "request head too large\n");
			return;
		}
		handle_request(c, head);
	} else {
		struct http_resp resp;
		const char *why = NULL;

		head = http_parse_response(c->in.p, c->in.len, &resp);
		if (head == HTTP_INCOMPLETE)
			return;
		if (head < 0) {
			conn_abort(c, "malformed handshake response from server");
			return;
		}
		if (ws_client_check(&resp, c->ws_key, &why) < 0) {
			fmt_snprintf(c->why, sizeof(c->why), "WebSocket handshake refused: %s (HTTP %d)",
				 why, resp.status);
			c->dead = 1;
			update_deadline(c);
			return;
		}
		buf_consume(&c->in, (size_t)head);
		start_ws(c);
	}
}

static void on_readable(struct conn *c)
{
	size_t want = sizeof(rbuf);
	ssize_t r;

	/* While a request is answered, what follows it is read only as far
	 * as c->in has room (may_read). */
	if (is_http(c) && c->state == CONN_HTTP && c->in.len < c->in.max &&
	    c->in.max - c->in.len < want)
		want = c->in.max - c->in.len;
	do
		r = io_read(c, rbuf, want);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN)
			io_failed(c);
		return;
	}
	if (r == 0) {
		if (c->raw && c->state == CONN_HTTP) {
			c->ops->on_bytes(c, NULL, 0);
			conn_abort(c, "peer closed the connection");
		} else if (c->state == CONN_HTTP && c->http_busy) {
			/* A client that half-closed after its request still gets
			 * the answer; then the connection ends. */
			c->rd_eof = 1;
			c->http_close = 1;
			update_deadline(c);
		} else if (c->state == CONN_CLOSING)
			conn_abort(c, c->why[0] ? c->why : "closed");
		else
			conn_abort(c, "peer closed the connection without a close frame");
		return;
	}
	c->last_rx = loop_now();
	c->ping_at = 0;
	switch (c->state) {
	case CONN_HANDSHAKE:
		on_readable_head(c, rbuf, (size_t)r);
		break;
	case CONN_HTTP:
		if (c->raw) {
			c->ops->on_bytes(c, rbuf, (size_t)r);
			break;
		}
		/* A pipelined request waits its turn, within its room. */
		if (buf_append(&c->in, rbuf, (size_t)r) < 0)
			conn_abort(c, "out of memory");
		break;
	case CONN_AUTH:
	case CONN_OPEN:
		feed_ws(c, rbuf, (size_t)r);
		break;
	case CONN_CLOSING:
		/* Waiting for the peer's close frame or EOF; the engine ignores
		 * everything after a close, so feeding it is always safe. */
		if (c->ws_up)
			feed_ws(c, rbuf, (size_t)r);
		break;
	case CONN_RESOLVING:
	case CONN_CONNECTING:
		break;
	}
}

static void on_deadline(struct conn *c)
{
	int64_t now = loop_now();

	if (answer_leaving(c) && now >= c->last_tx + CFG_HTTP_STALL_MS) {
		conn_abort(c, "the client stopped reading its answer");
		return;
	}
	if (c->state_deadline && now >= c->state_deadline) {
		switch (c->state) {
		case CONN_RESOLVING:
		case CONN_CONNECTING:
			conn_abort(c, c->state ? "connect timed out" : "resolving the name timed out");
			break;
		case CONN_HANDSHAKE:
			if (c->tls && !tls_handshake_done(c->tls)) {
				conn_abort(c, "TLS handshake timed out");
			} else if (IS_SERVER(c) && unsent(c)) {
				/* The last answer is still leaving: the next request's
				 * time starts later (a stalled client goes above). */
				c->state_deadline = now + CFG_HANDSHAKE_TIMEOUT_MS;
			} else if (IS_SERVER(c) && c->in.len == 0 && !c->out.len) {
				conn_abort(c, "no request within the handshake timeout");
			} else if (IS_SERVER(c)) {
				http_error(c, 408, "request timeout\n");
			} else {
				conn_abort(c, "no handshake response from server");
			}
			break;
		case CONN_CLOSING:
			conn_abort(c, c->why[0] ? c->why : "close timed out");
			break;
		default:
			c->state_deadline = 0;
			break;
		}
		return;
	}
	if (c->timer && now >= c->timer) {
		c->timer = 0;
		if (c->ops->on_timer)
			c->ops->on_timer(c);
		return;
	}
	if (c->ping_ms && (c->state == CONN_AUTH || c->state == CONN_OPEN)) {
		if (c->ping_at && now >= c->ping_at + CFG_PONG_TIMEOUT_MS) {
			conn_abort(c, "peer stopped answering pings");
		} else if (!c->ping_at && now >= c->last_rx + c->ping_ms) {
			c->ping_at = now;
			if (ws_send_ping(&c->ws, "nestd", 5) < 0)
				conn_abort(c, "send queue full: peer is not reading");
		}
	}
}

/* The child answered: the pipe makes way for the connecting socket. */
static void resolved(struct conn *c)
{
	char err[200];
	int fd;

	loop_del(c->loop, &c->src);
	fd = net_resolve_finish(c->src.fd, c->resolver, c->rurl, err, sizeof(err));
	c->resolver = 0;
	free(c->rurl);
	c->rurl = NULL;
	c->src.fd = fd;
	if (loop_add(c->loop, &c->src) < 0 || fd < 0) {
		conn_abort(c, fd < 0 ? err : "out of memory");
		return;
	}
	c->state = CONN_CONNECTING;
}

static void conn_ready(struct loop_src *s, short revents)
{
	struct conn *c = s->arg;
	int64_t t0;

	/* Set-ups past this window's budget stay in the kernel's queue until
	 * the next one, even when poll said readable. */
	if (!c->dead && paced_until(c)) {
		update_deadline(c);
		return;
	}
	t0 = setting_up(c) ? loop_now_us() : 0;
	c->in_ready = 1;
	if (!c->dead && c->state == CONN_RESOLVING && (revents & (POLLIN | POLLERR | POLLHUP)))
		resolved(c);
	if (!c->dead && c->state == CONN_CONNECTING && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		char err[128];

		if (net_connect_result(c->src.fd, err, sizeof(err)) < 0) {
			char msg[256];

			fmt_snprintf(msg, sizeof(msg), "connect to %s failed: %s", c->peer, err);
			conn_abort(c, msg);
		} else {
			c->state = c->raw ? CONN_HTTP : CONN_HANDSHAKE;
			if (c->raw)
				c->state_deadline = 0;
			c->last_rx = loop_now();
		}
	}
	if (!c->dead && c->state > CONN_CONNECTING && !may_read(c) &&
	    (revents & (POLLHUP | POLLERR))) {
		/* Reported whatever we asked for: nothing more can come. */
		conn_abort(c, c->rd_eof ? "closed" : "connection reset by peer");
	} else if (!c->dead && c->state > CONN_CONNECTING && may_read(c) &&
		   ((revents & (POLLIN | POLLHUP | POLLERR)) || (c->tls && tls_pending(c->tls)))) {
		on_readable(c);
		/* BearSSL may hold decrypted bytes that poll cannot see. */
		while (!c->dead && c->tls && tls_pending(c->tls) && may_read(c))
			on_readable(c);
	}
	if (!c->dead && c->reparse && c->state == CONN_HANDSHAKE && may_read(c)) {
		c->reparse = 0;
		on_readable_head(c, NULL, 0);
	} else if (!c->dead && revents == 0) {
		on_deadline(c);
	}
	if (!c->dead && c->state > CONN_CONNECTING && out_pending(c))
		flush(c);
	if (!c->dead && c->close_done && !out_pending(c))
		conn_abort(c, c->why[0] ? c->why : "closed");
	c->in_ready = 0;
	if (t0)
		pace_used_us += loop_now_us() - t0;
	if (c->dead) {
		conn_destroy(c, c->why[0] ? c->why : "closed");
		return;
	}
	update_deadline(c);
}
