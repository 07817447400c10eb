/* server_session.h - the dashboard's logins: an operator token exchanged
 * once for a session, so the token never sits in the page (item 9 of
 * issue 14; docs/PROTOCOL.md, "Sessions").
 *
 * A session is 32 random bytes the browser holds as an HttpOnly cookie,
 * 64 hex characters.  The server keeps only their SHA-256 (the sessions
 * file cannot be replayed), with the hash of the operator token it was
 * made from: a session is worth exactly what its token is worth now, its
 * scope included, and nothing once that token is revoked.  Sessions end
 * at their expiry (CFG_SESSION_TTL_S after the login), at a logout, or
 * when the table is full and they are the oldest.
 *
 * The sessions file, one a line:  SESSION-SHA256 TOKEN-SHA256 CREATED EXPIRES NAME
 * No I/O here: server_state.c reads and writes it. */
#ifndef NESTD_SERVER_SESSION_H
#define NESTD_SERVER_SESSION_H

#include <stddef.h>
#include "buf.h"
#include "config.h"

#define SESSION_ID_HEX 64    /* the cookie's value */

struct session {
	unsigned char id_hash[32];       /* SHA-256 of the cookie's value */
	unsigned char token_hash[32];    /* the operator token's stored hash */
	char name[TOKEN_NAME_MAX + 1];   /* the operator's name at login */
	long long created, expires;      /* epoch seconds */
};

struct sessions {
	struct session *s;
	int n;
	int dirty;
};

void sessions_init(struct sessions *ss);
void sessions_free(struct sessions *ss);
/* A new session for the token (its hash and name), lasting ttl seconds;
 * its cookie value into cookie (NUL-terminated).  0, or -1 (no random
 * bytes, out of memory). */
int  session_new(struct sessions *ss, const unsigned char token_hash[32], const char *name,
		 long long now, long long ttl, char cookie[SESSION_ID_HEX + 1]);
/* The live session whose cookie value is v[0..n), or NULL. */
const struct session *session_find(const struct sessions *ss, const char *v, size_t n,
				   long long now);
/* Ends that session: 1 if there was one. */
int  session_end(struct sessions *ss, const char *v, size_t n);
/* Ends every session made from that token; how many. */
int  session_end_token(struct sessions *ss, const unsigned char token_hash[32]);
/* Drops expired sessions; how many. */
int  sessions_expire(struct sessions *ss, long long now);

int  sessions_format(const struct sessions *ss, struct buf *out);
/* The lines that read (expired ones dropped); the number skipped. */
int  sessions_parse(struct sessions *ss, const char *text, size_t n, long long now);

#endif
