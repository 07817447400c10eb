/* json.c - RFC 8259 JSON: a strict reader on top of jsmn, and a writer.
 *
 * Reading: jsmn (strict mode, parent links) only tokenizes; it accepts
 * "[1 2]", "{"a" "b"}", "01", raw control characters and ill-formed UTF-8.
 * So json_parse first runs an iterative validator over the text that checks
 * the whole grammar of RFC 8259 sections 2-8 (plus well-formed UTF-8,
 * section 8.1, and paired surrogates in \u escapes, section 7) with a depth
 * bound, and only then lets jsmn lay down the tokens.
 *
 * Writing: struct jw appends to a bounded struct buf; commas and colons are
 * placed by the writer.  json_escape is the single string path: it copies
 * runs of safe bytes with one append (the agent escapes megabytes of command
 * output) and replaces ill-formed UTF-8 with U+FFFD per maximal subpart
 * (Unicode 15, section 3.9), so whatever bytes go in, valid JSON comes out.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>	/* the implementation, compiled once, here */
#include "json.h"	/* its JSMN_HEADER re-include is guarded by JSMN_H */

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ------------------------------------------------------------ */

/* Length (1..4) of the well-formed UTF-8 sequence at p, its code point in
 * *cp; or minus the length of its maximal ill-formed subpart, the bytes that
 * one U+FFFD replaces (Unicode table 3-7: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static int utf8_next(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF, v;
	size_t i, need;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2)
		return -1;
	if (c < 0xE0) {
		need = 1;
		v = c & 0x1F;
	} else if (c < 0xF0) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return -1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n)
			return -(int)i;
		c = p[i];
		if (c < lo || c > hi)
			return -(int)i;
		lo = 0x80;
		hi = 0xBF;
		v = v << 6 | (c & 0x3F);
	}
	*cp = v;
	return (int)need + 1;
}

/* ---- escaping --------------------------------------------------------- */

/* ASCII bytes that may appear raw inside a JSON string. */
static const unsigned char ascii_safe[128] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x22 " */
	[0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x5C \ */
	[0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

#define ONES	UINT64_C(0x0101010101010101)
#define HIGHS	UINT64_C(0x8080808080808080)

/* Length of the leading run of bytes that need no escaping and are ASCII.
 * Eight bytes at a time: the word test is exact about "none in this word"
 * (borrows only ever add false positives above a true one), and the byte
 * loop then finds the precise stop. */
static size_t ascii_run(const unsigned char *p, size_t n)
{
	size_t i = 0;
	uint64_t x, q, bs, lt;

	while (n - i >= 8) {
		memcpy(&x, p + i, 8);
		lt = (x - 0x20 * ONES) & ~x;
		q = x ^ (0x22 * ONES);
		q = (q - ONES) & ~q;
		bs = x ^ (0x5C * ONES);
		bs = (bs - ONES) & ~bs;
		if ((x | lt | q | bs) & HIGHS)
			break;
		i += 8;
	}
	while (i < n && p[i] < 0x80 && ascii_safe[p[i]])
		i++;
	return i;
}

int json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t old = b->len, i = 0, run = 0;
	char e[6];
	const char *rep;
	size_t rlen;
	unsigned cp;
	int k;

	/* Output is never shorter than input (escapes and U+FFFD only grow),
	 * so reserving n up front cannot refuse what would have fitted. */
	if (buf_reserve(b, n) < 0)
		return -1;
	while (i < n) {
		i += ascii_run(p + i, n - i);
		if (i >= n)
			break;
		if (p[i] < 0x80) {
			e[0] = '\\';
			rep = e;
			rlen = 2;
			switch (p[i]) {
			case '"':  e[1] = '"'; break;
			case '\\': e[1] = '\\'; break;
			case '\b': e[1] = 'b'; break;
			case '\f': e[1] = 'f'; break;
			case '\n': e[1] = 'n'; break;
			case '\r': e[1] = 'r'; break;
			case '\t': e[1] = 't'; break;
			default:
				e[1] = 'u';
				e[2] = '0';
				e[3] = '0';
				e[4] = hex[p[i] >> 4];
				e[5] = hex[p[i] & 15];
				rlen = 6;
			}
			k = 1;
		} else {
			k = utf8_next(p + i, n - i, &cp);
			if (k > 0 && cp != 0x2028 && cp != 0x2029) {
				i += (size_t)k;		/* well-formed: stays in the run */
				continue;
			}
			if (k > 0) {
				/* Valid JSON, but not valid JavaScript source. */
				rep = cp == 0x2028 ? "\\u2028" : "\\u2029";
				rlen = 6;
			} else {
				rep = "\xEF\xBF\xBD";
				rlen = 3;
				k = -k;
			}
		}
		if (buf_append(b, p + run, i - run) < 0 || buf_append(b, rep, rlen) < 0)
			goto fail;
		i += (size_t)k;
		run = i;
	}
	if (buf_append(b, p + run, n - run) < 0)
		goto fail;
	return 0;
fail:
	b->len = old;
	if (b->p)
		b->p[old] = '\0';
	return -1;
}

/* ---- writer ----------------------------------------------------------- */

void jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->first[0] = 1;
	w->after_key = 0;
	w->err = 0;
}

static void jw_put(struct jw *w, const void *p, size_t n)
{
	if (!w->err && buf_append(w->b, p, n) < 0)
		w->err = 1;
}

/* Before every value or key: a comma unless it is the first item of its
 * container or the value right after a key.  0 if writing may go on. */
static int jw_sep(struct jw *w)
{
	if (w->err)
		return -1;
	if (w->after_key) {
		w->after_key = 0;
		return 0;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			jw_put(w, ",", 1);
		w->first[w->depth] = 0;
	}
	return w->err ? -1 : 0;
}

static void jw_open(struct jw *w, char c)
{
	if (jw_sep(w) < 0)
		return;
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->err = 1;
		return;
	}
	jw_put(w, &c, 1);
	w->first[++w->depth] = 1;
}

static void jw_close(struct jw *w, char c)
{
	if (w->err)
		return;
	if (w->depth <= 0 || w->after_key) {
		w->err = 1;	/* unbalanced, or a key without its value */
		return;
	}
	jw_put(w, &c, 1);
	w->depth--;
}

void jw_obj(struct jw *w)     { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr(struct jw *w)     { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

/* Quoted, escaped string; no separator handling. */
static void jw_quoted(struct jw *w, const char *s, size_t n)
{
	jw_put(w, "\"", 1);
	if (!w->err && json_escape(w->b, s, n) < 0)
		w->err = 1;
	jw_put(w, "\"", 1);
}

void jw_key(struct jw *w, const char *k)
{
	if (jw_sep(w) < 0)
		return;
	jw_quoted(w, k, strlen(k));
	jw_put(w, ":", 1);
	w->after_key = 1;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	if (jw_sep(w) < 0)
		return;
	jw_quoted(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

/* Decimal digits of v, right-aligned in a 20-byte tail of buf; start. */
static char *fmt_u64(char *end, unsigned long long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void jw_int(struct jw *w, long long v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	p = fmt_u64(e, u);
	if (v < 0)
		*--p = '-';
	if (jw_sep(w) == 0)
		jw_put(w, p, (size_t)(e - p));
}

void jw_uint(struct jw *w, unsigned long long v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p = fmt_u64(e, v);

	if (jw_sep(w) == 0)
		jw_put(w, p, (size_t)(e - p));
}

void jw_double(struct jw *w, double v, int decimals)
{
	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 17)
		decimals = 17;
	if (jw_sep(w) == 0 && buf_printf(w->b, "%.*f", decimals, v) < 0)
		w->err = 1;
}

void jw_bool(struct jw *w, int v)
{
	if (jw_sep(w) == 0)
		jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
	if (jw_sep(w) == 0)
		jw_put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
	if (jw_sep(w) == 0)
		jw_put(w, json, n);
}

int jw_error(const struct jw *w)
{
	return w->err || w->depth < 0;
}

void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

void jw_kint(struct jw *w, const char *k, long long v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	jw_bool(w, v);
}
