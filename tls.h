/* tls.h - TLS for both roles through BearSSL, optional at build time.
 *
 * Built with NESTD_TLS=1 (make TLS=1, the default when BearSSL is
 * installed); without it every entry point reports that TLS is absent.
 * A NULL struct tls_conn * always means "plain socket", so callers keep one
 * code path.
 *
 * BearSSL is sans-I/O; so is the engine here: tls_read and tls_write move
 * records between the engine and a NON-BLOCKING descriptor and never wait.
 * They behave like read(2)/write(2): -1 with errno EAGAIN when the engine
 * needs the socket to become ready (ask tls_events which way), EPROTO when
 * TLS failed (tls_why says why: "certificate expired", ...), or the
 * socket's own errno.  Waiting is the caller's: the event loop's, or
 * nestd ctl's poll in ctl_io.c. */
#ifndef NESTD_TLS_H
#define NESTD_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_client_opts {
	const char *ca_file;     /* PEM bundle; NULL: CFG_TLS_CA_FILE */
	const char *pin;         /* "sha256//BASE64" of the server's public key */
	int insecure;            /* skip verification (loudly) */
};

struct tls_ctx;              /* what many connections share: anchors, or key and chain */
struct tls_conn;             /* one connection's engine and buffers */

int tls_available(void);

/* Client: loads the CA bundle (unless insecure or pinned without one) and
 * checks the pin's form.  NULL with a one-line reason. */
struct tls_ctx *tls_client_ctx(const struct tls_client_opts *o, char *err, size_t errlen);
/* Server: PEM certificate chain and PEM private key (RSA or EC, PKCS#1,
 * SEC 1 or PKCS#8); the key must match the first certificate. */
struct tls_ctx *tls_server_ctx(const char *cert_file, const char *key_file,
			       char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *x);

/* A connection from a context.  host: the client's server name (SNI and
 * certificate check; an IP literal is checked against the certificate's IP
 * addresses); ignored for a server.  NULL on out of memory. */
struct tls_conn *tls_conn_new(struct tls_ctx *x, const char *host, char *err, size_t errlen);
void tls_conn_free(struct tls_conn *t);

ssize_t tls_read(struct tls_conn *t, int fd, void *p, size_t n);
ssize_t tls_write(struct tls_conn *t, int fd, const void *p, size_t n);
/* Writes out records the engine holds; 0 when none are left, -1 with
 * errno (EAGAIN: try again on POLLOUT). */
int tls_flush(struct tls_conn *t, int fd);
/* poll events the engine needs: POLLOUT while records wait to be written,
 * POLLIN while it expects records; have_output: the caller has plaintext
 * to send (POLLOUT only once the engine can take it). */
short tls_events(struct tls_conn *t, int have_output);
/* Plaintext already decrypted and waiting: read again before polling. */
int tls_pending(struct tls_conn *t);
int tls_handshake_done(struct tls_conn *t);
/* Sends close_notify (best effort, never waits). */
void tls_close_notify(struct tls_conn *t, int fd);
/* Why the engine failed, or "" when it did not. */
const char *tls_why(struct tls_conn *t);

/* Session resumption.  A client context offers its last session again on
 * its next connection by itself.  A server context caches sessions
 * (CFG_TLS_SESSION_CACHE); these keep them across a restart: save writes
 * the live ones to path (0600, through path.tmp) and returns how many;
 * load reads them back, deletes the file (its secrets serve one restart
 * only) and returns how many; 0 when there is no file; -1 with err. */
int tls_sessions_save(struct tls_ctx *x, const char *path, char *err, size_t errlen);
int tls_sessions_load(struct tls_ctx *x, const char *path, char *err, size_t errlen);
/* Handshakes that resumed a cached session, and those that offered one the
 * cache did not have (server contexts). */
void tls_sessions_stats(const struct tls_ctx *x, unsigned long *resumed, unsigned long *full);

#endif
