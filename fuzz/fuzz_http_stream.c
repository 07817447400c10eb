/* fuzz_http_stream.c - libFuzzer target for the HTTP request parser fed as
 * a byte stream, the way a connection receives it: bytes arrive in pieces,
 * each arrival re-parses what is buffered, a complete head is taken with
 * its Content-Length body and the next pipelined request follows in the
 * same buffer (conn.c's reading of http_parse_request and
 * http_content_length).
 *
 * The input is cut in two at every offset (inputs up to 1 KiB; beyond, at
 * 64 offsets spread over it) and fed one byte at a time (up to 2 KiB).
 * Check: every way of cutting yields the same requests (method, target,
 * version, headers, body) and the same final verdict as the whole input
 * in one piece: where a stream is cut must never change what it means. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fnv.h"
#include "http.h"

/* Bytes not received yet are poisoned: the parser touching one is an ASan
 * report, as if it read past the end of a shorter buffer. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { END_OPEN, END_BAD, END_TOO_LARGE, END_BAD_LENGTH, END_BODY_TOO_LARGE };

/* What a stream meant, folded into one number as it goes. */
struct stream {
	char *in;            /* buffered bytes */
	size_t len, off;     /* off: consumed by complete requests */
	int ended;           /* an error verdict: nothing more is read */
	uint64_t h;
	unsigned requests;
};

static void mix(struct stream *s, const void *p, size_t n)
{
	s->h = fnv_mix(s->h, p, n);
}

static void mix_span(struct stream *s, const struct http_span *sp)
{
	mix(s, &sp->n, sizeof(sp->n));
	mix(s, sp->p, sp->n);
}

static void end(struct stream *s, int verdict)
{
	s->ended = 1;
	mix(s, "E", 1);
	mix(s, &verdict, sizeof(verdict));
}

/* Takes every complete request now buffered. */
static void drain(struct stream *s)
{
	struct http_req r;
	long long cl;
	int k, i;

	while (!s->ended) {
		k = http_parse_request(s->in + s->off, s->len - s->off, &r);
		if (k == HTTP_INCOMPLETE)
			return;
		if (k < 0) {
			end(s, k == HTTP_BAD ? END_BAD : END_TOO_LARGE);
			return;
		}
		cl = http_content_length(r.h, r.nh);
		if (cl == -2) {
			end(s, END_BAD_LENGTH);
			return;
		}
		if (cl > (long long)CFG_HTTP_MAX_BODY) {
			end(s, END_BODY_TOO_LARGE);
			return;
		}
		if (cl < 0)
			cl = 0;
		if (s->len - s->off < (size_t)k + (size_t)cl)
			return;      /* the body is still on its way */
		mix(s, "R", 1);
		mix_span(s, &r.method);
		mix_span(s, &r.target);
		mix(s, &r.minor, sizeof(r.minor));
		for (i = 0; i < r.nh; i++) {
			mix_span(s, &r.h[i].name);
			mix_span(s, &r.h[i].value);
		}
		mix(s, s->in + s->off + k, (size_t)cl);
		s->off += (size_t)k + (size_t)cl;
		s->requests++;
	}
}

/* Feeds data in pieces that end at cuts[0..ncuts) (ascending), then the
 * rest; returns what the stream meant. */
static uint64_t feed(const uint8_t *data, size_t size, const size_t *cuts, size_t ncuts)
{
	struct stream s;
	size_t i, from = 0, to;

	memset(&s, 0, sizeof(s));
	s.h = FNV_START;
	s.in = malloc(size ? size : 1);
	ASAN_POISON_MEMORY_REGION(s.in, size);
	for (i = 0; i <= ncuts && !s.ended; i++, from = to) {
		to = i < ncuts ? cuts[i] : size;
		ASAN_UNPOISON_MEMORY_REGION(s.in + from, to - from);
		memcpy(s.in + from, data + from, to - from);
		s.len = to;
		drain(&s);
	}
	ASAN_UNPOISON_MEMORY_REGION(s.in, size);
	if (!s.ended)
		end(&s, END_OPEN);
	/* (not s.len: after a verdict the rest is never read) */
	mix(&s, &s.off, sizeof(s.off));
	free(s.in);
	return s.h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t whole = feed(data, size, NULL, 0);
	size_t cut, step = size <= 1024 ? 1 : size / 64, *all, i;

	for (cut = 1; cut < size; cut += step)
		if (feed(data, size, &cut, 1) != whole)
			abort();
	if (size <= 2048) {
		all = malloc((size ? size : 1) * sizeof(*all));
		for (i = 0; i + 1 < size; i++)
			all[i] = i + 1;
		if (feed(data, size, all, size ? size - 1 : 0) != whole)
			abort();
		free(all);
	}
	return 0;
}
