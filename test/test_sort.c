/* test_sort.c - sort_items against qsort: random arrays of ints, of
 * 24-byte records (an odd size), many ties, sorted and reversed input,
 * 0 and 1 items; the result must be what qsort gives (by key). */
#include <stdlib.h>
#include <string.h>

#include "sort.h"
#include "t.h"

void test_sort_items(void);

struct rec { int key; char pad[20]; };

static int by_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static int by_key(const void *a, const void *b)
{
	return by_int(&((const struct rec *)a)->key, &((const struct rec *)b)->key);
}

static unsigned rnd_s = 7;
static unsigned rnd_next(void)
{
	rnd_s = rnd_s * 1103515245u + 12345u;
	return rnd_s >> 8;
}

void test_sort_items(void)
{
	static int a[3000], b[3000];
	static struct rec r[500];
	size_t n, i, round, bad = 0, lost = 0;

	for (round = 0; round < 200; round++) {
		n = round < 3 ? round : rnd_next() % 3000;
		for (i = 0; i < n; i++)
			a[i] = round % 4 == 0 ? (int)i : round % 4 == 1 ? (int)(n - i)
			     : (int)(rnd_next() % (round % 4 == 2 ? 5 : 100000)) - 50;
		memcpy(b, a, n * sizeof(int));
		sort_items(a, n, sizeof(int), by_int);
		qsort(b, n, sizeof(int), by_int);
		bad += memcmp(a, b, n * sizeof(int)) != 0;
	}
	for (round = 0; round < 50; round++) {
		long sum = 0, after = 0;

		n = rnd_next() % 500;
		for (i = 0; i < n; i++) {
			r[i].key = (int)(rnd_next() % 50);
			memset(r[i].pad, r[i].key, sizeof(r[i].pad));
			sum += r[i].key;
		}
		sort_items(r, n, sizeof(r[0]), by_key);
		for (i = 0; i < n; i++) {
			after += r[i].key;
			bad += i && r[i - 1].key > r[i].key;
			lost += r[i].pad[0] != (char)r[i].key || r[i].pad[19] != (char)r[i].key;
		}
		bad += sum != after;
	}
	CHECK(bad == 0);
	CHECK(lost == 0);
}
