/* fuzz_svc.c - libFuzzer target for the service tools' output parsers:
 * systemctl list-units (JSON and both table forms), systemctl show,
 * rc-status --servicelist and an openrc-run script's description= line,
 * in both reply shapes (nestd's, and the original's).
 *
 * Properties checked (abort on violation):
 *  - no parser crashes, leaks or reads out of bounds, whatever the bytes;
 *  - whatever they accept comes out as JSON (parsed back here) of the
 *    shape the agent answers: an array of objects, or one object;
 *  - the description fits its buffer and is NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../agent_svc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

static void must_be_json(struct buf *b, enum json_type want)
{
	struct json j;
	char err[80];

	MUST(json_parse(&j, b->p, b->len, err, sizeof err) == 0);
	MUST(json_type(&j, 0) == want);
	json_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[256], desc[64];
	struct buf b;
	struct jw w;
	int n;

	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	if (svc_parse_units(s, size, &w) == 0)
		must_be_json(&b, JSON_ARRAY);
	buf_reset(&b);
	jw_init(&w, &b);
	if (svc_parse_show(s, size, "fuzz.service", 0, 1764100000LL * 1000000, 7205LL * 1000000,
			   &w, err, sizeof err) == 0)
		must_be_json(&b, JSON_OBJECT);
	buf_reset(&b);
	jw_init(&w, &b);
	if (svc_parse_rc_list(s, size, NULL, 0, &w) == 0)
		must_be_json(&b, JSON_ARRAY);
	/* the original's shapes: bare names, "" and 0 for what is missing */
	buf_reset(&b);
	jw_init(&w, &b);
	if (svc_parse_unit_names(s, size, &w) == 0)
		must_be_json(&b, JSON_ARRAY);
	buf_reset(&b);
	jw_init(&w, &b);
	if (svc_parse_show(s, size, "fuzz.service", SVC_ORIGINAL, 1764100000LL * 1000000,
			   7205LL * 1000000, &w, err, sizeof err) == 0)
		must_be_json(&b, JSON_OBJECT);
	buf_reset(&b);
	jw_init(&w, &b);
	if (svc_parse_rc_list(s, size, NULL, 1, &w) == 0)
		must_be_json(&b, JSON_ARRAY);
	buf_free(&b);
	n = svc_rc_description(s, size, desc, sizeof desc);
	MUST(n < (int)sizeof desc && strlen(desc) == (size_t)(n < 0 ? 0 : n));
	return 0;
}
