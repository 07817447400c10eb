/* server_audit_tail.c - the latest lines of a single server's audit log
 * (GET /api/audit without --cluster; see server_audit.h).  The file is read
 * backwards a block at a time, so the newest lines come first and a long
 * log costs only what is scanned: at most CFG_AUDIT_TAIL_MAX bytes. */
#include "fmt.h"
#include "server_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "json.h"

#define BLOCK (256u << 10)

struct tail {
	const char *agent, *op;
	int limit, n;
	char **keep;                   /* matching lines, newest first */
};

/* One whole line: kept when it matches. */
static void take(struct tail *t, const char *p, size_t n)
{
	struct json j;
	char err[32];
	int ok;

	if (n == 0 || t->n >= t->limit || json_parse(&j, p, n, err, sizeof(err)) < 0)
		return;
	ok = json_type(&j, 0) == JSON_OBJECT &&
	     (!t->agent || json_str_eq(&j, json_get(&j, 0, "agent"), t->agent)) &&
	     (!t->op || json_str_eq(&j, json_get(&j, 0, "operator"), t->op));
	json_free(&j);
	if (ok && (t->keep[t->n] = strndup(p, n)))
		t->n++;
}

/* The whole lines of acc (which starts at file offset pos), last first;
 * what is left is the head of a line that began before pos. */
static void lines(struct tail *t, struct buf *acc, off_t pos)
{
	size_t end = acc->len, i;

	for (i = acc->len; i > 0 && t->n < t->limit; i--)
		if (acc->p[i - 1] == '\n') {
			take(t, acc->p + i, end - i);
			end = i - 1;
		}
	if (pos == 0 && t->n < t->limit) {
		take(t, acc->p, end);
		end = 0;
	}
	acc->len = end;
}

/* Reads [pos, pos + n) in front of acc. */
static int prepend(int fd, off_t pos, size_t n, struct buf *acc)
{
	struct buf nb;
	ssize_t r;
	size_t got = 0;

	buf_init(&nb, 0);
	if (buf_reserve(&nb, n + acc->len) < 0)
		return -1;
	while (got < n) {
		r = pread(fd, nb.p + got, n - got, pos + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf_free(&nb);
			return -1;
		}
		got += (size_t)r;
	}
	nb.len = n;
	if (buf_append(&nb, acc->p, acc->len) < 0) {
		buf_free(&nb);
		return -1;
	}
	buf_free(acc);
	*acc = nb;
	return 0;
}

int audit_tail(const char *path, const char *agent, const char *op, int limit, struct jw *w,
	       char *err, size_t errlen)
{
	struct tail t = { agent, op, limit, 0, calloc((size_t)(limit > 0 ? limit : 1), sizeof(char *)) };
	struct buf acc;
	struct stat st;
	off_t pos;
	long long scanned = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), i, rc = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !t.keep) {
		fmt_snprintf(err, errlen, "cannot read the audit log %s: %s", path,
			 t.keep ? strerror(errno) : "out of memory");
		if (fd >= 0)
			close(fd);
		free(t.keep);
		return -1;
	}
	buf_init(&acc, 0);
	for (pos = st.st_size; pos > 0 && t.n < limit && scanned < CFG_AUDIT_TAIL_MAX; ) {
		size_t n = pos < (off_t)BLOCK ? (size_t)pos : BLOCK;

		pos -= (off_t)n;
		scanned += (long long)n;
		if (prepend(fd, pos, n, &acc) < 0 || acc.len > BLOCK + CFG_AUDIT_LINE_MAX) {
			rc = -1;          /* a read error, or no newline for far too long */
			fmt_snprintf(err, errlen, "cannot read the audit log %s", path);
			break;
		}
		lines(&t, &acc, pos);
	}
	close(fd);
	buf_free(&acc);
	for (i = t.n - 1; i >= 0; i--) {
		if (rc == 0)
			jw_raw(w, t.keep[i], strlen(t.keep[i]));
		free(t.keep[i]);
	}
	free(t.keep);
	return rc;
}
