/* embed.h - files built into the binary by tools/embed (see the Makefile).
 * A table ends with an entry whose name is NULL. */
#ifndef NESTD_EMBED_H
#define NESTD_EMBED_H

#include <stddef.h>
#include <string.h>

struct embed_file {
	const char *name;              /* base name: "app.js" */
	const unsigned char *data;     /* size bytes, then a NUL */
	size_t size;
	size_t usize;                  /* 0: data is the file; else data is
					* gzip that inflates to usize bytes */
};

/* The entry named name[0..n), or NULL. */
static inline const struct embed_file *embed_find(const struct embed_file *t,
						  const char *name, size_t n)
{
	for (; t->name; t++)
		if (strlen(t->name) == n && memcmp(t->name, name, n) == 0)
			return t;
	return NULL;
}

/* The file's own bytes (and *n): f->data itself, or, for a gzip entry,
 * inflated into a new buffer (usize bytes and a NUL) that the caller frees
 * through *tofree.  NULL when out of memory or the data does not inflate to
 * exactly usize bytes.  In inflate.c. */
const unsigned char *embed_data(const struct embed_file *f, size_t *n, unsigned char **tofree);

#endif
