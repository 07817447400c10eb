/* server_slack_sock.h - the Socket Mode link to Slack ("Socket Mode
 * implementation", api.slack.com/apis/connections/socket-implement):
 * apps.connections.open with the app-level token gives a one-time
 * WebSocket URL; the link is dialled as returned (wss:// verified like any
 * other dial, ws:// only where a stand-in hands one out) and says hello;
 * every envelope is acknowledged with its envelope_id at once, before
 * anything is done for it (Slack wants the ack within 3 seconds), except
 * the ones the face answers in the ack itself (slash commands), which it
 * acknowledges through slack_sock_ack within CFG_SLACK_ACK_WAIT_MS.
 *
 * Slack refreshes links: a disconnect envelope (refresh_requested, or
 * warning shortly before it closes one) makes the session open a second
 * link at once and keep the old one until Slack closes it (or
 * CFG_SLACK_DRAIN_MS), so an envelope in flight on either is not lost.  A
 * dropped link, a failed open and link_disabled are retried with the
 * agents' full-jitter backoff.  Slack delivers an envelope again when its
 * ack did not arrive; the last CFG_SLACK_SEEN envelope ids are remembered,
 * and a repeat is acknowledged again but not acted on twice. */
#ifndef NESTD_SERVER_SLACK_SOCK_H
#define NESTD_SERVER_SLACK_SOCK_H

#include <stddef.h>

struct loop;
struct slack_api;
struct slack_env;
struct tls_ctx;

struct slack_sock;

/* An envelope to act on.  Returns 1 when the face will acknowledge it
 * itself (slack_sock_ack, soon), 0 when the session should now. */
typedef int (*slack_envelope_fn)(void *arg, const struct slack_env *e);

struct slack_sock_env {
	struct loop *loop;
	struct slack_api *api;          /* for apps.connections.open */
	struct tls_ctx *tls;            /* wss:// verification; NULL: built without TLS */
	long long backoff_min_ms, backoff_max_ms;
	int ping_ms;
	slack_envelope_fn on_envelope;
	void *arg;
};

/* Starts connecting at once.  NULL when memory runs out. */
struct slack_sock *slack_sock_new(const struct slack_sock_env *env);
/* Closes the links (1001). */
void slack_sock_close(struct slack_sock *s);
void slack_sock_free(struct slack_sock *s);
/* The deferred acknowledgement of envelope_id, with payload (a JSON
 * object's text) or NULL; sent on the link the envelope came by, or the
 * newest if that one is gone.  -1 when no link is up. */
int slack_sock_ack(struct slack_sock *s, const char *envelope_id, const char *payload, size_t n);
/* Links that said hello (for tests and logs). */
int slack_sock_up(const struct slack_sock *s);

#endif
