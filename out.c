/* out.c - buffered output on a descriptor without stdio (see out.h). */
#include "out.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fmt.h"

/* 4 KB, glibc's buffer for a pipe or a file: a table goes out in a few
 * writes; .bss, so no bytes of the binary. */
static char stdout_buf[4096];

struct out out_stdout = { 1, 0, stdout_buf, 0, sizeof(stdout_buf), NULL, NULL };
struct out out_stderr = { 2, 0, NULL, 0, 0, NULL, &out_stdout };

void out_init(struct out *o, int fd, char *b, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->b = b;
	o->cap = cap;
}

void out_init_mem(struct out *o, struct buf *m)
{
	memset(o, 0, sizeof(*o));
	o->mem = m;
}

int out_fd_write(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* p[0..n) where o sends it, now. */
static int emit(struct out *o, const void *p, size_t n)
{
	if (o->mem)
		return buf_append(o->mem, p, n);
	if (out_fd_write(o->fd, p, n) == 0)
		return 0;
	if (!o->err)
		o->err = errno;
	return -1;
}

int out_flush(struct out *o)
{
	size_t n = o->len;

	o->len = 0;
	return n ? emit(o, o->b, n) : 0;
}

int out_write(struct out *o, const void *p, size_t n)
{
	int rc = 0;

	if (o->first && o->first->len)
		out_flush(o->first);
	if (n > o->cap - o->len) {
		rc = out_flush(o);
		if (n >= o->cap)        /* more than the buffer holds: straight out */
			return emit(o, p, n) | rc;
	}
	if (n)
		memcpy(o->b + o->len, p, n);
	o->len += n;
	return rc;
}

int out_puts(struct out *o, const char *s)
{
	return out_write(o, s, strlen(s));
}

int out_putc(struct out *o, int c)
{
	char ch = (char)c;

	return out_write(o, &ch, 1);
}

/* Formatted whole into line (1 KB) or, longer, a malloc'd copy, then
 * written in one piece (one write(2) on stderr: a line is never split). */
int out_printf(struct out *o, const char *fmt, ...)
{
	char line[1024], *p = line;
	va_list ap, aq;
	int n;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	if (n >= (int)sizeof(line)) {
		p = malloc((size_t)n + 1);
		if (p)
			fmt_vsnprintf(p, (size_t)n + 1, fmt, aq);
	}
	va_end(aq);
	va_end(ap);
	if (n < 0 || !p)
		return -1;
	if (out_write(o, p, (size_t)n) < 0)
		n = -1;
	if (p != line)
		free(p);
	return n;
}
