/* server_slack.c - the Slack face's room (see server_slack.h): its start
 * and stop, what arrives from Slack, agents that come and go, and `nestd
 * slack manifest`.  What people ask is handled in server_slack_act.c, whose
 * agents are whose in server_slack_own.c. */
#include "buf.h"
#include "server_slack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "help.h"
#include "fmt.h"
#include "log.h"
#include "net.h"
#include "out.h"
#include "server_int.h"
#include "server_slack_api.h"
#include "server_slack_int.h"
#include "server_slack_sock.h"
#include "tls.h"

/* ---- what arrives ---- */

static int on_envelope(void *arg, const struct slack_env *e)
{
	return slack_act(arg, e);
}

static void authed(void *arg, const char *error, const struct json *j)
{
	char team[128] = "";

	if (error) {
		log_error("slack: auth.test: %s", error);
		return;
	}
	json_strcpy(j, json_get(j, 0, "team"), team, sizeof(team));
	log_info("slack: signed in to %s", team);
}

void server_slack_agent(struct slack *sl, const char *agent)
{
	int i;

	if (!sl)
		return;
	/* Whoever had their home tab open and may see this agent sees it come
	 * and go: a moment later (the peer list has settled by then, and a
	 * burst of agents makes one publish a person). */
	for (i = 0; i < sl->users.n; i++) {
		struct slack_user *u = &sl->users.u[i];

		if (u->home_seen && (!agent || slack_may(sl, u->id, agent))) {
			u->home_due = 1;
			if (!sl->home_timer.deadline)
				sl->home_timer.deadline = loop_now() + CFG_SLACK_HOME_DELAY_MS;
		}
	}
}

static void home_due(struct loop_src *src, short revents)
{
	struct slack *sl = src->arg;
	int i;

	src->deadline = 0;
	for (i = 0; i < sl->users.n; i++)
		if (sl->users.u[i].home_due) {
			sl->users.u[i].home_due = 0;
			slack_act_home(sl, sl->users.u[i].id);
		}
}

/* ---- start and stop ---- */

/* A token from its file (mode checked, as every token file) or the
 * config file. */
static int read_token(const char *file, const char *inline_tok, char *out, size_t cap,
		      char *err, size_t errlen)
{
	if (!file[0]) {
		fmt_copy(out, cap, inline_tok);
		return 0;
	}
	return token_read_file(file, out, cap, err, errlen);
}

static int parse_admins(struct slack *sl, const char *list)
{
	const char *p = list;

	while (*p && sl->nadmins < CFG_SLACK_ADMINS) {
		size_t n = strcspn(p, ",");

		fmt_snprintf(sl->admins[sl->nadmins++], sizeof(sl->admins[0]), "%.*s", (int)n, p);
		p += n + (p[n] == ',');
	}
	return 0;
}

static void pick_base_url(struct slack *sl)
{
	const struct server_opts *o = sl->srv->o;
	int i;

	if (o->public_url[0]) {
		fmt_copy(sl->base_url, sizeof(sl->base_url), o->public_url);
		return;
	}
	fmt_snprintf(sl->base_url, sizeof(sl->base_url), "http://SERVER:8989");
	for (i = 0; i < o->nlisten; i++)
		if (o->listen[i].kind == NET_TCP) {
			fmt_snprintf(sl->base_url, sizeof(sl->base_url), "%s://%s:%s",
				 o->listen_tls[i] ? "https" : "http", o->listen[i].host, o->listen[i].port);
			break;
		}
}

static int open_link(struct slack *sl, char *err, size_t errlen)
{
	const struct server_opts *o = sl->srv->o;
	char app[CFG_SLACK_TOKEN_MAX + 2], bot[CFG_SLACK_TOKEN_MAX + 2];
	struct slack_sock_env se = { 0 };
	struct net_url u;
	int r = -1;

	if (read_token(o->slack_app_file, o->slack_app_token, app, sizeof(app), err, errlen) < 0 ||
	    read_token(o->slack_bot_file, o->slack_bot_token, bot, sizeof(bot), err, errlen) < 0 ||
	    net_parse_url(o->slack_api_url, &u, err, errlen) < 0)
		goto out;
	if (tls_available()) {
		struct tls_client_opts t = { NULL, NULL, 0 };

		if (!(sl->tls = tls_client_ctx(&t, err, errlen)) && u.tls)
			goto out;
	}
	sl->api = slack_api_new(sl->srv->loop, &u, u.tls ? sl->tls : NULL, bot, app);
	se.loop = sl->srv->loop;
	se.api = sl->api;
	se.tls = sl->tls;
	se.backoff_min_ms = CFG_RECONNECT_MIN_MS;
	se.backoff_max_ms = CFG_RECONNECT_MAX_MS;
	se.ping_ms = o->ping_ms;
	se.on_envelope = on_envelope;
	se.arg = sl;
	if (!sl->api || !(sl->sock = slack_sock_new(&se))) {
		fmt_snprintf(err, errlen, "out of memory");
		goto out;
	}
	slack_api_call(sl->api, "auth.test", SLACK_BOT, "{}", 2, CFG_SLACK_CALL_TIMEOUT_MS, authed, sl);
	r = 0;
out:
	memset(app, 0, sizeof(app));
	memset(bot, 0, sizeof(bot));
	return r;
}

struct slack *server_slack_new(struct server *s, char *err, size_t errlen)
{
	struct slack *sl;

	err[0] = '\0';
	if (!server_opts_slack(s->o))
		return NULL;
	sl = calloc(1, sizeof(*sl));
	if (!sl) {
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sl->srv = s;
	sl->home_timer.fd = -1;
	sl->home_timer.ready = home_due;
	sl->home_timer.arg = sl;
	if (loop_add(s->loop, &sl->home_timer) < 0) {
		fmt_snprintf(err, errlen, "out of memory");
		free(sl);
		return NULL;
	}
	parse_admins(sl, s->o->slack_admins);
	pick_base_url(sl);
	slack_users_load(&sl->users, s->o->state_dir);
	if (open_link(sl, err, errlen) < 0) {
		size_t l = strlen(err);

		fmt_snprintf(err + l, errlen - l, " (Slack)");
		server_slack_free(sl);
		return NULL;
	}
	log_info("slack: face on, %d admins, command %s", sl->nadmins, s->o->slack_command);
	return sl;
}

void server_slack_close(struct slack *sl)
{
	if (sl && sl->sock)
		slack_sock_close(sl->sock);
}

void server_slack_free(struct slack *sl)
{
	if (!sl)
		return;
	slack_act_free_all(sl);
	loop_del(sl->srv->loop, &sl->home_timer);
	slack_sock_free(sl->sock);
	slack_api_free(sl->api);
	tls_ctx_free(sl->tls);
	slack_users_free(&sl->users);
	free(sl);
}

/* ---- nestd slack manifest ---- */

/* nestd slack --help: HELP_TEXT(SLACK) in help_text.h. */

/* The manifest is HELP_TEXT(SLACK_MANIFEST) there too (stored compressed
 * with the help), its one %s the slash command. */
static int print_manifest(const char *cmd)
{
	unsigned char *tofree;
	size_t n;
	const char *p = help_text(HELP_SLACK_MANIFEST, &n, &tofree), *at;

	if (!p || !(at = str_find(p, "%s"))) {
		free(tofree);
		out_puts(&out_stderr, "nestd slack: out of memory\n");
		return 1;
	}
	out_write(&out_stdout, p, (size_t)(at - p));
	out_puts(&out_stdout, cmd);
	out_puts(&out_stdout, at + 2);
	free(tofree);
	return 0;
}

int slack_main(int argc, char **argv)
{
	const char *cmd = CFG_SLACK_COMMAND;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help_print(HELP_SLACK, &out_stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--slack-command") && i + 1 < argc)
			cmd = argv[++i];
		else if (!strncmp(argv[i], "--slack-command=", 16))
			cmd = argv[i] + 16;
		else if (strcmp(argv[i], "manifest"))
			break;
	}
	if (i < argc || argc < 2 || strcmp(argv[1], "manifest") || cmd[0] != '/' ||
	    strlen(cmd) > 32 || strspn(cmd + 1, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(cmd + 1)) {
		help_print(HELP_SLACK, &out_stderr);
		out_puts(&out_stderr, "Try 'nestd slack --help'.\n");
		return 2;
	}
	return print_manifest(cmd);
}
