/* proto.h - the Nest Management Bot's message model (see the seed document
 * and PRODUCT.md): one JSON object per WebSocket text message, with
 * `status`, and `message` and/or `payload`, and an optional `id` string. */
#ifndef NESTD_PROTO_H
#define NESTD_PROTO_H

#include "json.h"

enum nest_status {
	NS_UNKNOWN = 0,            /* a string we do not know */
	NS_INFO, NS_COMMAND, NS_COMMAND_RESPONSE, NS_COMMAND_RESPONSE_ERROR,
	NS_WARNING, NS_ERROR, NS_LET_ME_IN,
};

struct nest_msg {
	struct json j;
	enum nest_status status;
	int t_status, t_message, t_payload, t_id;   /* token index, -1 absent */
};

/* Parses one message.  -1 (reason in err) when the text is not JSON, not an
 * object, or has no string `status`; also when `message` is present but not
 * a string or `id` is present but not a string.  An unknown status string
 * parses fine as NS_UNKNOWN.  On success call proto_free. */
int  proto_parse(struct nest_msg *m, const char *s, size_t n, char *err, size_t errlen);
void proto_free(struct nest_msg *m);
const char *proto_status_name(enum nest_status st);
/* 1 if m's message equals lit. */
int  proto_message_is(const struct nest_msg *m, const char *lit);
/* Field helpers: value token inside payload, or -1. */
int  proto_payload_get(const struct nest_msg *m, const char *key);

/* Builders.  proto_begin opens {"status":S, ["message":M,] ["id":ID] and leaves
 * the object open for an optional "payload" (write jw_key(w, "payload") and
 * the value), then proto_end closes it.  message may be NULL (omitted).
 * id may be NULL; if given it is the raw (still escaped) content of a JSON
 * string (json_raw of the command's id) and is copied verbatim (escaped
 * instead if it is not valid string content).  Builders that take a buf
 * append to it and leave it unchanged when they fail (-1). */
void proto_begin(struct jw *w, struct buf *b, const char *status,
		 const char *message, const char *id, size_t idlen);
void proto_end(struct jw *w);
/* {"status":S,"message":M} */
int  proto_simple(struct buf *b, const char *status, const char *message);
/* {"status":"command_response_error","message":"response_CMD",["id":ID,]
 *  "payload":{"error":WHY}} */
int  proto_reply_error(struct buf *b, const char *cmd, const char *id, size_t idlen,
		       const char *why);

#endif
