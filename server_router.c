/* server_router.c - commands from their post to their answer (see
 * server_router.h).  Each command owns its deadline, a source of the loop
 * with no descriptor, so the loop's heap keeps the timeouts; every end of
 * a command is counted in the metrics and, where someone asked and was
 * told, written to the audit log.  A command sent to another server
 * (router_remote) is counted and audited there, by the server that holds
 * the agent; here it only has its deadline.  Only builds with NATS have a
 * fleet: the others leave that way out (ROUTER_FLEET 0, as server_int.h's
 * SRV_CLUSTER does for the rest of the fleet's code), so its paths below are
 * compiled out of them, the static binaries among them. */
#include "server_router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "server_audit.h"
#include "server_metrics.h"
#include "server_peer.h"

#if NESTD_NATS
#define ROUTER_FLEET 1
#else
#define ROUTER_FLEET 0
#endif

struct router {
	struct router_env env;
	struct router_remote remote;     /* post NULL: none */
	struct router_cmd *remote_cmds;  /* sent to other servers, for router_stop */
	unsigned long long next_id;
	char why[200];                   /* the last refusal, in words */
};

struct router_cmd {
	struct router *r;
	struct router_cmd *prev, *next;  /* in the agent's queue */
	struct peer *agent;              /* NULL: on another server (remote) */
	int remote;
	char name[TOKEN_NAME_MAX + 1];   /* the agent's */
	router_done_fn done;             /* NULL once the asker is gone or told */
	void *arg;
	struct loop_src deadline;        /* in the loop while the asker waits */
	int armed;
	char id[24];
	char command[64];
	char who[TOKEN_NAME_MAX + 1];
	char from[64];
	char *payload;                   /* NUL-terminated JSON, or NULL */
	int64_t started;                 /* loop_now_us() */
	int quiet;                       /* not audited (router_req.quiet) */
};

struct router *router_new(const struct router_env *env)
{
	struct router *r = calloc(1, sizeof(*r));

	if (r)
		r->env = *env;
	return r;
}

void router_free(struct router *r)
{
	free(r);
}

#if NESTD_NATS
void router_set_remote(struct router *r, const struct router_remote *rr)
{
	if (rr)
		r->remote = *rr;
	else
		memset(&r->remote, 0, sizeof(r->remote));
}
#endif

const char *router_cmd_agent(const struct router_cmd *cmd)
{
	return cmd->name;
}

static const char *const outcome_names[ROUTER_NOUTCOMES] = {
	[ROUTER_OK] = "ok",
	[ROUTER_ERROR] = "error",
	[ROUTER_TIMEOUT] = "timeout",
	[ROUTER_AGENT_GONE] = "agent_gone",
	[ROUTER_SHUTDOWN] = "shutdown",
	[ROUTER_NOT_CONNECTED] = "not_connected",
	[ROUTER_BUSY] = "busy",
	[ROUTER_SEND_FAILED] = "send_failed",
	[ROUTER_NO_MEMORY] = "no_memory",
	[ROUTER_NOT_OFFERED] = "not_offered",
	[ROUTER_CLUSTER_DOWN] = "cluster_down",
};

const char *router_outcome_name(enum router_outcome o)
{
	return o < ROUTER_NOUTCOMES && outcome_names[o] ? outcome_names[o] : "unknown";
}

enum router_outcome router_outcome_parse(const char *name)
{
	int i;

	for (i = 0; i < ROUTER_NOUTCOMES; i++)
		if (outcome_names[i] && strcmp(outcome_names[i], name) == 0)
			return (enum router_outcome)i;
	return ROUTER_NOUTCOMES;
}

int router_command_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 48)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* ---- one command's record ---- */

static void disarm(struct router_cmd *cmd)
{
	if (cmd->armed)
		loop_del(cmd->r->env.loop, &cmd->deadline);
	cmd->armed = 0;
}

static void cmd_free(struct router_cmd *cmd)
{
	if (ROUTER_FLEET && cmd->remote) {   /* out of the router's list of them */
		if (cmd->prev)
			cmd->prev->next = cmd->next;
		else
			cmd->r->remote_cmds = cmd->next;
		if (cmd->next)
			cmd->next->prev = cmd->prev;
	}
	disarm(cmd);
	free(cmd->payload);
	free(cmd);
}

static void enqueue(struct router_cmd *cmd, struct peer *ag)
{
	cmd->agent = ag;
	cmd->prev = ag->cmd_tail;
	if (ag->cmd_tail)
		ag->cmd_tail->next = cmd;
	else
		ag->cmd_head = cmd;
	ag->cmd_tail = cmd;
	ag->inflight++;
}

static void unqueue(struct router_cmd *cmd)
{
	struct peer *ag = cmd->agent;

	if (cmd->prev)
		cmd->prev->next = cmd->next;
	else
		ag->cmd_head = cmd->next;
	if (cmd->next)
		cmd->next->prev = cmd->prev;
	else
		ag->cmd_tail = cmd->prev;
	cmd->prev = cmd->next = NULL;
	ag->inflight--;
}

/* Counts the command's end under r; seconds since it was posted. */
static void count(struct router_cmd *cmd, enum metrics_result res)
{
	metrics_command(cmd->r->env.metrics, cmd->command, res,
			(double)(loop_now_us() - cmd->started) / 1e6);
}

static void audit(const struct router_cmd *cmd, const char *outcome, int status,
		  const char *error)
{
	struct audit_command a = {
		.op = cmd->who, .address = cmd->from, .agent = cmd->agent->name,
		.command = cmd->command, .id = cmd->id, .payload = cmd->payload,
		.outcome = outcome, .status = status, .error = error,
		.duration_ms = (loop_now_us() - cmd->started) / 1000,
	};

	if (!cmd->quiet)
		audit_command(cmd->r->env.audit, &a);
}

/* Tells the asker, once; the status it answered with. */
static int tell(struct router_cmd *cmd, enum router_outcome o, const char *text, size_t n)
{
	router_done_fn done = cmd->done;

	disarm(cmd);
	cmd->done = NULL;
	return done(cmd->arg, o, text, n);
}

/* ---- posting ---- */

/* How long the asker waits: the server's --command-timeout, or for
 * exec_command at least its own timeout (payload.timeout seconds, default
 * CFG_EXEC_TIMEOUT_S) and a margin, so the agent's own "timed out" reply
 * arrives first. */
static long long wait_ms(const struct router *r, const struct router_req *q)
{
	double secs = CFG_EXEC_TIMEOUT_S, t;
	long long ms;
	struct json j;
	char err[64];

	if (strcmp(q->command, "exec_command") != 0)
		return r->env.timeout_ms;
	if (q->payload && json_parse(&j, q->payload, q->payload_len, err, sizeof(err)) == 0) {
		int tt = json_type(&j, 0) == JSON_OBJECT ? json_get(&j, 0, "timeout") : -1;

		if (tt >= 0 && json_num(&j, tt, &t) == 0 && t > 0 && t < CFG_EXEC_TIMEOUT_MAX_S)
			secs = t;
		json_free(&j);
	}
	ms = (long long)(secs * 1000) + CFG_EXEC_MARGIN_MS;
	return ms > r->env.timeout_ms ? ms : r->env.timeout_ms;
}

static void on_deadline(struct loop_src *src, short revents);

static struct router_cmd *cmd_new(struct router *r, const struct router_req *q,
				  router_done_fn done, void *arg)
{
	struct router_cmd *cmd = calloc(1, sizeof(*cmd));

	if (!cmd)
		return NULL;
	if (q->payload && !(cmd->payload = strndup(q->payload, q->payload_len))) {
		free(cmd);
		return NULL;
	}
	cmd->r = r;
	cmd->done = done;
	cmd->arg = arg;
	fmt_copy(cmd->name, sizeof(cmd->name), q->agent);
	fmt_snprintf(cmd->id, sizeof(cmd->id), "c%llu", ++r->next_id);
	fmt_copy(cmd->command, sizeof(cmd->command), q->command);
	fmt_copy(cmd->who, sizeof(cmd->who), q->who);
	fmt_copy(cmd->from, sizeof(cmd->from), q->from);
	cmd->started = loop_now_us();
	cmd->quiet = q->quiet;
	cmd->deadline.fd = -1;
	cmd->deadline.ready = on_deadline;
	cmd->deadline.arg = cmd;
	cmd->deadline.flags = LOOP_TOUCH;
	cmd->deadline.deadline = loop_now() + wait_ms(r, q);
	return cmd;
}

/* {"status":"command","message":CMD,"id":ID[,"payload":P]} to the agent. */
static int send_cmd(struct router *r, struct peer *ag, const struct router_cmd *cmd)
{
	struct buf b;
	struct jw w;
	int rc;

	buf_init(&b, CFG_MAX_SERVER_MESSAGE);
	proto_begin(&w, &b, "command", cmd->command, cmd->id, strlen(cmd->id));
	if (cmd->payload) {
		jw_key(&w, "payload");
		jw_raw(&w, cmd->payload, strlen(cmd->payload));
	}
	proto_end(&w);
	rc = jw_error(&w) ? -1 : r->env.send(ag, b.p, b.len);
	buf_free(&b);
	return rc;
}

/* Not here: to the server that holds it, if there is a fleet. */
static struct router_cmd *post_remote(struct router *r, const struct router_req *q,
				      router_done_fn done, void *arg, enum router_outcome *err)
{
	long long ms = wait_ms(r, q);
	struct router_cmd *cmd = cmd_new(r, q, done, arg);

	if (cmd)
		cmd->deadline.deadline = loop_now() + ms + CFG_CLUSTER_ROUTE_MARGIN_MS;
	if (!cmd || loop_add(r->env.loop, &cmd->deadline) < 0) {
		if (cmd)
			cmd_free(cmd);
		*err = ROUTER_NO_MEMORY;
		return NULL;
	}
	cmd->armed = 1;
	cmd->remote = 1;
	cmd->next = r->remote_cmds;
	if (cmd->next)
		cmd->next->prev = cmd;
	r->remote_cmds = cmd;
	if (r->remote.post(r->remote.arg, cmd, q, ms, err, r->why, sizeof(r->why)) < 0) {
		cmd_free(cmd);
		return NULL;
	}
	log_debug("%s -> %s: %s (%s, to another server)", cmd->who, cmd->name, cmd->command,
		  cmd->id);
	return cmd;
}

struct router_cmd *router_post(struct router *r, const struct router_req *q,
			       router_done_fn done, void *arg, enum router_outcome *err)
{
	struct peer *ag = peers_find_agent(r->env.peers, q->agent);
	struct router_cmd *cmd;

	if (ROUTER_FLEET)
		r->why[0] = '\0';
	if (!ag && ROUTER_FLEET && r->remote.post && !q->here_only)
		return post_remote(r, q, done, arg, err);
	if (!ag) {
		*err = ROUTER_NOT_CONNECTED;
		return NULL;
	}
	if (!peer_offers(ag, q->command)) {
		log_info("%s -> %s: %s refused: the agent does not offer it", q->who, ag->name,
			 q->command);
		*err = ROUTER_NOT_OFFERED;
		return NULL;
	}
	if (ag->inflight >= CFG_MAX_INFLIGHT) {
		*err = ROUTER_BUSY;
		return NULL;
	}
	cmd = cmd_new(r, q, done, arg);
	if (!cmd || loop_add(r->env.loop, &cmd->deadline) < 0) {
		if (cmd)
			cmd_free(cmd);
		*err = ROUTER_NO_MEMORY;
		return NULL;
	}
	cmd->armed = 1;
	if (send_cmd(r, ag, cmd) < 0) {
		cmd_free(cmd);
		*err = ROUTER_SEND_FAILED;
		return NULL;
	}
	enqueue(cmd, ag);
	log_debug("%s -> %s: %s (%s)", cmd->who, ag->name, cmd->command, cmd->id);
	return cmd;
}

void router_refusal(const struct router *r, const struct router_req *q,
		    enum router_outcome o, char *out, size_t n)
{
	const struct peer *ag = peers_find_agent(r->env.peers, q->agent);

	switch (o) {
	case ROUTER_NOT_CONNECTED:
		fmt_snprintf(out, n, "agent '%s' is not connected", q->agent);
		break;
	case ROUTER_NOT_OFFERED:
		if (ag && !ag->commands)
			fmt_snprintf(out, n, "agent '%s' is an original client: %s is not supported by "
				 "this agent (original client)", q->agent, q->command);
		else
			fmt_snprintf(out, n, "agent '%s' does not offer %s: not supported by this agent "
				 "(not among the commands it announced)", q->agent, q->command);
		break;
	case ROUTER_BUSY:
		fmt_snprintf(out, n, "too many commands in flight for this agent");
		break;
	case ROUTER_NO_MEMORY:
		fmt_snprintf(out, n, "out of memory");
		break;
#if NESTD_NATS
	case ROUTER_CLUSTER_DOWN:
		fmt_snprintf(out, n, "%s", r->why[0] ? r->why : "the other servers cannot be asked now");
		break;
#endif
	default:
		fmt_snprintf(out, n, "could not send the command to the agent");
		break;
	}
}

void router_cancel(struct router_cmd *cmd)
{
	struct router *r = cmd->r;

	disarm(cmd);
	cmd->done = NULL;
	if (ROUTER_FLEET && cmd->remote) {   /* no queue to keep it in: that is the holder's */
		r->remote.forget(r->remote.arg, cmd);
		cmd_free(cmd);
	}
}

#if NESTD_NATS
void router_remote_done(struct router_cmd *cmd, enum router_outcome o, const char *text,
			size_t n)
{
	if (cmd->done)
		tell(cmd, o, text, n);
	cmd_free(cmd);
}
#endif

/* ---- the three ends: a reply, the deadline, the agent gone ---- */

static void on_deadline(struct loop_src *src, short revents)
{
	struct router_cmd *cmd = src->arg;
	char msg[160];
	int status;

	if (!cmd->done)
		return;
	fmt_snprintf(msg, sizeof(msg), "agent '%s' did not answer %s in time", cmd->name, cmd->command);
	log_warn("%s", msg);
	if (ROUTER_FLEET && cmd->remote) {
		struct router *r = cmd->r;

		fmt_snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " (nor its server)");
		tell(cmd, ROUTER_TIMEOUT, msg, strlen(msg));
		r->remote.forget(r->remote.arg, cmd);
		cmd_free(cmd);
		return;
	}
	count(cmd, METRICS_TIMEOUT);
	status = tell(cmd, ROUTER_TIMEOUT, msg, strlen(msg));
	audit(cmd, "timeout", status, msg);
}

/* The command name a reply's message names ("response_<command>") into
 * out; 0 when the message is of another form (the reference client's
 * free text) or absent. */
static int reply_names(const struct nest_msg *m, char out[CFG_COMMAND_NAME_MAX + 1])
{
	char msg[sizeof("response_") + CFG_COMMAND_NAME_MAX];

	if (proto_message(m, msg, sizeof(msg)) < 0 || strncmp(msg, "response_", 9) ||
	    !router_command_valid(msg + 9))
		return 0;
	memcpy(out, msg + 9, strlen(msg + 9) + 1);
	return 1;
}

/* The command a reply answers: the one its id names.  Without an id, the
 * oldest command of the name its message gives (an agent that skipped a
 * command must not hand its reply to it); a message that names no
 * command, as the reference client's free text, answers the oldest of
 * all.  NULL when none. */
static struct router_cmd *match_reply(const struct peer *ag, const struct nest_msg *m)
{
	struct router_cmd *cmd = ag->cmd_head;
	char name[CFG_COMMAND_NAME_MAX + 1];

	if (m->t_id >= 0) {
		while (cmd && !json_str_eq(&m->j, m->t_id, cmd->id))
			cmd = cmd->next;
	} else if (reply_names(m, name)) {
		while (cmd && strcmp(cmd->command, name))
			cmd = cmd->next;
	}
	return cmd;
}

void router_agent_reply(struct router *r, struct peer *ag, const struct nest_msg *m,
			const char *text, size_t n)
{
	struct router_cmd *cmd = match_reply(ag, m);
	int err = m->status == NS_COMMAND_RESPONSE_ERROR;

	if (!cmd) {
		char what[64] = "";

		if (m->t_message >= 0)
			json_strcpy(&m->j, m->t_message, what, sizeof(what));
		log_warn("%s: reply %s matches no command in flight; dropped", ag->name, what);
		return;
	}
	unqueue(cmd);
	count(cmd, err ? METRICS_ERROR : METRICS_OK);
	if (cmd->done)
		audit(cmd, err ? "error" : "ok", tell(cmd, err ? ROUTER_ERROR : ROUTER_OK, text, n),
		      NULL);
	else
		audit(cmd, err ? "late_error" : "late_ok", 0, "operator no longer waiting");
	cmd_free(cmd);
}

void router_stop(struct router *r, const char *why)
{
	struct peer *ag;
	struct router_cmd *cmd;

	for (ag = peers_next_agent(r->env.peers->head); ag; ag = peers_next_agent(ag->next)) {
		for (cmd = ag->cmd_head; cmd; cmd = cmd->next) {
			if (!cmd->done)
				continue;
			/* Counted once it ends (answered, or its agent gone). */
			audit(cmd, "shutdown", tell(cmd, ROUTER_SHUTDOWN, why, strlen(why)), why);
		}
	}
	while (ROUTER_FLEET && (cmd = r->remote_cmds)) {   /* another server would have answered */
		if (cmd->done)
			tell(cmd, ROUTER_SHUTDOWN, why, strlen(why));
		r->remote.forget(r->remote.arg, cmd);
		cmd_free(cmd);
	}
}

void router_agent_gone(struct router *r, struct peer *ag, const char *why)
{
	struct router_cmd *cmd;
	char msg[300];

	fmt_snprintf(msg, sizeof(msg), "agent disconnected before answering (%s)", why);
	while ((cmd = ag->cmd_head)) {
		unqueue(cmd);
		count(cmd, METRICS_AGENT_GONE);
		if (cmd->done)
			audit(cmd, "agent_gone", tell(cmd, ROUTER_AGENT_GONE, msg, strlen(msg)), why);
		cmd_free(cmd);
	}
}
