/* fuzz_minify.c - libFuzzer target for tools/minify.c, the build-time
 * JS/CSS/sh minifier (the first byte picks: % 3, MINIFY_JS, _CSS, _SH).
 *
 * Properties checked (abort on violation):
 *  - no crash or read past the n bytes given, whatever the text;
 *  - what it accepts comes out no longer than it went in (plus the final
 *    line break), and is a fixed point: minifying it again changes nothing
 *    (the output tokenizes as the input did);
 *  - what it refuses has a message naming a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MINIFY_LIB
#include "../tools/minify.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *out, *again, err[200];
	size_t n, m, m2;
	int css;      /* the kind */

	if (size < 1)
		return 0;
	css = data[0] % 3;
	n = size - 1;
	in = malloc(n ? n : 1);
	out = malloc(n + 1);
	again = malloc(n + 2);
	MUST(in && out && again);
	memcpy(in, data + 1, n);
	if (minify(css, in, n, out, &m, err, sizeof(err)) == 0) {
		MUST(m <= n + 1);
		MUST(minify(css, out, m, again, &m2, err, sizeof(err)) == 0);
		MUST(m2 == m && !memcmp(again, out, m));
	} else {
		MUST(!strncmp(err, "line ", 5));
	}
	free(in);
	free(out);
	free(again);
	return 0;
}
