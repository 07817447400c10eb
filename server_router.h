/* server_router.h - the command router: one record per command, from the
 * moment a face (the HTTP API today) posts it to the moment its agent
 * answers, it times out or the agent goes.  A face names an agent and a
 * command and hears back one typed outcome; it knows nothing of the
 * agent's connection, and the router knows nothing of HTTP.
 *
 * Every command gets an id ("c<N>") and waits in its agent's queue, oldest
 * first.  A reply with an id answers that command; a reply without one
 * answers the oldest of the command its message names
 * ("response_<command>"), or, when its message names none (the reference
 * client's free text), the oldest of all (docs/PROTOCOL.md, "Ids and
 * id-less replies").  A command whose asker went away (router_cancel) or was
 * told it timed out stays queued as an orphan until its agent answers, so
 * that later id-less replies still match the right commands.
 *
 * An agent that is not here may be on another server of the fleet: with a
 * remote way set (router_set_remote, the cluster's), such a command goes
 * there and its answer comes back through router_remote_done; the face
 * cannot tell the difference.  Only builds with NATS have that way. */
#ifndef NESTD_SERVER_ROUTER_H
#define NESTD_SERVER_ROUTER_H

#include <stddef.h>

struct audit_log;
struct loop;
struct metrics;
struct nest_msg;
struct peer;
struct peers;

struct router;
struct router_cmd;

enum router_outcome {
	ROUTER_OK,             /* command_response: text is the agent's message */
	ROUTER_ERROR,          /* command_response_error: text is the agent's message */
	ROUTER_TIMEOUT,        /* no answer by the deadline: text says so */
	ROUTER_AGENT_GONE,     /* the agent went before answering: text says why */
	ROUTER_SHUTDOWN,       /* the server is stopping (router_stop): text says so */
	/* router_post's refusals: nothing was sent */
	ROUTER_NOT_CONNECTED,  /* no authenticated agent of that name */
	ROUTER_BUSY,           /* CFG_MAX_INFLIGHT commands wait for it already */
	ROUTER_SEND_FAILED,    /* its connection would not take the command */
	ROUTER_NO_MEMORY,
	ROUTER_NOT_OFFERED,    /* the agent did not announce that command (an
				* original client: not one of the original's) */
	ROUTER_CLUSTER_DOWN,   /* not here, and the fleet cannot be asked now */
	ROUTER_NOUTCOMES
};

/* One command as a face asks for it.  The strings are copied. */
struct router_req {
	const char *agent;        /* the agent's name */
	const char *command;      /* a command name (router_command_valid) */
	const char *payload;      /* the payload object's JSON text, or NULL */
	size_t payload_len;
	const char *who;          /* the asker's name, for the audit log */
	const char *from;         /* where it asked from, for the audit log */
	int here_only;            /* only an agent connected here (another server
				   * routed the command to us: never on again) */
	int quiet;                /* the server's own (the history's samples): not
				   * in the audit log */
};

/* The face's answer to a command's outcome: called once, unless the face
 * cancelled first; the command is no longer the face's afterwards.  text
 * is NUL-terminated at text[n].  Returns the status the face answered
 * with, for the audit log (the API: its HTTP status).  It must not call
 * the router back. */
typedef int (*router_done_fn)(void *arg, enum router_outcome outcome, const char *text,
			      size_t n);
/* How a command reaches its agent: queue text on its connection; -1 when
 * it cannot. */
typedef int (*router_send_fn)(struct peer *agent, const char *text, size_t n);

/* What a router works with; router_new copies it. */
struct router_env {
	struct loop *loop;           /* the commands' deadlines are its sources */
	const struct peers *peers;   /* where agents are found by name */
	struct audit_log *audit;     /* or NULL */
	struct metrics *metrics;
	long long timeout_ms;        /* how long a command may wait for its answer
				      * (exec_command: at least its own timeout
				      * plus CFG_EXEC_MARGIN_MS) */
	router_send_fn send;
};

/* The way to agents on other servers.  post sends cmd (for req->agent,
 * answered by the deadline wait_ms) to the server that holds it and
 * returns 0, or -1 with *err and a reason in why; the answer comes back
 * later through router_remote_done.  forget: cmd ends without its answer
 * (the deadline passed, the asker went): drop what refers to it. */
struct router_remote {
	int  (*post)(void *arg, struct router_cmd *cmd, const struct router_req *req,
		     long long wait_ms, enum router_outcome *err, char *why, size_t whylen);
	void (*forget)(void *arg, struct router_cmd *cmd);
	void *arg;
};

struct router *router_new(const struct router_env *env);
#if NESTD_NATS
/* rr copied; NULL removes it.  Without one, an agent that is not here is
 * ROUTER_NOT_CONNECTED.  Builds with NATS only: the others have no fleet,
 * and no remote way in the router at all. */
void router_set_remote(struct router *r, const struct router_remote *rr);
#endif
/* After every agent is gone (router_agent_gone). */
void router_free(struct router *r);

/* 1 if s may name a command: 1 to 48 of [a-z0-9_]. */
int  router_command_valid(const char *s);
/* Sends the command to its agent and queues it.  NULL with *err set to one
 * of the refusals when nothing was sent.  A server never sends an agent a
 * command it did not announce (peer_offers): the original client would
 * exit for good. */
struct router_cmd *router_post(struct router *r, const struct router_req *req,
			       router_done_fn done, void *arg, enum router_outcome *err);
/* A refusal of router_post's in words for the asker, naming the agent (and
 * for ROUTER_NOT_OFFERED the command: "agent 'orig' is an original client:
 * obtain_system_info is not supported by this agent (original client)";
 * for ROUTER_CLUSTER_DOWN the remote way's reason, from the last post). */
void router_refusal(const struct router *r, const struct router_req *req,
		    enum router_outcome o, char *out, size_t n);
/* The name of the agent cmd is for. */
const char *router_cmd_agent(const struct router_cmd *cmd);
/* The outcome's name on the wire between servers ("ok", "timeout", ...),
 * and back: ROUTER_NOUTCOMES for a name not known. */
const char *router_outcome_name(enum router_outcome o);
enum router_outcome router_outcome_parse(const char *name);
/* The asker is gone: done will not be called.  The command stays queued
 * until its agent answers or goes. */
void router_cancel(struct router_cmd *cmd);

/* From the agent's side (server.c).  A reply (command_response or
 * command_response_error, whole text m came from) answers a command or,
 * matching none, is logged and dropped. */
void router_agent_reply(struct router *r, struct peer *agent, const struct nest_msg *m,
			const char *text, size_t n);
/* The server is stopping: every asker still waiting is told
 * (ROUTER_SHUTDOWN, text why); the commands stay queued as orphans. */
void router_stop(struct router *r, const char *why);
/* The agent is going: every command it still owes ends (ROUTER_AGENT_GONE). */
void router_agent_gone(struct router *r, struct peer *agent, const char *why);

#if NESTD_NATS
/* From the remote way: the answer to a command it took (any outcome,
 * refusals included), told to the asker as if the agent were here.  Once
 * per command; the command is freed.  Builds with NATS only. */
void router_remote_done(struct router_cmd *cmd, enum router_outcome o, const char *text,
			size_t n);
#endif

#endif
