/* help.h - the subcommands' --help texts (help.c). */
#ifndef NESTD_HELP_H
#define NESTD_HELP_H

#include <stddef.h>

/* HELP_AGENT, HELP_SERVER...: help_text.h's texts, in its order (the texts
 * themselves are macro arguments left unused here: no bytes of them). */
enum help_text {
#define HELP_TEXT(name, text) HELP_##name,
#include "help_text.h"
#undef HELP_TEXT
	HELP_COUNT
};

/* The text (*n bytes, NUL-terminated), in a buffer the caller frees
 * through *tofree; NULL when out of memory or not in this build (the
 * agent-only build has HELP_AGENT alone). */
const char *help_text(enum help_text which, size_t *n, unsigned char **tofree);

/* Writes the text to o whole (after what o holds): 0, or -1 (and a word
 * on stderr) when it is not there or could not be written. */
struct out;
int help_print(enum help_text which, struct out *o);

#endif
