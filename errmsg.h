/* errmsg.h - strerror for the static musl builds, from a table of musl's
 * own messages built into the binary (errmsg.c).
 *
 * Built with -DNESTD_ERRMSG=1 (the Makefile sets it for musl builds without
 * NATS: make static, make static-agent), errmsg.c also defines strerror
 * with errmsg_text, which replaces the C library's: the static link then
 * leaves out musl's strerror.o and its 2.2 KB of plain messages.  Other
 * builds keep their libc's strerror and have no errmsg_text.  One thread
 * only (the table is unpacked once into a static buffer). */
#ifndef NESTD_ERRMSG_H
#define NESTD_ERRMSG_H

/* The message for errno value e, exactly musl's strerror(e): its "No error
 * information" for 0, for values it has none of and for values out of its
 * range (negative, huge).  Never NULL; the string stays valid. */
const char *errmsg_text(int e);

#endif
