/* buf.c - bounded growable buffer (see buf.h for the contract). */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, ncap;
	char *np;

	if (extra > (size_t)-1 / 2 - b->len)
		return -1;
	need = b->len + extra;
	if (b->max && need > b->max)
		return -1;
	if (need <= b->cap && b->p)
		return 0;
	ncap = b->cap ? b->cap : 256;   /* most messages fit: one allocation */
	while (ncap < need)
		ncap *= 2;
	if (b->max && ncap > b->max)
		ncap = b->max;
	np = realloc(b->p, ncap + 1);
	if (!np)
		return -1;
	b->p = np;
	b->cap = ncap;
	b->p[b->len] = '\0';
	return 0;
}

int buf_append_slow(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = fmt_vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	fmt_vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->p, b->p + n, b->len - n);
		b->len -= n;
	}
	if (b->p)
		b->p[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *buf_steal(struct buf *b)
{
	char *p = b->p;

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

const void *mem_find(const void *h, size_t hn, const void *k, size_t kn)
{
	const unsigned char *p = h, *end;

	if (!kn)
		return h;
	if (kn > hn)
		return NULL;
	for (end = p + (hn - kn); p <= end; p++) {
		p = memchr(p, *(const unsigned char *)k, (size_t)(end - p) + 1);
		if (!p)
			return NULL;
		if (memcmp(p, k, kn) == 0)
			return p;
	}
	return NULL;
}

char *str_find(const char *h, const char *k)
{
	return (char *)mem_find(h, strlen(h), k, strlen(k));
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), rc = 0, e;

	if (fd < 0)
		return -1;
	while (buf_reserve(b, 1) == 0) {   /* else at max, or out of memory: what fits */
		ssize_t r;

		if (b->cap - b->len < 1024)
			buf_reserve(b, 1024);
		r = read(fd, b->p + b->len, b->cap - b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		b->len += (size_t)r;
		b->p[b->len] = '\0';
	}
	e = errno;
	close(fd);
	errno = e;
	return rc;
}
