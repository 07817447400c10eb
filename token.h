/* token.h - agent and operator tokens, in the reference format:
 * 64 lowercase hex characters (32 random bytes), '.', then the first 8 hex
 * characters of SHA-256 of those 64 characters.  The server stores only the
 * SHA-256 of the whole token, with a name and a role. */
#ifndef NESTD_TOKEN_H
#define NESTD_TOKEN_H

#include <stddef.h>
#include <time.h>
#include "config.h"

enum token_role { ROLE_AGENT, ROLE_OPERATOR };

#define TOKEN_HASH_LEN 32    /* SHA-256 of the whole token, as stored */

struct token_entry {
	char name[TOKEN_NAME_MAX + 1];
	enum token_role role;
	unsigned char hash[TOKEN_HASH_LEN];
	long long created;
};

struct token_db {
	struct token_entry *e;
	int n;
};

/* Results of token_check. */
#define TOKEN_OK        0
#define TOKEN_BAD_FORM -1   /* not 64 hex, '.', 8 hex */
#define TOKEN_BAD_SUM  -2   /* well formed, checksum does not match */

int  token_generate(char out[TOKEN_LEN + 1]);
int  token_check(const char *t, size_t n);
int  token_name_valid(const char *name);
const char *token_role_name(enum token_role r);

/* Missing file: empty db, 0.  Bad lines: -1 with the line number in err. */
int  token_db_load(const char *path, struct token_db *db, char *err, size_t errlen);
/* Writes atomically: temp file (0600), fsync, rename, fsync of the dir. */
int  token_db_save(const char *path, const struct token_db *db, char *err, size_t errlen);
void token_db_free(struct token_db *db);
/* Finds the entry whose hash matches token; compares against every entry
 * in constant time.  NULL if none. */
const struct token_entry *token_db_find(const struct token_db *db, const char *token, size_t n);
const struct token_entry *token_db_by_name(const struct token_db *db, const char *name);

/* The default state directory: /var/lib/nestd for root, else
 * $XDG_STATE_HOME/nestd or ~/.local/state/nestd. */
void token_default_state_dir(char *out, size_t n);

/* `nestd token ...` */
int  token_main(int argc, char **argv);

/* Reads a token from a file: its first word, or in the .env form (the
 * original client's ~/.env.nest-management-bot) its CLIENT_TOKEN, else
 * NESTD_TOKEN (token_from_text); at most CFG_TOKEN_FILE_MAX bytes are read.
 * Refuses files others can read.  0, or -1 with a reason. */
int  token_read_file(const char *path, char *out, size_t cap, char *err, size_t errlen);

/* The token in a token file's text (the rules above); 0, or -1. */
int  token_from_text(const char *text, size_t n, char *out, size_t cap);

#endif
