/* deflate.c - a small DEFLATE / gzip encoder (see deflate.h).
 *
 * Two stages, as in every deflate since PKZIP's: LZ77 turns the input into
 * literals and (length, distance) pairs, collected in blocks of
 * BLOCK_SYMS; each block is then written in whichever of the three block
 * types costs fewest bits.  Matches are found through hash chains of
 * three-byte prefixes (zlib's scheme), the search bounded to MAX_CHAIN
 * candidates, with zlib's one-step lazy evaluation: a match is held back
 * one byte to see whether the next position starts a longer one.
 *
 * Huffman code lengths come from Moffat and Katajainen's in-place
 * minimum-redundancy algorithm on the sorted frequencies, then are limited
 * to the format's 15 (7 for the code-length code) by moving the
 * overflowing leaves up and re-balancing the Kraft sum (what miniz does).
 * Codes are canonical (RFC 1951 3.2.2), stored bit-reversed because the
 * bit writer fills bytes from their least significant bit. */
#include "deflate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inflate.h"     /* crc32_update */

#define WSIZE      32768u   /* the window: deflate's largest distance */
#define WMASK      (WSIZE - 1)
#define HBITS      15
#define HSIZE      (1u << HBITS)
#define MIN_MATCH  3
#define MAX_MATCH  258
#define MAX_CHAIN  48       /* candidates tried per position */
#define NICE_LEN   128      /* a match this long ends the search */
#define LAZY_LEN   32       /* ...and this long is taken without looking further */
#define BLOCK_SYMS 16384    /* symbols per block */
#define STORED_MAX 65535u   /* bytes in one stored block */

#define NLIT  286           /* literal/length codes in use (286, 287 never) */
#define NFIXED 288          /* ...but the fixed code is built over all 288 */
#define NDIST 30
#define NCL   19            /* the code-length code */

struct sym {
	uint16_t v;             /* a literal byte, or a match's length */
	uint16_t dist;          /* 0 for a literal */
};

struct code {
	uint16_t bits[NFIXED];  /* bit-reversed canonical codes */
	uint8_t len[NFIXED];
};

struct enc {
	const unsigned char *in;
	size_t n;
	struct buf *out;
	uint64_t bb;            /* bits not yet written, oldest lowest */
	int bc;
	int err;
	uint32_t *head;         /* hash -> last position + 1 (0: none) */
	unsigned hmask;         /* the hash table's size - 1: smaller for small inputs */
	uint32_t *prev;         /* position & WMASK -> the earlier one + 1 */
	struct sym *syms;
	size_t nsyms;
	size_t bstart, done;    /* the block's input: [bstart, done) */
	unsigned lfreq[NLIT], dfreq[NDIST];
	struct code fixed_lit, fixed_dist;   /* the fixed code, built once a stream */
};

static const uint16_t len_base[29] = {
	3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
	67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = {
	1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
	1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = {
	0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
	12, 12, 13, 13 };
static const uint8_t cl_order[NCL] = {
	16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };

static int log2u(unsigned v)
{
	int b = 0;

	while (v >>= 1)
		b++;
	return b;
}

/* A match length's code, 0..28 (the symbol is 257 + that). */
static int len_code(unsigned len)
{
	unsigned l = len - MIN_MATCH;
	int b;

	if (len == MAX_MATCH)
		return 28;
	if (l < 8)
		return (int)l;
	b = log2u(l);
	return 4 * (b - 1) + (int)((l >> (b - 2)) & 3);
}

static int dist_code(unsigned d)
{
	int b;

	if (d <= 4)
		return (int)d - 1;
	b = log2u(d - 1);
	return 2 * b + (int)(((d - 1) >> (b - 1)) & 1);
}

/* ---- bits out ---- */

static void flush32(struct enc *e)
{
	unsigned char b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (unsigned char)(e->bb >> (8 * i));
	if (!e->err && buf_append(e->out, b, 4) < 0)
		e->err = 1;
	e->bb >>= 32;
	e->bc -= 32;
}

/* n (<= 32) bits of v, least significant first. */
static void put(struct enc *e, unsigned v, int n)
{
	e->bb |= (uint64_t)v << e->bc;
	e->bc += n;
	if (e->bc >= 32)
		flush32(e);
}

/* Pads to a byte boundary and writes out every whole byte. */
static void align(struct enc *e)
{
	unsigned char c;

	e->bc = (e->bc + 7) & ~7;
	while (e->bc > 0) {
		c = (unsigned char)e->bb;
		if (!e->err && buf_append(e->out, &c, 1) < 0)
			e->err = 1;
		e->bb >>= 8;
		e->bc -= 8;
	}
}

/* ---- Huffman codes ---- */

/* Moffat-Katajainen: a[0..n) ascending frequencies in, code lengths out
 * (a[0], the rarest, the longest).  n >= 2. */
static void min_redundancy(unsigned *a, int n)
{
	int root = 0, leaf = 2, next, avail, used, depth;

	a[0] += a[1];
	for (next = 1; next < n - 1; next++) {
		if (leaf >= n || a[root] < a[leaf]) {
			a[next] = a[root];
			a[root++] = (unsigned)next;
		} else {
			a[next] = a[leaf++];
		}
		if (leaf >= n || (root < next && a[root] < a[leaf])) {
			a[next] += a[root];
			a[root++] = (unsigned)next;
		} else {
			a[next] += a[leaf++];
		}
	}
	a[n - 2] = 0;
	for (next = n - 3; next >= 0; next--)
		a[next] = a[a[next]] + 1;
	avail = 1;
	used = depth = 0;
	root = n - 2;
	next = n - 1;
	while (avail > 0) {
		while (root >= 0 && (int)a[root] == depth) {
			used++;
			root--;
		}
		while (avail > used) {
			a[next--] = (unsigned)depth;
			avail--;
		}
		avail = 2 * used;
		depth++;
		used = 0;
	}
}

/* Lengths of a[0..n) limited to maxbits: per-length counts, leaves past
 * the limit moved to it, then the Kraft sum brought back to one. */
static void limit_lengths(const unsigned *a, int n, int maxbits, int *count)
{
	unsigned total = 0;
	int i;

	memset(count, 0, sizeof(int) * (NLIT + 1));
	for (i = 0; i < n; i++)
		count[a[i] < (unsigned)maxbits ? a[i] : (unsigned)maxbits]++;
	for (i = maxbits; i > 0; i--)
		total += (unsigned)count[i] << (maxbits - i);
	while (total > (1u << maxbits)) {
		count[maxbits]--;
		for (i = maxbits - 1; i > 0; i--)
			if (count[i]) {
				count[i]--;
				count[i + 1] += 2;
				break;
			}
		total--;
	}
}

/* Code lengths for freq[0..n) into len[0..n), none over maxbits, and at
 * least two codes (a lone code could not be decoded by every inflater). */
static void huff_lengths(const unsigned *freq, int n, int maxbits, uint8_t *len)
{
	unsigned a[NLIT] = { 0 };
	int sym[NLIT], count[NLIT + 1], m = 0, i, j, l;

	for (i = 0; i < n; i++)
		if (freq[i])
			sym[m++] = i;
	for (i = 0; m < 2 && i < n; i++)
		if (!freq[i])
			sym[m++] = i;
	/* Insertion sort by frequency: at most 286 symbols a block. */
	for (i = 1; i < m; i++)
		for (j = i; j > 0 && freq[sym[j - 1]] > freq[sym[j]]; j--) {
			int t = sym[j];

			sym[j] = sym[j - 1];
			sym[j - 1] = t;
		}
	for (i = 0; i < m; i++)
		a[i] = freq[sym[i]];
	min_redundancy(a, m);
	limit_lengths(a, m, maxbits, count);
	memset(len, 0, (size_t)n);
	/* The rarest symbols take the longest codes. */
	for (i = 0, l = maxbits; l > 0; l--)
		for (j = count[l]; j > 0; j--)
			len[sym[i++]] = (uint8_t)l;
}

/* Canonical codes for len[0..n), bit-reversed for the writer. */
static void huff_codes(struct code *c, int n)
{
	uint16_t next[16] = { 0 };
	int count[16] = { 0 }, i, b;
	unsigned v = 0;

	for (i = 0; i < n; i++)
		count[c->len[i]]++;
	count[0] = 0;
	for (b = 1; b < 16; b++) {
		v = (v + (unsigned)count[b - 1]) << 1;
		next[b] = (uint16_t)v;
	}
	for (i = 0; i < n; i++) {
		unsigned code, r = 0;

		if (!c->len[i])
			continue;
		code = next[c->len[i]]++;
		for (b = 0; b < c->len[i]; b++)
			r |= ((code >> b) & 1u) << (c->len[i] - 1 - b);
		c->bits[i] = (uint16_t)r;
	}
}

static void fixed_codes(struct code *lit, struct code *dist)
{
	int i;

	for (i = 0; i < NFIXED; i++)
		lit->len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
	for (i = 0; i < NDIST; i++)
		dist->len[i] = 5;
	huff_codes(lit, NFIXED);
	huff_codes(dist, NDIST);
}

/* ---- one block ---- */

/* The code lengths of both codes, run-length coded (RFC 1951 3.2.7): each
 * item a symbol 0..18 in its low 5 bits and its extra bits' value above. */
struct cl_seq {
	uint16_t item[NLIT + NDIST];
	int n;
	unsigned freq[NCL];
};

static void cl_add(struct cl_seq *q, int sym, int extra)
{
	q->item[q->n++] = (uint16_t)(sym | extra << 5);
	q->freq[sym]++;
}

static void cl_encode(const uint8_t *lens, int n, struct cl_seq *q)
{
	int i = 0, run;

	memset(q, 0, sizeof(*q));
	while (i < n) {
		for (run = 1; i + run < n && lens[i + run] == lens[i]; run++)
			;
		if (lens[i] == 0 && run >= 11) {
			run = run > 138 ? 138 : run;
			cl_add(q, 18, run - 11);
		} else if (lens[i] == 0 && run >= 3) {
			cl_add(q, 17, run - 3);
		} else if (run >= 4) {
			cl_add(q, lens[i], 0);       /* the value once, then repeats of it */
			run = run - 1 > 6 ? 6 : run - 1;
			cl_add(q, 16, run - 3);
			run++;
		} else {
			cl_add(q, lens[i], 0);
			run = 1;
		}
		i += run;
	}
}

/* A block's codes and what writing it each way would cost, in bits. */
struct plan {
	struct code lit, dist, cl;
	struct cl_seq seq;
	int nlit, ndist, ncl;
	uint8_t lens[NLIT + NDIST];
	size_t dyn_bits, fix_bits;
};

/* Bits of the block's symbols under the codes (extra bits included). */
static size_t data_bits(const struct enc *e, const struct code *lit, const struct code *dist)
{
	size_t bits = 0;
	int i;

	for (i = 0; i < NLIT; i++)
		bits += (size_t)e->lfreq[i] * (lit->len[i] + (i > 256 ? len_extra[i - 257] : 0));
	for (i = 0; i < NDIST; i++)
		bits += (size_t)e->dfreq[i] * (dist->len[i] + dist_extra[i]);
	return bits;
}

static void plan_block(const struct enc *e, struct plan *p)
{
	int i;

	huff_lengths(e->lfreq, NLIT, 15, p->lit.len);
	huff_lengths(e->dfreq, NDIST, 15, p->dist.len);
	huff_codes(&p->lit, NLIT);
	huff_codes(&p->dist, NDIST);
	for (p->nlit = NLIT; p->nlit > 257 && !p->lit.len[p->nlit - 1]; p->nlit--)
		;
	for (p->ndist = NDIST; p->ndist > 1 && !p->dist.len[p->ndist - 1]; p->ndist--)
		;
	memcpy(p->lens, p->lit.len, (size_t)p->nlit);
	memcpy(p->lens + p->nlit, p->dist.len, (size_t)p->ndist);
	cl_encode(p->lens, p->nlit + p->ndist, &p->seq);
	huff_lengths(p->seq.freq, NCL, 7, p->cl.len);
	huff_codes(&p->cl, NCL);
	for (p->ncl = NCL; p->ncl > 4 && !p->cl.len[cl_order[p->ncl - 1]]; p->ncl--)
		;
	p->dyn_bits = 3 + 14 + 3 * (size_t)p->ncl + data_bits(e, &p->lit, &p->dist);
	for (i = 0; i < NCL; i++)
		p->dyn_bits += (size_t)p->seq.freq[i] * (p->cl.len[i] + (i == 16 ? 2 : i == 17 ? 3 : i == 18 ? 7 : 0));
	p->fix_bits = 3 + data_bits(e, &e->fixed_lit, &e->fixed_dist);
}

static void write_syms(struct enc *e, const struct code *lit, const struct code *dist)
{
	size_t i;

	for (i = 0; i < e->nsyms && !e->err; i++) {
		const struct sym *s = &e->syms[i];
		int lc, dc;

		if (!s->dist) {
			put(e, lit->bits[s->v], lit->len[s->v]);
			continue;
		}
		lc = len_code(s->v);
		dc = dist_code(s->dist);
		put(e, lit->bits[257 + lc], lit->len[257 + lc]);
		put(e, s->v - len_base[lc], len_extra[lc]);
		put(e, dist->bits[dc], dist->len[dc]);
		put(e, s->dist - dist_base[dc], dist_extra[dc]);
	}
	put(e, lit->bits[256], lit->len[256]);
}

static void write_dynamic(struct enc *e, const struct plan *p, int last)
{
	int i;

	put(e, (unsigned)last | 2u << 1, 3);
	put(e, (unsigned)(p->nlit - 257), 5);
	put(e, (unsigned)(p->ndist - 1), 5);
	put(e, (unsigned)(p->ncl - 4), 4);
	for (i = 0; i < p->ncl; i++)
		put(e, p->cl.len[cl_order[i]], 3);
	for (i = 0; i < p->seq.n; i++) {
		int sym = p->seq.item[i] & 31, extra = p->seq.item[i] >> 5;

		put(e, p->cl.bits[sym], p->cl.len[sym]);
		if (sym >= 16)
			put(e, (unsigned)extra, sym == 16 ? 2 : sym == 17 ? 3 : 7);
	}
	write_syms(e, &p->lit, &p->dist);
}

/* The block's input as stored blocks of at most STORED_MAX bytes. */
static void write_stored(struct enc *e, int last)
{
	size_t at = e->bstart, end = e->done;

	do {
		size_t k = end - at > STORED_MAX ? STORED_MAX : end - at;
		unsigned char hdr[4] = { (unsigned char)k, (unsigned char)(k >> 8),
					 (unsigned char)~k, (unsigned char)(~k >> 8) };

		put(e, (unsigned)(last && at + k == end), 3);
		align(e);
		if (!e->err && (buf_append(e->out, hdr, 4) < 0 || buf_append(e->out, e->in + at, k) < 0))
			e->err = 1;
		at += k;
	} while (at < end);
}

/* Writes the symbols gathered since bstart, the cheapest way, and starts
 * the next block. */
static void end_block(struct enc *e, int last)
{
	struct plan *p = malloc(sizeof(*p));
	size_t stored_bits;

	if (!p) {
		e->err = 1;
		return;
	}
	e->lfreq[256]++;
	plan_block(e, p);
	/* Stored: a header, padding, LEN and NLEN per piece, the bytes. */
	stored_bits = ((e->done - e->bstart) / STORED_MAX + 1) * (3 + 7 + 32) +
		      8 * (e->done - e->bstart);
	if (stored_bits <= p->dyn_bits && stored_bits <= p->fix_bits) {
		write_stored(e, last);
	} else if (p->fix_bits <= p->dyn_bits) {
		put(e, (unsigned)last | 1u << 1, 3);
		write_syms(e, &e->fixed_lit, &e->fixed_dist);
	} else {
		write_dynamic(e, p, last);
	}
	free(p);
	e->nsyms = 0;
	e->bstart = e->done;
	memset(e->lfreq, 0, sizeof(e->lfreq));
	memset(e->dfreq, 0, sizeof(e->dfreq));
}

/* ---- LZ77 ---- */

static void emit(struct enc *e, unsigned v, unsigned dist)
{
	struct sym *s = &e->syms[e->nsyms++];

	s->v = (uint16_t)v;
	s->dist = (uint16_t)dist;
	if (dist) {
		e->lfreq[257 + len_code(v)]++;
		e->dfreq[dist_code(dist)]++;
		e->done += v;
	} else {
		e->lfreq[v]++;
		e->done++;
	}
	if (e->nsyms == BLOCK_SYMS)
		end_block(e, 0);
}

static unsigned hash3(const struct enc *e, const unsigned char *p)
{
	return ((unsigned)p[0] << 10 ^ (unsigned)p[1] << 5 ^ p[2]) & e->hmask;
}

/* Position p into the chains (p + MIN_MATCH <= n). */
static void insert(struct enc *e, size_t p)
{
	unsigned h = hash3(e, e->in + p);

	e->prev[p & WMASK] = e->head[h];
	e->head[h] = (uint32_t)(p + 1);
}

/* The longest earlier match for p within the window (0 when none of at
 * least MIN_MATCH), its distance in *dist; then p goes into the chains. */
static unsigned longest(struct enc *e, size_t p, unsigned *dist)
{
	const unsigned char *in = e->in, *cur = in + p;
	size_t maxlen = e->n - p > MAX_MATCH ? MAX_MATCH : e->n - p;
	uint32_t c = e->head[hash3(e, cur)];
	unsigned best = MIN_MATCH - 1;
	int chain = MAX_CHAIN;

	while (c && p - (c - 1) <= WSIZE && chain-- > 0) {
		size_t cand = c - 1, l;
		uint32_t next;

		if (in[cand + best] == cur[best] && in[cand] == cur[0]) {
			for (l = 0; l < maxlen && in[cand + l] == cur[l]; l++)
				;
			if (l > best) {
				best = (unsigned)l;
				*dist = (unsigned)(p - cand);
				if (l >= NICE_LEN || l == maxlen)
					break;
			}
		}
		next = e->prev[cand & WMASK];
		if (next >= c)      /* a slot reused by a newer position: the chain ends */
			break;
		c = next;
	}
	insert(e, p);
	return best >= MIN_MATCH ? best : 0;
}

/* zlib's lazy evaluation: the match found at p - 1 waits until p shows
 * whether a longer one starts there. */
static void lz77(struct enc *e)
{
	size_t p = 0, n = e->n, k;
	unsigned plen = 0, pdist = 0, len, dist = 0;
	int held = 0;

	while (p < n && !e->err) {
		len = 0;
		if (p + MIN_MATCH <= n && (!held || plen < LAZY_LEN))
			len = longest(e, p, &dist);
		else if (p + MIN_MATCH <= n)
			insert(e, p);
		if (held && plen && len <= plen) {
			emit(e, plen, pdist);
			/* p - 1 and p are in the chains; the rest of the match too. */
			for (k = p + 1; k < p - 1 + plen && k + MIN_MATCH <= n; k++)
				insert(e, k);
			p = p - 1 + plen;
			held = 0;
			continue;
		}
		if (held)
			emit(e, e->in[p - 1], 0);
		plen = len;
		pdist = dist;
		held = 1;
		p++;
	}
	if (held && plen)
		emit(e, plen, pdist);
	else if (held)
		emit(e, e->in[n - 1], 0);
}

int deflate_raw(const unsigned char *in, size_t n, struct buf *out)
{
	struct enc e;
	size_t start = out->len;

	memset(&e, 0, sizeof(e));
	if (n >= UINT32_MAX)
		return -1;
	e.in = in;
	e.n = n;
	e.out = out;
	fixed_codes(&e.fixed_lit, &e.fixed_dist);
	/* A table about the input's size: small answers are most of them. */
	for (e.hmask = 255; e.hmask < HSIZE - 1 && e.hmask < n; e.hmask = e.hmask << 1 | 1)
		;
	e.head = calloc(e.hmask + 1, sizeof(*e.head));
	e.prev = calloc(n < WSIZE ? n + 1 : WSIZE, sizeof(*e.prev));
	e.syms = malloc(BLOCK_SYMS * sizeof(*e.syms));
	if (!e.head || !e.prev || !e.syms)
		e.err = 1;
	if (!e.err)
		lz77(&e);
	if (!e.err)
		end_block(&e, 1);
	if (!e.err)
		align(&e);
	free(e.head);
	free(e.prev);
	free(e.syms);
	if (e.err) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
		return -1;
	}
	return 0;
}

int gzip_encode(const unsigned char *in, size_t n, struct buf *out)
{
	/* ID1 ID2, CM deflate, no flags, MTIME 0, XFL 0, OS unknown. */
	static const unsigned char head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
	unsigned long crc = crc32_update(0, in, n);
	unsigned char tail[8];
	size_t start = out->len;
	int i;

	for (i = 0; i < 4; i++) {
		tail[i] = (unsigned char)(crc >> (8 * i));
		tail[4 + i] = (unsigned char)((unsigned long long)n >> (8 * i));
	}
	if (buf_append(out, head, sizeof(head)) < 0 || deflate_raw(in, n, out) < 0 ||
	    buf_append(out, tail, sizeof(tail)) < 0) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
		return -1;
	}
	return 0;
}
