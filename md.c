/* md.c - block buffering and padding for sha1.c and sha256.c (see md.h). */
#include "md.h"

#include <string.h>

void md_init(struct md_buf *m)
{
	m->total = 0;
	m->n = 0;
}

void md_update(struct md_buf *m, uint32_t *h, md_block_fn block, const void *p, size_t n)
{
	const unsigned char *s = p;

	m->total += n;
	if (m->n) {
		size_t take = 64 - m->n < n ? 64 - m->n : n;

		memcpy(m->blk + m->n, s, take);
		m->n += take;
		s += take;
		n -= take;
		if (m->n < 64)
			return;
		block(h, m->blk);
		m->n = 0;
	}
	for (; n >= 64; s += 64, n -= 64)
		block(h, s);
	memcpy(m->blk, s, n);
	m->n = n;
}

void md_final(struct md_buf *m, uint32_t *h, md_block_fn block, unsigned char *out,
	      int nwords)
{
	uint64_t bits = m->total * 8;
	int i;

	m->blk[m->n++] = 0x80;
	if (m->n > 56) {
		memset(m->blk + m->n, 0, 64 - m->n);
		block(h, m->blk);
		m->n = 0;
	}
	memset(m->blk + m->n, 0, 56 - m->n);
	for (i = 0; i < 8; i++)
		m->blk[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	block(h, m->blk);
	for (i = 0; i < 4 * nwords; i++)
		out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

void md_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
