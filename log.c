/* log.c - timestamped, levelled log lines on stderr.
 *
 * Each line is formatted whole and written with one write(2), so lines from
 * a server and its children never interleave mid-line.  Control characters
 * that a peer could smuggle into a logged string are shown as '?', so a log
 * line is always one line. */
#include "log.h"
#include "num.h"
#include "fmt.h"
#include "out.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_LVL_INFO;

static const char *const names[] = { "debug", "info", "warn", "error" };

int log_set_level(const char *name)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(name, names[i]) == 0) {
			log_threshold = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_fmt_tm(char *out, unsigned long n, const struct tm *tm, char sep)
{
	int r = fmt_snprintf(out, n, "%04d-%02d-%02d%c%02d:%02d:%02d", tm->tm_year + 1900, tm->tm_mon + 1,
			 tm->tm_mday, sep, tm->tm_hour, tm->tm_min, tm->tm_sec);

	return r < 0 ? 0 : (unsigned long)r < n ? r : n ? (int)n - 1 : 0;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n, i, start;

	if (lvl < log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	num_utc((long long)ts.tv_sec, &tm);
	n = (size_t)log_fmt_tm(line, sizeof(line), &tm, 'T');
	n += (size_t)fmt_snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: ",
			      ts.tv_nsec / 1000000, names[lvl]);
	start = n;
	va_start(ap, fmt);
	fmt_vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	for (i = start; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\n';
	out_fd_write(2, line, n);
}
