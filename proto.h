/* proto.h - the Nest Management Bot's message model (docs/PROTOCOL.md):
 * one JSON object per WebSocket text message, with `status`, and `message`
 * and/or `payload`, and an optional `id` string.  Parsing, typed reads of a
 * command's payload, and the builders of every message nestd sends, the
 * command replies included. */
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
/* m's message unescaped into out[0..cap): 0, or -1 (out "") when it is
 * absent, longer than cap - 1 bytes or holds a NUL character. */
int  proto_message(const struct nest_msg *m, char *out, size_t cap);
/* m's message as it was sent (still escaped), *n bytes; NULL when absent.
 * For quoting a message that proto_message refused. */
const char *proto_message_raw(const struct nest_msg *m, size_t *n);
/* Field helpers: value token inside payload, or -1. */
int  proto_payload_get(const struct nest_msg *m, const char *key);

/* Typed reads of a command's payload (docs/PROTOCOL.md, "Commands").  Each
 * looks KEY up in the payload object (a payload that is absent or not an
 * object has no members) and returns 0 with the value, or a negative
 * PROTO_E_* with the reason in err, worded for the command's error reply
 * ("payload.pid must be a positive integer").  err may be NULL. */
#define PROTO_E_TYPE  (-1)    /* absent, or not what KEY must be */
#define PROTO_E_LONG  (-2)    /* a string longer than the room for it */
#define PROTO_E_NUL   (-3)    /* a string holding a NUL character */

/* 1 when KEY is present with a value other than null, else 0. */
int  proto_payload_has(const struct nest_msg *m, const char *key);
/* "pid": an integer from 1 to INT_MAX ("payload.pid must be a positive
 * integer"). */
int  proto_payload_pid(const struct nest_msg *m, int *pid, char *err, size_t errlen);
/* An integer (no fraction, no exponent) from min to max ("payload.KEY must
 * be an integer from MIN to MAX"). */
int  proto_payload_int(const struct nest_msg *m, const char *key, long long min,
		       long long max, long long *v, char *err, size_t errlen);
/* A string, unescaped into out[0..cap) and NUL-terminated, its length in
 * *len.  PROTO_E_TYPE "payload.KEY must be a string"; PROTO_E_LONG
 * "payload.KEY must be at most CAP-1 bytes".  The string may hold NUL
 * characters, which *len counts; with len NULL, where nothing could tell,
 * such a string is refused: PROTO_E_NUL "payload.KEY must not contain NUL
 * characters". */
int  proto_payload_string(const struct nest_msg *m, const char *key, char *out,
			  size_t cap, size_t *len, char *err, size_t errlen);
/* A positive, finite number of seconds: 0 with *s; 1 when KEY is absent or
 * null (*s untouched); PROTO_E_TYPE "payload.KEY must be a positive number
 * of seconds". */
int  proto_payload_seconds(const struct nest_msg *m, const char *key, double *s,
			   char *err, size_t errlen);

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

/* The two reply shapes (docs/PROTOCOL.md, "Commands and replies"), built
 * by this file alone.  b's bound (its max) is the whole message's limit
 * (docs/PROTOCOL.md, "Limits and close codes"), so what a payload may take
 * is what the envelope leaves of it, whatever the command's name and id.
 *
 * Success, built in place so that a payload of megabytes is written once:
 * proto_reply_begin starts
 *   {"status":"command_response","message":"response_CMD",["id":ID,]"payload":
 * and leaves w where the payload value goes; the caller writes exactly one
 * value with w, then proto_reply_end closes the object: 0, or -1 when the
 * reply passed the bound (b then holds part of a message: drop it).  Both
 * shapes fail (-1) for a cmd longer than PROTO_CMD_MAX bytes. */
#define PROTO_CMD_MAX 128        /* the longest command name a reply names */
void proto_reply_begin(struct jw *w, struct buf *b, const char *cmd,
		       const char *id, size_t idlen);
int  proto_reply_end(struct jw *w);
/* {"status":"command_response_error","message":"response_CMD",["id":ID,]
 *  "payload":{"error":WHY}} */
int  proto_reply_error(struct buf *b, const char *cmd, const char *id, size_t idlen,
		       const char *why);
/* The original's error shape (docs/PROTOCOL.md, "Two reply shapes"): the
 * human text in message too, where the original client put it.
 * {"status":"command_response_error","message":WHY,["id":ID,]
 *  "payload":{"error":WHY}} */
int  proto_reply_error_text(struct buf *b, const char *id, size_t idlen, const char *why);

#endif
