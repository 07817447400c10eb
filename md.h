/* md.h - what SHA-1 and SHA-256 share (FIPS 180-4 5.1.1 and 6.1/6.2):
 * input gathered into 64-byte blocks across any number of updates, and the
 * final padding (0x80, zeros to 56 mod 64, the length in bits big-endian).
 * Each hash brings only its block function and its state words. */
#ifndef NESTD_MD_H
#define NESTD_MD_H

#include <stddef.h>
#include <stdint.h>

struct md_buf {
	uint64_t total;            /* bytes hashed so far */
	unsigned char blk[64];
	size_t n;                  /* bytes waiting in blk */
};

/* Mixes one 64-byte block into the state words h. */
typedef void (*md_block_fn)(uint32_t *h, const unsigned char *blk);

void md_init(struct md_buf *m);
void md_update(struct md_buf *m, uint32_t *h, md_block_fn block, const void *p, size_t n);
/* Pads, mixes the last block(s) and writes h[0..nwords) big-endian. */
void md_final(struct md_buf *m, uint32_t *h, md_block_fn block, unsigned char *out,
	      int nwords);
/* p[0..n) as 2n lowercase hex digits and a NUL in out (a digest's text). */
void md_hex(const unsigned char *p, size_t n, char *out);

#endif
