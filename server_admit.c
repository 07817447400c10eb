/* server_admit.c - who may try to come in (see server_admit.h).
 *
 * One table of CFG_AUTH_TABLE sources, open addressing over a few probes.
 * Each slot holds a source's token bucket of failures (CFG_AUTH_FAIL_BURST,
 * one more per CFG_AUTH_FAIL_REFILL_MS), its connections not yet
 * authenticated and its failures not yet summarised.  A new source takes
 * the stalest slot that holds neither connections nor unsummarised
 * failures, so a stranger with many addresses evicts idle history and
 * never grows memory; when every probed slot is busy, the source shares
 * the one overflow slot at the end.  Also: X-Forwarded-For behind trusted
 * proxies, and which tokens and agent versions are accepted. */
#include "server_admit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "net.h"
#include "num.h"

#define PROBES 8
#define OVERFLOW CFG_AUTH_TABLE

struct admit_slot {
	char key[ADMIT_SOURCE_MAX];
	double tokens;          /* failures still within budget */
	int64_t at;             /* when tokens was computed */
	unsigned preauth;       /* connections not yet authenticated */
	unsigned quiet;         /* failures over budget, not yet summarised */
	int64_t quiet_since;
};

struct admit {
	unsigned long long failures;
	int64_t next_due;       /* the earliest summary due; 0: none */
	struct admit_slot slot[CFG_AUTH_TABLE + 1];
};

struct admit *admit_new(void)
{
	struct admit *a = calloc(1, sizeof(struct admit));

	if (a) {
		fmt_snprintf(a->slot[OVERFLOW].key, ADMIT_SOURCE_MAX, "other sources");
		a->slot[OVERFLOW].tokens = CFG_AUTH_FAIL_BURST;
	}
	return a;
}

void admit_free(struct admit *a)
{
	free(a);
}

void admit_source(const char *peer, char out[ADMIT_SOURCE_MAX])
{
	const char *colon;
	size_t l;

	/* "1.2.3.4:5678" and "[::1]:5678" lose the port; "unix:uid=N" stays
	 * whole, so each local user has a budget of its own. */
	colon = strncmp(peer, "unix", 4) == 0 ? NULL : strrchr(peer, ':');
	l = colon && colon != peer ? (size_t)(colon - peer) : strlen(peer);
	if (l >= ADMIT_SOURCE_MAX)
		l = ADMIT_SOURCE_MAX - 1;
	memcpy(out, peer, l);
	out[l] = '\0';
}

static int busy(const struct admit_slot *s)
{
	return s->preauth || s->quiet;
}

/* The slot of key; with create, a new one if need be (never NULL then). */
static struct admit_slot *find_slot(struct admit *a, const char *key, int create, int64_t now)
{
	unsigned h = 2166136261u;
	const char *p;
	int i, best = -1;

	for (p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = 0; i < PROBES; i++) {
		int k = (int)((h + (unsigned)i) % CFG_AUTH_TABLE);
		struct admit_slot *s = &a->slot[k];

		if (strcmp(s->key, key) == 0)
			return s;
		if (!busy(s) && (best < 0 || !s->key[0] || (a->slot[best].key[0] && s->at < a->slot[best].at)))
			best = k;
	}
	if (!create)
		return NULL;
	if (best < 0)
		return &a->slot[OVERFLOW];
	memset(&a->slot[best], 0, sizeof(a->slot[best]));
	fmt_copy(a->slot[best].key, ADMIT_SOURCE_MAX, key);
	a->slot[best].tokens = CFG_AUTH_FAIL_BURST;
	a->slot[best].at = now;
	return &a->slot[best];
}

static void refill(struct admit_slot *s, int64_t now)
{
	if (now > s->at)
		s->tokens += (double)(now - s->at) / CFG_AUTH_FAIL_REFILL_MS;
	if (s->tokens > CFG_AUTH_FAIL_BURST)
		s->tokens = CFG_AUTH_FAIL_BURST;
	s->at = now;
}

void admit_failed(struct admit *a, const char *source, int64_t now, struct admit_verdict *v)
{
	struct admit_slot *s = find_slot(a, source, 1, now);

	refill(s, now);
	memset(v, 0, sizeof(*v));
	v->over = s->tokens < 1;
	s->tokens -= 1;
	/* Hammering digs at most one burst deep: the wait stays bounded. */
	if (s->tokens < -CFG_AUTH_FAIL_BURST)
		s->tokens = -CFG_AUTH_FAIL_BURST;
	a->failures++;
	v->retry_after = s->tokens >= 1 ? 0 :
			 (int)((1 - s->tokens) * CFG_AUTH_FAIL_REFILL_MS / 1000) + 1;
	if (!v->over) {
		v->log = 1;
		v->spent = s->tokens < 1;
		return;
	}
	v->delay_ms = CFG_AUTH_SLOW_MS;
	if (!s->quiet) {
		int64_t due = now + CFG_AUTH_SUMMARY_MS;

		s->quiet_since = now;
		if (!a->next_due || due < a->next_due)
			a->next_due = due;
	}
	s->quiet++;
}

unsigned long long admit_failures(const struct admit *a)
{
	return a->failures;
}

int64_t admit_summary_due(const struct admit *a)
{
	return a->next_due;
}

int admit_summary_next(struct admit *a, int64_t now, struct admit_summary *out)
{
	int64_t next = 0;
	int i;

	for (i = 0; i <= CFG_AUTH_TABLE; i++) {
		struct admit_slot *s = &a->slot[i];
		int64_t due = s->quiet_since + CFG_AUTH_SUMMARY_MS;

		if (!s->quiet)
			continue;
		if (due <= now) {
			fmt_copy(out->source, sizeof(out->source), s->key);
			out->count = s->quiet;
			out->seconds = (int)((now - s->quiet_since + 999) / 1000);
			s->quiet = 0;
			return 1;
		}
		if (!next || due < next)
			next = due;
	}
	a->next_due = next;
	return 0;
}

int admit_preauth_open(struct admit *a, const char *source, int64_t now, unsigned *count)
{
	struct admit_slot *s = find_slot(a, source, 1, now);

	s->preauth++;
	*count = s->preauth;
	return (int)(s - a->slot);
}

void admit_preauth_close(struct admit *a, int handle)
{
	if (handle >= 0 && handle <= CFG_AUTH_TABLE && a->slot[handle].preauth)
		a->slot[handle].preauth--;
}

/* ---- trusted proxies ---- */

/* An address as a source or an X-Forwarded-For entry: "1.2.3.4",
 * "1.2.3.4:80", "[::1]", "[::1]:80", "::1", or "unix:uid=N". */
static int parse_addr(const char *s, size_t n, struct admit_proxy *p)
{
	char tmp[64];
	const char *colon;

	memset(p, 0, sizeof(*p));
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!strncmp(tmp, "unix:uid=", 9)) {
		char *end;
		unsigned long uid = num_strtoul(tmp + 9, &end);

		if (!tmp[9] || *end || tmp[9] < '0' || tmp[9] > '9' || uid > 0xffffffffu)
			return -1;
		p->family = 0;
		p->bits = (int)uid;
		return 0;
	}
	if (tmp[0] == '[') {
		char *close = strchr(tmp, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -1;
		*close = '\0';
		p->family = 6;
		return num_pton(AF_INET6, tmp + 1, p->addr) == 1 ? 0 : -1;
	}
	colon = strchr(tmp, ':');
	if (colon && strchr(colon + 1, ':')) {
		p->family = 6;
		return num_pton(AF_INET6, tmp, p->addr) == 1 ? 0 : -1;
	}
	if (colon)
		tmp[colon - tmp] = '\0';
	p->family = 4;
	return num_pton(AF_INET, tmp, p->addr) == 1 ? 0 : -1;
}

int admit_proxy_parse(const char *s, struct admit_proxy *p)
{
	const char *slash = strncmp(s, "unix:", 5) ? strchr(s, '/') : NULL;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	long bits;

	if (n == 0 || parse_addr(s, n, p) < 0 || (p->family == 4 && strchr(s, ':')))
		return -1;
	if (p->family == 0)
		return 0;
	if (p->family == 6 && s[0] == '[')
		return -1;      /* a bare address here; brackets belong to ports */
	p->bits = p->family == 4 ? 32 : 128;
	if (!slash)
		return 0;
	bits = num_strtol(slash + 1, &end);
	if (!slash[1] || *end || slash[1] < '0' || slash[1] > '9' || bits > p->bits)
		return -1;
	p->bits = (int)bits;
	return 0;
}

static int prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole))
		return 0;
	return !rest || ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static int proxy_has(const struct admit_proxy *list, int n, const struct admit_proxy *x)
{
	int i;

	for (i = 0; i < n; i++) {
		if (list[i].family != x->family)
			continue;
		if (x->family == 0 ? list[i].bits == x->bits : prefix_eq(list[i].addr, x->addr, list[i].bits))
			return 1;
	}
	return 0;
}

int admit_proxy_match(const struct admit_proxy *p, int n, const char *source)
{
	struct admit_proxy x;

	return n > 0 && parse_addr(source, strlen(source), &x) == 0 && proxy_has(p, n, &x);
}

static void addr_text(const struct admit_proxy *x, char out[ADMIT_SOURCE_MAX])
{
	char host[INET6_ADDRSTRLEN];

	net_ntop(x->family == 6 ? AF_INET6 : AF_INET, x->addr, host);
	fmt_snprintf(out, ADMIT_SOURCE_MAX, x->family == 6 ? "[%s]" : "%s", host);
}

/* The last comma-separated entry of v[0..*n), trimmed; *n shrinks past it. */
static struct http_span last_entry(const char *v, size_t *n)
{
	struct http_span e;
	size_t end = *n, b;

	b = end;
	while (b > 0 && v[b - 1] != ',')
		b--;
	*n = b ? b - 1 : 0;
	while (b < end && (v[b] == ' ' || v[b] == '\t'))
		b++;
	while (end > b && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	e.p = v + b;
	e.n = end - b;
	return e;
}

void admit_forwarded(const struct admit_proxy *p, int n, const char *source,
		     const struct http_span *xff, int nxff, char out[ADMIT_SOURCE_MAX])
{
	int i;

	fmt_copy(out, ADMIT_SOURCE_MAX, source);
	if (!admit_proxy_match(p, n, source))
		return;
	/* Right to left: each hop a trusted proxy vouches for the next. */
	for (i = nxff - 1; i >= 0; i--) {
		size_t left = xff[i].n;

		do {
			struct http_span e = last_entry(xff[i].p, &left);
			struct admit_proxy x;

			if (e.n == 0 || parse_addr(e.p, e.n, &x) < 0 || x.family == 0)
				return;
			addr_text(&x, out);
			if (!proxy_has(p, n, &x))
				return;
		} while (left > 0);
	}
}

/* ---- tokens and versions ---- */

const char *admit_token(const struct token_db *db, const char *tok, enum token_role role,
			const struct token_entry **e)
{
	*e = NULL;
	switch (token_check(tok, strlen(tok))) {
	case TOKEN_BAD_FORM:
		return "invalid token format";
	case TOKEN_BAD_SUM:
		return "invalid token checksum (mistyped token?)";
	}
	*e = token_db_find(db, tok, strlen(tok));
	if (!*e)
		return "unknown or revoked token";
	if ((*e)->role != role)
		return role == ROLE_AGENT ? "operator tokens cannot connect as agents"
					  : "agent tokens cannot be used as operators";
	return NULL;
}

/* Equal, or followed by a character that cannot continue the last number. */
int server_version_ok(const char *accept, const char *version)
{
	const char *p = accept;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		if (n == 1 && *p == '*')
			return 1;
		if (n && strncmp(version, p, n) == 0 &&
		    (version[n] == '\0' || version[n] < '0' || version[n] > '9'))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}
