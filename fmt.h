/* fmt.h - printf's formatting, by hand, for every printf-family call of
 * nestd (glibc and musl builds alike, so both print the same bytes).
 *
 * Why: libc's vfprintf is the largest single piece of musl in the static
 * binaries (10.5 KB, most of it the long-double float code of %e/%g/%a and
 * wide characters nestd never prints); this is ~2 KB.  It does what nestd
 * prints: flags - 0 + space, a width and a precision (numbers or *), the
 * lengths hh h l ll z j t, and the conversions d i u o x X c s p % and f F
 * (exact: the value's binary expansion rounded half to even, as glibc and
 * musl do; inf and nan as they spell them; a precision above 30 is taken
 * as 30).  Not %e, %g, %a, %n, %m, '#' or wide characters.  A length past
 * INT_MAX returns -1, as C's does.  test_fmt compares every supported form
 * with libc's snprintf, and fuzz_fmt random ones. */
#ifndef NESTD_FMT_H
#define NESTD_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* As C's vsnprintf/snprintf: at most n bytes into out, NUL-terminated when
 * n > 0; the length the whole output has (which may be n or more). */
int fmt_vsnprintf(char *out, size_t n, const char *fmt, va_list ap);
int fmt_snprintf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* fmt_snprintf(out, n, "%s", s) without the format: s (NULL as "(null)")
 * cut to n - 1 bytes, NUL-terminated when n > 0. */
void fmt_copy(char *out, size_t n, const char *s);

#endif
