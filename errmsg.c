/* errmsg.c - strerror for the static musl builds (see errmsg.h).
 *
 * Why: musl's strerror is 2.2 KB of messages (errmsgstr, errmsgidx) in
 * every static binary, though nestd shows one only when something fails.
 * The build prints musl's own messages (tools/errgen, compiled with
 * musl-gcc and run on the build machine) as one stream: the message for an
 * unknown errno, then errno 0, 1, ... each followed by a NUL, an errno musl
 * has no message for being empty.  The full binary stores the stream gzip
 * compressed (~0.85 KB, tools/embed -z) and inflates it (inflate.c, which
 * it links anyway for the dashboard) the first time a message is asked
 * for; the agent-only build links no inflater, so it holds the stream plain
 * (still 0.2 KB under musl's: no index).  A lookup walks the stream: only
 * error paths ask, and never per message on the wire. */
#include "errmsg.h"

#if NESTD_ERRMSG
#include <string.h>

#include "embed.h"
#include "inflate.h"

extern const struct embed_file errmsg_files[];

/* The stream [p, *end); every string in it ends in a NUL before *end, and
 * *end itself is a NUL.  NULL if it does not inflate (it is our own build's
 * output, checked by its CRC: the unit test's case). */
static const char *errmsg_table(const char **end)
{
#if NESTD_AGENT_ONLY
	*end = (const char *)errmsg_files[0].data + errmsg_files[0].size;
	return (const char *)errmsg_files[0].data;
#else
	static char buf[4096];  /* bss; usize is ~2 KB; buf[len] stays 0 */
	static size_t len;      /* 0: not inflated yet (the stream is never empty) */
	long n;

	if (!len) {
		if (errmsg_files[0].usize >= sizeof(buf))
			return NULL;
		n = gunzip(errmsg_files[0].data, errmsg_files[0].size, (unsigned char *)buf,
			   sizeof(buf) - 1);
		if (n <= 0)
			return NULL;
		len = (size_t)n;
	}
	*end = buf + len;
	return buf;
#endif
}

const char *errmsg_text(int e)
{
	const char *end, *p = errmsg_table(&end), *s;
	int i;

	if (!p)
		return "No error information";
	for (s = p, i = -1; i < e && s < end; i++)
		s += strlen(s) + 1;
	return s < end && *s ? s : p;
}

char *strerror(int e)
{
	return (char *)errmsg_text(e);
}
#endif
