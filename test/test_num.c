/* test_num.c - num.c against libc's strtod and snprintf, which it stands
 * in for: exact where num.h says exact, and the edges (no number, signs,
 * exponents, overflow, rounding, the printf fallback). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "t.h"
#include "num.h"

void test_num_parse_exact(void);
void test_num_parse_edges(void);
void test_num_fixed(void);
void test_num_u64(void);
void test_num_utc(void);

/* Up to 15 significant digits, exponents within +-22: correctly rounded,
 * so equal to strtod bit for bit. */
void test_num_parse_exact(void)
{
	static const char *const v[] = {
		"0", "1", "-1", "0.5", "1.5", "0.25", ".5", "2.", "0.001", "0.3", "86400",
		"12345.678", "3.14159265358979", "1e3", "1E-3", "2.5e+10", "-7.25e-5",
		"123456789012345", "0.000000000000001", "9007199254740991", "1e22", "1e-22",
		"4.35 0.98 0.77", "  17.02 rest", "100.00\n",
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *e1;
		char *e2;
		double a = num_parse(v[i], &e1), b = strtod(v[i], &e2);

		if (a != b || e1 != e2) {
			fprintf(stderr, "num_parse(\"%s\") = %.17g (end %td), strtod %.17g (end %td)\n",
				v[i], a, e1 - v[i], b, e2 - v[i]);
			bad++;
		}
	}
	CHECK(bad == 0);
	/* A thousand random decimals of 1 to 15 digits: the same bits. */
	srand(12);
	for (i = 0, bad = 0; i < 1000; i++) {
		char s[64];
		const char *e;
		long long m = ((long long)rand() << 20 ^ rand()) % 1000000000000000LL;

		snprintf(s, sizeof(s), "%lld.%de%d", m / 1000, (int)(m % 1000), rand() % 15 - 7);
		bad += num_parse(s, &e) != strtod(s, NULL);
	}
	CHECK(bad == 0);
}

void test_num_parse_edges(void)
{
	const char *e, *s;
	double d;

	s = "";
	CHECK(num_parse(s, &e) == 0 && e == s);
	s = "abc";
	CHECK(num_parse(s, &e) == 0 && e == s);
	s = "-";
	CHECK(num_parse(s, &e) == 0 && e == s);
	s = ".";
	CHECK(num_parse(s, &e) == 0 && e == s);
	s = "inf";      /* strtod would take these; nestd never wants them */
	CHECK(num_parse(s, &e) == 0 && e == s);
	s = "0x10";
	CHECK(num_parse(s, &e) == 0 && e == s + 1);
	s = "5e";       /* a dangling exponent is not used */
	CHECK(num_parse(s, &e) == 5 && e == s + 1);
	s = "5e+";
	CHECK(num_parse(s, &e) == 5 && e == s + 1);
	s = "-0";
	d = num_parse(s, &e);
	CHECK(d == 0 && signbit(d) && e == s + 2);
	CHECK(isinf(num_parse("1e400", &e)) && num_parse("1e400", &e) > 0);
	CHECK(isinf(num_parse("-1e99999999", &e)));
	CHECK(num_parse("1e-400", &e) == 0);
	/* 40 digits: within a few ulps of strtod's correctly rounded answer */
	s = "1234567890123456789012345678901234567890";
	d = num_parse(s, &e);
	CHECK(e == s + 40 && fabs(d - strtod(s, NULL)) <= 4 * nextafter(1.2345e39, 2e39) - 4 * 1.2345e39);
	s = "0.1234567890123456789012345";
	CHECK(fabs(num_parse(s, &e) - strtod(s, NULL)) < 1e-16 && e == s + 27);
}

static void fixed_is(double v, int dec, const char *want)
{
	char out[32];
	size_t n = num_fixed(out, v, dec);

	CHECK_STR(out, want);
	CHECK(n == strlen(want));
}

void test_num_fixed(void)
{
	char a[32], b[64];
	int i, dec, bad = 0;

	fixed_is(0, 0, "0");
	fixed_is(0, 2, "0.00");
	fixed_is(1.5, 1, "1.5");
	fixed_is(1.25, 0, "1");
	fixed_is(-3.75, 1, "-3.8");      /* half away from zero */
	fixed_is(12.3456, 2, "12.35");
	fixed_is(99.999, 2, "100.00");
	fixed_is(-0.001, 2, "-0.00");    /* as printf writes it */
	fixed_is(-0.4, 0, "0");
	fixed_is(123456789.0, 0, "123456789");
	fixed_is(0.000001, 6, "0.000001");
	/* what it leaves to printf */
	CHECK(num_fixed(a, 1e300, 0) == 0);
	CHECK(num_fixed(a, 1e19, 0) == 0);
	CHECK(num_fixed(a, 1.5, 10) == 0);
	CHECK(num_fixed(a, NAN, 1) == 0 && num_fixed(a, INFINITY, 1) == 0);
	fixed_is(9.1e18, 0, "9100000000000000000");
	/* Random values against printf: the same text except where the binary
	 * value sits within rounding noise of a half. */
	srand(7);
	for (i = 0; i < 2000; i++) {
		double v = (rand() - RAND_MAX / 2) / (double)(1 + rand() % 10000);

		dec = rand() % 5;
		num_fixed(a, v, dec);
		snprintf(b, sizeof(b), "%.*f", dec, v);
		if (strcmp(a, b)) {
			double s = fabs(v);
			int k;

			for (k = 0; k < dec; k++)
				s *= 10;

			if (fabs(s - floor(s) - 0.5) > 1e-6)
				bad++;
		}
	}
	CHECK(bad == 0);
}

void test_num_u64(void)
{
	char b[24], *e = b + sizeof(b) - 1, *p;

	*e = '\0';
	p = num_u64(e, 0);
	CHECK_STR(p, "0");
	p = num_u64(e, 18446744073709551615ULL);
	CHECK_STR(p, "18446744073709551615");
	p = num_u64(e, 1000000);
	CHECK_STR(p, "1000000");
}

/* Against gmtime_r over 1900..2400, day by day across leap years and
 * centuries, at varied times of day, and some negative times. */
void test_num_utc(void)
{
	long long t;
	int bad = 0;

	for (t = -2208988800LL; t < 13569465600LL; t += 86400 * 7 + 3601) {
		struct tm a, b;
		time_t tt = (time_t)t;

		num_utc(t, &a);
		gmtime_r(&tt, &b);
		bad += a.tm_year != b.tm_year || a.tm_mon != b.tm_mon || a.tm_mday != b.tm_mday ||
		       a.tm_hour != b.tm_hour || a.tm_min != b.tm_min || a.tm_sec != b.tm_sec ||
		       a.tm_wday != b.tm_wday;
	}
	CHECK(bad == 0);
	{
		struct tm a;

		num_utc(951782400LL, &a);        /* 2000-02-29 00:00:00, a Tuesday */
		CHECK(a.tm_year == 100 && a.tm_mon == 1 && a.tm_mday == 29 && a.tm_wday == 2);
		num_utc(-1, &a);                 /* 1969-12-31 23:59:59, a Wednesday */
		CHECK(a.tm_year == 69 && a.tm_mon == 11 && a.tm_mday == 31 && a.tm_hour == 23 &&
		      a.tm_sec == 59 && a.tm_wday == 3);
	}
}
