/* tls.c - TLS entry points (see tls.h).  This build has no TLS: plain
 * socket I/O only, and a clear refusal for anything that needs TLS. */
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"

int tls_available(void)
{
	return 0;
}

struct tls_conn *tls_client_new(const struct tls_client_opts *o, const char *host,
				char *err, size_t errlen)
{
	snprintf(err, errlen, "this nestd was built without TLS");
	return NULL;
}

void tls_client_free(struct tls_conn *t)
{
}

static int wait_fd(int fd, short ev, int64_t deadline, char *err, size_t errlen)
{
	struct pollfd p = { fd, ev, 0 };
	int r;

	for (;;) {
		int64_t left = deadline - loop_now();

		if (left <= 0) {
			snprintf(err, errlen, "timed out");
			return -1;
		}
		r = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
	}
}

int tls_io_all(struct tls_conn *t, int fd, const void *p, size_t n, int64_t deadline,
	       char *err, size_t errlen)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (wait_fd(fd, POLLOUT, deadline, err, errlen) < 0)
					return -1;
				continue;
			}
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t tls_io_read(struct tls_conn *t, int fd, void *p, size_t n, int64_t deadline,
		    char *err, size_t errlen)
{
	for (;;) {
		ssize_t r = read(fd, p, n);

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		if (wait_fd(fd, POLLIN, deadline, err, errlen) < 0)
			return -1;
	}
}
