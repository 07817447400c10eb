/* help.h - the subcommands' --help texts (help.c). */
#ifndef NESTD_HELP_H
#define NESTD_HELP_H

#include <stddef.h>
#include <stdio.h>

/* help_text.h's texts, in the order of the Makefile's HELP_NAMES. */
enum help_text {
	HELP_AGENT,      /* HELP_TEXT(agent): nestd agent --help */
	HELP_SERVER,     /* HELP_TEXT(server) */
	HELP_CTL,        /* HELP_TEXT(ctl) */
	HELP_TOKEN,      /* HELP_TEXT(token) */
};

/* The text (*n bytes, NUL-terminated), in a buffer the caller frees
 * through *tofree; NULL when out of memory or not in this build (the
 * agent-only build has HELP_AGENT alone). */
const char *help_text(enum help_text which, size_t *n, unsigned char **tofree);

/* Writes the text to out: 0, or -1 (and a word on stderr) when it is not there. */
int help_print(enum help_text which, FILE *out);

#endif
