/* test_ws.c - the WebSocket engine: RFC 6455 samples (1.3, 5.7), the
 * opening handshake, and conformance cases modelled on Autobahn|Testsuite
 * sections 1-7 and 9, for both roles, each fed whole, one byte at a time and
 * in odd chunks; the engine's own output is decoded by a peer engine. */
#include <stdlib.h>
#include "t.h"
#include "ws.h"

void test_ws_accept_key(void);
void test_ws_rfc_samples(void);
void test_ws_send_encoding(void);
void test_ws_autobahn_server(void);
void test_ws_autobahn_client(void);
void test_ws_fail_fast(void);
void test_ws_limits(void);
void test_ws_after_close(void);
void test_ws_big_send(void);
void test_ws_handshake_server(void);
void test_ws_handshake_bad(void);
void test_ws_handshake_client(void);

static const unsigned char rfc_key[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Appends one frame as the peer of `role` would send it: masked towards a
 * server.  b0 is the whole first byte (FIN, RSV, opcode). */
static void frame(struct buf *b, enum ws_role role, int b0, const void *p, size_t n)
{
	unsigned char h[14];
	size_t hl = 2, i;
	int masked = role == WS_ROLE_SERVER;

	h[0] = (unsigned char)b0;
	if (n < 126) {
		h[1] = (unsigned char)n;
	} else if (n < 65536) {
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
	if (masked) {
		h[1] |= 0x80;
		memcpy(h + hl, rfc_key, 4);
		hl += 4;
	}
	buf_append(b, h, hl);
	for (i = 0; i < n; i++) {
		unsigned char c = ((const unsigned char *)p)[i];

		buf_putc(b, (char)(masked ? c ^ rfc_key[i & 3] : c));
	}
}

static void text(struct buf *b, enum ws_role r, const char *s)
{
	frame(b, r, 0x81, s, strlen(s));
}

static void closef(struct buf *b, enum ws_role r, unsigned code, const char *reason)
{
	char p[200];
	size_t n = strlen(reason);

	p[0] = (char)(code >> 8);
	p[1] = (char)code;
	memcpy(p + 2, reason, n);
	frame(b, r, 0x88, p, n + 2);
}

/* Control bytes are logged as ^HH so expectations stay C strings. */
static void log_data(struct buf *log, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] < 0x20)
			buf_printf(log, "^%02x", (unsigned char)p[i]);
		else
			buf_putc(log, p[i]);
	}
}

/* Text, ping and pong payloads are logged up to 40 bytes, close reasons
 * whole. */
static void log_ev(struct buf *log, const struct ws_event *ev)
{
	size_t n = ev->len > 40 ? 40 : ev->len;

	switch (ev->type) {
	case WS_EV_NONE:
		return;
	case WS_EV_TEXT:
		buf_printf(log, "T%zu:", ev->len);
		break;
	case WS_EV_PING:
		buf_printf(log, "I%zu:", ev->len);
		break;
	case WS_EV_PONG:
		buf_printf(log, "O%zu:", ev->len);
		break;
	case WS_EV_CLOSE:
		buf_printf(log, "C%u:", ev->code);
		n = ev->len;
		break;
	case WS_EV_ERROR:
		buf_printf(log, "E%u;", ev->code);
		return;
	}
	log_data(log, ev->data, n);
	buf_putc(log, ';');
}

/* Feeds in[0..n) in chunks of `step` and logs the events; checks the
 * contract on the way: progress, nothing after CLOSE/ERROR. */
static void pump(struct ws *ws, const void *in, size_t n, size_t step, struct buf *log)
{
	const unsigned char *s = in;
	size_t pos = 0;
	int ended = 0;

	while (pos < n) {
		size_t chunk = n - pos < step ? n - pos : step, off = 0;

		while (off < chunk) {
			struct ws_event ev;
			size_t c = ws_recv(ws, s + pos + off, chunk - off, &ev);

			if (c == 0 && ev.type == WS_EV_NONE) {
				buf_puts(log, "STUCK;");
				return;
			}
			if (c > chunk - off)
				buf_puts(log, "OVER;");
			off += c;
			if (ev.type != WS_EV_NONE && ended)
				buf_puts(log, "AFTER-END;");
			if (ev.type == WS_EV_CLOSE || ev.type == WS_EV_ERROR)
				ended = 1;
			log_ev(log, &ev);
		}
		pos += chunk;
	}
}

/* Runs a fresh engine of `role` over the input; the log gets its events,
 * then "|", then what the engine queued as seen by a peer engine. */
static void run(enum ws_role role, size_t max, const struct buf *in, size_t step, struct buf *log)
{
	struct buf out, plog;
	struct ws ws, peer;

	buf_init(&out, 0);
	buf_init(&plog, 0);
	ws_init(&ws, role, max, &out);
	pump(&ws, in->p, in->len, step, log);
	ws_init(&peer, role == WS_ROLE_SERVER ? WS_ROLE_CLIENT : WS_ROLE_SERVER,
		64u << 20, &plog /* unused output */);
	buf_putc(log, '|');
	{
		struct buf pout;

		buf_init(&pout, 0);
		peer.out = &pout;
		pump(&peer, out.p, out.len, out.len ? out.len : 1, log);
		buf_free(&pout);
	}
	ws_free(&peer);
	ws_free(&ws);
	buf_free(&out);
	buf_free(&plog);
}

/* The same input, whole, byte by byte and in 3- and 7-byte chunks, must
 * give the expected log. */
static void expect_line(int line, enum ws_role role, size_t max, struct buf *in, const char *want)
{
	static const size_t steps[] = { 0, 1, 3, 7 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct buf log;
		size_t step = steps[i] ? steps[i] : (in->len ? in->len : 1);

		if (steps[i] == 1 && in->len > 300000)
			continue;   /* byte-wise is covered by the smaller cases */
		buf_init(&log, 0);
		run(role, max, in, step, &log);
		if (strcmp(log.p ? log.p : "", want)) {
			t_failed++;
			fprintf(stderr, "FAIL test_ws.c:%d (%s, step %zu)\n  got:  %s\n  want: %s\n",
				line, role == WS_ROLE_SERVER ? "server" : "client", step,
				log.p ? log.p : "", want);
		} else {
			t_passed++;
		}
		buf_free(&log);
	}
	buf_reset(in);
}
#define EXPECT(role, max, in, want) expect_line(__LINE__, role, max, in, want)

void test_ws_accept_key(void)
{
	char out[29];

	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
	CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

void test_ws_rfc_samples(void)
{
	/* RFC 6455 5.7 */
	static const unsigned char hello[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const unsigned char mhello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
		0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const unsigned char frag[] = { 0x01, 0x03, 0x48, 0x65, 0x6c,
		0x80, 0x02, 0x6c, 0x6f };
	static const unsigned char ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const unsigned char mpong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
		0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const unsigned char bin256[] = { 0x82, 0x7e, 0x01, 0x00 };
	static const unsigned char bin64k[] = { 0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0 };
	struct buf in;

	buf_init(&in, 0);
	buf_append(&in, hello, sizeof(hello));
	EXPECT(WS_ROLE_CLIENT, 0, &in, "T5:Hello;|");
	buf_append(&in, mhello, sizeof(mhello));
	EXPECT(WS_ROLE_SERVER, 0, &in, "T5:Hello;|");
	buf_append(&in, frag, sizeof(frag));
	EXPECT(WS_ROLE_CLIENT, 0, &in, "T5:Hello;|");
	buf_append(&in, ping, sizeof(ping));
	EXPECT(WS_ROLE_CLIENT, 0, &in, "I5:Hello;|O5:Hello;");
	buf_append(&in, mpong, sizeof(mpong));
	EXPECT(WS_ROLE_SERVER, 0, &in, "O5:Hello;|");
	/* The length encodings of 5.7; binary itself is refused (1003). */
	buf_append(&in, bin256, sizeof(bin256));
	EXPECT(WS_ROLE_CLIENT, 0, &in, "E1003;|C1003:binary messages are not supported;");
	buf_append(&in, bin64k, sizeof(bin64k));
	EXPECT(WS_ROLE_CLIENT, 0, &in, "E1003;|C1003:binary messages are not supported;");
	/* Masked frames are wrong towards a client, unmasked towards a server. */
	buf_append(&in, mhello, sizeof(mhello));
	EXPECT(WS_ROLE_CLIENT, 0, &in, "E1002;|C1002:server frame is masked;");
	buf_append(&in, hello, sizeof(hello));
	EXPECT(WS_ROLE_SERVER, 0, &in, "E1002;|C1002:client frame is not masked;");
	buf_free(&in);
}

void test_ws_send_encoding(void)
{
	struct buf out;
	struct ws ws;
	char *p = calloc(1, 65536);
	unsigned char k1[4], k2[4];

	buf_init(&out, 0);
	ws_init(&ws, WS_ROLE_SERVER, 0, &out);
	CHECK(ws_send_text(&ws, "Hello", 5) == 0);
	CHECK_MEM(out.p, out.len, "\x81\x05Hello", 7);
	buf_reset(&out);
	CHECK(ws_send_text(&ws, p, 256) == 0);
	CHECK(out.len == 260 && memcmp(out.p, "\x81\x7e\x01\x00", 4) == 0);
	buf_reset(&out);
	CHECK(ws_send_text(&ws, p, 65536) == 0);
	CHECK(out.len == 65546 && memcmp(out.p, "\x81\x7f\0\0\0\0\0\x01\0\0", 10) == 0);
	buf_reset(&out);
	CHECK(ws_send_text(&ws, p, 125) == 0 && (unsigned char)out.p[1] == 125);
	buf_reset(&out);
	CHECK(ws_send_text(&ws, p, 126) == 0 && (unsigned char)out.p[1] == 126);
	buf_reset(&out);
	CHECK(ws_send_text(&ws, p, 65535) == 0 && (unsigned char)out.p[1] == 126);
	buf_reset(&out);
	CHECK(ws_send_ping(&ws, p, 126) == -1);
	CHECK(ws_send_ping(&ws, "x", 1) == 0);
	CHECK_MEM(out.p, out.len, "\x89\x01x", 3);
	buf_reset(&out);
	CHECK(ws_send_close(&ws, 1000, "bye") == 0);
	CHECK_MEM(out.p, out.len, "\x88\x05\x03\xe8" "bye", 7);
	ws_free(&ws);

	/* Client: masked, a fresh key per frame. */
	buf_reset(&out);
	ws_init(&ws, WS_ROLE_CLIENT, 0, &out);
	CHECK(ws_send_text(&ws, "Hello", 5) == 0);
	CHECK(out.len == 11 && (unsigned char)out.p[0] == 0x81 && (unsigned char)out.p[1] == 0x85);
	memcpy(k1, out.p + 2, 4);
	CHECK(((unsigned char)out.p[6] ^ k1[0]) == 'H' && ((unsigned char)out.p[10] ^ k1[0]) == 'o');
	buf_reset(&out);
	CHECK(ws_send_text(&ws, "Hello", 5) == 0);
	memcpy(k2, out.p + 2, 4);
	CHECK(memcmp(k1, k2, 4) != 0);
	buf_reset(&out);
	CHECK(ws_send_close(&ws, 0, NULL) == 0);
	CHECK(out.len == 6 && (unsigned char)out.p[0] == 0x88 && (unsigned char)out.p[1] == 0x80);
	/* Reasons are cut to fit 125 bytes, never inside a character. */
	buf_reset(&out);
	ws_free(&ws);
	ws_init(&ws, WS_ROLE_SERVER, 0, &out);
	memset(p, 0, 300);
	{
		int i;

		for (i = 0; i < 100; i++)
			memcpy(p + 2 * i, "\xc3\xa9", 2);
	}
	CHECK(ws_send_close(&ws, 1001, p) == 0);
	CHECK(out.len == 2 + 124 && (unsigned char)out.p[1] == 124);
	ws_free(&ws);
	buf_free(&out);
	free(p);
}

/* Autobahn-style cases for one role.  The peer's frames are masked when
 * sent to a server; expectations are the same for both roles. */
static void autobahn(enum ws_role r)
{
	struct buf in;
	char *big = malloc(70000);
	char kosme[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
	/* 1012-1014 were registered with IANA after RFC 6455 (Autobahn's
	 * newer releases accept them too); 1015 may never be sent. */
	static const unsigned codes_ok[] = { 1000, 1001, 1002, 1003, 1007, 1008,
		1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
	static const unsigned codes_bad[] = { 0, 999, 1004, 1005, 1006,
		1015, 1016, 1100, 2000, 2999, 5000, 65535 };
	static const int bad_ops[] = { 3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf };
	char want[300];
	size_t i, k;

	buf_init(&in, 0);
	memset(big, '*', 70000);

	/* 1.1 text of various lengths */
	{
		static const size_t lens[] = { 0, 125, 126, 127, 128, 65535, 65536 };

		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			frame(&in, r, 0x81, big, lens[i]);
			snprintf(want, sizeof(want), "T%zu:%.*s;|", lens[i],
				 (int)(lens[i] > 40 ? 40 : lens[i]), big);
			EXPECT(r, 0, &in, want);
		}
	}
	/* 1.2 binary */
	frame(&in, r, 0x82, "\x00\x01", 2);
	EXPECT(r, 0, &in, "E1003;|C1003:binary messages are not supported;");

	/* 2.x pings and pongs */
	frame(&in, r, 0x89, "", 0);
	EXPECT(r, 0, &in, "I0:;|O0:;");
	frame(&in, r, 0x89, "Hello, world!", 13);
	EXPECT(r, 0, &in, "I13:Hello, world!;|O13:Hello, world!;");
	frame(&in, r, 0x89, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8);  /* binary payload */
	EXPECT(r, 0, &in, "I8:^00\xff\xfe\xfd\xfc\xfb^00\xff;|O8:^00\xff\xfe\xfd\xfc\xfb^00\xff;");
	frame(&in, r, 0x89, big, 125);
	snprintf(want, sizeof(want), "I125:%.40s;|O125:%.40s;", big, big);
	EXPECT(r, 0, &in, want);
	frame(&in, r, 0x89, big, 126);
	EXPECT(r, 0, &in, "E1002;|C1002:control frame payload over 125 bytes;");
	frame(&in, r, 0x8a, "unsolicited", 11);
	EXPECT(r, 0, &in, "O11:unsolicited;|");
	frame(&in, r, 0x8a, "p", 1);
	frame(&in, r, 0x89, "q", 1);
	EXPECT(r, 0, &in, "O1:p;I1:q;|O1:q;");
	for (i = 0; i < 10; i++)
		frame(&in, r, 0x89, "x", 1);
	EXPECT(r, 0, &in, "I1:x;I1:x;I1:x;I1:x;I1:x;I1:x;I1:x;I1:x;I1:x;I1:x;|"
	       "O1:x;O1:x;O1:x;O1:x;O1:x;O1:x;O1:x;O1:x;O1:x;O1:x;");

	/* 3.x reserved bits: valid traffic before the bad frame is delivered */
	for (k = 0x10; k <= 0x70; k += 0x10) {
		text(&in, r, "Hello");
		frame(&in, r, (int)(0x81 | k), "Hello", 5);
		text(&in, r, "Hello");
		EXPECT(r, 0, &in, "T5:Hello;E1002;|C1002:reserved bits set without an extension;");
	}
	frame(&in, r, 0xa9, "", 0);     /* RSV2 on a ping */
	EXPECT(r, 0, &in, "E1002;|C1002:reserved bits set without an extension;");
	frame(&in, r, 0xf8, "", 0);     /* all RSV on a close */
	EXPECT(r, 0, &in, "E1002;|C1002:reserved bits set without an extension;");

	/* 4.x reserved opcodes, with and without payload */
	for (k = 0; k < sizeof(bad_ops) / sizeof(bad_ops[0]); k++) {
		text(&in, r, "Hello");
		frame(&in, r, 0x80 | bad_ops[k], "reserved", k & 1 ? 8 : 0);
		frame(&in, r, 0x89, "", 0);
		EXPECT(r, 0, &in, "T5:Hello;E1002;|C1002:unknown opcode;");
	}

	/* 5.x fragmentation */
	frame(&in, r, 0x09, "ping", 4);               /* fragmented ping */
	frame(&in, r, 0x80, "pong", 4);
	EXPECT(r, 0, &in, "E1002;|C1002:fragmented control frame;");
	frame(&in, r, 0x0a, "pong", 4);
	EXPECT(r, 0, &in, "E1002;|C1002:fragmented control frame;");
	frame(&in, r, 0x01, "frag", 4);
	frame(&in, r, 0x80, "ment", 4);
	EXPECT(r, 0, &in, "T8:fragment;|");
	frame(&in, r, 0x01, "fr", 2);
	frame(&in, r, 0x00, "ag", 2);
	frame(&in, r, 0x00, "", 0);
	frame(&in, r, 0x80, "ment", 4);
	EXPECT(r, 0, &in, "T8:fragment;|");
	frame(&in, r, 0x01, "", 0);
	frame(&in, r, 0x80, "", 0);
	EXPECT(r, 0, &in, "T0:;|");
	frame(&in, r, 0x01, "frag", 4);                /* control frames between */
	frame(&in, r, 0x89, "ping", 4);
	frame(&in, r, 0x00, "me", 2);
	frame(&in, r, 0x8a, "pong", 4);
	frame(&in, r, 0x80, "nt", 2);
	EXPECT(r, 0, &in, "I4:ping;O4:pong;T8:fragment;|O4:ping;");
	frame(&in, r, 0x80, "cont", 4);                 /* continuation first */
	EXPECT(r, 0, &in, "E1002;|C1002:continuation frame without a message;");
	frame(&in, r, 0x00, "cont", 4);
	EXPECT(r, 0, &in, "E1002;|C1002:continuation frame without a message;");
	text(&in, r, "done");
	frame(&in, r, 0x80, "cont", 4);                 /* after a complete message */
	EXPECT(r, 0, &in, "T4:done;E1002;|C1002:continuation frame without a message;");
	frame(&in, r, 0x01, "frag", 4);                 /* new message inside one */
	text(&in, r, "new");
	EXPECT(r, 0, &in, "E1002;|C1002:new message before the previous one ended;");
	frame(&in, r, 0x01, "frag", 4);
	frame(&in, r, 0x82, "new", 3);
	EXPECT(r, 0, &in, "E1002;|C1002:new message before the previous one ended;");
	frame(&in, r, 0x02, "bin", 3);                  /* binary decided at once */
	EXPECT(r, 0, &in, "E1003;|C1003:binary messages are not supported;");
	frame(&in, r, 0x01, "frag", 4);                 /* close mid-message */
	closef(&in, r, 1000, "");
	EXPECT(r, 0, &in, "C1000:;|C1000:;");

	/* 6.x UTF-8 */
	text(&in, r, kosme);
	snprintf(want, sizeof(want), "T11:%s;|", kosme);
	EXPECT(r, 0, &in, want);
	for (i = 0; i <= 11; i++) {     /* split across fragments anywhere */
		frame(&in, r, 0x01, kosme, i);
		frame(&in, r, 0x80, kosme + i, 11 - i);
		EXPECT(r, 0, &in, want);
	}
	for (i = 0; i <= 11; i++) {     /* one byte per fragment */
		frame(&in, r, i == 0 ? 0x01 : i == 11 ? 0x80 : 0x00, kosme + (i < 11 ? i : 0), i < 11);
	}
	EXPECT(r, 0, &in, want);
	text(&in, r, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited");
	EXPECT(r, 0, &in, "E1007;|C1007:invalid UTF-8 in a text message;");
	frame(&in, r, 0x01, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11);
	frame(&in, r, 0x00, "\xed\xa0\x80", 3);          /* surrogate in fragment 2 */
	frame(&in, r, 0x80, "edited", 6);
	EXPECT(r, 0, &in, "E1007;|C1007:invalid UTF-8 in a text message;");
	frame(&in, r, 0x01, "ok \xf4", 4);               /* > U+10FFFF across frames */
	frame(&in, r, 0x80, "\x90\x80\x80", 3);
	EXPECT(r, 0, &in, "E1007;|C1007:invalid UTF-8 in a text message;");
	frame(&in, r, 0x81, "\xc0\xaf", 2);               /* overlong */
	EXPECT(r, 0, &in, "E1007;|C1007:invalid UTF-8 in a text message;");
	frame(&in, r, 0x81, "abc\xe2\x82", 5);            /* truncated at message end */
	EXPECT(r, 0, &in, "E1007;|C1007:text message ends inside a character;");
	frame(&in, r, 0x01, "abc\xe2\x82", 5);            /* ...but fine mid-message */
	frame(&in, r, 0x80, "\xac", 1);
	EXPECT(r, 0, &in, "T6:abc\xe2\x82\xac;|");
	frame(&in, r, 0x81, "\x00", 1);                   /* NUL is valid */
	EXPECT(r, 0, &in, "T1:^00;|");

	/* 7.x closing */
	frame(&in, r, 0x88, "", 0);
	EXPECT(r, 0, &in, "C1005:;|C1005:;");
	closef(&in, r, 1000, "");
	text(&in, r, "ignored after close");
	frame(&in, r, 0x89, "no pong", 7);
	EXPECT(r, 0, &in, "C1000:;|C1000:;");
	closef(&in, r, 1000, "Hello World!");
	EXPECT(r, 0, &in, "C1000:Hello World!;|C1000:;");
	frame(&in, r, 0x88, "\x03", 1);
	EXPECT(r, 0, &in, "E1002;|C1002:close frame with a 1-byte payload;");
	memset(want, 'r', 123);
	want[123] = '\0';
	closef(&in, r, 1000, want);
	{
		char w2[300];

		snprintf(w2, sizeof(w2), "C1000:%s;|C1000:;", want);
		EXPECT(r, 0, &in, w2);
	}
	memset(want, 'r', 124);
	want[124] = '\0';
	closef(&in, r, 1000, want);
	EXPECT(r, 0, &in, "E1002;|C1002:control frame payload over 125 bytes;");
	closef(&in, r, 1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited");
	EXPECT(r, 0, &in, "E1007;|C1007:close reason is not UTF-8;");
	for (k = 0; k < sizeof(codes_ok) / sizeof(codes_ok[0]); k++) {
		char w[64];

		closef(&in, r, codes_ok[k], "");
		snprintf(w, sizeof(w), "C%u:;|C%u:;", codes_ok[k], codes_ok[k]);
		EXPECT(r, 0, &in, w);
	}
	for (k = 0; k < sizeof(codes_bad) / sizeof(codes_bad[0]); k++) {
		closef(&in, r, codes_bad[k], "");
		EXPECT(r, 0, &in, "E1002;|C1002:invalid close code;");
	}

	/* 9.x big messages: up to the limit and one byte over */
	frame(&in, r, 0x81, big, 65536);
	EXPECT(r, 65536, &in, "T65536:****************************************;|");
	frame(&in, r, 0x81, big, 65537);
	EXPECT(r, 65536, &in, "E1009;|C1009:message too big;");
	frame(&in, r, 0x01, big, 40000);
	frame(&in, r, 0x89, "", 0);
	frame(&in, r, 0x80, big, 25536);
	EXPECT(r, 65536, &in, "I0:;T65536:****************************************;|O0:;");
	frame(&in, r, 0x01, big, 40000);
	frame(&in, r, 0x80, big, 25537);
	EXPECT(r, 65536, &in, "E1009;|C1009:message too big;");
	/* The limit is per message, not per connection. */
	frame(&in, r, 0x81, big, 60000);
	frame(&in, r, 0x81, big, 60000);
	EXPECT(r, 65536, &in, "T60000:****************************************;"
	       "T60000:****************************************;|");

	/* 5.2: minimal length encoding, 64-bit MSB */
	buf_append(&in, r == WS_ROLE_SERVER ? "\x81\xfe\x00\x05" : "\x81\x7e\x00\x05", 4);
	if (r == WS_ROLE_SERVER)
		buf_append(&in, "\0\0\0\0", 4);
	buf_append(&in, "Hello", 5);
	EXPECT(r, 0, &in, "E1002;|C1002:length not minimally encoded;");
	buf_append(&in, r == WS_ROLE_SERVER ? "\x81\xff" : "\x81\x7f", 2);
	buf_append(&in, "\0\0\0\0\0\0\xff\xff", 8);
	if (r == WS_ROLE_SERVER)
		buf_append(&in, "\0\0\0\0", 4);
	EXPECT(r, 0, &in, "E1002;|C1002:length not minimally encoded;");
	buf_append(&in, r == WS_ROLE_SERVER ? "\x81\xff" : "\x81\x7f", 2);
	buf_append(&in, "\x80\0\0\0\0\0\0\x05", 8);
	if (r == WS_ROLE_SERVER)
		buf_append(&in, "\0\0\0\0", 4);
	EXPECT(r, 0, &in, "E1002;|C1002:frame length has its top bit set;");

	buf_free(&in);
	free(big);
}

void test_ws_autobahn_server(void)
{
	autobahn(WS_ROLE_SERVER);
}

void test_ws_autobahn_client(void)
{
	autobahn(WS_ROLE_CLIENT);
}

/* Feeds bytes one at a time; returns the index of the byte that produced
 * the first event, or -1. */
static long first_event(enum ws_role role, size_t max, const struct buf *in, struct ws_event *ev)
{
	struct buf out;
	struct ws ws;
	size_t i;
	long at = -1;

	buf_init(&out, 0);
	ws_init(&ws, role, max, &out);
	for (i = 0; i < in->len; i++) {
		ws_recv(&ws, in->p + i, 1, ev);
		if (ev->type != WS_EV_NONE) {
			at = (long)i;
			break;
		}
	}
	ws_free(&ws);
	buf_free(&out);
	return at;
}

void test_ws_fail_fast(void)
{
	struct buf in;
	struct ws_event ev;
	enum ws_role r;

	buf_init(&in, 0);
	for (r = WS_ROLE_CLIENT; r <= WS_ROLE_SERVER; r++) {
		size_t hl = r == WS_ROLE_SERVER ? 6 : 2;

		/* 6.4.x: the error comes with the bad byte, mid-frame. */
		frame(&in, r, 0x81, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\xed\xa0\x80" "edited", 24);
		CHECK(first_event(r, 0, &in, &ev) == (long)(hl + 12));
		CHECK(ev.type == WS_EV_ERROR && ev.code == 1007);
		buf_reset(&in);
		/* ...also in a later fragment. */
		frame(&in, r, 0x01, "ab\xce", 3);
		frame(&in, r, 0x80, "\xbazz\xff" "zzzzzzzz", 12);
		CHECK(first_event(r, 0, &in, &ev) == (long)(hl + 3 + hl + 3));
		CHECK(ev.type == WS_EV_ERROR && ev.code == 1007);
		buf_reset(&in);
		/* Header problems are decided by the second byte. */
		frame(&in, r, 0xc1, "Hello", 5);
		CHECK(first_event(r, 0, &in, &ev) == 1);
		CHECK(ev.type == WS_EV_ERROR && ev.code == 1002);
		buf_reset(&in);
	}
	buf_free(&in);
}

void test_ws_limits(void)
{
	/* A 10 MiB frame declared to a 1 MiB engine: 1009 from the header,
	 * nothing buffered. */
	static const unsigned char hdr[] = { 0x81, 0xff, 0, 0, 0, 0, 0, 0xa0, 0, 0,
		0x11, 0x22, 0x33, 0x44 };
	struct buf out, in;
	struct ws ws, peer;
	struct ws_event ev;
	size_t c;

	buf_init(&out, 0);
	buf_init(&in, 0);
	ws_init(&ws, WS_ROLE_SERVER, 1u << 20, &out);
	c = ws_recv(&ws, hdr, sizeof(hdr), &ev);
	CHECK(c == sizeof(hdr));
	CHECK(ev.type == WS_EV_ERROR && ev.code == 1009);
	CHECK(ws.msg.cap == 0);
	CHECK_MEM(out.p, 4, "\x88\x11\x03\xf1", 4);
	/* Everything afterwards is swallowed. */
	CHECK(ws_recv(&ws, "abc", 3, &ev) == 3 && ev.type == WS_EV_NONE);
	CHECK(ws_send_text(&ws, "x", 1) == -1);
	ws_free(&ws);

	/* The bound may be raised between messages (after authentication). */
	buf_reset(&out);
	ws_init(&ws, WS_ROLE_SERVER, 16, &out);
	frame(&in, WS_ROLE_SERVER, 0x81, "0123456789abcdefX", 17);
	ws.max_message = 17;
	c = ws_recv(&ws, in.p, in.len, &ev);
	CHECK(c == in.len && ev.type == WS_EV_TEXT && ev.len == 17);
	ws_free(&ws);

	/* A 16 MiB message received (max of an agent after auth). */
	buf_reset(&in);
	buf_reset(&out);
	ws_init(&peer, WS_ROLE_CLIENT, 0, &in);
	{
		size_t n = 16u << 20;
		char *p = malloc(n);

		memset(p, 'z', n);
		CHECK(ws_send_text(&peer, p, n) == 0);
		ws_init(&ws, WS_ROLE_SERVER, n, &out);
		c = ws_recv(&ws, in.p, in.len, &ev);
		CHECK(c == in.len && ev.type == WS_EV_TEXT && ev.len == n);
		CHECK(ev.type == WS_EV_TEXT && memcmp(ev.data, p, n) == 0);
		/* The next call releases a big reassembly buffer. */
		c = ws_recv(&ws, "", 0, &ev);
		CHECK(c == 0 && ev.type == WS_EV_NONE && ws.msg.cap == 0);
		free(p);
	}
	ws_free(&ws);
	ws_free(&peer);
	buf_free(&in);
	buf_free(&out);
}

void test_ws_after_close(void)
{
	struct buf out, in;
	struct ws ws;
	struct ws_event ev;
	size_t c;

	buf_init(&out, 0);
	buf_init(&in, 0);
	/* We close first: sends fail, the peer's close is still received and
	 * is not echoed, data in between is still delivered. */
	ws_init(&ws, WS_ROLE_SERVER, 0, &out);
	CHECK(ws_send_close(&ws, 1001, "going away") == 0);
	CHECK(ws_send_close(&ws, 1000, "") == -1);
	CHECK(ws_send_text(&ws, "x", 1) == -1);
	CHECK(ws_send_ping(&ws, "x", 1) == -1);
	buf_reset(&out);
	text(&in, WS_ROLE_SERVER, "late");
	frame(&in, WS_ROLE_SERVER, 0x89, "p", 1);
	closef(&in, WS_ROLE_SERVER, 1000, "ok");
	c = ws_recv(&ws, in.p, in.len, &ev);
	CHECK(ev.type == WS_EV_TEXT && ev.len == 4);
	c += ws_recv(&ws, in.p + c, in.len - c, &ev);
	CHECK(ev.type == WS_EV_PING);
	c += ws_recv(&ws, in.p + c, in.len - c, &ev);
	CHECK(ev.type == WS_EV_CLOSE && ev.code == 1000 && ev.len == 2);
	CHECK(c == in.len);
	CHECK(out.len == 0);              /* no pong, no second close */
	CHECK(ws_recv(&ws, "\x81\x80zzzz", 6, &ev) == 6 && ev.type == WS_EV_NONE);
	ws_free(&ws);

	/* Peer closes first: echo queued, then sends fail. */
	buf_reset(&in);
	ws_init(&ws, WS_ROLE_CLIENT, 0, &out);
	closef(&in, WS_ROLE_CLIENT, 4000, "app");
	c = ws_recv(&ws, in.p, in.len, &ev);
	CHECK(ev.type == WS_EV_CLOSE && ev.code == 4000);
	CHECK_MEM(ev.data, ev.len, "app", 3);
	CHECK(out.len == 8 && (unsigned char)out.p[0] == 0x88 && (unsigned char)out.p[1] == 0x82);
	CHECK(ws_send_text(&ws, "x", 1) == -1);
	CHECK(ws_send_close(&ws, 1000, NULL) == -1);
	ws_free(&ws);
	buf_free(&in);
	buf_free(&out);
}

void test_ws_big_send(void)
{
	/* Client sends 16 MiB + 3 (odd, to cover the masking tail); a server
	 * engine decodes it byte-exact. */
	size_t n = (16u << 20) + 3, i;
	char *p = malloc(n);
	struct buf out, sout;
	struct ws c, s;
	struct ws_event ev;
	size_t used;

	for (i = 0; i < n; i++)
		p[i] = (char)('a' + i % 26);
	buf_init(&out, 0);
	buf_init(&sout, 0);
	ws_init(&c, WS_ROLE_CLIENT, 0, &out);
	ws_init(&s, WS_ROLE_SERVER, n, &sout);
	CHECK(ws_send_text(&c, p, n) == 0);
	CHECK(out.len == n + 14);
	/* Feed in uneven pieces so unmasking starts at every key phase. */
	used = 0;
	ev.type = WS_EV_NONE;
	for (i = 1; used < out.len && ev.type == WS_EV_NONE; i = i * 3 + 1) {
		size_t k = out.len - used < i ? out.len - used : i;

		used += ws_recv(&s, out.p + used, k, &ev);
	}
	CHECK(used == out.len && ev.type == WS_EV_TEXT && ev.len == n);
	CHECK(ev.type == WS_EV_TEXT && memcmp(ev.data, p, n) == 0);
	/* A full output queue refuses the frame without changing it. */
	buf_free(&out);
	buf_init(&out, 100);
	CHECK(ws_send_text(&c, p, 200) == -1 && out.len == 0);
	CHECK(ws_send_text(&c, p, 50) == 0 && out.len == 56);
	ws_free(&c);
	ws_free(&s);
	buf_free(&out);
	buf_free(&sout);
	free(p);
}

/* ---- opening handshake ---- */

static int handshake(const char *req, struct buf *out, const char **why, int *status)
{
	struct http_req r;
	struct http_resp s;
	int rc;

	buf_reset(out);
	*status = 0;
	if (http_parse_request(req, strlen(req), &r) <= 0)
		return -2;
	rc = ws_server_handshake(&r, out, why);
	if (http_parse_response(out->p, out->len, &s) > 0)
		*status = s.status;
	return rc;
}

static const struct http_span *resp_get(struct buf *out, struct http_resp *s, const char *name)
{
	if (http_parse_response(out->p, out->len, s) <= 0)
		return NULL;
	return http_get(s->h, s->nh, name);
}

void test_ws_handshake_server(void)
{
	/* RFC 6455 1.3 / 4.1 sample, offering a subprotocol and an extension */
	static const char rfc[] = "GET /chat HTTP/1.1\r\n"
		"Host: server.example.com\r\n"
		"Upgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Origin: http://example.com\r\n"
		"Sec-WebSocket-Protocol: chat, superchat\r\n"
		"Sec-WebSocket-Extensions: permessage-deflate\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n";
	struct buf out;
	struct http_resp s;
	struct http_req r;
	const struct http_span *v;
	const char *why;
	int st;

	buf_init(&out, 0);
	CHECK(handshake(rfc, &out, &why, &st) == 0 && st == 101 && why == NULL);
	v = resp_get(&out, &s, "sec-websocket-accept");
	CHECK(v && http_span_ieq(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") &&
	      memcmp(v->p, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) == 0);
	CHECK(http_has_token(resp_get(&out, &s, "upgrade"), "websocket"));
	CHECK(http_has_token(resp_get(&out, &s, "connection"), "upgrade"));
	CHECK(resp_get(&out, &s, "sec-websocket-protocol") == NULL);
	CHECK(resp_get(&out, &s, "sec-websocket-extensions") == NULL);
	CHECK(http_parse_response(out.p, out.len, &s) == (int)out.len);
	CHECK(http_parse_request(rfc, sizeof(rfc) - 1, &r) > 0 && ws_is_upgrade(&r));

	/* Token lists and case. */
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\n"
			"Connection: keep-alive, Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == 0 && st == 101);
	CHECK(http_parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27, &r) > 0 && !ws_is_upgrade(&r));
	buf_free(&out);
}

void test_ws_handshake_bad(void)
{
#define KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define UPG "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	struct buf out;
	struct http_resp s;
	struct http_req r;
	const struct http_span *v;
	const char *why;
	char *big;
	int st;

	buf_init(&out, 0);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\n" UPG KEY
			"Sec-WebSocket-Version: 8\r\n\r\n", &out, &why, &st) == -1 && st == 426);
	v = resp_get(&out, &s, "sec-websocket-version");
	CHECK(v && http_span_ieq(v, "13"));
	CHECK(http_has_token(resp_get(&out, &s, "connection"), "close"));
	CHECK(http_content_length(s.h, s.nh) == (long long)(out.len - s.head_len));
	CHECK(why != NULL);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\n" UPG KEY "\r\n", &out, &why, &st) == -1 && st == 426);
	CHECK(handshake("POST / HTTP/1.1\r\nHost: h\r\n" UPG KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 405);
	v = resp_get(&out, &s, "allow");
	CHECK(v && http_span_ieq(v, "GET"));
	CHECK(handshake("get / HTTP/1.1\r\nHost: h\r\n" UPG KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 405);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\n" UPG
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\n" UPG
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n"    /* 15 bytes */
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\n" UPG
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSE=\r\n"   /* 17 bytes */
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\n" UPG
			"Sec-WebSocket-Key: not base64 at all!!!!!!!\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\n" UPG KEY KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.0\r\nHost: h\r\n" UPG KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\n" UPG KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n" KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
			"Connection: keep-alive\r\n" KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	CHECK(handshake("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n"
			"Connection: Upgrade\r\n" KEY
			"Sec-WebSocket-Version: 13\r\n\r\n", &out, &why, &st) == -1 && st == 400);
	/* Garbage and oversize heads never reach the handshake. */
	CHECK(handshake("\x16\x03\x01 hello\r\n\r\n", &out, &why, &st) == -2);
	CHECK(http_parse_request("GET / HTTP/1.1\r\nHost h\r\n\r\n", 26, &r) == HTTP_BAD);
	big = malloc(CFG_HTTP_MAX_HEADER + 100);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'x', CFG_HTTP_MAX_HEADER + 81);
	CHECK(http_parse_request(big, CFG_HTTP_MAX_HEADER + 100, &r) == HTTP_TOO_LARGE);
	free(big);
	buf_free(&out);
#undef KEY
#undef UPG
}

void test_ws_handshake_client(void)
{
	struct buf req, resp;
	struct http_req r;
	struct http_resp s;
	const struct http_span *v;
	const char *why;
	char key[25], key2[25], acc[29], tmp[400];

	buf_init(&req, 0);
	buf_init(&resp, 0);
	CHECK(ws_client_request(&req, "nest.example:8989", "/agent", key) == 0);
	CHECK(strlen(key) == 24);
	CHECK(http_parse_request(req.p, req.len, &r) == (int)req.len);
	CHECK_MEM(r.target.p, r.target.n, "/agent", 6);
	v = http_get(r.h, r.nh, "user-agent");
	CHECK(v && http_span_ieq(v, "nestd/" NESTD_VERSION));
	v = http_get(r.h, r.nh, "host");
	CHECK(v && http_span_ieq(v, "nest.example:8989"));
	CHECK(ws_server_handshake(&r, &resp, &why) == 0);
	CHECK(http_parse_response(resp.p, resp.len, &s) == (int)resp.len);
	CHECK(ws_client_check(&s, key, &why) == 0);
	/* Another request gets another key; the old answer does not fit it. */
	buf_reset(&req);
	CHECK(ws_client_request(&req, "h", NULL, key2) == 0);
	CHECK(strcmp(key, key2) != 0);
	CHECK(memcmp(req.p, "GET / HTTP/1.1\r\n", 16) == 0);
	CHECK(ws_client_check(&s, key2, &why) == -1 && why);
	CHECK(ws_client_request(&req, "h\r\nX: y", "/", key2) == -1);
	CHECK(ws_client_request(&req, "h", "/a b", key2) == -1);

	ws_accept_key(key, strlen(key), acc);
#define RESP(extra) snprintf(tmp, sizeof(tmp), "HTTP/1.1 101 Switching Protocols\r\n" \
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" \
		"Sec-WebSocket-Accept: %s\r\n%s\r\n", acc, extra), \
		http_parse_response(tmp, strlen(tmp), &s)
	CHECK(RESP("") > 0 && ws_client_check(&s, key, &why) == 0);
	CHECK(RESP("Sec-WebSocket-Extensions: permessage-deflate\r\n") > 0 &&
	      ws_client_check(&s, key, &why) == -1);
	CHECK(RESP("Sec-WebSocket-Protocol: chat\r\n") > 0 &&
	      ws_client_check(&s, key, &why) == -1);
#undef RESP
	CHECK(http_parse_response("HTTP/1.1 200 OK\r\n\r\n", 19, &s) > 0);
	CHECK(ws_client_check(&s, key, &why) == -1 && why);
	snprintf(tmp, sizeof(tmp), "HTTP/1.1 101 X\r\nConnection: upgrade\r\n"
		 "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	CHECK(http_parse_response(tmp, strlen(tmp), &s) > 0 && ws_client_check(&s, key, &why) == -1);
	snprintf(tmp, sizeof(tmp), "HTTP/1.1 101 X\r\nUpgrade: websocket\r\n"
		 "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	CHECK(http_parse_response(tmp, strlen(tmp), &s) > 0 && ws_client_check(&s, key, &why) == -1);
	acc[3] ^= 1;
	snprintf(tmp, sizeof(tmp), "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
		 "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	CHECK(http_parse_response(tmp, strlen(tmp), &s) > 0 && ws_client_check(&s, key, &why) == -1);
	buf_free(&req);
	buf_free(&resp);
}
