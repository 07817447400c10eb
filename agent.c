/* agent.c - `nestd agent`: dials the server, authenticates, and answers
 * commands until told to stop, reconnecting by itself.  The options come
 * parsed and checked from agent_opts.c; this file is the run: the loop, the
 * connection, the backoff, and the queue of commands in flight.
 *
 * Reconnection uses exponential backoff with full jitter (a random delay
 * between 0 and min(max, min * 2^attempt)), so a thousand agents that lost
 * the same server do not come back in one burst; the attempt count resets
 * only after a link has stayed up CFG_RECONNECT_STABLE_MS.  A server that
 * refuses us (bad token, version) is retried only after the long delay, and
 * a retry_after in its error is honoured.
 *
 * Servers: with several (--server repeated, or a name that resolves to
 * several addresses), each attempt after a failure or a lost connection
 * goes to the next address of the same URL, then to the next URL, so an
 * agent whose server died is back on another of the fleet within its
 * backoff.
 *
 * Replies: a command's reply is sent as soon as it is ready when the command
 * carried an "id"; a reply without one waits until every earlier command is
 * answered, because the server matches id-less replies to its oldest
 * unanswered command (docs/PROTOCOL.md, "Ids and id-less replies").  A
 * command's record, its reply included, is freed the moment the reply is
 * sent, wherever it stood in the queue. */
#include "agent.h"
#include "buf.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "agent_opts.h"
#include "config.h"
#include "conn.h"
#include "help.h"
#include "fmt.h"
#include "log.h"
#include "net.h"
#include "out.h"
#include "proto.h"
#include "rnd.h"
#include "tls.h"

struct agent {
	const struct agent_opts *o;
	struct loop *loop;
	struct tls_ctx *tls;     /* wss://: the verification policy */
	struct agent_cmds *cmds;
	struct conn *c;          /* NULL between connections */
	struct loop_src timer;   /* reconnect backoff */
	int cur;                 /* o->urls[cur] is the server of this attempt ... */
	unsigned addr, naddr;    /* ... at its address addr of naddr */
	int attempt;
	int64_t up_since;        /* authenticated at */
	int rejected;            /* the server refused us: long backoff */
	long long retry_after_ms;
	int authenticated_once;
	int stopping;
	int exit_code;
	struct cmd *queue, *queue_tail;   /* commands in arrival order */
	struct cmd *spare;       /* records kept for the next commands (cmd_free) */
	int nspare;
	/* this connection's reply shapes (docs/PROTOCOL.md, "Two reply
	 * shapes"): the original's until a nestd server says otherwise */
	int original;
	int awaiting_info;       /* the first message after authentication is next */
	unsigned svc_wait_ms;    /* a nestd server's command timeout, less a margin */
};

/* Records of answered commands kept for the next ones, and the largest
 * reply buffer one keeps: the commands of a busy connection reuse them,
 * a listing's megabytes go back once it is sent. */
#define AGENT_SPARE_CMDS 4
#define AGENT_KEEP_REPLY (16u << 10)
/* cmd_free clears a kept record up to idbuf: nothing may follow it. */
_Static_assert(offsetof(struct cmd, idbuf) + CMD_ID_INLINE == sizeof(struct cmd),
	       "struct cmd: idbuf must stay its last member");

static void schedule_reconnect(struct agent *a);

/* ---- commands and their replies ---- */

/* A command's record is done with: kept for the next command, reply
 * buffer included, while few are kept and the buffer is small; so a
 * command costs no allocation once replies of its size have been built.
 * A buffer that a large reply grew goes back at once (memory is not
 * pinned by one listing). */
static void cmd_free(struct agent *a, struct cmd *cmd)
{
	struct buf reply = cmd->reply;

	if (cmd->id != cmd->idbuf)
		free(cmd->id);
	if (reply.cap > AGENT_KEEP_REPLY || a->nspare >= AGENT_SPARE_CMDS)
		buf_free(&reply);
	if (a->nspare >= AGENT_SPARE_CMDS) {
		free(cmd);
		return;
	}
	memset(cmd, 0, offsetof(struct cmd, idbuf));
	buf_reset(&reply);
	cmd->reply = reply;
	cmd->next = a->spare;
	a->spare = cmd;
	a->nspare++;
}

/* A record for a new command: a kept one, or a new one; NULL when memory
 * runs out. */
static struct cmd *cmd_new(struct agent *a)
{
	struct cmd *cmd = a->spare;

	if (!cmd)
		return calloc(1, sizeof(*cmd));
	a->spare = cmd->next;
	a->nspare--;
	cmd->next = NULL;
	return cmd;
}

/* The message's id, NUL-terminated, into the record (or beside it when
 * long): 0, or -1 when memory runs out. */
static int cmd_set_id(struct cmd *cmd, const struct nest_msg *m)
{
	size_t n;
	const char *raw = json_raw(&m->j, m->t_id, &n);

	cmd->id = n < sizeof(cmd->idbuf) ? cmd->idbuf : malloc(n + 1);
	if (!cmd->id)
		return -1;
	memcpy(cmd->id, raw, n);
	cmd->id[n] = '\0';
	return 0;
}

static void reply_send(struct agent *a, struct cmd *cmd)
{
	if (a->c && cmd->reply.len)
		conn_send_text(a->c, cmd->reply.p, cmd->reply.len);
}

/* Takes cmd (whose predecessor in the queue is prev, NULL at the head) out
 * of the queue and frees it. */
static void queue_drop(struct agent *a, struct cmd *prev, struct cmd *cmd)
{
	if (prev)
		prev->next = cmd->next;
	else
		a->queue = cmd->next;
	if (a->queue_tail == cmd)
		a->queue_tail = prev;
	cmd_free(a, cmd);
}

/* Sends what may go now and forgets it at once: a reply with an id
 * wherever its command stands, an id-less reply once it stands at the
 * head (every earlier command answered and gone).  Only commands still
 * waiting for their answer, or id-less ones waiting for their turn, stay
 * in the queue: a slow command at the head holds no one else's reply. */
static void flush_replies(struct agent *a)
{
	struct cmd *cmd, *prev = NULL, *next;

	for (cmd = a->queue; cmd; cmd = next) {
		next = cmd->next;
		if (cmd->answered && (cmd->id || !prev)) {
			reply_send(a, cmd);
			queue_drop(a, prev, cmd);
		} else {
			prev = cmd;
		}
	}
}

static void on_answered(struct cmd *cmd, void *arg)
{
	flush_replies(arg);
}

/* The connection is gone: so are the answers it waited for. */
static void forget_cmds(struct agent *a)
{
	struct cmd *cmd, *next;

	for (cmd = a->queue; cmd; cmd = next) {
		next = cmd->next;
		if (!cmd->answered)
			agent_cmd_forget(a->cmds, cmd);
		cmd_free(a, cmd);
	}
	a->queue = a->queue_tail = NULL;
}

static void spares_free(struct agent *a)
{
	struct cmd *cmd;

	while ((cmd = a->spare)) {
		a->spare = cmd->next;
		buf_free(&cmd->reply);
		free(cmd);
	}
	a->nspare = 0;
}

/* A command arrives: its record joins the queue, in order, before it
 * runs (it may be answered before agent_cmd_run returns). */
static void cmd_arrived(struct agent *a, const struct nest_msg *m)
{
	struct cmd *cmd = cmd_new(a);

	if (cmd && m->t_id >= 0 && cmd_set_id(cmd, m) < 0) {
		cmd_free(a, cmd);
		cmd = NULL;
	}
	if (!cmd) {
		log_error("out of memory: command dropped");
		return;
	}
	if (a->queue_tail)
		a->queue_tail->next = cmd;
	else
		a->queue = cmd;
	a->queue_tail = cmd;
	cmd->original = a->original;
	cmd->svc_wait_ms = a->svc_wait_ms;
	agent_cmd_run(a->cmds, cmd, m);
}

/* ---- connection ---- */

/* The original server takes whatever arrives next as the reply to its
 * next command: in its shapes nothing is sent unasked, a warning neither. */
static void send_warning(struct agent *a, const char *msg)
{
	struct buf b;

	if (a->original) {
		log_warn("not sent to the server (original shapes): warning %s", msg);
		return;
	}
	buf_init(&b, 0);
	if (proto_simple(&b, "warning", msg) == 0)
		conn_send_text(a->c, b.p, b.len);
	buf_free(&b);
}

static void hello(struct agent *a)
{
	struct buf b, cmds;
	struct jw w;
	const char *backend = "none";

	buf_init(&b, 0);
	buf_init(&cmds, 0);
	agent_cmd_describe(a->cmds, &cmds, &backend);
	proto_begin(&w, &b, "let_me_in_pls", "let me in! :D", NULL, 0);
	jw_key(&w, "payload");
	jw_obj(&w);
	jw_kstr(&w, "version", a->o->version);
	jw_kstr(&w, "client_token", a->o->token);
	jw_kstr(&w, "hostname", a->o->hostname);
	jw_kstr(&w, "services", backend);
	jw_kint(&w, "uid", (long long)getuid());
	if (cmds.len) {
		jw_key(&w, "commands");
		jw_raw(&w, cmds.p, cmds.len);
	}
	jw_obj_end(&w);
	proto_end(&w);
	conn_send_text(a->c, b.p, b.len);
	memset(b.p, 0, b.len);
	buf_free(&b);
	buf_free(&cmds);
}

static void on_open(struct conn *c)
{
	struct agent *a = c->owner;

	log_debug("WebSocket open to %s, authenticating", a->o->servers[a->cur]);
	conn_set_max_message(c, CFG_MAX_SERVER_MESSAGE);
	conn_set_timer(c, loop_now() + CFG_AUTH_TIMEOUT_MS + CFG_AUTH_ANSWER_SLACK_MS);
	a->original = a->o->compat != COMPAT_NESTD;
	a->svc_wait_ms = 0;
	a->awaiting_info = 0;
	hello(a);
}

static void server_error(struct agent *a, const struct nest_msg *m, const char *what)
{
	double ra;

	log_error("server refused us: %s", what);
	if (proto_payload_seconds(m, "retry_after", &ra, NULL, 0) == 0 && ra < CFG_RETRY_AFTER_MAX_S)
		a->retry_after_ms = (long long)(ra * 1000);
	if (a->c->state == CONN_AUTH || str_find(what, "replaced") || str_find(what, "revoked"))
		a->rejected = 1;
}

/* Before authentication: only the server's verdict counts. */
static void on_auth_reply(struct agent *a, const struct nest_msg *m, const char *what)
{
	if (m->status == NS_INFO && strcmp(what, "Authenticated :D") == 0) {
		conn_set_timer(a->c, 0);
		conn_set_state(a->c, CONN_OPEN);
		a->up_since = loop_now();
		a->authenticated_once = 1;
		a->rejected = 0;
		a->awaiting_info = 1;
		log_info("authenticated to %s", a->o->servers[a->cur]);
	} else if (m->status == NS_ERROR) {
		server_error(a, m, what);
	} else {
		log_warn("unexpected %s before authentication: %s",
			 proto_status_name(m->status), what);
	}
}

/* 1 if the payload's array member key holds the string word. */
static int payload_lists(const struct nest_msg *m, const char *key, const char *word)
{
	int t = proto_payload_get(m, key), i, n, e;

	if (t < 0 || json_type(&m->j, t) != JSON_ARRAY)
		return 0;
	n = json_count(&m->j, t);
	for (i = 0, e = t + 1; i < n; i++, e = json_next(&m->j, e))
		if (json_str_eq(&m->j, e, word))
			return 1;
	return 0;
}

/* The first message after "Authenticated :D": a nestd server says what
 * it is there (docs/PROTOCOL.md, "The negotiation"); anything else means
 * the original's shapes for this connection. */
static void negotiate(struct agent *a, const struct nest_msg *m)
{
	char server[16] = "", version[CFG_VERSION_MAX + 1] = "";
	double secs;

	a->awaiting_info = 0;
	if (m->status != NS_INFO ||
	    proto_payload_string(m, "server", server, sizeof(server), NULL, NULL, 0) < 0 ||
	    strcmp(server, "nestd") || !payload_lists(m, "features", "shapes")) {
		log_info("no word from the server about itself: the original's reply shapes");
		return;
	}
	proto_payload_string(m, "version", version, sizeof(version), NULL, NULL, 0);
	if (payload_lists(m, "features", "service_wait") &&
	    proto_payload_seconds(m, "command_timeout", &secs, NULL, 0) == 0 &&
	    secs * 1000 < 4e9)
		a->svc_wait_ms = secs * 1000 > 2 * CFG_SVC_WAIT_MARGIN_MS ?
				 (unsigned)(secs * 1000) - CFG_SVC_WAIT_MARGIN_MS :
				 (unsigned)(secs * 500);
	if (a->o->compat == COMPAT_AUTO)
		a->original = 0;
	log_info("the server is nestd %s: %s reply shapes", version[0] ? version : "(no version)",
		 a->original ? "the original's (--compat original)" : "nestd's");
}

/* After authentication: commands, and what the server tells us. */
static void on_message(struct agent *a, const struct nest_msg *m, const char *what)
{
	char st[64] = "", w[128];

	if (a->awaiting_info)
		negotiate(a, m);
	switch (m->status) {
	case NS_COMMAND:
		cmd_arrived(a, m);
		break;
	case NS_INFO:
		log_info("server: %s", what);
		break;
	case NS_WARNING:
		log_warn("server warning: %s", what);
		break;
	case NS_ERROR:
		server_error(a, m, what);
		break;
	case NS_UNKNOWN:
		json_strcpy(&m->j, m->t_status, st, sizeof(st));
		fmt_snprintf(w, sizeof(w), "unknown status '%s'", st);
		send_warning(a, w);
		break;
	default:
		fmt_snprintf(w, sizeof(w), "unexpected status '%s' from the server",
			 proto_status_name(m->status));
		send_warning(a, w);
		break;
	}
}

static void on_text(struct conn *c, char *p, size_t n)
{
	struct agent *a = c->owner;
	struct nest_msg m;
	char err[128], what[256];

	if (proto_parse(&m, p, n, err, sizeof(err)) < 0) {
		log_warn("malformed message from server: %s", err);
		fmt_snprintf(what, sizeof(what), "malformed message: %s", err);
		if (c->state == CONN_OPEN)
			send_warning(a, what);
		return;
	}
	/* A command's message is its name, which agent_cmd reads itself. */
	if (c->state == CONN_AUTH || m.status != NS_COMMAND)
		proto_message(&m, what, sizeof(what));
	else
		what[0] = '\0';
	if (c->state == CONN_AUTH)
		on_auth_reply(a, &m, what);
	else
		on_message(a, &m, what);
	proto_free(&m);
}

static void on_timer(struct conn *c)
{
	if (c->state == CONN_AUTH)
		conn_close(c, 1008, "no answer to authentication");
}

/* The next address of this URL, then the next URL. */
static void next_server(struct agent *a)
{
	if (++a->addr < a->naddr)
		return;
	a->addr = 0;
	a->cur = (a->cur + 1) % a->o->nservers;
}

static void on_close(struct conn *c, const char *why)
{
	struct agent *a = c->owner;

	a->c = NULL;
	forget_cmds(a);
	if (a->up_since) {
		log_info("disconnected from %s: %s", a->o->servers[a->cur], why);
		if (loop_now() - a->up_since >= CFG_RECONNECT_STABLE_MS)
			a->attempt = 0;
	} else if (!a->rejected) {
		log_warn("cannot connect to %s: %s", a->o->servers[a->cur], why);
	}
	next_server(a);
	a->up_since = 0;
	if (a->stopping) {
		loop_stop(a->loop);
		return;
	}
	if (a->o->once) {
		a->exit_code = a->authenticated_once && !a->rejected ? 0 : 1;
		loop_stop(a->loop);
		return;
	}
	schedule_reconnect(a);
}

static const struct conn_ops agent_conn_ops = {
	.on_open = on_open,
	.on_text = on_text,
	.on_timer = on_timer,
	.on_close = on_close,
};

static void dial(struct agent *a)
{
	const struct net_url *u = &a->o->urls[a->cur];
	char err[256];
	int fd = net_connect_at(u, a->addr, &a->naddr, err, sizeof(err));

	if (fd < 0) {
		log_warn("cannot connect to %s: %s", a->o->servers[a->cur], err);
		next_server(a);
		if (a->o->once) {
			a->exit_code = 1;
			loop_stop(a->loop);
			return;
		}
		schedule_reconnect(a);
		return;
	}
	a->c = conn_dial(a->loop, fd, u, &agent_conn_ops, a);
	if (!a->c) {
		schedule_reconnect(a);
		return;
	}
	if (u->tls && conn_set_tls(a->c, a->tls, u->host) < 0) {
		conn_destroy(a->c, "out of memory");
		return;
	}
	conn_set_ping(a->c, a->o->ping_ms);
}

static void timer_ready(struct loop_src *s, short revents)
{
	struct agent *a = s->arg;

	if (s->deadline && loop_now() >= s->deadline) {
		s->deadline = 0;
		dial(a);
	}
}

static void schedule_reconnect(struct agent *a)
{
	long long delay = rnd_backoff_ms(a->o->reconnect_min_ms, a->o->reconnect_max_ms, a->attempt);

	if (a->attempt < 30)
		a->attempt++;
	if (a->rejected) {
		/* Refused: no point knocking soon.  The long wait (5 minutes by
		 * default, 5 x --reconnect-max when that is shorter), jittered over
		 * its second half so refused agents do not return together. */
		long long base = a->o->reconnect_max_ms >= CFG_RECONNECT_MAX_MS ?
				 CFG_REJECTED_BACKOFF_MS : a->o->reconnect_max_ms * CFG_REJECTED_BACKOFF_FACTOR;

		delay = base / 2 + rnd_below(base / 2 + 1);
	}
	if (a->retry_after_ms > delay)
		delay = a->retry_after_ms;
	a->retry_after_ms = 0;
	log_info("reconnecting in %.2f s", (double)delay / 1000.0);
	a->timer.deadline = loop_now() + (delay > 0 ? delay : 1);
}

static void on_signal(int sig, void *arg)
{
	struct agent *a = arg;

	if (a->stopping)
		return;
	a->stopping = 1;
	log_info("%s: closing", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (a->c && (a->c->state == CONN_OPEN || a->c->state == CONN_AUTH))
		conn_close(a->c, 1001, "agent shutting down");
	else if (a->c)
		conn_abort(a->c, "agent shutting down");
	else
		loop_stop(a->loop);
}

/* Everything the run needs before the first dial; 0, or the exit status
 * with the reason in err. */
static int agent_setup(struct agent *a, char *err, size_t errlen)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	const struct agent_opts *o = a->o;
	int i, tls = 0;

	for (i = 0; i < o->nservers; i++)
		tls |= o->urls[i].tls;
	if (tls) {
		struct tls_client_opts t = { o->ca_file && *o->ca_file ? o->ca_file : NULL,
					     o->pin && *o->pin ? o->pin : NULL, o->insecure };

		a->tls = tls_client_ctx(&t, err, errlen);
		if (!a->tls)
			return strncmp(err, "bad --pin", 9) == 0 ? 2 : 1;
	}
	signal(SIGPIPE, SIG_IGN);
	a->loop = loop_new();
	if (!a->loop || loop_signals(a->loop, sigs, 2, on_signal, a) < 0) {
		fmt_snprintf(err, errlen, "cannot set up the event loop");
		return 1;
	}
	a->cmds = agent_cmd_init(a->loop, &o->cmd, on_answered, a, err, errlen);
	if (!a->cmds)
		return 2;
	a->timer.fd = -1;
	a->timer.ready = timer_ready;
	a->timer.arg = a;
	loop_add(a->loop, &a->timer);
	return 0;
}

static void agent_teardown(struct agent *a)
{
	if (a->c)
		conn_destroy(a->c, "agent shutting down");
	forget_cmds(a);
	spares_free(a);
	agent_cmd_free(a->cmds);
	tls_ctx_free(a->tls);
	loop_free(a->loop);
}

static int agent_run(const struct agent_opts *o)
{
	struct agent a;
	char err[512];
	int rc;

	memset(&a, 0, sizeof(a));
	a.o = o;
	rc = agent_setup(&a, err, sizeof(err));
	if (rc) {
		out_printf(&out_stderr, "nestd agent: %s\n", err);
		agent_teardown(&a);
		return rc;
	}
	log_info("nestd %s agent starting: server %s, host %s", NESTD_VERSION, o->server,
		 o->hostname);
	/* The first dial from inside the loop: a dial that fails at once
	 * (a Unix socket that is not there) may then stop it (--once). */
	a.timer.deadline = loop_now() + 1;
	loop_run(a.loop);
	agent_teardown(&a);
	log_info("agent stopped");
	return a.stopping ? 0 : a.exit_code;
}

int agent_main(int argc, char **argv)
{
	struct agent_opts o;
	char err[512];
	int rc = agent_opts_parse(&o, argc, argv, err, sizeof(err));

	if (rc == AGENT_OPTS_RUN) {
		rc = agent_run(&o);
	} else if (rc == AGENT_OPTS_HELP) {
		help_print(HELP_AGENT, &out_stdout);
		rc = 0;
	} else {
		out_printf(&out_stderr, "nestd agent: %s\n%s", err,
			rc == AGENT_OPTS_USAGE ? "Try 'nestd agent --help'.\n" : "");
		rc = 2;
	}
	agent_opts_free(&o);
	return rc;
}
