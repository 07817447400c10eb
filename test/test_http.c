/* test_http.c - request/response head parser and header helpers. */
#include <stdlib.h>
#include "t.h"
#include "http.h"

void test_http_request_basic(void);
void test_http_request_bad(void);
void test_http_limits(void);
void test_http_response(void);
void test_http_helpers(void);

#define REQ(s, r) http_parse_request(s, sizeof(s) - 1, r)

void test_http_request_basic(void)
{
	static const char m[] = "GET /chat?x=1 HTTP/1.1\r\n"
		"Host: server.example.com\r\n"
		"Upgrade:websocket\r\n"
		"X-Empty:\r\n"
		"X-Pad: \t padded value \t\r\n"
		"\r\nBODY";
	struct http_req r;
	const struct http_span *v;
	int n = REQ(m, &r);

	CHECK(n == (int)(sizeof(m) - 1 - 4));
	CHECK(r.head_len == (size_t)n);
	CHECK_MEM(r.method.p, r.method.n, "GET", 3);
	CHECK_MEM(r.target.p, r.target.n, "/chat?x=1", 9);
	CHECK(r.minor == 1);
	CHECK(r.nh == 4);
	v = http_get(r.h, r.nh, "HOST");
	CHECK(v && http_span_ieq(v, "Server.Example.com"));
	v = http_get(r.h, r.nh, "upgrade");
	CHECK(v && v->n == 9);
	v = http_get(r.h, r.nh, "x-empty");
	CHECK(v && v->n == 0);
	v = http_get(r.h, r.nh, "x-pad");
	CHECK(v && v->n == 12 && memcmp(v->p, "padded value", 12) == 0);
	CHECK(http_get(r.h, r.nh, "missing") == NULL);

	/* Bare LF line ends; HTTP/1.0; leading empty line ignored. */
	CHECK(REQ("\r\nGET / HTTP/1.0\nHost: a\n\n", &r) > 0);
	CHECK(r.minor == 0 && r.nh == 1);
	/* Incomplete at every prefix, then complete. */
	{
		size_t i, len = sizeof(m) - 1 - 4;
		int bad = 0;

		for (i = 0; i < len; i++)
			if (http_parse_request(m, i, &r) != HTTP_INCOMPLETE)
				bad++;
		CHECK(bad == 0);
		CHECK(http_parse_request(m, len, &r) == (int)len);
	}
}

void test_http_request_bad(void)
{
	struct http_req r;

	CHECK(REQ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", &r) == HTTP_BAD); /* TLS */
	CHECK(REQ("garbage\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("garbage\r\n", &r) == HTTP_BAD);             /* early, no blank line */
	CHECK(REQ("GET / HTTP/2.0\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1 \r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET  / HTTP/1.1\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET /\x01 HTTP/1.1\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("G(T / HTTP/1.1\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\n: a\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\nHost a\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", &r) == HTTP_BAD); /* obs-fold */
	CHECK(REQ("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\r\n\r\n", &r) == HTTP_BAD);
	CHECK(REQ("GET / HTTP/1.1\r\nA: \xc3\xa9\r\n\r\n", &r) > 0);      /* obs-text ok */
}

void test_http_limits(void)
{
	struct http_req r;
	struct http_resp s;
	char *big = malloc(CFG_HTTP_MAX_HEADER * 2);
	size_t n;
	int i;

	/* Over the limit while still incomplete: refused without waiting. */
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', CFG_HTTP_MAX_HEADER);
	CHECK(http_parse_request(big, n + CFG_HTTP_MAX_HEADER, &r) == HTTP_TOO_LARGE);
	CHECK(http_parse_request(big, CFG_HTTP_MAX_HEADER, &r) == HTTP_INCOMPLETE);
	/* Complete but over the limit. */
	memcpy(big + CFG_HTTP_MAX_HEADER - 2, "\r\n\r\n", 4);
	CHECK(http_parse_request(big, CFG_HTTP_MAX_HEADER + 2, &r) == HTTP_TOO_LARGE);
	/* Exactly at the limit. */
	memcpy(big + CFG_HTTP_MAX_HEADER - 4, "\r\n\r\n", 4);
	CHECK(http_parse_request(big, CFG_HTTP_MAX_HEADER, &r) == CFG_HTTP_MAX_HEADER);
	CHECK(http_parse_response(big, 20000, &s) == HTTP_BAD);

	/* Header count. */
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
	for (i = 0; i < CFG_HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(big + n, "H%d: v\r\n", i);
	memcpy(big + n, "\r\n", 2);
	CHECK(http_parse_request(big, n + 2, &r) == (int)(n + 2));
	CHECK(r.nh == CFG_HTTP_MAX_HEADERS);
	n += (size_t)sprintf(big + n, "One: more\r\n\r\n");
	CHECK(http_parse_request(big, n, &r) == HTTP_TOO_LARGE);
	free(big);
}

void test_http_response(void)
{
	static const char m[] = "HTTP/1.1 101 Switching Protocols\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05Hello";
	struct http_resp s;
	int n = http_parse_response(m, sizeof(m) - 1, &s);

	CHECK(n == (int)(sizeof(m) - 1 - 7));
	CHECK(s.status == 101 && s.minor == 1 && s.nh == 3);
	CHECK_MEM(s.reason.p, s.reason.n, "Switching Protocols", 19);
	CHECK(http_parse_response("HTTP/1.1 200\r\n\r\n", 16, &s) == 16);
	CHECK(s.status == 200 && s.reason.n == 0);
	CHECK(http_parse_response("HTTP/1.0 404 \r\n\r\n", 17, &s) == 17);
	CHECK(s.status == 404 && s.minor == 0);
	CHECK(http_parse_response("HTTP/1.1 099 x\r\n\r\n", 18, &s) == HTTP_BAD);
	CHECK(http_parse_response("HTTP/1.1 600 x\r\n\r\n", 18, &s) == HTTP_BAD);
	CHECK(http_parse_response("HTTP/1.1 20x x\r\n\r\n", 18, &s) == HTTP_BAD);
	CHECK(http_parse_response("HTTP/1.1 2000\r\n\r\n", 17, &s) == HTTP_BAD);
	CHECK(http_parse_response("HTTP/1.1 200 OK\r\n", 17, &s) == HTTP_INCOMPLETE);
	CHECK(http_parse_response("ICY 200 OK\r\n\r\n", 14, &s) == HTTP_BAD);
}

void test_http_helpers(void)
{
	struct http_span v;
	struct http_req r;

	v.p = "keep-alive, Upgrade";
	v.n = strlen(v.p);
	CHECK(http_has_token(&v, "upgrade"));
	CHECK(http_has_token(&v, "Keep-Alive"));
	CHECK(!http_has_token(&v, "upgrad"));
	CHECK(!http_has_token(&v, "keep"));
	v.p = " ,,upgrade ,";
	v.n = strlen(v.p);
	CHECK(http_has_token(&v, "UPGRADE"));
	v.p = "upgrade2";
	v.n = strlen(v.p);
	CHECK(!http_has_token(&v, "upgrade"));
	CHECK(!http_has_token(NULL, "upgrade"));
	v.p = "";
	v.n = 0;
	CHECK(!http_has_token(&v, "upgrade"));
	CHECK(http_span_ieq(&v, ""));

	CHECK(REQ("GET / HTTP/1.1\r\n\r\n", &r) > 0);
	CHECK(http_content_length(r.h, r.nh) == -1);
	CHECK(REQ("GET / HTTP/1.1\r\nContent-Length: 42\r\n\r\n", &r) > 0);
	CHECK(http_content_length(r.h, r.nh) == 42);
	CHECK(REQ("GET / HTTP/1.1\r\ncontent-length: 0\r\nContent-Length: 0\r\n\r\n", &r) > 0);
	CHECK(http_content_length(r.h, r.nh) == 0);
	CHECK(REQ("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r) > 0);
	CHECK(http_content_length(r.h, r.nh) == -2);
	CHECK(REQ("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r) > 0);
	CHECK(http_content_length(r.h, r.nh) == -2);
	CHECK(REQ("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &r) > 0);
	CHECK(http_content_length(r.h, r.nh) == -2);
	CHECK(REQ("GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", &r) > 0);
	CHECK(http_content_length(r.h, r.nh) == -2);

	CHECK_STR(http_reason(101), "Switching Protocols");
	CHECK_STR(http_reason(404), "Not Found");
	CHECK_STR(http_reason(426), "Upgrade Required");
	CHECK_STR(http_reason(431), "Request Header Fields Too Large");
	CHECK_STR(http_reason(504), "Gateway Timeout");
	CHECK(http_reason(299) != NULL && http_reason(999) != NULL);
}

void test_http_accepts_gzip(void);
static int gz(const char *v)
{
	struct http_header h[2];

	h[0].name.p = "Host";
	h[0].name.n = 4;
	h[0].value.p = "x";
	h[0].value.n = 1;
	h[1].name.p = "accept-encoding";
	h[1].name.n = 15;
	h[1].value.p = v;
	h[1].value.n = v ? strlen(v) : 0;
	return http_accepts_gzip(h, v ? 2 : 1);
}

void test_http_accepts_gzip(void)
{
	CHECK(gz(NULL) == 0);
	CHECK(gz("") == 0);
	CHECK(gz("gzip") == 1);
	CHECK(gz("gzip, deflate, br, zstd") == 1);
	CHECK(gz("br,GZIP") == 1);
	CHECK(gz("x-gzip") == 1);
	CHECK(gz("identity") == 0);
	CHECK(gz("deflate, br") == 0);
	CHECK(gz("gzip;q=0") == 0);
	CHECK(gz("gzip; q=0.000, br") == 0);
	CHECK(gz("gzip;q=0.5") == 1);
	CHECK(gz("gzip ; Q=1.0") == 1);
	CHECK(gz("gzip;q=0.001") == 1);
	CHECK(gz("*") == 1);
	CHECK(gz("*;q=0") == 0);
	CHECK(gz("gzip;q=0, *") == 0);
	CHECK(gz("*, gzip;q=0") == 0);
	CHECK(gz("gzipx, xgzip") == 0);
	CHECK(gz("sq=1, gzip;q=0") == 0);
}

void test_http_span_eq(void);

void test_http_span_eq(void)
{
	struct http_span get = { "GET", 3 }, empty = { "", 0 }, path = { "/healthzX", 8 };

	CHECK(http_span_eq(&get, "GET") == 1);
	CHECK(http_span_eq(&get, "get") == 0);      /* methods are case-sensitive */
	CHECK(http_span_eq(&get, "GE") == 0);
	CHECK(http_span_eq(&get, "GETS") == 0);
	CHECK(http_span_eq(&empty, "") == 1);
	CHECK(http_span_eq(&path, "/healthz") == 1); /* only the span's n bytes count */
	CHECK(http_span_eq(&path, "/healthzX") == 0);
}
