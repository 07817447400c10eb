/* test_json.c - the JSON writer and reader: escaping (every control
 * character, each class of ill-formed UTF-8), the writer's separators and
 * bounds, the reader's grammar (accept/reject cases in the spirit of
 * JSONTestSuite's y_ and n_ files), getters, unescaping and round trips. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include "../json.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* json_escape of s[0..n) must give want exactly. */
static void esc_is(const char *s, size_t n, const char *want, int line)
{
	struct buf b;

	buf_init(&b, 0);
	if (json_escape(&b, s, n) < 0 || b.len != strlen(want) || memcmp(b.p, want, b.len)) {
		t_failed++;
		fprintf(stderr, "FAIL test_json.c:%d: escape gave \"%s\", want \"%s\"\n",
			line, b.p ? b.p : "(null)", want);
	} else {
		t_passed++;
	}
	buf_free(&b);
}
#define ESC(lit, want) esc_is(lit, sizeof(lit) - 1, want, __LINE__)

void test_json_escape_controls(void)
{
	static const char *named[32] = {
		[8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r",
	};
	char in[1], want[8];
	int c;

	for (c = 0; c < 32; c++) {
		in[0] = (char)c;
		if (named[c])
			strcpy(want, named[c]);
		else
			snprintf(want, sizeof want, "\\u%04x", c);
		esc_is(in, 1, want, __LINE__);
	}
	ESC("\"", "\\\"");
	ESC("\\", "\\\\");
	ESC("/", "/");
	ESC("\x7f", "\x7f");			/* DEL may stay raw */
	ESC("", "");
	ESC("plain text, long enough for the word loop", "plain text, long enough for the word loop");
	ESC("abcdefgh\"ijklmnop\\q\nr", "abcdefgh\\\"ijklmnop\\\\q\\nr");
	ESC("12345678123456\x01", "12345678123456\\u0001");
}

void test_json_escape_utf8_valid(void)
{
	ESC("caf\xc3\xa9", "caf\xc3\xa9");				/* 2 bytes */
	ESC("\xe2\x82\xac", "\xe2\x82\xac");				/* euro, 3 bytes */
	ESC("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");			/* emoji, 4 bytes */
	ESC("\xc2\x80\xdf\xbf", "\xc2\x80\xdf\xbf");			/* 2-byte bounds */
	ESC("\xe0\xa0\x80\xef\xbf\xbf", "\xe0\xa0\x80\xef\xbf\xbf");	/* 3-byte bounds */
	ESC("\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80");	/* around surrogates */
	ESC("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
	ESC("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a\\u2028b\\u2029c");	/* JS line separators */
	ESC("\xe2\x80\xa7\xe2\x80\xaa", "\xe2\x80\xa7\xe2\x80\xaa");	/* their neighbours stay */
}

#define FFFD "\xef\xbf\xbd"

void test_json_escape_utf8_invalid(void)
{
	/* Stray continuation bytes: one U+FFFD each. */
	ESC("\x80", FFFD);
	ESC("a\xbf\x80z", "a" FFFD FFFD "z");
	/* Bytes that never start anything. */
	ESC("\xc0\xaf", FFFD FFFD);			/* overlong '/' */
	ESC("\xc1\xbf", FFFD FFFD);
	ESC("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);	/* above U+10FFFF */
	ESC("\xff\xfe", FFFD FFFD);
	/* Overlong 3- and 4-byte forms: lead is fine, 2nd byte out of range. */
	ESC("\xe0\x80\xaf", FFFD FFFD FFFD);
	ESC("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
	/* Surrogates encoded in UTF-8 (CESU): ED A0..BF. */
	ESC("\xed\xa0\x80", FFFD FFFD FFFD);
	ESC("\xed\xbf\xbf", FFFD FFFD FFFD);
	/* Above U+10FFFF with a valid lead. */
	ESC("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	/* Truncated: the maximal valid prefix is one U+FFFD. */
	ESC("\xc3", FFFD);
	ESC("\xe2\x82", FFFD);
	ESC("\xf0\x9f\x98", FFFD);
	ESC("\xf0\x9f\x98z", FFFD "z");
	ESC("\xe2\x82\xe2\x82\xac", FFFD "\xe2\x82\xac");
	ESC("\xf0\x9f\xc3\xa9", FFFD "\xc3\xa9");
	/* The Unicode standard's own example (table 3-8). */
	ESC("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	    "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
}

void test_json_escape_bound(void)
{
	struct buf b;

	buf_init(&b, 8);
	buf_puts(&b, "ab");
	CHECK(json_escape(&b, "\n\n\n\n", 4) < 0);	/* needs 8 more */
	CHECK_STR(b.p, "ab");				/* nothing changed */
	CHECK(json_escape(&b, "cdef", 4) == 0);
	CHECK(json_escape(&b, "gh", 2) == 0);
	CHECK_STR(b.p, "abcdefgh");
	CHECK(json_escape(&b, "i", 1) < 0);
	CHECK_STR(b.p, "abcdefgh");
	buf_free(&b);
}

void test_json_writer(void)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "s", "x\"y");
	jw_kint(&w, "i", -42);
	jw_kbool(&w, "t", 1);
	jw_kbool(&w, "f", 0);
	jw_key(&w, "n");
	jw_null(&w);
	jw_key(&w, "nul");
	jw_str(&w, NULL);
	jw_key(&w, "a");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_uint(&w, 18446744073709551615ULL);
	jw_arr(&w);
	jw_arr_end(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_raw(&w, "{\"r\":[]}", 8);
	jw_strn(&w, "a\0b", 3);
	jw_arr_end(&w);
	jw_key(&w, "k\n");
	jw_int(&w, LLONG_MIN);
	jw_key(&w, "max");
	jw_int(&w, LLONG_MAX);
	jw_obj_end(&w);
	CHECK(!jw_error(&w));
	CHECK_STR(b.p, "{\"s\":\"x\\\"y\",\"i\":-42,\"t\":true,\"f\":false,\"n\":null,"
		  "\"nul\":null,\"a\":[1,18446744073709551615,[],{},{\"r\":[]},\"a\\u0000b\"],"
		  "\"k\\n\":-9223372036854775808,\"max\":9223372036854775807}");
	buf_free(&b);
}

void test_json_writer_double(void)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_double(&w, 1.5, 2);
	jw_double(&w, -0.125, 3);
	jw_double(&w, 2.0, 0);
	jw_double(&w, NAN, 2);
	jw_double(&w, INFINITY, 2);
	jw_double(&w, -INFINITY, 2);
	jw_double(&w, 0.333333, 1);
	jw_arr_end(&w);
	CHECK(!jw_error(&w));
	CHECK_STR(b.p, "[1.50,-0.125,2,null,null,null,0.3]");
	buf_free(&b);
}

void test_json_writer_errors(void)
{
	struct buf b;
	struct jw w;
	int i;

	/* The bound makes the error sticky; later calls change nothing. */
	buf_init(&b, 10);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_str(&w, "0123456789");
	CHECK(jw_error(&w));
	jw_arr_end(&w);
	CHECK(jw_error(&w));
	CHECK(b.len <= 10);
	buf_free(&b);

	/* Too deep. */
	buf_init(&b, 0);
	jw_init(&w, &b);
	for (i = 0; i < JW_MAX_DEPTH + 2; i++)
		jw_arr(&w);
	CHECK(jw_error(&w));
	buf_free(&b);

	/* Unbalanced close, key without value. */
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_arr_end(&w);
	CHECK(jw_error(&w));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "k");
	jw_obj_end(&w);
	CHECK(jw_error(&w));
	buf_free(&b);

	/* Exactly at depth JW_MAX_DEPTH - 1 works. */
	buf_init(&b, 0);
	jw_init(&w, &b);
	for (i = 0; i < JW_MAX_DEPTH - 1; i++)
		jw_arr(&w);
	for (i = 0; i < JW_MAX_DEPTH - 1; i++)
		jw_arr_end(&w);
	CHECK(!jw_error(&w));
	CHECK(b.len == 2 * (JW_MAX_DEPTH - 1));
	buf_free(&b);
}

/* ---- reader ----------------------------------------------------------- */

static int parses(const char *s, size_t n)
{
	struct json j;
	char err[80];
	int r = json_parse(&j, s, n, err, sizeof err);

	if (r == 0)
		json_free(&j);
	return r == 0;
}

struct jcase { const char *name; const char *text; size_t len; };
#define J(name, lit) { name, lit, sizeof(lit) - 1 }

/* Must parse (JSONTestSuite y_ style). */
static const struct jcase yes[] = {
	J("y_object_empty", "{}"),
	J("y_array_empty", "[]"),
	J("y_array_ws", " [ ] "),
	J("y_object_simple", "{\"a\":1}"),
	J("y_object_ws", "\t{ \"a\" :\r\n 1 , \"b\" : [ ] }\n"),
	J("y_object_dup_key", "{\"a\":1,\"a\":2}"),
	J("y_object_empty_key", "{\"\":0}"),
	J("y_nested", "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":[[],[[]]]}"),
	J("y_number_0", "0"),
	J("y_number_neg0", "-0"),
	J("y_number_int", "[123]"),
	J("y_number_neg", "[-123]"),
	J("y_number_frac", "[1.5]"),
	J("y_number_exp", "[1e5]"),
	J("y_number_Exp", "[1E5]"),
	J("y_number_exp_plus", "[1e+5]"),
	J("y_number_exp_minus", "[1.0e-05]"),
	J("y_number_zero_frac", "[0.000]"),
	J("y_number_huge", "[1e999999]"),
	J("y_number_toplevel_ws", " 42 "),
	J("y_true", "true"),
	J("y_false", " false"),
	J("y_null", "null "),
	J("y_literals", "[true,false,null]"),
	J("y_string", "\"abc\""),
	J("y_string_empty", "\"\""),
	J("y_string_ws", " \"x\" "),
	J("y_string_escapes", "[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"]"),
	J("y_string_u", "[\"\\u0041\\u00e9\\uFFFF\"]"),
	J("y_string_u0000", "[\"\\u0000\"]"),
	J("y_string_pair", "[\"\\uD834\\uDD1E\"]"),
	J("y_string_pair_lower", "[\"\\ud834\\udd1e\"]"),
	J("y_string_utf8", "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]"),
	J("y_string_del", "[\"\x7f\"]"),
	J("y_string_u2028_raw", "[\"\xe2\x80\xa8\"]"),
	J("y_string_nonchar", "[\"\xef\xbf\xbf\"]"),
	J("y_deep_64", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		       "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
};

/* Must be refused (n_ style). */
static const struct jcase no[] = {
	J("n_empty", ""),
	J("n_ws_only", " \n"),
	J("n_leading_zero", "[01]"),
	J("n_leading_zero_neg", "[-01]"),
	J("n_plus", "[+1]"),
	J("n_minus_only", "[-]"),
	J("n_dot_start", "[.5]"),
	J("n_dot_end", "[1.]"),
	J("n_exp_empty", "[1e]"),
	J("n_exp_sign_only", "[1e+]"),
	J("n_hex", "[0x1]"),
	J("n_NaN", "[NaN]"),
	J("n_Infinity", "[Infinity]"),
	J("n_neg_Infinity", "[-Infinity]"),
	J("n_trailing_comma_arr", "[1,]"),
	J("n_trailing_comma_obj", "{\"a\":1,}"),
	J("n_leading_comma", "[,1]"),
	J("n_double_comma", "[1,,2]"),
	J("n_missing_comma", "[1 2]"),
	J("n_missing_comma_obj", "{\"a\":1 \"b\":2}"),
	J("n_missing_colon", "{\"a\" 1}"),
	J("n_double_colon", "{\"a\"::1}"),
	J("n_missing_value", "{\"a\":}"),
	J("n_key_only", "{\"a\"}"),
	J("n_single_quotes", "['a']"),
	J("n_single_quote_key", "{'a':1}"),
	J("n_unquoted_key", "{a:1}"),
	J("n_number_key", "{1:1}"),
	J("n_object_key", "{{}:1}"),
	J("n_array_key", "{[]:1}"),
	J("n_comma_instead_colon", "{\"a\",1}"),
	J("n_colon_in_array", "[1:2]"),
	J("n_unclosed_arr", "[1"),
	J("n_unclosed_obj", "{\"a\":1"),
	J("n_unclosed_str", "[\"abc"),
	J("n_mismatch", "[1}"),
	J("n_mismatch2", "{\"a\":1]"),
	J("n_extra_close", "[1]]"),
	J("n_two_values", "[1][2]"),
	J("n_two_scalars", "1 2"),
	J("n_trailing_garbage", "{}x"),
	J("n_trailing_nul", "{}\0"),
	J("n_nul_inside", "[1,\0 2]"),
	J("n_true_caps", "[True]"),
	J("n_tru", "[tru]"),
	J("n_truex", "[truex]"),
	J("n_nulll", "nulll"),
	J("n_raw_newline", "[\"a\nb\"]"),
	J("n_raw_tab", "[\"a\tb\"]"),
	J("n_raw_nul", "[\"a\0b\"]"),
	J("n_raw_1f", "[\"\x1f\"]"),
	J("n_bad_escape", "[\"\\a\"]"),
	J("n_escape_x", "[\"\\x41\"]"),
	J("n_escape_apos", "[\"\\'\"]"),
	J("n_escape_end", "[\"\\"),
	J("n_u_short", "[\"\\u12\"]"),
	J("n_u_nonhex", "[\"\\u12G4\"]"),
	J("n_u_eof", "[\"\\u1"),
	J("n_lone_high", "[\"\\uD800\"]"),
	J("n_lone_high_end", "[\"\\uDBFF"),
	J("n_lone_low", "[\"\\uDC00\"]"),
	J("n_high_high", "[\"\\uD800\\uD800\"]"),
	J("n_high_then_char", "[\"\\uD800x\"]"),
	J("n_high_then_escape", "[\"\\uD800\\n\"]"),
	J("n_reversed_pair", "[\"\\uDD1E\\uD834\"]"),
	J("n_utf8_overlong", "[\"\xc0\xaf\"]"),
	J("n_utf8_surrogate", "[\"\xed\xa0\x80\"]"),
	J("n_utf8_too_big", "[\"\xf4\x90\x80\x80\"]"),
	J("n_utf8_truncated", "[\"\xe2\x82\"]"),
	J("n_utf8_stray", "[\"\x80\"]"),
	J("n_utf8_ff", "[\"\xff\"]"),
	J("n_utf8_outside", "[\xc3\xa9]"),
	J("n_bom", "\xef\xbb\xbf{}"),
	J("n_comment", "[1/*x*/]"),
	J("n_vertical_tab_ws", "[\v1]"),
	J("n_formfeed_ws", "[\f1]"),
	J("n_deep_65", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		       "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
	J("n_close_only", "]"),
	J("n_colon_only", ":"),
};

void test_json_grammar_accept(void)
{
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (parses(yes[i].text, yes[i].len)) {
			t_passed++;
		} else {
			t_failed++;
			fprintf(stderr, "FAIL %s refused\n", yes[i].name);
		}
	}
}

void test_json_grammar_reject(void)
{
	size_t i;

	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		if (!parses(no[i].text, no[i].len)) {
			t_passed++;
		} else {
			t_failed++;
			fprintf(stderr, "FAIL %s accepted\n", no[i].name);
		}
	}
}

void test_json_deep_nesting(void)
{
	size_t n = 100000, i;
	char *s = malloc(2 * n);

	/* Far beyond the bound: refused without recursion or a crash. */
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[n + i] = ']';
	}
	CHECK(!parses(s, 2 * n));
	memset(s, '{', n);
	CHECK(!parses(s, n));
	free(s);
}

void test_json_errors(void)
{
	struct json j;
	char err[80];

	CHECK(json_parse(&j, "", 0, err, sizeof err) < 0);
	CHECK_STR(err, "unexpected end of input at byte 0");
	CHECK(json_parse(&j, "[1,]", 4, err, sizeof err) < 0);
	CHECK_STR(err, "value expected at byte 3");
	CHECK(json_parse(&j, "{}x", 3, err, sizeof err) < 0);
	CHECK_STR(err, "trailing characters after the value at byte 2");
	CHECK(json_parse(&j, "{a:1}", 5, err, sizeof err) < 0);
	CHECK_STR(err, "object key must be a string at byte 1");
	CHECK(json_parse(&j, "[\"\\uD800\"]", 10, err, sizeof err) < 0);
	CHECK_STR(err, "lone high surrogate at byte 2");
	CHECK(json_parse(&j, "[\"\x01\"]", 4, err, sizeof err) < 0);
	CHECK_STR(err, "control character in string at byte 2");
	/* err may be NULL or tiny */
	CHECK(json_parse(&j, "[", 1, NULL, 0) < 0);
	CHECK(json_parse(&j, "[", 1, err, 4) < 0 && strlen(err) == 3);
}

static const char doc[] =
	"{\"status\":\"command\",\"message\":\"kill_process\",\"id\":\"a\\\"1\","
	"\"payload\":{\"pid\":43235,\"list\":[1,[2,3],{\"x\":4},\"s\"],\"f\":1.25,"
	"\"e\":1e3,\"neg\":-7,\"t\":true,\"fa\":false,\"nu\":null,"
	"\"big\":9223372036854775807,\"small\":-9223372036854775808,"
	"\"over\":9223372036854775808,\"under\":-9223372036854775809,"
	"\"ke\\u0079\":\"escaped key\",\"dup\":1,\"dup\":2}}";

void test_json_getters(void)
{
	struct json j;
	char err[80];
	int p, l, i;
	long long v;
	double d;
	int b;
	size_t n;
	const char *raw;

	CHECK(json_parse(&j, doc, sizeof doc - 1, err, sizeof err) == 0);
	CHECK(json_type(&j, 0) == JSON_OBJECT);
	CHECK(json_count(&j, 0) == 4);
	CHECK(json_next(&j, 0) == j.n);
	CHECK(json_type(&j, -1) == JSON_NONE && json_type(&j, j.n) == JSON_NONE);
	CHECK(json_str_eq(&j, json_get(&j, 0, "status"), "command"));
	CHECK(json_get(&j, 0, "nope") == -1);
	CHECK(json_get(&j, 0, "pid") == -1);		/* not at this level */
	raw = json_raw(&j, json_get(&j, 0, "id"), &n);
	CHECK_MEM(raw, n, "a\\\"1", 4);
	p = json_get(&j, 0, "payload");
	CHECK(json_type(&j, p) == JSON_OBJECT);
	CHECK(json_int(&j, json_get(&j, p, "pid"), &v) == 0 && v == 43235);
	CHECK(json_int(&j, json_get(&j, p, "neg"), &v) == 0 && v == -7);
	CHECK(json_int(&j, json_get(&j, p, "big"), &v) == 0 && v == LLONG_MAX);
	CHECK(json_int(&j, json_get(&j, p, "small"), &v) == 0 && v == LLONG_MIN);
	CHECK(json_int(&j, json_get(&j, p, "over"), &v) < 0);
	CHECK(json_int(&j, json_get(&j, p, "under"), &v) < 0);
	CHECK(json_int(&j, json_get(&j, p, "f"), &v) < 0);
	CHECK(json_int(&j, json_get(&j, p, "e"), &v) < 0);
	CHECK(json_int(&j, json_get(&j, p, "t"), &v) < 0);
	CHECK(json_int(&j, json_get(&j, 0, "status"), &v) < 0);
	CHECK(json_int(&j, -1, &v) < 0);
	CHECK(json_num(&j, json_get(&j, p, "f"), &d) == 0 && d == 1.25);
	CHECK(json_num(&j, json_get(&j, p, "e"), &d) == 0 && d == 1000.0);
	CHECK(json_num(&j, json_get(&j, p, "pid"), &d) == 0 && d == 43235.0);
	CHECK(json_num(&j, json_get(&j, p, "nu"), &d) < 0);
	CHECK(json_bool(&j, json_get(&j, p, "t"), &b) == 0 && b == 1);
	CHECK(json_bool(&j, json_get(&j, p, "fa"), &b) == 0 && b == 0);
	CHECK(json_bool(&j, json_get(&j, p, "nu"), &b) < 0);
	CHECK(json_type(&j, json_get(&j, p, "nu")) == JSON_NULL);
	CHECK(json_type(&j, json_get(&j, p, "t")) == JSON_TRUE);
	CHECK(json_type(&j, json_get(&j, p, "fa")) == JSON_FALSE);
	CHECK(json_type(&j, json_get(&j, p, "f")) == JSON_NUMBER);
	CHECK(json_str_eq(&j, json_get(&j, p, "key"), "escaped key"));
	CHECK(json_int(&j, json_get(&j, p, "dup"), &v) == 0 && v == 2);
	l = json_get(&j, p, "list");
	CHECK(json_type(&j, l) == JSON_ARRAY && json_count(&j, l) == 4);
	CHECK(json_int(&j, json_elem(&j, l, 0), &v) == 0 && v == 1);
	i = json_elem(&j, l, 1);
	CHECK(json_type(&j, i) == JSON_ARRAY && json_count(&j, i) == 2);
	CHECK(json_int(&j, json_elem(&j, i, 1), &v) == 0 && v == 3);
	i = json_elem(&j, l, 2);
	CHECK(json_int(&j, json_get(&j, i, "x"), &v) == 0 && v == 4);
	CHECK(json_str_eq(&j, json_elem(&j, l, 3), "s"));
	CHECK(json_elem(&j, l, 4) == -1 && json_elem(&j, l, -1) == -1);
	CHECK(json_elem(&j, p, 0) == -1);		/* not an array */
	CHECK(json_next(&j, l) == json_get(&j, p, "f") - 1);
	json_free(&j);
	CHECK(j.t == NULL);
}

void test_json_scalar_roots(void)
{
	struct json j;
	char err[80], out[16];
	long long v;

	CHECK(json_parse(&j, " -12 ", 5, err, sizeof err) == 0);
	CHECK(j.n == 1 && json_int(&j, 0, &v) == 0 && v == -12);
	json_free(&j);
	CHECK(json_parse(&j, "-0", 2, err, sizeof err) == 0);
	CHECK(json_int(&j, 0, &v) == 0 && v == 0);
	json_free(&j);
	CHECK(json_parse(&j, "\n\"h\\u00e9\" ", 11, err, sizeof err) == 0);
	CHECK(json_strcpy(&j, 0, out, sizeof out) == 0);
	CHECK_STR(out, "h\xc3\xa9");
	json_free(&j);
	CHECK(json_parse(&j, "null", 4, err, sizeof err) == 0);
	CHECK(json_type(&j, 0) == JSON_NULL);
	json_free(&j);
}

void test_json_unescape(void)
{
	static const char s[] =
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\","
		"\"a\\u0000b\", \"plain\", \"\\uDBFF\\uDFFF\", \"\"]";
	struct json j;
	struct buf b;
	char err[80], out[32];

	CHECK(json_parse(&j, s, sizeof s - 1, err, sizeof err) == 0);
	buf_init(&b, 0);
	CHECK(json_str(&j, 1, &b) == 0);
	CHECK_MEM(b.p, b.len, "\"\\/\b\f\n\r\t", 8);
	buf_reset(&b);
	CHECK(json_str(&j, 2, &b) == 0);
	CHECK_STR(b.p, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	CHECK(json_str_eq(&j, 2, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
	CHECK(!json_str_eq(&j, 2, "A\xc3\xa9\xe2\x82\xac"));
	CHECK(!json_str_eq(&j, 2, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80!"));
	buf_reset(&b);
	CHECK(json_str(&j, 3, &b) == 0);
	CHECK_MEM(b.p, b.len, "a\0b", 3);		/* json_str keeps the NUL */
	CHECK(json_strcpy(&j, 3, out, sizeof out) < 0);	/* json_strcpy refuses it */
	CHECK(!json_str_eq(&j, 3, "a"));
	CHECK(json_strcpy(&j, 4, out, sizeof out) == 0);
	CHECK_STR(out, "plain");
	CHECK(json_strcpy(&j, 4, out, 6) == 0);		/* exactly fits */
	CHECK(json_strcpy(&j, 4, out, 5) < 0);		/* no room for the NUL */
	CHECK(json_strcpy(&j, 5, out, sizeof out) == 0);
	CHECK_STR(out, "\xf4\x8f\xbf\xbf");		/* U+10FFFF */
	CHECK(json_strcpy(&j, 6, out, 1) == 0 && out[0] == '\0');
	CHECK(json_str_eq(&j, 6, ""));
	CHECK(json_strcpy(&j, 0, out, sizeof out) < 0);	/* not a string */
	CHECK(json_str(&j, 0, &b) < 0);
	CHECK(!json_str_eq(&j, 0, ""));
	buf_free(&b);

	/* json_str appends and honours the bound, changing nothing on failure. */
	buf_init(&b, 7);
	buf_puts(&b, "x");
	CHECK(json_str(&j, 4, &b) == 0);
	CHECK_STR(b.p, "xplain");
	CHECK(json_str(&j, 4, &b) < 0);
	CHECK_STR(b.p, "xplain");
	buf_free(&b);
	json_free(&j);
}

/* Writes bytes with jw_strn inside an array, parses it back, unescapes. */
static int round_trip(const char *in, size_t n, struct buf *back)
{
	struct buf b;
	struct jw w;
	struct json j;
	char err[80];
	int r = -1;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_strn(&w, in, n);
	jw_arr_end(&w);
	if (!jw_error(&w) && json_parse(&j, b.p, b.len, err, sizeof err) == 0) {
		buf_reset(back);
		r = json_str(&j, 1, back);
		json_free(&j);
	}
	buf_free(&b);
	return r;
}

/* An independent UTF-8 check (decode, then test the code point's range)
 * to judge the escaper's own table-driven one against. */
static int utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0, k, m;
	unsigned long cp, min;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xE0) == 0xC0)
			k = 1, cp = p[i] & 0x1F, min = 0x80;
		else if ((p[i] & 0xF0) == 0xE0)
			k = 2, cp = p[i] & 0x0F, min = 0x800;
		else if ((p[i] & 0xF8) == 0xF0)
			k = 3, cp = p[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i <= k)
			return 0;
		for (m = 1; m <= k; m++) {
			if ((p[i + m] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + m] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* json_str_eq compares up to the first escape in one pass, and from there
 * through the escapes: every way the text and the literal can part. */
void test_json_str_eq_paths(void)
{
	static const char s[] =
		"[\"obtain_process_info\", \"a\\\\b\", \"a\\nb\", \"ab\\u0063\", \"\", \"abc\"]";
	struct json j;
	char err[80];

	CHECK(json_parse(&j, s, sizeof s - 1, err, sizeof err) == 0);
	CHECK(json_str_eq(&j, 1, "obtain_process_info"));
	CHECK(!json_str_eq(&j, 1, "obtain_all_process_info"));
	CHECK(!json_str_eq(&j, 1, "obtain_process_inf"));	/* literal ends first */
	CHECK(!json_str_eq(&j, 1, "obtain_process_info_"));	/* text ends first */
	CHECK(!json_str_eq(&j, 1, ""));
	CHECK(json_str_eq(&j, 2, "a\\b"));			/* "a\\b" is a, backslash, b */
	CHECK(!json_str_eq(&j, 2, "a\\\\b"));		/* the raw text is no match */
	CHECK(!json_str_eq(&j, 2, "a"));
	CHECK(!json_str_eq(&j, 2, "a\\"));
	CHECK(json_str_eq(&j, 3, "a\nb"));
	CHECK(!json_str_eq(&j, 3, "a\\nb"));		/* same bytes as the raw text */
	CHECK(!json_str_eq(&j, 3, "anb"));
	CHECK(json_str_eq(&j, 4, "abc"));			/* the escape at the end */
	CHECK(!json_str_eq(&j, 4, "ab"));
	CHECK(!json_str_eq(&j, 4, "abcd"));
	CHECK(!json_str_eq(&j, 4, "abd"));
	CHECK(json_str_eq(&j, 5, ""));
	CHECK(!json_str_eq(&j, 5, "a"));
	CHECK(json_str_eq(&j, 6, "abc"));
	CHECK(!json_str_eq(&j, 6, "ab"));
	CHECK(!json_str_eq(&j, 6, "abd"));
}

void test_json_round_trip(void)
{
	unsigned char in[64];
	struct buf back;
	unsigned seed = 12345;
	int round, i, n, same = 0, valid = 0;

	buf_init(&back, 0);
	/* All single bytes. */
	for (i = 0; i < 256; i++) {
		in[0] = (unsigned char)i;
		CHECK(round_trip((char *)in, 1, &back) == 0);
		if (i < 0x80)
			CHECK(back.len == 1 && (unsigned char)back.p[0] == i);
		else
			CHECK_STR(back.p, FFFD);
	}
	/* Random strings, biased to UTF-8-ish bytes: must always parse;
	 * valid UTF-8 must come back byte for byte. */
	for (round = 0; round < 20000; round++) {
		n = (int)((seed = seed * 1103515245 + 12345) >> 16) % 24;
		for (i = 0; i < n; i++) {
			unsigned r = (seed = seed * 1103515245 + 12345) >> 16;
			static const unsigned char pick[] = {
				'a', '"', '\\', '\n', 0, 0x1f, 0x7f, 0x80, 0xbf, 0xc2, 0xc3,
				0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xa0, 0x9f, 0x8f, 0xff,
			};
			in[i] = r % 3 ? pick[r % sizeof pick] : (unsigned char)(r >> 8);
		}
		if (round_trip((char *)in, (size_t)n, &back) != 0) {
			t_failed++;
			fprintf(stderr, "FAIL round trip %d did not parse\n", round);
			continue;
		}
		if (utf8_valid(in, (size_t)n)) {
			valid++;
			if (back.len == (size_t)n && !memcmp(back.p, in, (size_t)n))
				same++;
			else if (valid - same < 5)
				fprintf(stderr, "FAIL round trip %d changed valid text\n", round);
		}
	}
	CHECK(valid > 1000);
	CHECK(same == valid);
	buf_free(&back);
}

/* The fast path (escape into reserved room) and the exact path (used near
 * the buffer's bound) must agree byte for byte, and a bound one byte short
 * must fail cleanly.  Prefixes shift where the room runs out. */
void test_json_escape_paths(void)
{
	static const unsigned char pick[] = { 'a', 'b', '"', '\\', '\n', 1, 0x7f,
		0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xf0, 0x9f, 0x98, 0xff, 0xed, 0xa0 };
	unsigned char in[300];
	struct buf free_, tight;
	unsigned seed = 7;
	int round, i, n, pre, bad = 0;

	for (round = 0; round < 3000; round++) {
		n = (int)((seed = seed * 1103515245 + 12345) >> 16) % (int)sizeof in;
		for (i = 0; i < n; i++)
			in[i] = pick[((seed = seed * 1103515245 + 12345) >> 16) % sizeof pick];
		pre = round % 70;
		buf_init(&free_, 0);
		for (i = 0; i < pre; i++)
			buf_putc(&free_, 'p');
		if (json_escape(&free_, (char *)in, (size_t)n) < 0)
			bad++;
		buf_init(&tight, free_.len);
		for (i = 0; i < pre; i++)
			buf_putc(&tight, 'p');
		if (json_escape(&tight, (char *)in, (size_t)n) < 0 ||
		    tight.len != free_.len || memcmp(tight.p, free_.p, free_.len))
			bad++;
		buf_free(&tight);
		if (free_.len > (size_t)pre && free_.len > 1) {	/* max 0: unbounded */
			buf_init(&tight, free_.len - 1);
			for (i = 0; i < pre; i++)
				buf_putc(&tight, 'p');
			if (json_escape(&tight, (char *)in, (size_t)n) == 0 ||
			    tight.len != (size_t)pre)
				bad++;
			buf_free(&tight);
		}
		buf_free(&free_);
	}
	CHECK(bad == 0);
}

void test_json_escape_large(void)
{
	size_t n = 1 << 20, i;
	char *s = malloc(n);
	struct buf b;

	/* Every byte escaped: 6x growth through many reservations. */
	memset(s, 1, n);
	buf_init(&b, 0);
	CHECK(json_escape(&b, s, n) == 0);
	CHECK(b.len == 6 * n);
	for (i = 0; i < b.len && !memcmp(b.p + i, "\\u0001", 6); i += 6)
		;
	CHECK(i == b.len);
	buf_free(&b);
	free(s);
}

void test_json_dup(void);

void test_json_dup(void)
{
	struct json j;
	char err[64], *p;
	const char *s = "{\"a\":[1, 2],\"b\":\"x\\ny\",\"c\":{}}";

	CHECK(json_parse(&j, s, strlen(s), err, sizeof(err)) == 0);
	p = json_dup(&j, json_get(&j, 0, "a"));
	CHECK_STR(p, "[1, 2]");
	free(p);
	p = json_dup(&j, json_get(&j, 0, "b"));   /* string content, still escaped */
	CHECK_STR(p, "x\\ny");
	free(p);
	p = json_dup(&j, json_get(&j, 0, "c"));
	CHECK_STR(p, "{}");
	free(p);
	CHECK(json_dup(&j, -1) == NULL);
	CHECK(json_dup(&j, 999) == NULL);
	json_free(&j);
}

/* json_get_keys finds what json_get finds, key by key, in one pass:
 * escaped keys, duplicates (the last wins), absent keys, a non-object. */
void test_json_get_keys(void)
{
	static const char txt[] = "{\"status\":1,\"m\\u0065ssage\":2,\"payload\":{\"id\":9},"
				  "\"id\":3,\"status\":4,\"ids\":5,\"i\":6}";
	static const char *const keys[] = { "status", "message", "payload", "id", "none", "" };
	struct json j;
	char err[64];
	int out[6], i, ok = 1;

	CHECK(json_parse(&j, txt, sizeof(txt) - 1, err, sizeof(err)) == 0);
	json_get_keys(&j, 0, keys, 6, out);
	for (i = 0; i < 6; i++)
		ok &= out[i] == json_get(&j, 0, keys[i]);
	CHECK(ok);
	CHECK(out[4] == -1 && out[5] == -1 && out[0] >= 0 && out[1] >= 0);
	json_get_keys(&j, out[0], keys, 2, out);       /* a number, not an object */
	CHECK(out[0] == -1 && out[1] == -1);
	json_free(&j);
}
