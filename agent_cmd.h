/* agent_cmd.h - the agent's command set (docs/PROTOCOL.md, "Commands"):
 * one record per command and one call to run it.  agent.c owns each
 * struct cmd from its message's arrival to its reply's departure and
 * decides when replies go; the modules behind this header decide what a
 * command does:
 *   agent_cmd.c   the command's name, the allow/deny policy, dispatch,
 *                 payload checks, and the reply built in the record
 *   agent_proc.c  processes from /proc (list, details, signals)
 *   agent_sys.c   obtain_system_info
 *   agent_usage.c obtain_user_usages, get_port (the original's Nest commands)
 *   agent_svc.c   service backends (systemd, systemd --user, OpenRC, none)
 *   agent_exec.c  child processes: exec_command and the service tools,
 *                 watched from the event loop, never blocking it. */
#ifndef NESTD_AGENT_CMD_H
#define NESTD_AGENT_CMD_H

#include <stddef.h>
#include "agent_cfg.h"
#include "agent_svc.h"
#include "buf.h"
#include "loop.h"
#include "proto.h"

enum cmd_kind {
	CMD_NONE = -1,               /* no command this agent knows */
	CMD_ALL_PROC, CMD_PROC_INFO, CMD_LIST_SVC, CMD_SVC_INFO, CMD_SYS_INFO,
	CMD_KILL, CMD_PAUSE, CMD_RESUME,
	CMD_START_SVC, CMD_STOP_SVC, CMD_RESTART_SVC, CMD_RELOAD_SVC,
	CMD_EXEC, CMD_USAGE, CMD_GET_PORT, CMD_COUNT
};

#define CMD_NAME_MAX 64              /* room for any command's name, NUL included */
#define CMD_ID_INLINE 48             /* ids shorter than this need no allocation */

struct agent_cmds;                   /* opaque: policy, backend, children */
struct exec_child;

/* One command.  The agent hands it to agent_cmd_run zeroed but for the
 * fields marked "agent" and reply, which may keep the memory (len 0) of
 * an earlier command's: a record and its buffer are used again rather
 * than allocated per command.  The agent takes it back, reply and all, as
 * soon as the reply has gone (or the connection that asked has, after
 * agent_cmd_forget). */
struct cmd {
	struct cmd *next;            /* agent: its queue, oldest first */
	char *id;                    /* agent: the message's "id" as raw JSON
				      * string content, NUL-terminated, or NULL */
	int original;                /* agent: answer in the original's shapes
				      * (docs/PROTOCOL.md, "Two reply shapes") */
	unsigned svc_wait_ms;        /* agent: a service action waits for its job
				      * at most this long; 0: --exec-timeout */

	char name[CMD_NAME_MAX];     /* the message's command name, read once;
				      * "unknown" when it has none to read */
	enum cmd_kind kind;
	const struct nest_msg *msg;  /* the message, while agent_cmd_run reads
				      * its payload; NULL once answered or once
				      * its child runs */
	struct agent_cmds *set;      /* the set running its child ... */
	struct exec_child *child;    /* ... exec_command's or a service tool's */
	char unit[SVC_UNIT_MAX];     /* service commands: the backend's unit name */
	struct loop_src answer_by;   /* an answer due before its child is done (an
				      * OpenRC action in the original's shape) */
	int answer_armed;

	int answered;                /* reply holds the whole reply message */
	struct buf reply;            /* command_response or _error, bounded by
				      * the agent -> server message limit */
	char idbuf[CMD_ID_INLINE];   /* agent: where a short id is kept; the last
				      * member: a reused record is cleared up to it */
};

/* Called exactly once per command that is not forgotten, possibly before
 * agent_cmd_run returns, with cmd->answered set and cmd->reply ready to
 * send.  cmd is the agent's again: it may free it. */
typedef void (*agent_answered_fn)(struct cmd *cmd, void *arg);

/* Checks cfg (bad --allow/--deny names, unknown backend...): NULL with a
 * one-line reason in err.  Installs what the loop needs (SIGCHLD watch,
 * PR_SET_CHILD_SUBREAPER).  cfg's strings must outlive the set. */
struct agent_cmds *agent_cmd_init(struct loop *l, const struct agent_cfg *cfg,
				  agent_answered_fn answered, void *arg,
				  char *err, size_t errlen);
/* The command names this agent answers (policy applied), as a JSON array,
 * and the backend's name ("systemd", "openrc", ...), for the hello message. */
void agent_cmd_describe(const struct agent_cmds *c, struct buf *commands_json,
			const char **backend);
/* Runs the command message m (status "command") as cmd: reads its name
 * into cmd->name and cmd->kind, applies the policy, checks the payload and
 * starts it.  Every outcome, a refusal included, is a reply through
 * answered().  m need not outlive the call. */
void agent_cmd_run(struct agent_cmds *c, struct cmd *cmd, const struct nest_msg *m);
/* The connection that asked is gone: answered() will not be called for
 * cmd, and its child, if any, is killed (group TERM, then KILL) and
 * reaped.  The agent may free cmd right after. */
void agent_cmd_forget(struct agent_cmds *c, struct cmd *cmd);
/* Shutdown: kills and reaps every child (no answered() for them); frees c. */
void agent_cmd_free(struct agent_cmds *c);

#endif
