/* log.c - stderr logging, one line per call (see log.h).
 *
 * The line is built whole and written with one write(2) so that lines from
 * several processes sharing stderr do not interleave mid-line.  Control
 * characters in the message are replaced so a hostile process name cannot
 * forge extra log lines. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int log_level = LOGL_INFO;

void log_set_level(int level)
{
	log_level = level;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char line[1024];
	va_list ap;
	int n, k;

	if (level < log_level || level < LOGL_DEBUG || level > LOGL_ERROR)
		return;
	n = snprintf(line, sizeof(line), "nestd: %s: ", names[level]);
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	if ((size_t)k > sizeof(line) - (size_t)n - 2)
		k = (int)(sizeof(line) - (size_t)n - 2);
	for (k += n; n < k; n++)
		if ((unsigned char)line[n] < 0x20 || line[n] == 0x7f)
			line[n] = '?';
	line[k++] = '\n';
	if (write(2, line, (size_t)k) < 0) {
		/* nowhere left to complain */
	}
}
