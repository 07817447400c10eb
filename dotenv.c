/* dotenv.c - the .env form (see dotenv.h).  A reader over the caller's
 * text that takes one binding at a time the way python-dotenv's parser
 * does (parse_binding: whitespace, export, key, '=', value, comment, end
 * of line), so a file the original client read gives nestd the same
 * values.  Nothing is copied but the one value asked for. */
#include "dotenv.h"

#include <string.h>

struct rd {
	const char *p, *end;
};

/* A value as found: its raw bytes and how to decode them. */
struct span {
	const char *p;
	size_t n;
	char quote;             /* 0, '\'' or '"' */
};

static int is_blank(char c)   /* \s without the line ends */
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

static int is_nl(char c)
{
	return c == '\n' || c == '\r';
}

static void skip_blanks(struct rd *r)
{
	while (r->p < r->end && is_blank(*r->p))
		r->p++;
}

/* Past the end of the line (its \n, \r or \r\n). */
static void skip_line(struct rd *r)
{
	while (r->p < r->end && !is_nl(*r->p))
		r->p++;
	if (r->p < r->end && *r->p == '\r')
		r->p++;
	if (r->p < r->end && *r->p == '\n')
		r->p++;
}

/* A quoted string from r->p (at its opening quote): the content into s.
 * As the regex '((?:\\'|[^'])*)' matches: an escaped quote belongs to the
 * content, and when no bare quote closes it, the last escaped one does.
 * -1 when nothing closes it. */
static int quoted(struct rd *r, struct span *s)
{
	char q = *r->p;
	const char *i = r->p + 1, *last = NULL;

	while (i < r->end) {
		if (*i == '\\' && i + 1 < r->end && i[1] == q) {
			last = i + 1;
			i += 2;
		} else if (*i == q) {
			last = i;
			break;
		} else {
			i++;
		}
	}
	if (!last)
		return -1;
	s->p = r->p + 1;
	s->n = (size_t)(last - s->p);
	s->quote = q;
	r->p = last + 1;
	return 0;
}

/* An unquoted value: the rest of the line, cut at a '#' after a blank,
 * trailing blanks dropped. */
static void unquoted(struct rd *r, struct span *s)
{
	const char *b = r->p, *e;

	while (r->p < r->end && !is_nl(*r->p))
		r->p++;
	for (e = b; e < r->p; e++)
		if (*e == '#' && e > b && is_blank(e[-1]))
			break;
	while (e > b && is_blank(e[-1]))
		e--;
	s->p = b;
	s->n = (size_t)(e - b);
	s->quote = 0;
}

/* "export" and a blank, as python-dotenv's (?:export[^\S\r\n]+)? */
static void skip_export(struct rd *r)
{
	if (r->end - r->p > 6 && !memcmp(r->p, "export", 6) && is_blank(r->p[6])) {
		r->p += 6;
		skip_blanks(r);
	}
}

/* The key at r->p into k (n 0 for a comment line); -1 when there is none. */
static int key_of(struct rd *r, struct span *k)
{
	const char *b;

	k->n = 0;
	if (r->p < r->end && *r->p == '#')
		return 0;
	if (r->p < r->end && *r->p == '\'') {
		b = memchr(r->p + 1, '\'', (size_t)(r->end - r->p - 1));
		if (!b || b == r->p + 1)
			return -1;
		k->p = r->p + 1;
		k->n = (size_t)(b - k->p);
		r->p = b + 1;
		return 0;
	}
	for (b = r->p; r->p < r->end && *r->p != '=' && *r->p != '#' && !is_blank(*r->p) &&
	     !is_nl(*r->p); r->p++)
		;
	k->p = b;
	k->n = (size_t)(r->p - b);
	return k->n ? 0 : -1;
}

/* One binding from r->p.  1 with key and value (has_value 0 for a bare
 * KEY), 0 for a line that binds nothing, -1 at the end of the text. */
static int binding(struct rd *r, struct span *k, struct span *v, int *has_value)
{
	while (r->p < r->end && (is_blank(*r->p) || is_nl(*r->p)))
		r->p++;
	if (r->p >= r->end)
		return -1;
	*has_value = 0;
	skip_export(r);
	if (key_of(r, k) < 0)
		goto bad;
	skip_blanks(r);
	if (k->n && r->p < r->end && *r->p == '=') {
		r->p++;
		skip_blanks(r);
		*has_value = 1;
		if (r->p < r->end && (*r->p == '\'' || *r->p == '"')) {
			if (quoted(r, v) < 0)
				goto bad;
		} else {
			unquoted(r, v);
		}
	}
	skip_blanks(r);
	if (r->p < r->end && *r->p == '#')
		while (r->p < r->end && !is_nl(*r->p))
			r->p++;
	if (r->p < r->end && !is_nl(*r->p))
		goto bad;
	skip_line(r);
	return k->n ? 1 : 0;
bad:
	skip_line(r);
	return 0;
}

/* The escapes a quoted value decodes. */
static int unescape(char quote, char c, char *out)
{
	static const char dq_in[] = "\\'\"abfnrtv", dq_out[] = "\\'\"\a\b\f\n\r\t\v";
	const char *x;

	if (quote == '\'') {
		if (c != '\\' && c != '\'')
			return 0;
		*out = c;
		return 1;
	}
	x = c ? strchr(dq_in, c) : NULL;
	if (!x)
		return 0;
	*out = dq_out[x - dq_in];
	return 1;
}

static int decode(const struct span *v, char *out, size_t cap)
{
	size_t i, n = 0;
	char c;

	for (i = 0; i < v->n; i++) {
		c = v->p[i];
		if (v->quote && c == '\\' && i + 1 < v->n && unescape(v->quote, v->p[i + 1], &c))
			i++;
		if (c == '\0' || n + 1 >= cap) {
			out[0] = '\0';
			return DOTENV_BAD;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return (int)n;
}

int dotenv_get(const char *text, size_t n, const char *key, char *out, size_t cap)
{
	struct rd r = { text, text + n };
	struct span k, v, found = { NULL, 0, 0 };
	size_t kl = strlen(key);
	int hv, got = 0, rc;

	if (!cap)
		return DOTENV_BAD;
	out[0] = '\0';
	while ((rc = binding(&r, &k, &v, &hv)) >= 0) {
		if (rc == 1 && k.n == kl && !memcmp(k.p, key, kl)) {
			got = hv;        /* a later bare KEY unsets it, as in python-dotenv */
			found = v;
		}
	}
	return got ? decode(&found, out, cap) : DOTENV_ABSENT;
}

int dotenv_has_binding(const char *text, size_t n)
{
	struct rd r = { text, text + n };
	struct span k, v;
	int hv, rc;

	while ((rc = binding(&r, &k, &v, &hv)) >= 0)
		if (rc == 1 && hv)
			return 1;
	return 0;
}
