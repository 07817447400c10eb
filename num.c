/* num.c - decimal numbers by hand (see num.h). */
#include "num.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

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

/* [blanks] [+-] digits, the magnitude; *ovf when it passed ULLONG_MAX. */
static unsigned long long scan(const char *s, char **end, int *neg, int *ovf)
{
	const char *p = s;
	unsigned long long v = 0;

	while (*p == ' ' || (unsigned char)(*p - '\t') < 5)
		p++;
	*neg = *p == '-';
	*ovf = 0;
	if (*p == '+' || *p == '-')
		p++;
	if (!digit(*p))
		p = s;
	for (; digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (ULLONG_MAX - d) / 10)
			*ovf = 1;
		v = v * 10 + d;
	}
	if (end)
		*end = (char *)p;
	return v;
}

/* The signed ones: max is LONG_MAX or LLONG_MAX (min is -max - 1). */
static long long scan_signed(const char *s, char **end, unsigned long long max)
{
	int neg, ovf;
	unsigned long long v = scan(s, end, &neg, &ovf);

	if (ovf || v > max + (unsigned)neg) {
		errno = ERANGE;
		return neg ? -(long long)max - 1 : (long long)max;
	}
	return neg && v ? -(long long)(v - 1) - 1 : (long long)v;
}

/* The unsigned ones: max is ULONG_MAX or ULLONG_MAX, both 2^n - 1. */
static unsigned long long scan_unsigned(const char *s, char **end, unsigned long long max)
{
	int neg, ovf;
	unsigned long long v = scan(s, end, &neg, &ovf);

	if (ovf || v > max) {
		errno = ERANGE;
		return max;
	}
	return neg ? (0 - v) & max : v;
}

long num_strtol(const char *s, char **end)
{
	return (long)scan_signed(s, end, LONG_MAX);
}

long long num_strtoll(const char *s, char **end)
{
	return scan_signed(s, end, LLONG_MAX);
}

unsigned long num_strtoul(const char *s, char **end)
{
	return (unsigned long)scan_unsigned(s, end, ULONG_MAX);
}

unsigned long long num_strtoull(const char *s, char **end)
{
	return scan_unsigned(s, end, ULLONG_MAX);
}

int num_atoi(const char *s)
{
	int e = errno;
	long v = num_strtol(s, NULL);

	errno = e;
	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

static int hexval(char c)
{
	return digit(c) ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

/* Exactly four decimal parts 0 to 255 without leading zeros, then NUL. */
static int ip4(const char *s, unsigned char *out)
{
	int i, n;

	for (i = 0; i < 4; i++) {
		unsigned v = 0;

		for (n = 0; digit(s[n]); n++)
			if (n == 3 || (v = v * 10 + (unsigned)(s[n] - '0')) > 255 || (n && s[0] == '0'))
				return 0;
		if (!n || s[n] != (i < 3 ? '.' : '\0'))
			return 0;
		out[i] = (unsigned char)v;
		s += n + 1;
	}
	return 1;
}

/* Up to eight groups of 1 to 4 hex digits split by ':', one "::" for a run
 * of zero groups (at least one), the last two groups as an IPv4 tail. */
static int ip6(const char *s, unsigned char *out)
{
	unsigned short g[8];
	int n = 0, gap = -1, i;

	if (*s == ':' && *++s != ':')
		return 0;
	if (*s == ':' && (gap = 0, !*++s))
		goto done;
	for (;;) {
		const char *t = s;
		unsigned v = 0, k;
		unsigned char b[4];

		for (k = 0; hexval(*s) >= 0; s++, k++)
			if (k == 4)
				return 0;
			else
				v = v * 16 + (unsigned)hexval(*s);
		if (*s == '.') {
			if (n > 6 || !ip4(t, b))
				return 0;
			g[n++] = (unsigned short)(b[0] << 8 | b[1]);
			g[n++] = (unsigned short)(b[2] << 8 | b[3]);
			s = "";
			break;
		}
		if (!k || n == 8)
			return 0;
		g[n++] = (unsigned short)v;
		if (!*s)
			break;
		if (*s++ != ':')
			return 0;
		if (*s == ':' && (gap >= 0 || (gap = n, !*++s)))
			break;
	}
done:
	if (gap >= 0 && *s)
		return 0;
	if (gap < 0 ? n != 8 : n > 7)
		return 0;
	memset(out, 0, 16);
	for (i = 0; i < n; i++) {
		int at = gap >= 0 && i >= gap ? i + 8 - n : i;

		out[2 * at] = (unsigned char)(g[i] >> 8);
		out[2 * at + 1] = (unsigned char)g[i];
	}
	return 1;
}

int num_pton(int af, const char *s, void *dst)
{
	if (af == AF_INET)
		return ip4(s, dst);
	if (af == AF_INET6)
		return ip6(s, dst);
	errno = EAFNOSUPPORT;
	return -1;
}

/* One inet_aton part: strtoul base 0 starting with a digit, held at 2^32
 * (past every part's limit); 0 when there is none. */
static int aton_part(const char **sp, unsigned long long *out)
{
	const char *s = *sp;
	unsigned long long v = 0;
	int base = 10, d;

	if (!digit(*s))
		return 0;
	if (s[0] == '0' && (s[1] | 32) == 'x') {
		if (hexval(s[2]) < 0)
			return 0;
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (; (d = hexval(*s)) >= 0 && d < base; s++)
		if ((v = v * (unsigned)base + (unsigned)d) > 0xffffffffULL)
			v = 0x100000000ULL;
	*out = v;
	*sp = s;
	return 1;
}

int num_aton(const char *s, unsigned char out[4])
{
	unsigned long long a[4], last;
	int i, j;

	for (i = 0;; i++) {
		if (i == 4 || !aton_part(&s, &a[i]))
			return 0;
		if (!*s)
			break;
		if (*s++ != '.')
			return 0;
	}
	for (j = 0; j < i; j++)
		if (a[j] > 255)
			return 0;
	if ((last = a[i]) > 0xffffffffULL >> (8 * i))
		return 0;
	for (j = 0; j < i; j++)
		out[j] = (unsigned char)a[j];
	for (j = 3; j >= i; j--, last >>= 8)
		out[j] = (unsigned char)(last & 0xff);
	return 1;
}
