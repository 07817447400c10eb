/* test_fmt.c - fmt_vfprintf (the static binary's vfprintf) against the C
 * library's vsnprintf for every conversion nestd uses, and %f for random
 * values and precisions, ties and edges. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fmt.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-zero-length"

static int mismatches;

static void __attribute__((format(printf, 1, 2))) same(const char *fmt, ...)
{
	char want[600], got[600];
	va_list ap, ap2;
	int rw, rg;
	FILE *f = fmemopen(got, sizeof(got), "w");

	if (!f) {
		CHECK(f != NULL);
		return;
	}
	va_start(ap, fmt);
	va_copy(ap2, ap);
	rw = vsnprintf(want, sizeof(want), fmt, ap);
	rg = fmt_vfprintf(f, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	fputc('\0', f);
	fclose(f);
	if (rw != rg || strcmp(want, got) != 0) {
		if (mismatches++ < 20)
			fprintf(stderr, "FAIL fmt \"%s\": want %d \"%s\", got %d \"%s\"\n", fmt, rw, want, rg, got);
	}
}

void test_fmt_conversions(void)
{
	static const char *const strs[] = { "", "a", "nestd", "a longer string than twenty" };
	static const long long ints[] = { 0, 1, -1, 7, 42, -42, 255, 4096, 2147483647LL, -2147483647LL - 1,
					  9223372036854775807LL, -9223372036854775807LL - 1 };
	size_t i;

	mismatches = 0;
	same("plain text, no conversions");
	same("");
	same("100%% done %s", "x");
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *s = strs[i];

		same("[%s] [%-10s] [%8s] [%.3s] [%.*s] [%-*s] [%*s] [%.40s] [%7s]", s, s, s, s, 2, s, 6, s, -6, s, s, s);
		same("[%-24s|%-9s|%s]", s, "agent", s);
		same("%c%c", s[0] ? s[0] : 'z', 'q');
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		long long v = ints[i];

		same("%d %i %5d %-5d| %05d %+d % d %02d %04d %.3d %.0d", (int)v, (int)v, (int)v, (int)v, (int)v,
		     (int)v, (int)v, (int)v, (int)v, (int)v, (int)v);
		same("%lld %7lld %-22lld| %llu %ld %lu %zu %zd", v, v, v, (unsigned long long)v, (long)v,
		     (unsigned long)v, (size_t)v, (ssize_t)v);
		same("%u %x %X %02x %08X %o %03o", (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v & 255,
		     (unsigned)v, (unsigned)v, (unsigned)v & 511);
		same("%llx %lx %hhu %hu %hd %hhd", (unsigned long long)v, (unsigned long)v, (unsigned char)v,
		     (unsigned short)v, (short)v, (signed char)v);
		same("%03ld", (long)v % 1000);
	}
	CHECK(mismatches == 0);
}

void test_fmt_float(void)
{
	static const double vals[] = { 0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 1.005, 2.675, 0.045, 1e-7,
				       0.05, 0.25, 99.95, 99.995, 1023.95, 1048575.5, 123456789.125, 4503599627370495.5,
				       9007199254740993.0, 1e15, 3.14159265358979, 1.0 / 3, 2.0 / 3, 1e18, 9.2e18 };
	unsigned x = 12345;
	size_t i;
	int p;

	mismatches = 0;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		double v = vals[i];

		for (p = 0; p <= 6; p++)
			same("%.*f|%.*f", p, v, p, -v);
		same("%f %.0f %.1f %.2f %6.1f %-8.2f| %08.3f %+.1f %.6f", v, v, v, v, v, v, v, v, v);
	}
	same("%f %f %5.1f %-6f| %f", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0, 1.0 / 0.0, -(0.0 / 0.0) * 0 + 1);
	/* Random values of the magnitudes nestd prints (sizes, loads, seconds). */
	for (i = 0; i < 20000; i++) {
		double v;

		x = x * 1103515245u + 12345u;
		v = (double)(x >> 8) / (double)(1u << (x % 24));
		if (i % 3 == 0)
			v = (double)(x % 100000) / 100.0;      /* two-decimal data, ties near */
		if (i % 5 == 0)
			v = (double)x * 1e6 + (double)(x % 7) / 8;
		p = (int)(x % 7);
		same("%.*f", p, v);
		same("%.1f %.2f %.3f", v, v, v);
	}
	CHECK(mismatches == 0);
}

static int strtod_bad;

static void same_strtod(const char *s, int exact)
{
	char *e1, *e2;
	double a, b;
	int er1, er2;

	errno = 0;
	a = strtod(s, &e1);
	er1 = errno;
	errno = 0;
	b = fmt_strtod(s, &e2);
	er2 = errno;
	if (e1 != e2 || er1 != er2 || (exact ? memcmp(&a, &b, sizeof(a)) != 0 :
					  !(a == b || (a != 0 && (a - b) / a < 2.3e-16 && (b - a) / a < 2.3e-16)))) {
		if (strtod_bad++ < 20)
			fprintf(stderr, "FAIL strtod \"%s\": want %.17g end %d errno %d, got %.17g end %d errno %d\n",
				s, a, (int)(e1 - s), er1, b, (int)(e2 - s), er2);
	}
}

void test_fmt_strtod(void)
{
	static const char *const fixed[] = {
		"0", "-0", "+0", "1", "-1", "0.5", "2.5", "30", "0.0005", "1.5e3", "1E3", "1e-7", "  \t42",
		"12345.67 123.45\n", "0.25 0.10 0.05 1/123 4567\n", "1.", ".5", "-.5", "5.e2", "1e", "1e+",
		"1e-", "1ex", "1e+2x", "", "-", "+", ".", "-.", "abc", "1e999",
		"-1e999", "1e-999", "123456789012345678", "9007199254740993", "0.1", "0.30000000000000004",
		"1000000000", "1e9", "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308",
		"123.456e-2", "00012", "1e22", "1e23", "3e-22", "0.000000000000000000000000001",
		"99999999999999999999999999", "1.0000000000000000000000001", "12345678901234567890123",
	};
	unsigned x = 99;
	size_t i;
	char buf[64];

	strtod_bad = 0;
	/* Within the fast path's reach: bit for bit. */
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		same_strtod(fixed[i], 1);
	for (i = 0; i < 50000; i++) {
		x = x * 1103515245u + 12345u;
		snprintf(buf, sizeof(buf), "%u.%u", x >> 12, x % 100000);
		same_strtod(buf, 1);
		snprintf(buf, sizeof(buf), "%ue%d", x >> 9, (int)(x % 45) - 22);
		same_strtod(buf, 1);
		snprintf(buf, sizeof(buf), "%.6f", (double)x / 997.0);
		same_strtod(buf, 1);
		/* Beyond it: within one unit in the last place. */
		snprintf(buf, sizeof(buf), "%.17g", (double)x * 1.2345e-5 * (i % 3 ? 1e-40 : 1e40));
		same_strtod(buf, 0);
	}
	CHECK(strtod_bad == 0);
	/* Documented differences: no hex, inf or nan (nestd reads none). */
	{
		char *e;
		const char *h = "0x10", *n = "inf";

		CHECK(fmt_strtod(h, &e) == 0 && e == h + 1);
		CHECK(fmt_strtod(n, &e) == 0 && e == n);
	}
}
