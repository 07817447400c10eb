/* server_audit.c - the audit log's lines (see server_audit.h).  A line is
 * built whole in memory and goes out in one write(2) on an O_APPEND
 * descriptor, so lines never interleave, even with another writer.
 *
 * A full disk (or any failing write) loses lines, never the log: a line
 * written in part is cut off again, so the file stays whole JSON lines;
 * the failure is logged once, not once per line; and the first line that
 * can be written afterwards is preceded by an "audit_lost" line that says
 * how many are missing and why. */
#include "server_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "num.h"

struct audit_log {
	int fd;                  /* -1: no log */
	const char *path;        /* the option's string */
	unsigned long long lost; /* lines not written since the last that was */
	int lost_errno;          /* why the first of them was not */
	audit_tap_fn tap;        /* every line goes there too (the fleet's stream) */
	void *tap_arg;
};

void audit_set_tap(struct audit_log *a, audit_tap_fn fn, void *arg)
{
	a->tap = fn;
	a->tap_arg = arg;
}

struct audit_log *audit_open(const char *path, char *err, size_t errlen)
{
	struct audit_log *a = calloc(1, sizeof(*a));

	if (!a) {
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->fd = -1;
	a->path = path;
	if (!path[0])
		return a;
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		fmt_snprintf(err, errlen, "cannot open audit log %s: %s", path, strerror(errno));
		free(a);
		return NULL;
	}
	return a;
}

void audit_close(struct audit_log *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

int audit_reopen(struct audit_log *a, char *err, size_t errlen)
{
	int fd;

	if (!a || !a->path[0])
		return 0;
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fmt_snprintf(err, errlen, "cannot open audit log %s: %s; still writing to the old file",
			 a->path, strerror(errno));
		return -1;
	}
	if (a->fd >= 0)
		close(a->fd);
	a->fd = fd;
	return 0;
}

/* The time now as the log writes it: 2026-01-02T03:04:05.678Z. */
static void audit_now(char *ts, size_t n)
{
	struct timespec t;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &t);
	num_utc(t.tv_sec, &tm);          /* not gmtime_r: ~0.8 KB of musl */
	log_fmt_tm(ts, n, &tm, 'T');
	fmt_snprintf(ts + strlen(ts), n - strlen(ts), ".%03ldZ", t.tv_nsec / 1000000);
}

/* 0 and the line opened with its time and event; -1 when there is no log. */
static int line_begin(struct audit_log *a, struct jw *w, struct buf *b, const char *event)
{
	char ts[48];

	if (!a || (a->fd < 0 && !a->tap))
		return -1;
	audit_now(ts, sizeof(ts));
	buf_init(b, 1u << 20);
	jw_init(w, b);
	jw_obj(w);
	jw_kstr(w, "time", ts);
	jw_kstr(w, "event", event);
	return 0;
}

/* Writes b whole, or nothing: a short write is cut off again.  0, or -1
 * with errno set. */
static int write_line(struct audit_log *a, const struct buf *b)
{
	ssize_t r;
	off_t end;
	int e;

	do
		r = write(a->fd, b->p, b->len);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)b->len)
		return 0;
	if (r < 0)
		return -1;
	/* O_APPEND: the offset is the end of what was just written. */
	e = ENOSPC;
	end = lseek(a->fd, 0, SEEK_CUR);
	if (end < r || ftruncate(a->fd, end - r) < 0)
		log_error("audit log %s: cannot remove a partly written line: %s", a->path,
			  strerror(errno));
	errno = e;
	return -1;
}

/* Before the first line that goes out after a loss: the loss itself. */
static int write_gap(struct audit_log *a)
{
	struct buf b;
	struct jw w;
	char ts[48];
	int rc;

	audit_now(ts, sizeof(ts));
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "time", ts);
	jw_kstr(&w, "event", "audit_lost");
	jw_kint(&w, "lines", (long long)a->lost);
	jw_kstr(&w, "reason", strerror(a->lost_errno));
	jw_obj_end(&w);
	rc = jw_error(&w) || buf_putc(&b, '\n') < 0 ? -1 : write_line(a, &b);
	buf_free(&b);
	if (rc == 0)
		log_info("audit log %s: writable again; %llu lines were lost", a->path, a->lost);
	return rc;
}

static void line_end(struct audit_log *a, struct jw *w, struct buf *b)
{
	jw_obj_end(w);
	if (!jw_error(w) && a->tap)
		a->tap(a->tap_arg, b->p, b->len);
	if (!jw_error(w) && a->fd >= 0 && buf_putc(b, '\n') == 0) {
		if ((a->lost && write_gap(a) < 0) || write_line(a, b) < 0) {
			if (!a->lost++) {
				a->lost_errno = errno;
				log_error("audit log %s: write failed: %s; lines are lost until "
					  "it can be written again", a->path, strerror(errno));
			}
		} else {
			a->lost = 0;
		}
	}
	buf_free(b);
}

void audit_auth_failure(struct audit_log *a, const char *kind, const char *address,
			const char *source, const char *reason)
{
	struct jw w;
	struct buf b;

	if (line_begin(a, &w, &b, "auth_failure") < 0)
		return;
	jw_kstr(&w, "kind", kind);
	jw_kstr(&w, "address", address);
	if (source)
		jw_kstr(&w, "source", source);
	jw_kstr(&w, "reason", reason);
	line_end(a, &w, &b);
}

void audit_auth_summary(struct audit_log *a, const char *source, unsigned count, int seconds)
{
	struct jw w;
	struct buf b;

	if (line_begin(a, &w, &b, "auth_failures_over_budget") < 0)
		return;
	jw_kstr(&w, "source", source);
	jw_kint(&w, "count", count);
	jw_kint(&w, "seconds", seconds);
	line_end(a, &w, &b);
}

void audit_agent(struct audit_log *a, const char *event, const char *agent,
		 const char *address, const char *version, const char *why)
{
	struct jw w;
	struct buf b;

	if (line_begin(a, &w, &b, event) < 0)
		return;
	jw_kstr(&w, "agent", agent);
	jw_kstr(&w, "address", address);
	jw_kstr(&w, "version", version);
	if (why)
		jw_kstr(&w, "reason", why);
	line_end(a, &w, &b);
}

void audit_token(struct audit_log *a, const char *event, const char *agent, const char *op)
{
	struct jw w;
	struct buf b;

	if (line_begin(a, &w, &b, event) < 0)
		return;
	jw_kstr(&w, "agent", agent);
	jw_kstr(&w, "operator", op);
	line_end(a, &w, &b);
}

void audit_command(struct audit_log *a, const struct audit_command *c)
{
	struct jw w;
	struct buf b;

	if (line_begin(a, &w, &b, "command") < 0)
		return;
	jw_kstr(&w, "operator", c->op);
	jw_kstr(&w, "address", c->address);
	jw_kstr(&w, "agent", c->agent);
	jw_kstr(&w, "command", c->command);
	jw_kstr(&w, "id", c->id);
	jw_key(&w, "payload");
	if (c->payload)
		jw_raw(&w, c->payload, strlen(c->payload));
	else
		jw_null(&w);
	jw_kstr(&w, "outcome", c->outcome);
	jw_kint(&w, "http_status", c->status);
	if (c->error)
		jw_kstr(&w, "error", c->error);
	jw_kint(&w, "duration_ms", c->duration_ms);
	line_end(a, &w, &b);
}

void audit_action(struct audit_log *a, const char *event, const char *op, const char *address,
		  const char *agent, const char *detail)
{
	struct jw w;
	struct buf b;

	if (line_begin(a, &w, &b, event) < 0)
		return;
	jw_kstr(&w, "operator", op);
	jw_kstr(&w, "address", address);
	if (agent)
		jw_kstr(&w, "agent", agent);
	if (detail)
		jw_kstr(&w, "detail", detail);
	line_end(a, &w, &b);
}
