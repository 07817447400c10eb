/* num.c - decimal numbers by hand (see num.h). */
#include "num.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Every power of ten a double holds exactly. */
static const double p10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

/* m * 10^e: one exact operation when both fit (the classic fast path:
 * correctly rounded), else steps of 1e22. */
static double scale(double m, int e)
{
	if (m == 0)
		return 0;
	while (e > 22) {
		m *= 1e22;
		e -= 22;
		if (isinf(m))
			return m;
	}
	while (e < -22) {
		m /= 1e22;
		e += 22;
		if (m == 0)
			return 0;
	}
	return e >= 0 ? m * p10[e] : m / p10[-e];
}

double num_parsen(const char *s, size_t n, const char **end)
{
	const char *p = s, *lim = s + n;
	uint64_t m = 0;
	int neg = 0, any = 0, e10 = 0;

	while (p < lim && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p < lim && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	for (; p < lim && digit(*p); p++, any = 1) {
		if (m < UINT64_MAX / 10 - 1)
			m = m * 10 + (uint64_t)(*p - '0');
		else
			e10++;      /* digits past 19 only scale */
	}
	if (p < lim && *p == '.') {
		for (p++; p < lim && digit(*p); p++, any = 1) {
			if (m < UINT64_MAX / 10 - 1) {
				m = m * 10 + (uint64_t)(*p - '0');
				e10--;
			}
		}
	}
	if (!any) {
		*end = s;
		return 0;
	}
	if (p < lim && (*p == 'e' || *p == 'E')) {
		const char *q = p + 1;
		int eneg = 0, x = 0;

		if (q < lim && (*q == '+' || *q == '-'))
			eneg = *q++ == '-';
		if (q < lim && digit(*q)) {
			for (; q < lim && digit(*q); q++)
				if (x < 100000)
					x = x * 10 + (*q - '0');
			e10 += eneg ? -x : x;
			p = q;
		}
	}
	*end = p;
	return neg ? -scale((double)m, e10) : scale((double)m, e10);
}

double num_parse(const char *s, const char **end)
{
	return num_parsen(s, strlen(s), end);
}

char *num_u64(char *end, unsigned long long v)
{
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

size_t num_fixed(char *out, double v, int decimals)
{
	char tmp[32], *e = tmp + sizeof tmp, *p;
	unsigned long long u;
	double a = fabs(v);
	int i, neg = v < 0;
	size_t n;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 9 || !isfinite(v) || a * p10[decimals] >= 9.2e18)
		return 0;
	u = (unsigned long long)(a * p10[decimals] + 0.5);
	p = e;
	for (i = 0; i < decimals; i++, u /= 10)
		*--p = (char)('0' + u % 10);
	if (decimals)
		*--p = '.';
	p = num_u64(p, u);
	if (neg && (u || decimals))
		*--p = '-';
	n = (size_t)(e - p);
	for (i = 0; i < (int)n; i++)
		out[i] = p[i];
	out[n] = '\0';
	return n;
}

/* Days since 1970-01-01 to the civil date (H. Hinnant's algorithm: eras of
 * 400 years, March-based years so the leap day comes last). */
void num_utc(long long t, struct tm *tm)
{
	long long days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	memset(tm, 0, sizeof(*tm));
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_wday = (int)((days % 7 + 11) % 7);     /* 1970-01-01 was a Thursday */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	tm->tm_year = (int)(yoe + era * 400 + (tm->tm_mon <= 1)) - 1900;
	tm->tm_yday = (int)(days - 719468 - num_days(tm->tm_year + 1900LL, 1, 1));
}

/* The inverse: the civil date y-m-d (m 1 to 12) as days since 1970-01-01. */
long long num_days(long long y, int m, int d)
{
	long long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}
