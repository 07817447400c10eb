/* tools/helpgen.c - prints the --help texts of help_text.h, at build time.
 *
 *   helpgen          every text, each followed by a NUL, in help_text.h's
 *                    order (enum help_text's, help.h): the build compresses
 *                    that into the binary (help.c)
 *   helpgen -1       the first one alone (the agent's: the agent-only build)
 *   helpgen NAME     that one alone, without the NUL (tests: agent, ctl_ps)
 *
 * Compiled with the build machine's compiler against config.h, so the
 * texts' numbers are nestd's own.  Portable C only: it runs on the build
 * machine, never in nestd. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../config.h"

static const struct {
	const char *name, *text;
} texts[] = {
#define HELP_TEXT(name, text) { #name, text },
#include "../help_text.h"
#undef HELP_TEXT
};

#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

int main(int argc, char **argv)
{
	size_t k, n = NTEXTS;

	if (argc > 2) {
		fprintf(stderr, "usage: helpgen [-1 | NAME]\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "-1")) {
		for (k = 0; k < NTEXTS && strcasecmp(texts[k].name, argv[1]); k++)
			;
		if (k == NTEXTS) {
			fprintf(stderr, "helpgen: no text named %s in help_text.h\n", argv[1]);
			return 2;
		}
		fputs(texts[k].text, stdout);
	} else {
		if (argc == 2)
			n = 1;
		for (k = 0; k < n; k++) {
			fputs(texts[k].text, stdout);
			putchar('\0');
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "helpgen: write error\n");
		return 1;
	}
	return 0;
}
