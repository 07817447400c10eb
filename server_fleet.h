/* server_fleet.h - the fleet as one server knows it, and the rule that
 * keeps one session per agent across it.  No I/O: server_cluster.c feeds
 * it what the presence buckets say and acts on its verdicts.
 *
 * One table by agent name holds both what the agents bucket says about a
 * name (its latest entry, as the bucket's watch delivered it) and this
 * server's own session of that name, if it has one.  Beside it, the
 * fleet's servers with their boot ids and when each was last heard.
 *
 * The rule (docs/PROTOCOL.md, "More than one server"): a new session puts
 * its claim unconditionally, so the bucket's order of puts is the order of
 * admission and the later one wins; a server drops its session once the
 * bucket holds another session's claim with a higher sequence than its
 * own.  Claims that are only re-asserted (a refresh, or after the NATS
 * link was lost) are put with compare-and-set, so they never overwrite a
 * newer session; a session that never reached the bucket (admitted while
 * the link was down) is compared by the time it was admitted. */
#ifndef NESTD_SERVER_FLEET_H
#define NESTD_SERVER_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

struct nats_sub;
struct peer;

#define FLEET_ID_LEN 16           /* boot and session ids: hex digits */

/* A claim's identity as the agents bucket stores it. */
struct fleet_claim {
	char node[CFG_CLUSTER_NODE_MAX + 1];
	char boot[FLEET_ID_LEN + 1];  /* that server's run */
	char sid[FLEET_ID_LEN + 1];   /* that session */
	long long t_us;               /* when it was admitted, wall clock */
};

enum fleet_state {
	FLEET_NONE,                   /* our session is not in the bucket (yet) */
	FLEET_PENDING,                /* our claim is on its way */
	FLEET_HELD,                   /* the bucket holds our claim at rev */
};

struct fleet_agent {
	char name[TOKEN_NAME_MAX + 1];
	struct fleet_agent *hnext;    /* the table's chain */
	/* the bucket's latest entry for the name; seq 0: none seen */
	unsigned long long seq;
	int has_claim;                /* 0: none, or deleted */
	struct fleet_claim claim;
	char *info;                   /* the claim's JSON text, for listings */
	char owner[TOKEN_OWNER_MAX + 1];   /* the claim's agent owner, "" none */
	long long uid;                /* the uid the claim's agent runs as, -1 unknown */
	unsigned gen;                 /* the watch's snapshot that last saw it */
	/* this server's session of the name */
	struct peer *local;
	struct nats_sub *sub;         /* its command subject */
	enum fleet_state state;
	char sid[FLEET_ID_LEN + 1];
	long long t_us;
	unsigned long long rev;       /* FLEET_HELD: our claim's sequence */
	int64_t put_at;               /* loop_now() of our last put */
};

enum fleet_verdict {
	FLEET_KEEP,                   /* nothing to do */
	FLEET_DROP,                   /* a newer session holds the name: drop ours */
	FLEET_CLAIM,                  /* (re)claim with compare-and-set on a->seq */
};

struct fleet;

struct fleet *fleet_new(const char *node);
void fleet_free(struct fleet *f);
const char *fleet_node(const struct fleet *f);

struct fleet_agent *fleet_get(const struct fleet *f, const char *name);
/* Gets or creates (NULL on out of memory). */
struct fleet_agent *fleet_add(struct fleet *f, const char *name);
/* Forgets a if neither a claim nor a session is left of it. */
void fleet_tidy(struct fleet *f, struct fleet_agent *a);
size_t fleet_count(const struct fleet *f);
/* Every record, sorted by name, into a malloc'd array of *n; NULL when
 * out of memory (or empty). */
struct fleet_agent **fleet_sorted(const struct fleet *f, size_t *n);
/* Calls fn on every record; fn may not add or remove any. */
void fleet_each(const struct fleet *f, void (*fn)(struct fleet_agent *a, void *arg), void *arg);

/* ---- the servers ---- */
/* A heartbeat of node (run boot) at now_ms, with its agent count. */
void fleet_node_seen(struct fleet *f, const char *node, const char *boot, int64_t now_ms,
		     int agents);
/* Heard within CFG_CLUSTER_NODE_DEAD_MS, and (boot non-NULL) still that run. */
int  fleet_node_alive(const struct fleet *f, const char *node, const char *boot, int64_t now_ms);
/* Servers heard lately, this one included. */
int  fleet_nodes_alive(const struct fleet *f, int64_t now_ms);
/* A's claim counts: it is another server's, and that server is alive. */
int  fleet_remote_live(const struct fleet *f, const struct fleet_agent *a, int64_t now_ms);

/* ---- the rule ---- */
/* The watch delivered the bucket's entry seq for a->name: c, or (c NULL)
 * a deletion.  Records it; the verdict for our session. */
enum fleet_verdict fleet_on_entry(struct fleet_agent *a, unsigned long long seq,
				  const struct fleet_claim *c);
/* The bucket, read anew, has no value for a->name at all: it expired, or
 * the bucket itself was made anew (a NATS cluster that lost its
 * streams).  Whatever sequence was known is void.  The verdict for our
 * session: a claim held here is put again, since nothing else will show
 * it to the other servers. */
enum fleet_verdict fleet_on_vanished(struct fleet_agent *a);
/* Our put for session sid came back: ok with its sequence, or refused
 * (compare-and-set lost).  The verdict for our session. */
enum fleet_verdict fleet_on_ack(struct fleet_agent *a, const char *sid, int ok,
				unsigned long long seq);
/* What our session must do now that the bucket is known again (a
 * snapshot complete, a refusal to retry); the servers must have been
 * heard by now (a claim of a server not heard is taken for a dead one's). */
enum fleet_verdict fleet_reconcile(const struct fleet *f, const struct fleet_agent *a,
				   int64_t now_ms);

#endif
