/* fuzz_ws_frame.c - libFuzzer target for the WebSocket frame decoder.
 *
 * The first two bytes seed the chunking and the message limit; the rest is
 * fed to a server-role and a client-role engine, once whole and once in
 * pseudo-random chunks (short reads), and checks what must always hold:
 * progress, text events valid UTF-8 and within the limit, nothing after
 * CLOSE/ERROR, the same events however the input is split, and output that a
 * peer engine decodes without a protocol error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "ws.h"
#include "fuzz_fnv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	uint64_t h;        /* hash of the event sequence */
	int n;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	t->h = fnv_mix(t->h, p, n);
}

static void check_event(const struct ws *ws, const struct ws_event *ev, struct trace *t)
{
	uint32_t rec[3];

	switch (ev->type) {
	case WS_EV_NONE:
		return;
	case WS_EV_TEXT:
		if (!utf8_valid(ev->data, ev->len) || ev->len > ws->max_message)
			abort();
		break;
	case WS_EV_PING:
	case WS_EV_PONG:
		if (ev->len > CFG_WS_MAX_CONTROL)
			abort();
		break;
	case WS_EV_CLOSE:
		if (ev->code != 1005 && (ev->code < 1000 || ev->code > 4999))
			abort();
		if (!utf8_valid(ev->data, ev->len))
			abort();
		break;
	case WS_EV_ERROR:
		if (ev->code != 1002 && ev->code != 1003 && ev->code != 1007 && ev->code != 1009)
			abort();
		break;
	}
	rec[0] = ev->type;
	rec[1] = ev->code;
	rec[2] = (uint32_t)ev->len;
	mix(t, rec, sizeof(rec));
	if (ev->type != WS_EV_ERROR)
		mix(t, ev->data, ev->len);
	t->n++;
}

/* Feeds the input in chunks from the seed (0: whole); returns the trace. */
static struct trace feed(enum ws_role role, size_t max, const uint8_t *p, size_t n,
			 uint32_t seed, struct buf *out)
{
	struct trace t = { FNV_START, 0 };
	struct ws ws;
	size_t pos = 0;
	int ended = 0;

	ws_init(&ws, role, max, out);
	while (pos < n) {
		size_t chunk = n - pos, off = 0;

		if (seed) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			chunk = 1 + seed % (seed & 0x100 ? 3 : 40);
			if (chunk > n - pos)
				chunk = n - pos;
		}
		while (off < chunk) {
			struct ws_event ev;
			size_t c = ws_recv(&ws, p + pos + off, chunk - off, &ev);

			if (c > chunk - off || (c == 0 && ev.type == WS_EV_NONE))
				abort();
			if (ended && (ev.type != WS_EV_NONE || c != chunk - off))
				abort();
			off += c;
			check_event(&ws, &ev, &t);
			if (ev.type == WS_EV_ERROR || ev.type == WS_EV_CLOSE) {
				ended = 1;
				if (!ws.close_sent || ws_send_text(&ws, "x", 1) != -1)
					abort();
			}
			if (ev.type == WS_EV_PING && ws.max_message & 1)
				ws_send_text(&ws, "reply", 5);
		}
		pos += chunk;
	}
	ws_free(&ws);
	return t;
}

/* Our own output must be well-formed for the opposite role. */
static void check_output(enum ws_role role, const struct buf *out)
{
	struct buf sink;
	struct ws peer;
	size_t pos = 0;

	buf_init(&sink, 0);
	ws_init(&peer, role == WS_ROLE_SERVER ? WS_ROLE_CLIENT : WS_ROLE_SERVER,
		1u << 30, &sink);
	while (pos < out->len) {
		struct ws_event ev;

		pos += ws_recv(&peer, out->p + pos, out->len - pos, &ev);
		if (ev.type == WS_EV_ERROR)
			abort();
	}
	ws_free(&peer);
	buf_free(&sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed;
	size_t max;
	int r;

	if (size < 2)
		return 0;
	seed = (uint32_t)data[0] << 8 | data[1] | 0x10000;
	max = data[0] & 0x80 ? ((size_t)data[1] + 1) * 4 : CFG_WS_MAX_MESSAGE;
	data += 2;
	size -= 2;
	for (r = 0; r < 2; r++) {
		enum ws_role role = r ? WS_ROLE_SERVER : WS_ROLE_CLIENT;
		struct buf o1, o2;
		struct trace a, b;

		buf_init(&o1, 0);
		buf_init(&o2, 0);
		a = feed(role, max, data, size, 0, &o1);
		b = feed(role, max, data, size, seed, &o2);
		if (a.h != b.h || a.n != b.n)
			abort();
		/* Server output is unmasked, hence deterministic. */
		if (role == WS_ROLE_SERVER &&
		    (o1.len != o2.len || (o1.len && memcmp(o1.p, o2.p, o1.len))))
			abort();
		check_output(role, &o1);
		buf_free(&o1);
		buf_free(&o2);
	}
	return 0;
}
