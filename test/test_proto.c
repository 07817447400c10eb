/* test_proto.c - the message model: the seed document's examples verbatim,
 * envelope errors, unknown statuses, id round trips and the exact bytes of
 * the replies the reference implementation sends. */
#include <stdlib.h>
#include "../proto.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static int parse(struct nest_msg *m, const char *s)
{
	char err[80];

	return proto_parse(m, s, strlen(s), err, sizeof err);
}

/* The seed document's examples, formatting and all. */
static const char seed_info[] =
	"{\n  \"status\": \"info\",\n  \"message\": \"example message to send\"\n}";
static const char seed_response[] =
	"{\n  \"status\": \"command_response\",\n  \"payload\": {\n"
	"    \"data\": [1, 2, 3, 4, 5]\n  }\n}";
static const char seed_response2[] =
	"{\n  \"status\": \"command_response\",\n"
	"  \"message\": \"response_download_raid_shadow_legends\",\n"
	"  \"payload\": {\n"
	"    \"example_data\": \"pls i downloaded, let my family go :sob:\"\n  }\n}";
static const char seed_command[] =
	"{\n  \"status\": \"command\",\n  \"message\": \"obtain_process_info\",\n"
	"  \"payload\": {\n    \"pid\": 43235\n  }\n}";
static const char seed_hello[] =
	"{\n  \"status\": \"let_me_in_pls\",\n  \"message\": \"let me in! :D\",\n"
	"  \"payload\": {\n    \"version\": \"0.1.0a\",\n"
	"    \"client_token\": \"e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f.ddc69770\"\n"
	"  }\n}";
static const char seed_auth[] =
	"{\n  \"status\": \"info\",\n  \"message\": \"Authenticated :D\"\n}";

void test_proto_seed(void)
{
	struct nest_msg m;
	long long v;
	char tok[80], ver[16];
	int d;

	CHECK(parse(&m, seed_info) == 0);
	CHECK(m.status == NS_INFO && m.t_payload < 0 && m.t_id < 0);
	CHECK(proto_message_is(&m, "example message to send"));
	CHECK(!proto_message_is(&m, "example"));
	CHECK(proto_payload_get(&m, "data") == -1);
	proto_free(&m);

	CHECK(parse(&m, seed_response) == 0);
	CHECK(m.status == NS_COMMAND_RESPONSE && m.t_message < 0);
	CHECK(!proto_message_is(&m, ""));
	d = proto_payload_get(&m, "data");
	CHECK(json_type(&m.j, d) == JSON_ARRAY && json_count(&m.j, d) == 5);
	CHECK(json_int(&m.j, json_elem(&m.j, d, 4), &v) == 0 && v == 5);
	proto_free(&m);

	CHECK(parse(&m, seed_response2) == 0);
	CHECK(m.status == NS_COMMAND_RESPONSE);
	CHECK(proto_message_is(&m, "response_download_raid_shadow_legends"));
	CHECK(json_str_eq(&m.j, proto_payload_get(&m, "example_data"),
			  "pls i downloaded, let my family go :sob:"));
	proto_free(&m);

	CHECK(parse(&m, seed_command) == 0);
	CHECK(m.status == NS_COMMAND && proto_message_is(&m, "obtain_process_info"));
	CHECK(json_int(&m.j, proto_payload_get(&m, "pid"), &v) == 0 && v == 43235);
	proto_free(&m);

	CHECK(parse(&m, seed_hello) == 0);
	CHECK(m.status == NS_LET_ME_IN);
	CHECK(json_strcpy(&m.j, proto_payload_get(&m, "client_token"), tok, sizeof tok) == 0);
	CHECK(strlen(tok) == 73);
	CHECK(json_strcpy(&m.j, proto_payload_get(&m, "version"), ver, sizeof ver) == 0);
	CHECK_STR(ver, "0.1.0a");
	proto_free(&m);

	CHECK(parse(&m, seed_auth) == 0);
	CHECK(m.status == NS_INFO && proto_message_is(&m, "Authenticated :D"));
	proto_free(&m);
}

void test_proto_statuses(void)
{
	static const char *const all[] = { "info", "command", "command_response",
		"command_response_error", "warning", "error", "let_me_in_pls" };
	struct nest_msg m;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		buf_reset(&b);
		buf_printf(&b, "{\"status\":\"%s\"}", all[i]);
		CHECK(parse(&m, b.p) == 0);
		CHECK(m.status == (enum nest_status)(NS_INFO + i));
		CHECK_STR(proto_status_name(m.status), all[i]);
		proto_free(&m);
	}
	buf_free(&b);
	CHECK_STR(proto_status_name(NS_UNKNOWN), "unknown");
	CHECK_STR(proto_status_name((enum nest_status)99), "unknown");

	/* Unknown statuses parse; the caller answers with a warning. */
	CHECK(parse(&m, "{\"status\":\"dance\",\"message\":\"x\"}") == 0);
	CHECK(m.status == NS_UNKNOWN);
	proto_free(&m);
	CHECK(parse(&m, "{\"status\":\"Info\"}") == 0 && m.status == NS_UNKNOWN);
	proto_free(&m);
	CHECK(parse(&m, "{\"status\":\"info \"}") == 0 && m.status == NS_UNKNOWN);
	proto_free(&m);
	CHECK(parse(&m, "{\"status\":\"inf\"}") == 0 && m.status == NS_UNKNOWN);
	proto_free(&m);
	/* Escaped spelling of a known status is the same string. */
	CHECK(parse(&m, "{\"status\":\"\\u0069nfo\"}") == 0 && m.status == NS_INFO);
	proto_free(&m);
}

void test_proto_errors(void)
{
	static const char *const bad[] = {
		"",
		"not json",
		"{\"status\":\"info\"",			/* truncated */
		"[{\"status\":\"info\"}]",		/* not an object */
		"\"info\"",
		"42",
		"null",
		"{}",					/* no status */
		"{\"message\":\"hi\"}",
		"{\"status\":1}",
		"{\"status\":null}",
		"{\"status\":[\"info\"]}",
		"{\"status\":\"info\",\"message\":5}",
		"{\"status\":\"info\",\"message\":{}}",
		"{\"status\":\"command\",\"id\":7}",
		"{\"status\":\"command\",\"id\":null}",
		"{\"status\":\"info\"} {}",
	};
	struct nest_msg m;
	char err[80];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (proto_parse(&m, bad[i], strlen(bad[i]), err, sizeof err) == 0) {
			t_failed++;
			fprintf(stderr, "FAIL proto_parse accepted %s\n", bad[i]);
			proto_free(&m);
		} else {
			CHECK(err[0] != '\0');
		}
	}
	CHECK(proto_parse(&m, "[]", 2, err, sizeof err) < 0);
	CHECK_STR(err, "message is not a JSON object");
	CHECK(proto_parse(&m, "{}", 2, err, sizeof err) < 0);
	CHECK_STR(err, "no status");
	proto_free(&m);				/* harmless after a failure */

	/* A payload may be anything, including absent or null. */
	CHECK(parse(&m, "{\"status\":\"command_response\",\"payload\":null}") == 0);
	CHECK(json_type(&m.j, m.t_payload) == JSON_NULL);
	CHECK(proto_payload_get(&m, "x") == -1);
	proto_free(&m);
}

void test_proto_build(void)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	CHECK(proto_simple(&b, "info", "Authenticated :D") == 0);
	CHECK_STR(b.p, "{\"status\":\"info\",\"message\":\"Authenticated :D\"}");
	buf_reset(&b);
	CHECK(proto_simple(&b, "error", "invalid \"token\"\n") == 0);
	CHECK_STR(b.p, "{\"status\":\"error\",\"message\":\"invalid \\\"token\\\"\\n\"}");
	buf_reset(&b);
	CHECK(proto_simple(&b, "warning", NULL) == 0);
	CHECK_STR(b.p, "{\"status\":\"warning\"}");
	buf_reset(&b);

	CHECK(proto_reply_error(&b, "kill_process", "a\\\"1", 4, "no such process") == 0);
	CHECK_STR(b.p, "{\"status\":\"command_response_error\",\"message\":\"response_kill_process\","
		  "\"id\":\"a\\\"1\",\"payload\":{\"error\":\"no such process\"}}");
	buf_reset(&b);
	CHECK(proto_reply_error(&b, "exec_command", NULL, 0, "not allowed") == 0);
	CHECK_STR(b.p, "{\"status\":\"command_response_error\",\"message\":\"response_exec_command\","
		  "\"payload\":{\"error\":\"not allowed\"}}");
	buf_reset(&b);

	proto_begin(&w, &b, "command_response", "response_obtain_process_info", "7", 1);
	jw_key(&w, "payload");
	jw_obj(&w);
	jw_kint(&w, "pid", 43235);
	jw_obj_end(&w);
	proto_end(&w);
	CHECK(!jw_error(&w));
	CHECK_STR(b.p, "{\"status\":\"command_response\",\"message\":\"response_obtain_process_info\","
		  "\"id\":\"7\",\"payload\":{\"pid\":43235}}");
	buf_reset(&b);

	/* An id that is not valid escaped content is escaped, not pasted. */
	proto_begin(&w, &b, "command_response", NULL, "x\"}", 3);
	proto_end(&w);
	CHECK_STR(b.p, "{\"status\":\"command_response\",\"id\":\"x\\\"}\"}");
	buf_reset(&b);
	proto_begin(&w, &b, "info", NULL, "bad\\", 4);
	proto_end(&w);
	CHECK_STR(b.p, "{\"status\":\"info\",\"id\":\"bad\\\\\"}");
	buf_free(&b);

	/* Bounded buffer: failure leaves it unchanged. */
	buf_init(&b, 30);
	buf_puts(&b, "keep");
	CHECK(proto_simple(&b, "info", "Authenticated :D") < 0);
	CHECK_STR(b.p, "keep");
	CHECK(proto_reply_error(&b, "x", NULL, 0, "y") < 0);
	CHECK_STR(b.p, "keep");
	buf_free(&b);
}

void test_proto_id_round_trip(void)
{
	static const char *const ids[] = { "1", "", "abc-\\u00e9", "\\\"q\\\"",
		"\\uD83D\\uDE00 \xf0\x9f\x98\x80", "\\n\\t\\/" };
	struct nest_msg m, r;
	struct buf in, out, a, c;
	const char *raw;
	size_t i, n;

	buf_init(&in, 0);
	buf_init(&out, 0);
	buf_init(&a, 0);
	buf_init(&c, 0);
	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		buf_reset(&in);
		buf_reset(&out);
		buf_printf(&in, "{\"status\":\"command\",\"message\":\"kill_process\","
			   "\"id\":\"%s\",\"payload\":{\"pid\":1}}", ids[i]);
		CHECK(parse(&m, in.p) == 0);
		raw = json_raw(&m.j, m.t_id, &n);
		CHECK(proto_reply_error(&out, "kill_process", raw, n, "nope") == 0);
		CHECK(parse(&r, out.p) == 0);
		CHECK(r.status == NS_COMMAND_RESPONSE_ERROR);
		CHECK(proto_message_is(&r, "response_kill_process"));
		buf_reset(&a);
		buf_reset(&c);
		CHECK(json_str(&m.j, m.t_id, &a) == 0 && json_str(&r.j, r.t_id, &c) == 0);
		CHECK_MEM(a.p, a.len, c.p, c.len);
		CHECK(json_str_eq(&r.j, json_get(&r.j, r.t_payload, "error"), "nope"));
		proto_free(&r);
		proto_free(&m);
	}
	buf_free(&in);
	buf_free(&out);
	buf_free(&a);
	buf_free(&c);
}
