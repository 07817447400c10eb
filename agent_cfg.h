/* agent_cfg.h - the command set's share of the agent's options: what
 * agent_cmd.c and the service backends (agent_svc.c) need, and nothing of
 * the connection.  agent_opts.c fills it from the command line, the config
 * file and the environment; it lives in its own header so that the modules
 * below agent_cmd.c can read it without looking up at agent_cmd.h. */
#ifndef NESTD_AGENT_CFG_H
#define NESTD_AGENT_CFG_H

#include <stddef.h>

enum svc_backend { SVC_AUTO, SVC_SYSTEMD, SVC_SYSTEMD_USER, SVC_OPENRC, SVC_NONE };

/* Zero (or NULL) in any field means its default.  The strings are not
 * copied: they must outlive the command set (agent_opts owns them). */
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
	const char *proc_root;         /* --proc-root: the procfs to read, NULL: /proc */
	const char *cgroup;            /* --cgroup: the cgroup v2 directory whose
					* memory and pids figures obtain_user_usages
					* shows, NULL: the agent's own */
};

#endif
