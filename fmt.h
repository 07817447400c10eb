/* fmt.h - a small vfprintf (see fmt.c); vfprintf itself in the static
 * build, where it keeps musl's ~12 KB printf engine out of the binary. */
#ifndef NESTD_FMT_H
#define NESTD_FMT_H

#include <stdarg.h>
#include <stdio.h>

int fmt_vfprintf(FILE *f, const char *fmt, va_list ap);

/* strtod for decimal text (blanks, sign, digits, '.', exponent; no hex,
 * inf or nan: those convert nothing).  Correctly rounded when the digits
 * fit 2^53 and the exponent is within 10^+-22 (every number nestd reads:
 * timeouts, durations, /proc values); otherwise through long double, which
 * can differ from an exact strtod by one unit in the last place.  ERANGE
 * on overflow and on underflow to zero.  strtod itself in the static build. */
double fmt_strtod(const char *s, char **end);

#endif
