/* test_mem.c - mem.c, the static binaries' allocator: classes, alignment,
 * contents kept across realloc, zeroed calloc of reused memory, no two
 * live blocks overlapping under a random mix, large blocks, ENOMEM. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "t.h"

void test_mem_classes(void);
void test_mem_random(void);
void test_mem_edges(void);
void test_mem_large_cache(void);
void test_mem_large_grow(void);

void test_mem_classes(void)
{
	size_t n, bad = 0, loose = 0;
	unsigned c, prev = 0;

	for (n = 0; n <= 32768; n++) {
		c = mem_class_of(n);
		if (c >= 72 || mem_class_size(c) < n || (mem_class_size(c) & 15) || c < prev)
			bad++;
		/* the tightest class: the one below is too small */
		if (c > 0 && mem_class_size(c - 1) >= n)
			bad++;
		/* rounding at most 16 bytes up to 256, at most 12.5 % above */
		if (n > 256 ? (mem_class_size(c) - n) * 8 > n : mem_class_size(c) - n >= 16 && n)
			loose++;
		prev = c;
	}
	CHECK(bad == 0);
	CHECK(loose == 0);
	CHECK(mem_class_of(32768) == 71 && mem_class_size(71) == 32768);
	CHECK(mem_class_size(mem_class_of(1)) == 16 && mem_class_size(mem_class_of(257)) == 288);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd32(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

struct blk { unsigned char *p; size_t n; unsigned char tag; };

static int intact(const struct blk *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->p[i] != (unsigned char)(b->tag + i))
			return 0;
	return 1;
}

static void fill(struct blk *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		b->p[i] = (unsigned char)(b->tag + i);
}

static size_t rnd_size(void)
{
	uint32_t r = rnd32() % 100;

	if (r < 60)
		return rnd32() % 300;
	if (r < 90)
		return rnd32() % 5000;
	if (r < 98)
		return rnd32() % 40000;
	return rnd32() % 300000;    /* large: their own mappings */
}

/* A random mix of malloc, calloc, realloc and free over 512 slots; every
 * live block keeps its own pattern, so an overlap or a lost byte shows. */
void test_mem_random(void)
{
	static struct blk b[512];
	size_t i, k, bad = 0, misaligned = 0, dirty = 0, short_ = 0;

	for (k = 0; k < 60000; k++) {
		struct blk *x = &b[rnd32() % 512];
		uint32_t op = rnd32() % 4;

		if (x->p && !intact(x))
			bad++;
		if (op == 0 || !x->p) {
			mem_free(x->p);
			x->n = rnd_size();
			if (op == 1) {
				x->p = mem_calloc(1, x->n);
				for (i = 0; x->p && i < x->n; i++)
					dirty += x->p[i] != 0;
			} else {
				x->p = mem_alloc(x->n);
			}
		} else if (op == 1) {
			size_t n = rnd_size(), keep = n < x->n ? n : x->n;
			unsigned char *q = mem_realloc(x->p, n);

			if (!q)
				continue;
			x->p = q;
			x->n = keep;
			if (!intact(x))
				bad++;
			x->n = n;
		} else if (op == 2) {
			mem_free(x->p);
			x->p = NULL;
			continue;
		}
		if (!x->p) {
			bad++;
			continue;
		}
		misaligned += ((uintptr_t)x->p & 15) != 0;
		short_ += mem_size(x->p) < x->n;
		x->tag = (unsigned char)rnd32();
		fill(x);
	}
	for (i = 0; i < 512; i++) {
		if (b[i].p && !intact(&b[i]))
			bad++;
		mem_free(b[i].p);
		b[i].p = NULL;
	}
	CHECK(bad == 0);
	CHECK(misaligned == 0);
	CHECK(dirty == 0);
	CHECK(short_ == 0);
}

void test_mem_edges(void)
{
	void *p, *q;
	unsigned char *z;
	size_t i, nz = 0;

	mem_free(NULL);
	p = mem_alloc(0);
	CHECK(p != NULL && mem_size(p) >= 1);
	mem_free(p);
	/* a freed block is the next of its class handed out */
	p = mem_alloc(100);
	mem_free(p);
	q = mem_alloc(97);
	CHECK(p == q);
	/* calloc of that reused, dirty block is zero */
	memset(q, 0xAA, 97);
	mem_free(q);
	z = mem_calloc(97, 1);
	for (i = 0; z && i < 97; i++)
		nz += z[i] != 0;
	CHECK(z == q && nz == 0);
	mem_free(z);
	/* realloc within its class keeps the block; across classes moves it */
	p = mem_alloc(40);
	CHECK(mem_realloc(p, 48) == p);
	memcpy(p, "0123456789", 10);
	q = mem_realloc(p, 1000);
	CHECK(q != NULL && memcmp(q, "0123456789", 10) == 0);
	p = mem_realloc(q, 0);
	CHECK(p != NULL);
	mem_free(p);
	/* large: page-granular, kept while it does not halve */
	p = mem_alloc(100000);
	CHECK(p != NULL && mem_size(p) >= 100000 && ((uintptr_t)p & 15) == 0);
	memset(p, 7, 100000);
	CHECK(mem_realloc(p, 90000) == p);
	q = mem_realloc(p, 1 << 20);
	CHECK(q != NULL && ((unsigned char *)q)[99999] == 7 && ((unsigned char *)q)[0] == 7);
	p = mem_realloc(q, 20);
	CHECK(p != NULL && ((unsigned char *)p)[19] == 7 && mem_size(p) == 32);
	mem_free(p);
	/* too much: NULL and ENOMEM, nothing else disturbed */
	errno = 0;
	CHECK(mem_alloc(SIZE_MAX - 8) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(mem_calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
	errno = 0;
	p = mem_alloc(16);
	CHECK(mem_realloc(p, SIZE_MAX / 2) == NULL && errno == ENOMEM);
	mem_free(p);
}

/* A freed large block is kept and handed out again for a request it fits
 * without wasting half; a much smaller or larger one gets its own. */
void test_mem_large_cache(void)
{
	unsigned char *p = mem_alloc(100000), *q, *r;

	CHECK(p != NULL);
	mem_free(p);
	q = mem_alloc(90000);
	CHECK(q == p);
	mem_free(q);
	r = mem_alloc(40000);           /* fits, but would waste more than half */
	CHECK(r != NULL && r != p);
	q = mem_alloc(99000);
	CHECK(q == p);
	memset(q, 1, 99000);
	mem_free(q);
	mem_free(r);
	q = mem_calloc(1, 99000);
	CHECK(q == p && q[0] == 0 && q[98999] == 0);
	mem_free(q);
	/* more than the cache holds: the rest unmapped, nothing lost */
	{
		unsigned char *v[20];
		int i, ok = 1;

		for (i = 0; i < 20; i++) {
			v[i] = mem_alloc(200000);
			if (!v[i])
				ok = 0;
			else
				memset(v[i], i, 200000);
		}
		for (i = 0; i < 20; i++)
			if (v[i] && (v[i][0] != i || v[i][199999] != i))
				ok = 0;
		for (i = 0; i < 20; i++)
			mem_free(v[i]);
		CHECK(ok);
	}
}

/* A large block grown a page at a time keeps its contents, and is not
 * moved at every step (in place, or to room half as large again). */
void test_mem_large_grow(void)
{
	unsigned char *p = mem_alloc(40000), *q;
	size_t n, moves = 0, bad = 0;

	memset(p, 3, 40000);
	for (n = 40000; n < 2000000; n += 4096) {
		q = mem_realloc(p, n + 4096);
		if (!q) {
			bad++;
			break;
		}
		moves += q != p;
		p = q;
		bad += p[0] != 3 || p[n - 1] != 3;
		memset(p + n, 3, 4096);
	}
	CHECK(bad == 0);
	CHECK(moves < 20);
	mem_free(p);
}
