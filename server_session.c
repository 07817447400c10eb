/* server_session.c - the dashboard's sessions (see server_session.h).  A
 * plain array: a few thousand sessions at most, looked up by a hash the
 * browser cannot choose. */
#include "server_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "md.h"
#include "rnd.h"
#include "sha256.h"
#include "token.h"

void sessions_init(struct sessions *ss)
{
	memset(ss, 0, sizeof(*ss));
}

void sessions_free(struct sessions *ss)
{
	if (ss->s)
		memset(ss->s, 0, sizeof(*ss->s) * (size_t)ss->n);
	free(ss->s);
	sessions_init(ss);
}

static void drop_at(struct sessions *ss, int i)
{
	memmove(ss->s + i, ss->s + i + 1, sizeof(*ss->s) * (size_t)(ss->n - i - 1));
	ss->n--;
	ss->dirty = 1;
}

/* A slot at the end: the array grown, or the oldest session dropped. */
static struct session *append(struct sessions *ss)
{
	struct session *ns;
	int i, old = 0;

	if (ss->n >= CFG_SESSIONS_MAX) {
		for (i = 1; i < ss->n; i++)
			if (ss->s[i].created < ss->s[old].created)
				old = i;
		drop_at(ss, old);
	}
	ns = realloc(ss->s, sizeof(*ns) * (size_t)(ss->n + 1));
	if (!ns)
		return NULL;
	ss->s = ns;
	memset(&ns[ss->n], 0, sizeof(*ns));
	return &ns[ss->n++];
}

int session_new(struct sessions *ss, const unsigned char token_hash[32], const char *name,
		long long now, long long ttl, char cookie[SESSION_ID_HEX + 1])
{
	unsigned char id[32];
	struct session *s;

	if (rnd_bytes(id, sizeof(id)) < 0 || !(s = append(ss)))
		return -1;
	md_hex(id, sizeof(id), cookie);
	sha256(cookie, SESSION_ID_HEX, s->id_hash);
	memset(id, 0, sizeof(id));
	memcpy(s->token_hash, token_hash, 32);
	fmt_copy(s->name, sizeof(s->name), name);
	s->created = now;
	s->expires = now + ttl;
	ss->dirty = 1;
	return 0;
}

/* The index of the session v names (expired or not), or -1. */
static int find(const struct sessions *ss, const char *v, size_t n)
{
	unsigned char h[32];
	int i;

	if (n != SESSION_ID_HEX)
		return -1;
	sha256(v, n, h);
	for (i = 0; i < ss->n; i++)
		if (!memcmp(ss->s[i].id_hash, h, 32))
			return i;
	return -1;
}

const struct session *session_find(const struct sessions *ss, const char *v, size_t n,
				   long long now)
{
	int i = find(ss, v, n);

	return i >= 0 && ss->s[i].expires > now ? &ss->s[i] : NULL;
}

int session_end(struct sessions *ss, const char *v, size_t n)
{
	int i = find(ss, v, n);

	if (i < 0)
		return 0;
	drop_at(ss, i);
	return 1;
}

int session_end_token(struct sessions *ss, const unsigned char token_hash[32])
{
	int i, k = 0;

	for (i = ss->n - 1; i >= 0; i--)
		if (!memcmp(ss->s[i].token_hash, token_hash, 32)) {
			drop_at(ss, i);
			k++;
		}
	return k;
}

int sessions_expire(struct sessions *ss, long long now)
{
	int i, k = 0;

	for (i = ss->n - 1; i >= 0; i--)
		if (ss->s[i].expires <= now) {
			drop_at(ss, i);
			k++;
		}
	return k;
}

int sessions_format(const struct sessions *ss, struct buf *out)
{
	char a[65], b[65];
	int i;

	if (buf_puts(out, "# nestd sessions: SESSION-SHA256 TOKEN-SHA256 CREATED EXPIRES NAME\n") < 0)
		return -1;
	for (i = 0; i < ss->n; i++) {
		md_hex(ss->s[i].id_hash, 32, a);
		md_hex(ss->s[i].token_hash, 32, b);
		if (buf_printf(out, "%s %s %lld %lld %s\n", a, b, ss->s[i].created, ss->s[i].expires,
			       ss->s[i].name) < 0)
			return -1;
	}
	return 0;
}

static int unhex(const char *p, unsigned char *out, size_t n)
{
	size_t i;

	for (i = 0; i < 2 * n; i++) {
		int c = p[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -1;
		out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

/* "N " at *p: the number, *p past the blank; -1 when it is not one. */
static long long number(const char **p, const char *end)
{
	long long v = 0;
	const char *q = *p;

	while (q < end && *q >= '0' && *q <= '9' && v < 100000000000LL)
		v = v * 10 + (*q++ - '0');
	if (q == *p || q >= end || *q != ' ')
		return -1;
	*p = q + 1;
	return v;
}

/* One line: 64 hex, blank, 64 hex, blank, CREATED, blank, EXPIRES, blank, NAME. */
static int parse_line(struct sessions *ss, const char *p, size_t n, long long now)
{
	const char *end = p + n;
	struct session s;
	size_t nl;

	memset(&s, 0, sizeof(s));
	if (n < 131 || p[64] != ' ' || p[129] != ' ' || unhex(p, s.id_hash, 32) < 0 ||
	    unhex(p + 65, s.token_hash, 32) < 0)
		return -1;
	p += 130;
	if ((s.created = number(&p, end)) < 0 || (s.expires = number(&p, end)) < 0)
		return -1;
	nl = (size_t)(end - p);
	if (nl == 0 || nl > TOKEN_NAME_MAX)
		return -1;
	memcpy(s.name, p, nl);
	if (!token_name_valid(s.name))
		return -1;
	if (s.expires > now) {
		struct session *slot = append(ss);

		if (!slot)
			return -1;
		*slot = s;
	}
	return 0;
}

int sessions_parse(struct sessions *ss, const char *text, size_t n, long long now)
{
	const char *p = text, *end = text + n;
	int bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len && *p != '#' && parse_line(ss, p, len, now) < 0)
			bad++;
		p += len + 1;
	}
	ss->dirty = 0;
	return bad;
}
