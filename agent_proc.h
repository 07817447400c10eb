/* agent_proc.h - processes straight from /proc: the list, one process's
 * details, and signals (kill, pause, resume).  No psutil, no NSS: user
 * names come from /etc/passwd, parsed here and cached. */
#ifndef NESTD_AGENT_PROC_H
#define NESTD_AGENT_PROC_H

#include <stddef.h>
#include <sys/types.h>
#include "json.h"


struct proc_ctx;

/* NULL with the reason in err (no /proc). */
struct proc_ctx *proc_new(char *err, size_t errlen);
void proc_free(struct proc_ctx *p);
/* For tests: read users from another file than /etc/passwd. */
void proc_set_passwd(struct proc_ctx *p, const char *path);
/* Reads processes from another procfs than /proc (--proc-root: the host's
 * mounted in a container, a fixture): DIR/PID/{stat,cmdline,status}, the
 * owner of DIR/PID, DIR/stat's btime.  Signals still go to this kernel's
 * pids.  0, or -1 with err (the old root stays). */
int proc_set_root(struct proc_ctx *p, const char *root, char *err, size_t errlen);

/* obtain_all_process_info: a JSON array into w.  Processes that vanish
 * while being read are skipped.  0, or -1 with err. */
int proc_list(struct proc_ctx *p, struct jw *w, char *err, size_t errlen);
/* The same in the original's shape: [{"pid":N,"name":S}]. */
int proc_list_brief(struct proc_ctx *p, struct jw *w, char *err, size_t errlen);
/* obtain_process_info: one object.  -1 "no such process: PID". */
int proc_info(struct proc_ctx *p, int pid, struct jw *w, char *err, size_t errlen);
/* Sends sig to pid, refusing pid 1 and the agent itself.  0, or -1 with
 * err ("no such process: 42", "permission denied: ..."). */
int proc_signal(struct proc_ctx *p, int pid, int sig, char *err, size_t errlen);

/* "SIGTERM", "term", "TERM", "15" -> 15; -1 if unknown. */
int proc_signal_parse(const char *s);
/* 15 -> "SIGTERM"; real-time and unknown numbers get "SIGRTMIN+n"/"SIGn"
 * written into tmp. */
const char *proc_signal_name(int sig, char *tmp, size_t n);

/* One process as read from stat (+ cmdline, + the directory's owner). */
struct pinfo {
	int pid, ppid;
	char state;
	char comm[128];
	unsigned uid;
	unsigned long long flags, utime, stime, start, vsize, rss_pages;
	long long threads;
	char *cmd;           /* NUL-separated argv as read */
	size_t cmdlen;
};

/* Parses the text of /proc/PID/stat (b[0..n), no NUL needed) into pi's
 * stat fields: ppid, state, comm (cut to fit; it may hold spaces and
 * parentheses, so the last ')' ends it), flags, utime, stime, threads,
 * start, vsize, rss_pages.  Pure: no I/O (the fuzz target's way in).
 * 0, or -1 if it does not look like a stat line. */
int proc_stat_parse(struct pinfo *pi, const char *b, size_t n);

/* User name for uid (the number as text when unknown), written into out. */
const char *proc_user_name(struct proc_ctx *p, unsigned uid, char *out, size_t n);

#endif
