/* sha256.h - SHA-256 (FIPS 180-4), one-shot and incremental.
 *
 * Used for the token checksum (first 8 hex digits of the SHA-256 of the 64
 * hex characters) and for storing tokens hashed. */
#ifndef NESTD_SHA256_H
#define NESTD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "md.h"

struct sha256_ctx {
	uint32_t h[8];
	struct md_buf m;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *p, size_t n);
void sha256_final(struct sha256_ctx *c, unsigned char out[32]);  /* wipes c */

void sha256(const void *p, size_t n, unsigned char out[32]);
/* Lowercase hex digest, NUL-terminated. */
void sha256_hex(const void *p, size_t n, char out[65]);

#endif
