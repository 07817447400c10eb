/* server_slack_views.h - the Slack face's views, built from what agents
 * answered: the App Home in its three states, the processes and services
 * pages, the process and service modals, usage, a free port, settings,
 * tokens, and the answers to /nest.  Data in, Block Kit JSON out
 * (server_slack_bk.h keeps every view inside Slack's limits); nothing here
 * sends anything or knows who may see what.
 *
 * Every button names its target by id in its value, "AGENT|PID",
 * "AGENT|UNIT" or "AGENT|PAGE" (agent names and unit names hold no '|'),
 * never a whole object; the action that reads it checks it again.
 * Action ids are "VERB" or "VERB.WHICH" (the suffix only keeps ids unique
 * within a block; the verb decides). */
#ifndef NESTD_SERVER_SLACK_VIEWS_H
#define NESTD_SERVER_SLACK_VIEWS_H

#include <stddef.h>
#include "buf.h"
#include "config.h"
#include "json.h"

#define SV_PAGE 15             /* entries a page, as the original */

enum sv_unit { SV_GB, SV_GIB, SV_BYTES };

/* What a view shows besides the agent's reply. */
struct sv_ctx {
	const char *agent;         /* the agent's name */
	const char *host;          /* its hostname, or "" */
	enum sv_unit unit;
	int page;                  /* 0-based; views clamp it */
	long long uid;             /* processes: only this uid's; -1 all */
	const char *note;          /* a line shown first (an action's outcome), or NULL */
	int note_bad;              /* the note tells a failure */
	int message;               /* a page as an ephemeral message (/nest), not the home tab */
};

/* One of a person's agents, for the home tab and the token modal. */
struct sv_agent {
	const char *name;
	char host[CFG_HOSTNAME_MAX + 1];   /* "" when not connected */
	long long since;           /* connected since (epoch s), 0: not connected */
	int original;              /* an original client: no system figures */
};

/* "AGENT|REST" into agent (cap TOKEN_NAME_MAX + 1) and *rest; -1 when the
 * value is not of that form. */
int sv_split(const char *value, char *agent, size_t cap, const char **rest);

void sv_unit_bytes(struct buf *out, double bytes, enum sv_unit u);
const char *sv_unit_name(enum sv_unit u);

/* The App Home.  Not registered (no agent token of theirs): a welcome and
 * Get Token.  Registered, nothing connected: what to run.  Connected:
 * the agents, the chosen one's figures (sysinfo: obtain_system_info's
 * payload in j, or -1) and the menu. */
int sv_home_welcome(struct buf *b, const char *note);
int sv_home_waiting(struct buf *b, const struct sv_agent *a, int n, const char *base_url,
		    const char *note);
int sv_home(struct buf *b, const struct sv_agent *a, int n, int chosen, const struct sv_ctx *c,
	    const struct json *j, int sysinfo);

/* Pages of the home tab (or /nest's messages) and modals from an agent's
 * reply payload (token p of j). */
int sv_processes(struct buf *b, const struct sv_ctx *c, const struct json *j, int p);
int sv_services(struct buf *b, const struct sv_ctx *c, const struct json *j, int p);
int sv_usage(struct buf *b, const struct sv_ctx *c, const struct json *j, int p);
int sv_port(struct buf *b, const struct sv_ctx *c, const struct json *j, int p);
int sv_process(struct buf *b, const struct sv_ctx *c, const struct json *j, int p);
int sv_service(struct buf *b, const struct sv_ctx *c, const struct json *j, int p);

int sv_settings(struct buf *b, enum sv_unit u);
/* The person's agent tokens (reset one, get another). */
int sv_tokens(struct buf *b, const struct sv_agent *a, int n, const char *note);
/* A new token, shown once, with the lines that install the agent. */
int sv_token(struct buf *b, const char *agent, const char *token, const char *base_url,
	     const char *note);
/* A modal of one message (an error, a result, "Loading…"). */
int sv_modal(struct buf *b, const char *title, const char *text);

/* /nest's answers are ephemeral messages: one of text, or the pages above
 * with c->message set. */
int sv_msg(struct buf *b, const char *text);
/* /nest status: the person's machines, as the home tab lists them. */
int sv_msg_agents(struct buf *b, const struct sv_agent *a, int n);

#endif
