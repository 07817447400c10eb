/* sha1.h - SHA-1 (FIPS 180-4), only for the WebSocket accept key (RFC 6455
 * 4.2.2), where collision resistance does not matter. */
#ifndef NESTD_SHA1_H
#define NESTD_SHA1_H

#include <stddef.h>
#include <stdint.h>

#include "md.h"

struct sha1_ctx {
	uint32_t h[5];
	struct md_buf m;
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *p, size_t n);
void sha1_final(struct sha1_ctx *c, unsigned char out[20]);
void sha1(const void *p, size_t n, unsigned char out[20]);

#endif
