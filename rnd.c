/* rnd.c - getrandom(2) with a small cache for the many 4-byte masking keys.
 *
 * The syscall is used directly so the same code builds on glibc and musl
 * (whose <sys/random.h> wrapper is recent). */
#include "rnd.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned char cache[256];
static size_t cache_left;

static int fill(void *p, size_t n)
{
	unsigned char *q = p;

	while (n > 0) {
		long r = syscall(SYS_getrandom, q, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

int rnd_bytes(void *p, size_t n)
{
	if (n > sizeof(cache) / 4)
		return fill(p, n);
	if (cache_left < n) {
		if (fill(cache, sizeof(cache)) < 0)
			return -1;
		cache_left = sizeof(cache);
	}
	memcpy(p, cache + sizeof(cache) - cache_left, n);
	memset(cache + sizeof(cache) - cache_left, 0, n);
	cache_left -= n;
	return 0;
}
