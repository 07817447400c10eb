/* server_admit.h - who may try to come in (docs/PROTOCOL.md,
 * "Admission"): per source, the budget of failed authentications (agents
 * and operators share it), how many of its connections are not yet
 * authenticated, and the failures over budget that wait for their summary
 * line; which sources X-Forwarded-For is believed from (--trusted-proxy);
 * which tokens and agent versions are accepted.
 *
 * A source is a peer's address without its port ("10.0.0.1", "[::1]"),
 * "unix:uid=N" on a Unix socket, or the client a trusted proxy names.
 * Nothing here refuses a valid token: the budget only decides how a
 * failure is answered and logged.  Pure: the caller gives the time
 * (milliseconds on any steady clock, loop_now()); nothing here reads a
 * clock, a socket or the log. */
#ifndef NESTD_SERVER_ADMIT_H
#define NESTD_SERVER_ADMIT_H

#include <stddef.h>
#include <stdint.h>
#include "http.h"
#include "token.h"

#define ADMIT_SOURCE_MAX 48   /* a source's text, NUL included */

struct admit;

struct admit *admit_new(void);
void admit_free(struct admit *a);

/* The source of a connection from peer ("1.2.3.4:5678", "[::1]:5678",
 * "unix:uid=N"): the address without its port. */
void admit_source(const char *peer, char out[ADMIT_SOURCE_MAX]);

/* ---- failed authentications ---- */

/* How to answer one failure. */
struct admit_verdict {
	int over;          /* the source had spent its budget before this one */
	int retry_after;   /* seconds until the source's next failure is within budget */
	int delay_ms;      /* hold the answer this long (over budget: CFG_AUTH_SLOW_MS) */
	int log;           /* 1: log and audit it; 0: counted into the source's summary */
	int spent;         /* within budget, and the budget is now spent */
};

/* One failed authentication from source, charged to its budget of
 * CFG_AUTH_FAIL_BURST, refilled one per CFG_AUTH_FAIL_REFILL_MS. */
void admit_failed(struct admit *a, const char *source, int64_t now, struct admit_verdict *v);
/* Failures charged since start-up (nestd_auth_failures_total). */
unsigned long long admit_failures(const struct admit *a);

/* Failures over budget are not logged one by one: each source's count is
 * summarised once per CFG_AUTH_SUMMARY_MS. */
struct admit_summary {
	char source[ADMIT_SOURCE_MAX];   /* "other sources" for the overflow */
	unsigned count;
	int seconds;                     /* since its first unlogged failure */
};
/* When the next summary is due; 0: none is pending. */
int64_t admit_summary_due(const struct admit *a);
/* One source whose summary is due at now into *out (and its count reset):
 * 1, or 0 when none is due.  Call until 0. */
int  admit_summary_next(struct admit *a, int64_t now, struct admit_summary *out);

/* ---- connections not yet authenticated ---- */

/* One more connection from source not yet authenticated; *count: how many
 * the source has now, this one included.  Returns the handle that
 * admit_preauth_close takes (the source's slot stays while it counts). */
int  admit_preauth_open(struct admit *a, const char *source, int64_t now, unsigned *count);
/* That connection authenticated, became an HTTP client, or went. */
void admit_preauth_close(struct admit *a, int handle);

/* ---- trusted proxies (--trusted-proxy) ---- */

struct admit_proxy {
	unsigned char addr[16];
	int family;        /* 4, 6, or 0 for a Unix peer (uid) */
	int bits;          /* prefix length; uid for family 0 */
};

/* "ADDR", "ADDR/BITS" (IPv4 or IPv6) or "unix:uid=N"; 0, or -1. */
int  admit_proxy_parse(const char *s, struct admit_proxy *p);
/* 1 if source (admit_source's form) is one of the n proxies. */
int  admit_proxy_match(const struct admit_proxy *p, int n, const char *source);
/* The source failures are charged to: the direct source, unless it is a
 * trusted proxy; then the rightmost X-Forwarded-For address (of the
 * header lines xff[0..nxff), in order) that is not itself a trusted proxy,
 * walking left past trusted ones.  An entry that is not an address stops
 * the walk at the hop before it.  out: admit_source's form. */
void admit_forwarded(const struct admit_proxy *p, int n, const char *source,
		     const struct http_span *xff, int nxff, char out[ADMIT_SOURCE_MAX]);

/* ---- tokens and versions ---- */

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
