/* tz.h - local time, by our own reader of the time zone: musl's __tz
 * (what localtime_r and mktime bring into the static binaries, ~5 KB) for
 * the two conversions nestd makes (OpenRC's local start times into
 * seconds, ctl's times to the operator's clock).
 *
 * The zone is musl's choice: TZ unset, /etc/localtime; TZ empty, UTC; TZ
 * starting with ':' or holding a '/' before any ',', a TZif file (an
 * absolute path, or a name under /usr/share/zoneinfo/, /share/zoneinfo/
 * or /etc/zoneinfo/); else TZ is a POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+0330>-3:30"; a DST name without a rule takes the US one, M3.2.0,M11.1.0).
 * A TZif file of version 2 or later is read in its 64-bit part, and its
 * footer's rule serves for the times after its last transition; before
 * the first, its first standard type.  A zone that cannot be read is UTC.
 * Read again when TZ changes.  test_tz compares both with the C library's
 * localtime_r and mktime over years of times in several zones. */
#ifndef NESTD_TZ_H
#define NESTD_TZ_H

#include <time.h>

/* As localtime_r: t as local time into tm (tm_zone points into storage
 * of tz.c's, valid until the zone changes); tm. */
struct tm *tz_localtime(long long t, struct tm *tm);
/* As mktime for tm_isdst < 0: tm (fields out of range allowed) read as
 * local time; the seconds since the epoch, and tm normalised and filled in
 * as tz_localtime would.  A local time that a change skips is read with
 * the offset before it; one it repeats, as its first occurrence. */
long long tz_mktime(struct tm *tm);

#endif
