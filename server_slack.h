/* server_slack.h - the server's Slack face: the Nest Management Bot in
 * Slack, as the original was (docs/ORIGINAL.md), over Socket Mode.  A
 * Slack user is an operator whose scope is the agents whose token they
 * own (owner "slack:U…"); --slack-admins see every agent.  The face posts
 * commands through the router (server_router.h) like any other face and
 * shows their outcome in the App Home, in modals and in /nest's answers.
 *
 *   server_slack.c        this room: start, stop, what arrives
 *   server_slack_act.c    one job per thing a person asked, to its view
 *   server_slack_own.c    whose agents are whose; tokens minted; Web API calls
 *   server_slack_sock.c   the Socket Mode link     server_slack_api.c  the Web API
 *   server_slack_env.c    envelopes, read          server_slack_views.c views
 *   server_slack_bk.c     Block Kit in its limits  server_slack_store.c settings
 *
 * server.c calls the four functions below and nothing else of it. */
#ifndef NESTD_SERVER_SLACK_H
#define NESTD_SERVER_SLACK_H

#include <stddef.h>

struct peer;
struct server;
struct slack;

/* Starts the face when the options configure it (server_opts_slack):
 * reads the tokens, starts connecting.  NULL with err "" when Slack is
 * not configured, NULL with the reason when it cannot start (exit 1). */
struct slack *server_slack_new(struct server *s, char *err, size_t errlen);
/* SIGTERM: the Socket Mode links close (1001). */
void server_slack_close(struct slack *sl);
void server_slack_free(struct slack *sl);
/* An agent was admitted or went (here or, in a fleet, on another server;
 * NULL: any may have): its owner's App Home follows. */
void server_slack_agent(struct slack *sl, const char *agent);

/* `nestd slack manifest`: prints the app's manifest. */
int slack_main(int argc, char **argv);

#endif
