/* server_cluster_int.h - the cluster's running state, shared by its two
 * files: server_cluster.c (the link, JetStream, presence, the fleet's
 * views) and server_remote.c (commands routed between servers). */
#ifndef NESTD_SERVER_CLUSTER_INT_H
#define NESTD_SERVER_CLUSTER_INT_H

#include <stdint.h>
#include "buf.h"
#include "loop.h"
#include "server_cluster_env.h"
#include "server_fleet.h"
#include "server_nats.h"
#include "server_router.h"

#include "token.h"

struct json;

/* Subscription tags (server_nats.h): what a message is for. */
enum {
	TAG_INBOX,          /* answers to our requests: <inbox>.<id> */
	TAG_NODES,          /* heartbeats: $KV.<prefix>_nodes.* */
	TAG_COMMAND,        /* commands for our agents: <prefix>.agent.<name>, and
			     * <prefix>.server.<node> naming the agent */
	TAG_WATCH,          /* a bucket's watch: TAG_WATCH + 2 * id + (generation & 1),
			     * so an older watch's late messages are told apart */
};

enum watch_id { W_AGENTS, W_TOKENS, W_COUNT };

/* The audit stream's queries: TAG_AUDIT + (generation & 1). */
#define TAG_AUDIT (TAG_WATCH + 2 * W_COUNT)

/* What an answer on our inbox is for.  Requests live in a slot table; the
 * reply subject names the slot and its generation, so a late answer to a
 * slot used again since is recognised and dropped. */
enum pend_kind {
	P_FREE,
	P_STREAM,           /* a bucket or stream created: name */
	P_CONSUMER,         /* the watch's consumer created: gen */
	P_CLAIM,            /* our claim put: name, sid */
	P_UNCLAIM,          /* our claim deleted: name */
	P_HEARTBEAT,        /* our heartbeat put */
	P_COMMAND,          /* a command routed to another server: cmd, its answer so far */
	P_AUDIT_INFO,       /* the audit stream's first and last sequence: wgen */
	P_AUDIT_CONSUMER,   /* an audit query's consumer: wgen */
	P_TOKEN,            /* a token entry put (a face minted it): name */
};

struct pend {
	enum pend_kind kind;
	unsigned gen;                  /* the slot's, in the reply subject */
	int next_free;
	int64_t deadline;              /* loop_now(); 0: the router's deadline rules */
	char name[TOKEN_NAME_MAX + 1];
	char sid[FLEET_ID_LEN + 1];
	unsigned wgen;                 /* P_CONSUMER: the watch's generation; P_STREAM:
					* the setup round's ... */
	int wid;                       /* ... and which watch */
	struct router_cmd *cmd;        /* P_COMMAND */
	struct buf answer;             /* P_COMMAND: chunks so far */
	int chunks, chunk;             /* expected, next */
	enum router_outcome outcome;
	int direct;                    /* sent to the holder's server subject: a
					* "not here" there is tried once more on the
					* agent's own subject */
	char *request;                 /* P_COMMAND: what was sent, for that retry */
	size_t request_len;
};

struct slots {
	struct pend *v;
	int n, cap, free_head, used;
};

/* A command another server sent us, from its arrival to our answer. */
struct served {
	struct served *prev, *next;
	struct cluster *c;
	struct router_cmd *cmd;
	char reply[256];               /* where the answer goes ... */
	char via[CFG_CLUSTER_NODE_MAX + 1];   /* ... or, asked directly, that server's
					       * subject, naming reply in a header */
};

/* A bucket followed by an ordered push consumer of our own: the last
 * value of every key (a snapshot, on_start to on_synced), then every
 * change, as it is stored. */
struct watch {
	const char *bucket;
	void (*on_start)(struct cluster *c);
	void (*on_entry)(struct cluster *c, const char *key, unsigned long long seq, int del,
			 const struct nats_msg *m);
	void (*on_synced)(struct cluster *c);
	unsigned gen;                  /* its deliver subject and tag parity */
	struct nats_sub *sub;
	char deliver[192];
	char consumer[64];             /* its name, from the create answer */
	int asked, created, synced;
	int read_once;                 /* synced at least once since the start */
	int tries;                     /* creates sent since it was last synced */
	unsigned long long dseq;       /* the last consumer sequence seen */
	int64_t last_rx;
};

enum js_state { JS_DOWN, JS_SETUP, JS_READY };

struct cluster {
	struct cluster_env env;
	const struct server_cluster_opts *co;
	struct nats_link *k;
	struct fleet *fleet;
	char boot[FLEET_ID_LEN + 1];
	char listen[300];              /* env.listen's copy */
	char inbox[96];                /* answers: <inbox>.<r|c><slot>_<gen> */
	char winbox[96];               /* the watch's deliver subjects */
	struct nats_sub *inbox_sub, *nodes_sub;
	struct nats_sub *srv_sub;      /* P.server.<node>, polled: commands for agents
					* here, and the answers to ours sent directly */
	char link_why[200];            /* while the link is down */
	int64_t up_at;                 /* when the link last came up */
	enum js_state js;
	int streams_pending;
	unsigned js_round;             /* the setup round: a late answer to an
					* earlier one counts for nothing */
	int js_tries;                  /* setup rounds since JetStream was last ready */
	int64_t js_retry_at;
	int js_known;                  /* the buckets were there since this server
					* started: a reconnect need not ask again */
	char js_why[200];
	int64_t hb_acked;              /* our last heartbeat that JetStream stored */
	struct watch w[W_COUNT];
	/* the fleet's token store, mirrored into env.db (server_tokens.c) */
	struct token_db building;      /* a snapshot being read */
	int tokens_dirty;              /* env.db changed since the cache was written */
	int64_t tokens_saved_at;
	int reconcile;                 /* sessions to check against the bucket */
	struct slots reqs;             /* JetStream requests */
	struct slots cmds;             /* commands routed to other servers */
	struct served *served;
	struct audit_query *aq;        /* audit queries, the first one running */
	unsigned aq_gen;
	struct loop_src tick;
	int tick_added;
	long long started;             /* epoch seconds */
	/* counters for /metrics */
	unsigned long long routed[ROUTER_NOUTCOMES], served_n, takeovers;
};

/* ---- below every other file of the cluster (server_jsreq.c) ---- */
struct pend *slot_new(struct slots *s, enum pend_kind kind, int *id);
struct pend *slot_get(struct slots *s, int id, unsigned gen);
void slot_free(struct slots *s, struct pend *p);
/* The reply subject for slot id of table t ('r' or 'c'). */
void slot_reply(const struct cluster *c, char t, const struct slots *s, int id, char *out,
		size_t n);
/* The slot a reply subject names (its table into *t), or NULL. */
struct pend *slot_of(struct cluster *c, const char *subject, struct slots **t);
const char *cluster_prefix(const struct cluster *c);
void audit_stream_name(const struct cluster *c, char *out, size_t n);
/* The server another server's live claim says holds name, or NULL. */
const char *cluster_holder(const struct cluster *c, const char *name);
int  js_send(struct cluster *c, const char *subject, enum pend_kind kind,
	     const struct nats_hdr *h, int nh, const struct buf *b, struct pend **pp);
/* How long try number tries (0 the first) of a setup request waits:
 * short while the cluster may be electing leaders, longer each time. */
int64_t js_try_timeout(int tries);
int  js_answer(const struct nats_msg *m, struct json *j, unsigned long long *seq,
	       long long *code, char *why, size_t n);
int  consumer_create(struct cluster *c, const char *stream, const char *deliver,
		     const char *filter, unsigned long long start_seq, int heartbeat,
		     enum pend_kind kind, struct pend **pp);
void consumer_drop(struct cluster *c, struct nats_sub **sub, const char *stream, char *consumer);

/* ---- the audit stream's queries (server_auditq.c) ---- */
struct audit_query;
/* cluster_audit_query once the fleet is ready. */
int  auditq_query(struct cluster *c, const char *agent, const char *op, int limit,
		  cluster_audit_fn done, void *arg, char *why, size_t n);
void auditq_answer(struct cluster *c, const struct pend *p, const struct nats_msg *m);
void auditq_msg(struct cluster *c, int tag, const struct nats_msg *m);
void auditq_tick(struct cluster *c, int64_t now);
/* The link is gone, or the cluster is closing: every query ends (why). */
void auditq_fail_all(struct cluster *c, const char *why);
/* Leaving: the queries go, their askers untold (they are gone already). */
void auditq_close(struct cluster *c);

/* ---- routed commands (server_remote.c) ---- */
void remote_init(struct cluster *c);
/* A command for one of our agents, from another server. */
void remote_serve(struct cluster *c, const struct nats_msg *m);
/* An answer (or a chunk of one) to a command we routed. */
void remote_answer(struct cluster *c, struct pend *p, const struct nats_msg *m);
/* The link is gone: commands in flight end, with why. */
void remote_link_lost(struct cluster *c, const char *why);
/* Leaving: what others asked of us is cancelled. */
void remote_close(struct cluster *c);

#endif
