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
