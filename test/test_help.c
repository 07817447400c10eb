/* test_help.c - help.c: each text, inflated from the one stream the build
 * stores, is help_text.h's byte for byte; past the last one, none. */
#include <stdio.h>
#include <stdlib.h>
#include "t.h"
#include "../config.h"
#include "../help.h"

void test_help_texts(void);

static const char *const texts[] = {
#define HELP_TEXT(name, text) text,
#include "../help_text.h"
#undef HELP_TEXT
};

void test_help_texts(void)
{
	unsigned char *tofree;
	size_t i, n;

	CHECK(sizeof(texts) / sizeof(texts[0]) == HELP_COUNT && HELP_COUNT > 10);
	for (i = 0; i < HELP_COUNT; i++) {
		const char *p = help_text((enum help_text)i, &n, &tofree);

		CHECK(p != NULL && tofree != NULL);      /* inflated, not stored plain */
		if (p)
			CHECK_MEM(p, n, texts[i], strlen(texts[i]));
		free(tofree);
	}
	CHECK(strlen(texts[HELP_AGENT]) > 1000 && !strncmp(texts[HELP_AGENT], "usage: nestd agent", 18));
	CHECK(help_text(HELP_COUNT, &n, &tofree) == NULL && tofree == NULL);
}
