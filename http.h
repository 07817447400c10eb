/* http.h - HTTP/1.1 message heads (RFC 9112), parsed in place.
 *
 * The parser takes bytes, never a descriptor: spans point into the caller's
 * buffer, nothing is copied or allocated.  It is used for the WebSocket
 * opening handshake (both roles) and for the operator API. */
#ifndef NESTD_HTTP_H
#define NESTD_HTTP_H

#include <stddef.h>
#include "config.h"

struct http_span {
	const char *p;
	size_t n;
};

struct http_header {
	struct http_span name, value;     /* value without surrounding OWS */
};

struct http_req {
	struct http_span method;          /* "GET" */
	struct http_span target;          /* "/path?query" as sent */
	int minor;                        /* HTTP/1.<minor> */
	struct http_header h[CFG_HTTP_MAX_HEADERS];
	int nh;
	size_t head_len;                  /* bytes up to and including CRLFCRLF */
};

struct http_resp {
	int status;                       /* 100..599 */
	struct http_span reason;
	int minor;
	struct http_header h[CFG_HTTP_MAX_HEADERS];
	int nh;
	size_t head_len;
};

/* Results of the parsers. */
#define HTTP_INCOMPLETE  0    /* need more bytes */
#define HTTP_BAD        -1    /* malformed: answer 400 and close */
#define HTTP_TOO_LARGE  -2    /* head over CFG_HTTP_MAX_HEADER or too many headers: 431 */

/* Returns the head length (> 0) when a whole head is in p[0..n), or one of
 * the codes above.  Bare LF line ends are accepted, obsolete line folding,
 * NUL and other control bytes are not. */
int http_parse_request(const char *p, size_t n, struct http_req *r);
int http_parse_response(const char *p, size_t n, struct http_resp *r);

/* Case-insensitive header lookup; the first match, or NULL. */
const struct http_span *http_get(const struct http_header *h, int nh, const char *name);
/* 1 if the comma-separated list in v holds token (case-insensitive). */
int http_has_token(const struct http_span *v, const char *token);
/* 1 if the span equals s exactly (methods and paths are case-sensitive). */
int http_span_eq(const struct http_span *a, const char *s);
/* 1 if the span equals s ignoring ASCII case. */
int http_span_ieq(const struct http_span *a, const char *s);
/* 1 if Accept-Encoding takes gzip (or x-gzip, or * with gzip unnamed)
 * with a q above 0; 0 when it does not or there is no such header. */
int http_accepts_gzip(const struct http_header *h, int nh);
/* KEY=VALUE of the request's query (as sent: no %-decoding) into out: 1,
 * 0 when absent, -1 when too long for cap. */
int http_query_param(const struct http_req *req, const char *key, char *out, size_t cap);
/* Content-Length: -1 absent, -2 invalid/duplicate-conflicting, else value. */
long long http_content_length(const struct http_header *h, int nh);

/* Reason phrase for a status code ("Not Found"). */
const char *http_reason(int status);

#endif
