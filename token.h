/* token.h - agent and operator tokens, in the reference format:
 * 64 lowercase hex characters (32 random bytes), '.', then the first 8 hex
 * characters of SHA-256 of those 64 characters.  The server stores only the
 * SHA-256 of the whole token, with a name, a role, and an agent's owner or
 * an operator's scope (token_scope.h).
 *
 *   token.c       the token format, the token file's text (parse, format),
 *                 lookups
 *   token_file.c  the token file on disk: load, atomic save, the checks of
 *                 its directory, change detection; token_read_file
 *   token_cmd.c   `nestd token new|list|revoke`
 *
 * The token file: UTF-8 text, one entry a line, fields separated by blanks:
 *
 *   NAME ROLE SHA256-HEX [CREATED] [owner=WHO] [scope=SCOPE]
 *
 * NAME as token_name_valid; ROLE agent or operator; the SHA-256 of the
 * whole token in 64 lowercase hex digits; CREATED epoch seconds (digits);
 * owner= only on agent lines, scope= only on operator lines
 * (token_scope.h), each at most once.  Lines starting with '#' (after
 * blanks) and blank lines are skipped; CRLF endings are read as LF.  A line
 * may be at most CFG_TOKEN_LINE_MAX bytes and the file CFG_TOKEN_FILE_MAX.
 * Two entries with one name, or with one token, are refused: the file is
 * taken whole or not at all, and the reason names the line.  Files written
 * before owners and scopes existed read as before: agents without an
 * owner, operators unscoped. */
#ifndef NESTD_TOKEN_H
#define NESTD_TOKEN_H

#include <stddef.h>
#include <time.h>
#include "buf.h"
#include "config.h"
#include "token_scope.h"

enum token_role { ROLE_AGENT, ROLE_OPERATOR };

#define TOKEN_HASH_LEN 32    /* SHA-256 of the whole token, as stored */

struct token_entry {
	char name[TOKEN_NAME_MAX + 1];
	enum token_role role;
	unsigned char hash[TOKEN_HASH_LEN];
	long long created;
	char owner[TOKEN_OWNER_MAX + 1];   /* agent tokens: who owns the agent; "" none */
	struct token_scope scope;          /* operator tokens: what they may do;
					    * unscoped for agent tokens */
};

struct token_db {
	struct token_entry *e;
	int n;
};

/* What tells one version of the token file from another (the file is
 * replaced whole, so a new inode at the least); exists 0 when it is missing. */
struct token_file_id {
	int exists;
	unsigned long long dev, ino, size;
	long long mtime_ns, ctime_ns;
};

/* Results of token_check. */
#define TOKEN_OK        0
#define TOKEN_BAD_FORM -1   /* not 64 hex, '.', 8 hex */
#define TOKEN_BAD_SUM  -2   /* well formed, checksum does not match */

int  token_generate(char out[TOKEN_LEN + 1]);
int  token_check(const char *t, size_t n);
int  token_name_valid(const char *name);
const char *token_role_name(enum token_role r);

/* The file's text text[0..n) into db (which it initializes): 0, or -1 with
 * "ORIGIN:LINE: why" in err and db empty. */
int  token_db_parse(const char *text, size_t n, const char *origin, struct token_db *db,
		    char *err, size_t errlen);
/* The text token_db_parse reads back to db (a comment line first). */
int  token_db_format(const struct token_db *db, struct buf *out);
/* One entry's line, as the file holds it (and the fleet's token store,
 * one line a key). */
int  token_entry_format(const struct token_entry *e, struct buf *out);
/* Appends a copy of e; 0, or -1 out of memory.  Names are not checked. */
int  token_db_add(struct token_db *db, const struct token_entry *e);
/* Removes db->e[i]; later entries move down by one. */
void token_db_remove(struct token_db *db, int i);
void token_db_free(struct token_db *db);
/* Finds the entry whose hash matches token; compares against every entry
 * in constant time.  NULL if none. */
const struct token_entry *token_db_find(const struct token_db *db, const char *token, size_t n);
/* The entry stored with that hash (a session's, to see whether its token
 * is still there); NULL if none. */
const struct token_entry *token_db_find_hash(const struct token_db *db,
					     const unsigned char hash[TOKEN_HASH_LEN]);
const struct token_entry *token_db_by_name(const struct token_db *db, const char *name);

/* Reads the token file at path.  Missing: an empty db, 0.  Refused, with
 * the reason in err (-1, db empty): not a regular file, over
 * CFG_TOKEN_FILE_MAX, in a directory that others could change
 * (token_dir_check, token_file.h),
 * any bad line.  token_db_load_id also tells which version it read, or,
 * when it refused the file, which version it refused. */
int  token_db_load(const char *path, struct token_db *db, char *err, size_t errlen);
int  token_db_load_id(const char *path, struct token_db *db, struct token_file_id *id,
		      char *err, size_t errlen);
/* 1 when the file at path is not the version id describes (one stat). */
int  token_file_changed(const char *path, const struct token_file_id *id);
/* The version of the file at path now (exists 0 when stat fails). */
void token_file_stat(const char *path, struct token_file_id *id);
/* Writes atomically: temp file (0600, O_EXCL) in the file's directory,
 * write, fsync, rename over path, fsync of the directory.  The directory
 * is opened without following a symlink and checked (token_dir_check); a
 * failure (a full disk...) leaves the old file as it was. */
int  token_db_save(const char *path, const struct token_db *db, char *err, size_t errlen);

/* The default state directory: /var/lib/nestd for root and for the user
 * who owns that directory (a package's server user), else
 * $XDG_STATE_HOME/nestd or ~/.local/state/nestd. */
void token_default_state_dir(char *out, size_t n);

/* `nestd token ...` */
int  token_main(int argc, char **argv);

/* Reads a token from a file: its first line, surrounding whitespace
 * trimmed, or in the .env form (the original client's
 * ~/.env.nest-management-bot: KEY=VALUE lines) its CLIENT_TOKEN, else
 * NESTD_TOKEN (token_dotenv).  Refuses files others can read, and a
 * first word that does not fit in cap (or in CFG_TOKEN_READ_MAX) rather
 * than cutting it.  0, or -1 with a reason. */
int  token_read_file(const char *path, char *out, size_t cap, char *err, size_t errlen);

/* The token a .env form's text holds (CLIENT_TOKEN, else NESTD_TOKEN) into
 * out: 1; 0 when text is no .env form (no KEY=VALUE line); -1 when it is one
 * without a token that fits. */
int  token_dotenv(const char *text, size_t n, char *out, size_t cap);

#endif
