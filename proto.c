/* proto.c - the Nest Management Bot's messages (the seed document and
 * docs/PROTOCOL.md): one JSON object per WebSocket text message carrying a
 * string `status`, a string `message` and/or any `payload`, and nestd's
 * optional string `id`.  Parsing checks only this envelope; what a payload
 * means is the business of whoever handles that status, through the typed
 * readers here, so every handler words a bad field the same way and none
 * walks JSON tokens itself.  Building writes the fields
 * in the reference server's order (status, message, then id and payload), so
 * fixed replies such as {"status":"info","message":"Authenticated :D"} come
 * out byte for byte as the reference sent them. */
#include "proto.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

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
		fmt_snprintf(err, errlen, "%s", why);
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
	{
		static const char *const keys[] = { "status", "message", "payload", "id" };
		int t[4];

		json_get_keys(j, 0, keys, 4, t);
		m->t_status = t[0];
		m->t_message = t[1];
		m->t_payload = t[2];
		m->t_id = t[3];
	}
	if (m->t_status < 0)
		return fail(m, err, errlen, "no status");
	if (json_type(j, m->t_status) != JSON_STRING)
		return fail(m, err, errlen, "status is not a string");
	if (m->t_message >= 0 && json_type(j, m->t_message) != JSON_STRING)
		return fail(m, err, errlen, "message is not a string");
	if (m->t_id >= 0 && json_type(j, m->t_id) != JSON_STRING)
		return fail(m, err, errlen, "id is not a string");
	for (st = NS_UNKNOWN + 1; st < NNAMES; st++)
		if (json_str_eq(j, m->t_status, names[st])) {
			m->status = (enum nest_status)st;
			break;
		}
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

int proto_message(const struct nest_msg *m, char *out, size_t cap)
{
	if (m->t_message >= 0 && json_strcpy(&m->j, m->t_message, out, cap) == 0)
		return 0;
	if (cap)
		out[0] = '\0';
	return -1;
}

const char *proto_message_raw(const struct nest_msg *m, size_t *n)
{
	*n = 0;
	return m->t_message >= 0 ? json_raw(&m->j, m->t_message, n) : NULL;
}

int proto_payload_get(const struct nest_msg *m, const char *key)
{
	if (m->t_payload < 0)
		return -1;
	return json_get(&m->j, m->t_payload, key);
}

/* ---- typed payload fields ---- */

static int field_fail(int rc, char *err, size_t errlen, const char *fmt, const char *key,
		      long long a, long long b)
{
	if (err && errlen)
		fmt_snprintf(err, errlen, fmt, key, a, b);
	return rc;
}

int proto_payload_has(const struct nest_msg *m, const char *key)
{
	int t = proto_payload_get(m, key);

	return t >= 0 && json_type(&m->j, t) != JSON_NULL;
}

int proto_payload_int(const struct nest_msg *m, const char *key, long long min,
		      long long max, long long *v, char *err, size_t errlen)
{
	int t = proto_payload_get(m, key);
	long long x;

	if (t < 0 || json_int(&m->j, t, &x) < 0 || x < min || x > max)
		return field_fail(PROTO_E_TYPE, err, errlen,
				  "payload.%s must be an integer from %lld to %lld", key, min, max);
	*v = x;
	return 0;
}

int proto_payload_pid(const struct nest_msg *m, int *pid, char *err, size_t errlen)
{
	long long v;

	if (proto_payload_int(m, "pid", 1, INT_MAX, &v, NULL, 0) < 0)
		return field_fail(PROTO_E_TYPE, err, errlen,
				  "payload.%s must be a positive integer", "pid", 0, 0);
	*pid = (int)v;
	return 0;
}

int proto_payload_string(const struct nest_msg *m, const char *key, char *out,
			 size_t cap, size_t *len, char *err, size_t errlen)
{
	int t = proto_payload_get(m, key);
	struct buf b;
	size_t n;

	if (cap)
		out[0] = '\0';
	if (t < 0 || json_type(&m->j, t) != JSON_STRING || !cap)
		return field_fail(PROTO_E_TYPE, err, errlen, "payload.%s must be a string", key, 0, 0);
	buf_init(&b, cap - 1);     /* cap 1: no bound, hence the length check */
	if (json_str(&m->j, t, &b) < 0 || b.len > cap - 1) {
		buf_free(&b);
		return field_fail(PROTO_E_LONG, err, errlen, "payload.%s must be at most %lld bytes",
				  key, (long long)(cap - 1), 0);
	}
	n = b.len;
	memcpy(out, b.p ? b.p : "", n + 1);
	buf_free(&b);
	if (len)
		*len = n;
	else if (strlen(out) != n)
		return field_fail(PROTO_E_NUL, err, errlen,
				  "payload.%s must not contain NUL characters", key, 0, 0);
	return 0;
}

int proto_payload_seconds(const struct nest_msg *m, const char *key, double *s,
			  char *err, size_t errlen)
{
	int t = proto_payload_get(m, key);
	double v;

	if (!proto_payload_has(m, key))
		return 1;
	if (json_num(&m->j, t, &v) < 0 || !isfinite(v) || v <= 0)
		return field_fail(PROTO_E_TYPE, err, errlen,
				  "payload.%s must be a positive number of seconds", key, 0, 0);
	*s = v;
	return 0;
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

/* Both reply shapes up to "payload": (w is left in error when even that
 * does not fit). */
static void reply_open(struct jw *w, struct buf *b, const char *status, const char *cmd,
		       const char *id, size_t idlen)
{
	char msg[PROTO_CMD_MAX + 10];
	size_t n = strlen(cmd);

	/* "response_" + cmd; escaped later, with everything else. */
	if (n > PROTO_CMD_MAX) {
		jw_init(w, b);
		w->err = 1;
		return;
	}
	memcpy(msg, "response_", 9);
	memcpy(msg + 9, cmd, n + 1);
	proto_begin(w, b, status, msg, id, idlen);
	jw_key(w, "payload");
}

void proto_reply_begin(struct jw *w, struct buf *b, const char *cmd,
		       const char *id, size_t idlen)
{
	reply_open(w, b, "command_response", cmd, id, idlen);
}

int proto_reply_end(struct jw *w)
{
	proto_end(w);
	return jw_error(w) || w->depth != 0 ? -1 : 0;
}

int proto_reply_error(struct buf *b, const char *cmd, const char *id, size_t idlen,
		      const char *why)
{
	size_t old = b->len;
	struct jw w;

	reply_open(&w, b, "command_response_error", cmd, id, idlen);
	jw_obj(&w);
	jw_kstr(&w, "error", why);
	jw_obj_end(&w);
	proto_end(&w);
	return finish(&w, b, old);
}

int proto_reply_error_text(struct buf *b, const char *id, size_t idlen, const char *why)
{
	size_t old = b->len;
	struct jw w;

	proto_begin(&w, b, "command_response_error", why, id, idlen);
	jw_key(&w, "payload");
	jw_obj(&w);
	jw_kstr(&w, "error", why);
	jw_obj_end(&w);
	proto_end(&w);
	return finish(&w, b, old);
}
