/* server_audit.h - the audit log (--audit-log FILE): one JSON object per
 * line, one write(2) per line, for every failed authentication within its
 * source's budget (and one summary per interval over it), every agent that
 * comes or goes and every command that reached an agent. */
#ifndef NESTD_SERVER_AUDIT_H
#define NESTD_SERVER_AUDIT_H

#include <stddef.h>
#include "buf.h"

struct audit_log;
struct jw;

/* One command's end, as the router saw it. */
struct audit_command {
	const char *op, *address;    /* who asked, from where */
	const char *agent, *command, *id;
	const char *payload;         /* the command's payload JSON, or NULL */
	const char *outcome;         /* "ok", "error", "timeout", "agent_gone", "late_ok"... */
	int status;                  /* what the asker answered (the API: HTTP status); 0 none */
	const char *error;           /* or NULL */
	long long duration_ms;
};

/* Opens path for appending (0600); "" gives a log that writes nothing.
 * NULL with the reason in err. */
struct audit_log *audit_open(const char *path, char *err, size_t errlen);
void audit_close(struct audit_log *a);
/* Opens the path again and writes there from now on (after logrotate has
 * moved the file away: SIGHUP).  On failure the old file stays in use and
 * err says why: -1.  0 also for a log that writes nothing. */
int audit_reopen(struct audit_log *a, char *err, size_t errlen);
/* Each writes one line; a NULL or closed log writes nothing. */
/* address: the connection's; source: whom it was charged to, when that is
 * another (the client a trusted proxy named), else NULL. */
void audit_auth_failure(struct audit_log *a, const char *kind, const char *address,
			const char *source, const char *reason);
/* count failures from source over its budget in the last seconds, not
 * written one by one. */
void audit_auth_summary(struct audit_log *a, const char *source, unsigned count, int seconds);
void audit_agent(struct audit_log *a, const char *event, const char *agent,
		 const char *address, const char *version, const char *why);
void audit_command(struct audit_log *a, const struct audit_command *c);
/* An operator's action on the server itself, not a command: "login",
 * "logout", "token_minted", "token_revoked", "agent_forgotten"; agent and
 * detail may be NULL. */
void audit_action(struct audit_log *a, const char *event, const char *op, const char *address,
		  const char *agent, const char *detail);
/* A token made or reset from a face (Slack's Manage Token): its agent and
 * who asked ("slack:U…"). */
void audit_token(struct audit_log *a, const char *event, const char *agent, const char *op);

/* Every line (its JSON object, without the newline) is also handed to fn,
 * with or without a file: the fleet's audit stream (server_auditq.c). */
typedef void (*audit_tap_fn)(void *arg, const char *line, size_t n);
void audit_set_tap(struct audit_log *a, audit_tap_fn fn, void *arg);

/* The latest lines of the log at path whose "agent" and "operator" are
 * agent and op (NULL: any), at most limit, oldest first, as elements of
 * the JSON array open in w; it reads at most CFG_AUDIT_TAIL_MAX bytes back
 * from the end.  0, or -1 with the reason (server_audit_tail.c). */
int audit_tail(const char *path, const char *agent, const char *op, int limit, struct jw *w,
	       char *err, size_t errlen);

#endif
