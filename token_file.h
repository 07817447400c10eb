/* token_file.h - the pieces under token_db_load and token_db_save
 * (token_file.c), for `nestd token` (token_cmd.c), which holds one
 * directory descriptor and a lock from its load to its save. */
#ifndef NESTD_TOKEN_FILE_H
#define NESTD_TOKEN_FILE_H

#include <stddef.h>
#include "token.h"

struct stat;

/* path's directory into dir[dcap] ("." for a bare name) and *base its last
 * component; -1 when path names no file (empty, ends in '/', "."). */
int  token_path_split(const char *path, char *dir, size_t dcap, const char **base);
/* 0 when the directory dir (fstat'ed into st) may hold a token file: owned
 * by this user or root, writable by no one else.  -1 with the reason. */
int  token_dir_check(const char *dir, const struct stat *st, char *err, size_t errlen);
/* The directory opened (O_NOFOLLOW when nofollow) and checked: its
 * descriptor, or -1 with the reason in err and errno ENOENT when it does
 * not exist. */
int  token_dir_open(const char *dir, int nofollow, char *err, size_t errlen);
/* mkdir -p dir, each directory made 0700: 0, or -1 (errno). */
int  token_dir_make(const char *dir);
/* The token file base in dfd (path: its name in messages).  nofollow: a
 * symlink is refused (a writer's load: its save would replace the link). */
int  token_db_load_at(int dfd, const char *base, const char *path, int nofollow,
		      struct token_db *db, struct token_file_id *id, char *err, size_t errlen);
int  token_db_save_at(int dfd, const char *base, const char *path, const struct token_db *db,
		      char *err, size_t errlen);
/* Replaces dfd's file base with p[0..n), whole: a temp file beside it
 * (0600, O_EXCL, no symlink followed) written and synced, then renamed
 * over base.  0, or -1 with errno set and base as it was.  The server's
 * other state files are written the same way (server_state.c). */
int  token_file_replace_at(int dfd, const char *base, const char *p, size_t n);

/* The token file's directory dir (made, 0700, when missing; opened
 * without following a symlink and checked) into *dfd, and an exclusive
 * flock(2) on BASE.lock in it, waiting for it unless nonblock: the lock's
 * descriptor, or -1 with the reason in err (errno EWOULDBLOCK: another
 * writer holds it).  Every writer of the token file holds it from its
 * load to its save. */
int  token_lock(const char *dir, const char *base, int nonblock, int *dfd, char *err,
		size_t errlen);

/* Whole changes for a writer that must not wait (the server's API):
 * under the lock, taken without waiting, the file loaded, changed,
 * saved.  0 done; else one of these, with the reason in err. */
#define TOKEN_EDIT_ERROR   (-1)   /* unreadable, unsafe, not saved... */
#define TOKEN_EDIT_BUSY    (-2)   /* another writer holds the lock */
#define TOKEN_EDIT_EXISTS  (-3)   /* add: that name is taken */
#define TOKEN_EDIT_MISSING (-4)   /* remove: no token of that name and role */
/* Adds e (its hash, name, role, created, owner, scope as given). */
int  token_edit_add(const char *path, const struct token_entry *e, char *err, size_t errlen);
/* Removes the token named name if it has that role. */
int  token_edit_remove(const char *path, const char *name, enum token_role role, char *err,
		       size_t errlen);
/* Any other change: edit(db, arg) on the file as loaded, 0 to save it,
 * or a negative result (the reason in err is then edit's to give). */
int  token_edit(const char *path, int (*edit)(struct token_db *db, const void *arg),
		const void *arg, char *err, size_t errlen);

#endif
