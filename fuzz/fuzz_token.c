/* fuzz_token.c - libFuzzer target for the token file's parser and writer
 * (token.c), the scope syntax (token_scope.c) and the matcher that judges
 * scopes (server_authz.c).
 *
 * Properties checked (abort on violation, so the fuzzer reports them):
 *  - token_db_parse never crashes, leaks or reads out of bounds; a refusal
 *    names a line ("ORIGIN:N:") and leaves the db empty;
 *  - every entry it accepts is valid: name, role, owner only on agents and
 *    valid, a scope only on operators; no two entries share a name or a
 *    hash;
 *  - what token_db_format writes parses back to the same entries, and
 *    formatting that again gives the same bytes (a save never changes a
 *    file's meaning, and a second save changes nothing);
 *  - the whole input as a scope: parse, format and parse again agree, the
 *    canonical text fits CFG_SCOPE_MAX and never widens what it allows;
 *  - the matcher runs on every accepted scope and on the input as a glob,
 *    in bounded time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../server_authz.h"
#include "../token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

static int same_entry(const struct token_entry *a, const struct token_entry *b)
{
	return !strcmp(a->name, b->name) && a->role == b->role && a->created == b->created &&
	       !memcmp(a->hash, b->hash, TOKEN_HASH_LEN) && !strcmp(a->owner, b->owner) &&
	       a->scope.can == b->scope.can && !strcmp(a->scope.agents, b->scope.agents);
}

static void check_entries(const struct token_db *db)
{
	int i, k;

	for (i = 0; i < db->n; i++) {
		const struct token_entry *e = &db->e[i];

		MUST(token_name_valid(e->name));
		MUST(e->role == ROLE_AGENT || e->role == ROLE_OPERATOR);
		MUST(e->created >= 0);
		MUST(!e->owner[0] || (e->role == ROLE_AGENT && token_owner_valid(e->owner, strlen(e->owner))));
		MUST(e->role == ROLE_OPERATOR || token_scope_is_all(&e->scope));
		MUST(e->scope.can && !(e->scope.can & ~TOKEN_CAN_ALL));
		(void)authz_agent_visible(&e->scope, e->name, e->owner);
		{
			char why[300];

			MUST(!authz_command_allowed(&e->scope, "exec_command", why, sizeof(why)) ==
			     !!(e->scope.can & TOKEN_CAN_EXEC));
		}
		for (k = 0; k < i && db->n < 64; k++) {
			MUST(strcmp(db->e[k].name, e->name) != 0);
			MUST(memcmp(db->e[k].hash, e->hash, TOKEN_HASH_LEN) != 0);
		}
	}
}

static void file_round_trip(const char *s, size_t size)
{
	struct token_db db, back;
	struct buf a, b;
	char err[600];
	int i;

	if (token_db_parse(s, size, "f", &db, err, sizeof(err)) < 0) {
		MUST(db.n == 0 && db.e == NULL && (!strncmp(err, "f:", 2) || !strcmp(err, "out of memory")));
		return;
	}
	check_entries(&db);
	buf_init(&a, 0);
	buf_init(&b, 0);
	MUST(token_db_format(&db, &a) == 0);
	MUST(token_db_parse(a.p, a.len, "g", &back, err, sizeof(err)) == 0);
	MUST(back.n == db.n);
	for (i = 0; i < db.n; i++)
		MUST(same_entry(&db.e[i], &back.e[i]));
	MUST(token_db_format(&back, &b) == 0);
	MUST(a.len == b.len && !memcmp(a.p, b.p, a.len));
	buf_free(&a);
	buf_free(&b);
	token_db_free(&back);
	token_db_free(&db);
}

static void scope_round_trip(const char *s, size_t size)
{
	struct token_scope sc, back;
	char err[300], text[CFG_SCOPE_MAX + 1], again[CFG_SCOPE_MAX + 1];

	if (token_scope_parse(s, size, &sc, err, sizeof(err)) < 0) {
		MUST(token_scope_is_all(&sc) && !strncmp(err, "scope: ", 7));
		return;
	}
	token_scope_format(&sc, text, sizeof(text));
	MUST(strlen(text) <= size);   /* canonical is never longer */
	if (!text[0]) {
		MUST(token_scope_is_all(&sc));
	} else {
		MUST(token_scope_parse(text, strlen(text), &back, err, sizeof(err)) == 0);
		MUST(back.can == sc.can && !strcmp(back.agents, sc.agents));
		token_scope_format(&back, again, sizeof(again));
		MUST(!strcmp(text, again));
	}
	/* The matcher on names made of the input's first bytes. */
	{
		char name[TOKEN_NAME_MAX + 1];
		size_t n = size < TOKEN_NAME_MAX ? size : TOKEN_NAME_MAX;

		memcpy(name, s, n);
		name[n] = '\0';
		(void)authz_agent_visible(&sc, name, name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char name[TOKEN_NAME_MAX + 1];
	size_t n;

	file_round_trip(s, size);
	scope_round_trip(s, size);
	/* The input as a glob against its own tail. */
	n = size / 2 < TOKEN_NAME_MAX ? size / 2 : TOKEN_NAME_MAX;
	memcpy(name, s + size - n, n);
	name[n] = '\0';
	(void)authz_glob(s, size / 2 < 256 ? size / 2 : 256, name);
	return 0;
}
