/* test_server_admit.c - the per-address budget of failed authentications
 * (burst, refill, cap and floor, which addresses share a budget), the
 * token verdicts and the version prefixes (server_admit.c).  The clock is
 * the tests' own: every call is given its time. */
#include <stdlib.h>
#include "../server_admit.h"
#include "../config.h"
#include "../sha256.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static void fail_n(struct admit *a, const char *peer, int n, int64_t now)
{
	while (n-- > 0)
		admit_failed(a, peer, now);
}

void test_server_admit_burst(void)
{
	struct admit *a = admit_new();

	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(admit_blocked(a, "10.0.0.1:4000", 0) == 0);        /* never seen */
	fail_n(a, "10.0.0.1:4000", CFG_AUTH_FAIL_BURST - 1, 0);
	CHECK(admit_blocked(a, "10.0.0.1:4000", 0) == 0);        /* one left */
	admit_failed(a, "10.0.0.1:4000", 0);
	/* Budget spent: one refill away, rounded up to whole seconds. */
	CHECK(admit_blocked(a, "10.0.0.1:4000", 0) == CFG_AUTH_FAIL_REFILL_MS / 1000 + 1);
	CHECK(admit_failures(a) == CFG_AUTH_FAIL_BURST);
	/* Another address is not touched. */
	CHECK(admit_blocked(a, "10.0.0.2:4000", 0) == 0);
	admit_free(a);
}

void test_server_admit_refill(void)
{
	struct admit *a = admit_new();
	int64_t t = 1000;

	CHECK(a != NULL);
	if (!a)
		return;
	fail_n(a, "192.0.2.7:1", CFG_AUTH_FAIL_BURST, t);
	CHECK(admit_blocked(a, "192.0.2.7:1", t) > 0);
	CHECK(admit_blocked(a, "192.0.2.7:1", t + CFG_AUTH_FAIL_REFILL_MS - 1) > 0);
	/* One interval later: exactly one more try. */
	t += CFG_AUTH_FAIL_REFILL_MS;
	CHECK(admit_blocked(a, "192.0.2.7:1", t) == 0);
	admit_failed(a, "192.0.2.7:1", t);
	CHECK(admit_blocked(a, "192.0.2.7:1", t) > 0);
	/* A long quiet spell refills to the burst, not beyond. */
	t += 3600 * 1000;
	CHECK(admit_blocked(a, "192.0.2.7:1", t) == 0);
	fail_n(a, "192.0.2.7:1", CFG_AUTH_FAIL_BURST - 1, t);
	CHECK(admit_blocked(a, "192.0.2.7:1", t) == 0);
	admit_failed(a, "192.0.2.7:1", t);
	CHECK(admit_blocked(a, "192.0.2.7:1", t) > 0);
	/* Hammering digs at most one burst deep: the wait is bounded. */
	fail_n(a, "192.0.2.7:1", 1000, t);
	CHECK(admit_blocked(a, "192.0.2.7:1", t) ==
	      (1 + CFG_AUTH_FAIL_BURST) * CFG_AUTH_FAIL_REFILL_MS / 1000 + 1);
	admit_free(a);
}

void test_server_admit_keys(void)
{
	struct admit *a = admit_new();

	CHECK(a != NULL);
	if (!a)
		return;
	/* The port does not make a new budget, for IPv4 and IPv6 alike. */
	fail_n(a, "198.51.100.1:1111", CFG_AUTH_FAIL_BURST, 0);
	CHECK(admit_blocked(a, "198.51.100.1:2222", 0) > 0);
	CHECK(admit_blocked(a, "198.51.100.10:1111", 0) == 0);
	fail_n(a, "[2001:db8::1]:1111", CFG_AUTH_FAIL_BURST, 0);
	CHECK(admit_blocked(a, "[2001:db8::1]:2222", 0) > 0);
	CHECK(admit_blocked(a, "[2001:db8::2]:1111", 0) == 0);
	/* Each local user has a budget of its own. */
	fail_n(a, "unix:uid=1000", CFG_AUTH_FAIL_BURST, 0);
	CHECK(admit_blocked(a, "unix:uid=1000", 0) > 0);
	CHECK(admit_blocked(a, "unix:uid=1001", 0) == 0);
	CHECK(admit_blocked(a, "unix:uid=100", 0) == 0);
	CHECK(admit_blocked(a, "unix", 0) == 0);
	CHECK(admit_failures(a) == 3 * CFG_AUTH_FAIL_BURST);
	admit_free(a);
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
