/* test_buf.c - buf.c's mem_find against the libc memmem it stands in for:
 * needles at either end, overlapping prefixes, empty and longer needles,
 * and random texts over a small alphabet (many partial matches). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include "t.h"
#include "buf.h"

void test_buf_mem_find(void);
void test_buf_read_file(void);
void test_buf_str_find(void);

void test_buf_mem_find(void)
{
	static const char *const hay[] = { "", "a", "aaab", "abababc", "xx - yy", "Port 80", "ab\\nc" };
	static const char *const nee[] = { "", "a", "b", "ab", "abc", "aab", " - ", "Port ", "\\n", "zz" };
	char h[64], k[5];
	size_t i, j, hn, kn;
	int bad = 0;

	for (i = 0; i < sizeof(hay) / sizeof(hay[0]); i++)
		for (j = 0; j < sizeof(nee) / sizeof(nee[0]); j++)
			CHECK(mem_find(hay[i], strlen(hay[i]), nee[j], strlen(nee[j])) ==
			      memmem(hay[i], strlen(hay[i]), nee[j], strlen(nee[j])));
	srand(3);
	for (i = 0; i < 20000; i++) {
		hn = (size_t)rand() % sizeof(h);
		kn = (size_t)rand() % sizeof(k);
		for (j = 0; j < hn; j++)
			h[j] = "ab-"[rand() % 3];
		for (j = 0; j < kn; j++)
			k[j] = "ab-"[rand() % 3];
		bad += mem_find(h, hn, k, kn) != memmem(h, hn, k, kn);
	}
	CHECK(bad == 0);
}

/* A file whole (longer than one read), cut at max, missing, a FIFO with no
 * writer (empty, not a hang). */
void test_buf_read_file(void)
{
	char dir[] = "/tmp/nestd-buf.XXXXXX", path[64], fifo[64];
	struct buf b;
	FILE *f;
	int i;

	if (!mkdtemp(dir)) {
		SKIP("no temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(fifo, sizeof(fifo), "%s/p", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	for (i = 0; f && i < 3000; i++)
		fputc('a' + i % 26, f);
	if (f)
		fclose(f);
	buf_init(&b, 0);
	CHECK(buf_read_file(&b, path) == 0 && b.len == 3000 && b.p[2999] == 'a' + 2999 % 26 && b.p[3000] == '\0');
	buf_free(&b);
	buf_init(&b, 1000);
	CHECK(buf_read_file(&b, path) == 0 && b.len == 1000 && strlen(b.p) == 1000);
	buf_free(&b);
	buf_init(&b, 0);
	errno = 0;
	CHECK(buf_read_file(&b, "/nonexistent/nestd") == -1 && errno == ENOENT && b.len == 0);
	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK(buf_read_file(&b, fifo) == 0 && b.len == 0);
	buf_free(&b);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
}

/* str_find is strstr: the same answer (the same offset, or none) for
 * needles at either end, overlapping prefixes, empty and longer ones. */
void test_buf_str_find(void)
{
	static const char *const hay[] = { "", "a", "aaab", "abababc", "xx - yy", "Port 80", "://x", "a..b" };
	static const char *const nee[] = { "", "a", "b", "ab", "abc", "aab", " - ", "Port 80!", "://", "..", "zz" };
	size_t i, j, bad = 0;

	for (i = 0; i < sizeof(hay) / sizeof(hay[0]); i++)
		for (j = 0; j < sizeof(nee) / sizeof(nee[0]); j++)
			bad += str_find(hay[i], nee[j]) != strstr(hay[i], nee[j]);
	CHECK(bad == 0);
}
