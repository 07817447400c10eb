/* server_cluster_env.h - what a server hands its cluster when it opens it
 * (server_cluster.h's cluster_open), and how a part above the cluster's
 * core registers itself: shared by server_cluster.h and the cluster's
 * inner header (server_cluster_int.h), which keeps a copy of the env. */
#ifndef NESTD_SERVER_CLUSTER_ENV_H
#define NESTD_SERVER_CLUSTER_ENV_H

#include <stddef.h>
#include <stdint.h>
#include "server_router.h"

struct loop;
struct peer;
struct peers;
struct router;
struct server_cluster_opts;
struct token_db;

struct cluster_env {
	struct loop *loop;
	const struct server_cluster_opts *o;
	const char *listen;            /* this server's first listener, for views (copied) */
	struct peers *peers;
	struct router *router;         /* the cluster sets its remote way */
	size_t max_reply;              /* the largest routed answer accepted */
	/* the fleet's token store, mirrored here (env.db is the server's
	 * token_db); tokens_changed after every change; the mirror is
	 * written to tokens_cache now and then, for a start without NATS */
	struct token_db *db;
	void (*tokens_changed)(void *arg);
	const char *tokens_cache;
	/* the status a face answers an outcome with (for the audit log of the
	 * commands other servers send here) */
	int (*outcome_status)(enum router_outcome o);
	/* server.c's way to drop one of its agents (a newer session elsewhere) */
	void (*drop_agent)(void *arg, struct peer *p, const char *why);
	/* another server's agent name came or went (NULL: any may have, the
	 * fleet's presence was read anew), for the faces that show agents */
	void (*agent_seen)(void *arg, const char *name);
	void *arg;
	/* the token store's part, cluster_tokens_part (required) */
	const struct cluster_part *tokens_part;
};

struct cluster;
struct nats_msg;
struct pend;
struct watch;

/* A part of the cluster that sits above its core (it follows a bucket
 * and sends puts through it) and hands the core its callbacks, so the
 * core never names it: how the bucket's watch starts, a put's answer (m
 * NULL: none in time), every heartbeat. */
struct cluster_part {
	void (*watch_init)(struct watch *w);
	void (*put_answer)(struct cluster *c, const struct pend *p, const struct nats_msg *m);
	void (*tick)(struct cluster *c, int64_t now);
};

/* The fleet's token store (server_tokens.c). */
extern const struct cluster_part cluster_tokens_part;

/* The answer to an audit query (cluster_audit_query): status, body. */
typedef void (*cluster_audit_fn)(void *arg, int status, const char *body, size_t n);

#endif
