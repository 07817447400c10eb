/* test_sha1.c - FIPS 180 known answers, one-shot and incremental. */
#include <stdlib.h>
#include "t.h"
#include "sha1.h"

void test_sha1_vectors(void);
void test_sha1_million_a(void);
void test_sha1_incremental_splits(void);

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void check_one(const char *msg, const char *want)
{
	unsigned char d[20];
	char h[41];

	sha1(msg, strlen(msg), d);
	hex(d, 20, h);
	CHECK_STR(h, want);
}

void test_sha1_vectors(void)
{
	check_one("abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_one("", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_one("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check_one("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "a49b2446a02c645bf419f995b67091253a04a259");
}

void test_sha1_million_a(void)
{
	struct sha1_ctx c;
	unsigned char d[20];
	char h[41], chunk[1000];
	char *big;
	int i;

	memset(chunk, 'a', sizeof(chunk));
	sha1_init(&c);
	for (i = 0; i < 1000; i++)
		sha1_update(&c, chunk, sizeof(chunk));
	sha1_final(&c, d);
	hex(d, 20, h);
	CHECK_STR(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

	big = malloc(1000000);
	memset(big, 'a', 1000000);
	sha1(big, 1000000, d);
	hex(d, 20, h);
	CHECK_STR(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(big);
}

void test_sha1_incremental_splits(void)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	size_t n = strlen(m), i, j;
	unsigned char want[20], got[20];
	int same = 1;

	sha1(m, n, want);
	/* Every split into three pieces must agree with the one-shot hash:
	 * one check for all of them. */
	for (i = 0; i <= n && same; i++) {
		for (j = i; j <= n && same; j += 7) {
			struct sha1_ctx c;

			sha1_init(&c);
			sha1_update(&c, m, i);
			sha1_update(&c, m + i, j - i);
			sha1_update(&c, m + j, n - j);
			sha1_final(&c, got);
			same = memcmp(got, want, 20) == 0;
		}
	}
	CHECK(same);
}
