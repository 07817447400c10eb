/* utf8.h - incremental UTF-8 validation (RFC 3629), for WebSocket text
 * frames (RFC 6455 5.6, 8.1), which may split a character anywhere. */
#ifndef NESTD_UTF8_H
#define NESTD_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_ACCEPT 0   /* at a character boundary: valid so far */
#define UTF8_REJECT 1   /* invalid; sticky */

/* Feeds one byte.  Any state other than ACCEPT and REJECT means "inside a
 * character".  REJECT is returned on the first byte that cannot be part of
 * any valid continuation, so callers can fail fast. */
uint32_t utf8_step(uint32_t state, unsigned char byte);
/* Runs a whole chunk from state; returns the new state (REJECT early). */
uint32_t utf8_run(uint32_t state, const void *p, size_t n);
/* 1 if p[0..n) is complete, valid UTF-8. */
int utf8_valid(const void *p, size_t n);

#endif
