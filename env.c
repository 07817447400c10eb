/* env.c - see env.h. */
#include "env.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int env_add(char *kv)
{
	size_t n = 0;
	char **e;

	while (environ && environ[n])
		n++;
	/* The new array is never freed: environ holds it to the end, as
	 * libc's own. */
	e = malloc((n + 2) * sizeof(*e));
	if (!e)
		return -1;
	if (n)
		memcpy(e, environ, n * sizeof(*e));
	e[n] = kv;
	e[n + 1] = NULL;
	environ = e;
	return 0;
}

void env_drop(const char *name)
{
	size_t k = strlen(name);
	char **r, **w;

	if (!environ)
		return;
	for (r = w = environ; *r; r++)
		if (strncmp(*r, name, k) || (*r)[k] != '=')
			*w++ = *r;
	*w = NULL;
}
