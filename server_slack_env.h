/* server_slack_env.h - Slack's Socket Mode messages, read: the envelope
 * (hello, disconnect, events_api, interactive, slash_commands) and the few
 * members of its payload that the Slack face acts on, copied into one
 * fixed record; and the acknowledgement written back.  Text in, record
 * out: no socket, no allocation kept (a fuzz target reads any bytes).
 *
 * Shapes, from Slack's Socket Mode documentation ("Socket Mode
 * implementation", api.slack.com/apis/connections/socket-implement):
 *   {"type":"hello","num_connections":1,"debug_info":{...},...}
 *   {"type":"disconnect","reason":"refresh_requested"|"warning"|"link_disabled",...}
 *   {"envelope_id":"…","type":"events_api"|"interactive"|"slash_commands",
 *    "accepts_response_payload":bool,"retry_attempt":N,"payload":{…}}
 * and the acknowledgement {"envelope_id":"…"[,"payload":{…}]}.  Payloads:
 * events_api's event_callback (event.type app_home_opened, event.user,
 * event.tab), interactive's block_actions (user.id, trigger_id, view,
 * actions[0]) and view_submission (user.id, view, its state), and a slash
 * command's form fields (user_id, command, text, trigger_id, channel_id). */
#ifndef NESTD_SERVER_SLACK_ENV_H
#define NESTD_SERVER_SLACK_ENV_H

#include <stddef.h>
#include "buf.h"

enum slack_env_type { SE_UNKNOWN, SE_HELLO, SE_DISCONNECT, SE_EVENTS_API, SE_INTERACTIVE,
		      SE_SLASH };

/* What the envelope asks of us. */
enum slack_kind {
	SK_NONE,              /* nothing to do (another event, view_closed, ...) */
	SK_HOME_OPENED,       /* app_home_opened on the Home tab */
	SK_ACTION,            /* block_actions: a button pressed, an option chosen */
	SK_SUBMIT,            /* view_submission */
	SK_COMMAND,           /* a slash command */
};

#define SLACK_ID_MAX 96   /* envelope, trigger, view ids; hashes */

struct slack_env {
	enum slack_env_type type;
	enum slack_kind kind;
	int accepts_response_payload;
	int retry_attempt;
	char envelope_id[SLACK_ID_MAX];
	char reason[48];           /* disconnect */
	char user[32];             /* who: U…/W… */
	char trigger_id[SLACK_ID_MAX];
	char view_id[SLACK_ID_MAX];     /* the view acted in (home or modal) */
	char view_hash[SLACK_ID_MAX];
	char view_type[16];        /* "home", "modal" */
	char callback_id[64];      /* the view's, ours */
	char metadata[512];        /* the view's private_metadata, ours */
	char action_id[64];
	char value[512];           /* the button's value or the option's; a submission's
				    * first selected option */
	char command[48];          /* "/nest" */
	char text[512];            /* the command's text */
	char channel[32];
};

/* Reads one Socket Mode message.  0, or -1 with the reason in err: not a
 * JSON object, no type, or a member the face needs that is not a string
 * or does not fit.  Even then e->type and e->envelope_id are filled when
 * they could be read, so the envelope can still be acknowledged. */
int slack_env_parse(struct slack_env *e, const char *text, size_t n, char *err, size_t errlen);
const char *slack_env_type_name(enum slack_env_type t);

/* {"envelope_id":ID} or {"envelope_id":ID,"payload":PAYLOAD} (PAYLOAD:
 * a JSON object's text, or NULL) appended to out; -1 past its bound. */
int slack_env_ack(struct buf *out, const char *envelope_id, const char *payload, size_t n);

#endif
