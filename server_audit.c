/* server_audit.c - the audit log's lines (see server_audit.h).  A line is
 * built whole in memory and goes out in one write(2) on an O_APPEND
 * descriptor, so lines never interleave, even with another writer. */
#include "server_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "log.h"

struct audit_log {
	int fd;                  /* -1: no log */
	const char *path;        /* the option's string */
};

struct audit_log *audit_open(const char *path, char *err, size_t errlen)
{
	struct audit_log *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->fd = -1;
	a->path = path;
	if (!path[0])
		return a;
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		snprintf(err, errlen, "cannot open audit log %s: %s", path, strerror(errno));
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

/* 0 and the line opened with its time and event; -1 when there is no log. */
static int line_begin(struct audit_log *a, struct jw *w, struct buf *b, const char *event)
{
	char ts[40];
	struct timespec t;
	struct tm tm;

	if (!a || a->fd < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	log_fmt_tm(ts, sizeof(ts), &tm, 'T');
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", t.tv_nsec / 1000000);
	buf_init(b, 1u << 20);
	jw_init(w, b);
	jw_obj(w);
	jw_kstr(w, "time", ts);
	jw_kstr(w, "event", event);
	return 0;
}

static void line_end(struct audit_log *a, struct jw *w, struct buf *b)
{
	jw_obj_end(w);
	if (!jw_error(w) && buf_putc(b, '\n') == 0) {
		ssize_t r = write(a->fd, b->p, b->len);

		if (r != (ssize_t)b->len)
			log_error("audit log %s: write failed: %s", a->path,
				  r < 0 ? strerror(errno) : "short write");
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
