/* help.c - the subcommands' --help texts, stored compressed.
 *
 * The texts are help_text.h's.  The build prints them (tools/helpgen), each
 * followed by a NUL, in their order (enum help_text's), and stores them as
 * one gzip stream in help_files (tools/embed):
 * they share most of their words, so together they shrink 15.8 KB -> 5.4 KB.
 * They are inflated (inflate.c) only when one is printed.  The agent-only
 * build holds its one text plain, so it links no inflater for it. */
#include "help.h"

#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "out.h"

extern const struct embed_file help_files[];

const char *help_text(enum help_text which, size_t *n, unsigned char **tofree)
{
	const char *p, *end;
	size_t len;
	int i;

	*tofree = NULL;
#if NESTD_AGENT_ONLY
	p = (const char *)help_files[0].data;
	len = help_files[0].size;
#else
	p = (const char *)embed_data(&help_files[0], &len, tofree);
	if (!p)
		return NULL;
#endif
	end = p + len;        /* the data ends in a NUL past len either way */
	for (i = 0; i < (int)which && p < end; i++)
		p += strlen(p) + 1;
	if (p >= end) {
		free(*tofree);
		*tofree = NULL;
		return NULL;
	}
	*n = strlen(p);
	return p;
}

int help_print(enum help_text which, struct out *o)
{
	unsigned char *tofree;
	size_t n;
	const char *p = help_text(which, &n, &tofree);
	int rc;

	if (!p) {
		out_puts(&out_stderr, "nestd: no help text here (out of memory?)\n");
		return -1;
	}
	rc = out_write(o, p, n);
	free(tofree);
	return rc;
}
