/* server_peer.h - the server's peers: one record per connection (an agent,
 * an operator's HTTP connection, or one still authenticating), kept in one
 * list with the counts the metrics show.  The lowest of the server's
 * rooms: it calls none of the others.  The peers still PEER_NEW are also
 * on a list of their own, which the server searches when a source (or the
 * whole server) runs out of room for them.  server.c moves a peer between
 * kinds; the router and the API only read them. */
#ifndef NESTD_SERVER_PEER_H
#define NESTD_SERVER_PEER_H

#include <stdint.h>
#include "config.h"
#include "server_admit.h"
#include "token.h"

enum peer_kind {
	PEER_NEW,        /* handshake or authentication in progress */
	PEER_AGENT,      /* authenticated agent */
	PEER_REPLACED,   /* an agent being dropped (replaced, revoked) */
	PEER_HTTP,       /* an operator's HTTP connection */
};

struct conn;
struct router_cmd;
struct server;

struct peer {
	struct server *srv;
	struct conn *c;
	enum peer_kind kind;     /* peers_set_kind */
	char name[TOKEN_NAME_MAX + 1];
	/* agents: from their token entry at authentication, kept current by
	 * every reload of the token file: its owner ("" none), and its hash,
	 * which says whether the token is still there (server.c) */
	char owner[TOKEN_OWNER_MAX + 1];
	unsigned char token_hash[TOKEN_HASH_LEN];
	char version[CFG_VERSION_MAX + 1];
	char hostname[CFG_HOSTNAME_MAX + 1];
	char backend[CFG_BACKEND_NAME_MAX + 1];
	char *commands;          /* JSON array the agent announced, or NULL: an
				  * original client (docs/PROTOCOL.md, "Two
				  * reply shapes") */
	long long uid;           /* the uid it runs as, as it announced; -1 unknown */
	long long since;         /* epoch seconds */
	struct peer *next, **pprev;   /* pprev: the pointer that points here */
	struct peer *hnext;      /* PEER_AGENT: the next in its name's bucket */
	/* PEER_NEW only: the list of peers not yet authenticated */
	struct peer *pa_next, **pa_pprev;
	int preauth;             /* admit_preauth_open's handle while counted, else -1 */
	int64_t born;            /* loop_now() at accept */
	/* whom failed authentications are charged to (admit_forwarded) */
	char source[ADMIT_SOURCE_MAX];
	/* a refusal held back (over budget: answered slowly): its retry_after */
	int refuse_retry;
	/* agents: commands in flight, oldest first (server_router.c's) */
	struct router_cmd *cmd_head, *cmd_tail;
	int inflight;
	/* operators: the command whose answer this connection waits for */
	struct router_cmd *waiting;
	/* operators: the last Bearer token this connection showed that named
	 * an operator, and its hash (server_web.c); wiped by peer_free */
	struct peer_bearer *bearer;
	unsigned gzip_ok:1;      /* operators: this request takes gzip */
};

struct peer_bearer {
	char token[TOKEN_LEN];
	unsigned char hash[TOKEN_HASH_LEN];
};

struct peers {
	struct peer *head;
	struct peer *preauth;    /* the PEER_NEW ones, linked by pa_next */
	int nconn;               /* peers in the list */
	int nagents;             /* of them, PEER_AGENT */
	/* The PEER_AGENTs by name (chained through peer.hnext), so that
	 * routing a command costs the same with 100,000 agents as with one.
	 * Grown as agents come; freed when the last one goes. */
	struct peer **bucket;
	size_t nbucket;          /* a power of two, or 0 */
	struct peer_cursor *cursors;   /* walks in progress */
};

/* A walk over the agents that outlives any of them: peers_unlink moves
 * every cursor standing on the peer it takes out to the next one.  Peers
 * that come later (they go to the head) are not visited.  For answers
 * written as they go (server_api.c's GET /api/clients). */
struct peer_cursor {
	struct peer *at;               /* the next peer to look at, or NULL */
	struct peer_cursor *next;      /* in peers.cursors */
};

void peers_cursor_open(struct peers *ps, struct peer_cursor *cur);
void peers_cursor_close(struct peers *ps, struct peer_cursor *cur);
/* The next PEER_AGENT, or NULL at the end. */
struct peer *peers_cursor_next(struct peer_cursor *cur);
void peers_add(struct peers *ps, struct peer *p);
/* Takes p out of the list (and the counts); the caller frees it. */
void peers_unlink(struct peers *ps, struct peer *p);
void peers_set_kind(struct peers *ps, struct peer *p, enum peer_kind kind);
/* The authenticated agent of that name, or NULL. */
struct peer *peers_find_agent(const struct peers *ps, const char *name);
/* The first PEER_AGENT at or after p (peers_next_agent(ps->head) starts). */
struct peer *peers_next_agent(struct peer *p);
/* 1 if the agent may be sent command: it announced it, or, announcing no
 * list (the original client), it is one of the original's commands. */
int  peer_offers(const struct peer *p, const char *command);
/* The same for an announced list as the agent sent it (a JSON array of
 * names), NULL for none: what a card of an agent elsewhere holds. */
int  commands_offer(const char *commands, const char *command);
void peer_free(struct peer *p);

#endif
