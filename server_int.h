/* server_int.h - the running server's state: what server.c owns (the
 * loop, the listeners, the peers, the token file, the rooms below it) and
 * server_api.c reads to answer operators.  The options it runs with stay
 * in their own const struct (server_opts.h). */
#ifndef NESTD_SERVER_INT_H
#define NESTD_SERVER_INT_H

#include <stdint.h>
#include "loop.h"
#include "server_install.h"
#include "server_opts.h"
#include "server_peer.h"
#include "token.h"

struct admit;
struct audit_log;
struct cluster;
struct gate;
struct metrics;
struct router;
struct state;
struct slack;
struct tls_ctx;

struct server {
	const struct server_opts *o;
	struct loop *loop;
	struct loop_src ls[MAX_LISTENERS];   /* o->listen[i], o->listen_tls[i] */
	int nls;
	struct tls_ctx *tls;                 /* --tls-cert/--tls-key, loaded; or NULL */
	struct token_db db;
	struct token_file_id tokens_id;      /* the version of the file db came from */
	struct loop_src tokens_timer;        /* re-stats it every CFG_TOKEN_RECHECK_MS */
	int tokens_timer_on;
	/* Re-reads the token file if it changed (one stat when it did not);
	 * server.c's, for the rooms below it that authenticate (the API). */
	void (*tokens_recheck)(struct server *s);
	/* In a fleet (else NULL: the token file is the store, written under
	 * its lock), stores an agent token a face minted (create: a new name)
	 * in the fleet's store, in effect here at once: 0, or -1 with err. */
	int (*tokens_put)(struct server *s, const struct token_entry *e, int create, char *err,
			  size_t errlen);
	/* In a fleet (else NULL), revokes an agent token in the fleet's
	 * store, in effect here at once: 0, or -1 with err. */
	int (*tokens_drop)(struct server *s, const char *name, char *err, size_t errlen);
	struct peers peers;
	struct router *router;
	struct cluster *cluster;             /* --cluster, or NULL */
	struct slack *slack;                 /* the Slack face, or NULL (server_slack.h) */
	struct audit_log *audit;
	struct metrics *metrics;
	struct admit *admit;
	struct state *state;                 /* the agents seen, history, sessions */
	struct gate *gate;                   /* failed authentications: logged, summarised */
	struct server_install install;
	int max_conns;                       /* CFG_MAX_CONNECTIONS, or less below the fd limit */
	int accept_paused;                   /* out of descriptors: listeners rest */
	int fd_short;                        /* accept failed for want of descriptors (logged) */
	unsigned drops;                      /* connections dropped for room, not yet logged */
	int64_t drop_log_at;                 /* when the next such line may be written */
	int stopping;
	int64_t stop_at;
};

/* A server's fleet link (s->cluster) as read: NULL in a build without
 * NATS, where server_opts.c refuses --cluster, known so at compile time
 * there, so that the fleet's paths (remote agents, the fleet's audit,
 * tokens and health) leave such builds (the static binaries among them). */
#if NESTD_NATS
#define SRV_CLUSTER(s) ((s)->cluster)
#define SRV_FLEET(o)   ((o)->cluster.urls[0] != '\0')   /* --cluster given */
#else
#define SRV_CLUSTER(s) ((struct cluster *)0)
#define SRV_FLEET(o)   0
#endif

#endif
