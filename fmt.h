/* fmt.h - a small vfprintf (see fmt.c); vfprintf itself in the static
 * build, where it keeps musl's ~12 KB printf engine out of the binary. */
#ifndef NESTD_FMT_H
#define NESTD_FMT_H

#include <stdarg.h>
#include <stdio.h>

int fmt_vfprintf(FILE *f, const char *fmt, va_list ap);

#endif
