/* rnd.h - cryptographically strong random bytes from the kernel (getrandom). */
#ifndef NESTD_RND_H
#define NESTD_RND_H
#include <stddef.h>
/* Fills p with n random bytes; 0, or -1 if the kernel refused (never partial). */
int rnd_bytes(void *p, size_t n);
#endif
