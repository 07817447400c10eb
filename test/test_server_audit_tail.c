/* test_server_audit_tail.c - the latest lines of an audit log, read
 * backwards (server_audit_tail.c): filters, the limit, the order, lines
 * across the reader's blocks, a last line without its newline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../json.h"
#include "../server_audit.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static int tail(const char *path, const char *agent, const char *op, int limit, struct buf *b)
{
	struct jw w;
	char err[256];
	int rc;

	buf_reset(b);
	jw_init(&w, b);
	jw_arr(&w);
	rc = audit_tail(path, agent, op, limit, &w, err, sizeof(err));
	jw_arr_end(&w);
	return rc;
}

void test_server_audit_tail(void)
{
	char path[] = "/tmp/nestd-audit-tail.XXXXXX", pad[2000];
	int fd = mkstemp(path), i;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct buf b;
	struct json j;
	char err[64];

	CHECK(f != NULL);
	if (!f)
		return;
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	/* 600 lines of 2 KB: over four of the reader's blocks. */
	for (i = 0; i < 600; i++)
		fprintf(f, "{\"event\":\"command\",\"n\":%d,\"agent\":\"%s\",\"operator\":\"%s\",\"pad\":\"%s\"}\n",
			i, i % 3 ? "web1" : "db1", i % 2 ? "alice" : "bob", pad);
	fprintf(f, "{\"event\":\"command\",\"n\":600,\"agent\":\"web1\",\"operator\":\"alice\"}");
	fclose(f);
	buf_init(&b, 0);
	CHECK(tail(path, NULL, NULL, 3, &b) == 0);
	CHECK(json_parse(&j, b.p, b.len, err, sizeof(err)) == 0 && json_count(&j, 0) == 3);
	CHECK(strstr(b.p, "\"n\":598") && strstr(b.p, "\"n\":600") &&
	      strstr(b.p, "\"n\":598") < strstr(b.p, "\"n\":600"));   /* oldest first */
	json_free(&j);
	CHECK(tail(path, "db1", "bob", 1000, &b) == 0);               /* every sixth */
	CHECK(json_parse(&j, b.p, b.len, err, sizeof(err)) == 0 && json_count(&j, 0) == 100);
	CHECK(strstr(b.p, "\"n\":0,") && strstr(b.p, "\"n\":594,") && !strstr(b.p, "web1"));
	json_free(&j);
	CHECK(tail(path, "nobody", NULL, 5, &b) == 0 && strcmp(b.p, "[]") == 0);
	CHECK(tail("/nonexistent/audit", NULL, NULL, 5, &b) < 0);
	buf_free(&b);
	unlink(path);
}
