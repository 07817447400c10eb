/* cfg.h - command-line options and the `key = value` config file, read by
 * one table so a key in the file and a flag always mean the same thing.
 *
 * Flags follow getopt_long conventions: --name VALUE, --name=VALUE, options
 * and operands in any order, "--" ends options.  The file is read first and
 * flags override it. */
#ifndef NESTD_CFG_H
#define NESTD_CFG_H

#include <stddef.h>

struct cfg_opt {
	const char *name;    /* long name without "--"; also the file's key */
	/* bytes, not ints: a row is then 16 bytes, not 24 (three tables) */
	unsigned char has_arg;  /* 0: flag (file value: true/false/yes/no/1/0) */
	unsigned char id;       /* the caller's, 1 to 255 */
	unsigned char file_ok;  /* may appear in the config file */
};

/* from_file: 1 while the config file is being applied. Returns 0 or -1
 * with a reason in err. */
typedef int (*cfg_set_fn)(void *ctx, int id, const char *val, int from_file,
			  char *err, size_t errlen);

/* Parses argv[0..argc) (argv[0] is not skipped: pass argv+1).  Operands
 * are collected in pos (at most maxpos).  -1 with a one-line reason on a
 * usage error.  "-h"/"--help" sets *help. */
int cfg_parse_args(int argc, char **argv, const struct cfg_opt *opts, cfg_set_fn set,
		   void *ctx, char **pos, int maxpos, int *npos, int *help,
		   char *err, size_t errlen);
/* Finds --config FILE / --config=FILE in argv without consuming anything. */
const char *cfg_find_config(int argc, char **argv);
/* Applies a config file.  Unknown keys are errors with the line number. */
int cfg_load_file(const char *path, const struct cfg_opt *opts, cfg_set_fn set,
		  void *ctx, char *err, size_t errlen);

/* Number parsing shared by the roles: seconds (fractions allowed) into ms,
 * and byte counts with optional K/M/G suffix. */
int cfg_parse_seconds(const char *s, long long *ms);
int cfg_parse_bytes(const char *s, unsigned long long *v);
int cfg_parse_bool(const char *s, int *v);

#endif
