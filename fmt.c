/* fmt.c - a small vfprintf for the static binary.
 *
 * musl's vfprintf (with its exact %e/%f/%g/%a engine) is ~12 KB of the
 * static binary; nestd's formats need much less: %d %i %u %x %X %o %c %s %%
 * with the flags - 0 + space, a width and a precision (digits or *), the
 * length modifiers hh h l ll z j t, and %f with a precision.  Built with
 * -DNESTD_OWN_PRINTF (make static), fmt_vfprintf is vfprintf itself, so
 * musl's printf, fprintf, snprintf, vsnprintf... all come here.  Elsewhere
 * it is only exercised by the unit tests, against the C library.
 *
 * %f: integer part and fraction split (exact), the fraction times
 * 10^precision rounded to nearest-even in long double (64-bit mantissa:
 * exact for a double's fraction up to precision 4, within 2^-64 beyond):
 * the same digits as an exact printf for every value below 1.8e19 at the
 * precisions nestd uses (0 to 3, and 6).  Larger values (never formatted
 * by nestd: sizes, loads, seconds) get the right magnitude with the low
 * digits from long double division.  %g, %e, %a, %p, %n are not supported: they
 * print as written, and nestd's own code never uses them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

struct out {
	FILE *f;
	int n, total, err;
	char buf[120];
};

static void flush(struct out *o)
{
	if (o->n && fwrite(o->buf, 1, (size_t)o->n, o->f) != (size_t)o->n)
		o->err = 1;
	o->n = 0;
}

static void put(struct out *o, const char *s, size_t n)
{
	o->total += (int)n;
	while (n) {
		size_t k = sizeof(o->buf) - (size_t)o->n;

		if (k > n)
			k = n;
		memcpy(o->buf + o->n, s, k);
		o->n += (int)k;
		s += k;
		n -= k;
		if (o->n == (int)sizeof(o->buf))
			flush(o);
	}
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, &c, 1);
}

int fmt_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	struct out o;

	o.f = f;
	o.n = o.total = o.err = 0;
	for (; *fmt; fmt++) {
		char tmp[80], *e = tmp + sizeof(tmp), *s = e, sign = 0;
		const char *str;
		int left = 0, zero = 0, width = 0, prec = -1, lng = 0, nd;
		unsigned long long u = 0;
		unsigned base = 10;
		size_t len;

		if (*fmt != '%') {
			str = strchr(fmt, '%');
			len = str ? (size_t)(str - fmt) : strlen(fmt);
			put(&o, fmt, len);
			fmt += len - 1;
			continue;
		}
		str = fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				zero = 1;
			else if (*fmt == '+')
				sign = '+';
			else if (*fmt == ' ')
				sign = sign ? sign : ' ';
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			fmt++;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		if (*fmt == '.') {
			prec = 0;
			if (*++fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			for (; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (*fmt - '0');
		}
		for (; strchr("hlzjt", *fmt) && *fmt; fmt++)
			lng += *fmt == 'h' ? -1 : 1;
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = lng > 0 ? va_arg(ap, long long) : va_arg(ap, int);

			if (lng == -1)
				v = (short)v;
			else if (lng < -1)
				v = (signed char)v;
			if (v < 0)
				sign = '-';
			u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
			goto number;
		}
		case 'o':
			base = 8;
			goto unsig;
		case 'x':
		case 'X':
			base = 16;
			/* fall through */
		case 'u':
		unsig:
			sign = 0;
			u = lng > 0 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng < -1)
				u = (unsigned char)u;
		number:
			if (prec >= 0)
				zero = 0;
			for (; u; u /= base)
				*--s = "0123456789abcdef"[u % base] ^ (*fmt == 'X' ? 0x20 * (u % base > 9) : 0);
			for (nd = prec < 0 ? 1 : prec; e - s < nd;)
				*--s = '0';
			break;
		case 'f':
		case 'F': {
			long double x = va_arg(ap, double), y, p10 = 1;
			int i;

			if (prec < 0)
				prec = 6;
			if (prec > 40)
				prec = 40;
			if (__builtin_signbit(x)) {
				sign = '-';
				x = -x;
			}
			if (x != x || x > 1.7976931348623157e308L) {
				str = x != x ? "nan" : "inf";
				s = e - 3;
				memcpy(s, str, 3);
				zero = 0;
				break;
			}
			/* Integer part and fraction apart (both exact in long
			 * double); the fraction times 10^prec rounded to even; at
			 * precision 0 the whole value is. */
			y = prec ? __builtin_floorl(x) : __builtin_rintl(x);
			for (i = 0; i < prec; i++)
				p10 *= 10;
			if (prec) {
				long double fr = __builtin_rintl((x - y) * p10);

				if (fr >= p10) {
					fr -= p10;
					y += 1;
				}
				for (u = (unsigned long long)fr, i = 0; i < prec; i++, u /= 10)
					*--s = (char)('0' + u % 10);
				*--s = '.';
			}
			if (y < 18446744073709551616.0L) {
				u = (unsigned long long)y;
				do
					*--s = (char)('0' + u % 10);
				while (u /= 10);
			} else {
				/* Beyond what nestd formats: magnitude right, low digits not. */
				for (; y >= 1 && s > tmp + 1; y = __builtin_floorl(y / 10))
					*--s = (char)('0' + (int)(y - __builtin_floorl(y / 10) * 10));
			}
			break;
		}
		case 'c':
			*--s = (char)va_arg(ap, int);
			sign = 0;
			zero = 0;
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			len = prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str);
			nd = width > (int)len ? width - (int)len : 0;
			if (!left)
				pad(&o, ' ', nd);
			put(&o, str, len);
			if (left)
				pad(&o, ' ', nd);
			continue;
		case '%':
			put(&o, "%", 1);
			continue;
		default:
			/* Not ours: as written (a bare '%' at the end too). */
			put(&o, str, (size_t)(fmt - str) + (*fmt != '\0'));
			if (!*fmt)
				fmt--;
			continue;
		}
		/* sign, padding, digits */
		nd = (int)(e - s) + (sign != 0);
		if (left || !zero) {
			if (!left)
				pad(&o, ' ', width - nd);
			if (sign)
				put(&o, &sign, 1);
		} else {
			if (sign)
				put(&o, &sign, 1);
			pad(&o, '0', width - nd);
		}
		put(&o, s, (size_t)(e - s));
		if (left)
			pad(&o, ' ', width - nd);
	}
	flush(&o);
	return o.err ? -1 : o.total;
}

#ifdef NESTD_OWN_PRINTF
int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	return fmt_vfprintf(f, fmt, ap);
}
#endif
