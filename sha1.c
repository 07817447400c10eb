/* sha1.c - SHA-1 as specified by FIPS 180-4 section 6.1.
 *
 * Straightforward and portable: big-endian loads and stores done byte by
 * byte so there is no alignment or endianness assumption.  Speed is not a
 * concern; it hashes one 60-byte string per handshake. */
#include "sha1.h"

#include <string.h>

#define ROL(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

static void sha1_block(uint32_t *h, const unsigned char *b)
{
	uint32_t w[80], a, bb, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
		       (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0]; bb = h[1]; c = h[2]; d = h[3]; e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (bb & c) | (~bb & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = bb ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (bb & c) | (bb & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = bb ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = ROL(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = ROL(bb, 30);
		bb = a;
		a = t;
	}
	h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e;
}

void sha1_init(struct sha1_ctx *c)
{
	c->h[0] = 0x67452301;
	c->h[1] = 0xefcdab89;
	c->h[2] = 0x98badcfe;
	c->h[3] = 0x10325476;
	c->h[4] = 0xc3d2e1f0;
	md_init(&c->m);
}

void sha1_update(struct sha1_ctx *c, const void *p, size_t n)
{
	md_update(&c->m, c->h, sha1_block, p, n);
}

void sha1_final(struct sha1_ctx *c, unsigned char out[20])
{
	md_final(&c->m, c->h, sha1_block, out, 5);
	memset(c, 0, sizeof(*c));
}

void sha1(const void *p, size_t n, unsigned char out[20])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, p, n);
	sha1_final(&c, out);
}
