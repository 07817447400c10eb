/* fuzz_tz.c - libFuzzer target for tz.c: the input as a TZif file (read
 * through TZ=/path, as a zone is) when its first byte is odd, else as TZ's
 * POSIX rule text; then local times of a spread of instants, and mktime
 * of each.
 *
 * Properties checked (abort on violation):
 *  - no crash, and no read past the file's bytes (ASan);
 *  - every broken-down time is one: seconds, minutes, hours, day of the
 *    month, month, weekday and day of the year in their ranges, the DST
 *    flag 0 or 1, an abbreviation that is a string;
 *  - tz_mktime of a local time returns an instant whose local time, read
 *    again, is the one it filled in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

static int valid(const struct tm *tm)
{
	return tm->tm_sec >= 0 && tm->tm_sec <= 59 && tm->tm_min >= 0 && tm->tm_min <= 59 &&
	       tm->tm_hour >= 0 && tm->tm_hour <= 23 && tm->tm_mday >= 1 && tm->tm_mday <= 31 &&
	       tm->tm_mon >= 0 && tm->tm_mon <= 11 && tm->tm_wday >= 0 && tm->tm_wday <= 6 &&
	       tm->tm_yday >= 0 && tm->tm_yday <= 365 && (tm->tm_isdst == 0 || tm->tm_isdst == 1) &&
	       tm->tm_zone && strlen(tm->tm_zone) < 1 << 20;
}

static char path[64];

static void gone(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long long at[] = {
		-4000000000LL, -2208988800LL, -1, 0, 1, 946684800LL, 1711846800LL, 2147483647LL,
		2147483648LL, 4102444800LL, 32503680000LL,
	};
	char rule[256];
	size_t i;

	if (!size)
		return 0;
	if (data[0] & 1) {
		FILE *f;

		if (!path[0]) {
			snprintf(path, sizeof(path), "/tmp/fuzz_tz.%d", (int)getpid());
			atexit(gone);
		}
		f = fopen(path, "wb");
		if (!f)
			return 0;
		fwrite(data + 1, 1, size - 1, f);
		fclose(f);
		setenv("TZ", path, 1);
	} else {
		size_t n = size - 1 < sizeof(rule) - 1 ? size - 1 : sizeof(rule) - 1;

		memcpy(rule, data + 1, n);
		rule[n] = '\0';
		if (strchr(rule, '/') || rule[0] == ':')   /* a rule, not a file's name */
			return 0;
		setenv("TZ", rule, 1);
	}
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct tm tm, again;
		long long t;

		MUST(tz_localtime(at[i], &tm) == &tm && valid(&tm));
		tm.tm_isdst = -1;
		t = tz_mktime(&tm);
		MUST(valid(&tm));
		tz_localtime(t, &again);
		MUST(again.tm_hour == tm.tm_hour && again.tm_min == tm.tm_min && again.tm_mday == tm.tm_mday &&
		     again.tm_year == tm.tm_year);
	}
	return 0;
}
