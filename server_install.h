/* server_install.h - the one-line installer: GET /install.sh and the
 * binaries it downloads from /dist/ (see server_install.c). */
#ifndef NESTD_SERVER_INSTALL_H
#define NESTD_SERVER_INSTALL_H

#include <stddef.h>
#include "buf.h"
#include "http.h"

struct conn;

struct server_install {
	const char *dist_dir;     /* --dist-dir; "": this server's own binary */
	const char *public_url;   /* --public-url; "": from the request's Host */
	char arch[32];            /* this machine's ARCH in download names */
	char self_sha256[65];     /* of the binary /dist/ serves, at start-up; "" none */
	int self_fd;              /* that binary, open since (-1 none): this server's own
				   * when it is static, else a static one beside it */
};

/* --public-url: http(s)://HOST[:PORT][/PATH] into out without a trailing
 * '/'; 0, or -1 with the reason in err. */
int  server_install_parse_url(const char *v, char *out, size_t n, char *err, size_t errlen);
/* Start-up: names this machine's ARCH, checks --dist-dir or hashes the
 * server's own binary.  The strings must outlive in.  0, or -1 with err. */
int  server_install_init(struct server_install *in, const char *dist_dir,
			 const char *public_url, char *err, size_t errlen);
/* install.sh with its two default lines filled in; -1 out of memory. */
int  server_install_script(const char *server_url, const char *base_url, struct buf *out);
/* 1 when fd is an ELF executable without a program interpreter (static,
 * or static-pie: it runs without the glibc it was not linked with), 0 when
 * it has one, -1 when it is no ELF file. */
int  server_install_elf_static(int fd);
/* Closes what server_install_init opened. */
void server_install_free(struct server_install *in);
/* uname -m to the ARCH of download names ("armv7l" -> "armv7"). */
void server_install_arch(const char *machine, char *out, size_t n);
/* GET /install.sh, /dist/...: 1 if it answered the request, 0 if the path
 * is not its own. */
int  server_install_route(const struct server_install *in, struct conn *c,
			  const struct http_req *req, const struct http_span *path);

#endif
