/* server_admit.h - who may try to come in: the per-address budget of
 * failed authentications (agents and operators share it) and the agent
 * versions this server accepts (docs/PROTOCOL.md, "Authentication").
 * Pure: the caller gives the time, nothing here reads a clock. */
#ifndef NESTD_SERVER_ADMIT_H
#define NESTD_SERVER_ADMIT_H

#include <stdint.h>
#include "token.h"

struct admit;

struct admit *admit_new(void);
void admit_free(struct admit *a);
/* Seconds the address of peer ("1.2.3.4:5678", "[::1]:5678", "unix:uid=N")
 * must wait before it may try again, 0 if it may now.  now: milliseconds
 * on any steady clock (loop_now()). */
int  admit_blocked(struct admit *a, const char *peer, int64_t now);
/* One failed authentication from peer's address. */
void admit_failed(struct admit *a, const char *peer, int64_t now);
/* Failed authentications since start-up (nestd_auth_failures_total). */
unsigned long long admit_failures(const struct admit *a);

/* Why tok (NUL-terminated) may not come in as role, or NULL when it may;
 * *e is its entry when the token is known, whatever its role, else NULL.
 * The reasons are the reference server's (docs/PROTOCOL.md,
 * "Authentication"). */
const char *admit_token(const struct token_db *db, const char *tok, enum token_role role,
			const struct token_entry **e);

/* 1 if version is accepted by the comma-separated prefixes in accept ("*"
 * takes any): "0.1.0a" is accepted by "0.1", "0.10.0" is not. */
int  server_version_ok(const char *accept, const char *version);

#endif
