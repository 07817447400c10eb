/* test_server_admit.c - admission (server_admit.c): the per-source budget
 * of failed authentications (burst, refill, floor, verdicts, which peers
 * share a source), the summaries of failures over budget, the count of
 * connections not yet authenticated (and that it survives eviction), the
 * trusted proxies and X-Forwarded-For, the token verdicts and the version
 * prefixes.  The clock is the tests' own: every call is given its time. */
#include <stdlib.h>
#include "../server_admit.h"
#include "../config.h"
#include "../sha256.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* n failures from source at now; the last one's verdict. */
static struct admit_verdict fail_n(struct admit *a, const char *source, int n, int64_t now)
{
	struct admit_verdict v;

	memset(&v, 0, sizeof(v));
	while (n-- > 0)
		admit_failed(a, source, now, &v);
	return v;
}

/* 1 if one more failure from source at now is still within its budget
 * (and is charged: callers count it). */
static int within(struct admit *a, const char *source, int64_t now)
{
	struct admit_verdict v = fail_n(a, source, 1, now);

	return !v.over;
}

void test_server_admit_burst(void)
{
	struct admit *a = admit_new();
	struct admit_verdict v;
	int i, logged = 0;

	CHECK(a != NULL);
	if (!a)
		return;
	for (i = 0; i < CFG_AUTH_FAIL_BURST; i++) {
		admit_failed(a, "10.0.0.1", 0, &v);
		logged += v.log && !v.over && v.delay_ms == 0;
		CHECK(v.spent == (i == CFG_AUTH_FAIL_BURST - 1));
	}
	CHECK(logged == CFG_AUTH_FAIL_BURST);     /* each within budget: logged, at once */
	/* Budget spent: answered late, not logged, told when to come back. */
	admit_failed(a, "10.0.0.1", 0, &v);
	CHECK(v.over && !v.log && !v.spent && v.delay_ms == CFG_AUTH_SLOW_MS);
	CHECK(v.retry_after == 2 * CFG_AUTH_FAIL_REFILL_MS / 1000 + 1);
	CHECK(admit_failures(a) == CFG_AUTH_FAIL_BURST + 1);
	/* Another source is not touched. */
	v = fail_n(a, "10.0.0.2", 1, 0);
	CHECK(!v.over && v.log && v.delay_ms == 0);
	admit_free(a);
}

void test_server_admit_refill(void)
{
	struct admit *a = admit_new();
	struct admit_verdict v;
	int64_t t = 1000;

	CHECK(a != NULL);
	if (!a)
		return;
	fail_n(a, "192.0.2.7", CFG_AUTH_FAIL_BURST, t);
	CHECK(!within(a, "192.0.2.7", t + CFG_AUTH_FAIL_REFILL_MS - 1));
	/* That one dug a unit deeper: two intervals (and a half) bring one
	 * back. */
	t += 2 * CFG_AUTH_FAIL_REFILL_MS + CFG_AUTH_FAIL_REFILL_MS / 2;
	CHECK(within(a, "192.0.2.7", t));
	CHECK(!within(a, "192.0.2.7", t));
	/* A long quiet spell refills to the burst, not beyond. */
	t += 3600 * 1000;
	v = fail_n(a, "192.0.2.7", CFG_AUTH_FAIL_BURST, t);
	CHECK(!v.over && v.spent);
	CHECK(!within(a, "192.0.2.7", t));
	/* Hammering digs at most one burst deep: the wait is bounded. */
	v = fail_n(a, "192.0.2.7", 1000, t);
	CHECK(v.over && v.retry_after == (1 + CFG_AUTH_FAIL_BURST) * CFG_AUTH_FAIL_REFILL_MS / 1000 + 1);
	admit_free(a);
}

void test_server_admit_sources(void)
{
	static const struct {
		const char *peer, *source;
	} v[] = {
		{ "198.51.100.1:1111", "198.51.100.1" }, { "[2001:db8::1]:443", "[2001:db8::1]" },
		{ "unix:uid=1000", "unix:uid=1000" }, { "unix", "unix" }, { "unknown", "unknown" },
	};
	char out[ADMIT_SOURCE_MAX];
	struct admit *a = admit_new();
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		admit_source(v[i].peer, out);
		CHECK_STR(out, v[i].source);
	}
	CHECK(a != NULL);
	if (!a)
		return;
	/* Each source has a budget of its own; each local user too. */
	fail_n(a, "198.51.100.1", CFG_AUTH_FAIL_BURST, 0);
	CHECK(!within(a, "198.51.100.1", 0));
	CHECK(within(a, "198.51.100.10", 0));
	fail_n(a, "unix:uid=1000", CFG_AUTH_FAIL_BURST, 0);
	CHECK(!within(a, "unix:uid=1000", 0));
	CHECK(within(a, "unix:uid=1001", 0));
	CHECK(within(a, "unix:uid=100", 0));
	admit_free(a);
}

void test_server_admit_summary(void)
{
	struct admit *a = admit_new();
	struct admit_summary sum;
	int64_t t = 5000;

	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(admit_summary_due(a) == 0);
	fail_n(a, "203.0.113.9", CFG_AUTH_FAIL_BURST, t);
	CHECK(admit_summary_due(a) == 0);                 /* all logged one by one */
	fail_n(a, "203.0.113.9", 1, t + 10);
	fail_n(a, "203.0.113.9", 24, t + 20);
	fail_n(a, "unix:uid=7", CFG_AUTH_FAIL_BURST + 2, t + 100);
	CHECK(admit_summary_due(a) == t + 10 + CFG_AUTH_SUMMARY_MS);
	CHECK(admit_summary_next(a, t + 9 + CFG_AUTH_SUMMARY_MS, &sum) == 0);
	CHECK(admit_summary_next(a, t + 10 + CFG_AUTH_SUMMARY_MS, &sum) == 1);
	CHECK_STR(sum.source, "203.0.113.9");
	CHECK(sum.count == 25 && sum.seconds == CFG_AUTH_SUMMARY_MS / 1000);
	CHECK(admit_summary_next(a, t + 10 + CFG_AUTH_SUMMARY_MS, &sum) == 0);
	/* The other source's line is due a little later. */
	CHECK(admit_summary_due(a) == t + 100 + CFG_AUTH_SUMMARY_MS);
	CHECK(admit_summary_next(a, t + 100 + CFG_AUTH_SUMMARY_MS, &sum) == 1);
	CHECK_STR(sum.source, "unix:uid=7");
	CHECK(sum.count == 2);
	CHECK(admit_summary_next(a, t + 100 + CFG_AUTH_SUMMARY_MS, &sum) == 0);
	CHECK(admit_summary_due(a) == 0);
	/* Still over budget: a new interval, a new line. */
	fail_n(a, "203.0.113.9", 3, t + 20000);
	CHECK(admit_summary_due(a) == t + 20000 + CFG_AUTH_SUMMARY_MS);
	CHECK(admit_summary_next(a, t + 20000 + CFG_AUTH_SUMMARY_MS, &sum) == 1 && sum.count == 3);
	admit_free(a);
}

void test_server_admit_preauth(void)
{
	struct admit *a = admit_new();
	char src[32];
	unsigned n;
	int h1, h2, h, i, overflow = 0;

	CHECK(a != NULL);
	if (!a)
		return;
	h1 = admit_preauth_open(a, "10.1.1.1", 0, &n);
	CHECK(n == 1);
	h2 = admit_preauth_open(a, "10.1.1.1", 0, &n);
	CHECK(n == 2 && h2 == h1);
	CHECK(admit_preauth_open(a, "10.1.1.2", 0, &n) != h1 && n == 1);
	admit_preauth_close(a, h2);
	CHECK(admit_preauth_open(a, "10.1.1.1", 0, &n) == h1 && n == 2);
	/* Thousands of other sources failing do not evict a source that
	 * holds connections: its count survives. */
	for (i = 0; i < 20 * CFG_AUTH_TABLE; i++) {
		snprintf(src, sizeof(src), "10.2.%d.%d", i / 250, i % 250);
		fail_n(a, src, 1, i + 1);
	}
	CHECK(admit_preauth_open(a, "10.1.1.1", 0, &n) == h1 && n == 3);
	/* More sources holding connections than the table has slots: the
	 * rest share the overflow, and its count still goes up and down. */
	for (i = 0; i < 2 * CFG_AUTH_TABLE; i++) {
		snprintf(src, sizeof(src), "10.3.%d.%d", i / 250, i % 250);
		h = admit_preauth_open(a, src, 0, &n);
		overflow += h == CFG_AUTH_TABLE;
	}
	CHECK(overflow >= CFG_AUTH_TABLE);
	h = admit_preauth_open(a, "10.4.0.1", 0, &n);
	CHECK(h == CFG_AUTH_TABLE && n == (unsigned)overflow + 1);
	admit_preauth_close(a, h);
	CHECK(admit_preauth_open(a, "10.4.0.2", 0, &n) == CFG_AUTH_TABLE && n == (unsigned)overflow + 1);
	admit_preauth_close(a, -1);                 /* no handle: nothing */
	admit_free(a);
}

void test_server_admit_proxies(void)
{
	static const char *good[] = { "127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32", "unix:uid=33",
				      "0.0.0.0/0" };
	static const char *bad[] = { "", "10.0.0.0/33", "::1/129", "1.2.3.4:80", "[::1]", "host",
				     "unix:uid=", "unix:uid=x", "10.0.0.0/", "10.0.0.0/-1", "1.2.3" };
	struct admit_proxy p[4];
	char out[ADMIT_SOURCE_MAX];
	struct http_span one[1], two[2];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(admit_proxy_parse(good[i], &p[0]) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(admit_proxy_parse(bad[i], &p[0]) < 0);
		if (admit_proxy_parse(bad[i], &p[0]) == 0)
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
	}
	CHECK(admit_proxy_parse("127.0.0.1", &p[0]) == 0);
	CHECK(admit_proxy_parse("10.0.0.0/8", &p[1]) == 0);
	CHECK(admit_proxy_parse("2001:db8::/32", &p[2]) == 0);
	CHECK(admit_proxy_parse("unix:uid=33", &p[3]) == 0);
	CHECK(admit_proxy_match(p, 4, "127.0.0.1") && admit_proxy_match(p, 4, "10.200.3.4"));
	CHECK(!admit_proxy_match(p, 4, "127.0.0.2") && !admit_proxy_match(p, 4, "11.0.0.1"));
	CHECK(admit_proxy_match(p, 4, "[2001:db8:ffff::1]") && !admit_proxy_match(p, 4, "[2001:db9::1]"));
	CHECK(admit_proxy_match(p, 4, "unix:uid=33") && !admit_proxy_match(p, 4, "unix:uid=34"));
	CHECK(!admit_proxy_match(p, 0, "127.0.0.1"));

#define XFF(s) ((struct http_span){ (s), sizeof(s) - 1 })
	/* Not from a trusted proxy: the header means nothing. */
	one[0] = XFF("203.0.113.5");
	admit_forwarded(p, 4, "192.0.2.1", one, 1, out);
	CHECK_STR(out, "192.0.2.1");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "203.0.113.5");
	admit_forwarded(p, 4, "127.0.0.1", one, 0, out);           /* no header */
	CHECK_STR(out, "127.0.0.1");
	/* The rightmost address no trusted proxy stands for; what the client
	 * wrote itself further left is not believed. */
	one[0] = XFF("6.6.6.6, 203.0.113.5 , 10.1.2.3");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "203.0.113.5");
	two[0] = XFF("6.6.6.6, 198.51.100.7");
	two[1] = XFF("10.9.9.9");
	admit_forwarded(p, 4, "unix:uid=33", two, 2, out);
	CHECK_STR(out, "198.51.100.7");
	one[0] = XFF("[2001:db8::1]:4711, 2001:0db9::0001");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "[2001:db9::1]");
	one[0] = XFF("198.51.100.7:5555");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "198.51.100.7");
	/* Garbage ends the walk at the last hop that was vouched for. */
	one[0] = XFF("198.51.100.7, unknown");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "127.0.0.1");
	one[0] = XFF("unknown, 10.1.1.1");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "10.1.1.1");
	one[0] = XFF("198.51.100.7,");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "127.0.0.1");
	one[0] = XFF("unix:uid=0");
	admit_forwarded(p, 4, "127.0.0.1", one, 1, out);
	CHECK_STR(out, "127.0.0.1");
#undef XFF
}

/* A token of the reference format with its entry. */
static void make_token(char tok[TOKEN_LEN + 1], struct token_entry *e, const char *name,
		       enum token_role role)
{
	CHECK(token_generate(tok) == 0);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->role = role;
	sha256(tok, TOKEN_LEN, e->hash);
}

void test_server_admit_token(void)
{
	struct token_entry ents[2];
	struct token_db db = { ents, 2 };
	const struct token_entry *e;
	char agent[TOKEN_LEN + 1], op[TOKEN_LEN + 1], other[TOKEN_LEN + 1], bad[TOKEN_LEN + 1];
	struct token_entry unused;

	memset(ents, 0, sizeof(ents));
	make_token(agent, &ents[0], "web1", ROLE_AGENT);
	make_token(op, &ents[1], "alice", ROLE_OPERATOR);
	make_token(other, &unused, "gone", ROLE_AGENT);

	CHECK(admit_token(&db, agent, ROLE_AGENT, &e) == NULL && e == &ents[0]);
	CHECK(admit_token(&db, op, ROLE_OPERATOR, &e) == NULL && e == &ents[1]);
	CHECK_STR(admit_token(&db, op, ROLE_AGENT, &e), "operator tokens cannot connect as agents");
	CHECK(e == &ents[1]);
	CHECK_STR(admit_token(&db, agent, ROLE_OPERATOR, &e), "agent tokens cannot be used as operators");
	CHECK_STR(admit_token(&db, other, ROLE_AGENT, &e), "unknown or revoked token");
	CHECK(e == NULL);
	CHECK_STR(admit_token(&db, "abc", ROLE_AGENT, &e), "invalid token format");
	CHECK(e == NULL);
	memcpy(bad, agent, sizeof(bad));
	bad[TOKEN_LEN - 1] = bad[TOKEN_LEN - 1] == '0' ? '1' : '0';   /* checksum off */
	CHECK_STR(admit_token(&db, bad, ROLE_AGENT, &e), "invalid token checksum (mistyped token?)");
	CHECK(e == NULL);
}

void test_server_version_ok(void)
{
	static const struct {
		const char *accept, *version;
		int ok;
	} v[] = {
		{ "0.1", "0.1.0", 1 }, { "0.1", "0.1", 1 }, { "0.1", "0.1.0a", 1 },
		{ "0.1", "0.10.0", 0 }, { "0.1", "0.2.0", 0 }, { "0.1", "", 0 },
		{ "1", "1.4.2", 1 }, { "1", "10.0", 0 }, { "1", "2.0", 0 },
		{ "*", "anything", 1 }, { "0.1, 1.2", "1.2.3", 1 }, { "0.1,1.2", "1.3", 0 },
		{ "  1.2  ,0.9", "1.2.0", 1 }, { "0.9,", "0.9.1", 1 }, { "", "0.1.0", 0 },
		{ ",,", "0.1.0", 0 }, { "0.1.0", "0.1", 0 }, { "1.2, *", "9", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int got = server_version_ok(v[i].accept, v[i].version);

		CHECK(got == v[i].ok);
		if (got != v[i].ok)
			fprintf(stderr, "  accept '%s' version '%s'\n", v[i].accept, v[i].version);
	}
}
