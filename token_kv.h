/* token_kv.h - `nestd token ... --cluster URL`: the fleet's token store,
 * the key-value bucket PREFIX_tokens of a NATS system with JetStream.  One
 * key a token, named like it; its value is the token file's line for it
 * (token_entry_format), so the store holds exactly what a file would: the
 * name, the role, the SHA-256 of the token (never the token), the
 * creation time, an owner or a scope.  The servers of the fleet follow the
 * bucket (server_tokens.c).
 *
 * A plain, blocking libnats connection (this is a short-lived command, not
 * the server's loop); built without libnats, every call says so. */
#ifndef NESTD_TOKEN_KV_H
#define NESTD_TOKEN_KV_H

#include <stddef.h>
#include "token.h"

/* Where the store is and how to log in; "" means unset. */
struct token_kv {
	const char *urls;
	const char *prefix;          /* the fleet's --cluster-prefix */
	const char *creds, *user_file, *token_file, *ca, *cert, *key;
	int replicas;                /* for a bucket made here; 0: by the URLs */
};

/* Adds e: 0; 1 when the store has a token of that name; -1 (err). */
int token_kv_new(const struct token_kv *k, const struct token_entry *e, char *err, size_t n);
/* Every token into db (initialized here): 0, or -1 (err). */
int token_kv_list(const struct token_kv *k, struct token_db *db, char *err, size_t n);
/* Removes NAME: 0; 1 when there is none; -1 (err). */
int token_kv_revoke(const struct token_kv *k, const char *name, char *err, size_t n);
/* Each entry of db that the store has no token of that name for: 0 with
 * the counts, or -1 (err) with what was done so far counted. */
int token_kv_import(const struct token_kv *k, const struct token_db *db, int *added,
		    int *kept, char *err, size_t n);

#endif
