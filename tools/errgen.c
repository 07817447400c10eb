/* tools/errgen.c - prints the C library's strerror messages, at build time.
 *
 *   errgen        the table errmsg.c serves: the message for an errno the
 *                 library does not know, then errno 0, 1, ... up to the
 *                 last one it has a message of its own for, each followed
 *                 by a NUL; an errno that has none (a hole) is an empty
 *                 string
 *   errgen -t     C initializers { errno, "message" }, straight from
 *                 strerror, for every errno of that range and a few outside
 *                 it (negative, one past, huge): the unit test's expectations
 *
 * Compiled with the static builds' compiler (musl-gcc) and run on the build
 * machine, so the messages are, byte for byte, the ones musl's own strerror
 * would give in nestd-static (nestd never calls setlocale: no translation).
 * Portable C only: it runs on the build machine, never in nestd. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define ERRGEN_SCAN 4096       /* errno values looked at (Linux's stop at 133) */

static char unknown[256];

/* strerror(e), copied: some libraries reuse one buffer. */
static const char *msg(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	return buf;
}

/* One expectation; 0 if the message needs quoting in C (none of musl's
 * does: refused rather than escaped). */
static int expect(int e)
{
	char buf[256];
	const char *s = msg(e, buf, sizeof(buf));

	for (; *s; s++)
		if (*s == '"' || *s == '\\' || *s < 0x20 || *s >= 0x7f) {
			fprintf(stderr, "errgen: errno %d's message holds a byte to quote\n", e);
			return 0;
		}
	if (e == INT_MIN)
		printf("{ INT_MIN, \"%s\" },\n", buf);   /* -2147483648 is not an int literal */
	else
		printf("{ %d, \"%s\" },\n", e, buf);
	return 1;
}

int main(int argc, char **argv)
{
	char buf[256];
	int e, n = 0;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "-t"))) {
		fprintf(stderr, "usage: errgen [-t]\n");
		return 2;
	}
	msg(-1, unknown, sizeof(unknown));
	for (e = 0; e < ERRGEN_SCAN; e++)
		if (strcmp(msg(e, buf, sizeof(buf)), unknown))
			n = e + 1;
	if (n == 0 || strcmp(msg(INT_MAX, buf, sizeof(buf)), unknown) ||
	    strcmp(msg(ERRGEN_SCAN, buf, sizeof(buf)), unknown)) {
		/* glibc's "Unknown error N" differs per errno: not a table. */
		fprintf(stderr, "errgen: this C library has no single message for an unknown errno\n");
		return 1;
	}
	if (argc == 2) {
		for (e = -3; e < n + 3; e++)
			if (!expect(e))
				return 1;
		if (!expect(INT_MIN) || !expect(INT_MAX) || !expect(ERRGEN_SCAN) || !expect(1 << 30))
			return 1;
	} else {
		fputs(unknown, stdout);
		putchar('\0');
		for (e = 0; e < n; e++) {
			if (strcmp(msg(e, buf, sizeof(buf)), unknown))
				fputs(buf, stdout);
			putchar('\0');
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "errgen: write error\n");
		return 1;
	}
	return 0;
}
