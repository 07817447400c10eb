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
/* The token file base in dfd (path: its name in messages).  nofollow: a
 * symlink is refused (a writer's load: its save would replace the link). */
int  token_db_load_at(int dfd, const char *base, const char *path, int nofollow,
		      struct token_db *db, struct token_file_id *id, char *err, size_t errlen);
int  token_db_save_at(int dfd, const char *base, const char *path, const struct token_db *db,
		      char *err, size_t errlen);

#endif
