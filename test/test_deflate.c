/* test_deflate.c - the encoder against two decoders nobody here tuned it
 * for: inflate.c (every input below) and Python's zlib (raw deflate and
 * gzip, through /usr/bin/python3), and against gzip -6 for what it is
 * for: a process list of the size the dashboard fetches every 5 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../buf.h"
#include "../deflate.h"
#include "../inflate.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#define PY "/usr/bin/python3"

static unsigned rnd_state = 12345;

static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* A process list as obtain_all_process_info sends it: n entries. */
static char *proc_list(int n, size_t *len)
{
	static const char *const names[] = { "kworker/0:1", "sshd", "bash", "python3", "node",
					     "sleep", "systemd", "nginx", "postgres", "cron" };
	static const char *const users[] = { "root", "alice", "bob", "www-data", "postgres" };
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_putc(&b, '[');
	for (i = 0; i < n; i++) {
		unsigned r = rnd();
		const char *nm = names[r % 10];

		buf_printf(&b, "%s{\"pid\":%d,\"ppid\":%u,\"name\":\"%s\",\"user\":\"%s\",\"uid\":%u,"
			   "\"state\":\"%s\",\"rss\":%u,\"vms\":%u,\"cpu_time\":{\"user\":%u.%02u,"
			   "\"system\":%u.%02u},\"cpu_usage\":%u.%u,\"started\":17961%05u.%02u,"
			   "\"threads\":%u,\"cmdline\":\"/usr/bin/%s --config /etc/%s/%s.conf -v %u\","
			   "\"kernel_thread\":false}", i ? "," : "", 1000 + i * 3, r % 4000,
			   nm, users[(r >> 4) % 5], (r >> 4) % 5 * 1000, r % 3 ? "sleeping" : "running",
			   (r % 5000) * 4096, (r % 90000) * 4096, r % 500, r % 100, r % 77, r % 100,
			   r % 40, r % 10, r % 99999, r % 100, 1 + r % 8, nm, nm, nm, r % 1000);
	}
	buf_putc(&b, ']');
	*len = b.len;
	return buf_steal(&b);
}

/* Raw and gzip, both decoded by inflate.c to exactly in[0..n). */
static void round_trip(const unsigned char *in, size_t n, size_t *zlen)
{
	struct buf z;
	unsigned char *out = malloc(n + 1);
	size_t got = 0, used = 0;

	buf_init(&z, 0);
	CHECK(out && deflate_raw(in, n, &z) == 0);
	if (out && z.len) {
		CHECK(inflate_raw((unsigned char *)z.p, z.len, out, n, &got, &used) == 0);
		CHECK(got == n && used == z.len && memcmp(out, in, n) == 0);
	}
	if (zlen)
		*zlen = z.len;
	buf_reset(&z);
	CHECK(gzip_encode(in, n, &z) == 0);
	CHECK(gunzip((unsigned char *)z.p, z.len, out, n) == (long)n);
	CHECK(n == 0 || memcmp(out, in, n) == 0);
	buf_free(&z);
	free(out);
}

void test_deflate_round_trips(void)
{
	static const char *const texts[] = { "", "a", "ab", "abc", "aaaa", "hello, hello, hello",
					     "abcabcabcabcabcabcabcabcabcabcabcabcabcabcab" };
	unsigned char *b = malloc(300000);
	size_t i, zl;

	CHECK(b != NULL);
	if (!b)
		return;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		round_trip((const unsigned char *)texts[i], strlen(texts[i]), NULL);
	memset(b, 'z', 300000);                  /* distance 1, length 258, many blocks */
	round_trip(b, 300000, &zl);
	CHECK(zl < 2000);
	for (i = 0; i < 300000; i++)             /* incompressible: stored, in pieces */
		b[i] = (unsigned char)rnd();
	round_trip(b, 300000, &zl);
	CHECK(zl <= 300000 + (300000 / 16384 + 1) * 6 + 16);   /* a few bytes a block */
	for (i = 0; i < 300000; i++)             /* few symbols: skewed codes, long lengths */
		b[i] = (unsigned char)(rnd() % 97 == 0 ? 'x' : rnd() % 3 == 0 ? 'y' : 'z');
	round_trip(b, 300000, NULL);
	for (i = 0; i < 300000; i++)             /* every byte value, far matches */
		b[i] = (unsigned char)(i < 40000 ? rnd() : b[i - 33000 + i % 700]);
	round_trip(b, 300000, NULL);
	for (i = 1; i < 1200; i += 37)           /* short inputs of every shape */
		round_trip(b + 5000, i, NULL);
	free(b);
}

/* Fibonacci frequencies force code lengths past 15 before the limit. */
void test_deflate_length_limit(void)
{
	struct buf in;
	unsigned f[24], a = 1, c = 1, t;
	int i, k;

	buf_init(&in, 0);
	for (i = 0; i < 24; i++) {
		f[i] = a;
		t = a + c;
		a = c;
		c = t;
	}
	for (i = 0; i < 24; i++)
		for (k = 0; k < (int)f[i] && k < 30000; k++)
			buf_putc(&in, (char)('A' + i));
	/* Shuffled so LZ77 finds little and the literals' code carries it. */
	for (i = (int)in.len - 1; i > 0; i--) {
		int j = (int)(rnd() % (unsigned)(i + 1));
		char x = in.p[i];

		in.p[i] = in.p[j];
		in.p[j] = x;
	}
	round_trip((unsigned char *)in.p, in.len, NULL);
	buf_free(&in);
}

/* What it is for: 2,200 processes (~600 KB) at a ratio near gzip -6's. */
void test_deflate_process_list(void)
{
	size_t n, zl;
	char *p = proc_list(2200, &n);

	CHECK(p != NULL && n > 500000);
	round_trip((unsigned char *)p, n, &zl);
	fprintf(stderr, "deflate: process list %zu -> %zu bytes (%.1f%%)\n", n, zl, 100.0 * zl / n);
	CHECK(zl < n / 6);
	free(p);
}

/* out's bound is honoured: -1 and out as it was. */
void test_deflate_bounded_output(void)
{
	struct buf z;
	unsigned char b[5000];
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)rnd();
	buf_init(&z, 100);
	buf_puts(&z, "keep");
	CHECK(deflate_raw(b, sizeof(b), &z) == -1);
	CHECK(z.len == 4 && memcmp(z.p, "keep", 4) == 0);
	CHECK(gzip_encode(b, sizeof(b), &z) == -1);
	CHECK(z.len == 4);
	buf_free(&z);
}

/* in[0..n) through gzip_encode (gz 1) or deflate_raw, then Python's zlib:
 * 1 when it gives back exactly in; -1 when python3 is missing. */
static int python_agrees(const unsigned char *in, size_t n, int gz)
{
	char zpath[] = "/tmp/nestd-deflate-XXXXXX", cmd[600], want[64];
	struct buf z;
	FILE *f;
	int fd, ok = 0, rc;

	if (access(PY, X_OK) != 0)
		return -1;
	buf_init(&z, 0);
	if ((gz ? gzip_encode(in, n, &z) : deflate_raw(in, n, &z)) < 0 || (fd = mkstemp(zpath)) < 0) {
		buf_free(&z);
		return 0;
	}
	rc = write(fd, z.p, z.len) == (ssize_t)z.len;
	close(fd);
	snprintf(want, sizeof(want), "%lu %zu", crc32_update(0, in, n), n);
	snprintf(cmd, sizeof(cmd), PY " -c 'import sys,zlib\n"
		 "d=open(sys.argv[1],\"rb\").read()\n"
		 "o=zlib.decompress(d,%d)\n"
		 "print(zlib.crc32(o),len(o))' %s", gz ? 31 : -15, zpath);
	f = rc ? popen(cmd, "r") : NULL;
	if (f) {
		char line[128] = "";

		if (fgets(line, sizeof(line), f))
			line[strcspn(line, "\n")] = '\0';
		ok = pclose(f) == 0 && strcmp(line, want) == 0;
	}
	unlink(zpath);
	buf_free(&z);
	return ok;
}

void test_deflate_python_zlib(void)
{
	size_t n;
	char *p = proc_list(2200, &n);
	unsigned char *r = malloc(100000);
	int a, i;

	CHECK(p && r);
	if (!p || !r)
		goto out;
	for (i = 0; i < 100000; i++)
		r[i] = (unsigned char)(i % 3000 < 1500 ? rnd() : 'q');
	a = python_agrees((unsigned char *)p, n, 1);
	if (a < 0) {
		SKIP(PY " is missing: the round trip through Python's zlib did not run");
		goto out;
	}
	CHECK(a == 1);
	CHECK(python_agrees((unsigned char *)p, n, 0) == 1);
	CHECK(python_agrees(r, 100000, 1) == 1);
	CHECK(python_agrees((const unsigned char *)"", 0, 1) == 1);
	CHECK(python_agrees((const unsigned char *)"x", 1, 0) == 1);
out:
	free(p);
	free(r);
}
