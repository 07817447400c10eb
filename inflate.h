/* inflate.h - a small DEFLATE (RFC 1951) and gzip (RFC 1952) decoder.
 *
 * Built for the files embedded gzip-compressed in the binary (the dashboard,
 * install.sh), which must still go out plain to a client that does not take
 * gzip.  Whole buffer in, whole buffer out, no allocation; nothing read from
 * the stream is trusted: every length, distance and code is checked against
 * the input, the output's capacity and the format's limits. */
#ifndef NESTD_INFLATE_H
#define NESTD_INFLATE_H

#include <stddef.h>

/* A raw DEFLATE stream in[0..inlen) into out[0..cap).  Returns 0 and sets
 * *outlen, *used (input bytes consumed, the last one perhaps partly); -1 on
 * a malformed or truncated stream or if the output would pass cap. */
int inflate_raw(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap,
		size_t *outlen, size_t *used);

/* One gzip member: header checked (method 8, no reserved flags; FEXTRA,
 * FNAME, FCOMMENT, FHCRC skipped), body inflated, CRC-32 and ISIZE of the
 * trailer compared with what came out.  Returns the output length, or -1. */
long gunzip(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap);

/* CRC-32 (the gzip/zlib one) of p[0..n), continuing from crc (0 to start). */
unsigned long crc32_update(unsigned long crc, const unsigned char *p, size_t n);

#endif
