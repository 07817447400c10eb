/* fuzz_proc_stat.c - libFuzzer target for the /proc/PID/stat parser
 * (proc_stat_parse, agent_proc.h).  A process names itself: its comm, up
 * to 15 bytes of anything but NUL, sits between the parentheses, so any
 * user on the box can put ')' and digits there to confuse a reader.
 *
 * Checks: no read outside the input (a private copy, ASan-guarded), comm
 * NUL-terminated inside its array, the state is the byte two after the
 * last ')', and a parsed line printed back from its fields parses to the
 * same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct pinfo *a, const struct pinfo *b)
{
	return a->ppid == b->ppid && a->state == b->state && !strcmp(a->comm, b->comm) &&
	       a->flags == b->flags && a->utime == b->utime && a->stime == b->stime &&
	       a->threads == b->threads && a->start == b->start && a->vsize == b->vsize &&
	       a->rss_pages == b->rss_pages;
}

/* The fields of pi as the kernel would print them (the unused ones 0). */
static size_t print_back(const struct pinfo *pi, char *out, size_t cap)
{
	int n = snprintf(out, cap,
			 "1 (%s) %c %d 0 0 0 0 %llu 0 0 0 0 %llu %llu 0 0 0 0 %lld 0 %llu %llu %llu 0 0\n",
			 pi->comm, pi->state, pi->ppid, pi->flags, pi->utime, pi->stime,
			 pi->threads, pi->start, pi->vsize, pi->rss_pages);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1), again[1024];
	const char *close;
	struct pinfo a, b;
	size_t n;

	memcpy(p, data, size);
	memset(&a, 0x5a, sizeof(a));
	if (proc_stat_parse(&a, p, size) == 0) {
		if (!memchr(a.comm, '\0', sizeof(a.comm)))
			abort();
		close = NULL;
		for (n = 0; n < size; n++)
			if (p[n] == ')')
				close = p + n;
		if (!close || close + 2 >= p + size || a.state != close[2])
			abort();
		/* Round trip, when comm can be printed back as it was read. */
		if (a.state != ')' && (n = print_back(&a, again, sizeof(again))) > 0) {
			memset(&b, 0, sizeof(b));
			if (proc_stat_parse(&b, again, n) != 0 || !same(&a, &b))
				abort();
		}
	}
	free(p);
	return 0;
}
