/* out.h - nestd's output to a descriptor: what stdio's FILE did for it.
 *
 * Why: stdio (FILE, fwrite, fflush, fdopen, fgets...) was 4.4 KB of musl in
 * both static binaries, for a few tables, help texts and one file.  A
 * struct out is a buffer we own in front of a descriptor (or a struct buf:
 * tests, table cells), emptied with write(2), short writes and EINTR
 * retried.  The first write that fails is kept in err, its bytes dropped,
 * as a FILE's error flag was; no caller of stdio looked at it either.
 *
 * out_stdout holds what goes to stdout until it is full, until something
 * goes to stderr (out_stderr empties it first, so the two read in the order
 * they were written) and until nestd.c's main returns: whoever else writes
 * to descriptor 1 (help_print, a child) empties it first.  out_stderr
 * keeps nothing: each call is written at once, as stderr is unbuffered. */
#ifndef NESTD_OUT_H
#define NESTD_OUT_H

#include <stddef.h>

struct buf;

struct out {
	int fd;                 /* where it goes (mem NULL) */
	int err;                /* errno of the first write that failed; 0 */
	char *b;                /* the buffer, cap bytes, len in use; cap 0: none */
	size_t len, cap;
	struct buf *mem;        /* not NULL: appended there instead */
	struct out *first;      /* emptied before this one writes (stderr: stdout) */
};

extern struct out out_stdout, out_stderr;

/* o on descriptor fd with the buffer b[0..cap) (cap 0: unbuffered). */
void out_init(struct out *o, int fd, char *b, size_t cap);
/* o into the buffer m, unbuffered (what open_memstream was for). */
void out_init_mem(struct out *o, struct buf *m);

/* As fwrite, fputs, putc, fprintf: 0 (out_printf: the length), or -1 when
 * a write failed (o->err says why) or memory for a long line ran out. */
int out_write(struct out *o, const void *p, size_t n);
int out_puts(struct out *o, const char *s);
int out_putc(struct out *o, int c);
int out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define out_print(...) out_printf(&out_stdout, __VA_ARGS__)
/* Writes what is buffered: 0, or -1 (o->err); the buffer is empty after. */
int out_flush(struct out *o);

/* write(2) all of p[0..n) to fd through short writes and EINTR: 0, or -1
 * with errno set. */
int out_fd_write(int fd, const void *p, size_t n);

#endif
