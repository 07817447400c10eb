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

#include "config.h"
#include "fmt.h"
#include "num.h"

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

static const char hexdig[] = "0123456789abcdef";

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

/* Escapes s[0..n), appending to b exactly as it goes: the path for when
 * the bound is too close to reserve the worst case up front. */
static int escape_exact(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	char e[6];
	const char *rep;
	size_t rlen;
	unsigned cp;
	int k;

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
				e[4] = hexdig[p[i] >> 4];
				e[5] = hexdig[p[i] & 15];
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
			return -1;
		i += (size_t)k;
		run = i;
	}
	return buf_append(b, p + run, n - run);
}

/* Escapes p[0..n) straight into o[0..room) and stops when fewer than 6
 * bytes (the longest escape) are left; *used gets the input consumed.
 * This is the hot path: runs of safe bytes go with one memcpy, and there
 * is no per-piece bound check. */
static size_t escape_into(char *o, size_t room, const unsigned char *p, size_t n,
			  size_t *used)
{
	char *start = o, *lim = o + room;
	size_t i = 0, k;
	unsigned cp;
	int r;

	while (i < n) {
		k = ascii_run(p + i, n - i);
		if (k > (size_t)(lim - o))
			k = (size_t)(lim - o);
		memcpy(o, p + i, k);
		o += k;
		i += k;
		if (i >= n || lim - o < 6)
			break;
		if (p[i] < 0x80) {
			*o++ = '\\';
			switch (p[i]) {
			case '"':  *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				memcpy(o, "u00", 3);
				o[3] = hexdig[p[i] >> 4];
				o[4] = hexdig[p[i] & 15];
				o += 5;
			}
			i++;
			continue;
		}
		r = utf8_next(p + i, n - i, &cp);
		if (r > 0 && cp != 0x2028 && cp != 0x2029) {
			memcpy(o, p + i, (size_t)r);
			o += r;
		} else if (r > 0) {
			/* Valid JSON, but not valid JavaScript source. */
			memcpy(o, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			o += 6;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			r = -r;
		}
		i += (size_t)r;
	}
	*used = i;
	return (size_t)(o - start);
}

int json_escape(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t old = b->len, i = 0, used;

	/* Output is never shorter than input (escapes and U+FFFD only grow),
	 * so reserving what is left of the input cannot refuse what would
	 * fit; the 6 bytes on top might, and then the exact path decides. */
	if (buf_reserve(b, n) < 0)
		return -1;
	while (i < n) {
		if (b->cap - b->len < 6 && buf_reserve(b, n - i + 6) < 0) {
			if (escape_exact(b, s + i, n - i) < 0)
				goto fail;
			return 0;
		}
		b->len += escape_into(b->p + b->len, b->cap - b->len, p + i, n - i, &used);
		b->p[b->len] = '\0';
		i += used;
	}
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

static void jw_putc(struct jw *w, char c)
{
	struct buf *b = w->b;

	if (w->err)
		return;
	if (b->p && b->len < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	} else if (buf_append(b, &c, 1) < 0) {
		w->err = 1;
	}
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
			jw_putc(w, ',');
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
	jw_putc(w, c);
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
	jw_putc(w, c);
	w->depth--;
}

void jw_obj(struct jw *w)     { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr(struct jw *w)     { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

/* Quoted, escaped string, and a colon after it for a key; no separator
 * handling.  The output is at least n + 2 bytes: room for that is made
 * first, and text with nothing to escape (keys, most values) is copied
 * in one piece. */
static void jw_quoted(struct jw *w, const char *s, size_t n, int colon)
{
	struct buf *b = w->b;
	size_t need = n + 2 + (colon != 0);
	char *o;

	if (w->err || ((!b->p || b->cap - b->len < need) && buf_reserve(b, need) < 0)) {
		w->err = 1;
		return;
	}
	if (ascii_run((const unsigned char *)s, n) == n) {
		o = b->p + b->len;
		*o++ = '"';
		memcpy(o, s, n);
		o += n;
		*o++ = '"';
		if (colon)
			*o++ = ':';
		*o = '\0';
		b->len = (size_t)(o - b->p);
		return;
	}
	jw_putc(w, '"');
	if (!w->err && json_escape(b, s, n) < 0)
		w->err = 1;
	jw_putc(w, '"');
	if (colon)
		jw_putc(w, ':');
}

void jw_keyn(struct jw *w, const char *k, size_t n)
{
	if (jw_sep(w) < 0)
		return;
	jw_quoted(w, k, n, 1);
	w->after_key = 1;
}

/* Keys are short literals with nothing to escape: scanned and copied in
 * one pass into room made for the usual length (a reply has dozens, and
 * strlen, the escaper and memcpy each cost more than the copy itself);
 * anything longer or to be escaped takes jw_keyn's way. */
#define JW_KEY_FAST 24

void jw_key(struct jw *w, const char *k)
{
	struct buf *b = w->b;
	unsigned char c;
	char *o;
	size_t i;

	if (jw_sep(w) < 0)
		return;
	if (b->p && b->cap - b->len >= JW_KEY_FAST + 3) {
		o = b->p + b->len;
		*o++ = '"';
		for (i = 0; i < JW_KEY_FAST; i++, o++) {
			c = (unsigned char)k[i];
			if (!c) {
				memcpy(o, "\":", 3);
				b->len += i + 3;
				w->after_key = 1;
				return;
			}
			if (c >= 0x80 || !ascii_safe[c])
				break;
			*o = (char)c;
		}
		b->p[b->len] = '\0';
	}
	jw_quoted(w, k, strlen(k), 1);
	w->after_key = 1;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	if (jw_sep(w) < 0)
		return;
	jw_quoted(w, s, n, 0);
}

/* Decimal digits of v, right-aligned in a 20-byte tail of buf; start. */
void jw_int(struct jw *w, long long v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	p = num_u64(e, u);
	if (v < 0)
		*--p = '-';
	if (jw_sep(w) == 0)
		jw_put(w, p, (size_t)(e - p));
}

void jw_uint(struct jw *w, unsigned long long v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p = num_u64(e, v);

	if (jw_sep(w) == 0)
		jw_put(w, p, (size_t)(e - p));
}

void jw_double(struct jw *w, double v, int decimals)
{
	char tmp[32];
	size_t n;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 17)
		decimals = 17;
	if (jw_sep(w) != 0)
		return;
	n = num_fixed(tmp, v, decimals);
	if (n)
		jw_put(w, tmp, n);
	else if (buf_printf(w->b, "%.*f", decimals, v) < 0)
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

/* ---- reader: validation ----------------------------------------------- */


static void seterr(char *err, size_t errlen, const char *what, size_t pos)
{
	if (err && errlen)
		fmt_snprintf(err, errlen, "%s at byte %zu", what, pos);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The four hex digits after "\u" at p (end bounds p), or -1. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;
	int i, h;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(p[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static const char unterminated[] = "unterminated string";

/* Checks the string starting after the opening quote at s[*pos]; leaves
 * *pos after the closing quote.  NULL, or what is wrong (at *pos). */
static const char *scan_string(const unsigned char *s, size_t len, size_t *pos)
{
	const unsigned char *end = s + len;
	size_t i = *pos;
	unsigned cp;
	long u, lo;
	int k;

	for (;;) {
		/* The plain ASCII bulk goes 8 bytes at a time. */
		i += ascii_run(s + i, len - i);
		*pos = i;
		if (i >= len)
			return unterminated;
		if (s[i] == '"') {
			*pos = i + 1;
			return NULL;
		}
		if (s[i] < 0x20)
			return "control character in string";
		if (s[i] >= 0x80) {
			k = utf8_next(s + i, len - i, &cp);
			if (k < 0)
				return "invalid UTF-8";
			i += (size_t)k;
			continue;
		}
		/* A backslash. */
		if (i + 1 >= len)
			return unterminated;
		switch (s[i + 1]) {
		case '"': case '\\': case '/': case 'b':
		case 'f': case 'n': case 'r': case 't':
			i += 2;
			break;
		case 'u':
			if ((u = hex4(s + i + 2, end)) < 0)
				return "bad \\u escape";
			if (u >= 0xDC00 && u <= 0xDFFF)
				return "lone low surrogate";
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
				    (lo = hex4(s + i + 8, end)) < 0xDC00 || lo > 0xDFFF)
					return "lone high surrogate";
				i += 6;
			}
			i += 6;
			break;
		default:
			return "bad escape";
		}
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at *pos. */
static const char *scan_number(const unsigned char *s, size_t len, size_t *pos)
{
	size_t i = *pos;

#define DIGIT(i) ((i) < len && s[i] >= '0' && s[i] <= '9')
	if (i < len && s[i] == '-')
		i++;
	if (!DIGIT(i)) {
		*pos = i;
		return "bad number";
	}
	if (s[i] == '0') {
		i++;
	} else {
		while (DIGIT(i))
			i++;
	}
	if (i < len && s[i] == '.') {
		i++;
		if (!DIGIT(i)) {
			*pos = i;
			return "bad number fraction";
		}
		while (DIGIT(i))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!DIGIT(i)) {
			*pos = i;
			return "bad number exponent";
		}
		while (DIGIT(i))
			i++;
	}
#undef DIGIT
	*pos = i;
	return NULL;
}

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A scalar value starting at s[*pos] (c): a string, number or literal.
 * NULL, or why it is not one. */
static const char *scan_scalar(const unsigned char *s, size_t len, size_t *pos, unsigned char c)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t i, n;

	if (c == '"') {
		++*pos;
		return scan_string(s, len, pos);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return scan_number(s, len, pos);
	for (i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		n = strlen(lit[i]);
		if (len - *pos >= n && !memcmp(s + *pos, lit[i], n)) {
			*pos += n;
			return NULL;
		}
	}
	return c == ']' || c == '}' ? "value expected" : "unexpected character";
}

/* An object key and its ':' starting at s[*pos]. */
static const char *scan_key(const unsigned char *s, size_t len, size_t *pos)
{
	const char *why;

	if (s[*pos] != '"')
		return "object key must be a string";
	++*pos;
	if ((why = scan_string(s, len, pos)))
		return why;
	while (*pos < len && is_ws(s[*pos]))
		++*pos;
	if (*pos >= len || s[*pos] != ':')
		return "':' expected";
	++*pos;
	return NULL;
}

/* The whole of RFC 8259's grammar, iteratively with an explicit stack;
 * counts the tokens jsmn will produce.  -1 with err set if invalid. */
static int validate(const unsigned char *s, size_t len, int *ntok,
		    char *err, size_t errlen)
{
	enum { VALUE, FIRST_VALUE, KEY, FIRST_KEY, AFTER } st = VALUE;
	unsigned char stack[CFG_JSON_MAX_DEPTH];	/* '{' or '[' */
	const char *why = NULL;
	size_t pos = 0;
	int depth = 0, count = 0, obj;
	unsigned char c;

	for (;;) {
		while (pos < len && is_ws(s[pos]))
			pos++;
		if (st == AFTER && depth == 0) {
			why = pos < len ? "trailing characters after the value" : NULL;
			break;
		}
		if (pos >= len) {
			why = "unexpected end of input";
			break;
		}
		c = s[pos];
		obj = depth > 0 && stack[depth - 1] == '{';
		/* An empty container closes right after it opened. */
		if ((st == FIRST_VALUE || st == FIRST_KEY) && c == (obj ? '}' : ']')) {
			pos++;
			depth--;
			st = AFTER;
			continue;
		}
		if (st == FIRST_VALUE || st == VALUE) {
			count++;
			st = AFTER;
			if (c != '{' && c != '[') {
				why = scan_scalar(s, len, &pos, c);
			} else if (depth >= CFG_JSON_MAX_DEPTH) {
				why = "nested too deep";
			} else {
				stack[depth++] = c;
				pos++;
				st = c == '{' ? FIRST_KEY : FIRST_VALUE;
			}
		} else if (st == FIRST_KEY || st == KEY) {
			count++;
			why = scan_key(s, len, &pos);
			st = VALUE;
		} else if (c == ',') {
			pos++;
			st = obj ? KEY : VALUE;
		} else if (c == (obj ? '}' : ']')) {
			pos++;
			depth--;
		} else {
			why = obj ? "',' or '}' expected" : "',' or ']' expected";
		}
		if (why)
			break;
	}
	if (!why) {
		*ntok = count;
		return 0;
	}
	seterr(err, errlen, why, pos);
	return -1;
}

/* ---- reader: tokens --------------------------------------------------- */

int json_parse(struct json *j, const char *s, size_t len, char *err, size_t errlen)
{
	jsmn_parser p;
	size_t a, b, q;
	int n, r;

	j->s = s;
	j->len = len;
	j->t = NULL;
	j->n = 0;
	if (len >= INT_MAX) {	/* jsmn's offsets are int */
		seterr(err, errlen, "input too large", 0);
		return -1;
	}
	if (validate((const unsigned char *)s, len, &n, err, errlen) < 0)
		return -1;
	j->t = n <= JSON_SMALL_TOKENS ? j->small : malloc(sizeof *j->t * (size_t)n);
	if (!j->t) {
		seterr(err, errlen, "out of memory", 0);
		return -1;
	}
	/* In strict mode jsmn wants a delimiter after a primitive, so a lone
	 * top-level scalar (validated: n == 1) is laid down here. */
	a = 0;
	b = len;
	while (is_ws((unsigned char)s[a]))
		a++;
	if (s[a] != '{' && s[a] != '[') {
		while (is_ws((unsigned char)s[b - 1]))
			b--;
		q = s[a] == '"';
		j->t[0].type = q ? JSMN_STRING : JSMN_PRIMITIVE;
		j->t[0].start = (int)(a + q);
		j->t[0].end = (int)(b - q);
		j->t[0].size = 0;
		j->t[0].parent = -1;
		j->n = 1;
		return 0;
	}
	jsmn_init(&p);
	r = jsmn_parse(&p, s, len, j->t, (unsigned)n);
	if (r != n) {
		/* Cannot happen for validated text; refuse rather than trust. */
		json_free(j);
		seterr(err, errlen, "tokenizer disagrees", 0);
		return -1;
	}
	j->n = n;
	return 0;
}

void json_free(struct json *j)
{
	if (j->t != j->small)
		free(j->t);
	j->t = NULL;
	j->n = 0;
}

static const jsmntok_t *tok(const struct json *j, int i)
{
	return i >= 0 && i < j->n ? &j->t[i] : NULL;
}

enum json_type json_type(const struct json *j, int i)
{
	const jsmntok_t *t = tok(j, i);

	if (!t)
		return JSON_NONE;
	switch (t->type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		switch (j->s[t->start]) {
		case 't': return JSON_TRUE;
		case 'f': return JSON_FALSE;
		case 'n': return JSON_NULL;
		default:  return JSON_NUMBER;
		}
	default:
		return JSON_NONE;
	}
}

/* Tokens are laid down in text order, so the first token after i's subtree
 * is the first one starting at or past i's end: a binary search. */
int json_next(const struct json *j, int i)
{
	const jsmntok_t *t = tok(j, i);
	int lo, hi, mid;

	if (!t)
		return j->n;
	if (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY)
		return i + 1;
	lo = i + 1;
	hi = j->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (j->t[mid].start >= t->end)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int json_count(const struct json *j, int i)
{
	const jsmntok_t *t = tok(j, i);

	if (!t || (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY))
		return 0;
	return t->size;
}

int json_elem(const struct json *j, int arr, int idx)
{
	const jsmntok_t *t = tok(j, arr);
	int k;

	if (!t || t->type != JSMN_ARRAY || idx < 0 || idx >= t->size)
		return -1;
	for (k = arr + 1; idx > 0; idx--)
		k = json_next(j, k);
	return k;
}

int json_path(const struct json *j, int i, const char *path)
{
	char key[32];

	while (i >= 0 && *path) {
		size_t k = strcspn(path, ".");

		if (k >= sizeof(key))
			return -1;
		memcpy(key, path, k);
		key[k] = '\0';
		i = json_type(j, i) == JSON_ARRAY && key[0] >= '0' && key[0] <= '9' ?
		    json_elem(j, i, num_atoi(key)) : json_get(j, i, key);
		path += k + (path[k] == '.');
	}
	return i;
}

/* Duplicate keys: the last one wins, as in Python's json module, which the
 * reference implementation used. */
int json_get(const struct json *j, int obj, const char *key)
{
	const jsmntok_t *t = tok(j, obj);
	int k, m, found = -1;

	if (!t || t->type != JSMN_OBJECT)
		return -1;
	for (k = obj + 1, m = 0; m < t->size && k + 1 < j->n; m++) {
		if (json_str_eq(j, k, key))
			found = k + 1;
		k = json_next(j, k + 1);
	}
	return found;
}

void json_get_keys(const struct json *j, int obj, const char *const *keys, int nkeys, int *out)
{
	const jsmntok_t *t = tok(j, obj);
	int k, m, i;

	for (i = 0; i < nkeys; i++)
		out[i] = -1;
	if (!t || t->type != JSMN_OBJECT || nkeys > 16)
		return;
	/* json_str_eq turns most pairs down on their first byte. */
	for (k = obj + 1, m = 0; m < t->size && k + 1 < j->n; m++) {
		for (i = 0; i < nkeys; i++)
			if (json_str_eq(j, k, keys[i]))
				out[i] = k + 1;
		k = json_next(j, k + 1);
	}
}

const char *json_raw(const struct json *j, int i, size_t *len)
{
	const jsmntok_t *t = tok(j, i);

	if (!t) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)(t->end - t->start);
	return j->s + t->start;
}

char *json_dup(const struct json *j, int i)
{
	size_t n;
	const char *raw = json_raw(j, i, &n);
	char *p;

	if (!raw || !(p = malloc(n + 1)))
		return NULL;
	memcpy(p, raw, n);
	p[n] = '\0';
	return p;
}

/* ---- reader: strings -------------------------------------------------- */

/* Decodes the escape at p (a backslash; validated text) into out[0..4);
 * returns the bytes written, *used the source bytes consumed. */
static size_t unescape1(const char *p, char out[4], size_t *used)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned long cp;

	*used = 2;
	switch (p[1]) {
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u': break;
	default:  out[0] = p[1]; return 1;	/* " \ / */
	}
	cp = (unsigned long)hex4(u + 2, u + 6);
	*used = 6;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)hex4(u + 8, u + 12) - 0xDC00);
		*used = 12;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Unescapes raw[0..n) into out (NULL: just count); the unescaped length,
 * never more than n. */
static size_t unescape(const char *raw, size_t n, char *out)
{
	const char *bs, *end = raw + n;
	size_t o = 0, k, used;
	char tmp[4];

	while (raw < end) {
		bs = memchr(raw, '\\', (size_t)(end - raw));
		k = (size_t)((bs ? bs : end) - raw);
		if (out)
			memcpy(out + o, raw, k);
		o += k;
		raw += k;
		if (!bs)
			break;
		k = unescape1(raw, tmp, &used);
		if (out)
			memcpy(out + o, tmp, k);
		o += k;
		raw += used;
	}
	return o;
}

int json_str(const struct json *j, int i, struct buf *out)
{
	const jsmntok_t *t = tok(j, i);
	const char *raw;
	size_t n, u;

	if (!t || t->type != JSMN_STRING)
		return -1;
	raw = j->s + t->start;
	n = (size_t)(t->end - t->start);
	u = memchr(raw, '\\', n) ? unescape(raw, n, NULL) : n;
	if (buf_reserve(out, u) < 0)
		return -1;
	unescape(raw, n, out->p + out->len);
	out->len += u;
	out->p[out->len] = '\0';
	return 0;
}

int json_strcpy(const struct json *j, int i, char *out, size_t cap)
{
	const jsmntok_t *t = tok(j, i);
	const char *raw;
	size_t n, u;

	if (!t || t->type != JSMN_STRING || cap == 0)
		return -1;
	raw = j->s + t->start;
	n = (size_t)(t->end - t->start);
	/* Without escapes the text is the string, and validated text holds no
	 * raw NUL: one scan instead of four (command names, messages). */
	if (!memchr(raw, '\\', n)) {
		if (n >= cap)
			return -1;
		memcpy(out, raw, n);
		out[n] = '\0';
		return 0;
	}
	u = unescape(raw, n, NULL);
	if (u >= cap)
		return -1;
	unescape(raw, n, out);
	out[u] = '\0';
	if (memchr(out, '\0', u))
		return -1;
	return 0;
}

int json_str_eq(const struct json *j, int i, const char *lit)
{
	const jsmntok_t *t = tok(j, i);
	const char *raw, *end;
	size_t n, k, used, ll;
	char tmp[4];

	if (!t || t->type != JSMN_STRING)
		return 0;
	raw = j->s + t->start;
	n = (size_t)(t->end - t->start);
	/* One pass up to the first escape, which the literal's end, a
	 * difference or the text's end comes before in most comparisons:
	 * no strlen, memcmp and memchr calls (musl's go a byte or a word at
	 * a time, a tenth of a static agent's work per command).  Bytes
	 * before an escape are the string's own, and validated text holds
	 * no NUL, so the literal's end stops the scan as a difference. */
	for (k = 0; k < n && raw[k] == lit[k] && raw[k] != '\\'; k++)
		;
	if (k == n)
		return lit[k] == '\0';
	if (raw[k] != '\\')
		return 0;
	raw += k;
	lit += k;
	n -= k;
	ll = strlen(lit);
	/* Escapes only ever shorten the text: shorter raw text cannot match. */
	if (n < ll)
		return 0;
	for (end = raw + n; raw < end; ) {
		if (*raw != '\\') {
			if (!ll || *raw != *lit)
				return 0;
			raw++, lit++, ll--;
			continue;
		}
		k = unescape1(raw, tmp, &used);
		if (k > ll || memcmp(tmp, lit, k))
			return 0;
		raw += used;
		lit += k;
		ll -= k;
	}
	return ll == 0;
}

/* ---- reader: numbers and literals ------------------------------------- */

int json_int(const struct json *j, int i, long long *v)
{
	const jsmntok_t *t = tok(j, i);
	const char *p, *end;
	unsigned long long u = 0, lim;
	int neg;

	if (json_type(j, i) != JSON_NUMBER)
		return -1;
	p = j->s + t->start;
	end = j->s + t->end;
	neg = *p == '-';
	p += neg;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;	/* fraction or exponent */
		if (u > (lim - (unsigned)(*p - '0')) / 10)
			return -1;
		u = u * 10 + (unsigned)(*p - '0');
	}
	if (neg)
		*v = u == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)u;
	else
		*v = (long long)u;
	return 0;
}

int json_num(const struct json *j, int i, double *v)
{
	const jsmntok_t *t = tok(j, i);
	const char *end;

	if (json_type(j, i) != JSON_NUMBER)
		return -1;
	/* Within the token: the caller's text may end right after it. */
	*v = num_parsen(j->s + t->start, (size_t)(t->end - t->start), &end);
	return 0;
}

int json_bool(const struct json *j, int i, int *v)
{
	switch (json_type(j, i)) {
	case JSON_TRUE:
		*v = 1;
		return 0;
	case JSON_FALSE:
		*v = 0;
		return 0;
	default:
		return -1;
	}
}

/* ---- writer: pre-escaped strings -------------------------------------- */

void jw_strraw(struct jw *w, const char *esc, size_t n)
{
	size_t pos = 0;

	if (jw_sep(w) < 0)
		return;
	/* Valid content runs to its end without meeting a closing quote. */
	if (scan_string((const unsigned char *)esc, n, &pos) == unterminated && pos == n) {
		jw_put(w, "\"", 1);
		jw_put(w, esc, n);
		jw_put(w, "\"", 1);
	} else {
		jw_quoted(w, esc, n, 0);
	}
}
