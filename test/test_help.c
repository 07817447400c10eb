/* test_help.c - help.c: each text, inflated from the one stream the build
 * stores, is its usage/NAME.txt byte for byte; past the last one, none. */
#include <stdio.h>
#include <stdlib.h>
#include "t.h"
#include "../help.h"

void test_help_texts(void);

void test_help_texts(void)
{
	static const char *const files[] = { "usage/agent.txt", "usage/server.txt",
					     "usage/ctl.txt", "usage/token.txt" };
	static char want[16384];
	unsigned char *tofree;
	size_t i, n, wn;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "rb");
		const char *p;

		wn = f ? fread(want, 1, sizeof(want), f) : 0;
		if (f)
			fclose(f);
		CHECK(wn > 1000 && wn < sizeof(want));
		p = help_text((enum help_text)i, &n, &tofree);
		CHECK(p != NULL && tofree != NULL);      /* inflated, not stored plain */
		if (p)
			CHECK_MEM(p, n, want, wn);
		free(tofree);
	}
	CHECK(help_text((enum help_text)4, &n, &tofree) == NULL && tofree == NULL);
}
