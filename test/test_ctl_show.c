/* test_ctl_show.c - ctl_text_put, the one way agent-supplied text reaches
 * the operator's terminal: every C0 and C1 control, DEL, the reordering
 * marks and bytes that are not UTF-8 come out as visible escapes; text and
 * padding otherwise unchanged (issue 11, row 12). */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "ctl_show.h"
#include "out.h"
#include "t.h"

void test_ctl_show_text_escapes(void);
void test_ctl_show_text_flags(void);
void test_ctl_show_text_every_byte(void);

/* ctl_text_put of s (n bytes) as a string; the caller frees it. */
static char *shown(const char *s, size_t n, int width, unsigned flags, size_t *chars)
{
	struct buf b;
	struct out o;
	size_t c;

	buf_init(&b, 0);
	buf_append(&b, "", 0);           /* "" when nothing is written */
	out_init_mem(&o, &b);
	c = ctl_text_put(&o, s, n, width, flags);
	if (chars)
		*chars = c;
	return buf_steal(&b);
}

#define SHOWN(in, want, flags) do { \
	char *got_ = shown(in, sizeof(in) - 1, 0, flags, NULL); \
	CHECK_STR(got_, want); \
	free(got_); \
} while (0)

void test_ctl_show_text_escapes(void)
{
	SHOWN("nginx: worker", "nginx: worker", 0);
	SHOWN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0);
	/* a title change and a bell, a clear screen, a cursor move */
	SHOWN("a\x1b]0;pwned\x07z", "a\\x1b]0;pwned\\x07z", 0);
	SHOWN("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H", 0);
	SHOWN("up\rover", "up\\x0dover", 0);
	SHOWN("two\nlines\ttab", "two\\nlines\\ttab", 0);
	SHOWN("del\x7f", "del\\x7f", 0);
	SHOWN("nul\0x", "nul\\x00x", 0);
	/* C1 as UTF-8 (U+009B is CSI) and as a bare byte (8-bit terminals) */
	SHOWN("\xc2\x9b" "31m", "\\u009b31m", 0);
	SHOWN("\xc2\x80\xc2\x9f\xc2\xa0", "\\u0080\\u009f\xc2\xa0", 0);
	SHOWN("\x9b" "31m", "\\x9b31m", 0);
	/* not UTF-8: overlong, cut short, a stray continuation, surrogates */
	SHOWN("\xc0\xaf", "\\xc0\\xaf", 0);
	SHOWN("end\xe2\x82", "end\\xe2\\x82", 0);
	SHOWN("\xbfx", "\\xbfx", 0);
	SHOWN("\xed\xa0\x80", "\\xed\\xa0\\x80", 0);
	/* marks that reorder what the operator reads */
	SHOWN("evil\xe2\x80\xaegpj.exe", "evil\\u202egpj.exe", 0);
	SHOWN("\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\x8f", "\\u2066x\\u2069\\u200f", 0);
	/* backslashes stay (systemd's unit names are full of \x2d) */
	SHOWN("dev-disk-by\\x2duuid.device", "dev-disk-by\\x2duuid.device", 0);
}

void test_ctl_show_text_flags(void)
{
	char *g;
	size_t chars;

	SHOWN("two\nlines\ttab\r\x1b", "two\nlines\ttab\\x0d\\x1b", CTL_TEXT_LINES);
	/* JSON: the same JSON, with C0/DEL/C1 escaped its own way */
	SHOWN("{\"n\":\"a\x7f\xc2\x85\x1b\"}\n", "{\"n\":\"a\\u007f\\u0085\\u001b\"}\n",
	      CTL_TEXT_JSON | CTL_TEXT_LINES);
	SHOWN("\"\x9b\"", "\"\\ufffd\"", CTL_TEXT_JSON);
	/* padding counts characters, escapes at their printed width */
	g = shown("ab", 2, 5, 0, &chars);
	CHECK_STR(g, "ab   ");
	CHECK(chars == 5);
	free(g);
	g = shown("\xc3\xa9", 2, 3, 0, &chars);
	CHECK_STR(g, "\xc3\xa9  ");
	free(g);
	g = shown("\x1b" "x", 2, 6, 0, &chars);
	CHECK_STR(g, "\\x1bx ");
	free(g);
	g = shown("longer than that", 16, 4, 0, &chars);
	CHECK_STR(g, "longer than that");
	CHECK(chars == 16);
	free(g);
}

/* Whatever comes in, no control byte and no C1 comes out (flags 0). */
void test_ctl_show_text_every_byte(void)
{
	char in[3], *g;
	int a, b, bad = 0;
	const unsigned char *p;

	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = 'z';
			g = shown(in, 3, 0, 0, NULL);
			for (p = (const unsigned char *)g; *p; p++)
				if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) ||
				    (p[0] >= 0x80 && p[0] < 0xa0 && (p == (const unsigned char *)g || p[-1] < 0xc2)))
					bad++;
			free(g);
		}
	CHECK(bad == 0);
}
