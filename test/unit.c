/* unit.c - runs every module's unit tests (or those whose name contains
 * argv[1]) and ends with the line "N passed, N failed, N skipped", after
 * the list of skips and their reasons. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "t.h"
#include "log.h"

int t_passed, t_failed, t_skipped;

#define T(f) void f(void);
#include "tests.inc"
#undef T

#define MAX_SKIPS 64
static char skips[MAX_SKIPS][200];

void t_skip(const char *func, const char *reason)
{
	if (t_skipped < MAX_SKIPS)
		snprintf(skips[t_skipped], sizeof(skips[0]), "%s: %s", func, reason);
	t_skipped++;
	fprintf(stderr, "SKIP %s: %s\n", func, reason);
}

int main(int argc, char **argv)
{
	int i;

	/* The modules log as they would in a daemon; keep the runner's output
	 * to failures unless asked (NESTD_TEST_LOG=1). */
	if (!getenv("NESTD_TEST_LOG"))
		log_threshold = LOG_LVL_ERROR;
#define T(f) if (argc < 2 || strstr(#f, argv[1])) f();
#include "tests.inc"
#undef T
	for (i = 0; i < t_skipped && i < MAX_SKIPS; i++)
		printf("skipped: %s\n", skips[i]);
	printf("%d passed, %d failed, %d skipped\n", t_passed, t_failed, t_skipped);
	return t_failed != 0;
}
