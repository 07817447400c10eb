/* test_token_index.c - token_db_find with thousands of tokens: through
 * the index built at parse time every token is found and nothing else;
 * after an edit (add, remove) or on a copy of the array the answers stay
 * the same (the index is dropped or not used). */
#include <stdio.h>
#include <stdlib.h>
#include "t.h"
#include "sha256.h"
#include "buf.h"
#include "token.h"

void test_token_index_many(void);

#define NT 4000

static char toks[NT][TOKEN_LEN + 1];

static int all_found(const struct token_db *db, int upto)
{
	int i, bad = 0;
	char name[32];

	for (i = 0; i < upto; i++) {
		const struct token_entry *e = token_db_find(db, toks[i], TOKEN_LEN);

		snprintf(name, sizeof(name), "a%d", i);
		bad += !e || strcmp(e->name, name) != 0;
	}
	return bad == 0;
}

void test_token_index_many(void)
{
	struct token_db db, copy;
	struct buf text;
	char err[256], other[TOKEN_LEN + 1];
	unsigned char h[32];
	int i, k;

	buf_init(&text, 0);
	for (i = 0; i < NT; i++) {
		if (token_generate(toks[i]) < 0) {
			CHECK(!"token_generate");
			return;
		}
		sha256(toks[i], TOKEN_LEN, h);
		buf_printf(&text, "a%d agent ", i);
		for (k = 0; k < 32; k++)
			buf_printf(&text, "%02x", h[k]);
		buf_printf(&text, " 0\n");
	}
	CHECK(token_db_parse(text.p, text.len, "mem", &db, err, sizeof(err)) == 0 && db.n == NT);
	CHECK(all_found(&db, NT));
	token_generate(other);
	CHECK(token_db_find(&db, other, TOKEN_LEN) == NULL);
	sha256(toks[17], TOKEN_LEN, h);
	CHECK(token_db_find_hash(&db, h) == &db.e[17]);
	/* a copy of the array: the index is not its own */
	copy.e = malloc((size_t)db.n * sizeof(*db.e));
	copy.n = db.n;
	memcpy(copy.e, db.e, (size_t)db.n * sizeof(*db.e));
	CHECK(all_found(&copy, NT));
	free(copy.e);
	/* an edit drops the index; the walk gives the same answers */
	token_db_remove(&db, NT - 1);
	CHECK(all_found(&db, NT - 1) && token_db_find(&db, toks[NT - 1], TOKEN_LEN) == NULL);
	token_db_free(&db);
	CHECK(db.n == 0 && token_db_find(&db, toks[0], TOKEN_LEN) == NULL);
	buf_free(&text);
}
