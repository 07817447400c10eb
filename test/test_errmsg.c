/* test_errmsg.c - errmsg.c's strerror against musl's own (the static builds).
 *
 * The expectations are tools/errgen -t's: musl's strerror called directly
 * on the build machine for every errno of its table and a few outside it.
 * errmsg_text must give each, byte for byte, from the stored stream; and
 * strerror must be errmsg_text's (the static link took ours, not musl's). */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "t.h"
#include "errmsg.h"

void test_errmsg(void);

#if NESTD_ERRMSG
static const struct {
	int e;
	const char *msg;
} want[] = {
#include "errmsg_expect.inc"
};
#endif

void test_errmsg(void)
{
#if NESTD_ERRMSG
	size_t i, n = sizeof(want) / sizeof(want[0]);
	int known = 0;

	CHECK(n > 100);
	for (i = 0; i < n; i++) {
		const char *got = errmsg_text(want[i].e);

		CHECK_STR(got, want[i].msg);
		CHECK(strerror(want[i].e) == got);
		known += strcmp(want[i].msg, "No error information") != 0;
	}
	CHECK(known > 80);      /* musl 1.2: 92 of errno 0-133 */
	CHECK_STR(strerror(ENOENT), "No such file or directory");
	CHECK_STR(strerror(ECONNREFUSED), "Connection refused");
	CHECK(errmsg_text(0) == errmsg_text(-1) && errmsg_text(INT_MIN) == errmsg_text(-1));
#else
	SKIP("strerror is the C library's in this build (errmsg.c: musl builds, make static-unit)");
#endif
}
