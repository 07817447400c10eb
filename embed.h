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

#endif
