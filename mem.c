/* mem.c - the static binaries' allocator (see mem.h for the contract).
 *
 * Why: musl's mallocng is ~8 KB of the static binary; nestd is one thread
 * (its children are forked), so a lock-free size-class allocator of a
 * fraction of that does.  Layout:
 *   - 72 classes, 16 to 32,768 bytes: steps of 16 up to 256, then eight
 *     a doubling (at most 12.5 % rounding, as fine as mallocng's);
 *   - each class carves its objects from spans of MEM_SPAN bytes aligned
 *     to MEM_SPAN, taken from 4 MiB mappings; a span's first 16 bytes say
 *     its class, so free() finds an object's class from its address and
 *     objects carry no header;
 *   - a freed object goes on its class's list (LIFO, reused first); spans
 *     are carved as they fill, so untouched pages never become resident;
 *   - above 32 KiB, one mapping each (aligned the same way, its header
 *     saying its length); free() keeps up to MEM_CACHE of them (1 MiB in
 *     all) for the next large request they fit without wasting half,
 *     unmaps the rest: a buffer that grows past 32 KiB and is freed again
 *     and again (a streamed answer's output) would otherwise fault in
 *     fresh zeroed pages every time (GET /api/clients: 4x slower).
 * Not for threads; the agent's and the server's loops are one thread. */
#include "mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MEM_SPAN   (256u << 10)
#define MEM_CHUNK  (4u << 20)    /* spans are taken 16 at a time */
#define MEM_HEAD   16u           /* span or large header; keeps 16-byte alignment */
#define MEM_NCLASS 72
#define MEM_LARGE  0xffffffffu
#define MEM_SMALL_MAX 32768u

struct mem_head {
	uint32_t cls;
	uint32_t pad;
	size_t len;                 /* a large block: its mapping's length */
};

struct mem_class {
	void *free;                 /* freed objects, each holding the next */
	char *next, *end;           /* the current span's uncarved part */
};

#define MEM_CACHE  8
#define MEM_CACHE_BYTES (1u << 20)

static struct mem_class classes[MEM_NCLASS];
static char *chunk_next, *chunk_end;
static struct mem_head *cache[MEM_CACHE];   /* freed large blocks, kept */
static size_t cached;                       /* their bytes */

unsigned mem_class_of(size_t n)
{
	size_t m;
	unsigned e;

	if (n <= 256)
		return n ? (unsigned)((n + 15) >> 4) - 1 : 0;
	m = n - 1;
	e = 63 - (unsigned)__builtin_clzll((unsigned long long)m);
	return 16 + (e - 8) * 8 + (unsigned)(m >> (e - 3)) - 8;
}

size_t mem_class_size(unsigned c)
{
	unsigned e;

	if (c < 16)
		return (size_t)(c + 1) << 4;
	e = (c - 16) / 8 + 8;
	return (size_t)((c - 16) % 8 + 9) << (e - 3);
}

/* len bytes (a multiple of the page size) aligned to MEM_SPAN: mapped with
 * a span to spare, the ends trimmed off. */
static char *map_aligned(size_t len)
{
	char *p = mmap(NULL, len + MEM_SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + MEM_SPAN - 1) & ~(uintptr_t)(MEM_SPAN - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	if ((uintptr_t)p + MEM_SPAN > a)
		munmap((char *)a + len, (uintptr_t)p + MEM_SPAN - a);
	return (char *)a;
}

static void *alloc_large(size_t n)
{
	size_t len;
	struct mem_head *h;
	int i;

	if (n > PTRDIFF_MAX - MEM_SPAN - MEM_HEAD) {
		errno = ENOMEM;
		return NULL;
	}
	len = (n + MEM_HEAD + 4095) & ~(size_t)4095;
	for (i = 0; i < MEM_CACHE; i++)
		if (cache[i] && cache[i]->len >= len && cache[i]->len / 2 < len) {
			h = cache[i];
			cache[i] = NULL;
			cached -= h->len;
			return (char *)h + MEM_HEAD;
		}
	h = (struct mem_head *)map_aligned(len);
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->cls = MEM_LARGE;
	h->len = len;
	return (char *)h + MEM_HEAD;
}

/* A fresh span for class c. */
static int new_span(unsigned c)
{
	struct mem_head *h;

	if (chunk_next == chunk_end) {
		chunk_next = map_aligned(MEM_CHUNK);
		if (!chunk_next) {
			chunk_end = NULL;
			errno = ENOMEM;
			return -1;
		}
		chunk_end = chunk_next + MEM_CHUNK;
	}
	h = (struct mem_head *)chunk_next;
	chunk_next += MEM_SPAN;
	h->cls = c;
	classes[c].next = (char *)h + MEM_HEAD;
	classes[c].end = (char *)h + MEM_SPAN;
	return 0;
}

void *mem_alloc(size_t n)
{
	unsigned c;
	struct mem_class *k;
	size_t sz;
	void *p;

	if (n > MEM_SMALL_MAX)
		return alloc_large(n);
	c = mem_class_of(n);
	k = &classes[c];
	if (k->free) {
		p = k->free;
		k->free = *(void **)p;
		return p;
	}
	sz = mem_class_size(c);
	if ((size_t)(k->end - k->next) < sz && new_span(c) < 0)
		return NULL;
	p = k->next;
	k->next += sz;
	return p;
}

static struct mem_head *head_of(const void *p)
{
	return (struct mem_head *)((uintptr_t)p & ~(uintptr_t)(MEM_SPAN - 1));
}

size_t mem_size(const void *p)
{
	struct mem_head *h = head_of(p);

	return h->cls == MEM_LARGE ? h->len - MEM_HEAD : mem_class_size(h->cls);
}

void mem_free(void *p)
{
	struct mem_head *h;
	int i;

	if (!p)
		return;
	h = head_of(p);
	if (h->cls == MEM_LARGE) {
		for (i = 0; i < MEM_CACHE && h->len <= MEM_CACHE_BYTES - cached; i++)
			if (!cache[i]) {
				cache[i] = h;
				cached += h->len;
				return;
			}
		munmap(h, h->len);
		return;
	}
	*(void **)p = classes[h->cls].free;
	classes[h->cls].free = p;
}

void *mem_calloc(size_t n, size_t m)
{
	void *p;

	if (m && n > SIZE_MAX / m) {
		errno = ENOMEM;
		return NULL;
	}
	p = mem_alloc(n * m);
	if (p)
		memset(p, 0, n * m);
	return p;
}

/* A large block grown: in place when the pages after it are free, else
 * moved to a mapping half as large again (at least), so a buffer grown a
 * little at a time (an HTTP answer's queue, capped to what it holds) is
 * not copied whole at every step. */
static void *grow_large(void *p, size_t n, size_t old)
{
	struct mem_head *h = head_of(p);
	size_t len = (n + MEM_HEAD + 4095) & ~(size_t)4095;
	void *q;

	if (n <= PTRDIFF_MAX - MEM_SPAN - MEM_HEAD && mremap(h, h->len, len, 0) == h) {
		h->len = len;
		return p;
	}
	q = mem_alloc(n > old + old / 2 ? n : old + old / 2);
	if (!q)
		return NULL;
	memcpy(q, p, old);
	mem_free(p);
	return q;
}

/* Kept in place while the size stays in its class (or, large, within its
 * pages); otherwise moved, so a shrunk buffer gives its memory back. */
void *mem_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return mem_alloc(n);
	old = mem_size(p);
	if (n <= MEM_SMALL_MAX ? old <= MEM_SMALL_MAX && mem_class_of(n) == mem_class_of(old)
			       : old > MEM_SMALL_MAX && n <= old && n > old / 2)
		return p;
	if (old > MEM_SMALL_MAX && n > old)
		return grow_large(p, n, old);
	q = mem_alloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, n < old ? n : old);
	mem_free(p);
	return q;
}

#if NESTD_MALLOC
/* The C library's names (musl and glibc both let a program bring its own
 * malloc, calloc, realloc and free): the static builds only, where
 * -DNESTD_MALLOC=1; the others keep their libc's (ASan needs its own). */
void *malloc(size_t n)
{
	return mem_alloc(n);
}

void free(void *p)
{
	mem_free(p);
}

void *calloc(size_t n, size_t m)
{
	return mem_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	return mem_realloc(p, n);
}
#endif
