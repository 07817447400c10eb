/* server_slack_int.h - the Slack face's state: server_slack.c owns it,
 * server_slack_act.c and server_slack_own.c work with it. */
#ifndef NESTD_SERVER_SLACK_INT_H
#define NESTD_SERVER_SLACK_INT_H

#include "config.h"
#include "loop.h"
#include "server_slack_api.h"
#include "server_slack_store.h"

struct server;
struct slack_api;
struct slack_env;
struct slack_job;
struct slack_sock;
struct tls_ctx;

struct slack {
	struct server *srv;
	struct tls_ctx *tls;             /* https:// and wss:// verification */
	struct slack_api *api;
	struct slack_sock *sock;
	struct slack_users users;
	struct slack_job *jobs;          /* in progress */
	struct loop_src home_timer;      /* home tabs due again (agents came or went) */
	char admins[CFG_SLACK_ADMINS][24];
	int nadmins;
	char base_url[600];              /* how agents reach the server, for install lines */
};

/* server_slack_act.c */
/* What arrived: an envelope's action, done.  1 when the ack is deferred
 * (a slash command answered in it). */
int  slack_act(struct slack *sl, const struct slack_env *e);
/* Publishes user's App Home. */
void slack_act_home(struct slack *sl, const char *user);
/* Every job ends (nothing more is sent). */
void slack_act_free_all(struct slack *sl);

/* server_slack_own.c, for the actions */
int  slack_is_admin(const struct slack *sl, const char *user);
/* 1 when user may act on the agent named name (its owner, or an admin). */
int  slack_may(const struct slack *sl, const char *user, const char *name);
/* A Web API call with the bot token; done hears the answer, or, NULL, only
 * the log does (server_slack_api.c logs what failed). */
struct slack_call *slack_call(struct slack *sl, const char *method, const char *body, size_t n,
			      slack_api_fn done, void *arg);

/* Agent tokens of user (all agent tokens for an admin): their names into
 * names[max]; the count. */
int  slack_agents_of(const struct slack *sl, const char *user, const char **names, int max);
/* Mints an agent token owned by user: its name and token into out; 0, or
 * -1 with the reason.  old: the name whose token it replaces (reset: the
 * old token is revoked and its session dropped), or NULL for a new one. */
int  slack_mint(struct slack *sl, const char *user, const char *old, char *name, size_t ncap,
		char *token, size_t tcap, char *err, size_t errlen);

#endif
