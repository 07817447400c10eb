/* rnd.h - cryptographically strong random bytes from the kernel (getrandom). */
#ifndef NESTD_RND_H
#define NESTD_RND_H
#include <stddef.h>
/* Fills p with n random bytes; 0, or -1 if the kernel refused (never partial). */
int rnd_bytes(void *p, size_t n);
/* A random number from 0 to n - 1 (0 when n <= 0). */
long long rnd_below(long long n);
/* Exponential backoff with full jitter (the agents' reconnection, and the
 * server's to Slack): a random delay from 0 to min(max, min * 2^attempt)
 * milliseconds. */
long long rnd_backoff_ms(long long min_ms, long long max_ms, int attempt);
#endif
