/* json.h - JSON (RFC 8259) reading on jsmn, and a streaming writer.
 *
 * Reading: jsmn tokenizes (strict mode, parent links); json.c then checks the
 * grammar jsmn leaves loose (literals, number syntax, escapes, control
 * characters, trailing bytes) so that what passes here is real JSON.
 * Tokens are offsets into the caller's text; strings are unescaped only when
 * asked for (json_str), including \uXXXX surrogate pairs.
 *
 * Writing: struct jw appends to a struct buf, inserting commas itself; every
 * string goes through one escaper that also replaces invalid UTF-8 with
 * U+FFFD, so the output is valid JSON whatever bytes went in.  Errors (the
 * buffer's bound reached) are sticky: check jw_error() once at the end. */
#ifndef NESTD_JSON_H
#define NESTD_JSON_H

#include <stddef.h>
#include <string.h>
#define JSMN_HEADER
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>
#include "buf.h"

enum json_type { JSON_NONE, JSON_OBJECT, JSON_ARRAY, JSON_STRING,
		 JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL };

/* Messages of up to JSON_SMALL_TOKENS tokens (every command an agent
 * gets, most requests) parse into the struct itself, without malloc: a
 * struct json must therefore not be copied while parsed. */
#define JSON_SMALL_TOKENS 32

struct json {
	const char *s;
	size_t len;
	jsmntok_t *t;     /* small, or malloc'd (bounded by len) */
	int n;            /* token count; token 0 is the root value */
	jsmntok_t small[JSON_SMALL_TOKENS];
};

/* 0, or -1 with a short reason in err ("unexpected end of input at byte 0",
 * ...).  Accepts exactly RFC 8259 JSON in well-formed UTF-8, nested at most
 * 64 deep.  jsmn is compiled into json.c only (static): call json_*, not
 * jsmn_* directly. */
int  json_parse(struct json *j, const char *s, size_t len, char *err, size_t errlen);
void json_free(struct json *j);

enum json_type json_type(const struct json *j, int i);
int  json_next(const struct json *j, int i);          /* index after i's subtree */
/* Value index or -1; with duplicate keys the last wins (as Python's json,
 * which the reference implementation used). */
int  json_get(const struct json *j, int obj, const char *key);
/* json_get for several keys in one pass over obj's members: out[i] for
 * keys[i] (at most 16 keys). */
void json_get_keys(const struct json *j, int obj, const char *const *keys, int nkeys, int *out);
int  json_count(const struct json *j, int i);          /* members/elements */
/* i-th element of an array, or -1.  Costs O(idx): to walk an array, start
 * at arr + 1 and step with json_next, count times. */
int  json_elem(const struct json *j, int arr, int idx);
/* The value at a dotted path below value i: "payload.view.id", "load.0"
 * (a number picks an array's element); -1 when any step is missing. */
int  json_path(const struct json *j, int i, const char *path);

/* Raw source text of value i (strings: without the quotes, still escaped). */
const char *json_raw(const struct json *j, int i, size_t *len);
/* json_raw of value i as a malloc'd NUL-terminated copy; NULL when i is not
 * a token or memory runs out.  The caller frees it. */
char *json_dup(const struct json *j, int i);

/* Unescaped string into out (appended, NUL-terminated); -1 if not a string
 * or out's bound is hit. */
int  json_str(const struct json *j, int i, struct buf *out);
/* Unescaped string into a fixed array; -1 if not a string, too long
 * (cap includes the NUL), or it holds a NUL character. */
int  json_strcpy(const struct json *j, int i, char *out, size_t cap);
/* 1 if value i is a string equal to lit once unescaped. */
int  json_str_eq(const struct json *j, int i, const char *lit);
/* Integer numbers only (no fraction or exponent) within long long; -1
 * otherwise (also for strings, floats and out-of-range values). */
int  json_int(const struct json *j, int i, long long *v);
int  json_num(const struct json *j, int i, double *v);
int  json_bool(const struct json *j, int i, int *v);

#define JW_MAX_DEPTH 32

struct jw {
	struct buf *b;
	int depth;
	unsigned char first[JW_MAX_DEPTH];   /* next item is the first at depth */
	int after_key;
	int err;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_keyn(struct jw *w, const char *k, size_t n);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_uint(struct jw *w, unsigned long long v);
void jw_double(struct jw *w, double v, int decimals); /* non-finite -> null */
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
void jw_raw(struct jw *w, const char *json, size_t n); /* already-valid JSON */
/* A string whose content esc[0..n) is already escaped (e.g. json_raw of a
 * string token), quoted and copied verbatim; content that is not valid
 * JSON string text is escaped instead, so the output stays valid. */
void jw_strraw(struct jw *w, const char *esc, size_t n);
int  jw_error(const struct jw *w);

/* A NUL-terminated key (nearly always a short literal: copied as it is
 * scanned, with no strlen first). */
void jw_key(struct jw *w, const char *k);

static inline void jw_str(struct jw *w, const char *s)   /* NULL writes null */
{
	if (!s)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

/* Key-value shorthands. */
static inline void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

static inline void jw_kint(struct jw *w, const char *k, long long v)
{
	jw_key(w, k);
	jw_int(w, v);
}

static inline void jw_kbool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

/* Appends s[0..n) as JSON string content (no quotes), escaped, invalid
 * UTF-8 replaced by U+FFFD.  -1 when the buffer's bound is hit. */
int json_escape(struct buf *b, const char *s, size_t n);

#endif
