/* server_cluster.h - one server's part in a fleet of servers joined over
 * NATS with JetStream (--cluster).  What the rest of the server sees:
 *
 *   - the router's remote way: a command for an agent that is not here
 *     goes to the server that holds it (NATS request/reply on the agent's
 *     subject), and its answer comes back as if the agent were here;
 *   - the fleet's agents and servers, for listings and /healthz;
 *   - hooks for an agent that comes and goes, so that one session per
 *     agent holds across the fleet: a newer session elsewhere makes this
 *     server drop its own (env.drop_agent).
 *
 * Degraded modes are explicit: with the NATS link down this server keeps
 * its own agents and answers everything about others with a reason
 * (cluster_status, the router's ROUTER_CLUSTER_DOWN); the link and the
 * buckets come back by themselves.  Wire formats, subjects and buckets:
 * docs/PROTOCOL.md, "More than one server". */
#ifndef NESTD_SERVER_CLUSTER_H
#define NESTD_SERVER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "server_auditq.h"
#include "server_cluster_env.h"
#include "server_jsreq.h"
#include "server_router.h"

struct buf;
struct jw;
struct loop;
struct metrics;
struct peer;
struct peers;
struct router;
struct server_cluster_opts;
struct token_db;


/* For the parts: "$KV.PREFIX_bucket.key" into out (n bytes); watch wid's
 * bucket followed anew, its snapshot replacing what the part holds. */
void kv_subject(const struct cluster *c, const char *bucket, const char *key, char *out,
		size_t n);
void watch_again(struct cluster *c, int wid);

struct cluster;

/* Starts joining (the link comes up in the background when NATS does
 * not answer yet).  NULL with the reason for what retrying cannot fix. */
struct cluster *cluster_open(const struct cluster_env *env, char *err, size_t errlen);
/* Cancels what other servers asked of this one and leaves the fleet. */
void cluster_close(struct cluster *c);

/* server.c: an agent is in (after its "Authenticated :D") or going. */
void cluster_agent_up(struct cluster *c, struct peer *p);
void cluster_agent_down(struct cluster *c, struct peer *p);

struct cluster_status {
	const char *node;
	int link_up;                   /* the NATS connection */
	int ready;                     /* buckets in place, presence read */
	int nodes;                     /* servers heard lately, this one included */
	size_t agents;                 /* agents of the fleet as far as known */
	char why[256];                 /* when not ready: what is missing */
};
void cluster_status(const struct cluster *c, struct cluster_status *st);
/* The names of the agents on the other servers, sorted, into *names
 * (*count of them, each and the array the caller's to free): 0, or -1
 * with the reason when the fleet cannot be listed now. */
int  cluster_remote_names(struct cluster *c, char ***names, int *count, char *why, size_t n);
/* Another server's agent NAME as the listing shows it (a JSON object with
 * its "server"; valid until the loop turns) and its owner ("" none), or
 * NULL when no live server holds it. */
const char *cluster_remote_info(const struct cluster *c, const char *name, const char **owner);
/* Another server's agent NAME, as a face shows it (server_where.h): 1
 * with *card filled (hostname, since, uid, commands; the caller frees),
 * 0 when no live server holds it or the fleet cannot be asked now. */
struct agent_card;
int  cluster_agent_card(struct cluster *c, const char *name, struct agent_card *card);
/* The owner another server's claim gives agent NAME ("" none), or NULL
 * when no live claim is known. */
const char *cluster_agent_owner(const struct cluster *c, const char *name);
/* Puts one token entry into the fleet's token store (create: only when
 * no token of that name is there yet), and into env.db at once: 0, or -1
 * with why when the store cannot be reached now.  Should the store refuse
 * it (another server took the name a moment before), the mirror is read
 * anew and the entry goes again. */
struct token_entry;
int  cluster_token_put(struct cluster *c, const struct token_entry *e, int create, char *err,
		       size_t errlen);
/* Deletes the token entry NAME from the fleet's token store, and from
 * env.db at once (its session here goes now, on the others when the
 * store's deletion reaches them): 0, or -1 with why when the store cannot
 * be reached now. */
int  cluster_token_drop(struct cluster *c, const char *name, char *err, size_t errlen);
/* The token store's last copy (cluster_save_tokens writes it): 0, or -1
 * with the reason (a missing file is an empty store). */
int  cluster_load_tokens(const char *cache, struct token_db *db, char *err, size_t errlen);

/* The latest entries of the fleet's audit stream whose agent and operator
 * are those given ("" any), at most limit, oldest first: done(arg, 200,
 * a JSON array, its length), or an error status with a {"error":...}
 * body; once, unless cancelled first (cluster_audit_cancel with the same
 * arg).  One query runs at a time; the others wait their turn.  -1 (why)
 * when the fleet cannot be asked now. */
int  cluster_audit_query(struct cluster *c, const char *agent, const char *op, int limit,
			 cluster_audit_fn done, void *arg, char *why, size_t n);
/* The cluster's lines of /metrics. */
void cluster_metrics(const struct cluster *c, struct buf *b);

#endif
