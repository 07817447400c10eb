/* test_inflate.c - the DEFLATE/gzip decoder against streams made by gzip(1)
 * here and now (stored, fixed and dynamic blocks, levels 1 and 9, with and
 * without a file name), hand-built streams for the rare paths, and every
 * truncation and single-byte corruption of a real stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../inflate.h"
#include "../embed.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* gzip ARGS of p[0..n) into a new buffer (*zn bytes); NULL if gzip fails. */
static unsigned char *run_gzip(const char *args, const unsigned char *p, size_t n, size_t *zn)
{
	char in[] = "/tmp/nestd-inflate-XXXXXX", cmd[256];
	unsigned char *z = NULL;
	FILE *f;
	int fd = mkstemp(in);
	long len;

	if (fd < 0)
		return NULL;
	if (write(fd, p, n) != (ssize_t)n) {
		close(fd);
		unlink(in);
		return NULL;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "gzip -c %s %s > %s.gz", args, in, in);
	if (system(cmd) == 0) {
		snprintf(cmd, sizeof(cmd), "%s.gz", in);
		f = fopen(cmd, "rb");
		if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
			z = malloc((size_t)len);
			if (z && fread(z, 1, (size_t)len, f) != (size_t)len) {
				free(z);
				z = NULL;
			}
			*zn = (size_t)len;
		}
		if (f)
			fclose(f);
		unlink(cmd);
	}
	unlink(in);
	return z;
}

/* Round trip through gzip ARGS: exact output, and -1 with one byte less room. */
static void round_trip(const char *args, const unsigned char *p, size_t n)
{
	size_t zn = 0;
	unsigned char *z = run_gzip(args, p, n, &zn), *out = malloc(n + 1);

	CHECK(z != NULL && out != NULL);
	if (z && out) {
		CHECK(gunzip(z, zn, out, n) == (long)n);
		CHECK(memcmp(out, p, n) == 0);
		if (n)
			CHECK(gunzip(z, zn, out, n - 1) == -1);
	}
	free(z);
	free(out);
}

static unsigned char *text(size_t n, unsigned seed)
{
	static const char *const words[] = { "agent ", "server ", "nestd ", "{\"type\":", "\n",
					     "load ", "0.25 ", "token ", "wss://", "/proc/" };
	unsigned char *p = malloc(n ? n : 1);
	size_t i = 0;

	while (p && i < n) {
		const char *w;

		seed = seed * 1103515245u + 12345u;
		w = words[(seed >> 16) % 10];
		while (*w && i < n)
			p[i++] = (unsigned char)*w++;
	}
	return p;
}

void test_inflate_gzip_made(void)
{
	unsigned char *big = text(300000, 1), *rnd = malloc(100000), *same = malloc(70000);
	unsigned i, x = 7;

	CHECK(big && rnd && same);
	if (!big || !rnd || !same)
		return;
	for (i = 0; i < 100000; i++) {
		x = x * 1664525u + 1013904223u;
		rnd[i] = (unsigned char)(x >> 24);
	}
	memset(same, 'z', 70000);              /* length 258, distance 1 */
	round_trip("-9 -n", (const unsigned char *)"", 0);
	round_trip("-9 -n", (const unsigned char *)"a", 1);
	round_trip("-9 -n", (const unsigned char *)"hello, hello, hello", 19);   /* fixed */
	round_trip("-1 -n", big, 300000);      /* dynamic, several blocks */
	round_trip("-9 -n", big, 300000);
	round_trip("-9", big, 5000);           /* FNAME in the header */
	round_trip("-9 -n", rnd, 100000);      /* stored blocks */
	round_trip("-6 -n", same, 70000);
	free(big);
	free(rnd);
	free(same);
}

/* Every prefix of a real stream fails cleanly; every single-byte change
 * either fails or (a header byte nobody reads) still gives the original. */
void test_inflate_damage(void)
{
	unsigned char *p = text(20000, 3), *z, *out = malloc(20000);
	size_t zn = 0, i;
	int bad = 0;

	z = p ? run_gzip("-9 -n", p, 20000, &zn) : NULL;
	CHECK(z != NULL && out != NULL);
	if (!z || !out)
		goto done;
	for (i = 0; i < zn; i++)
		if (gunzip(z, i, out, 20000) != -1)
			bad++;
	CHECK(bad == 0);
	for (i = 0; i < zn; i++) {
		unsigned char save = z[i];
		long r;

		z[i] ^= (unsigned char)(1u << (i % 8));
		r = gunzip(z, zn, out, 20000);
		if (r != -1 && !(r == 20000 && memcmp(out, p, 20000) == 0))
			bad++;
		z[i] = 0xff;
		r = gunzip(z, zn, out, 20000);
		if (r != -1 && !(r == 20000 && memcmp(out, p, 20000) == 0))
			bad++;
		z[i] = save;
	}
	CHECK(bad == 0);
	CHECK(gunzip(z, zn, out, 20000) == 20000);
done:
	free(p);
	free(z);
	free(out);
}

/* A bit writer for hand-made raw streams: values least significant bit
 * first, Huffman codes most significant bit first. */
struct bw {
	unsigned char b[64];
	size_t n;
	int bit;
};

static void put(struct bw *w, unsigned v, int n)
{
	while (n--) {
		if (w->bit == 0)
			w->b[w->n++] = 0;
		w->b[w->n - 1] |= (unsigned char)((v & 1) << w->bit);
		w->bit = (w->bit + 1) & 7;
		v >>= 1;
	}
}

static void huff(struct bw *w, unsigned code, int n)
{
	while (n--)
		put(w, code >> n, 1);
}

/* Fixed-code literal / length symbol. */
static void fsym(struct bw *w, unsigned sym)
{
	if (sym < 144)
		huff(w, 0x30 + sym, 8);
	else if (sym < 256)
		huff(w, 0x190 + sym - 144, 9);
	else if (sym < 280)
		huff(w, sym - 256, 7);
	else
		huff(w, 0xc0 + sym - 280, 8);
}

static long raw(const struct bw *w, unsigned char *out, size_t cap)
{
	size_t n, used;

	return inflate_raw(w->b, w->n, out, cap, &n, &used) < 0 ? -1 : (long)n;
}

void test_inflate_hand_made(void)
{
	static const unsigned char a[] = { 0x4b, 0x04, 0x00 };          /* zlib: "a" */
	static const unsigned char st[] = { 0x01, 5, 0, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o' };
	unsigned char out[600], bad[sizeof(st)];
	size_t n, used;
	struct bw w;

	CHECK(inflate_raw(a, 3, out, sizeof(out), &n, &used) == 0 && n == 1 && out[0] == 'a' && used == 3);
	CHECK(inflate_raw(st, sizeof(st), out, sizeof(out), &n, &used) == 0);
	CHECK_MEM(out, n, "hello", 5);
	CHECK(inflate_raw(st, sizeof(st), out, 4, &n, &used) == -1);       /* no room */
	CHECK(inflate_raw(st, sizeof(st) - 1, out, sizeof(out), &n, &used) == -1);
	memcpy(bad, st, sizeof(st));
	bad[3] = 0xfb;                                                     /* NLEN wrong */
	CHECK(inflate_raw(bad, sizeof(bad), out, sizeof(out), &n, &used) == -1);
	CHECK(inflate_raw((const unsigned char *)"\x07", 1, out, sizeof(out), &n, &used) == -1);   /* BTYPE 3 */

	/* 'a', then length 3 at distance 1, then length 258 at distance 3. */
	memset(&w, 0, sizeof(w));
	put(&w, 1, 1);
	put(&w, 1, 2);
	fsym(&w, 'a');
	fsym(&w, 257);
	huff(&w, 0, 5);
	fsym(&w, 285);
	huff(&w, 2, 5);
	fsym(&w, 256);
	CHECK(raw(&w, out, sizeof(out)) == 262);
	CHECK(out[0] == 'a' && out[261] == 'a');
	CHECK(raw(&w, out, 261) == -1);

	/* A distance before the start of the output. */
	memset(&w, 0, sizeof(w));
	put(&w, 1, 1);
	put(&w, 1, 2);
	fsym(&w, 'a');
	fsym(&w, 257);
	huff(&w, 1, 5);               /* distance 2, only 1 byte out */
	fsym(&w, 256);
	CHECK(raw(&w, out, sizeof(out)) == -1);

	/* Length symbol 286 and distance symbol 30 exist in the fixed code
	 * but not in the format. */
	memset(&w, 0, sizeof(w));
	put(&w, 1, 1);
	put(&w, 1, 2);
	fsym(&w, 286);
	CHECK(raw(&w, out, sizeof(out)) == -1);
	memset(&w, 0, sizeof(w));
	put(&w, 1, 1);
	put(&w, 1, 2);
	fsym(&w, 'a');
	fsym(&w, 257);
	huff(&w, 30, 5);
	fsym(&w, 256);
	CHECK(raw(&w, out, sizeof(out)) == -1);

	/* Non-final block, then nothing. */
	memset(&w, 0, sizeof(w));
	put(&w, 0, 1);
	put(&w, 1, 2);
	fsym(&w, 256);
	CHECK(raw(&w, out, sizeof(out)) == -1);
}

void test_inflate_gzip_header(void)
{
	static const unsigned char msg[] = "header fields";
	unsigned char *z, *x, out[64];
	size_t zn = 0;

	z = run_gzip("-9 -n", msg, sizeof(msg) - 1, &zn);
	CHECK(z != NULL);
	if (!z)
		return;
	x = malloc(zn + 32);
	CHECK(x != NULL);
	if (!x) {
		free(z);
		return;
	}
	/* FEXTRA (3 bytes), FCOMMENT, FHCRC inserted after the fixed header. */
	memcpy(x, z, 10);
	x[3] = 4 | 16 | 2;
	memcpy(x + 10, "\x03\x00xyz" "note\0" "\xaa\xbb", 12);
	memcpy(x + 22, z + 10, zn - 10);
	CHECK(gunzip(x, zn + 12, out, sizeof(out)) == (long)sizeof(msg) - 1);
	CHECK_MEM(out, sizeof(msg) - 1, msg, sizeof(msg) - 1);
	x[10] = 0xf0;                                  /* XLEN past the end */
	CHECK(gunzip(x, zn + 12, out, sizeof(out)) == -1);
	memcpy(x, z, zn);
	x[3] = 8;                                      /* FNAME never ends */
	memset(x + 10, 'n', zn - 10);
	CHECK(gunzip(x, zn, out, sizeof(out)) == -1);
	memcpy(x, z, zn);
	x[3] = 0x20;                                   /* reserved flag */
	CHECK(gunzip(x, zn, out, sizeof(out)) == -1);
	memcpy(x, z, zn);
	x[2] = 7;                                      /* not deflate */
	CHECK(gunzip(x, zn, out, sizeof(out)) == -1);
	memcpy(x, z, zn);
	x[zn - 1] ^= 1;                                /* ISIZE */
	CHECK(gunzip(x, zn, out, sizeof(out)) == -1);
	memcpy(x, z, zn);
	x[zn - 8] ^= 1;                                /* CRC */
	CHECK(gunzip(x, zn, out, sizeof(out)) == -1);
	CHECK(gunzip(z, 17, out, sizeof(out)) == -1);
	CHECK(crc32_update(0, (const unsigned char *)"123456789", 9) == 0xcbf43926UL);
	free(x);
	free(z);
}

/* The embedded files inflate to what the build recorded. */
void test_inflate_embedded(void)
{
	extern const struct embed_file ui_files[], install_files[];
	const struct embed_file *t[] = { ui_files, install_files };
	const struct embed_file *f;
	unsigned char *mem;
	size_t n, i;

	for (i = 0; i < 2; i++)
		for (f = t[i]; f->name; f++) {
			const unsigned char *p = embed_data(f, &n, &mem);

			CHECK(p != NULL && f->usize > 0 && n == f->usize && p[n] == '\0' &&
			      strlen((const char *)p) == n);
			free(mem);
		}
}
