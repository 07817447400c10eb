/* server_gate.h - failed authentications as the server's events: each is
 * charged to its source (server_admit.c decides what that costs), logged
 * and audited one by one while the source is within its budget, and over
 * it counted into one summary line per source per CFG_AUTH_SUMMARY_MS.
 * Agents (server.c) and operators (server_api.c) come through here; a
 * valid token never does. */
#ifndef NESTD_SERVER_GATE_H
#define NESTD_SERVER_GATE_H

#include "server_admit.h"

struct audit_log;
struct loop;
struct gate;

/* a and audit (NULL: none) must outlive the gate. */
struct gate *gate_new(struct loop *l, struct admit *a, struct audit_log *audit);
void gate_free(struct gate *g);

/* One failed authentication.  kind: "agent" or "operator"; peer: the
 * connection's address; source: whom it is charged to (admit_source's
 * form, or the client a trusted proxy named); why: the reason the peer
 * is told; detail: for the log only, or NULL.  *v: how to answer. */
void gate_failed(struct gate *g, const char *kind, const char *peer, const char *source,
		 const char *why, const char *detail, struct admit_verdict *v);

#endif
