/* buf.h - a growable byte buffer with an upper bound.
 *
 * Used at the edges (send queues, message reassembly, reply building).
 * Every append fails cleanly (-1, nothing changed) past `max` bytes or when
 * memory runs out, so a hostile peer can only ever cost its own connection.
 * The data is always NUL-terminated for convenience (not counted in len). */
#ifndef NESTD_BUF_H
#define NESTD_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include <string.h>

struct buf {
	char *p;        /* data, NUL-terminated when non-NULL */
	size_t len;     /* bytes in use */
	size_t cap;     /* bytes allocated (excluding the terminator) */
	size_t max;     /* 0: no bound */
};

void buf_init(struct buf *b, size_t max);
int  buf_reserve(struct buf *b, size_t extra);     /* room for len+extra */
int  buf_append_slow(struct buf *b, const void *p, size_t n);
/* The JSON writer and the frame encoder append a few bytes at a time: the
 * common case (it fits) inline, the growth and the bound in buf.c. */
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->p && n <= b->cap - b->len) {
		if (n)
			memcpy(b->p + b->len, p, n);
		b->len += n;
		b->p[b->len] = '\0';
		return 0;
	}
	return buf_append_slow(b, p, n);
}
int  buf_putc(struct buf *b, char c);
int  buf_puts(struct buf *b, const char *s);
int  buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int  buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_consume(struct buf *b, size_t n);         /* drop n bytes from the front */
void buf_reset(struct buf *b);                     /* len = 0, keep memory */
void buf_free(struct buf *b);                      /* release memory, len = 0 */
char *buf_steal(struct buf *b);                    /* hand over p; b becomes empty */

/* memmem's answer (the first k[0..kn) in h[0..hn), NULL if none, h for
 * kn 0) by a plain scan: nestd looks for a few bytes in short texts, and
 * musl's two-way memmem costs 1.2 KB of the static binaries for that. */
/* The file at path appended to b whole, or as much of it as b's max
 * allows (the rest is not read): 0, or -1 when it cannot be opened or
 * read (errno).  O_NONBLOCK: a FIFO planted there reads as empty. */
int buf_read_file(struct buf *b, const char *path);
const void *mem_find(const void *h, size_t hn, const void *k, size_t kn);
/* strstr through mem_find: the first k in the string h, or NULL (h itself
 * for an empty k); musl's two-way strstr is another 1.3 KB. */
char *str_find(const char *h, const char *k);

#endif
