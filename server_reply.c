/* server_reply.c - the API's answers (see server_reply.h). */
#include "server_reply.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "deflate.h"
#include "fmt.h"
#include "json.h"
#include "server_int.h"

/* Every API answer: gzip'd when the client takes it and the body is worth
 * it (CFG_GZIP_MIN), so a 2,000-process list goes out at a tenth of its
 * size; Vary either way, as the dashboard's files do. */
void api_send(struct conn *c, int status, const char *ctype, const char *extra,
	      const char *body, size_t n)
{
	struct peer *p = c->owner;
	char hdr[1024];
	struct buf z;

	if (!p || !p->gzip_ok || n < CFG_GZIP_MIN || strlen(extra ? extra : "") > 900) {
		conn_http_respond(c, status, ctype, extra, body, n);
		return;
	}
	buf_init(&z, n + n / 8 + 64);
	if (gzip_encode((const unsigned char *)body, n, &z) < 0 || z.len >= n) {
		fmt_snprintf(hdr, sizeof(hdr), "Vary: Accept-Encoding\r\n%s", extra ? extra : "");
		conn_http_respond(c, status, ctype, hdr, body, n);
	} else {
		fmt_snprintf(hdr, sizeof(hdr), "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n%s",
			 extra ? extra : "");
		conn_http_respond(c, status, ctype, hdr, z.p, z.len);
	}
	buf_free(&z);
}

void api_json(struct conn *c, int status, const char *extra, struct buf *b)
{
	api_send(c, status, "application/json", extra, b->p ? b->p : "", b->len);
}

/* {"error":MSG} */
void api_error(struct conn *c, int status, const char *extra, const char *msg)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "error", msg);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	conn_http_respond(c, status, "application/json", extra, b.p ? b.p : "", b.len);
	buf_free(&b);
}

void api_not_connected(struct conn *c, const char *name)
{
	char msg[128];

	fmt_snprintf(msg, sizeof(msg), "agent '%s' is not connected", name);
	api_error(c, 404, NULL, msg);
}

/* 1 after a 405 for anything but GET and HEAD (exactly: "get" is
 * another method, RFC 9110 9.1). */
int api_refuse_unless_get(struct conn *c, const struct http_req *req)
{
	if (http_span_eq(&req->method, "GET") || http_span_eq(&req->method, "HEAD"))
		return 0;
	api_error(c, 405, "Allow: GET, HEAD\r\n", "method not allowed");
	return 1;
}
