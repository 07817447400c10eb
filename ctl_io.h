/* ctl_io.h - `nestd ctl`'s one HTTP/1.1 exchange with a server.
 *
 * nestd ctl is the only part of nestd that waits on a socket itself: it has
 * no event loop, one request per connection ("Connection: close") and a
 * deadline for the whole exchange.  The TLS engine stays tls.c's
 * non-blocking one; ctl_io.c waits with poll(2) for whatever it asks for.
 * Like net.c, nothing here prints: failures come back as one line. */
#ifndef NESTD_CTL_IO_H
#define NESTD_CTL_IO_H

#include <stddef.h>

#include "buf.h"
#include "net.h"
#include "tls.h"

/* Where to send requests and how: the validated options, read only. */
struct ctl_server {
	const char *name;                  /* as the operator wrote it, for messages */
	struct net_url url;
	struct tls_client_opts tls;        /* https:// only */
	const char *token;                 /* operator token; "" sends none */
	long long wait_ms;                 /* the whole exchange, connect excepted */
};

/* One request (body may be NULL) and its answer: *status and the body in
 * resp.  -1 with a one-line reason in err (without the "nestd ctl: "
 * prefix) when the server cannot be reached, times out or answers
 * something that is not HTTP. */
int ctl_http(const struct ctl_server *s, const char *method, const char *path,
	     const char *body, size_t bodylen, int *status, struct buf *resp,
	     char *err, size_t errlen);

#endif
