/* server_ui.c - the web dashboard, embedded in the binary.
 *
 * Serves ui/index.html, ui/app.js and ui/style.css (built into ui_files by
 * tools/embed) at /, /app.js and /style.css; the API asks it unless
 * --ui off.  The page has no server logic of its own: it drives agents
 * through /api/clients with the operator's Bearer token, like nestd ctl.  Headers lock the page down:
 * only its own script and style, no inline code, no framing, no referrer.
 *
 * The files are stored gzip-compressed (the Makefile, tools/embed -z) and
 * go out as they are, Content-Encoding: gzip, to every client whose
 * Accept-Encoding takes gzip (every browser); any other client gets them
 * inflated (inflate.c).  Vary: Accept-Encoding on both. */
#include "server_ui.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "embed.h"

extern const struct embed_file ui_files[];

#define UI_HEADERS \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; " \
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n" \
	"X-Content-Type-Options: nosniff\r\n" \
	"Referrer-Policy: no-referrer\r\n" \
	"X-Frame-Options: DENY\r\n"

/* 405 with the page's headers: Allow put in front of them here, so the
 * binary holds them once (the linker shares a string's tail, and every
 * other answer's headers end in UI_HEADERS). */
static void not_allowed(struct conn *c)
{
	char h[sizeof("Allow: GET, HEAD\r\n" UI_HEADERS)];

	memcpy(h, "Allow: GET, HEAD\r\n", 18);
	memcpy(h + 18, UI_HEADERS, sizeof(UI_HEADERS));
	conn_http_respond(c, 405, "text/plain; charset=utf-8", h, "method not allowed\n", 19);
}

static const struct {
	const char *path, *file, *ctype;
} ui_routes[] = {
	{ "/", "index.html", "text/html; charset=utf-8" },
	{ "/index.html", "index.html", "text/html; charset=utf-8" },
	{ "/app.js", "app.js", "text/javascript; charset=utf-8" },
	{ "/style.css", "style.css", "text/css; charset=utf-8" },
};

int server_ui_route(struct conn *c, const struct http_req *req, const struct http_span *path)
{
	const struct embed_file *f;
	size_t i;

	/* Browsers ask for it whatever the page says; no content, no log noise. */
	if (http_span_eq(path, "/favicon.ico")) {
		if (!http_span_eq(&req->method, "GET") && !http_span_eq(&req->method, "HEAD"))
			not_allowed(c);
		else
			conn_http_respond(c, 204, NULL, UI_HEADERS, "", 0);
		return 1;
	}
	for (i = 0; i < sizeof(ui_routes) / sizeof(ui_routes[0]); i++) {
		if (!http_span_eq(path, ui_routes[i].path))
			continue;
		if (!http_span_eq(&req->method, "GET") && !http_span_eq(&req->method, "HEAD")) {
			not_allowed(c);
			return 1;
		}
		f = embed_find(ui_files, ui_routes[i].file, strlen(ui_routes[i].file));
		if (!f)
			return 0;
		if (!f->usize || http_accepts_gzip(req->h, req->nh)) {
			conn_http_respond(c, 200, ui_routes[i].ctype, f->usize ?
					  "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" UI_HEADERS :
					  UI_HEADERS, (const char *)f->data, f->size);
		} else {
			unsigned char *tofree;
			size_t n;
			const unsigned char *p = embed_data(f, &n, &tofree);

			if (p)
				conn_http_respond(c, 200, ui_routes[i].ctype,
						  "Vary: Accept-Encoding\r\n" UI_HEADERS, (const char *)p, n);
			else
				conn_http_respond(c, 500, "text/plain; charset=utf-8", UI_HEADERS,
						  "out of memory\n", 14);
			free(tofree);
		}
		return 1;
	}
	return 0;
}
