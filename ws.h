/* ws.h - RFC 6455 WebSocket protocol as a sans-I/O engine.
 *
 * Bytes in, events and bytes out; no sockets inside.  One engine serves both
 * roles: the role decides the masking rules (RFC 6455 5.1, 5.3).  Frames the
 * engine must send (pongs, close replies, protocol-error closes) are appended
 * to the caller's output buffer, the same one ws_send_* writes to.
 *
 * Implements: opening handshake checks and messages (4.1, 4.2), framing
 * (5.2), masking (5.3), fragmentation with interleaved control frames (5.4),
 * control frames (5.5), text UTF-8 validation that fails fast across frame
 * boundaries (5.6, 8.1), the closing handshake and status codes (5.5.1, 7.4). */
#ifndef NESTD_WS_H
#define NESTD_WS_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "http.h"

enum ws_role { WS_ROLE_CLIENT, WS_ROLE_SERVER };

enum ws_ev {
	WS_EV_NONE = 0,  /* all input consumed, no event */
	WS_EV_TEXT,      /* whole text message in data/len (valid UTF-8) */
	WS_EV_PING,      /* ping received, pong already queued; data = payload */
	WS_EV_PONG,      /* pong received; data = payload */
	WS_EV_CLOSE,     /* peer's close received; code (1005 if none), data =
			  * reason.  If we had not sent a close, the engine queued
			  * the echo.  Flush the output, then close the socket. */
	WS_EV_ERROR,     /* peer broke the protocol; code is the close code the
			  * engine queued (1002, 1003, 1007, 1009); data = a short
			  * human reason (static text).  Flush, then close. */
};

struct ws_event {
	enum ws_ev type;
	const char *data;   /* valid until the next ws_recv/ws_free */
	size_t len;
	unsigned code;
};

struct ws {
	enum ws_role role;
	size_t max_message;      /* reassembled message bound (1009 past it) */
	struct buf *out;         /* caller-owned output queue */

	/* frame decoder */
	unsigned char hdr[14];
	size_t hdr_len, hdr_need;
	uint64_t left;           /* payload bytes still to read in this frame */
	unsigned char mask[4];
	size_t mask_pos;
	int opcode, fin, masked;

	/* message reassembly */
	struct buf msg;          /* data frames of the current message */
	int in_message;          /* a fragmented message is in progress */
	unsigned char ctl[CFG_WS_MAX_CONTROL];
	size_t ctl_len;
	uint32_t utf8_state;     /* incremental validator state */

	int close_sent, close_received, failed;
	int in_payload;          /* header complete, reading the payload */
	int msg_ready;           /* msg was handed out: reset it next call */
};

void ws_init(struct ws *ws, enum ws_role role, size_t max_message, struct buf *out);
void ws_free(struct ws *ws);

/* Consumes bytes from in[0..len) and stops as soon as one event is ready.
 * Returns the bytes consumed; *ev says what happened (WS_EV_NONE when the
 * input ran out first).  Call again with the rest until it consumes nothing.
 * After WS_EV_CLOSE or WS_EV_ERROR all further input is ignored. */
size_t ws_recv(struct ws *ws, const void *in, size_t len, struct ws_event *ev);

/* Queue one frame; -1 if a close was already sent or the queue is full. */
int ws_send_text(struct ws *ws, const void *p, size_t n);
int ws_send_ping(struct ws *ws, const void *p, size_t n);   /* n <= 125 */
int ws_send_close(struct ws *ws, unsigned code, const char *reason);

/* Opening handshake, server side (RFC 6455 4.2).  req is an upgrade request
 * (see ws_is_upgrade).  On success appends the 101 response to out and
 * returns 0; on failure appends the error response (400, or 426 with
 * Sec-WebSocket-Version: 13 for a wrong version, 405 for a non-GET) and
 * returns -1 with *why set to a static reason. */
int ws_is_upgrade(const struct http_req *req);
int ws_server_handshake(const struct http_req *req, struct buf *out, const char **why);

/* Opening handshake, client side (RFC 6455 4.1).  key must hold 25 bytes:
 * ws_client_request fills it with a fresh base64 nonce and appends the GET
 * request to out.  ws_client_check verifies the server's response (101,
 * Upgrade, Connection, Sec-WebSocket-Accept). */
int ws_client_request(struct buf *out, const char *host, const char *path, char key[25]);
int ws_client_check(const struct http_resp *resp, const char *key, const char **why);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)); out holds 29. */
void ws_accept_key(const char *key, size_t keylen, char out[29]);

#endif
