/* rnd.c - getrandom(2) with a small cache for the many 4-byte masking keys.
 *
 * The syscall is used directly so the same code builds on glibc and musl
 * (whose <sys/random.h> wrapper is recent). */
#include "rnd.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
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

long long rnd_below(long long n)
{
	unsigned long long r = 0;

	if (n <= 0)
		return 0;
	if (rnd_bytes(&r, sizeof(r)) < 0) {
		/* No randomness from the kernel: any spread beats none. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (unsigned long long)ts.tv_nsec * 2654435761u;
	}
	return (long long)(r % (unsigned long long)n);
}

long long rnd_backoff_ms(long long min_ms, long long max_ms, int attempt)
{
	long long cap = min_ms;
	int i;

	for (i = 0; i < attempt && cap < max_ms; i++)
		cap *= 2;
	if (cap > max_ms)
		cap = max_ms;
	return rnd_below(cap + 1);
}
