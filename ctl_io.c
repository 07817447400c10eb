/* ctl_io.c - nestd ctl's blocking HTTP exchange (see ctl_io.h).
 *
 * A link is a connected socket, and over https:// a TLS context and
 * connection of its own.  tls_read/tls_write never wait: when they say
 * EAGAIN, tls_events tells which way the engine needs the socket, and
 * wait_fd polls for that until the deadline.  A plain socket takes the same
 * path with read(2)/write(2). */
#include "ctl_io.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fmt.h"
#include "httpc.h"

#define READ_CHUNK 65536

struct link {
	int fd;
	struct tls_ctx *x;       /* https:// only, like t */
	struct tls_conn *t;
	int64_t deadline;        /* monotonic ms */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 once fd is ready for ev, -1 with a reason at the deadline or on a
 * poll error. */
static int wait_fd(int fd, short ev, int64_t deadline, char *err, size_t errlen)
{
	struct pollfd p = { fd, ev, 0 };
	int r;

	for (;;) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			fmt_snprintf(err, errlen, "timed out");
			return -1;
		}
		r = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR) {
			fmt_copy(err, errlen, strerror(errno));
			return -1;
		}
	}
}

static void io_error(const struct link *l, char *err, size_t errlen)
{
	if (l->t && errno == EPROTO)
		fmt_snprintf(err, errlen, "TLS: %s", tls_why(l->t));
	else
		fmt_copy(err, errlen, strerror(errno));
}

/* All of p[0..n), then whatever records the TLS engine still holds. */
static int link_write_all(struct link *l, const char *p, size_t n, char *err, size_t errlen)
{
	for (;;) {
		ssize_t w;

		if (n == 0) {
			if (!l->t || tls_flush(l->t, l->fd) == 0)
				return 0;
			w = -1;
		} else {
			w = l->t ? tls_write(l->t, l->fd, p, n) : write(l->fd, p, n);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				short ev = l->t ? tls_events(l->t, n > 0) : POLLOUT;

				if (wait_fd(l->fd, ev ? ev : POLLOUT, l->deadline, err, errlen) < 0)
					return -1;
				continue;
			}
			io_error(l, err, errlen);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Like read(2): bytes, 0 at the end, -1 with a reason. */
static ssize_t link_read(struct link *l, void *p, size_t n, char *err, size_t errlen)
{
	for (;;) {
		ssize_t r = l->t ? tls_read(l->t, l->fd, p, n) : read(l->fd, p, n);
		short ev;

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			io_error(l, err, errlen);
			return -1;
		}
		ev = l->t ? tls_events(l->t, 0) : POLLIN;
		if (wait_fd(l->fd, ev ? ev : POLLIN, l->deadline, err, errlen) < 0)
			return -1;
	}
}

static void link_close(struct link *l)
{
	tls_conn_free(l->t);
	tls_ctx_free(l->x);
	if (l->fd >= 0)
		close(l->fd);
	l->t = NULL;
	l->x = NULL;
	l->fd = -1;
}

/* Connects within CFG_CTL_CONNECT_TIMEOUT_MS, then sets up TLS for
 * https://. */
static int link_open(struct link *l, const struct ctl_server *s, char *err, size_t errlen)
{
	char why[256];

	l->x = NULL;
	l->t = NULL;
	l->deadline = now_ms() + s->wait_ms;
	l->fd = net_connect(&s->url, err, errlen);
	if (l->fd < 0)
		return -1;
	if (wait_fd(l->fd, POLLOUT, now_ms() + CFG_CTL_CONNECT_TIMEOUT_MS, why, sizeof(why)) < 0 ||
	    net_connect_result(l->fd, why, sizeof(why)) < 0) {
		fmt_snprintf(err, errlen, "cannot connect to %s: %s", s->name, why);
		link_close(l);
		return -1;
	}
	if (s->url.tls) {
		l->x = tls_client_ctx(&s->tls, err, errlen);
		if (l->x)
			l->t = tls_conn_new(l->x, s->url.host, err, errlen);
		if (!l->t) {
			link_close(l);
			return -1;
		}
	}
	return 0;
}

static void build_request(const struct ctl_server *s, const char *method, const char *path,
			  const char *body, size_t bodylen, struct buf *out)
{
	buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nestd-ctl/%s\r\n"
		   "Connection: close\r\nAccept: application/json\r\n",
		   method, path, s->url.scheme == URL_UNIX ? "localhost" : s->url.host,
		   NESTD_VERSION);
	if (s->token[0])
		buf_printf(out, "Authorization: Bearer %s\r\n", s->token);
	if (body)
		buf_printf(out, "Content-Type: application/json\r\nContent-Length: %zu\r\n", bodylen);
	buf_puts(out, "\r\n");
	if (body)
		buf_append(out, body, bodylen);
}

/* Reads the answer through httpc.c's response parser (the Slack face's
 * client reads with the same one): its body framed by Content-Length,
 * chunked (a server, or a proxy in front of one, may send an answer of
 * unknown length so) or the end of the connection. */
static int read_response(struct link *l, const char *name, struct httpc_parser *hp,
			 char *err, size_t errlen)
{
	char chunk[READ_CHUNK], why[256];
	ssize_t r, off;

	while (hp->state != HP_DONE && hp->state != HP_ERROR) {
		r = link_read(l, chunk, sizeof(chunk), why, sizeof(why));
		if (r < 0) {
			fmt_snprintf(err, errlen, "reading from %s: %s", name, why);
			return -1;
		}
		if (r == 0 && !hp->head.len) {
			fmt_snprintf(err, errlen, "%s closed the connection without an answer", name);
			return -1;
		}
		if (r == 0)
			httpc_parser_eof(hp);
		for (off = 0; off < r && hp->state != HP_DONE && hp->state != HP_ERROR;)
			off += (ssize_t)httpc_parser_feed(hp, chunk + off, (size_t)(r - off));
	}
	if (hp->state == HP_ERROR) {
		fmt_snprintf(err, errlen, "the answer from %s: %s", name, hp->why);
		return -1;
	}
	return 0;
}

int ctl_http(const struct ctl_server *s, const char *method, const char *path,
	     const char *body, size_t bodylen, int *status, struct buf *resp,
	     char *err, size_t errlen)
{
	struct link l;
	struct buf out;
	struct httpc_parser hp;
	char why[256];
	int rc = -1;

	if (link_open(&l, s, err, errlen) < 0)
		return -1;
	buf_init(&out, 0);
	httpc_parser_init(&hp, CFG_CTL_MAX_ANSWER);
	build_request(s, method, path, body, bodylen, &out);
	if (link_write_all(&l, out.p, out.len, why, sizeof(why)) < 0)
		fmt_snprintf(err, errlen, "sending to %s: %s", s->name, why);
	else if (read_response(&l, s->name, &hp, err, errlen) == 0)
		rc = 0;
	if (rc == 0) {
		*status = hp.status;
		buf_append(resp, hp.body.p ? hp.body.p : "", hp.body.len);
	}
	/* The request held the token. */
	if (out.p)
		memset(out.p, 0, out.len);
	buf_free(&out);
	httpc_parser_free(&hp);
	link_close(&l);
	return rc;
}
