/* proto.c - the Nest Management Bot's messages (the seed document and
 * PRODUCT.md): one JSON object per WebSocket text message carrying a string
 * `status`, a string `message` and/or any `payload`, and nestd's optional
 * string `id`.  Parsing checks only this envelope; what a payload means is
 * the business of whoever handles that status.  Building writes the fields
 * in the reference server's order (status, message, then id and payload), so
 * fixed replies such as {"status":"info","message":"Authenticated :D"} come
 * out byte for byte as the reference sent them. */
#include "proto.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = {
	[NS_INFO] = "info",
	[NS_COMMAND] = "command",
	[NS_COMMAND_RESPONSE] = "command_response",
	[NS_COMMAND_RESPONSE_ERROR] = "command_response_error",
	[NS_WARNING] = "warning",
	[NS_ERROR] = "error",
	[NS_LET_ME_IN] = "let_me_in_pls",
};
#define NNAMES (int)(sizeof names / sizeof names[0])

const char *proto_status_name(enum nest_status st)
{
	if ((int)st <= NS_UNKNOWN || (int)st >= NNAMES)
		return "unknown";
	return names[st];
}

static int fail(struct nest_msg *m, char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	json_free(&m->j);
	return -1;
}

int proto_parse(struct nest_msg *m, const char *s, size_t n, char *err, size_t errlen)
{
	struct json *j = &m->j;
	int st;

	m->status = NS_UNKNOWN;
	m->t_status = m->t_message = m->t_payload = m->t_id = -1;
	if (json_parse(j, s, n, err, errlen) < 0)
		return -1;
	if (json_type(j, 0) != JSON_OBJECT)
		return fail(m, err, errlen, "message is not a JSON object");
	m->t_status = json_get(j, 0, "status");
	m->t_message = json_get(j, 0, "message");
	m->t_payload = json_get(j, 0, "payload");
	m->t_id = json_get(j, 0, "id");
	if (m->t_status < 0)
		return fail(m, err, errlen, "no status");
	if (json_type(j, m->t_status) != JSON_STRING)
		return fail(m, err, errlen, "status is not a string");
	if (m->t_message >= 0 && json_type(j, m->t_message) != JSON_STRING)
		return fail(m, err, errlen, "message is not a string");
	if (m->t_id >= 0 && json_type(j, m->t_id) != JSON_STRING)
		return fail(m, err, errlen, "id is not a string");
	for (st = NS_UNKNOWN + 1; st < NNAMES; st++)
		if (json_str_eq(j, m->t_status, names[st]))
			m->status = (enum nest_status)st;
	return 0;
}

void proto_free(struct nest_msg *m)
{
	json_free(&m->j);
}

int proto_message_is(const struct nest_msg *m, const char *lit)
{
	return m->t_message >= 0 && json_str_eq(&m->j, m->t_message, lit);
}

int proto_payload_get(const struct nest_msg *m, const char *key)
{
	if (m->t_payload < 0)
		return -1;
	return json_get(&m->j, m->t_payload, key);
}

void proto_begin(struct jw *w, struct buf *b, const char *status,
		 const char *message, const char *id, size_t idlen)
{
	jw_init(w, b);
	jw_obj(w);
	jw_kstr(w, "status", status);
	if (message)
		jw_kstr(w, "message", message);
	if (id) {
		jw_key(w, "id");
		jw_strraw(w, id, idlen);
	}
}

void proto_end(struct jw *w)
{
	jw_obj_end(w);
}

/* Builders append to b; on failure b is left as it was. */
static int finish(struct jw *w, struct buf *b, size_t old)
{
	if (!jw_error(w) && w->depth == 0)
		return 0;
	b->len = old;
	if (b->p)
		b->p[old] = '\0';
	return -1;
}

int proto_simple(struct buf *b, const char *status, const char *message)
{
	size_t old = b->len;
	struct jw w;

	proto_begin(&w, b, status, message, NULL, 0);
	proto_end(&w);
	return finish(&w, b, old);
}

int proto_reply_error(struct buf *b, const char *cmd, const char *id, size_t idlen,
		      const char *why)
{
	size_t old = b->len;
	struct buf msg;
	struct jw w;

	/* "response_" + cmd; escaped later, with everything else. */
	buf_init(&msg, b->max);
	if (buf_puts(&msg, "response_") < 0 || buf_puts(&msg, cmd) < 0) {
		buf_free(&msg);
		return -1;
	}
	proto_begin(&w, b, "command_response_error", msg.p, id, idlen);
	buf_free(&msg);
	jw_key(&w, "payload");
	jw_obj(&w);
	jw_kstr(&w, "error", why);
	jw_obj_end(&w);
	proto_end(&w);
	return finish(&w, b, old);
}
