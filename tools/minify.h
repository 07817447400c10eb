/* tools/minify.h - the build-time JS/CSS minifier (tools/minify.c). */
#ifndef NESTD_TOOLS_MINIFY_H
#define NESTD_TOOLS_MINIFY_H

#include <stddef.h>

enum { MINIFY_JS, MINIFY_CSS, MINIFY_SH };

/* Minifies in[0..n) (kind: MINIFY_*) into out, which must hold n + 1
 * bytes; *outn its length.  0, or -1 with a message naming the line in err
 * when the input does not tokenize. */
int minify(int kind, const char *in, size_t n, char *out, size_t *outn, char *err, size_t errlen);

#endif
