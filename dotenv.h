/* dotenv.h - the ".env" form, as python-dotenv reads it: the original Nest
 * Management Bot's client kept its token in ~/.env.nest-management-bot
 * (CLIENT_TOKEN=..., and DEV=true, WS_URL=... for development), so nestd
 * reads that file as it is.  Text in, values out: no file is opened here.
 *
 * The rules (python-dotenv's parser): one binding a line, `KEY=VALUE`,
 * blanks around the key, the '=' and the value ignored; an optional
 * `export ` before the key; a key in single quotes; '#' starts a comment
 * at the beginning of a line or after a blank in an unquoted value; a
 * value in single quotes ('\\' and '\'' the only escapes) or double quotes
 * (\\ \' \" \a \b \f \n \r \t \v), which may span lines; an unquoted value
 * ends at the line's end, trailing blanks dropped.  A line that breaks the
 * rules is skipped, the rest still read; the last binding of a key wins.
 * Unlike python-dotenv, ${VAR} is not expanded: values are taken as
 * written. */
#ifndef NESTD_DOTENV_H
#define NESTD_DOTENV_H

#include <stddef.h>

#define DOTENV_ABSENT  (-1)   /* no binding of that key (or only `KEY` without '=') */
#define DOTENV_BAD     (-2)   /* its value does not fit out, or holds a NUL */

/* The value of key's last binding in text[0..n), decoded into out[0..cap)
 * and NUL-terminated: its length, or DOTENV_ABSENT / DOTENV_BAD (out ""). */
int dotenv_get(const char *text, size_t n, const char *key, char *out, size_t cap);

/* 1 when text holds at least one KEY=VALUE binding (a file in the .env form
 * rather than a bare token), else 0. */
int dotenv_has_binding(const char *text, size_t n);

#endif
