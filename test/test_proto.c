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

/* A command with payload p (JSON text) parsed into m.  The tokens point
 * into the text, so it lives in a static buffer: one such m at a time. */
static int cmd_with(struct nest_msg *m, const char *payload)
{
	static char s[512];

	snprintf(s, sizeof s, "{\"status\":\"command\",\"message\":\"x\",\"payload\":%s}", payload);
	return parse(m, s);
}

void test_proto_payload_pid(void)
{
	static const char *const bad[] = {
		"{\"pid\":\"12\"}", "{\"pid\":1.5}", "{\"pid\":-3}", "{\"pid\":0}",
		"{\"pid\":2147483648}", "{\"pid\":99999999999999999999}", "{\"pid\":1e3}",
		"{\"pid\":null}", "{\"pid\":true}", "{\"pid\":[1]}", "{\"pid\":{}}",
		"{\"PID\":12}", "{}", "[12]", "\"pid\"", "12", "null",
	};
	struct nest_msg m;
	char err[128];
	size_t i;
	int pid;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(cmd_with(&m, bad[i]) == 0);
		pid = -7;
		err[0] = '\0';
		CHECK(proto_payload_pid(&m, &pid, err, sizeof err) == PROTO_E_TYPE);
		CHECK_STR(err, "payload.pid must be a positive integer");
		CHECK(pid == -7);                       /* untouched on failure */
		proto_free(&m);
	}
	/* no payload at all */
	CHECK(parse(&m, "{\"status\":\"command\",\"message\":\"x\"}") == 0);
	CHECK(proto_payload_pid(&m, &pid, err, sizeof err) == PROTO_E_TYPE);
	CHECK(proto_payload_pid(&m, &pid, NULL, 0) == PROTO_E_TYPE);   /* err may be NULL */
	proto_free(&m);
	/* the range's ends, and the last of duplicate keys */
	CHECK(cmd_with(&m, "{\"pid\":1}") == 0);
	CHECK(proto_payload_pid(&m, &pid, err, sizeof err) == 0 && pid == 1);
	proto_free(&m);
	CHECK(cmd_with(&m, "{\"pid\":2147483647}") == 0);
	CHECK(proto_payload_pid(&m, &pid, err, sizeof err) == 0 && pid == 2147483647);
	proto_free(&m);
	CHECK(cmd_with(&m, "{\"pid\":5,\"pid\":43235}") == 0);
	CHECK(proto_payload_pid(&m, &pid, err, sizeof err) == 0 && pid == 43235);
	proto_free(&m);
}

void test_proto_payload_int(void)
{
	struct nest_msg m;
	long long v = 0;
	char err[128];

	CHECK(cmd_with(&m, "{\"n\":-5,\"s\":\"7\",\"f\":2.0,\"big\":10}") == 0);
	CHECK(proto_payload_int(&m, "n", -5, 5, &v, err, sizeof err) == 0 && v == -5);
	CHECK(proto_payload_int(&m, "n", -4, 5, &v, err, sizeof err) == PROTO_E_TYPE);
	CHECK_STR(err, "payload.n must be an integer from -4 to 5");
	CHECK(proto_payload_int(&m, "big", 1, 9, &v, err, sizeof err) == PROTO_E_TYPE);
	CHECK_STR(err, "payload.big must be an integer from 1 to 9");
	CHECK(proto_payload_int(&m, "s", 0, 9, &v, err, sizeof err) == PROTO_E_TYPE);
	CHECK(proto_payload_int(&m, "f", 0, 9, &v, err, sizeof err) == PROTO_E_TYPE);
	CHECK(proto_payload_int(&m, "missing", 0, 9, &v, err, sizeof err) == PROTO_E_TYPE);
	CHECK_STR(err, "payload.missing must be an integer from 0 to 9");
	CHECK(v == -5);
	proto_free(&m);
}

void test_proto_payload_string(void)
{
	struct nest_msg m;
	char out[8], err[128];
	size_t n = 99;

	CHECK(cmd_with(&m, "{\"s\":\"abc\",\"e\":\"\",\"q\":\"a\\\"\\u00e9\",\"z\":\"a\\u0000b\","
		       "\"seven\":\"1234567\",\"eight\":\"12345678\",\"esc\":\"\\u0031234567\","
		       "\"num\":5,\"nul\":null,\"arr\":[\"s\"],\"obj\":{\"s\":\"x\"}}") == 0);
	CHECK(proto_payload_string(&m, "s", out, sizeof out, &n, err, sizeof err) == 0);
	CHECK_STR(out, "abc");
	CHECK(n == 3);
	CHECK(proto_payload_string(&m, "e", out, sizeof out, &n, err, sizeof err) == 0);
	CHECK(n == 0 && out[0] == '\0');
	/* unescaped: a quote and an e-acute (two bytes) */
	CHECK(proto_payload_string(&m, "q", out, sizeof out, &n, err, sizeof err) == 0);
	CHECK_MEM(out, n, "a\"\xc3\xa9", 4);
	/* exactly cap - 1 bytes fits, cap bytes do not; the bound is on the
	 * unescaped text, not the escaped source */
	CHECK(proto_payload_string(&m, "seven", out, sizeof out, &n, err, sizeof err) == 0);
	CHECK(n == 7);
	CHECK(proto_payload_string(&m, "esc", out, sizeof out, &n, err, sizeof err) == 0);
	CHECK_STR(out, "1234567");
	CHECK(proto_payload_string(&m, "eight", out, sizeof out, &n, err, sizeof err) == PROTO_E_LONG);
	CHECK_STR(err, "payload.eight must be at most 7 bytes");
	CHECK(out[0] == '\0');
	/* a NUL inside: counted when the caller can see the length, refused
	 * when it cannot */
	CHECK(proto_payload_string(&m, "z", out, sizeof out, &n, err, sizeof err) == 0);
	CHECK(n == 3 && !memcmp(out, "a\0b", 4));
	CHECK(proto_payload_string(&m, "z", out, sizeof out, NULL, err, sizeof err) == PROTO_E_NUL);
	CHECK_STR(err, "payload.z must not contain NUL characters");
	CHECK(proto_payload_string(&m, "s", out, sizeof out, NULL, err, sizeof err) == 0);
	CHECK_STR(out, "abc");
	/* every other type, and absent */
	CHECK(proto_payload_string(&m, "num", out, sizeof out, &n, err, sizeof err) == PROTO_E_TYPE);
	CHECK_STR(err, "payload.num must be a string");
	CHECK(proto_payload_string(&m, "nul", out, sizeof out, &n, err, sizeof err) == PROTO_E_TYPE);
	CHECK(proto_payload_string(&m, "arr", out, sizeof out, &n, err, sizeof err) == PROTO_E_TYPE);
	CHECK(proto_payload_string(&m, "obj", out, sizeof out, &n, err, sizeof err) == PROTO_E_TYPE);
	CHECK(proto_payload_string(&m, "gone", out, sizeof out, &n, err, sizeof err) == PROTO_E_TYPE);
	CHECK_STR(err, "payload.gone must be a string");
	/* a key of a nested object is not a payload member */
	CHECK(!proto_payload_has(&m, "x"));
	/* room for the NUL only: just the empty string */
	CHECK(proto_payload_string(&m, "e", out, 1, &n, err, sizeof err) == 0 && n == 0);
	CHECK(proto_payload_string(&m, "s", out, 1, &n, err, sizeof err) == PROTO_E_LONG);
	CHECK_STR(err, "payload.s must be at most 0 bytes");
	proto_free(&m);
	/* a payload that is not an object has no members */
	CHECK(cmd_with(&m, "[\"s\",\"abc\"]") == 0);
	CHECK(proto_payload_string(&m, "s", out, sizeof out, &n, err, sizeof err) == PROTO_E_TYPE);
	proto_free(&m);
	CHECK(cmd_with(&m, "\"s\"") == 0);
	CHECK(proto_payload_string(&m, "s", out, sizeof out, &n, NULL, 0) == PROTO_E_TYPE);
	proto_free(&m);
}

void test_proto_payload_seconds(void)
{
	static const char *const bad[] = { "\"5\"", "0", "-1", "-0.0", "true", "[5]", "{}" };
	struct nest_msg m;
	char err[128], p[64];
	double s;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(p, sizeof p, "{\"timeout\":%s}", bad[i]);
		CHECK(cmd_with(&m, p) == 0);
		s = 42;
		err[0] = '\0';
		CHECK(proto_payload_seconds(&m, "timeout", &s, err, sizeof err) == PROTO_E_TYPE);
		CHECK_STR(err, "payload.timeout must be a positive number of seconds");
		CHECK(s == 42);
		proto_free(&m);
	}
	CHECK(cmd_with(&m, "{\"a\":0.25,\"b\":3,\"c\":null}") == 0);
	CHECK(proto_payload_seconds(&m, "a", &s, err, sizeof err) == 0 && s == 0.25);
	CHECK(proto_payload_seconds(&m, "b", &s, err, sizeof err) == 0 && s == 3);
	s = 42;
	CHECK(proto_payload_seconds(&m, "c", &s, err, sizeof err) == 1 && s == 42);
	CHECK(proto_payload_seconds(&m, "d", &s, err, sizeof err) == 1 && s == 42);
	CHECK(proto_payload_has(&m, "a") && !proto_payload_has(&m, "c") &&
	      !proto_payload_has(&m, "d"));
	proto_free(&m);
	CHECK(parse(&m, "{\"status\":\"error\",\"message\":\"x\"}") == 0);
	CHECK(proto_payload_seconds(&m, "retry_after", &s, NULL, 0) == 1);
	proto_free(&m);
}

void test_proto_message(void)
{
	struct nest_msg m;
	const char *raw;
	char out[8];
	size_t n;
	int i;

	/* read, or refused (too long) with the text as sent still there */
	for (i = 0; i < 2; i++) {
		CHECK(parse(&m, i ? "{\"status\":\"command\",\"message\":\"12345678\"}"
			      : "{\"status\":\"command\",\"message\":\"ki\\u006cl\"}") == 0);
		CHECK(proto_message(&m, out, sizeof out) == (i ? -1 : 0));
		CHECK_STR(out, i ? "" : "kill");
		raw = proto_message_raw(&m, &n);
		CHECK_MEM(raw, n, i ? "12345678" : "ki\\u006cl", i ? 8 : 9);
		proto_free(&m);
	}
	CHECK(parse(&m, "{\"status\":\"command\",\"message\":\"a\\u0000b\"}") == 0);
	CHECK(proto_message(&m, out, sizeof out) == -1);
	proto_free(&m);
	CHECK(parse(&m, "{\"status\":\"command\"}") == 0);
	strcpy(out, "junk");
	CHECK(proto_message(&m, out, sizeof out) == -1);
	CHECK_STR(out, "");
	CHECK(proto_message_raw(&m, &n) == NULL && n == 0);
	proto_free(&m);
}

/* The reply builder: the bytes of both shapes, and the bound taken as the
 * whole message's, the envelope included, wherever the limit falls. */
void test_proto_reply_limit(void)
{
	static const char want[] = "{\"status\":\"command_response\",\"message\":"
		"\"response_obtain_process_info\",\"id\":\"a\\\"1\",\"payload\":{\"pid\":43235}}";
	size_t whole = sizeof(want) - 1, max;
	struct buf b;
	struct jw w;
	int rc;

	buf_init(&b, 0);
	proto_reply_begin(&w, &b, "obtain_process_info", "a\\\"1", 4);
	jw_obj(&w);
	jw_kint(&w, "pid", 43235);
	jw_obj_end(&w);
	CHECK(proto_reply_end(&w) == 0);
	CHECK_STR(b.p, want);
	buf_free(&b);

	/* exactly the message's length fits; one byte less does not, whether
	 * it is the payload or the closing brace that no longer fits */
	for (max = whole - 3; max <= whole + 1; max++) {
		buf_init(&b, max);
		proto_reply_begin(&w, &b, "obtain_process_info", "a\\\"1", 4);
		jw_obj(&w);
		jw_kint(&w, "pid", 43235);
		jw_obj_end(&w);
		rc = proto_reply_end(&w);
		CHECK(rc == (max >= whole ? 0 : -1));
		if (max >= whole)
			CHECK_STR(b.p, want);
		buf_free(&b);
	}
	/* a bound the envelope alone passes: the payload never starts */
	buf_init(&b, 20);
	proto_reply_begin(&w, &b, "obtain_process_info", NULL, 0);
	CHECK(jw_error(&w));
	jw_null(&w);
	CHECK(proto_reply_end(&w) == -1);
	buf_free(&b);
	/* a longer id leaves the payload less room under the same bound */
	buf_init(&b, whole);
	proto_reply_begin(&w, &b, "obtain_process_info", "a\\\"12", 5);
	jw_obj(&w);
	jw_kint(&w, "pid", 43235);
	jw_obj_end(&w);
	CHECK(proto_reply_end(&w) == -1);
	buf_free(&b);
	/* the error shape at its own limit: fits exactly, or leaves b as it was */
	{
		static const char ewant[] = "{\"status\":\"command_response_error\",\"message\":"
			"\"response_obtain_process_info\",\"id\":\"a\\\"1\","
			"\"payload\":{\"error\":\"reply too large\"}}";

		buf_init(&b, sizeof(ewant) - 1);
		CHECK(proto_reply_error(&b, "obtain_process_info", "a\\\"1", 4,
					"reply too large") == 0);
		CHECK_STR(b.p, ewant);
		buf_free(&b);
		buf_init(&b, sizeof(ewant) - 2);
		CHECK(proto_reply_error(&b, "obtain_process_info", "a\\\"1", 4,
					"reply too large") == -1);
		CHECK(b.len == 0);
		buf_free(&b);
	}
}
