/* agent_cmd.h - the agent's command set (PRODUCT.md's table), behind one
 * call.  agent.c owns the connection, the ordering of replies and the job
 * records; the modules behind this header own what a command does:
 *   agent_cmd.c   dispatch by name, the allow/deny policy, payload checks
 *   agent_proc.c  processes from /proc (list, details, signals)
 *   agent_sys.c   obtain_system_info
 *   agent_svc.c   service backends (systemd, systemd --user, OpenRC, none)
 *   agent_exec.c  child processes: exec_command and the service tools,
 *                 watched from the event loop, never blocking it. */
#ifndef NESTD_AGENT_CMD_H
#define NESTD_AGENT_CMD_H

#include <stddef.h>
#include "loop.h"
#include "proto.h"

enum svc_backend { SVC_AUTO, SVC_SYSTEMD, SVC_SYSTEMD_USER, SVC_OPENRC, SVC_NONE };

struct agent_cfg {
	enum svc_backend services;     /* SVC_AUTO is resolved by agent_cmd_init */
	const char *systemctl;         /* path, default "systemctl" looked up in PATH */
	const char *rc_service;        /* default "rc-service" */
	const char *rc_status;         /* default "rc-status" */
	unsigned exec_timeout_s;       /* cap on exec_command's timeout (60) */
	size_t max_output;             /* per stream (1 MiB) */
	int max_exec;                  /* concurrent exec_command (4) */
	const char *allow;             /* comma list of commands/groups, NULL: default */
	const char *deny;              /* comma list, NULL: none */
};

/* Called exactly once per command, possibly before agent_cmd_run returns.
 * ok=1: payload_json[0..n) is the reply's payload (a JSON value);
 * ok=0: error is the human-readable reason (payload_json is NULL). */
typedef void (*agent_done_fn)(void *job, int ok, const char *payload_json,
			      size_t n, const char *error);

struct agent_cmds;   /* opaque: policy, backend, children in flight */

/* Validates cfg (bad --allow/--deny names, unknown backend...): NULL with a
 * one-line reason in err.  Installs what the loop needs (SIGCHLD watch,
 * PR_SET_CHILD_SUBREAPER). */
struct agent_cmds *agent_cmd_init(struct loop *l, const struct agent_cfg *cfg,
				  char *err, size_t errlen);
/* The command names this agent answers (policy applied), as a JSON array,
 * and the backend's name ("systemd", "openrc", ...), for the hello message. */
void agent_cmd_describe(const struct agent_cmds *c, struct buf *commands_json,
			const char **backend);
/* Runs the command message m (status "command").  name is m's message.
 * m need not outlive the call: what a running command needs is copied. */
void agent_cmd_run(struct agent_cmds *c, const struct nest_msg *m,
		   void *job, agent_done_fn done);
/* The connection that asked is gone: a job's done() must not be called any
 * more.  Its child, if any, is killed (group TERM, then KILL) and reaped. */
void agent_cmd_forget(struct agent_cmds *c, void *job);
/* SIGCHLD arrived: reap children (and orphaned grandchildren).  agent_cmd_init
 * registers this for SIGCHLD with loop_signals; a caller that needs other
 * signals too (loop_signals keeps one callback per loop) registers its own
 * callback for all of them after init and forwards SIGCHLD here. */
void agent_cmd_sigchld(struct agent_cmds *c);
/* Shutdown: kills and reaps every child; frees c. */
void agent_cmd_free(struct agent_cmds *c);

#endif
