/* test_utf8.c - validator: boundaries, overlongs, surrogates, fail-fast. */
#include "t.h"
#include "utf8.h"

void test_utf8_valid(void);
void test_utf8_invalid(void);
void test_utf8_fail_fast(void);
void test_utf8_exhaustive(void);

#define V(s) utf8_valid(s, sizeof(s) - 1)

void test_utf8_valid(void)
{
	CHECK(V(""));
	CHECK(V("hello"));
	CHECK(V("\x7f"));
	CHECK(V("\xc2\x80"));                 /* U+0080 */
	CHECK(V("\xdf\xbf"));                 /* U+07FF */
	CHECK(V("\xe0\xa0\x80"));             /* U+0800 */
	CHECK(V("\xed\x9f\xbf"));             /* U+D7FF */
	CHECK(V("\xee\x80\x80"));             /* U+E000 */
	CHECK(V("\xef\xbf\xbf"));             /* U+FFFF */
	CHECK(V("\xf0\x90\x80\x80"));         /* U+10000 */
	CHECK(V("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
	CHECK(V("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")); /* kosme */
	CHECK(V("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"));
	CHECK(V("\0"));                       /* NUL is a valid character */
}

void test_utf8_invalid(void)
{
	CHECK(!V("\x80"));                    /* lone continuation */
	CHECK(!V("\xbf"));
	CHECK(!V("\xc0\x80"));                /* overlong NUL */
	CHECK(!V("\xc1\xbf"));
	CHECK(!V("\xe0\x80\xaf"));            /* overlong '/' */
	CHECK(!V("\xe0\x9f\xbf"));
	CHECK(!V("\xf0\x80\x80\xaf"));
	CHECK(!V("\xf0\x8f\xbf\xbf"));
	CHECK(!V("\xed\xa0\x80"));            /* U+D800 */
	CHECK(!V("\xed\xbf\xbf"));            /* U+DFFF */
	CHECK(!V("\xed\xa0\x80\xed\xb0\x80"));/* surrogate pair */
	CHECK(!V("\xf4\x90\x80\x80"));        /* U+110000 */
	CHECK(!V("\xf5\x80\x80\x80"));
	CHECK(!V("\xfe"));
	CHECK(!V("\xff"));
	CHECK(!V("\xc2"));                    /* truncated */
	CHECK(!V("\xe1\x80"));
	CHECK(!V("\xf0\x90\x80"));
	CHECK(!V("\xc2\x41"));                /* continuation missing */
	CHECK(!V("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited"));
}

void test_utf8_fail_fast(void)
{
	uint32_t s;

	/* The rejecting byte is the first one that cannot continue. */
	s = utf8_step(UTF8_ACCEPT, 0xed);
	CHECK(s != UTF8_REJECT && s != UTF8_ACCEPT);
	CHECK(utf8_step(s, 0xa0) == UTF8_REJECT);
	s = utf8_step(UTF8_ACCEPT, 0xf4);
	CHECK(utf8_step(s, 0x90) == UTF8_REJECT);
	s = utf8_step(UTF8_ACCEPT, 0xe0);
	CHECK(utf8_step(s, 0x9f) == UTF8_REJECT);
	CHECK(utf8_step(UTF8_ACCEPT, 0xf5) == UTF8_REJECT);
	CHECK(utf8_step(UTF8_REJECT, 'a') == UTF8_REJECT);  /* sticky */
	/* Incremental runs equal the one-shot result. */
	s = utf8_run(UTF8_ACCEPT, "abc\xf0\x90", 5);
	CHECK(s != UTF8_ACCEPT && s != UTF8_REJECT);
	s = utf8_run(s, "\x80\x80xyz", 5);
	CHECK(s == UTF8_ACCEPT);
	CHECK(utf8_run(UTF8_ACCEPT, "aaaaaaaaaaaaaaaa\x80zzzzzzzz", 25) == UTF8_REJECT);
}

void test_utf8_exhaustive(void)
{
	unsigned char b[4];
	uint32_t cp;
	int bad = 0;

	/* Encode every scalar value and check acceptance; surrogates refused. */
	for (cp = 0; cp <= 0x10ffff; cp++) {
		size_t n;
		int want = !(cp >= 0xd800 && cp <= 0xdfff);

		if (cp < 0x80) {
			b[0] = (unsigned char)cp; n = 1;
		} else if (cp < 0x800) {
			b[0] = (unsigned char)(0xc0 | cp >> 6);
			b[1] = (unsigned char)(0x80 | (cp & 63)); n = 2;
		} else if (cp < 0x10000) {
			b[0] = (unsigned char)(0xe0 | cp >> 12);
			b[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
			b[2] = (unsigned char)(0x80 | (cp & 63)); n = 3;
		} else {
			b[0] = (unsigned char)(0xf0 | cp >> 18);
			b[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
			b[2] = (unsigned char)(0x80 | ((cp >> 6) & 63));
			b[3] = (unsigned char)(0x80 | (cp & 63)); n = 4;
		}
		if (utf8_valid(b, n) != want)
			bad++;
	}
	CHECK(bad == 0);
}
