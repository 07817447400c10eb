/* test_fmt.c - fmt_vfprintf (the static binary's vfprintf) against the C
 * library's vsnprintf for every conversion nestd uses, and %f for random
 * values and precisions, ties and edges. */
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
