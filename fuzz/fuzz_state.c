/* fuzz_state.c - libFuzzer target for the server's state files
 * (server_roster.c's agents and history texts, server_session.c's
 * sessions): whatever a damaged or hostile file holds, the parsers skip
 * what does not read, stay within their bounds, and what they kept writes
 * out as a text that reads back to the same table.  The input is split at
 * its first two NUL bytes: agents, history, sessions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "server_roster.h"
#include "server_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roster_round_trip(const struct roster *r)
{
	struct roster again;
	struct buf a, h, a2, h2;

	buf_init(&a, 0);
	buf_init(&h, 0);
	buf_init(&a2, 0);
	buf_init(&h2, 0);
	if (roster_format(r, &a) < 0 || roster_history_format(r, &h) < 0)
		abort();
	roster_init(&again);
	if (roster_parse(&again, a.p ? a.p : "", a.len) != 0 ||
	    roster_history_parse(&again, h.p ? h.p : "", h.len) != 0)
		abort();
	if (again.n != r->n || roster_format(&again, &a2) < 0 || roster_history_format(&again, &h2) < 0 ||
	    a.len != a2.len || h.len != h2.len || (a.len && memcmp(a.p, a2.p, a.len)) ||
	    (h.len && memcmp(h.p, h2.p, h.len)))
		abort();
	roster_free(&again);
	buf_free(&a);
	buf_free(&h);
	buf_free(&a2);
	buf_free(&h2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *z1 = memchr(p, 0, size), *z2 = z1 ? memchr(z1 + 1, 0, (size_t)(end - z1 - 1)) : NULL;
	size_t n1 = z1 ? (size_t)(z1 - p) : size;
	struct roster r;
	struct sessions ss, again;
	struct buf b, b2;

	roster_init(&r);
	roster_parse(&r, p, n1);
	if (z1)
		roster_history_parse(&r, z1 + 1, z2 ? (size_t)(z2 - z1 - 1) : (size_t)(end - z1 - 1));
	if (r.n > CFG_ROSTER_MAX || r.nhist > CFG_HISTORY_AGENTS_MAX)
		abort();
	roster_round_trip(&r);
	roster_free(&r);
	sessions_init(&ss);
	if (z2)
		sessions_parse(&ss, z2 + 1, (size_t)(end - z2 - 1), 1);
	buf_init(&b, 0);
	buf_init(&b2, 0);
	sessions_init(&again);
	if (ss.n > CFG_SESSIONS_MAX || sessions_format(&ss, &b) < 0 ||
	    sessions_parse(&again, b.p, b.len, 1) != 0 || again.n != ss.n ||
	    sessions_format(&again, &b2) < 0 || b.len != b2.len || memcmp(b.p, b2.p, b.len))
		abort();
	sessions_free(&ss);
	sessions_free(&again);
	buf_free(&b);
	buf_free(&b2);
	return 0;
}
