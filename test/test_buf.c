/* test_buf.c - buf.c's mem_find against the libc memmem it stands in for:
 * needles at either end, overlapping prefixes, empty and longer needles,
 * and random texts over a small alphabet (many partial matches). */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "buf.h"

void test_buf_mem_find(void);

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
