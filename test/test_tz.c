/* test_tz.c - tz.c against the C library's localtime_r and mktime (glibc
 * here, reading the same TZif files of Debian's tzdata): every field of
 * the broken-down time, the offset, DST flag and abbreviation, over two
 * centuries of times (1900-2100: the files' 64-bit transitions, and their
 * footer's rule after 2037; 1970-2100 for TZ's own rules, which glibc
 * applies to no earlier year) in zones of every kind (DST in either
 * hemisphere, half- and quarter-hour offsets, a zone that dropped DST, a
 * file named by path and by ':'), and TZ's POSIX rules of every form (M,
 * J and n dates, times, quoted names); mktime on every time that has one
 * reading (away from a change).  Then the readings tz.h promises where a
 * change skips or repeats the hour, where glibc and musl differ. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "t.h"
#include "tz.h"

void test_tz_files(void);
void test_tz_rules(void);
void test_tz_changes(void);

static int same_tm(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon && a->tm_mday == b->tm_mday &&
	       a->tm_hour == b->tm_hour && a->tm_min == b->tm_min && a->tm_sec == b->tm_sec &&
	       a->tm_wday == b->tm_wday && a->tm_yday == b->tm_yday && a->tm_isdst == b->tm_isdst &&
	       a->tm_gmtoff == b->tm_gmtoff && !strcmp(a->tm_zone ? a->tm_zone : "", b->tm_zone ? b->tm_zone : "");
}

/* Both libraries from `from` to 2100 in zone tz: the count of differences. */
static int compare_zone(const char *tz, long long from)
{
	long long t, step = 11 * 3600 + 1234;   /* every hour of the day in turn */
	int bad = 0;

	setenv("TZ", tz, 1);
	tzset();
	for (t = from; t < 4102444800LL; t += step) {
		time_t tt = (time_t)t;
		struct tm want, got, m1, m2;
		long long back;

		if (!localtime_r(&tt, &want))
			continue;
		tz_localtime(t, &got);
		if (!same_tm(&got, &want)) {
			if (bad++ < 5)
				fprintf(stderr, "tz %s at %lld: got %04d-%02d-%02d %02d:%02d:%02d %s %ld dst %d,"
					" libc %04d-%02d-%02d %02d:%02d:%02d %s %ld dst %d\n", tz, t,
					got.tm_year + 1900, got.tm_mon + 1, got.tm_mday, got.tm_hour, got.tm_min,
					got.tm_sec, got.tm_zone, got.tm_gmtoff, got.tm_isdst, want.tm_year + 1900,
					want.tm_mon + 1, want.tm_mday, want.tm_hour, want.tm_min, want.tm_sec,
					want.tm_zone, want.tm_gmtoff, want.tm_isdst);
			continue;
		}
		/* mktime where the time has one reading: no change within 2 h */
		{
			time_t a = (time_t)(t - 7200), b = (time_t)(t + 7200);
			struct tm ta, tb;

			localtime_r(&a, &ta);
			localtime_r(&b, &tb);
			if (ta.tm_gmtoff != tb.tm_gmtoff)
				continue;
		}
		m1 = want;
		m1.tm_isdst = -1;
		m2 = m1;
		back = tz_mktime(&m2);
		if (back != t || (long long)mktime(&m1) != t || !same_tm(&m2, &want)) {
			if (bad++ < 5)
				fprintf(stderr, "tz %s: mktime of %lld gave %lld\n", tz, t, back);
		}
	}
	return bad;
}

void test_tz_files(void)
{
	static const char *const zones[] = {
		"Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
		"America/Sao_Paulo", "Pacific/Chatham", "Asia/Kathmandu", "Europe/Dublin",
		"America/St_Johns", "Pacific/Apia", ":Europe/London", "/usr/share/zoneinfo/Asia/Tokyo",
		"Etc/GMT+5", "UTC",
	};
	size_t i;
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "rb");

	if (!f) {
		SKIP("no tzdata (/usr/share/zoneinfo)");
		return;
	}
	fclose(f);
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		int bad = compare_zone(zones[i], -2208988800LL);

		CHECK(bad == 0);
		if (bad)
			fprintf(stderr, "tz %s: %d differences\n", zones[i], bad);
	}
	unsetenv("TZ");
	tzset();
	CHECK(compare_zone("", -2208988800LL) == 0);   /* TZ empty: UTC */
	unsetenv("TZ");
	CHECK(compare_zone("/etc/localtime", -2208988800LL) == 0);
}

void test_tz_rules(void)
{
	static const char *const rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3", "NZST-12NZDT,M9.5.0,M4.1.0/3",
		"<+0330>-3:30", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "AAA3BBB,J60/1,J300/23:30:30",
		"AAA-2BBB-3:15,59/0,300/25", "XST5XDT4,M4.1.0/2,M10.5.0/2", "JST-9",
		"ABC+5:45:30", "EEE-2FFF,M3.5.4/24,M10.5.5/1",
	};
	size_t i;

	/* From 1970: glibc applies a POSIX rule's DST to no earlier year
	 * (musl, and tz.c, to every year). */
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		int bad = compare_zone(rules[i], 0);

		CHECK(bad == 0);
		if (bad)
			fprintf(stderr, "tz %s: %d differences\n", rules[i], bad);
	}
	unsetenv("TZ");
	tzset();
}

/* Paris, 2024: 31 March 02:00-03:00 does not exist, 27 October 02:00-03:00
 * happens twice. */
void test_tz_changes(void)
{
	struct tm tm;
	char zone[8];

	setenv("TZ", "Europe/Paris", 1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 124, tm.tm_mon = 2, tm.tm_mday = 31, tm.tm_hour = 2, tm.tm_min = 30;
	tm.tm_isdst = -1;
	/* skipped: read with the offset before (CET, +1), so 01:30 UTC = 03:30 CEST */
	CHECK(tz_mktime(&tm) == 1711848600LL);
	CHECK(tm.tm_hour == 3 && tm.tm_min == 30 && tm.tm_isdst == 1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 124, tm.tm_mon = 9, tm.tm_mday = 27, tm.tm_hour = 2, tm.tm_min = 30;
	tm.tm_isdst = -1;
	/* repeated: its first occurrence, in CEST (00:30 UTC) */
	CHECK(tz_mktime(&tm) == 1729989000LL);
	snprintf(zone, sizeof(zone), "%s", tm.tm_zone);
	CHECK(tm.tm_isdst == 1 && !strcmp(zone, "CEST"));
	/* out of range fields are carried, as mktime does: 2024-14-01 is 2025-02-01 */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 124, tm.tm_mon = 13, tm.tm_mday = 1, tm.tm_hour = 12, tm.tm_isdst = -1;
	CHECK(tz_mktime(&tm) == 1738407600LL && tm.tm_year == 125 && tm.tm_mon == 1);
	/* a zone that does not exist, or a TZif that is not one: UTC */
	setenv("TZ", "No/Such_Zone", 1);
	CHECK(tz_localtime(1000, &tm)->tm_gmtoff == 0 && tm.tm_hour == 0 && tm.tm_min == 16);
	setenv("TZ", "/etc/hostname", 1);
	CHECK(tz_localtime(1000, &tm)->tm_gmtoff == 0);
	unsetenv("TZ");
}
