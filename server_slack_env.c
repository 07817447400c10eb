/* server_slack_env.c - Socket Mode messages in and acknowledgements out
 * (see server_slack_env.h). */
#include "server_slack_env.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "json.h"

struct rd {
	const struct json *j;
	int root;
	char *err;
	size_t errlen;
	int bad;
};

/* The string at path into out[cap]: absent or null leaves "" (not every
 * payload has every member); anything else that is no string, or too
 * long, is an error. */
static void str(struct rd *r, const char *path, char *out, size_t cap)
{
	int t = json_path(r->j, r->root, path);

	out[0] = '\0';
	if (t < 0 || json_type(r->j, t) == JSON_NULL || r->bad)
		return;
	if (json_strcpy(r->j, t, out, cap) < 0) {
		out[0] = '\0';
		r->bad = 1;
		fmt_snprintf(r->err, r->errlen, "%s is not a string of at most %zu bytes", path, cap - 1);
	}
}

static const char *const type_names[] = { "unknown", "hello", "disconnect", "events_api",
					  "interactive", "slash_commands" };

static enum slack_env_type type_of(const struct json *j)
{
	int t = json_get(j, 0, "type");
	size_t i;

	for (i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (json_str_eq(j, t, type_names[i]))
			return (enum slack_env_type)i;
	return SE_UNKNOWN;
}

const char *slack_env_type_name(enum slack_env_type t)
{
	return type_names[t];
}

static void read_event(struct rd *r, struct slack_env *e)
{
	char type[40];

	str(r, "payload.event.type", type, sizeof(type));
	str(r, "payload.event.user", e->user, sizeof(e->user));
	str(r, "payload.event.tab", e->view_type, sizeof(e->view_type));
	str(r, "payload.event.view.id", e->view_id, sizeof(e->view_id));
	if (strcmp(type, "app_home_opened") == 0 && strcmp(e->view_type, "home") == 0)
		e->kind = SK_HOME_OPENED;
}

/* A view_submission's first selected option: state.values.BLOCK.ACTION. */
static void read_state(struct rd *r, struct slack_env *e)
{
	const struct json *j = r->j;
	int vals = json_path(j, r->root, "payload.view.state.values"), b, a, i, k;

	if (json_type(j, vals) != JSON_OBJECT)
		return;
	for (i = 0, b = vals + 1; i < json_count(j, vals); i++, b = json_next(j, b + 1)) {
		if (json_type(j, b + 1) != JSON_OBJECT)
			continue;
		for (k = 0, a = b + 2; k < json_count(j, b + 1); k++, a = json_next(j, a + 1)) {
			int v = json_path(j, a + 1, "selected_option.value");

			if (v >= 0 && json_strcpy(j, v, e->value, sizeof(e->value)) == 0)
				return;
			e->value[0] = '\0';
		}
	}
}

static void read_interactive(struct rd *r, struct slack_env *e)
{
	char type[40];
	int act;

	str(r, "payload.type", type, sizeof(type));
	str(r, "payload.user.id", e->user, sizeof(e->user));
	str(r, "payload.trigger_id", e->trigger_id, sizeof(e->trigger_id));
	str(r, "payload.view.id", e->view_id, sizeof(e->view_id));
	str(r, "payload.view.hash", e->view_hash, sizeof(e->view_hash));
	str(r, "payload.view.type", e->view_type, sizeof(e->view_type));
	str(r, "payload.view.callback_id", e->callback_id, sizeof(e->callback_id));
	str(r, "payload.view.private_metadata", e->metadata, sizeof(e->metadata));
	if (strcmp(type, "view_submission") == 0) {
		e->kind = SK_SUBMIT;
		read_state(r, e);
		return;
	}
	if (strcmp(type, "block_actions") != 0)
		return;
	act = json_elem(r->j, json_path(r->j, r->root, "payload.actions"), 0);
	if (act < 0)
		return;
	e->kind = SK_ACTION;
	r->root = act;       /* the first action's members */
	str(r, "action_id", e->action_id, sizeof(e->action_id));
	str(r, "value", e->value, sizeof(e->value));
	if (!e->value[0])
		str(r, "selected_option.value", e->value, sizeof(e->value));
}

int slack_env_parse(struct slack_env *e, const char *text, size_t n, char *err, size_t errlen)
{
	struct json j;
	struct rd r = { &j, 0, err, errlen, 0 };
	long long v;
	int t;

	memset(e, 0, sizeof(*e));
	if (json_parse(&j, text, n, err, errlen) < 0)
		return -1;
	if (json_type(&j, 0) != JSON_OBJECT || json_type(&j, json_get(&j, 0, "type")) != JSON_STRING) {
		fmt_snprintf(err, errlen, "not an object with a string \"type\"");
		json_free(&j);
		return -1;
	}
	e->type = type_of(&j);
	str(&r, "envelope_id", e->envelope_id, sizeof(e->envelope_id));
	str(&r, "reason", e->reason, sizeof(e->reason));
	t = json_get(&j, 0, "accepts_response_payload");
	e->accepts_response_payload = json_type(&j, t) == JSON_TRUE;
	if (json_int(&j, json_get(&j, 0, "retry_attempt"), &v) == 0 && v >= 0 && v < 1000)
		e->retry_attempt = (int)v;
	if (e->type == SE_EVENTS_API) {
		read_event(&r, e);
	} else if (e->type == SE_INTERACTIVE) {
		read_interactive(&r, e);
	} else if (e->type == SE_SLASH) {
		str(&r, "payload.user_id", e->user, sizeof(e->user));
		str(&r, "payload.command", e->command, sizeof(e->command));
		str(&r, "payload.text", e->text, sizeof(e->text));
		str(&r, "payload.trigger_id", e->trigger_id, sizeof(e->trigger_id));
		str(&r, "payload.channel_id", e->channel, sizeof(e->channel));
		e->kind = SK_COMMAND;
	}
	json_free(&j);
	if (!r.bad && e->kind != SK_NONE && !e->user[0]) {
		fmt_snprintf(err, errlen, "%s without a user", slack_env_type_name(e->type));
		r.bad = 1;
	}
	if (r.bad)
		e->kind = SK_NONE;
	return r.bad ? -1 : 0;
}

int slack_env_ack(struct buf *out, const char *envelope_id, const char *payload, size_t n)
{
	struct jw w;
	size_t mark = out->len;

	jw_init(&w, out);
	jw_obj(&w);
	jw_kstr(&w, "envelope_id", envelope_id);
	if (payload) {
		jw_key(&w, "payload");
		jw_raw(&w, payload, n);
	}
	jw_obj_end(&w);
	if (jw_error(&w)) {
		out->len = mark;
		if (out->p)
			out->p[mark] = '\0';
		return -1;
	}
	return 0;
}
