/* test_help.c - help.c: each text, inflated from the one stream the build
 * stores, is help_text.h's byte for byte; past the last one, none. */
#include <stdio.h>
#include <stdlib.h>
#include "t.h"
#include "../config.h"
#include "../help.h"

void test_help_texts(void);

static const struct {
	const char *name, *text;
} texts[] = {
#define HELP_TEXT(name, text) { #name, text },
#include "../help_text.h"
#undef HELP_TEXT
};

void test_help_texts(void)
{
	static const char *const order[] = { "agent", "server", "ctl", "token" };   /* enum help_text */
	unsigned char *tofree;
	size_t i, k, n;

	CHECK(sizeof(texts) / sizeof(texts[0]) == 4);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = help_text((enum help_text)i, &n, &tofree);

		for (k = 0; k < 4 && strcmp(texts[k].name, order[i]); k++)
			;
		CHECK(k < 4 && strlen(texts[k].text) > 1000);
		CHECK(p != NULL && tofree != NULL);      /* inflated, not stored plain */
		if (p && k < 4)
			CHECK_MEM(p, n, texts[k].text, strlen(texts[k].text));
		free(tofree);
	}
	CHECK(help_text((enum help_text)4, &n, &tofree) == NULL && tofree == NULL);
}
