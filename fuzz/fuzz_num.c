/* fuzz_num.c - libFuzzer target for num.c's parsers that replaced libc's
 * in the static builds (strto*, atoi's range, inet_pton).  Addresses and
 * numbers reach them from strangers (X-Forwarded-For through
 * server_admit.c, DNS answers' names, URLs, environment, config files).
 *
 * The input, cut at its first NUL, is parsed by both num.c and the C
 * library this target is built with (glibc), and the two must agree: the
 * value, where the end pointer stops, errno's ERANGE, inet_pton's verdict
 * and bytes.  Any difference aborts, so libFuzzer keeps the input. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SAME(a, b) do { if ((a) != (b)) abort(); } while (0)

/* num_f(s, &end) against libc_f(s, &end, 10): value, end, ERANGE. */
#define CHECK_STRTO(T, num_f, libc_f, s) do { \
	char *e1, *e2; \
	T a, b; \
	int r1, r2; \
	errno = 0; \
	a = num_f(s, &e1); \
	r1 = errno; \
	errno = 0; \
	b = libc_f(s, &e2, 10); \
	r2 = errno; \
	SAME(a, b); \
	SAME(e1, e2); \
	SAME(r1 == ERANGE, r2 == ERANGE); \
} while (0)

static void ints(const char *s)
{
	long v = strtol(s, NULL, 10);

	CHECK_STRTO(long, num_strtol, strtol, s);
	CHECK_STRTO(unsigned long, num_strtoul, strtoul, s);
	CHECK_STRTO(long long, num_strtoll, strtoll, s);
	CHECK_STRTO(unsigned long long, num_strtoull, strtoull, s);
	/* atoi: held to int's range, where libc's wraps. */
	SAME(num_atoi(s), v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v);
}

/* num_pton against inet_pton for one family: the verdict, and the n
 * address bytes when both took it. */
static void pton_same(int af, const char *s, size_t n)
{
	unsigned char a[16], b[16];
	int x, y;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	x = num_pton(af, s, a);
	y = inet_pton(af, s, b);
	SAME(x, y);
	if (x == 1 && memcmp(a, b, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	const void *z = memchr(data, 0, n);

	if (z)
		n = (size_t)((const uint8_t *)z - data);
	memcpy(s, data, n);
	s[n] = 0;
	ints(s);
	pton_same(AF_INET, s, 4);
	pton_same(AF_INET6, s, 16);
	return 0;
}
