/* log.h - one line per event on stderr, with a level: "nestd: warn: ...".
 *
 * Placeholder until the project grows a real logging module; the interface
 * is the one the rest of the agent codes against.  Never log a secret. */
#ifndef NESTD_LOG_H
#define NESTD_LOG_H

enum { LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

/* Messages below this level are dropped (default LOGL_INFO). */
void log_set_level(int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
