/* fuzz_fmt.c - libFuzzer differential target: fmt.c against the C
 * library's snprintf.
 *
 * The input drives a small grammar of what fmt.h says it does: literal text
 * (with %%), then one conversion of d i u o x X c s f F p with any of the
 * flags - + space 0 (0, + and space not where C leaves them undefined), a
 * width (digits or *, the * value possibly negative), a precision
 * (digits or *, possibly negative or INT_MIN; at most 30 for f, as fmt.h
 * says), the length that fits the conversion, and an argument of that
 * type taken from the input (any double bits: NaN, inf, subnormals).  Both
 * are called with the same format and arguments into buffers of a size
 * the input picks (truncation); abort unless the return values and every
 * byte written, and the bytes just past the buffer, are the same.  Literal
 * text with %% on both sides of the conversion checks that the parse goes
 * on in the right place; up to 16 formats per input. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t take64(struct in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | take(in);
	return v;
}

/* The kinds of argument a conversion takes. */
enum kind { K_INT, K_LONG, K_LLONG, K_DOUBLE, K_STR, K_PTR };

struct conv {
	char spec[40];        /* "%...c" */
	enum kind kind;
	int nstar;            /* '*' arguments before the value */
	int star[2];
	long long iv;
	double dv;
	char str[24];
};

/* A '*' argument: mostly small, negative too; INT_MIN for a precision
 * only (as a width it is a 2 GiB field glibc takes seconds to count out:
 * test_fmt checks fmt's answer to that one). */
static int star_value(struct in *in, int prec)
{
	unsigned c = take(in);

	if (c == 0xff && prec)
		return INT_MIN;
	if (c == 0xfe)
		return -1;
	return (int)(c % 80) - 20;
}

/* Flags, width and precision, then the length and conversion letter. */
static void build(struct in *in, struct conv *cv)
{
	static const char convs[] = "diuoxXcsfFp";
	static const char *const ilen[] = { "", "hh", "h", "l", "ll", "z", "j", "t" };
	char c = convs[take(in) % (sizeof(convs) - 1)], *s = cv->spec;
	unsigned fl = take(in), w = take(in), pr = take(in), ln = take(in) % 8;
	int dbl = c == 'f' || c == 'F', nozero = c == 'c' || c == 's' || c == 'p';

	memset(cv, 0, sizeof(*cv));
	s = cv->spec;
	*s++ = '%';
	if (fl & 1) *s++ = '-';
	if ((fl & 2) && c != 'p') *s++ = '+';
	if ((fl & 4) && c != 'p') *s++ = ' ';
	if ((fl & 8) && !nozero) *s++ = '0';
	if (w & 0x80) {
		*s++ = '*';
		cv->star[cv->nstar++] = star_value(in, 0);
	} else if (w & 0x40) {
		s += sprintf(s, "%u", w % 48);
	}
	if (pr & 0x80) {
		*s++ = '.';
		*s++ = '*';
		cv->star[cv->nstar] = star_value(in, 1);
		if (dbl && cv->star[cv->nstar] > 30)
			cv->star[cv->nstar] = 30;
		cv->nstar++;
	} else if (pr & 0x40 && c != 'p') {
		s += sprintf(s, ".%u", dbl ? pr % 31 : pr % 40);
	} else if (pr & 0x20 && c != 'p') {
		*s++ = '.';
	}
	cv->kind = c == 's' ? K_STR : c == 'p' ? K_PTR : dbl ? K_DOUBLE : K_INT;
	if (cv->kind == K_INT && c != 'c') {
		s += sprintf(s, "%s", ilen[ln]);
		if (ln == 3 || ln == 5 || ln == 7)
			cv->kind = K_LONG;
		else if (ln == 4 || ln == 6)
			cv->kind = K_LLONG;
	}
	*s++ = c;
	*s = '\0';
	if (cv->kind == K_DOUBLE) {
		uint64_t b = take64(in);

		memcpy(&cv->dv, &b, sizeof(b));
	} else if (cv->kind == K_STR) {
		size_t i, n = take(in) % sizeof(cv->str);

		for (i = 0; i < n; i++)
			cv->str[i] = (char)(take(in) % 95 + 32);
	} else {
		cv->iv = (long long)take64(in);
		if (take(in) & 1)   /* the edges: 0, the most negative */
			cv->iv = take(in) & 1 ? LLONG_MIN : (long long)INT_MIN;
	}
}

/* f(buf, n, fmt, [stars...], value) for both printers: one call site per
 * shape of the argument list. */
#define CALL(F, B, N, FMT, CV, V) \
	((CV)->nstar == 0 ? F(B, N, FMT, V) : \
	 (CV)->nstar == 1 ? F(B, N, FMT, (CV)->star[0], V) : \
	 F(B, N, FMT, (CV)->star[0], (CV)->star[1], V))

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat"

static int one(char *b, size_t n, const char *f, const struct conv *cv, int ours)
{
	switch (cv->kind) {
	case K_INT:
		return ours ? CALL(fmt_snprintf, b, n, f, cv, (int)cv->iv) : CALL(snprintf, b, n, f, cv, (int)cv->iv);
	case K_LONG:
		return ours ? CALL(fmt_snprintf, b, n, f, cv, (long)cv->iv) : CALL(snprintf, b, n, f, cv, (long)cv->iv);
	case K_LLONG:
		return ours ? CALL(fmt_snprintf, b, n, f, cv, cv->iv) : CALL(snprintf, b, n, f, cv, cv->iv);
	case K_DOUBLE:
		return ours ? CALL(fmt_snprintf, b, n, f, cv, cv->dv) : CALL(snprintf, b, n, f, cv, cv->dv);
	case K_STR:
		return ours ? CALL(fmt_snprintf, b, n, f, cv, cv->str) : CALL(snprintf, b, n, f, cv, cv->str);
	default:   /* glibc prints NULL as (nil): fmt.h promises only the rest */
		return ours ? CALL(fmt_snprintf, b, n, f, cv, (void *)(uintptr_t)(cv->iv | 1))
			    : CALL(snprintf, b, n, f, cv, (void *)(uintptr_t)(cv->iv | 1));
	}
}

/* Literal text: printable bytes, a %% now and then. */
static void literal(struct in *in, char *s, size_t room)
{
	size_t i = 0, n = take(in) % 8;

	while (n-- && i + 3 < room) {
		unsigned c = take(in);

		if (c % 16 == 0) {
			s[i++] = '%';
			s[i++] = '%';
		} else {
			s[i++] = (char)(c % 95 + 32);
			if (s[i - 1] == '%')
				s[i - 1] = '#';
		}
	}
	s[i] = '\0';
}

static void compare(const char *f, const struct conv *cv, size_t n)
{
	static char mine[8192 + 16], theirs[8192 + 16];
	int a, b;

	size_t span = n + 16;   /* what may be written, and past it */

	memset(mine, 'Q', span);
	memset(theirs, 'Q', span);
	a = one(mine, n, f, cv, 1);
	b = one(theirs, n, f, cv, 0);
	if (b < 0 || b >= 8191)   /* no promise past what the buffer shows */
		return;
	if (a != b || memcmp(mine, theirs, span)) {
		fprintf(stderr, "fmt %s: ours %d \"%.*s\" libc %d \"%.*s\"\n", f, a,
			(int)n, mine, b, (int)n, theirs);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct conv cv;
	char f[160];
	size_t k, n;

	for (int round = 0; in.n && round < 16; round++) {
		literal(&in, f, 40);
		build(&in, &cv);
		k = strlen(f);
		memcpy(f + k, cv.spec, strlen(cv.spec) + 1);
		literal(&in, f + strlen(f), 40);
		n = take(&in);
		n = n == 0xff ? 8192 : n % 64;   /* often less than the output */
		compare(f, &cv, n);
	}
	return 0;
}
