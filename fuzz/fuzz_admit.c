/* fuzz_admit.c - libFuzzer target for what admission reads from strangers
 * (server_admit.c): --trusted-proxy specs and X-Forwarded-For values.
 *
 * The input's first line is a comma-separated list of proxy specs; each
 * further line is one X-Forwarded-For header line, from a trusted proxy
 * (127.0.0.1, always on the list) and from a stranger.  Checks: no read
 * outside the input (ASan), a source that is NUL-terminated within
 * ADMIT_SOURCE_MAX, a stranger's header never believed, and the sources
 * charged and summarised without a fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server_admit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXLINES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admit_proxy p[CFG_TRUSTED_PROXIES];
	struct http_span xff[MAXLINES];
	const char *s = (const char *)data, *end = s + size, *nl;
	char spec[128], out[ADMIT_SOURCE_MAX];
	struct admit_verdict v;
	struct admit_summary sum;
	struct admit *a;
	int n = 0, nx = 0;

	if (admit_proxy_parse("127.0.0.1", &p[n]) == 0)
		n++;
	nl = memchr(s, '\n', size);
	if (!nl)
		nl = end;
	/* The specs, comma-separated, each NUL-terminated as options are. */
	while (s < nl && n < CFG_TRUSTED_PROXIES) {
		const char *c = memchr(s, ',', (size_t)(nl - s));
		size_t l = (size_t)((c ? c : nl) - s);

		if (l < sizeof(spec)) {
			memcpy(spec, s, l);
			spec[l] = '\0';
			if (!memchr(spec, '\0', l) && admit_proxy_parse(spec, &p[n]) == 0)
				n++;
		}
		s += l + (c ? 1 : 0);
	}
	s = nl < end ? nl + 1 : end;
	while (s < end && nx < MAXLINES) {
		const char *e = memchr(s, '\n', (size_t)(end - s));

		xff[nx].p = s;
		xff[nx].n = (size_t)((e ? e : end) - s);
		nx++;
		s = e ? e + 1 : end;
	}
	admit_forwarded(p, n, "127.0.0.1", xff, nx, out);
	if (!memchr(out, '\0', sizeof(out)))
		abort();
	a = admit_new();
	if (!a)
		return 0;
	admit_failed(a, out, 0, &v);
	admit_forwarded(p, n, "192.0.2.1", xff, nx, out);
	if (!admit_proxy_match(p, n, "192.0.2.1") && strcmp(out, "192.0.2.1") != 0)
		abort();
	admit_failed(a, out, 1, &v);
	while (admit_summary_next(a, 1000000, &sum))
		;
	admit_free(a);
	return 0;
}
