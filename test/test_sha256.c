/* test_sha256.c - FIPS 180-4 / NIST example vectors, the seed token's
 * checksum, and incremental hashing split at every offset. */
#include <stdlib.h>
#include "../sha256.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static void hex_is(const char *msg, const char *want, int line)
{
	char got[65];

	sha256_hex(msg, strlen(msg), got);
	if (strcmp(got, want)) {
		t_failed++;
		fprintf(stderr, "FAIL test_sha256.c:%d: sha256(\"%.20s\") = %s\n", line, msg, got);
	} else {
		t_passed++;
	}
}

void test_sha256_vectors(void)
{
	hex_is("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", __LINE__);
	hex_is("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", __LINE__);
	hex_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", __LINE__);
	hex_is("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
	       "klmnopqrlmnopqrsmnopqrstnopqrstu",
	       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1", __LINE__);
}

void test_sha256_million_a(void)
{
	struct sha256_ctx c;
	unsigned char d[32];
	char a[1000];
	int i;

	memset(a, 'a', sizeof a);
	sha256_init(&c);
	for (i = 0; i < 1000; i++)
		sha256_update(&c, a, sizeof a);
	sha256_final(&c, d);
	CHECK_MEM(d, 32, "\xcd\xc7\x6e\x5c\x99\x14\xfb\x92\x81\xa1\xc7\xe2\x84\xd7\x3e\x67"
		  "\xf1\x80\x9a\x48\xa4\x97\x20\x0e\x04\x6d\x39\xcc\xc7\x11\x2c\xd0", 32);
}

void test_sha256_seed_token(void)
{
	static const char tok[] =
		"e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f";
	char hex[65];

	sha256_hex(tok, 64, hex);
	CHECK(strncmp(hex, "ddc69770", 8) == 0);
}

void test_sha256_incremental(void)
{
	unsigned char msg[300], one[32], two[32];
	struct sha256_ctx c;
	size_t i, split, n;
	int same = 1;

	for (i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)(i * 7 + 3);
	/* Lengths around the padding edges (55, 56, 63, 64, ...), every split:
	 * one check for all of them. */
	for (n = 0; n < sizeof msg && same; n += (n < 130 ? 1 : 17)) {
		sha256(msg, n, one);
		for (split = 0; split <= n && same; split += (n < 70 ? 1 : 13)) {
			sha256_init(&c);
			sha256_update(&c, msg, split);
			sha256_update(&c, msg + split, 0);
			sha256_update(&c, msg + split, n - split);
			sha256_final(&c, two);
			if (memcmp(one, two, 32)) {
				fprintf(stderr, "  sha256 n=%zu split=%zu differs\n", n, split);
				same = 0;
			}
		}
	}
	CHECK(same);
	/* One byte at a time. */
	sha256_init(&c);
	for (i = 0; i < sizeof msg; i++)
		sha256_update(&c, msg + i, 1);
	sha256_final(&c, two);
	sha256(msg, sizeof msg, one);
	CHECK(memcmp(one, two, 32) == 0);
}
