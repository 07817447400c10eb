/* test_httpc.c - the outbound HTTP client's response parser (httpc.c):
 * each answer fed whole and one byte at a time, the framings of RFC 9112
 * (Content-Length, chunked with extensions and trailers, until the end),
 * interim answers, Retry-After, keep-alive, and every refusal. */
#include <string.h>

#include "config.h"
#include "httpc.h"
#include "t.h"

void test_httpc_framings(void);
void test_httpc_retry_after(void);
void test_httpc_refusals(void);

/* Feeds s in pieces of step bytes (0: whole); eof: then the end of the
 * connection.  Returns the final state. */
static enum httpc_pstate feed(struct httpc_parser *p, const char *s, size_t step, int eof)
{
	size_t n = strlen(s), off = 0;

	httpc_parser_init(p, 1024);
	while (off < n && p->state != HP_DONE && p->state != HP_ERROR) {
		size_t k = step && n - off > step ? step : n - off, used = 0;

		while (used < k && p->state != HP_DONE && p->state != HP_ERROR) {
			size_t u = httpc_parser_feed(p, s + off + used, k - used);

			if (!u)
				break;
			used += u;
		}
		off += used;
		if (!used)
			break;
	}
	if (eof && p->state != HP_DONE && p->state != HP_ERROR)
		httpc_parser_eof(p);
	return p->state;
}

static void check_body(const char *resp, int eof, const char *body, int status, int keep)
{
	size_t steps[] = { 0, 1, 2, 7 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct httpc_parser p;

		CHECK(feed(&p, resp, steps[i], eof) == HP_DONE);
		CHECK(p.status == status);
		CHECK_MEM(p.body.p ? p.body.p : "", p.body.len, body, strlen(body));
		CHECK(p.keep_alive == keep);
		httpc_parser_free(&p);
	}
}

void test_httpc_framings(void)
{
	check_body("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}", 0, "{\"ok\":true}", 200, 1);
	check_body("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, "", 200, 1);
	check_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "4;ext=1\r\n{\"ok\r\n7\r\n\":true}\r\n0\r\nX-Trailer: y\r\n\r\n", 0,
		   "{\"ok\":true}", 200, 1);
	check_body("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\na\nabcdefghij\n0\n\n", 0,
		   "abcdefghij", 200, 1);
	check_body("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", 1, "until the end", 200, 0);
	check_body("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, "ok", 200, 0);
	check_body("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 0, "ok", 200, 0);
	check_body("HTTP/1.1 204 No Content\r\n\r\n", 0, "", 204, 1);
}

void test_httpc_retry_after(void)
{
	struct httpc_parser p;

	CHECK(feed(&p, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n",
		   1, 0) == HP_DONE);
	CHECK(p.status == 429 && p.retry_after == 30);
	httpc_parser_free(&p);
	/* An HTTP-date: one second, sooner rather than never. */
	CHECK(feed(&p, "HTTP/1.1 429 x\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
		   "Content-Length: 0\r\n\r\n", 0, 0) == HP_DONE);
	CHECK(p.retry_after == 1);
	httpc_parser_free(&p);
	CHECK(feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0) == HP_DONE);
	CHECK(p.retry_after == -1);
	httpc_parser_free(&p);
}

void test_httpc_refusals(void)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n",   /* over the 1024 bound... */
		"NOTHTTP\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",     /* no Expect sent: no interim answer */
	};
	struct httpc_parser p;
	char big[1200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum httpc_pstate st = feed(&p, bad[i], i % 2 ? 1 : 0, 0);

		/* ...which shows once the body comes */
		if (i == 4 && st != HP_ERROR) {
			memset(big, 'x', sizeof(big));
			while (p.state == HP_BODY && httpc_parser_feed(&p, big, sizeof(big)))
				;
			st = p.state;
		}
		CHECK(st == HP_ERROR);
		CHECK(p.why != NULL);
		httpc_parser_free(&p);
	}
	/* Cut short: the end of the connection before the body's end. */
	CHECK(feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1, 1) == HP_ERROR);
	httpc_parser_free(&p);
	CHECK(feed(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", 0, 1) == HP_ERROR);
	httpc_parser_free(&p);
	/* A head that never ends is refused at the header bound. */
	{
		static char head[CFG_HTTP_MAX_HEADER + 100];
		size_t k;

		memcpy(head, "HTTP/1.1 200 OK\r\n", 17);
		for (k = 17; k < sizeof(head) - 1; k++)
			head[k] = (k % 40) == 39 ? '\n' : 'a';
		head[sizeof(head) - 1] = '\0';
		CHECK(feed(&p, head, 0, 0) == HP_ERROR);
		httpc_parser_free(&p);
	}
}
