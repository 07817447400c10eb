/* tools/helpgen.c - prints the --help texts of help_text.h, at build time.
 *
 *   helpgen NAME... > help.txt
 *
 * writes each named text followed by a NUL, in the order given (the
 * Makefile's HELP_NAMES, which is enum help_text's); the build compresses
 * that into the binary (help.c).  Compiled with the build machine's
 * compiler against config.h, so the texts' numbers are nestd's own.
 * Portable C only: it runs on the build machine, never in nestd. */
#include <stdio.h>
#include <string.h>

#include "../config.h"

static const struct {
	const char *name, *text;
} texts[] = {
#define HELP_TEXT(name, text) { #name, text },
#include "../help_text.h"
#undef HELP_TEXT
};

int main(int argc, char **argv)
{
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
			if (!strcmp(texts[k].name, argv[i]))
				break;
		if (k == sizeof(texts) / sizeof(texts[0])) {
			fprintf(stderr, "helpgen: no text named %s in help_text.h\n", argv[i]);
			return 2;
		}
		fputs(texts[k].text, stdout);
		putchar('\0');
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "helpgen: write error\n");
		return 1;
	}
	return argc > 1 ? 0 : 2;
}
