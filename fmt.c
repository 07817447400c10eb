/* fmt.c - printf's formatting, by hand (see fmt.h for what and why).
 *
 * One pass over the format; each conversion is rendered into a small
 * scratch (digits, sign, prefix) and then padded into the output, which
 * counts every byte but stores only what fits.  %f is exact: the double's
 * value m * 2^e times 10^precision, as m * 5^precision shifted by e +
 * precision bits and rounded half to even, in base-10^9 limbs wide enough
 * for the largest double (64-bit arithmetic only: no libgcc helpers). */
#include "fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *p;
	size_t cap, len;      /* len counts all bytes, stored or not */
};

/* The room left for bytes (one is kept for the NUL). */
static size_t room(const struct out *o, size_t k)
{
	size_t left = o->len + 1 < o->cap ? o->cap - 1 - o->len : 0;

	return k < left ? k : left;
}

/* k bytes of s (or k times the byte c when s is NULL): stored as far as
 * they fit, counted whole, so a width of INT_MAX costs no time. */
static void emit_any(struct out *o, const char *s, char c, size_t k)
{
	size_t r = room(o, k);

	if (r && s)
		memcpy(o->p + o->len, s, r);
	else if (r)
		memset(o->p + o->len, c, r);
	o->len += k;
}

static void emit(struct out *o, const char *s, size_t k)
{
	emit_any(o, s, 0, k);
}

static void emit_rep(struct out *o, char c, size_t k)
{
	emit_any(o, NULL, c, k);
}

/* One conversion's parts: [pre][zeros][body], padded to width. */
struct spec {
	int left, zero, plus, space;
	int width, prec;      /* prec -1: none given */
	char len;             /* 'H' hh, 'h', 'l', 'L' ll/j, 'z' size_t/ptrdiff_t */
};

static void field(struct out *o, const struct spec *sp, const char *pre, size_t npre,
		  size_t zeros, const char *body, size_t nbody)
{
	size_t all = npre + zeros + nbody, pad = sp->width > 0 && (size_t)sp->width > all ?
		     (size_t)sp->width - all : 0;

	if (!sp->left && !sp->zero)
		emit_rep(o, ' ', pad);
	emit(o, pre, npre);
	if (!sp->left && sp->zero)
		emit_rep(o, '0', pad);
	emit_rep(o, '0', zeros);
	emit(o, body, nbody);
	if (sp->left)
		emit_rep(o, ' ', pad);
}

/* v's digits in base, after the sign (neg, or the + and space flags) and
 * then "0x" when hexp (%p). */
static void put_int(struct out *o, struct spec *sp, unsigned long long v, int neg, int base, int upper,
		    int hexp)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char b[24], *e = b + sizeof(b), *s = e, pre[3];
	size_t npre = 0, nd, zeros = 0;

	while (v) {
		*--s = dig[v % (unsigned)base];
		v /= (unsigned)base;
	}
	if (s == e && sp->prec != 0)
		*--s = '0';
	if (neg)
		pre[npre++] = '-';
	else if (sp->plus)
		pre[npre++] = '+';
	else if (sp->space)
		pre[npre++] = ' ';
	if (hexp) {
		pre[npre++] = '0';
		pre[npre++] = 'x';
	}
	nd = (size_t)(e - s);
	if (sp->prec >= 0) {
		sp->zero = 0;   /* a precision turns the 0 flag off, as in C */
		if ((size_t)sp->prec > nd)
			zeros = (size_t)sp->prec - nd;
	}
	field(o, sp, pre, npre, zeros, s, nd);
}

/* ------------------------------------------------------------------ */
/* %f */

#define LIMBS 40          /* 10^360 > 2^1024 * 10^30 */
#define FIX_PREC_MAX 30

struct big {
	uint32_t l[LIMBS];    /* base 10^9, least significant first */
	int n;
};

static void big_set(struct big *b, uint64_t v)
{
	b->n = 0;
	do {
		b->l[b->n++] = (uint32_t)(v % 1000000000u);
		v /= 1000000000u;
	} while (v);
}

/* b = b * mul + add, mul <= 5, add <= 1. */
static void big_muladd(struct big *b, unsigned mul, unsigned add)
{
	uint64_t c = add;
	int i;

	for (i = 0; i < b->n; i++) {
		c += (uint64_t)b->l[i] * mul;
		b->l[i] = (uint32_t)(c % 1000000000u);
		c /= 1000000000u;
	}
	if (c && b->n < LIMBS)
		b->l[b->n++] = (uint32_t)c;
}

/* b /= 2^k, k <= 29; the k bits shifted out. */
static uint32_t big_shr(struct big *b, int k)
{
	uint64_t c = 0;
	int i;

	for (i = b->n - 1; i >= 0; i--) {
		uint64_t cur = c * 1000000000u + b->l[i];

		b->l[i] = (uint32_t)(cur >> k);
		c = cur & ((1u << k) - 1);
	}
	while (b->n > 1 && !b->l[b->n - 1])
		b->n--;
	return (uint32_t)c;
}

/* b *= 2^k, k <= 29 per step. */
static void big_shl(struct big *b, int k)
{
	while (k > 0) {
		int s = k > 29 ? 29 : k, i;
		uint64_t c = 0;

		for (i = 0; i < b->n; i++) {
			c += (uint64_t)b->l[i] << s;
			b->l[i] = (uint32_t)(c % 1000000000u);
			c /= 1000000000u;
		}
		if (c && b->n < LIMBS)
			b->l[b->n++] = (uint32_t)c;
		k -= s;
	}
}

/* The decimal digits of b into d (room for LIMBS * 9); their count. */
static size_t big_digits(const struct big *b, char *d)
{
	size_t k = 0;
	int i, j;

	for (i = b->n - 1; i >= 0; i--) {
		char t[9];
		uint32_t v = b->l[i];

		for (j = 8; j >= 0; j--, v /= 10)
			t[j] = (char)('0' + v % 10);
		for (j = 0; j < 9; j++)
			if (k || t[j] != '0' || (i == 0 && j == 8))
				d[k++] = t[j];
	}
	return k;
}

/* round(|v| * 10^prec), half to even, as decimal digits into d; their count. */
static size_t fixed_digits(uint64_t bits, int prec, char *d)
{
	uint64_t m = bits & ((1ull << 52) - 1);
	int ex = (int)(bits >> 52 & 0x7ff), sh, i;
	struct big b;

	if (ex)
		m |= 1ull << 52;
	sh = (ex ? ex - 1075 : -1074) + prec;   /* |v| * 10^prec = m * 5^prec * 2^sh */
	big_set(&b, m);
	for (i = 0; i < prec; i++)
		big_muladd(&b, 5, 0);
	if (sh >= 0) {
		big_shl(&b, sh);
	} else {
		/* All but the last bit out, remembering whether any was set;
		 * then the last: the half that decides, with ties to even. */
		int t = -sh, sticky = 0;

		for (; t > 1; t -= i) {
			i = t - 1 > 29 ? 29 : t - 1;
			sticky |= big_shr(&b, i) != 0;
		}
		if (big_shr(&b, 1) && (sticky || (b.l[0] & 1)))
			big_muladd(&b, 1, 1);
	}
	return big_digits(&b, d);
}

static void put_fixed(struct out *o, struct spec *sp, double v, int upper)
{
	char d[LIMBS * 9 + FIX_PREC_MAX + 2], body[sizeof(d) + 1], pre[1];
	uint64_t bits;
	size_t nd, nb = 0, npre = 0, i;
	int prec = sp->prec < 0 ? 6 : sp->prec > FIX_PREC_MAX ? FIX_PREC_MAX : sp->prec;

	memcpy(&bits, &v, sizeof(bits));
	if (bits >> 63)
		pre[npre++] = '-';
	else if (sp->plus)
		pre[npre++] = '+';
	else if (sp->space)
		pre[npre++] = ' ';
	if ((bits >> 52 & 0x7ff) == 0x7ff) {
		sp->zero = 0;
		field(o, sp, pre, npre, 0, (bits << 12) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"), 3);
		return;
	}
	nd = fixed_digits(bits, prec, d);
	if (nd <= (size_t)prec) {   /* at least one digit before the point */
		memmove(d + (size_t)prec + 1 - nd, d, nd);
		memset(d, '0', (size_t)prec + 1 - nd);
		nd = (size_t)prec + 1;
	}
	for (i = 0; i < nd; i++) {
		if (i == nd - (size_t)prec)
			body[nb++] = '.';
		body[nb++] = d[i];
	}
	field(o, sp, pre, npre, 0, body, nb);
}

/* ------------------------------------------------------------------ */
/* The format */

/* The digits at f into *v, saturated at INT32_MAX (no overflow however
 * long the run); past them. */
static const char *parse_num(const char *f, int *v)
{
	for (; *f >= '0' && *f <= '9'; f++)
		*v = *v > (INT32_MAX - 9) / 10 ? INT32_MAX : *v * 10 + (*f - '0');
	return f;
}

/* Flags, width, precision and length of the conversion at *f (past '%'). */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	memset(sp, 0, sizeof(*sp));
	sp->prec = -1;
	for (;; f++) {
		if (*f == '-')
			sp->left = 1;
		else if (*f == '0')
			sp->zero = 1;
		else if (*f == '+')
			sp->plus = 1;
		else if (*f == ' ')
			sp->space = 1;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {   /* -INT_MIN does not exist: one less */
			sp->left = 1;
			sp->width = sp->width == INT32_MIN ? INT32_MAX : -sp->width;
		}
		f++;
	} else
		f = parse_num(f, &sp->width);
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			if (sp->prec < 0)
				sp->prec = -1;
			f++;
		} else
			f = parse_num(f, &sp->prec);
	}
	if (sp->left)
		sp->zero = 0;
	if (*f == 'h')
		sp->len = *++f == 'h' ? (f++, 'H') : 'h';
	else if (*f == 'l')
		sp->len = *++f == 'l' ? (f++, 'L') : 'l';
	else if (*f == 'j')
		sp->len = 'L', f++;
	else if (*f == 'z' || *f == 't')
		sp->len = 'z', f++;
	return f;
}

static void put_signed(struct out *o, struct spec *sp, va_list *ap)
{
	long long v;

	if (sp->len == 'L')
		v = va_arg(*ap, long long);
	else if (sp->len == 'l' || sp->len == 'z')
		v = va_arg(*ap, long);
	else
		v = va_arg(*ap, int);
	if (sp->len == 'h')
		v = (short)v;
	else if (sp->len == 'H')
		v = (signed char)v;
	put_int(o, sp, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, v < 0, 10, 0, 0);
}

static void put_unsigned(struct out *o, struct spec *sp, va_list *ap, int base, int upper)
{
	unsigned long long v;

	if (sp->len == 'L')
		v = va_arg(*ap, unsigned long long);
	else if (sp->len == 'l' || sp->len == 'z')
		v = va_arg(*ap, unsigned long);
	else
		v = va_arg(*ap, unsigned);
	if (sp->len == 'h')
		v = (unsigned short)v;
	else if (sp->len == 'H')
		v = (unsigned char)v;
	sp->plus = sp->space = 0;   /* signs are for signed conversions only */
	put_int(o, sp, v, 0, base, upper, 0);
}

static void put_str(struct out *o, struct spec *sp, const char *s)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
	sp->zero = 0;
	field(o, sp, "", 0, 0, s, n);
}

static void conversion(struct out *o, struct spec *sp, char c, va_list *ap)
{
	char ch;

	switch (c) {
	case 'd': case 'i':
		put_signed(o, sp, ap);
		break;
	case 'u': case 'o': case 'x': case 'X':
		put_unsigned(o, sp, ap, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X');
		break;
	case 'p':   /* as glibc for a pointer that is not NULL: 0x in the field */
		sp->plus = sp->space = 0;
		put_int(o, sp, (uintptr_t)va_arg(*ap, void *), 0, 16, 0, 1);
		break;
	case 'c':
		ch = (char)va_arg(*ap, int);
		sp->zero = 0;
		field(o, sp, "", 0, 0, &ch, 1);
		break;
	case 's':
		put_str(o, sp, va_arg(*ap, const char *));
		break;
	case 'f': case 'F':
		put_fixed(o, sp, va_arg(*ap, double), c == 'F');
		break;
	default:   /* %% and what fmt.h says it does not do: as written */
		emit(o, c == '%' ? "%" : "%?", c == '%' ? 1 : 2);
	}
}

int fmt_vsnprintf(char *out, size_t n, const char *fmt, va_list ap)
{
	struct out o = { out, n, 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		const char *pct = strchr(fmt, '%');

		if (!pct) {
			emit(&o, fmt, strlen(fmt));
			break;
		}
		emit(&o, fmt, (size_t)(pct - fmt));
		fmt = parse_spec(pct + 1, &sp, &aq);
		if (!*fmt)
			break;
		conversion(&o, &sp, *fmt++, &aq);
	}
	va_end(aq);
	if (n)
		out[o.len < n ? o.len : n - 1] = '\0';
	return o.len > INT32_MAX ? -1 : (int)o.len;
}

int fmt_snprintf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fmt_vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return r;
}

void fmt_copy(char *out, size_t n, const char *s)
{
	size_t l;

	if (!n)
		return;
	if (!s)
		s = "(null)";
	l = strnlen(s, n - 1);
	memcpy(out, s, l);
	out[l] = '\0';
}
