/* token_scope.h - an operator token's scope (which agents it sees, which
 * kinds of command it may send) and an agent token's owner, as text: the
 * `--scope`/`--owner` of `nestd token new` and the scope=/owner= fields of
 * the token file.  Parsing and printing only; what a scope allows is
 * decided in one place above this room (server_authz.h), for every face.
 *
 * The scope syntax (one word: no blanks), every part optional:
 *
 *   SCOPE = PART [";" PART]
 *   PART  = "agents=" SEL *("," SEL)      which agents it sees (default: all)
 *         | "can=" KIND *("," KIND)       which commands it sends (default: all)
 *   SEL   = "owner:" OWNER                the agents whose token has that owner
 *         | GLOB                          agent names; "*" any run, "?" one character
 *   KIND  = "read" | "control" | "exec" | "tokens" | "all"
 *
 * e.g. agents=owner:slack:U1,web*;can=read,control.  A part may appear
 * once; a selector "*" stands for every agent.  An OWNER is 1 to
 * TOKEN_OWNER_MAX of [A-Za-z0-9._:@+-], not starting with '-' (so
 * "slack:U0123ABCD" and "alice@example.org" are owners). */
#ifndef NESTD_TOKEN_SCOPE_H
#define NESTD_TOKEN_SCOPE_H

#include <stddef.h>
#include "config.h"

/* The kinds of command (which command is which: server_authz.c). */
#define TOKEN_CAN_READ     1u   /* lists and details */
#define TOKEN_CAN_CONTROL  2u   /* signals and service actions */
#define TOKEN_CAN_EXEC     4u   /* exec_command, and any command not classified */
#define TOKEN_CAN_TOKENS   8u   /* mint, list and revoke the tokens of agents in
				 * reach (the API's /api/tokens; server_authz.h) */
#define TOKEN_CAN_ALL      15u

/* A parsed scope.  Unscoped (what every token without a scope has) is
 * can == TOKEN_CAN_ALL and agents "". */
struct token_scope {
	unsigned can;                      /* TOKEN_CAN_* bits, never 0 */
	/* "" for every agent, else the selectors in their canonical text:
	 * SEL,SEL,... as given, no "*", no repeats */
	char agents[CFG_SCOPE_MAX + 1];
};

void token_scope_all(struct token_scope *s);
int  token_scope_is_all(const struct token_scope *s);
/* The n bytes at text as a scope: 0, or -1 with a reason in err (that
 * starts "scope: ").  *s is unscoped after a failure. */
int  token_scope_parse(const char *text, size_t n, struct token_scope *s, char *err, size_t errlen);
/* The canonical text that token_scope_parse reads back to the same scope:
 * "" when unscoped.  Fits in CFG_SCOPE_MAX + 1 bytes. */
void token_scope_format(const struct token_scope *s, char *out, size_t cap);
/* "read", "control", "exec", "tokens" for one bit; for several, e.g.
 * "read,control". */
void token_scope_kinds(unsigned can, char *out, size_t cap);

int  token_owner_valid(const char *s, size_t n);
/* 1 if s[0..n) may be a selector's glob: 1 to TOKEN_NAME_MAX of a token
 * name's characters and '*', '?'. */
int  token_glob_valid(const char *s, size_t n);

#endif
