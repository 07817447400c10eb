/* num.h - numbers to and from text, by hand.
 *
 * strtod and printf's %f are the two doors through which libc's float
 * parsing and formatting enter the static binaries (~6 KB for strtod's
 * alone in musl), and the /proc readers and the JSON writer call them per
 * value.  These cover what nestd reads and writes: plain decimal numbers. */
#ifndef NESTD_NUM_H
#define NESTD_NUM_H

#include <stddef.h>

/* [blanks] [+-] digits [. digits] [(e|E) [+-] digits], or [+-] . digits:
 * the value, *end past the last byte used (s itself when there is no
 * number: 0 returned).  No hexadecimal, inf or nan.  Exact for up to 15
 * significant digits and exponents within +-22 (every number nestd reads
 * in practice), within a few units in the last place beyond; +-HUGE_VAL
 * past the range of a double. */
double num_parse(const char *s, const char **end);
/* The same within s[0..n), which need not be NUL-terminated. */
double num_parsen(const char *s, size_t n, const char **end);

/* v with exactly `decimals` (0 to 9) digits after the point, rounded half
 * away from zero, NUL-terminated into out (room for 32 bytes); its length.
 * 0, nothing written, for what it does not do (more decimals, non-finite
 * values, |v| * 10^decimals of 2^63 or more): printf's %.*f is for those. */
size_t num_fixed(char *out, double v, int decimals);

/* Decimal digits of v ending at end (written backwards); the first one. */
char *num_u64(char *end, unsigned long long v);

/* gmtime_r's calendar fields (year, month, day, hour, minute, second,
 * weekday, day of the year; tm_isdst 0) of t seconds since the epoch, by
 * civil arithmetic: musl's gmtime_r carries its time-zone code along
 * (~5 KB).  num_days: the civil date y-m-d (m 1 to 12, d from 1) as days
 * since 1970-01-01, the other way. */
struct tm;
void num_utc(long long t, struct tm *tm);
long long num_days(long long y, int m, int d);

/* Base-10 integer parsing, libc's strto*(s, end, 10) exactly: [blanks]
 * [+-] digits; *end (when end is not NULL) past the digits, s itself when
 * there are none (0 returned); on overflow the limit, errno = ERANGE
 * (errno untouched otherwise); the unsigned ones negate a "-" value as
 * libc's do.  musl's strtol family, with its any-base scanner (~2.8 KB),
 * leaves the static binaries with these. */
long num_strtol(const char *s, char **end);
unsigned long num_strtoul(const char *s, char **end);
long long num_strtoll(const char *s, char **end);
unsigned long long num_strtoull(const char *s, char **end);
/* atoi: num_strtol's value, held to int's range (libc's is undefined or
 * wraps past it; a range check after it then sees the out-of-range value). */
int num_atoi(const char *s);

/* inet_pton: AF_INET's exact dotted quad (four decimal parts 0 to 255, no
 * leading zeros) or AF_INET6's text form (hex groups, one "::", an IPv4
 * tail) into dst (4 or 16 bytes); 1 done, 0 not an address, -1 (errno
 * EAFNOSUPPORT) another family. */
int num_pton(int af, const char *s, void *dst);
/* inet_aton as musl has it: one to four parts, each decimal, 0x hex or 0
 * octal starting with a digit, the last filling the bytes left (127.1 is
 * 127.0.0.1); 1 done, 0 not. */
int num_aton(const char *s, unsigned char out[4]);

#endif
