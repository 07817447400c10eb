/* fuzz_httpc.c - libFuzzer target for the outbound HTTP client's response
 * parser (httpc.c), fed the input in pieces whose sizes come from its
 * first byte (one byte at a time included), then the end of the
 * connection.
 *
 * Properties checked (abort on violation):
 *  - the parser never crashes, leaks, loops or reads out of bounds;
 *  - it never takes more bytes than it was given, and stops taking any
 *    once it is done or has failed;
 *  - the body never passes its bound;
 *  - a finished answer has a status from 100 to 599 and a failure a
 *    reason. */
#include <stdint.h>
#include <stdlib.h>
#include "../httpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpc_parser p;
	size_t step, off = 1;

	if (!size)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	httpc_parser_init(&p, 4096);
	while (off < size && p.state != HP_DONE && p.state != HP_ERROR) {
		size_t k = size - off < step ? size - off : step;
		size_t used = httpc_parser_feed(&p, (const char *)data + off, k);

		MUST(used <= k);
		if (!used)
			break;
		off += used;
	}
	if (p.state == HP_DONE || p.state == HP_ERROR)
		MUST(httpc_parser_feed(&p, "x", 1) == 0);
	else
		httpc_parser_eof(&p);
	MUST(p.body.len <= 4096);
	if (p.state == HP_DONE)
		MUST(p.status >= 100 && p.status <= 599);
	else
		MUST(p.state == HP_ERROR && p.why);
	httpc_parser_free(&p);
	return 0;
}
