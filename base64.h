/* base64.h - RFC 4648 section 4 base64 (standard alphabet, '=' padding). */
#ifndef NESTD_BASE64_H
#define NESTD_BASE64_H

#include <stddef.h>

/* Bytes base64_encode writes for n input bytes, NUL excluded. */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes BASE64_LEN(n) characters and a NUL to out; returns the length. */
size_t base64_encode(const void *in, size_t n, char *out);
/* Strict decode: length a multiple of 4, padding only at the end, no
 * whitespace, unused bits zero (RFC 4648 3.5).  Returns the byte count, or
 * -1 if the input is not canonical base64 or does not fit in cap. */
int base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
