/* fuzz_http.c - libFuzzer target for the HTTP head parsers and the
 * WebSocket opening handshake built on them.
 *
 * Checks: spans stay inside the input, a complete head parses the same when
 * cut exactly at its end and is INCOMPLETE when cut shorter, and every
 * handshake answer is itself a well-formed response with the right status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *base, size_t n, const struct http_span *s)
{
	if (s->n && (s->p < base || s->p + s->n > base + n))
		abort();
}

static void check_headers(const char *p, size_t n, const struct http_header *h, int nh)
{
	int i;

	if (nh < 0 || nh > CFG_HTTP_MAX_HEADERS)
		abort();
	for (i = 0; i < nh; i++) {
		inside(p, n, &h[i].name);
		inside(p, n, &h[i].value);
		if (h[i].name.n == 0)
			abort();
		http_has_token(&h[i].value, "upgrade");
	}
	http_content_length(h, nh);
}

static void fuzz_request(const char *p, size_t n)
{
	struct http_req r, r2;
	struct http_resp s;
	struct buf out;
	const char *why;
	int k = http_parse_request(p, n, &r), rc;

	if (k < HTTP_TOO_LARGE || (k > 0 && (size_t)k > n) || k > CFG_HTTP_MAX_HEADER)
		abort();
	if (k <= 0)
		return;
	if ((size_t)k != r.head_len)
		abort();
	inside(p, n, &r.method);
	inside(p, n, &r.target);
	check_headers(p, n, r.h, r.nh);
	if (http_parse_request(p, (size_t)k, &r2) != k ||
	    http_parse_request(p, (size_t)k - 1, &r2) != HTTP_INCOMPLETE)
		abort();
	ws_is_upgrade(&r);
	buf_init(&out, 0);
	rc = ws_server_handshake(&r, &out, &why);
	if (http_parse_response(out.p, out.len, &s) <= 0)
		abort();
	if (rc == 0 ? s.status != 101 || why :
	    (s.status != 400 && s.status != 405 && s.status != 426) || !why)
		abort();
	if (rc != 0 && http_content_length(s.h, s.nh) != (long long)(out.len - s.head_len))
		abort();
	buf_free(&out);
}

static void fuzz_response(const char *p, size_t n)
{
	struct http_resp s, s2;
	const char *why;
	int k = http_parse_response(p, n, &s);

	if (k < HTTP_TOO_LARGE || (k > 0 && (size_t)k > n) || k > CFG_HTTP_MAX_HEADER)
		abort();
	if (k <= 0)
		return;
	if (s.status < 100 || s.status > 599)
		abort();
	inside(p, n, &s.reason);
	check_headers(p, n, s.h, s.nh);
	if (http_parse_response(p, (size_t)k, &s2) != k ||
	    http_parse_response(p, (size_t)k - 1, &s2) != HTTP_INCOMPLETE)
		abort();
	if (ws_client_check(&s, "dGhlIHNhbXBsZSBub25jZQ==", &why) == 0 && why)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy, so reads past the end are caught by ASan. */
	char *p = malloc(size ? size : 1);

	memcpy(p, data, size);
	fuzz_request(p, size);
	fuzz_response(p, size);
	free(p);
	return 0;
}
