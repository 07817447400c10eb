/* tls.h - TLS for both roles through BearSSL, optional at build time.
 *
 * Built with NESTD_TLS=1 (make TLS=1, the default when BearSSL is
 * installed); without it every entry point reports that TLS is absent.
 * A NULL struct tls_conn * always means "plain socket", so callers keep one
 * code path. */
#ifndef NESTD_TLS_H
#define NESTD_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tls_client_opts {
	const char *ca_file;     /* PEM bundle; NULL: the system's */
	const char *pin;         /* "sha256//BASE64" of the server's public key */
	int insecure;            /* skip verification (loudly) */
};

struct tls_conn;

int tls_available(void);

struct tls_conn *tls_client_new(const struct tls_client_opts *o, const char *host,
				char *err, size_t errlen);
void tls_client_free(struct tls_conn *t);

/* Blocking-with-deadline I/O for short-lived clients (nestd ctl).  t may be
 * NULL for a plain socket.  -1 with a reason on error or timeout. */
int tls_io_all(struct tls_conn *t, int fd, const void *p, size_t n, int64_t deadline,
	       char *err, size_t errlen);
ssize_t tls_io_read(struct tls_conn *t, int fd, void *p, size_t n, int64_t deadline,
		    char *err, size_t errlen);

#endif
