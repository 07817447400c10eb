/* server_slack_api.h - Slack's Web API from the event loop: a call is a
 * method name ("views.publish") and a JSON body, POSTed to --slack-api-url
 * + method over httpc.c with the bot token (or, for apps.connections.open,
 * the app-level token) in an Authorization header, never in a log.
 *
 * What Slack's documentation asks of a caller ("Rate limits", "Using the
 * Slack Web API"): a 429 carries Retry-After, and no call goes before it
 * has passed (that one again, if its deadline allows); an answer
 * with "ok": false names its error code ("invalid_blocks",
 * "expired_trigger_id"...), which is logged with the method and handed to
 * the caller to show to whoever waits for it. */
#ifndef NESTD_SERVER_SLACK_API_H
#define NESTD_SERVER_SLACK_API_H

#include <stddef.h>
#include "json.h"

struct loop;
struct net_url;
struct tls_ctx;

struct slack_api;
struct slack_call;

/* A call's end, once (unless cancelled): error NULL and the answer in j
 * (token 0, "ok": true); or Slack's error code (j its answer) or our
 * reason ("timed out", "HTTP 500", j NULL). */
typedef void (*slack_api_fn)(void *arg, const char *error, const struct json *j);

/* base: the API's URL ("https://slack.com/api/"); the tokens are copied. */
struct slack_api *slack_api_new(struct loop *l, const struct net_url *base, struct tls_ctx *tls,
				const char *bot_token, const char *app_token);
/* Ends every call (done is not called). */
void slack_api_free(struct slack_api *a);

#define SLACK_BOT 0
#define SLACK_APP 1
/* Calls method with body (a JSON object's text); token: SLACK_BOT or
 * SLACK_APP.  timeout_ms bounds it, waits after a 429 included.  NULL
 * when memory runs out (done is then not called). */
struct slack_call *slack_api_call(struct slack_api *a, const char *method, int token,
				  const char *body, size_t n, long long timeout_ms,
				  slack_api_fn done, void *arg);
void slack_api_cancel(struct slack_call *c);

#endif
