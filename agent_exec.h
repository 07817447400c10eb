/* agent_exec.h - child processes watched from the event loop.
 *
 * Used by exec_command (/bin/sh -c) and by the service backends (systemctl,
 * rc-service: argv, never a shell).  A child runs in its own process group
 * with stdin from /dev/null, no other descriptor than 0, 1 and 2, and the
 * agent's environment minus its token variables, under a keeper process
 * that kills the group if the agent dies; stdout and stderr are captured
 * through non-blocking pipes up to a bound per stream, keeping the head
 * and the tail.  Nothing here blocks the loop except exec_mgr_free at
 * shutdown (and exec_start for as long as a fork and an exec take). */
#ifndef NESTD_AGENT_EXEC_H
#define NESTD_AGENT_EXEC_H

#include <stddef.h>
#include "buf.h"
#include "loop.h"


struct exec_mgr;
struct exec_child;

struct exec_result {
	int exit_code;                  /* -1 when a signal ended it */
	int signal;                     /* 0, or the signal that ended it */
	int timed_out;
	int truncated;                  /* either stream lost bytes */
	struct buf out, err;            /* head [+ marker + tail] */
	unsigned long long total_out, total_err;
	long long duration_ms;
};

/* r is valid during the call only. */
typedef void (*exec_done_fn)(void *arg, struct exec_result *r);

struct exec_mgr *exec_mgr_new(struct loop *l);
/* Shutdown: TERM every group, KILL what is left, reap everything. */
void exec_mgr_free(struct exec_mgr *m);
/* To be called when SIGCHLD arrives: reaps every exited child, including
 * orphaned grandchildren that the subreaper inherited. */
void exec_mgr_reap(struct exec_mgr *m);

/* Starts argv[0] (a path, or a name looked up in PATH).  timeout_ms 0: no
 * deadline.  NULL with the reason in err (the callback is then never
 * called); a program that cannot be executed is reported here too. */
struct exec_child *exec_start(struct exec_mgr *m, char *const argv[],
			      unsigned timeout_ms, size_t max_output,
			      exec_done_fn cb, void *arg, char *err, size_t errlen);
/* The result goes to cb(arg) instead: the child runs on, and its first
 * owner is free of it (an answer given before the tool was done). */
void exec_detach(struct exec_child *c, exec_done_fn cb, void *arg);
/* The result is not wanted any more: the callback will not be called; the
 * group gets SIGTERM, then SIGKILL, and is reaped in the background. */
void exec_cancel(struct exec_mgr *m, struct exec_child *c);
/* The token variables (NESTD_TOKEN, CLIENT_TOKEN) out of the environment,
 * their values overwritten in place first: unsetenv alone only drops the
 * pointer, and the bytes stay readable in /proc/PID/environ, which every
 * child of the same user can read.  The strings must be writable (those
 * of execve and env_add are). */
void exec_env_scrub(void);
/* Children whose result is still wanted. */
int exec_running(const struct exec_mgr *m);
/* Children not reaped yet, cancelled ones included (tests, shutdown). */
int exec_alive(const struct exec_mgr *m);

#endif
