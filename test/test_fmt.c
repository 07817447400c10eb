/* test_fmt.c - fmt.c against the libc snprintf it stands in for, byte for
 * byte: every form fmt.h says it does (flags, widths, precisions, lengths,
 * integers at their limits, %f exact on ties, tiny, huge and non-finite
 * values), truncation and the returned length (its writers on a
 * descriptor: test_out.c). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "fmt.h"

void test_fmt_ints(void);
void test_fmt_strings(void);
void test_fmt_fixed(void);
void test_fmt_truncation(void);
void test_fmt_edges(void);

static int bad;

/* Both formatters on the same arguments; a difference is printed. */
#define SAME(...) do { \
	char a_[512], b_[512]; \
	int ra_ = fmt_snprintf(a_, sizeof(a_), __VA_ARGS__), rb_ = snprintf(b_, sizeof(b_), __VA_ARGS__); \
	if (ra_ != rb_ || strcmp(a_, b_)) { \
		bad++; \
		fprintf(stderr, "fmt line %d: got [%s] (%d), libc [%s] (%d)\n", __LINE__, a_, ra_, b_, rb_); \
	} \
} while (0)

void test_fmt_ints(void)
{
	static const long long v[] = {
		0, 1, -1, 7, 42, -42, 255, 65535, 100000, INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN,
		(long long)UINT_MAX, 1234567890123LL,
	};
	size_t i;

	bad = 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int d = (int)v[i];
		unsigned u = (unsigned)v[i];

		SAME("%d|%i|%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%-8.3d|%.0d", d, d, d, d, d, d, d, d, d, d, d);
		SAME("%u|%x|%X|%o|%08x|%04x|%02x|%03o|%04o", u, u, u, u, u, u, u, u, u);
		SAME("%lld|%llu|%20lld|%-20lld|%020lld|%llx", v[i], (unsigned long long)v[i], v[i], v[i], v[i],
		     (unsigned long long)v[i]);
		SAME("%ld|%lu|%03ld|%zu|%zx|%td|%jd", (long)v[i], (unsigned long)v[i], (long)v[i], (size_t)v[i],
		     (size_t)v[i], (ptrdiff_t)v[i], (intmax_t)v[i]);
		SAME("%hd|%hu|%hhd|%hhu|%hx", (short)v[i], (unsigned short)v[i], (signed char)v[i],
		     (unsigned char)v[i], (unsigned short)v[i]);
		SAME("%*d|%-*d|%.*d|%*d", 7, d, 7, d, 4, d, -6, d);
	}
	SAME("%.0d|%.0u|%5.0d|", 0, 0u, 0);
	SAME("%p", (void *)&bad);
	CHECK(bad == 0);
}

void test_fmt_strings(void)
{
	const char *volatile nothing = NULL;   /* both print "(null)" */

	bad = 0;
	SAME("%s|%10s|%-10s|%.3s|%.*s|%-24s|%.40s|", "abc", "abc", "abc", "abcdef", 2, "xyz", "name", "short");
	SAME("%.*s|%.0s|%s", 0, "gone", "gone", "");
	SAME("%c|%3c|%-3c|%%|100%%", 'x', 'y', 'z');
	SAME("%s", nothing);
	SAME("no conversions at all, just text\n");
	SAME("%s=%d %s=%llu %.2f%%", "a", 1, "b", 2ULL, 99.5);
	CHECK(bad == 0);
}

void test_fmt_fixed(void)
{
	static const double v[] = {
		0.0, 1.0, -1.0, 0.5, 1.5, 2.5, 0.125, 0.375, 2.675, 1.005, 0.045, 99.995, 1e-7, 123.456,
		86400.0, 1073741824.0, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1e15, 1e16 + 1, 9007199254740993.0,
		1e22, 1e23, 1e300, -1e300, DBL_MAX, -DBL_MAX, DBL_MIN, 4.9e-324, 5e-324, -0.0, -0.001,
		-0.5, 0.05, 0.0005, 12345678.9, 3.14159265358979, 0.99999999, 9.5, 10.5, 0.25,
	};
	size_t i;
	int p;

	bad = 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		double d = v[i];

		SAME("%f|%.0f|%.1f|%.2f|%.3f|%.6f|%F", d, d, d, d, d, d, d);
		SAME("%10.2f|%-10.2f|%+.2f|% .1f|%010.2f|%-+10.1f|%3.0f", d, d, d, d, d, d, d);
		for (p = 0; p <= 30; p += 3)
			SAME("%.*f", p, d);
	}
	SAME("%f|%.2f|%5.1f|%-6f|%F|%08.2f", INFINITY, -INFINITY, INFINITY, NAN, INFINITY, -INFINITY);
	SAME("%.1f %s", 12.25, "GiB");
	srand(12);
	for (i = 0; i < 2000; i++) {
		double d = (double)rand() / RAND_MAX - 0.5;
		int e = rand() % 24 - 8;

		for (; e > 0; e--)
			d *= 10;
		for (; e < 0; e++)
			d /= 10;

		SAME("%.0f|%.1f|%.2f|%.3f|%.6f|%.9f", d, d, d, d, d, d);
	}
	for (i = 0; i < 1000; i++) {    /* exact ties: k / 2^j */
		double d = (double)(rand() % 100000) / (double)(1 << (rand() % 8));

		SAME("%.0f|%.1f|%.2f|%.3f", d, d, d, d);
	}
	CHECK(bad == 0);
}

void test_fmt_truncation(void)
{
	char b[8];
	int r;

	r = fmt_snprintf(b, sizeof(b), "%s-%d", "abcdef", 12345);
	CHECK(r == 12);
	CHECK_STR(b, "abcdef-");
	memset(b, 'x', sizeof(b));
	r = fmt_snprintf(b, 1, "%d", 7);
	CHECK(r == 1 && b[0] == '\0');
	memset(b, 'x', sizeof(b));
	r = fmt_snprintf(b, 0, "%s", "untouched");
	CHECK(r == 9 && b[0] == 'x');
	CHECK(fmt_snprintf(NULL, 0, "%.2f|%s", 1234.5, "tail") == 12);
	r = fmt_snprintf(b, sizeof(b), "%.2f", 123456.789);
	CHECK(r == 9);
	CHECK_STR(b, "123456.");
}

/* What the fuzzer (fuzz_fmt) cannot ask libc: a * width of INT_MIN (a
 * field of 2^31 bytes, which glibc takes seconds to count, then fails)
 * is counted without being written, quickly, and stores only what fits;
 * digit runs too long for an int saturate instead of overflowing; signs
 * are for signed conversions only; %p's 0x is inside its field. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
void test_fmt_edges(void)
{
	char b[16];
	int r;

	r = fmt_snprintf(b, sizeof(b), "%*d|", INT_MIN, 5);
	CHECK(r == -1);   /* 5 and INT_MAX - 1 spaces, then the bar: past INT_MAX */
	CHECK_STR(b, "5              ");
	r = fmt_snprintf(b, sizeof(b), "%99999999999999999999d", 5);
	CHECK(r == INT_MAX && b[0] == ' ' && b[15] == '\0');
	r = fmt_snprintf(b, sizeof(b), "%.99999999999999999999s", "abc");
	CHECK(r == 3);
	CHECK_STR(b, "abc");
	bad = 0;
	SAME("%+u|% x|%+o", 5u, 5u, 5u);
	SAME("%20p|%-20p|", (void *)&bad, (void *)&bad);
	SAME("%.*s|%.*s|%-*s|", -1, "whole", 2, "cut", -6, "neg");
	SAME("%d|%lld|%+d|% lld", INT_MIN, LLONG_MIN, INT_MIN, LLONG_MIN);
	CHECK(bad == 0);
}
#pragma GCC diagnostic pop
