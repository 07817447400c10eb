/* fuzz_inflate.c - libFuzzer target for the DEFLATE / gzip decoder.
 *
 * Checks: no read outside the input or write outside the output (ASan),
 * the output length within the capacity given, the input consumed within
 * the input, and a raw stream that decodes decodes the same with exactly
 * the room it needs and fails with one byte less. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[CAP], again[CAP];
	size_t n = 0, used = 0, n2, used2;
	long r;
	unsigned char *tight;

	r = gunzip(data, size, out, CAP);
	if (r < -1 || r > CAP)
		abort();
	if (inflate_raw(data, size, out, CAP, &n, &used) == 0) {
		if (n > CAP || used > size)
			abort();
		/* Exactly the room it needs, in a heap block of that size. */
		tight = malloc(n ? n : 1);
		if (!tight)
			return 0;
		if (inflate_raw(data, size, tight, n, &n2, &used2) != 0 || n2 != n || used2 != used ||
		    memcmp(tight, out, n) != 0)
			abort();
		if (n && inflate_raw(data, size, again, n - 1, &n2, &used2) != -1)
			abort();
		free(tight);
	}
	return 0;
}
