/* unit.c - runs every module's unit tests (or those whose name contains
 * argv[1]) and ends with the line "N passed, N failed". */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "t.h"
#include "log.h"

int t_passed, t_failed;

#define T(f) void f(void);
#include "tests.inc"
#undef T

int main(int argc, char **argv)
{
	/* The modules log as they would in a daemon; keep the runner's output
	 * to failures unless asked (NESTD_TEST_LOG=1). */
	if (!getenv("NESTD_TEST_LOG"))
		log_threshold = LOG_LVL_ERROR;
#define T(f) if (argc < 2 || strstr(#f, argv[1])) f();
#include "tests.inc"
#undef T
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed != 0;
}
