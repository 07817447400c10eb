/* fuzz_fnv.h - FNV-1a, 64 bits: the fuzz targets fold what a run meant
 * (events, requests, verdicts) into one number, so that two ways of
 * feeding the same bytes can be compared. */
#ifndef NESTD_FUZZ_FNV_H
#define NESTD_FUZZ_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV_START 0xcbf29ce484222325ull

static inline uint64_t fnv_mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#endif
