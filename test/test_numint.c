/* test_numint.c - num.c's integer and address parsers against libc's
 * strtol family, atoi, inet_pton and inet_aton, which they stand in for:
 * the same value, end pointer and errno over the edges and over many
 * generated strings. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "num.h"

void test_numint_strto(void);
void test_numint_atoi(void);
void test_numint_pton(void);
void test_numint_aton(void);

static const char *const edge[] = {
	"", "+", "-", "-0", "+0", "0", " 12", "\t\n\v\f\r-7x", "  +", "- 1", "+-1", "0x",
	"0x1f", "08", "009", "12abc", "1 2", "abc", " ", "\0011", "1\x80",
	"2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295",
	"4294967296", "-4294967295", "-4294967296",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"-9223372036854775809", "18446744073709551615", "18446744073709551616",
	"-18446744073709551615", "-18446744073709551616", "99999999999999999999999",
	"000000000000000000000000000009223372036854775807", "-1", "+18446744073709551615",
};

/* One string through all four against libc: value, end and errno. */
static int same_strto(const char *s)
{
	char *e1, *e2;
	int bad = 0, x1, x2;

#define ONE(ours, theirs) do { \
		errno = 0; \
		__typeof__(theirs(s, &e2, 10)) a = ours(s, &e1); \
		x1 = errno; \
		errno = 0; \
		__typeof__(a) b = theirs(s, &e2, 10); \
		x2 = errno; \
		if (a != b || e1 != e2 || x1 != x2) { \
			fprintf(stderr, "%s(\"%s\"): %lld end %td errno %d, libc %lld end %td errno %d\n", \
				#ours, s, (long long)a, e1 - s, x1, (long long)b, e2 - s, x2); \
			bad++; \
		} \
		a = ours(s, NULL); \
		bad += a != b; \
	} while (0)
	ONE(num_strtol, strtol);
	ONE(num_strtoul, strtoul);
	ONE(num_strtoll, strtoll);
	ONE(num_strtoull, strtoull);
#undef ONE
	return bad;
}

/* n random bytes from set (embedded NULs end the string early). */
static void gen(char *s, int n, const char *set)
{
	size_t k = strlen(set);
	int i;

	for (i = 0; i < n; i++)
		s[i] = set[(size_t)rand() % k];
	s[n] = '\0';
}

void test_numint_strto(void)
{
	size_t i;
	int bad = 0;
	char s[64];

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		bad += same_strto(edge[i]);
	CHECK(bad == 0);
	srand(1201);
	for (i = 0, bad = 0; i < 20000; i++) {
		gen(s, rand() % 24, i % 2 ? "0123456789" : " \t+-0123456789x.a\n");
		bad += same_strto(s);
	}
	CHECK(bad == 0);
	/* Around every power of ten and the limits, both signs. */
	for (i = 0, bad = 0; i < 2000; i++) {
		unsigned long long v = (unsigned long long)rand() << 33 ^ (unsigned long long)rand() << 11 ^
			(unsigned long long)rand();

		snprintf(s, sizeof(s), "%s%llu%s", i % 3 ? "" : "-", v >> (rand() % 64), i % 5 ? "" : "z");
		bad += same_strto(s);
	}
	CHECK(bad == 0);
}

void test_numint_atoi(void)
{
	size_t i;
	int bad = 0;
	char s[32];
	long v;

	srand(1202);
	for (i = 0; i < 20000; i++) {
		if (i % 2)
			snprintf(s, sizeof(s), "%s%d%s", i % 3 ? " " : "", (int)((unsigned)rand() << 1 ^ (unsigned)rand()),
				 i % 7 ? "" : "x9");
		else
			gen(s, rand() % 11, " +-0123456789");
		v = strtol(s, NULL, 10);
		if (v >= INT_MIN && v <= INT_MAX)   /* libc's is undefined past */
			bad += num_atoi(s) != atoi(s);
	}
	CHECK(bad == 0);
	/* Past int's range: held there, so a range check sees it as out. */
	CHECK(num_atoi("2147483648") == INT_MAX);
	CHECK(num_atoi("4294967297") == INT_MAX);
	CHECK(num_atoi("-99999999999999999999") == INT_MIN);
	CHECK(num_atoi("") == 0 && num_atoi("x") == 0 && num_atoi(" -0") == 0);
	errno = 0;
	num_atoi("99999999999999999999");
	CHECK(errno == 0);
}

static int same_pton(int af, const char *s)
{
	unsigned char a[16], b[16];
	int r1, r2;

	memset(a, 0xee, sizeof(a));
	memset(b, 0xee, sizeof(b));
	r1 = num_pton(af, s, a);
	r2 = inet_pton(af, s, b);
	if (r1 != r2 || (r1 == 1 && memcmp(a, b, af == AF_INET ? 4 : 16))) {
		fprintf(stderr, "num_pton(%d, \"%s\") = %d, inet_pton %d\n", af, s, r1, r2);
		return 1;
	}
	return 0;
}

/* A random address text: groups, "::" and IPv4 tails, mostly valid. */
static void gen6(char *s, size_t n)
{
	int groups = rand() % 10, gap = rand() % 3 ? rand() % 9 : -1, i;
	size_t k = 0;

	for (i = 0; i < groups && k + 12 < n; i++) {
		if (i == gap)
			k += (size_t)snprintf(s + k, n - k, i ? ":" : "::");
		if (i == groups - 1 && rand() % 4 == 0)
			k += (size_t)snprintf(s + k, n - k, "%d.%d.%d.%d", rand() % 300, rand() % 256,
					      rand() % 256, rand() % (i % 2 ? 10 : 256));
		else
			k += (size_t)snprintf(s + k, n - k, rand() % 4 ? "%x" : "%05X", (unsigned)rand() % 0x1ffff);
		if (i < groups - 1)
			s[k++] = ':';
	}
	if (gap >= groups && k + 3 < n)
		k += (size_t)snprintf(s + k, n - k, "::");
	s[k] = '\0';
}

void test_numint_pton(void)
{
	static const char *const v[] = {
		"", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4",
		"1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "1.2.3.", ".1.2.3", "0x1.2.3.4",
		"1.2.3.4x", "127.1", "1234.1.1.1", "-1.2.3.4", "+1.2.3.4",
		"::", ":", ":::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::2:3:4:5:6:7", "1::2::3", "1:::2",
		"::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
		"1:2:3:4:5::1.2.3.4", "1:2:3:4:5:6::1.2.3.4", "::ffff:01.2.3.4", "::ffff:1.2.3",
		"::1.2.3.4:1", "fe80::1%eth0", "12345::", "0000:0000::", "ABCD:ef01::G",
		"1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7", "[::1]", "::a.b.c.d", "1:2:3:4:5:6:7:8::",
	};
	size_t i;
	int bad = 0;
	char s[80];
	unsigned char d[16];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		bad += same_pton(AF_INET, v[i]) + same_pton(AF_INET6, v[i]);
	CHECK(bad == 0);
	srand(1203);
	for (i = 0, bad = 0; i < 20000; i++) {
		if (i % 3 == 0)
			gen(s, rand() % 18, "0123456789.");
		else if (i % 3 == 1)
			gen(s, rand() % 20, "0123:af.:F1");
		else
			gen6(s, sizeof(s));
		bad += same_pton(AF_INET, s) + same_pton(AF_INET6, s);
	}
	CHECK(bad == 0);
	errno = 0;
	CHECK(num_pton(AF_UNIX, "1.2.3.4", d) == -1 && errno == EAFNOSUPPORT);
}

/* glibc's inet_aton takes what follows a blank as a comment and "0x"
 * without digits as 0; musl's (and num_aton) refuse both. */
static int libc_differs(const char *s)
{
#ifdef __GLIBC__
	const char *x;

	if (strpbrk(s, " \t\n\v\f\r"))
		return 1;
	for (x = s; (x = strpbrk(x, "xX")); x++)
		if (x > s && x[-1] == '0' && !strchr("0123456789abcdefABCDEF", x[1] ? x[1] : '-'))
			return 1;
#else
	(void)s;
#endif
	return 0;
}

static int same_aton(const char *s)
{
	struct in_addr b;
	unsigned char a[4];
	int r1, r2;

	if (libc_differs(s))
		return 0;
	r1 = num_aton(s, a);
	r2 = inet_aton(s, &b);
	if (r1 != r2 || (r1 && memcmp(a, &b, 4))) {
		fprintf(stderr, "num_aton(\"%s\") = %d, inet_aton %d\n", s, r1, r2);
		return 1;
	}
	return 0;
}

void test_numint_aton(void)
{
	static const char *const v[] = {
		"", "1.2.3.4", "127.1", "10.1.2", "4294967295", "4294967296", "0x7f.1", "0X7F000001",
		"017700000001", "08", "0.0.0.08", "1.2.3.4.", "1.2.3.4.5", "1..2", ".1", "1.",
		"256.1", "1.16777215", "1.16777216", "1.2.65535", "1.2.65536", "0xffffffff",
		"0x100000000", "0x", "0x.1", "1.0xg", "-1", "+1", "1.2.3.256", "00000000000000000001",
		"99999999999999999999999", "0x00000000000000000000ff", "1a", "0.0.0.0", "0377.0xff.255.0",
	};
	size_t i;
	int bad = 0;
	char s[40];
	unsigned char a[4];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		bad += same_aton(v[i]);
	CHECK(bad == 0);
	srand(1204);
	for (i = 0, bad = 0; i < 30000; i++) {
		gen(s, rand() % 16, i % 2 ? "0123456789." : "0123456789.xXabfg8");
		bad += same_aton(s);
	}
	CHECK(bad == 0);
	CHECK(num_aton("127.1", a) == 1 && !memcmp(a, "\x7f\0\0\1", 4));
	CHECK(num_aton("1.2.3.4 x", a) == 0 && num_aton("0x", a) == 0);
}
