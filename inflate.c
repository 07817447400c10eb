/* inflate.c - a small DEFLATE / gzip decoder (see inflate.h).
 *
 * Canonical Huffman codes decoded a bit at a time from per-length counts, in
 * the manner of zlib's contrib/puff: slow next to zlib, but a few hundred
 * bytes of code, and the embedded files are tens of kilobytes decoded only
 * for the rare client that does not accept gzip.  Errors (input exhausted,
 * bad code) set a flag that every loop checks, so no loop outlives its
 * input and no index leaves its table. */
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "inflate.h"

#define MAXBITS 15
#define MAXLCODES 286
#define MAXDCODES 30
#define FIXLCODES 288

struct huff {
	short count[MAXBITS + 1];       /* codes of each length */
	short symbol[FIXLCODES];        /* symbols in canonical order */
};

struct inf {
	const unsigned char *in;
	size_t inlen, inpos;
	unsigned char *out;
	size_t cap, outpos;
	unsigned long bitbuf;
	int bitcnt;
	int err;
};

/* need (<= 16) bits, least significant first; 0 and err once input ends. */
static unsigned bits(struct inf *s, int need)
{
	unsigned long v = s->bitbuf;

	while (s->bitcnt < need) {
		if (s->inpos >= s->inlen) {
			s->err = 1;
			return 0;
		}
		v |= (unsigned long)s->in[s->inpos++] << s->bitcnt;
		s->bitcnt += 8;
	}
	s->bitbuf = v >> need;
	s->bitcnt -= need;
	return (unsigned)(v & ((1UL << need) - 1));
}

/* Builds h from n code lengths; < 0 for an over-subscribed set, > 0 for an
 * incomplete one, 0 for complete (or no codes at all). */
static int construct(struct huff *h, const short *length, int n)
{
	short offs[MAXBITS + 1];
	int sym, len, left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (sym = 0; sym < n; sym++)
		h->count[length[sym]]++;
	if (h->count[0] == n)
		return 0;
	for (len = 1; len <= MAXBITS; len++) {
		left <<= 1;
		left -= h->count[len];
		if (left < 0)
			return left;
	}
	offs[1] = 0;
	for (len = 1; len < MAXBITS; len++)
		offs[len + 1] = (short)(offs[len] + h->count[len]);
	for (sym = 0; sym < n; sym++)
		if (length[sym])
			h->symbol[offs[length[sym]]++] = (short)sym;
	return left;
}

/* One symbol, or -1 (no such code, or input ended). */
static int decode(struct inf *s, const struct huff *h)
{
	int code = 0, first = 0, index = 0, len, count;

	for (len = 1; len <= MAXBITS; len++) {
		code |= (int)bits(s, 1);
		count = h->count[len];
		if (code - count < first)
			return s->err ? -1 : h->symbol[index + (code - first)];
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

/* Extra bits of length symbol i (0..28, for 257..285) and of distance
 * symbol i (0..29); bases follow by summing 1 << extra. */
static int lext(int i)
{
	return i < 8 || i == 28 ? 0 : (i >> 2) - 1;
}

static int dext(int i)
{
	return i < 4 ? 0 : (i >> 1) - 1;
}

static int codes(struct inf *s, const struct huff *lc, const struct huff *dc)
{
	int sym, i;
	unsigned len, dist;

	for (;;) {
		sym = decode(s, lc);
		if (sym < 0)
			return -1;
		if (sym < 256) {
			if (s->outpos >= s->cap)
				return -1;
			s->out[s->outpos++] = (unsigned char)sym;
			continue;
		}
		if (sym == 256)
			return 0;
		sym -= 257;
		if (sym >= 29)
			return -1;
		len = 3;
		for (i = 0; i < sym; i++)
			len += 1u << lext(i);
		if (sym == 28)
			len = 258;
		len += bits(s, lext(sym));
		sym = decode(s, dc);
		if (sym < 0 || sym >= 30)
			return -1;
		dist = 1;
		for (i = 0; i < sym; i++)
			dist += 1u << dext(i);
		dist += bits(s, dext(sym));
		if (s->err || dist > s->outpos || len > s->cap - s->outpos)
			return -1;
		for (; len; len--, s->outpos++)
			s->out[s->outpos] = s->out[s->outpos - dist];
	}
}

static int stored(struct inf *s)
{
	size_t len;

	s->bitbuf = 0;
	s->bitcnt = 0;
	if (s->inlen - s->inpos < 4)
		return -1;
	len = s->in[s->inpos] | (size_t)s->in[s->inpos + 1] << 8;
	if ((s->in[s->inpos + 2] ^ 0xff) != (len & 0xff) ||
	    (s->in[s->inpos + 3] ^ 0xff) != (len >> 8))
		return -1;
	s->inpos += 4;
	if (len > s->inlen - s->inpos || len > s->cap - s->outpos)
		return -1;
	memcpy(s->out + s->outpos, s->in + s->inpos, len);
	s->inpos += len;
	s->outpos += len;
	return 0;
}

static int fixed(struct inf *s)
{
	struct huff lc, dc;
	short len[FIXLCODES];
	int i;

	for (i = 0; i < FIXLCODES; i++)
		len[i] = (short)(i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
	construct(&lc, len, FIXLCODES);
	for (i = 0; i < MAXDCODES; i++)
		len[i] = 5;
	construct(&dc, len, MAXDCODES);
	return codes(s, &lc, &dc);
}

static int dynamic(struct inf *s)
{
	static const unsigned char order[19] = {
		16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15
	};
	short len[MAXLCODES + MAXDCODES];
	struct huff lc, dc;
	int nlen, ndist, ncode, i, sym, rep, err;

	nlen = (int)bits(s, 5) + 257;
	ndist = (int)bits(s, 5) + 1;
	ncode = (int)bits(s, 4) + 4;
	if (s->err || nlen > MAXLCODES || ndist > MAXDCODES)
		return -1;
	memset(len, 0, sizeof(len));
	for (i = 0; i < ncode; i++)
		len[order[i]] = (short)bits(s, 3);
	if (s->err || construct(&lc, len, 19) != 0)
		return -1;
	for (i = 0; i < nlen + ndist;) {
		sym = decode(s, &lc);
		if (sym < 0)
			return -1;
		if (sym < 16) {
			len[i++] = (short)sym;
			continue;
		}
		if (sym == 16) {
			if (i == 0)
				return -1;
			sym = len[i - 1];
			rep = 3 + (int)bits(s, 2);
		} else {
			rep = sym == 17 ? 3 + (int)bits(s, 3) : 11 + (int)bits(s, 7);
			sym = 0;
		}
		if (s->err || i + rep > nlen + ndist)
			return -1;
		while (rep--)
			len[i++] = (short)sym;
	}
	if (len[256] == 0)
		return -1;
	/* Incomplete codes only where a single code of length 1 is allowed. */
	err = construct(&lc, len, nlen);
	if (err < 0 || (err > 0 && nlen - lc.count[0] != 1))
		return -1;
	err = construct(&dc, len + nlen, ndist);
	if (err < 0 || (err > 0 && ndist - dc.count[0] != 1))
		return -1;
	return codes(s, &lc, &dc);
}

int inflate_raw(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap,
		size_t *outlen, size_t *used)
{
	struct inf s;
	unsigned last, type;
	int rc;

	memset(&s, 0, sizeof(s));
	s.in = in;
	s.inlen = inlen;
	s.out = out;
	s.cap = cap;
	do {
		last = bits(&s, 1);
		type = bits(&s, 2);
		if (s.err)
			return -1;
		rc = type == 0 ? stored(&s) : type == 1 ? fixed(&s) : type == 2 ? dynamic(&s) : -1;
		if (rc < 0 || s.err)
			return -1;
	} while (!last);
	*outlen = s.outpos;
	*used = s.inpos;
	return 0;
}

unsigned long crc32_update(unsigned long crc, const unsigned char *p, size_t n)
{
	int k;

	crc = ~crc & 0xffffffffUL;
	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320UL & (0 - (crc & 1)));
	}
	return ~crc & 0xffffffffUL;
}

static unsigned long le32(const unsigned char *p)
{
	return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

long gunzip(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap)
{
	size_t pos = 10, n, used;
	unsigned flg;

	if (inlen < 18 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8 || (in[3] & 0xe0))
		return -1;
	flg = in[3];
	if (flg & 4) {                                  /* FEXTRA */
		n = in[pos] | (size_t)in[pos + 1] << 8;
		if (n > inlen - pos - 2)
			return -1;
		pos += 2 + n;
	}
	for (n = 8; n <= 16; n <<= 1)                   /* FNAME, FCOMMENT */
		if (flg & n) {
			const unsigned char *z = pos < inlen ? memchr(in + pos, 0, inlen - pos) : NULL;

			if (!z)
				return -1;
			pos = (size_t)(z - in) + 1;
		}
	if (flg & 2)                                    /* FHCRC */
		pos += 2;
	if (pos > inlen || inlen - pos < 8 ||
	    inflate_raw(in + pos, inlen - pos - 8, out, cap, &n, &used) < 0)
		return -1;
	pos += used;
	if (le32(in + pos) != crc32_update(0, out, n) || le32(in + pos + 4) != (n & 0xffffffffUL) ||
	    n > (size_t)0x7fffffff)
		return -1;
	return (long)n;
}

const unsigned char *embed_data(const struct embed_file *f, size_t *n, unsigned char **tofree)
{
	unsigned char *p;

	*tofree = NULL;
	*n = f->size;
	if (!f->usize)
		return f->data;
	p = malloc(f->usize + 1);
	if (!p)
		return NULL;
	if (gunzip(f->data, f->size, p, f->usize) != (long)f->usize) {
		free(p);
		return NULL;
	}
	p[f->usize] = '\0';
	*tofree = p;
	*n = f->usize;
	return p;
}
