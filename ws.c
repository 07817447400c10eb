/* ws.c - the RFC 6455 engine of ws.h: frame decoding and encoding, message
 * reassembly, control frames, the closing handshake and the opening
 * handshake for both roles.
 *
 * Sections: 4.1 and 4.2 (opening handshake), 5.2 (base framing, minimal
 * length encoding), 5.3 (masking), 5.4 (fragmentation, control frames between
 * fragments), 5.5 (control frames), 5.6 and 8.1 (UTF-8 text, validated as the
 * bytes arrive so a bad byte fails the connection at once), 5.5.1 and 7.4
 * (close codes), 7.1.7 (failing the connection).
 *
 * The decoder is a byte-driven state machine: a header is gathered into
 * ws->hdr (at most 14 bytes), then the payload is unmasked straight into its
 * destination (ws->msg for data, ws->ctl for control frames).  Every check
 * that the header alone can decide is made before any payload is read, so a
 * huge declared length costs nothing.  Input may be split anywhere. */
#include "ws.h"

#include <string.h>

#include "base64.h"
#include "rnd.h"
#include "sha1.h"
#include "utf8.h"

#define OP_CONT   0x0
#define OP_TEXT   0x1
#define OP_BINARY 0x2
#define OP_CLOSE  0x8
#define OP_PING   0x9
#define OP_PONG   0xa

/* RFC 6455 1.3 */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* A reassembly buffer bigger than this is released after its message is
 * delivered, so one large message does not pin memory for the connection's
 * lifetime.  A server, holding thousands of mostly idle connections, frees
 * it after every message; a client (the agent: one connection) keeps it. */
#define MSG_KEEP (64u << 10)

void ws_init(struct ws *ws, enum ws_role role, size_t max_message, struct buf *out)
{
	memset(ws, 0, sizeof(*ws));
	ws->role = role;
	ws->max_message = max_message ? max_message : CFG_WS_MAX_MESSAGE;
	ws->out = out;
	/* The bound is enforced against max_message from each frame header,
	 * so the caller may change ws->max_message between messages (e.g.
	 * after authentication). */
	buf_init(&ws->msg, 0);
	ws->hdr_need = 2;
	ws->utf8_state = UTF8_ACCEPT;
}

void ws_free(struct ws *ws)
{
	buf_free(&ws->msg);
}

/* dst[0..n) = src[0..n) XOR the key, src[0] being byte `pos` of the masked
 * stream; the two do not overlap.  Eight bytes at a time: the
 * key repeats every 4 bytes, so one 8-byte pattern serves every aligned
 * step; memcpy keeps it free of alignment and aliasing trouble and
 * compiles to plain loads and stores. */
static void ws_mask(unsigned char *restrict dst, const unsigned char *restrict src, size_t n,
		    const unsigned char key[4], size_t pos)
{
	size_t i = 0;

	if (n >= 16) {
		unsigned char pat[8];
		uint64_t k, w;
		int j;

		for (j = 0; j < 8; j++)
			pat[j] = key[(pos + (size_t)j) & 3];
		memcpy(&k, pat, 8);
		for (; i + 8 <= n; i += 8) {
			memcpy(&w, src + i, 8);
			w ^= k;
			memcpy(dst + i, &w, 8);
		}
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ key[(pos + i) & 3];
}

/* Appends one complete frame (FIN set) to ws->out: one reservation, the
 * payload copied once and, for a client, masked as it goes with a fresh key
 * (RFC 6455 5.3 wants an unpredictable key per frame). */
static int ws_put_frame(struct ws *ws, int op, const void *p, size_t n)
{
	unsigned char h[14], *dst, *key = NULL;
	size_t hl = 2;
	int i;

	h[0] = (unsigned char)(0x80 | op);
	if (n < 126) {
		h[1] = (unsigned char)n;
	} else if (n <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	if (ws->role == WS_ROLE_CLIENT) {
		h[1] |= 0x80;
		key = h + hl;
		if (rnd_bytes(key, 4) < 0)
			return -1;
		hl += 4;
	}
	if (n > (size_t)-1 / 2 || buf_reserve(ws->out, hl + n) < 0)
		return -1;
	dst = (unsigned char *)ws->out->p + ws->out->len;
	memcpy(dst, h, hl);
	/* a client's payload masked as it is copied: one pass, not two */
	if (key)
		ws_mask(dst + hl, p, n, key, 0);
	else if (n)
		memcpy(dst + hl, p, n);
	ws->out->len += hl + n;
	ws->out->p[ws->out->len] = '\0';
	return 0;
}

static int ws_put_close(struct ws *ws, unsigned code, const char *reason, size_t rlen)
{
	unsigned char pl[CFG_WS_MAX_CONTROL];

	if (code == 0)
		return ws_put_frame(ws, OP_CLOSE, NULL, 0);
	if (rlen > sizeof(pl) - 2)
		rlen = sizeof(pl) - 2;
	/* Never cut a character in half: the peer would fail us with 1007. */
	while (rlen > 0 && rlen < strlen(reason) && ((unsigned char)reason[rlen] & 0xc0) == 0x80)
		rlen--;
	pl[0] = (unsigned char)(code >> 8);
	pl[1] = (unsigned char)code;
	if (rlen)
		memcpy(pl + 2, reason, rlen);
	return ws_put_frame(ws, OP_CLOSE, pl, 2 + rlen);
}

/* Fails the connection (RFC 6455 7.1.7): queue a close with the code unless
 * one went out already, and ignore everything the peer sends from now on. */
static void ws_fail(struct ws *ws, unsigned code, const char *why, struct ws_event *ev)
{
	if (!ws->close_sent) {
		ws_put_close(ws, code, why, strlen(why));
		ws->close_sent = 1;
	}
	ws->failed = 1;
	ws->in_message = 0;
	buf_free(&ws->msg);
	ev->type = WS_EV_ERROR;
	ev->code = code;
	ev->data = why;
	ev->len = strlen(why);
}

/* Checks what the first two header bytes decide.  Returns the close code to
 * fail with, 0 if fine; *why gets the reason. */
static unsigned ws_check_start(struct ws *ws, const char **why)
{
	unsigned char b0 = ws->hdr[0], b1 = ws->hdr[1];
	unsigned len7 = b1 & 0x7f;

	ws->fin = !!(b0 & 0x80);
	ws->opcode = b0 & 0x0f;
	ws->masked = !!(b1 & 0x80);
	if (b0 & 0x70) {
		*why = "reserved bits set without an extension";
		return 1002;
	}
	switch (ws->opcode) {
	case OP_CLOSE:
	case OP_PING:
	case OP_PONG:
		/* 5.5: control frames are never fragmented, payload <= 125 */
		if (!ws->fin) {
			*why = "fragmented control frame";
			return 1002;
		}
		if (len7 > CFG_WS_MAX_CONTROL) {
			*why = "control frame payload over 125 bytes";
			return 1002;
		}
		break;
	case OP_CONT:
		if (!ws->in_message) {
			*why = "continuation frame without a message";
			return 1002;
		}
		break;
	case OP_TEXT:
	case OP_BINARY:
		if (ws->in_message) {
			*why = "new message before the previous one ended";
			return 1002;
		}
		if (ws->opcode == OP_BINARY) {
			*why = "binary messages are not supported";
			return 1003;
		}
		break;
	default:
		*why = "unknown opcode";
		return 1002;
	}
	/* 5.1: clients mask every frame, servers none. */
	if (ws->role == WS_ROLE_SERVER && !ws->masked) {
		*why = "client frame is not masked";
		return 1002;
	}
	if (ws->role == WS_ROLE_CLIENT && ws->masked) {
		*why = "server frame is masked";
		return 1002;
	}
	ws->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (ws->masked ? 4 : 0);
	return 0;
}

/* The header is complete: decode the length and mask, apply the size bound. */
static unsigned ws_check_header(struct ws *ws, const char **why)
{
	unsigned len7 = ws->hdr[1] & 0x7f;
	uint64_t len = len7;
	size_t off = 2;
	int i;

	if (len7 == 126) {
		len = (uint64_t)ws->hdr[2] << 8 | ws->hdr[3];
		off = 4;
		if (len < 126) {
			*why = "length not minimally encoded";
			return 1002;
		}
	} else if (len7 == 127) {
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | ws->hdr[2 + i];
		off = 10;
		if (len >> 63) {
			*why = "frame length has its top bit set";
			return 1002;
		}
		if (len <= 0xffff) {
			*why = "length not minimally encoded";
			return 1002;
		}
	}
	if (ws->masked)
		memcpy(ws->mask, ws->hdr + off, 4);
	ws->mask_pos = 0;
	ws->left = len;
	if (ws->opcode & 8) {
		ws->ctl_len = 0;
		return 0;
	}
	if (ws->opcode != OP_CONT) {
		buf_reset(&ws->msg);
		ws->utf8_state = UTF8_ACCEPT;
		ws->in_message = 1;
	}
	/* Decided from the declared length: nothing is buffered to find out. */
	if (ws->msg.len > ws->max_message || len > ws->max_message - ws->msg.len) {
		*why = "message too big";
		return 1009;
	}
	return 0;
}

/* Payload bytes of the current frame: unmask into place, validate text. */
static unsigned ws_take(struct ws *ws, const unsigned char *p, size_t n, const char **why)
{
	unsigned char *dst;

	if (ws->opcode & 8) {
		dst = ws->ctl + ws->ctl_len;
		ws->ctl_len += n;
	} else {
		if (buf_reserve(&ws->msg, n) < 0) {
			*why = "out of memory for the message";
			return 1009;
		}
		dst = (unsigned char *)ws->msg.p + ws->msg.len;
		ws->msg.len += n;
		ws->msg.p[ws->msg.len] = '\0';
	}
	if (ws->masked) {
		ws_mask(dst, p, n, ws->mask, ws->mask_pos);   /* unmasked as copied */
		ws->mask_pos += n;
	} else {
		memcpy(dst, p, n);
	}
	/* Fail fast (Autobahn 6.x): a bad byte ends the connection now, not at
	 * the end of the frame or message. */
	if (!(ws->opcode & 8)) {
		ws->utf8_state = utf8_run(ws->utf8_state, dst, n);
		if (ws->utf8_state == UTF8_REJECT) {
			*why = "invalid UTF-8 in a text message";
			return 1007;
		}
	}
	return 0;
}

/* RFC 6455 7.4.1 / 7.4.2: codes a peer may put in a close frame. */
static int ws_close_code_ok(unsigned c)
{
	if (c >= 1000 && c <= 1003)
		return 1;
	/* 1012-1014 are registered with IANA since RFC 6455 (service
	 * restart, try again later, bad gateway); 1015 is never sent. */
	if (c >= 1007 && c <= 1014)
		return 1;
	return c >= 3000 && c <= 4999;
}

/* A whole frame is in.  Returns 1 with *ev set when it makes an event. */
static int ws_frame_end(struct ws *ws, struct ws_event *ev)
{
	unsigned code;

	switch (ws->opcode) {
	case OP_CONT:
	case OP_TEXT:
		if (!ws->fin)
			return 0;
		if (ws->utf8_state != UTF8_ACCEPT) {
			ws_fail(ws, 1007, "text message ends inside a character", ev);
			return 1;
		}
		ws->in_message = 0;
		ws->msg_ready = 1;
		ev->type = WS_EV_TEXT;
		ev->data = ws->msg.p ? ws->msg.p : "";
		ev->len = ws->msg.len;
		return 1;
	case OP_PING:
		/* 5.5.2: answer with the same payload, even mid-message. */
		if (!ws->close_sent)
			ws_put_frame(ws, OP_PONG, ws->ctl, ws->ctl_len);
		ev->type = WS_EV_PING;
		ev->data = (const char *)ws->ctl;
		ev->len = ws->ctl_len;
		return 1;
	case OP_PONG:
		ev->type = WS_EV_PONG;
		ev->data = (const char *)ws->ctl;
		ev->len = ws->ctl_len;
		return 1;
	}
	/* OP_CLOSE (5.5.1) */
	if (ws->ctl_len == 1) {
		ws_fail(ws, 1002, "close frame with a 1-byte payload", ev);
		return 1;
	}
	code = 1005;
	if (ws->ctl_len >= 2) {
		code = (unsigned)ws->ctl[0] << 8 | ws->ctl[1];
		if (!ws_close_code_ok(code)) {
			ws_fail(ws, 1002, "invalid close code", ev);
			return 1;
		}
		if (!utf8_valid(ws->ctl + 2, ws->ctl_len - 2)) {
			ws_fail(ws, 1007, "close reason is not UTF-8", ev);
			return 1;
		}
	}
	ws->close_received = 1;
	if (!ws->close_sent) {
		/* Echo the peer's code; an empty close gets an empty reply. */
		ws_put_close(ws, code == 1005 ? 0 : code, "", 0);
		ws->close_sent = 1;
	}
	ws->in_message = 0;
	ev->type = WS_EV_CLOSE;
	ev->code = code;
	ev->data = ws->ctl_len > 2 ? (const char *)ws->ctl + 2 : "";
	ev->len = ws->ctl_len > 2 ? ws->ctl_len - 2 : 0;
	return 1;
}

size_t ws_recv(struct ws *ws, const void *in, size_t len, struct ws_event *ev)
{
	const unsigned char *s = in;
	const char *why = NULL;
	size_t i = 0, take;
	unsigned code;

	ev->type = WS_EV_NONE;
	ev->data = NULL;
	ev->len = 0;
	ev->code = 0;
	if (ws->msg_ready) {
		/* The last text event's data lived until this call. */
		if (ws->msg.cap > MSG_KEEP || ws->role == WS_ROLE_SERVER)
			buf_free(&ws->msg);
		else
			buf_reset(&ws->msg);
		ws->msg_ready = 0;
	}
	if (ws->failed || ws->close_received)
		return len;
	for (;;) {
		if (!ws->in_payload) {
			while (ws->hdr_len < ws->hdr_need && i < len) {
				ws->hdr[ws->hdr_len++] = s[i++];
				if (ws->hdr_len == 2 && (code = ws_check_start(ws, &why))) {
					ws_fail(ws, code, why, ev);
					return i;
				}
			}
			if (ws->hdr_len < ws->hdr_need)
				return i;
			if ((code = ws_check_header(ws, &why))) {
				ws_fail(ws, code, why, ev);
				return i;
			}
			ws->in_payload = 1;
		}
		if (ws->left) {
			take = len - i;
			if (take > ws->left)
				take = (size_t)ws->left;
			if (take == 0)
				return i;
			code = ws_take(ws, s + i, take, &why);
			i += take;
			ws->left -= take;
			if (code) {
				ws_fail(ws, code, why, ev);
				return i;
			}
			if (ws->left)
				return i;
		}
		ws->in_payload = 0;
		ws->hdr_len = 0;
		ws->hdr_need = 2;
		if (ws_frame_end(ws, ev))
			return i;
	}
}

int ws_send_text(struct ws *ws, const void *p, size_t n)
{
	if (ws->close_sent || ws->failed)
		return -1;
	return ws_put_frame(ws, OP_TEXT, p, n);
}

int ws_send_ping(struct ws *ws, const void *p, size_t n)
{
	if (ws->close_sent || ws->failed || n > CFG_WS_MAX_CONTROL)
		return -1;
	return ws_put_frame(ws, OP_PING, p, n);
}

int ws_send_close(struct ws *ws, unsigned code, const char *reason)
{
	if (ws->close_sent || ws->failed)
		return -1;
	/* 1005, 1006 and 1015 are for reporting, never for the wire (7.4.1). */
	if (code == 1005 || code == 1006 || code == 1015)
		code = 0;
	if (!reason)
		reason = "";
	if (ws_put_close(ws, code, reason, strlen(reason)) < 0)
		return -1;
	ws->close_sent = 1;
	return 0;
}

/* ---- opening handshake ---- */

void ws_accept_key(const char *key, size_t keylen, char out[29])
{
	struct sha1_ctx c;
	unsigned char d[20];

	sha1_init(&c);
	sha1_update(&c, key, keylen);
	sha1_update(&c, ws_guid, sizeof(ws_guid) - 1);
	sha1_final(&c, d);
	base64_encode(d, sizeof(d), out);
}

int ws_is_upgrade(const struct http_req *req)
{
	return http_has_token(http_get(req->h, req->nh, "upgrade"), "websocket");
}

/* A complete error response: the body repeats the reason for humans (curl)
 * and the connection closes after it. */
static int ws_reject(struct buf *out, int status, const char *extra,
		     const char *reason, const char **why)
{
	*why = reason;
	buf_printf(out, "HTTP/1.1 %d %s\r\n"
		   "Content-Type: text/plain\r\n"
		   "Content-Length: %zu\r\n"
		   "Connection: close\r\n"
		   "%s\r\n"
		   "%s\n",
		   status, http_reason(status), strlen(reason) + 1,
		   extra ? extra : "", reason);
	return -1;
}

static int ws_count(const struct http_req *req, const char *name)
{
	int i, n = 0;

	for (i = 0; i < req->nh; i++)
		n += http_span_ieq(&req->h[i].name, name);
	return n;
}

int ws_server_handshake(const struct http_req *req, struct buf *out, const char **why)
{
	const struct http_span *key, *ver;
	unsigned char raw[18];
	char accept[29];

	/* Methods are case-sensitive (RFC 9110 9.1). */
	if (req->method.n != 3 || memcmp(req->method.p, "GET", 3))
		return ws_reject(out, 405, "Allow: GET\r\n", "WebSocket upgrade needs GET", why);
	if (req->minor < 1)
		return ws_reject(out, 400, NULL, "WebSocket upgrade needs HTTP/1.1", why);
	if (!http_get(req->h, req->nh, "host"))
		return ws_reject(out, 400, NULL, "missing Host header", why);
	if (!ws_is_upgrade(req))
		return ws_reject(out, 400, NULL, "missing Upgrade: websocket", why);
	if (!http_has_token(http_get(req->h, req->nh, "connection"), "upgrade"))
		return ws_reject(out, 400, NULL, "Connection header lacks upgrade", why);
	/* 4.2.1: the key is a base64 16-byte nonce, sent once. */
	key = http_get(req->h, req->nh, "sec-websocket-key");
	if (!key || ws_count(req, "sec-websocket-key") != 1 || key->n != 24 ||
	    base64_decode(key->p, key->n, raw, sizeof(raw)) != 16)
		return ws_reject(out, 400, NULL, "missing or bad Sec-WebSocket-Key", why);
	/* 4.4: tell the client which version we speak. */
	ver = http_get(req->h, req->nh, "sec-websocket-version");
	if (!ver || ver->n != 2 || memcmp(ver->p, "13", 2) ||
	    ws_count(req, "sec-websocket-version") != 1)
		return ws_reject(out, 426, "Sec-WebSocket-Version: 13\r\n",
				 "unsupported WebSocket version (13 required)", why);
	/* Offered subprotocols and extensions are ignored: none is accepted,
	 * so none is echoed (4.2.2 step 5). */
	ws_accept_key(key->p, key->n, accept);
	if (buf_printf(out, "HTTP/1.1 101 Switching Protocols\r\n"
		       "Upgrade: websocket\r\n"
		       "Connection: Upgrade\r\n"
		       "Sec-WebSocket-Accept: %s\r\n"
		       "\r\n", accept) < 0) {
		*why = "output queue full";
		return -1;
	}
	*why = NULL;
	return 0;
}

/* Refuses text that would break out of the request line or a header. */
static int ws_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int ws_client_request(struct buf *out, const char *host, const char *path, char key[25])
{
	unsigned char nonce[16];

	if (!path || !*path)
		path = "/";
	if (!host || !*host || !ws_clean(host) || !ws_clean(path))
		return -1;
	if (rnd_bytes(nonce, sizeof(nonce)) < 0)
		return -1;
	base64_encode(nonce, sizeof(nonce), key);
	return buf_printf(out, "GET %s HTTP/1.1\r\n"
			  "Host: %s\r\n"
			  "Upgrade: websocket\r\n"
			  "Connection: Upgrade\r\n"
			  "Sec-WebSocket-Key: %s\r\n"
			  "Sec-WebSocket-Version: 13\r\n"
			  "User-Agent: nestd/" NESTD_VERSION "\r\n"
			  "\r\n", path, host, key);
}

int ws_client_check(const struct http_resp *resp, const char *key, const char **why)
{
	const struct http_span *acc, *v;
	char want[29];

	*why = NULL;
	if (resp->status != 101) {
		*why = "server did not switch protocols";
		return -1;
	}
	if (!http_has_token(http_get(resp->h, resp->nh, "upgrade"), "websocket")) {
		*why = "response lacks Upgrade: websocket";
		return -1;
	}
	if (!http_has_token(http_get(resp->h, resp->nh, "connection"), "upgrade")) {
		*why = "response lacks Connection: upgrade";
		return -1;
	}
	ws_accept_key(key, strlen(key), want);
	acc = http_get(resp->h, resp->nh, "sec-websocket-accept");
	if (!acc || acc->n != 28 || memcmp(acc->p, want, 28)) {
		*why = "wrong Sec-WebSocket-Accept";
		return -1;
	}
	/* 4.1: we offered none, so the server may not choose any. */
	v = http_get(resp->h, resp->nh, "sec-websocket-extensions");
	if (v && v->n) {
		*why = "server chose an extension we did not offer";
		return -1;
	}
	v = http_get(resp->h, resp->nh, "sec-websocket-protocol");
	if (v && v->n) {
		*why = "server chose a subprotocol we did not offer";
		return -1;
	}
	return 0;
}
