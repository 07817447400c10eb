/* http.c - HTTP/1.1 message head parser (RFC 9112 sections 2-5) and the
 * header helpers of http.h.
 *
 * Only heads are parsed: the WebSocket handshake (RFC 6455 4) has no body and
 * the operator API reads bodies by Content-Length itself.  Every complete
 * line is checked as soon as it is in the buffer, so garbage is refused
 * without waiting for a blank line that may never come, and a head that
 * outgrows CFG_HTTP_MAX_HEADER is refused even while still incomplete. */
#include "http.h"

#include <string.h>

/* tchar (RFC 9110 5.6.2) */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A token (a method, a field name) at the start of s[0..n) that the byte
 * `end` must follow: its length, or 0 when there is none or no `end`. */
static size_t token_before(const char *s, size_t n, char end)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	return i && i < n && s[i] == end ? i : 0;
}

/* field-vchar, SP, HTAB and obs-text: anything but controls and DEL. */
static int is_text(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The line at off, without its LF or CRLF, is [p+off, p+off+*len).  Returns
 * the offset after the terminator, or 0 when the line is not complete yet.
 * A CR anywhere else stays in the line, where the callers refuse it as a
 * control byte. */
static long next_line(const char *p, size_t n, size_t off, size_t *len)
{
	const char *lf = memchr(p + off, '\n', n - off);
	size_t e;

	if (!lf)
		return 0;
	e = (size_t)(lf - p);
	*len = e - off;
	if (*len && p[e - 1] == '\r')
		(*len)--;
	return (long)(e + 1);
}

/* "HTTP/1.x"; returns the minor version or -1. */
static int parse_version(const char *s, size_t n)
{
	if (n != 8 || memcmp(s, "HTTP/1.", 7) || s[7] < '0' || s[7] > '9')
		return -1;
	return s[7] - '0';
}

static int parse_header(const char *s, size_t n, struct http_header *h)
{
	size_t i = token_before(s, n, ':'), b, e;

	/* Empty names, whitespace before the colon and obs-fold lines (which
	 * start with SP/HTAB) all land here: RFC 9112 5.1 and 5.2 say 400. */
	if (!i)
		return -1;
	h->name.p = s;
	h->name.n = i;
	b = i + 1;
	for (e = b; e < n; e++)
		if (!is_text((unsigned char)s[e]))
			return -1;
	while (b < n && (s[b] == ' ' || s[b] == '\t'))
		b++;
	while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	h->value.p = s + b;
	h->value.n = e - b;
	return 0;
}

/* The part both parsers share: the start line is handed to `start`, the
 * header lines are collected into h[], and the head's end is found. */
typedef int (*start_fn)(const char *s, size_t n, void *r);

static int parse_head(const char *p, size_t n, start_fn start, void *r,
		      struct http_header *h, int *nh, size_t *head_len)
{
	size_t off = 0, len;
	long nx;
	int have_start = 0;

	*nh = 0;
	for (;;) {
		if (off > CFG_HTTP_MAX_HEADER)
			return HTTP_TOO_LARGE;
		nx = next_line(p, n, off, &len);
		if (nx == 0)
			return n > CFG_HTTP_MAX_HEADER ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
		if ((size_t)nx > CFG_HTTP_MAX_HEADER)
			return HTTP_TOO_LARGE;
		if (len == 0) {
			if (have_start) {
				*head_len = (size_t)nx;
				return (int)nx;
			}
			/* RFC 9112 2.2: ignore empty lines before the start. */
			off = (size_t)nx;
			continue;
		}
		if (!have_start) {
			if (start(p + off, len, r) < 0)
				return HTTP_BAD;
			have_start = 1;
		} else {
			if (*nh >= CFG_HTTP_MAX_HEADERS)
				return HTTP_TOO_LARGE;
			if (parse_header(p + off, len, &h[*nh]) < 0)
				return HTTP_BAD;
			(*nh)++;
		}
		off = (size_t)nx;
	}
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 3) */
static int start_request(const char *s, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t i = token_before(s, n, ' '), t;

	if (!i)
		return -1;
	r->method.p = s;
	r->method.n = i;
	t = ++i;
	while (i < n && (unsigned char)s[i] > 0x20 && s[i] != 0x7f)
		i++;
	if (i == t || i >= n || s[i] != ' ')
		return -1;
	r->target.p = s + t;
	r->target.n = i - t;
	r->minor = parse_version(s + i + 1, n - i - 1);
	return r->minor < 0 ? -1 : 0;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] (4) */
static int start_response(const char *s, size_t n, void *arg)
{
	struct http_resp *r = arg;
	size_t i;

	if (n < 12 || s[8] != ' ')
		return -1;
	r->minor = parse_version(s, 8);
	if (r->minor < 0)
		return -1;
	for (i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (r->status < 100 || r->status > 599)
		return -1;
	/* Some servers omit the SP before an empty reason; accept that. */
	if (n > 12 && s[12] != ' ')
		return -1;
	for (i = 13; i < n; i++)
		if (!is_text((unsigned char)s[i]))
			return -1;
	r->reason.p = s + (n > 12 ? 13 : 12);
	r->reason.n = n > 12 ? n - 13 : 0;
	return 0;
}

int http_parse_request(const char *p, size_t n, struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	return parse_head(p, n, start_request, r, r->h, &r->nh, &r->head_len);
}

int http_parse_response(const char *p, size_t n, struct http_resp *r)
{
	memset(r, 0, sizeof(*r));
	return parse_head(p, n, start_response, r, r->h, &r->nh, &r->head_len);
}

int http_span_ieq(const struct http_span *a, const char *s)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!s[i] || lower((unsigned char)a->p[i]) != lower((unsigned char)s[i]))
			return 0;
	return s[i] == '\0';
}

int http_span_eq(const struct http_span *a, const char *s)
{
	size_t n = strlen(s);

	return a->n == n && memcmp(a->p, s, n) == 0;
}

const struct http_span *http_get(const struct http_header *h, int nh, const char *name)
{
	int i;

	for (i = 0; i < nh; i++)
		if (http_span_ieq(&h[i].name, name))
			return &h[i].value;
	return NULL;
}

int http_accepts_gzip(const struct http_header *h, int nh)
{
	const struct http_span *v = http_get(h, nh, "Accept-Encoding");
	int gz = -1, star = 0, ok;
	size_t i = 0, b, j;

	while (v && i < v->n) {
		struct http_span c;

		while (i < v->n && (v->p[i] == ' ' || v->p[i] == '\t' || v->p[i] == ','))
			i++;
		b = i;
		while (i < v->n && !strchr(",; \t", v->p[i]))
			i++;
		c.p = v->p + b;
		c.n = i - b;
		/* Its parameters, up to the next comma: q=0, 0.0, 0.000 refuse. */
		for (ok = 1; i < v->n && v->p[i] != ','; i++)
			if ((v->p[i] == 'q' || v->p[i] == 'Q') && i + 1 < v->n && v->p[i + 1] == '=' &&
			    strchr("; \t", v->p[i - 1])) {
				for (j = i + 2; j < v->n && (v->p[j] == '0' || v->p[j] == '.'); j++)
					;
				ok = j < v->n && v->p[j] >= '1' && v->p[j] <= '9';
			}
		if (http_span_ieq(&c, "gzip") || http_span_ieq(&c, "x-gzip"))
			gz = ok;
		else if (http_span_ieq(&c, "*"))
			star = ok;
	}
	return gz >= 0 ? gz : star;
}

int http_has_token(const struct http_span *v, const char *token)
{
	size_t i = 0, b, e;

	if (!v)
		return 0;
	while (i < v->n) {
		struct http_span el;

		b = i;
		while (i < v->n && v->p[i] != ',')
			i++;
		e = i++;
		while (b < e && (v->p[b] == ' ' || v->p[b] == '\t'))
			b++;
		while (e > b && (v->p[e - 1] == ' ' || v->p[e - 1] == '\t'))
			e--;
		el.p = v->p + b;
		el.n = e - b;
		if (el.n && http_span_ieq(&el, token))
			return 1;
	}
	return 0;
}

long long http_content_length(const struct http_header *h, int nh)
{
	long long v = -1;
	int i;

	for (i = 0; i < nh; i++) {
		long long x = 0;
		size_t k;

		if (!http_span_ieq(&h[i].name, "content-length"))
			continue;
		if (h[i].value.n == 0)
			return -2;
		for (k = 0; k < h[i].value.n; k++) {
			char c = h[i].value.p[k];

			if (c < '0' || c > '9' || x > (0x7fffffffffffffffLL - 9) / 10)
				return -2;
			x = x * 10 + (c - '0');
		}
		/* RFC 9112 6.3: differing values are a framing error. */
		if (v >= 0 && v != x)
			return -2;
		v = x;
	}
	return v;
}

const char *http_reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	if (status >= 100 && status < 200) return "Informational";
	if (status >= 200 && status < 300) return "Success";
	if (status >= 300 && status < 400) return "Redirection";
	if (status >= 400 && status < 500) return "Client Error";
	return "Server Error";
}

int http_query_param(const struct http_req *req, const char *key, char *out, size_t cap)
{
	const char *q = memchr(req->target.p, '?', req->target.n);
	const char *end = req->target.p + req->target.n, *p;
	size_t kl = strlen(key), n;

	for (p = q ? q + 1 : end; p < end; ) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;

		if ((size_t)(stop - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
			n = (size_t)(stop - p) - kl - 1;
			if (n >= cap)
				return -1;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return 1;
		}
		p = stop + 1;
	}
	return 0;
}
