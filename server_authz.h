/* server_authz.h - who may do what: the one model every face of the
 * server applies (the HTTP API and through it ctl and the dashboard; the
 * Slack face and the cluster call the same functions).  Pure functions
 * of a scope (token_scope.h), an agent's name and owner, a command's name:
 * no I/O, no state.
 *
 * A face holds the asker's scope: an operator token's (token_entry.scope),
 * or one it builds (a Slack user: authz_scope_owned_by; --slack-admins:
 * NULL).  Then:
 *   - an agent the scope does not reach is invisible: the face answers as
 *     if it were not connected (the API: 404, and absent from the list);
 *   - a command of a kind the scope does not allow is refused with the
 *     reason authz_command_allowed gives (the API: 403);
 * and every action is audited with who asked (server_audit.h). */
#ifndef NESTD_SERVER_AUTHZ_H
#define NESTD_SERVER_AUTHZ_H

#include <stddef.h>
#include "token_scope.h"

/* The kind of a command: TOKEN_CAN_READ (lists and details),
 * TOKEN_CAN_CONTROL (signals and service actions) or TOKEN_CAN_EXEC
 * (exec_command, and every name not classified here: a command this table
 * does not know needs the most powerful kind). */
unsigned authz_command_kind(const char *command);
/* 1 when command is in the table (not given EXEC for being unknown). */
int authz_command_known(const char *command);

/* 1 when the scope reaches the agent (owner "" when it has none: only
 * globs can reach it).  A NULL scope reaches every agent. */
int authz_agent_visible(const struct token_scope *scope, const char *name, const char *owner);
/* NULL when the scope may send command; else why not (for the 403 and the
 * audit log), written into why[n].  A NULL scope allows everything. */
const char *authz_command_allowed(const struct token_scope *scope, const char *command,
				  char *why, size_t n);

/* The same for the server's own actions on an agent in reach, which are
 * not commands: forgetting an offline agent needs TOKEN_CAN_CONTROL;
 * minting, listing and revoking agent tokens need TOKEN_CAN_TOKENS, and
 * reach only the tokens of agents the scope reaches (by name, or by the
 * owner the token has or is minted with).  what names the action in the
 * reason ("revoking a token"). */
const char *authz_action_allowed(const struct token_scope *scope, unsigned kind,
				 const char *what, char *why, size_t n);

/* A scope reaching the agents owned by owner, every kind of command (a
 * Slack user's, for their own machines).  0, or -1 for an invalid owner. */
int authz_scope_owned_by(struct token_scope *scope, const char *owner);

/* 1 if name matches the glob pat[0..n): '*' any run (empty too), '?' one
 * character, everything else itself. */
int authz_glob(const char *pat, size_t n, const char *name);

#endif
