/* env.h - the two edits of the environment nestd makes, on environ
 * itself: libc's setenv/unsetenv keep a record of the strings they
 * allocated (musl: setenv, putenv and unsetenv, ~1 KB of the static
 * binaries) for what nestd does once, at start. */
#ifndef NESTD_ENV_H
#define NESTD_ENV_H

/* kv ("NAME=VALUE", which must outlive the process's use of it: static
 * storage) added to the environment; for a NAME not in it yet (the caller
 * has checked with getenv).  0, or -1 when memory runs out (unchanged). */
int env_add(char *kv);
/* Every NAME=... entry out of the environment, the others in order. */
void env_drop(const char *name);

#endif
