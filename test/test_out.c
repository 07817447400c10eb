/* test_out.c - out.c, the writer that stands in for stdio: bytes come out
 * whole and in order however they were cut (small writes buffered, large
 * ones straight through, a line longer than the format's stack buffer),
 * nothing before a flush, stdout emptied before stderr writes, and a
 * write that fails (a full disk, a reader gone) reported, not retried. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "out.h"
#include "t.h"

void test_out_order(void);
void test_out_printf(void);
void test_out_first(void);
void test_out_errors(void);

/* What is in the pipe's read end r now (it does not block). */
static size_t drain(int r, char *got, size_t cap)
{
	size_t n = 0;
	ssize_t k;

	while (n < cap && (k = read(r, got + n, cap - n)) > 0)
		n += (size_t)k;
	return n;
}

static int nb_pipe(int p[2])
{
	if (pipe(p) < 0)
		return -1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	return 0;
}

void test_out_order(void)
{
	char b[16], big[40], want[80], got[100];
	struct out o;
	size_t n;
	int p[2];

	if (nb_pipe(p) < 0) {
		SKIP("no pipe");
		return;
	}
	memset(big, 'B', sizeof(big));
	out_init(&o, p[1], b, sizeof(b));
	CHECK(out_puts(&o, "abc") == 0 && out_putc(&o, 'd') == 0);
	CHECK(drain(p[0], got, sizeof(got)) == 0);          /* buffered */
	CHECK(out_write(&o, "0123456789ab", 12) == 0);      /* exactly fills it */
	CHECK(drain(p[0], got, sizeof(got)) == 0 && o.len == 16);
	CHECK(out_write(&o, big, sizeof(big)) == 0);        /* larger: after what was held */
	CHECK(out_write(&o, "xyz", 3) == 0);
	n = drain(p[0], got, sizeof(got));
	memcpy(want, "abcd0123456789ab", 16);
	memcpy(want + 16, big, sizeof(big));
	CHECK_MEM(got, n, want, 16 + sizeof(big));
	CHECK(out_flush(&o) == 0 && o.len == 0);
	n = drain(p[0], got, sizeof(got));
	CHECK_MEM(got, n, "xyz", 3);
	CHECK(out_flush(&o) == 0 && drain(p[0], got, sizeof(got)) == 0);
	CHECK(o.err == 0);
	close(p[0]);
	close(p[1]);
}

void test_out_printf(void)
{
	char want[3000];
	struct buf m;
	struct out o;

	buf_init(&m, 0);
	out_init_mem(&o, &m);
	memset(want, 'w', 2500);
	want[2500] = '\0';
	/* longer than out_vprintf's stack line: formatted in the heap */
	CHECK(out_printf(&o, "%s|%d|%.1f\n", want, -3, 0.25) == 2500 + 8);
	CHECK(out_printf(&o, "short %s\n", "line") == 11);
	CHECK(out_printf(&o, "%s", "") == 0);
	memcpy(want + 2500, "|-3|0.2\nshort line\n", 20);
	CHECK_STR(m.p, want);
	buf_free(&m);
	/* a bounded buffer that is full: -1, as a failed write */
	buf_init(&m, 4);
	out_init_mem(&o, &m);
	CHECK(out_puts(&o, "12345") == -1 && m.len == 0);
	buf_free(&m);
}

/* out_stderr's first: whatever stdout holds goes before stderr's bytes,
 * so 2>&1 reads in the order things were written. */
void test_out_first(void)
{
	char b[64], got[64];
	struct out a, e;
	int p[2];

	if (nb_pipe(p) < 0) {
		SKIP("no pipe");
		return;
	}
	out_init(&a, p[1], b, sizeof(b));
	out_init(&e, p[1], NULL, 0);
	e.first = &a;
	out_puts(&a, "table\n");
	out_puts(&e, "warning\n");                 /* unbuffered: at once, after a's */
	out_puts(&a, "more\n");
	CHECK_MEM(got, drain(p[0], got, sizeof(got)), "table\nwarning\n", 14);
	out_flush(&a);
	CHECK_MEM(got, drain(p[0], got, sizeof(got)), "more\n", 5);
	CHECK(out_stderr.first == &out_stdout && out_stderr.cap == 0 && out_stdout.fd == 1 &&
	      out_stderr.fd == 2);
	close(p[0]);
	close(p[1]);
}

void test_out_errors(void)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	char b[8];
	struct out o;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC), p[2];

	if (fd < 0) {
		SKIP("no /dev/full");
	} else {
		out_init(&o, fd, b, sizeof(b));
		CHECK(out_puts(&o, "abc") == 0);      /* held: nothing tried yet */
		CHECK(out_flush(&o) == -1 && o.err == ENOSPC && o.len == 0);
		CHECK(out_puts(&o, "a longer line than b") == -1);
		CHECK(out_printf(&o, "%d\n", 42) == 3 && out_flush(&o) == -1);
		CHECK(o.err == ENOSPC);               /* the first failure is kept */
		close(fd);
	}
	if (pipe(p) == 0) {
		close(p[0]);
		out_init(&o, p[1], NULL, 0);
		CHECK(out_puts(&o, "nobody reads\n") == -1 && o.err == EPIPE);
		errno = 0;
		CHECK(out_fd_write(p[1], "x", 1) == -1 && errno == EPIPE);
		close(p[1]);
	}
	CHECK(out_fd_write(-1, "x", 1) == -1 && errno == EBADF);
	CHECK(out_fd_write(-1, "", 0) == 0);
	signal(SIGPIPE, old);
}
