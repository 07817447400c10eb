/* server_slack_act.c - what a person asks in Slack, each as one job from
 * the envelope to the view it ends in (server_slack_int.h).
 *
 * A job posts its command through the router, like every face, and
 * delivers the outcome to one surface: the person's App Home
 * (views.publish), a modal (views.update; opened with a "Loading…" modal
 * at once, because a trigger_id is good for 3 seconds and an agent may
 * take longer), or the acknowledgement of a slash command (within
 * CFG_SLACK_ACK_WAIT_MS; later, as a message from the bot).  An action
 * that changes something (a signal, a service action) is followed by the
 * command that shows its result, so the modal shows the process or the
 * unit as it is afterwards.
 *
 * A button's value names its target (server_slack_views.h); it is read
 * again here and checked with the same rule as every face (slack_may), so
 * a value forged to name someone else's agent reaches nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "server_int.h"
#include "server_router.h"
#include "server_slack_api.h"
#include "server_slack_env.h"
#include "server_slack_int.h"
#include "server_slack_sock.h"
#include "server_slack_views.h"
#include "server_where.h"
#include "num.h"

enum job_view { JV_HOME, JV_PS, JV_SVCS, JV_USAGE, JV_PORT, JV_PROC, JV_SVC };
enum surface { S_HOME, S_MODAL, S_ACK };

struct slack_job {
	struct slack *sl;
	struct slack_job *next, **pprev;
	struct loop_src tick;            /* the next step, outside the router's callback;
					  * a slash command's ack deadline */
	char user[24];
	enum job_view view;
	enum surface surface;
	char agent[TOKEN_NAME_MAX + 1];
	char host[CFG_HOSTNAME_MAX + 1];          /* its hostname, for the views */
	char target[CFG_SERVICE_NAME_MAX + 16];   /* the pid or the unit */
	int page;
	const char *action;              /* the command that changes something, or NULL */
	const char *follow;              /* the command that shows its result */
	char note[400];
	int note_bad;
	char view_id[SLACK_ID_MAX];      /* the modal, once views.open said */
	struct slack_call *opening;
	struct buf built;                /* a view waiting for its modal's id */
	char envelope_id[SLACK_ID_MAX];  /* a slash command's, until acknowledged */
	struct router_cmd *cmd;
	enum router_outcome outcome;
	char *reply;
	size_t reply_len;
	int answered;
};

/* ---- the jobs' records ---- */

static void job_free(struct slack_job *j)
{
	if (j->cmd)
		router_cancel(j->cmd);
	if (j->opening)
		slack_api_cancel(j->opening);
	loop_del(j->sl->srv->loop, &j->tick);
	*j->pprev = j->next;
	if (j->next)
		j->next->pprev = j->pprev;
	buf_free(&j->built);
	free(j->reply);
	free(j);
}

void slack_act_free_all(struct slack *sl)
{
	while (sl->jobs)
		job_free(sl->jobs);
}

static void job_tick(struct loop_src *s, short revents);

static struct slack_job *job_new(struct slack *sl, const char *user, enum job_view v,
				 enum surface sf, const char *agent)
{
	struct slack_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->sl = sl;
	fmt_copy(j->user, sizeof(j->user), user);
	fmt_snprintf(j->agent, sizeof(j->agent), "%s", agent ? agent : "");
	j->view = v;
	j->surface = sf;
	buf_init(&j->built, 0);
	j->tick.fd = -1;
	j->tick.ready = job_tick;
	j->tick.arg = j;
	if (loop_add(sl->srv->loop, &j->tick) < 0) {
		free(j);
		return NULL;
	}
	j->next = sl->jobs;
	j->pprev = &sl->jobs;
	if (sl->jobs)
		sl->jobs->pprev = &j->next;
	sl->jobs = j;
	return j;
}

/* ---- sending to Slack ---- */

/* {"KEY":VAL,"view":VIEW} to method; done hears the answer (NULL: only
 * the log does). */
static struct slack_call *send_view(struct slack *sl, const char *method, const char *key,
				    const char *val, const struct buf *view, slack_api_fn done,
				    void *arg)
{
	struct slack_call *c = NULL;
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, key, val);
	jw_key(&w, "view");
	jw_raw(&w, view->p, view->len);
	jw_obj_end(&w);
	if (!jw_error(&w))
		c = slack_call(sl, method, b.p, b.len, done, arg);
	buf_free(&b);
	return c;
}

/* A message from the bot in the person's App Home (its Messages tab):
 * for what no modal or acknowledgement can show any more. */
static void post_message(struct slack *sl, const char *user, const struct buf *msg)
{
	struct buf b;

	buf_init(&b, 0);
	if (msg->len > 1 && buf_printf(&b, "{\"channel\":\"%s\",%s", user, msg->p + 1) == 0)
		slack_call(sl, "chat.postMessage", b.p, b.len, NULL, NULL);
	buf_free(&b);
}

static void post_text(struct slack *sl, const char *user, const char *text)
{
	struct buf m;

	buf_init(&m, 0);
	if (sv_msg(&m, text) == 0)
		post_message(sl, user, &m);
	buf_free(&m);
}

static void opened(void *arg, const char *error, const struct json *j);

/* views.open (or views.push) of a modal the job fills in later. */
static void open_modal(struct slack_job *j, const char *method, const char *trigger,
		       const struct buf *view)
{
	j->opening = send_view(j->sl, method, "trigger_id", trigger, view, opened, j);
}

/* The job's view (or message) is ready: where it goes, then the job ends.
 * A modal whose id is not known yet keeps it until views.open answers. */
static void deliver(struct slack_job *j, struct buf *out, const char *text)
{
	struct slack *sl = j->sl;

	switch (j->surface) {
	case S_HOME:
		send_view(sl, "views.publish", "user_id", j->user, out, NULL, NULL);
		break;
	case S_MODAL:
		if (!j->view_id[0] && j->opening) {
			buf_free(&j->built);
			j->built = *out;
			buf_init(out, 0);
			return;
		}
		if (j->view_id[0])
			send_view(sl, "views.update", "view_id", j->view_id, out, NULL, NULL);
		else
			post_text(sl, j->user, text);
		break;
	case S_ACK:
		if (j->envelope_id[0])
			slack_sock_ack(sl->sock, j->envelope_id, out->p, out->len);
		else
			post_message(sl, j->user, out);
		break;
	}
	job_free(j);
}

static void opened(void *arg, const char *error, const struct json *js)
{
	struct slack_job *j = arg;
	char id[SLACK_ID_MAX];

	j->opening = NULL;
	if (!error && json_strcpy(js, json_get(js, json_get(js, 0, "view"), "id"), id, sizeof(id)) == 0)
		fmt_copy(j->view_id, sizeof(j->view_id), id);
	else
		log_warn("slack: %s: the window did not open (%s)", j->user, error ? error : "no view id");
	if (j->built.len) {
		struct buf out = j->built;
		char text[200];

		buf_init(&j->built, 0);
		fmt_snprintf(text, sizeof(text), "The window could not open (%s).",
			 error ? error : "no view id");
		deliver(j, &out, text);
		buf_free(&out);
	} else if (!j->view_id[0] && j->answered) {
		post_text(j->sl, j->user, "The window could not open.");
		job_free(j);
	}
}

/* ---- what people may reach ---- */

/* The agent named in a value, checked: 1 when this person may reach it
 * and it is connected (to any server of the fleet), else 0 with why. */
static int reach(struct slack *sl, const char *user, const char *agent, char *why, size_t n)
{
	struct agent_card card;
	int ok = slack_may(sl, user, agent) && server_agent_card(sl->srv, agent, &card);

	/* Someone else's agent is answered as a missing one: invisible. */
	if (ok)
		agent_card_free(&card);
	else
		fmt_snprintf(why, n, "Agent '%s' is not connected.", agent);
	return ok;
}

/* What the agent announced; an original client (no list) knows the
 * original's commands, and is never sent another (it would exit). */
static int supports(const struct agent_card *a, const char *cmd)
{
	return commands_offer(a->commands, cmd);
}

/* ---- the agent's answer ---- */

static int cmd_done(void *arg, enum router_outcome o, const char *text, size_t n)
{
	struct slack_job *j = arg;

	j->cmd = NULL;
	j->outcome = o;
	free(j->reply);
	j->reply = malloc(n + 1);
	j->reply_len = j->reply ? n : 0;
	if (j->reply) {
		memcpy(j->reply, text, n);
		j->reply[n] = '\0';
	}
	j->answered = 1;
	j->tick.deadline = loop_now();   /* the rest outside the router's callback */
	return o == ROUTER_OK || o == ROUTER_ERROR ? 200 : 0;
}

/* Posts command to the job's agent; a refusal is an answer too. */
static void job_send(struct slack_job *j, const char *command, const char *payload)
{
	struct slack *sl = j->sl;
	struct agent_card card;
	int known = server_agent_card(sl->srv, j->agent, &card), ok = !known || supports(&card, command);
	char who[TOKEN_NAME_MAX + 1], why[200];
	struct router_req q = { .agent = j->agent, .command = command, .payload = payload,
				.payload_len = payload ? strlen(payload) : 0, .who = who, .from = "slack" };

	fmt_snprintf(who, sizeof(who), "slack:%s", j->user);
	j->answered = 0;
	if (known)
		agent_card_free(&card);
	if (!ok) {
		fmt_snprintf(why, sizeof(why), "Agent '%s' does not take %s (not supported or not "
			 "allowed there).", j->agent, command);
		cmd_done(j, ROUTER_ERROR, why, strlen(why));   /* not JSON: our words */
		return;
	}
	j->cmd = router_post(sl->srv->router, &q, cmd_done, j, &j->outcome);
	if (!j->cmd)
		cmd_done(j, j->outcome, "", 0);
}

/* The outcome in words: NULL when the agent answered with success; *m is
 * its parsed message then (the caller frees it). */
static const char *outcome_text(struct slack_job *j, struct nest_msg *m, char *buf, size_t n)
{
	char err[120];

	switch (j->outcome) {
	case ROUTER_OK:
	case ROUTER_ERROR:
		if (proto_parse(m, j->reply, j->reply_len, err, sizeof(err)) < 0) {
			if (j->outcome == ROUTER_ERROR && j->reply_len)
				return j->reply;          /* our own words (job_send) */
			fmt_snprintf(buf, n, "Agent '%s' gave no reason.", j->agent);
			return buf;
		}
		if (m->status == NS_COMMAND_RESPONSE)
			return NULL;
		if (json_strcpy(&m->j, proto_payload_get(m, "error"), buf, n) < 0 &&
		    proto_message(m, buf, n) < 0)
			fmt_snprintf(buf, n, "Agent '%s' gave no reason.", j->agent);
		proto_free(m);
		return buf;
	default: {
		static const char *const why[] = {
			[ROUTER_TIMEOUT] = "did not answer in time",
			[ROUTER_AGENT_GONE] = "went away before it answered",
			[ROUTER_SHUTDOWN] = "cannot answer: the server is stopping",
			[ROUTER_NOT_CONNECTED] = "is not connected",
			[ROUTER_BUSY] = "is busy: try again in a moment",
			[ROUTER_SEND_FAILED] = "could not be sent the command",
			[ROUTER_NO_MEMORY] = "could not be sent the command",
		};
		unsigned o = (unsigned)j->outcome;

		fmt_snprintf(buf, n, "Agent '%s' %s.", j->agent,
			 o < sizeof(why) / sizeof(why[0]) && why[o] ? why[o] : "could not be reached");
		return buf;
	}
	}
}

/* {"pid":N[,"method":M]} or {"service_name":UNIT}: the job's target. */
static void target_payload(const struct slack_job *j, const char *method, char *out, size_t n)
{
	struct buf b;
	struct jw w;

	buf_init(&b, n - 1);
	jw_init(&w, &b);
	jw_obj(&w);
	if (j->view == JV_PROC) {
		jw_key(&w, "pid");
		jw_raw(&w, j->target, strlen(j->target));     /* digits, checked */
		if (method)
			jw_kstr(&w, "method", method);
	} else {
		jw_kstr(&w, "service_name", j->target);
	}
	jw_obj_end(&w);
	fmt_snprintf(out, n, "%s", jw_error(&w) ? "{}" : b.p);
	buf_free(&b);
}

/* ---- from the answer to the view ---- */

/* The context a view needs: the agent, the person's unit, the page. */
static void ctx_of(struct slack_job *j, struct sv_ctx *c)
{
	struct slack *sl = j->sl;
	struct slack_user *u = slack_users_get(&sl->users, j->user, 0);
	struct agent_card card;
	int known = server_agent_card(sl->srv, j->agent, &card);

	memset(c, 0, sizeof(*c));
	c->agent = j->agent;
	fmt_snprintf(j->host, sizeof(j->host), "%s", known ? card.hostname : "");
	c->host = j->host;
	c->unit = u ? u->unit : SV_GB;
	c->page = j->page;
	/* On a shared machine (an agent that is not root) a person sees the
	 * processes of the agent's uid; an admin sees them all. */
	c->uid = known && card.uid > 0 && !slack_is_admin(sl, j->user) ? card.uid : -1;
	c->note = j->note[0] ? j->note : NULL;
	c->note_bad = j->note_bad;
	if (known)
		agent_card_free(&card);
}

static int build(struct slack_job *j, struct buf *out, const struct json *js, int p)
{
	struct sv_ctx c;

	ctx_of(j, &c);
	c.message = j->surface == S_ACK;
	switch (j->view) {
	case JV_PS: return sv_processes(out, &c, js, p);
	case JV_SVCS: return sv_services(out, &c, js, p);
	case JV_USAGE: return sv_usage(out, &c, js, p);
	case JV_PORT: return sv_port(out, &c, js, p);
	case JV_PROC: return sv_process(out, &c, js, p);
	case JV_SVC: return sv_service(out, &c, js, p);
	case JV_HOME:
		break;
	}
	return -1;
}

static void home_with(struct slack *sl, const char *user, const char *note, const struct json *js,
		      int p);

/* A failure shown where the job's answer would have gone. */
static void fail(struct slack_job *j, const char *text)
{
	struct buf out;

	if (j->surface == S_HOME) {
		home_with(j->sl, j->user, text, NULL, -1);
		job_free(j);
		return;
	}
	buf_init(&out, 0);
	if (j->surface == S_MODAL)
		sv_modal(&out, "Not done", text);
	else
		sv_msg(&out, text);
	deliver(j, &out, text);
	buf_free(&out);
}

/* The action step's outcome becomes the note above the refreshed view. */
static void action_done(struct slack_job *j)
{
	static const char *const past[][2] = {
		{ "kill_process", "Signal sent" }, { "pause_process", "Paused (SIGSTOP)" },
		{ "resume_process", "Resumed (SIGCONT)" }, { "start_service", "Started" },
		{ "stop_service", "Stopped" }, { "restart_service", "Restarted" },
		{ "reload_service", "Reloaded" },
	};
	struct nest_msg m;
	const char *why = outcome_text(j, &m, j->note, sizeof(j->note));
	size_t i;

	if (why && why != j->note)
		fmt_copy(j->note, sizeof(j->note), why);
	if (!why) {
		for (i = 0; i < sizeof(past) / sizeof(past[0]); i++)
			if (j->action && !strcmp(past[i][0], j->action))
				fmt_snprintf(j->note, sizeof(j->note), "%s: %s", past[i][1], j->target);
		proto_free(&m);
	}
	j->note_bad = why != NULL;
	/* A signal takes effect when the process next runs: the view after
	 * it is asked for a moment later. */
	j->answered = 0;
	j->tick.deadline = loop_now() + CFG_SLACK_SETTLE_MS;
}

static void follow_up(struct slack_job *j)
{
	char payload[CFG_SERVICE_NAME_MAX * 2 + 64];
	const char *follow = j->follow;

	j->follow = NULL;
	target_payload(j, NULL, payload, sizeof(payload));
	job_send(j, follow, payload);
}

static void answered(struct slack_job *j)
{
	struct nest_msg m;
	struct buf out;
	char text[600];
	const char *why;

	if (j->follow) {
		action_done(j);
		return;
	}
	why = outcome_text(j, &m, text, sizeof(text));
	if (why && j->note[0] && (j->view == JV_PROC || j->view == JV_SVC)) {
		/* The action went through, the thing it acted on is gone. */
		char both[1100];

		fmt_snprintf(both, sizeof(both), "%s\n%s", j->note, why);
		fail(j, both);
		return;
	}
	if (why) {
		fail(j, why);
		return;
	}
	if (j->view == JV_HOME) {
		home_with(j->sl, j->user, NULL, &m.j, m.t_payload);
		proto_free(&m);
		job_free(j);
		return;
	}
	buf_init(&out, 0);
	if (build(j, &out, &m.j, m.t_payload) < 0) {
		proto_free(&m);
		buf_free(&out);
		log_warn("slack: %s: the view of %s's answer did not fit", j->user, j->agent);
		fail(j, "The answer could not be shown.");
		return;
	}
	proto_free(&m);
	deliver(j, &out, "The window could not open.");
	buf_free(&out);
}

static void job_tick(struct loop_src *s, short revents)
{
	struct slack_job *j = s->arg;

	s->deadline = 0;
	if (j->surface == S_ACK && j->envelope_id[0] && !j->answered) {
		/* Slack wants the acknowledgement now: the answer comes later. */
		struct buf m;
		char text[200];

		buf_init(&m, 0);
		fmt_snprintf(text, sizeof(text), "Asking %s\xe2\x80\xa6 the answer comes as a message from "
			 "the bot.", j->agent);
		sv_msg(&m, text);
		slack_sock_ack(j->sl->sock, j->envelope_id, m.p, m.len);
		j->envelope_id[0] = '\0';
		buf_free(&m);
		return;
	}
	if (j->answered)
		answered(j);
	else if (j->follow && !j->cmd)
		follow_up(j);
}

/* ---- the App Home ---- */

/* The person's agents, as the views show them; the chosen one's index
 * (their setting, else the first connected), or -1. */
static int agents(struct slack *sl, const char *user, struct sv_agent *a, int *any)
{
	const char *names[CFG_SLACK_AGENTS_MAX];
	struct slack_user *u = slack_users_get(&sl->users, user, 0);
	int n = slack_agents_of(sl, user, names, CFG_SLACK_AGENTS_MAX), i, chosen = -1;

	*any = 0;
	for (i = 0; i < n; i++) {
		struct agent_card card;
		int known = server_agent_card(sl->srv, names[i], &card);

		a[i].name = names[i];
		fmt_snprintf(a[i].host, sizeof(a[i].host), "%s", known ? card.hostname : "");
		a[i].since = known ? card.since : 0;
		a[i].original = known && !card.commands;
		*any |= known;
		if (known)
			agent_card_free(&card);
		if (u && !strcmp(u->agent, names[i]))
			chosen = i;
	}
	for (i = 0; i < n && (chosen < 0 || !a[chosen].since); i++)
		if (a[i].since && (chosen < 0 || !a[chosen].since))
			chosen = i;
	a[n].name = NULL;
	return n ? chosen : -1;
}

static void home_with(struct slack *sl, const char *user, const char *note, const struct json *js,
		      int p)
{
	struct sv_agent a[CFG_SLACK_AGENTS_MAX + 1];
	struct slack_user *u = slack_users_get(&sl->users, user, 0);
	int any, chosen = agents(sl, user, a, &any), n;
	struct buf out;
	struct sv_ctx c;

	for (n = 0; a[n].name; n++)
		;
	buf_init(&out, 0);
	if (!n) {
		sv_home_welcome(&out, note);
	} else if (!any) {
		sv_home_waiting(&out, a, n, sl->base_url, note);
	} else {
		memset(&c, 0, sizeof(c));
		c.agent = a[chosen].name;
		c.host = a[chosen].host;
		c.unit = u ? u->unit : SV_GB;
		c.note = note;
		c.note_bad = 1;
		sv_home(&out, a, n, chosen, &c, js, p);
	}
	send_view(sl, "views.publish", "user_id", user, &out, NULL, NULL);
	buf_free(&out);
}

void slack_act_home(struct slack *sl, const char *user)
{
	struct sv_agent a[CFG_SLACK_AGENTS_MAX + 1];
	int any, chosen = agents(sl, user, a, &any), known, ok;
	struct agent_card card;
	struct slack_job *j;

	known = chosen >= 0 && server_agent_card(sl->srv, a[chosen].name, &card);
	ok = known && supports(&card, "obtain_system_info");
	if (known)
		agent_card_free(&card);
	if (!ok || !(j = job_new(sl, user, JV_HOME, S_HOME, a[chosen].name))) {
		home_with(sl, user, NULL, NULL, -1);
		return;
	}
	job_send(j, "obtain_system_info", NULL);
}

/* ---- actions ---- */

/* The target after "AGENT|" in a value: digits for a pid or a page, a
 * unit name for a unit (the agent checks it again). */
static int target_ok(const char *t, int unit)
{
	size_t n = strlen(t);

	if (!n || n > CFG_SERVICE_NAME_MAX)
		return 0;
	if (unit)
		return t[0] != '-' && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789:_.@-\\") == n;
	return n <= 9 && strspn(t, "0123456789") == n;
}

static struct buf loading(void);

/* A job for an action on AGENT|TARGET: the agent reached, the target
 * read.  open: the modal to open for it first ("views.open",
 * "views.push"), or NULL for one that updates the modal it came from.
 * NULL when nothing is to be done (the failure already shown). */
static struct slack_job *target_job(struct slack *sl, const struct slack_env *e, enum job_view v,
				    enum surface sf, int unit, const char *open)
{
	char agent[TOKEN_NAME_MAX + 1] = "", why[200];
	const char *rest = "";
	struct slack_job *j;
	int ok = sv_split(e->value, agent, sizeof(agent), &rest) == 0;

	if (!ok && (v == JV_USAGE || v == JV_PORT)) {
		fmt_snprintf(agent, sizeof(agent), "%.*s", TOKEN_NAME_MAX, e->value);
		ok = 1;
	}
	j = job_new(sl, e->user, v, sf, agent);
	if (!j)
		return NULL;
	fmt_copy(j->target, sizeof(j->target), rest);
	if (sf == S_MODAL && !open)
		fmt_copy(j->view_id, sizeof(j->view_id), e->view_id);
	if (open) {
		struct buf l = loading();

		open_modal(j, open, e->trigger_id, &l);
		buf_free(&l);
	}
	if (!ok || !token_name_valid(agent) || (*rest && !target_ok(rest, unit)) ||
	    (!*rest && v != JV_USAGE && v != JV_PORT)) {
		log_warn("slack: %s: a value that names no target: ignored", e->user);
		fail(j, "Nothing to do.");
		return NULL;
	}
	if (!reach(sl, e->user, agent, why, sizeof(why))) {
		fail(j, why);
		return NULL;
	}
	if (v == JV_PS || v == JV_SVCS)
		j->page = num_atoi(rest);
	return j;
}

/* Usage, Processes, Services, Get a Port: pages of the home tab. */
static void a_page(struct slack *sl, const struct slack_env *e, const char *verb, const char *sfx)
{
	static const struct { const char *verb, *cmd; enum job_view v; } pages[] = {
		{ "usage", "obtain_user_usages", JV_USAGE }, { "ps", "obtain_all_process_info", JV_PS },
		{ "svcs", "list_services", JV_SVCS }, { "port", "get_port", JV_PORT },
	};
	size_t i;
	struct slack_job *j;

	for (i = 0; strcmp(pages[i].verb, verb); i++)
		;
	j = target_job(sl, e, pages[i].v, S_HOME, 0, NULL);
	if (j)
		job_send(j, pages[i].cmd, NULL);
}

static struct buf loading(void)
{
	struct buf b;

	buf_init(&b, 0);
	sv_modal(&b, "Loading\xe2\x80\xa6", "Asking the agent\xe2\x80\xa6");
	return b;
}

/* The process or service modal: opened (from the home tab), pushed (from
 * another modal) or refreshed in place. */
static void a_detail(struct slack *sl, const struct slack_env *e, const char *verb, const char *sfx)
{
	int unit = !strcmp(verb, "svc");
	const char *open = !strcmp(sfx, "again") ? NULL : !strcmp(sfx, "push") ? "views.push" :
			   "views.open";
	struct slack_job *j = target_job(sl, e, unit ? JV_SVC : JV_PROC, S_MODAL, unit, open);
	char payload[CFG_SERVICE_NAME_MAX * 2 + 64];

	if (!j)
		return;
	target_payload(j, NULL, payload, sizeof(payload));
	job_send(j, unit ? "obtain_service_info" : "obtain_process_info", payload);
}

/* Kill, Pause, Resume; Start, Stop, Restart, Reload: then the modal again. */
static void a_do(struct slack *sl, const struct slack_env *e, const char *verb, const char *sfx)
{
	static const char *const svc[][2] = {
		{ "start", "start_service" }, { "stop", "stop_service" },
		{ "restart", "restart_service" }, { "reload", "reload_service" },
	};
	int unit = !strcmp(verb, "svc_do");
	struct slack_job *j = target_job(sl, e, unit ? JV_SVC : JV_PROC, S_MODAL, unit, NULL);
	char payload[CFG_SERVICE_NAME_MAX * 2 + 64];
	size_t i;

	if (!j)
		return;
	j->follow = unit ? "obtain_service_info" : "obtain_process_info";
	if (unit) {
		for (i = 0; i < 4 && strcmp(svc[i][0], sfx); i++)
			;
		j->action = i < 4 ? svc[i][1] : "restart_service";
	} else {
		j->action = !strcmp(verb, "kill") ? "kill_process" :
			    !strcmp(verb, "pause") ? "pause_process" : "resume_process";
	}
	target_payload(j, strcmp(verb, "kill") ? NULL : !strcmp(sfx, "kill") ? "SIGKILL" : "SIGTERM",
		       payload, sizeof(payload));
	job_send(j, j->action, payload);
}

static void a_home(struct slack *sl, const struct slack_env *e, const char *verb, const char *sfx)
{
	slack_act_home(sl, e->user);
}

/* A setting changed: written at once, then the home tab shows it. */
static void save_user(struct slack *sl, const char *user)
{
	char err[300];

	if (slack_users_save(&sl->users, err, sizeof(err)) < 0)
		log_error("slack: settings not saved: %s", err);
	slack_act_home(sl, user);
}

static void a_choose(struct slack *sl, const struct slack_env *e, const char *verb, const char *sfx)
{
	struct slack_user *u = slack_users_get(&sl->users, e->user, 1);

	if (u && token_name_valid(e->value) && slack_may(sl, e->user, e->value))
		fmt_snprintf(u->agent, sizeof(u->agent), "%.*s", TOKEN_NAME_MAX, e->value);
	save_user(sl, e->user);
}

static void a_settings(struct slack *sl, const struct slack_env *e, const char *verb,
		       const char *sfx)
{
	struct slack_user *u = slack_users_get(&sl->users, e->user, 0);
	struct buf v;

	buf_init(&v, 0);
	if (sv_settings(&v, u ? u->unit : SV_GB) == 0)
		send_view(sl, "views.open", "trigger_id", e->trigger_id, &v, NULL, NULL);
	buf_free(&v);
}

static void a_tokens(struct slack *sl, const struct slack_env *e, const char *verb, const char *sfx)
{
	struct sv_agent a[CFG_SLACK_AGENTS_MAX + 1];
	int any, n;
	struct buf v;

	agents(sl, e->user, a, &any);
	for (n = 0; a[n].name; n++)
		;
	buf_init(&v, 0);
	if (sv_tokens(&v, a, n, NULL) == 0)
		send_view(sl, "views.open", "trigger_id", e->trigger_id, &v, NULL, NULL);
	buf_free(&v);
}

/* Get Token (a new agent of theirs) and Reset (value: the agent). */
static void a_token(struct slack *sl, const struct slack_env *e, const char *verb, const char *sfx)
{
	int reset = !strcmp(verb, "reset_token");
	char name[TOKEN_NAME_MAX + 1], tok[TOKEN_LEN + 1], err[300];
	struct buf v;
	int ok;

	buf_init(&v, 0);
	if (reset && (!token_name_valid(e->value) || !slack_may(sl, e->user, e->value)))
		ok = (fmt_snprintf(err, sizeof(err), "There is no token of yours named '%.64s'.", e->value), 0);
	else
		ok = slack_mint(sl, e->user, reset ? e->value : NULL, name, sizeof(name), tok,
				sizeof(tok), err, sizeof(err)) == 0;
	if (ok)
		sv_token(&v, name, tok, sl->base_url, reset ? "Reset: the old token no longer works."
			 : NULL);
	else
		sv_modal(&v, "Not done", err);
	memset(tok, 0, sizeof(tok));
	if (reset)
		send_view(sl, "views.update", "view_id", e->view_id, &v, NULL, NULL);
	else
		send_view(sl, strcmp(e->view_type, "modal") ? "views.open" : "views.push", "trigger_id",
			  e->trigger_id, &v, NULL, NULL);
	if (v.p)
		memset(v.p, 0, v.len);
	buf_free(&v);
	if (ok)
		slack_act_home(sl, e->user);
}

static void action(struct slack *sl, const struct slack_env *e)
{
	static const struct {
		const char *verb;
		void (*fn)(struct slack *, const struct slack_env *, const char *, const char *);
	} acts[] = {
		{ "home", a_home }, { "choose", a_choose }, { "settings", a_settings },
		{ "tokens", a_tokens }, { "get_token", a_token }, { "reset_token", a_token },
		{ "usage", a_page }, { "ps", a_page }, { "svcs", a_page }, { "port", a_page },
		{ "proc", a_detail }, { "svc", a_detail }, { "kill", a_do }, { "pause", a_do },
		{ "resume", a_do }, { "svc_do", a_do },
	};
	char verb[64];
	const char *dot = strchr(e->action_id, '.');
	size_t i;

	fmt_snprintf(verb, sizeof(verb), "%.*s", dot ? (int)(dot - e->action_id) : 63, e->action_id);
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (!strcmp(acts[i].verb, verb)) {
			acts[i].fn(sl, e, verb, dot ? dot + 1 : "");
			return;
		}
	log_info("slack: %s: unknown action '%s' ignored", e->user, e->action_id);
}

static void submit(struct slack *sl, const struct slack_env *e)
{
	static const char *const units[] = { "gb", "gib", "bytes" };
	struct slack_user *u;
	int i;

	if (strcmp(e->callback_id, "settings"))
		return;
	for (i = 0; i < 3 && strcmp(units[i], e->value); i++)
		;
	if (i == 3 || !(u = slack_users_get(&sl->users, e->user, 1)))
		return;
	u->unit = (enum sv_unit)i;
	save_user(sl, e->user);
}

/* ---- /nest ---- */

static void ack_text(struct slack *sl, const struct slack_env *e, const char *text)
{
	struct buf m;

	buf_init(&m, 0);
	sv_msg(&m, text);
	slack_sock_ack(sl->sock, e->envelope_id, m.p, m.len);
	buf_free(&m);
}

/* /nest status: the person's machines, as the home tab lists them. */
static void nest_status(struct slack *sl, const struct slack_env *e)
{
	struct sv_agent a[CFG_SLACK_AGENTS_MAX + 1];
	struct buf m;
	int any, n;

	agents(sl, e->user, a, &any);
	for (n = 0; a[n].name; n++)
		;
	buf_init(&m, 0);
	if (n)
		sv_msg_agents(&m, a, n);
	else
		sv_msg(&m, "No machine yet: Get Token on the bot's Home tab.");
	slack_sock_ack(sl->sock, e->envelope_id, m.p, m.len);
	buf_free(&m);
}

/* The first two words of text (each cut to its array). */
static void words(const char *text, char *a, size_t na, char *b, size_t nb)
{
	size_t k;

	text += strspn(text, " \t");
	k = strcspn(text, " \t");
	fmt_snprintf(a, na, "%.*s", (int)k, text);
	text += k;
	text += strspn(text, " \t");
	fmt_snprintf(b, nb, "%.*s", (int)strcspn(text, " \t"), text);
}

static int command(struct slack *sl, const struct slack_env *e)
{
	static const struct { const char *verb, *cmd; enum job_view v; } cmds[] = {
		{ "ps", "obtain_all_process_info", JV_PS },
		{ "services", "list_services", JV_SVCS }, { "port", "get_port", JV_PORT },
	};
	struct sv_agent a[CFG_SLACK_AGENTS_MAX + 1];
	char verb[16] = "", agent[TOKEN_NAME_MAX + 2] = "", why[200], help[400];
	struct slack_job *j;
	int any, chosen;
	size_t i;

	words(e->text, verb, sizeof(verb), agent, sizeof(agent));
	if (!strcmp(verb, "status")) {
		nest_status(sl, e);
		return 1;
	}
	for (i = 0; i < 3 && strcmp(cmds[i].verb, verb); i++)
		;
	if (i == 3) {
		fmt_snprintf(help, sizeof(help), "%s ps|services|port [AGENT]: your processes, services, "
			 "a free port; %s status: your machines. The Home tab has the rest.",
			 sl->srv->o->slack_command, sl->srv->o->slack_command);
		ack_text(sl, e, help);
		return 1;
	}
	chosen = agents(sl, e->user, a, &any);
	if (!agent[0] && chosen >= 0)
		fmt_copy(agent, sizeof(agent), a[chosen].name);
	if (!agent[0] || !token_name_valid(agent) || !reach(sl, e->user, agent, why, sizeof(why))) {
		if (!agent[0])
			fmt_snprintf(why, sizeof(why), "No machine yet: Get Token on the bot's Home tab.");
		else if (!token_name_valid(agent))
			fmt_snprintf(why, sizeof(why), "Agent '%.65s' is not connected.", agent);
		ack_text(sl, e, why);
		return 1;
	}
	j = job_new(sl, e->user, cmds[i].v, S_ACK, agent);
	if (!j)
		return 0;
	fmt_copy(j->envelope_id, sizeof(j->envelope_id), e->envelope_id);
	j->tick.deadline = loop_now() + CFG_SLACK_ACK_WAIT_MS;
	job_send(j, cmds[i].cmd, NULL);
	return 1;
}

int slack_act(struct slack *sl, const struct slack_env *e)
{
	struct slack_user *u;

	switch (e->kind) {
	case SK_HOME_OPENED:
		u = slack_users_get(&sl->users, e->user, 1);
		if (u)
			u->home_seen = 1;
		slack_act_home(sl, e->user);
		return 0;
	case SK_ACTION:
		action(sl, e);
		return 0;
	case SK_SUBMIT:
		submit(sl, e);
		return 0;
	case SK_COMMAND:
		return command(sl, e);
	default:
		return 0;
	}
}
