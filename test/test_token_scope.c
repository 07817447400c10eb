/* test_token_scope.c - token_scope.h's contract: the scope syntax (every
 * part, every refusal), the canonical text it prints and reads back, and
 * owners. */
#include <stdio.h>
#include <string.h>

#include "../token_scope.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* text parsed: 0 and the canonical form in out, or -1 and err. */
static int canon(const char *text, char *out, size_t cap, char *err, size_t errlen)
{
	struct token_scope s;

	err[0] = '\0';
	if (token_scope_parse(text, strlen(text), &s, err, errlen) < 0) {
		out[0] = '\0';
		return -1;
	}
	token_scope_format(&s, out, cap);
	return 0;
}

void test_token_scope_parse(void)
{
	static const struct { const char *in, *out; } good[] = {
		{ "agents=web*", "agents=web*" },
		{ "can=read", "can=read" },
		{ "agents=owner:slack:U1,web*;can=read,control", "agents=owner:slack:U1,web*;can=read,control" },
		/* parts in either order; kinds in one order; repeats dropped */
		{ "can=exec,read;agents=a,b,a", "agents=a,b;can=read,exec" },
		{ "can=control,control", "can=control" },
		/* everything: the unscoped form, "" */
		{ "can=all", "" },
		{ "can=read,control,exec,tokens", "" },
		{ "can=read,control,exec", "can=read,control,exec" },
		{ "can=tokens", "can=tokens" },
		{ "agents=*", "" },
		{ "agents=web*,*;can=all", "" },
		{ "agents=*;can=read", "can=read" },
		{ "can=all,read;agents=x", "agents=x" },
		{ "agents=?eb-0.1_x", "agents=?eb-0.1_x" },
		{ "agents=owner:alice@example.org,owner:a+b", "agents=owner:alice@example.org,owner:a+b" },
		{ "agents=**", "agents=**" },
	};
	static const struct { const char *in, *why; } bad[] = {
		{ "", "empty" },
		{ "agents", "is not agents=" },
		{ "agents=", "at least one selector" },
		{ "can=", "at least one kind" },
		{ "can=write", "unknown kind" },
		{ "can=READ", "unknown kind" },
		{ "can=read,", "unknown kind" },
		{ "agents=a,,b", "empty agent selector" },
		{ "agents=a,", "empty agent selector" },
		{ "agents=a b", "neither" },
		{ "agents=a/b", "neither" },
		{ "agents=owner:", "neither" },       /* owner: with nobody: a glob with ':' */
		{ "agents=owner:-x", "neither" },
		{ "agents=owner:a*", "neither" },     /* owners match exactly */
		{ "agents=owner:a,b;can=read;", "is not agents=" },
		{ ";can=read", "is not agents=" },
		{ "agents=a;agents=b", "given twice" },
		{ "can=read;can=exec", "given twice" },
		{ "owner=x", "is not agents=" },
		{ "Agents=a", "is not agents=" },
		{ " agents=a", "is not agents=" },
	};
	char out[CFG_SCOPE_MAX + 1], again[CFG_SCOPE_MAX + 1], err[300], big[CFG_SCOPE_MAX + 50];
	struct token_scope s;
	size_t i;
	int ok;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ok = canon(good[i].in, out, sizeof(out), err, sizeof(err)) == 0 &&
		     strcmp(out, good[i].out) == 0;
		/* The canonical form reads back to itself. */
		if (ok && out[0])
			ok = canon(out, again, sizeof(again), err, sizeof(err)) == 0 && !strcmp(out, again);
		if (!ok)
			fprintf(stderr, "  good %zu: '%s' -> '%s' (%s), want '%s'\n", i, good[i].in, out,
				err, good[i].out);
		CHECK(ok);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok = canon(bad[i].in, out, sizeof(out), err, sizeof(err)) == -1 &&
		     strncmp(err, "scope: ", 7) == 0 && strstr(err, bad[i].why) != NULL;
		if (!ok)
			fprintf(stderr, "  bad %zu: '%s' -> '%s'\n", i, bad[i].in, err);
		CHECK(ok);
	}
	/* A failure leaves the scope unscoped, never half-filled. */
	s.can = 0;
	CHECK(token_scope_parse("agents=a;can=bogus", 18, &s, err, sizeof(err)) == -1 &&
	      token_scope_is_all(&s));

	/* Bounds: CFG_SCOPE_SELECTORS_MAX selectors, CFG_SCOPE_MAX bytes. */
	strcpy(big, "agents=");
	for (i = 0; i < CFG_SCOPE_SELECTORS_MAX; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%sa%zu", i ? "," : "", i);
	CHECK(canon(big, out, sizeof(out), err, sizeof(err)) == 0 && strcmp(out, big) == 0);
	strcat(big, ",zz");
	CHECK(canon(big, out, sizeof(out), err, sizeof(err)) == -1 && strstr(err, "more than"));
	memset(big, 'a', sizeof(big));
	memcpy(big, "agents=", 7);
	big[CFG_SCOPE_MAX + 1] = '\0';
	CHECK(canon(big, out, sizeof(out), err, sizeof(err)) == -1 && strstr(err, "longer than"));
	/* The n bytes only: what follows is not read. */
	CHECK(token_scope_parse("can=read;garbage", 8, &s, err, sizeof(err)) == 0 &&
	      s.can == TOKEN_CAN_READ && s.agents[0] == '\0');
	/* A NUL inside is a bad character, not an end. */
	CHECK(token_scope_parse("agents=a\0b", 10, &s, err, sizeof(err)) == -1);
}

void test_token_scope_owner_kinds(void)
{
	char k[64];
	struct token_scope s;

	CHECK(token_owner_valid("slack:U0123ABCD", 15));
	CHECK(token_owner_valid("alice", 5));
	CHECK(token_owner_valid("alice@example.org", 17));
	CHECK(token_owner_valid("a+b.c_d-e:f", 11));
	CHECK(!token_owner_valid("", 0));
	CHECK(!token_owner_valid("-alice", 6));
	CHECK(!token_owner_valid("a b", 3));
	CHECK(!token_owner_valid("a,b", 3));
	CHECK(!token_owner_valid("a;b", 3));
	CHECK(!token_owner_valid("a=b", 3));
	CHECK(!token_owner_valid("a*", 2));
	CHECK(!token_owner_valid("caf\xc3\xa9", 5));
	CHECK(token_owner_valid("oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo", TOKEN_OWNER_MAX));
	CHECK(!token_owner_valid("ooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo", TOKEN_OWNER_MAX + 1));
	CHECK(token_glob_valid("web*", 4));
	CHECK(!token_glob_valid("", 0));
	CHECK(!token_glob_valid("a:b", 3));

	token_scope_kinds(TOKEN_CAN_READ, k, sizeof(k));
	CHECK_STR(k, "read");
	token_scope_kinds(TOKEN_CAN_EXEC | TOKEN_CAN_READ, k, sizeof(k));
	CHECK_STR(k, "read,exec");
	token_scope_kinds(TOKEN_CAN_ALL, k, sizeof(k));
	CHECK_STR(k, "read,control,exec,tokens");
	token_scope_all(&s);
	CHECK(token_scope_is_all(&s) && s.can == TOKEN_CAN_ALL);
	token_scope_format(&s, k, sizeof(k));
	CHECK_STR(k, "");
}
