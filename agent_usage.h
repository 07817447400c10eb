/* agent_usage.h - the original bot's two Nest commands (docs/PROTOCOL.md,
 * "obtain_user_usages", "get_port"): the user's resources and storage,
 * and a TCP port free right now.
 *
 * On Nest, Hack Club's `nest` tool answers both (`nest resources`, `nest
 * get_port`); agent_cmd.c runs it when it exists and hands its output
 * here.  Everywhere else nestd says it itself: memory from the user's
 * cgroup v2, the process count, the working directory's file system; and
 * storage is always nestd's own walk, what `du -b --max-depth=1 -c` of the
 * working directory prints, bounded in time and entries, never following
 * a symlink.  The parsers take text (cgroup files, /proc/self/cgroup,
 * mountinfo) so that the tests can feed them any. */
#ifndef NESTD_AGENT_USAGE_H
#define NESTD_AGENT_USAGE_H

#include <stddef.h>
#include "json.h"

#define USAGE_UNKNOWN  (-1LL)     /* a figure that could not be read */
#define USAGE_NO_LIMIT (-2LL)     /* a cgroup limit of "max" */

/* ---- du ---- */

struct du_row {
	unsigned long long bytes;
	char *path;               /* DIR/NAME, or DIR itself */
};

struct du_result {
	struct du_row *rows;      /* the folders at depth 1, as du prints them
				   * (each once it is done), then DIR itself */
	size_t n, cap;
	unsigned long long total; /* DIR's: du -c's last line */
	unsigned long long entries;
	long long ms;             /* the walk took */
	int complete;             /* 0: stopped by the time or entry bound */
	unsigned unreadable;      /* folders that could not be read (their own
				   * size counted, their contents not) */
	unsigned skipped;         /* folders past the depth bound, a loop of bind
				   * mounts, or a kernel file system (/proc,
				   * /sys...) mounted below (their own size counted) */
};

struct du_limits {
	long long ms;             /* CFG_USAGE_WALK_MS */
	unsigned long long entries;   /* CFG_USAGE_WALK_ENTRIES */
	int depth;                /* CFG_USAGE_WALK_DEPTH */
};

/* Walks dir like `du -b --max-depth=1 -c`: apparent sizes (st_size) of
 * everything below it, directories included, each inode with several
 * links once; symlinks are counted as themselves and never followed.
 * 0 (partial results flagged in r), or -1 with err when dir itself cannot
 * be read.  usage_du_free afterwards in both cases. */
int  usage_du(const char *dir, const struct du_limits *lim, struct du_result *r,
	      char *err, size_t errlen);
void usage_du_free(struct du_result *r);

/* ---- cgroup v2 ---- */

struct cg_usage {
	long long mem_used, mem_limit;     /* bytes, USAGE_UNKNOWN, USAGE_NO_LIMIT */
	long long pids, pids_limit;
	char dir[512];                     /* what was read, "" if none */
};

/* A cgroup file's value: a number, USAGE_NO_LIMIT for "max", else
 * USAGE_UNKNOWN. */
long long usage_parse_value(const char *text, size_t n);
/* The cgroup v2 path ("0::PATH" line) of /proc/self/cgroup's text into
 * out: 0, or -1 when there is none (cgroup v1 only). */
int  usage_cgroup_self(const char *text, size_t n, char *out, size_t cap);
/* Where cgroup2 is mounted, from /proc/self/mountinfo's text: 0, or -1. */
int  usage_cgroup_mount(const char *text, size_t n, char *out, size_t cap);
/* memory.current, memory.max, pids.current, pids.max of dir.  up: also
 * the smaller memory.max and pids.max of dir's ancestors up to top (the
 * limits that hold for dir). */
void usage_cgroup_read(const char *dir, const char *top, struct cg_usage *u);

/* ---- the replies ---- */

struct usage_opts {
	const char *cgroup;       /* --cgroup, or NULL: the user's own */
	const char *proc_root;    /* for the process count without a cgroup */
	int original;             /* the original's shape */
};

/* obtain_user_usages' payload into w.  nest: `nest resources`' output,
 * or NULL for nestd's own summary.  0, or -1 with err. */
int  usage_write(const struct usage_opts *o, const char *nest, size_t nest_len,
		 struct jw *w, char *err, size_t errlen);
/* get_port's payload: the text "Port N is free to use!" (nest: `nest
 * get_port`'s own, else for a port nestd finds free); in nestd's shape
 * {"port":N,"text":...}.  0, or -1 with err. */
int  usage_write_port(int original, const char *nest, size_t nest_len, struct jw *w,
		      char *err, size_t errlen);
/* A TCP port nobody listens on or uses now (bound and let go); -1 with err. */
int  usage_free_port(char *err, size_t errlen);

#endif
