/* fuzz_deflate.c - libFuzzer target for the DEFLATE / gzip encoder.
 *
 * Whatever the input, both streams must decode (inflate.c) to exactly it,
 * with exactly its length of room, and a bounded output buffer too small
 * for the stream must give -1 and leave the buffer as it was.  The first
 * byte, repeated, stretches some inputs so that long matches, far
 * distances and several blocks are reached from short seeds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deflate.h"
#include "inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const unsigned char *in, size_t n)
{
	struct buf z, small;
	unsigned char *out = malloc(n ? n : 1);
	size_t got = 0, used = 0;

	if (!out)
		return;
	buf_init(&z, 0);
	if (deflate_raw(in, n, &z) != 0)
		abort();
	if (inflate_raw((unsigned char *)z.p, z.len, out, n, &got, &used) != 0 || got != n ||
	    used != z.len || memcmp(out, in, n) != 0)
		abort();
	buf_init(&small, z.len > 1 ? z.len - 1 : 1);
	if (z.len > 1 && (deflate_raw(in, n, &small) != -1 || small.len != 0))
		abort();
	buf_free(&small);
	buf_reset(&z);
	if (gzip_encode(in, n, &z) != 0 || gunzip((unsigned char *)z.p, z.len, out, n) != (long)n ||
	    memcmp(out, in, n) != 0)
		abort();
	buf_free(&z);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *big;
	size_t i, reps;

	check(data, size);
	if (size < 2 || size > 2048)
		return 0;
	/* data[1..) repeated data[0] times, each copy with one byte changed. */
	reps = (size_t)data[0] % 32 + 1;
	big = malloc((size - 1) * reps);
	if (!big)
		return 0;
	for (i = 0; i < reps; i++) {
		memcpy(big + i * (size - 1), data + 1, size - 1);
		big[i * (size - 1) + i % (size - 1)] ^= (unsigned char)i;
	}
	check(big, (size - 1) * reps);
	free(big);
	return 0;
}
