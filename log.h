/* log.h - one line per event on stderr, with a time and a level.
 *
 * Nothing secret is ever passed here: tokens are named, never printed. */
#ifndef NESTD_LOG_H
#define NESTD_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

extern enum log_level log_threshold;

/* "debug", "info", "warn", "error": 0, or -1 for anything else. */
int log_set_level(const char *name);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct tm;
/* "YYYY-MM-DD" sep "HH:MM:SS" of tm into out (strftime's "%Y-%m-%d %H:%M:%S"
 * without pulling strftime into the static binary); its length. */
int log_fmt_tm(char *out, unsigned long n, const struct tm *tm, char sep);

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
