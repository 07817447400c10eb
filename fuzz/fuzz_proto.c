/* fuzz_proto.c - libFuzzer target for the JSON reader, the message model
 * and the writer.
 *
 * Properties checked (abort on violation, so the fuzzer reports them):
 *  - proto_parse/json_parse never crash, leak or read out of bounds;
 *  - every token's getters agree with each other (json_next stays in range,
 *    json_get finds each key of an object, json_str_eq matches json_str);
 *  - every unescaped string, written back with jw_strn, parses and unescapes
 *    to the same bytes (the reader only yields well-formed UTF-8);
 *  - whatever bytes go into jw_strn or jw_strraw, the output is JSON;
 *  - json_escape gives the same bytes on its fast path and on its exact
 *    path (forced by a bound of exactly the output's size);
 *  - a reply echoing a parsed id parses and carries the same id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

/* Writes s in an array, parses it; the unescaped string into back. */
static void rewrite(const char *s, size_t n, int raw, struct buf *back)
{
	struct buf b;
	struct jw w;
	struct json j;
	char err[80];

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_arr(&w);
	if (raw)
		jw_strraw(&w, s, n);
	else
		jw_strn(&w, s, n);
	jw_arr_end(&w);
	MUST(!jw_error(&w));
	MUST(json_parse(&j, b.p, b.len, err, sizeof err) == 0);
	MUST(j.n == 2 && json_type(&j, 1) == JSON_STRING);
	buf_reset(back);
	MUST(json_str(&j, 1, back) == 0);
	json_free(&j);
	buf_free(&b);
}

static void walk(const struct json *j)
{
	struct buf s, back;
	char small[32];
	long long v;
	double d;
	int i, k, m, b, next;

	buf_init(&s, 0);
	buf_init(&back, 0);
	MUST(j->n >= 1 && json_next(j, 0) == j->n);
	for (i = 0; i < j->n; i++) {
		next = json_next(j, i);
		MUST(next > i && next <= j->n);
		switch (json_type(j, i)) {
		case JSON_STRING:
			buf_reset(&s);
			MUST(json_str(j, i, &s) == 0);
			if (!memchr(s.p, '\0', s.len)) {
				MUST(json_str_eq(j, i, s.p));
				if (json_strcpy(j, i, small, sizeof small) == 0)
					MUST(strcmp(small, s.p) == 0);
				else
					MUST(s.len >= sizeof small);
			} else {
				MUST(json_strcpy(j, i, small, sizeof small) < 0);
			}
			rewrite(s.p, s.len, 0, &back);
			MUST(back.len == s.len && !memcmp(back.p, s.p, s.len));
			break;
		case JSON_OBJECT:
			for (k = i + 1, m = 0; m < json_count(j, i); m++) {
				MUST(json_type(j, k) == JSON_STRING);
				buf_reset(&s);
				MUST(json_str(j, k, &s) == 0);
				if (!memchr(s.p, '\0', s.len))
					MUST(json_get(j, i, s.p) > i);
				k = json_next(j, k + 1);
			}
			MUST(k == next);
			break;
		case JSON_ARRAY:
			m = json_count(j, i);
			if (m > 0)
				MUST(json_elem(j, i, m - 1) > i);
			MUST(json_elem(j, i, m) == -1);
			break;
		case JSON_NUMBER:
			MUST(json_num(j, i, &d) == 0);
			(void)json_int(j, i, &v);
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			MUST(json_bool(j, i, &b) == 0);
			break;
		case JSON_NULL:
			MUST(json_bool(j, i, &b) < 0);
			break;
		default:
			abort();
		}
	}
	buf_free(&s);
	buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct nest_msg msg;
	struct json j;
	struct buf out, a, b;
	char err[80];
	const char *raw;
	size_t n;

	if (json_parse(&j, s, size, err, sizeof err) == 0) {
		walk(&j);
		json_free(&j);
	}

	if (proto_parse(&msg, s, size, err, sizeof err) == 0) {
		MUST(json_type(&msg.j, 0) == JSON_OBJECT);
		MUST(json_type(&msg.j, msg.t_status) == JSON_STRING);
		MUST(proto_status_name(msg.status) != NULL);
		(void)proto_payload_get(&msg, "pid");
		(void)proto_message_is(&msg, "exec_command");
		if (msg.t_id >= 0) {
			struct nest_msg r;

			buf_init(&out, 0);
			buf_init(&a, 0);
			buf_init(&b, 0);
			raw = json_raw(&msg.j, msg.t_id, &n);
			MUST(proto_reply_error(&out, "x", raw, n, "why") == 0);
			MUST(proto_parse(&r, out.p, out.len, err, sizeof err) == 0);
			MUST(r.status == NS_COMMAND_RESPONSE_ERROR && r.t_id >= 0);
			MUST(json_str(&msg.j, msg.t_id, &a) == 0 && json_str(&r.j, r.t_id, &b) == 0);
			MUST(a.len == b.len && !memcmp(a.p, b.p, a.len));
			proto_free(&r);
			buf_free(&out);
			buf_free(&a);
			buf_free(&b);
		}
		proto_free(&msg);
	}

	/* The writer on arbitrary bytes: always valid JSON out. */
	buf_init(&a, 0);
	rewrite(s, size, 0, &a);
	rewrite(s, size, 1, &a);
	buf_free(&a);

	/* Fast and exact escaping agree; one byte short fails cleanly. */
	buf_init(&a, 0);
	MUST(json_escape(&a, s, size) == 0);
	buf_init(&b, a.len);
	MUST(json_escape(&b, s, size) == 0);
	MUST(a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len)));
	buf_free(&b);
	if (a.len > 1) {	/* max 0 would mean unbounded */
		buf_init(&b, a.len - 1);
		MUST(json_escape(&b, s, size) < 0 && b.len == 0);
		buf_free(&b);
	}
	buf_free(&a);
	return 0;
}
