/* deflate.h - a small DEFLATE (RFC 1951) and gzip (RFC 1952) encoder, the
 * counterpart of inflate.h, for the server's dynamic answers (a process
 * list of 2,000 entries is half a megabyte of JSON, every few seconds, for
 * every dashboard tab).
 *
 * Whole buffer in, whole stream out into a struct buf: no I/O, no state
 * between calls.  LZ77 over a 32 KiB window (hash chains, bounded search,
 * one step of lazy matching), then each block of symbols written with the
 * cheapest of a dynamic Huffman code, the fixed code, or stored bytes, so
 * incompressible input grows by a few bytes per 64 KiB only. */
#ifndef NESTD_DEFLATE_H
#define NESTD_DEFLATE_H

#include <stddef.h>
#include "buf.h"

/* in[0..n) as a raw DEFLATE stream appended to out.  0, or -1 when out
 * would pass its bound or memory ran out (out is then as it was). */
int deflate_raw(const unsigned char *in, size_t n, struct buf *out);

/* in[0..n) as one gzip member (no name, mtime 0) appended to out. */
int gzip_encode(const unsigned char *in, size_t n, struct buf *out);

#endif
