/* server_install.c - GET /install.sh and the binaries it downloads, so a
 * machine is onboarded from the server alone:
 *   curl -fsSL https://SERVER/install.sh | sh -s -- --token-file F
 *
 * /install.sh   install.sh (embedded at build time by tools/embed.sh) with
 *               its NESTD_DEFAULT_SERVER and NESTD_DEFAULT_BASE lines set to
 *               this server's ws(s):// URL and PUBLIC/dist.  PUBLIC is
 *               --public-url, else http://HOST from the request's Host
 *               (https://HOST when the request came over TLS).
 * /dist/NAME    from --dist-dir: the file NAME; nestd-linux-ARCH (and
 *               nestd-agent-linux-ARCH, the agent-only build), when the
 *               directory has no such file, is the newest
 *               nestd-VERSION-linux-ARCH there; NAME.sha256 is the file of
 *               that name if present, else computed ("HASH  FILE").
 *               Without --dist-dir: the server's own executable, as
 *               nestd-linux-ARCH and nestd-VERSION-linux-ARCH for its own
 *               ARCH, and their .sha256 (hashed once at start-up).
 *
 * Public (no token): the one-line install runs before the machine has one.
 * Names are [A-Za-z0-9._-], no leading '.', looked up in the directory only
 * (no '/': nothing outside it is reachable; a symlink the admin put in it is
 * followed).  A file is never read whole: the connection queues it
 * CFG_HTTP_FILE_CHUNK at a time as the client takes it
 * (conn_http_respond_fd), so a client that asks and never reads costs a
 * chunk, not the file. */
#include "buf.h"
#include "server_install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "fmt.h"
#include "log.h"
#include "sha256.h"

#include "embed.h"

extern const struct embed_file install_files[];   /* tools/embed: install.sh */

#define SELF_EXE "/proc/self/exe"
#define NAME_MAX_LEN 128

static const char key_server[] = "NESTD_DEFAULT_SERVER=";
static const char key_base[] = "NESTD_DEFAULT_BASE=";

void server_install_arch(const char *m, char *out, size_t n)
{
	const char *a = m;

	if (!strcmp(m, "x86_64") || !strcmp(m, "amd64"))
		a = "x86_64";
	else if (!strcmp(m, "armv8l") || !strncmp(m, "armv7", 5))
		a = "armv7";
	else if (!strcmp(m, "aarch64") || !strcmp(m, "arm64") || !strncmp(m, "armv8", 5))
		a = "aarch64";
	else if (!strncmp(m, "armv6", 5))
		a = "armv6";
	else if ((m[0] == 'i' && m[1] >= '3' && m[1] <= '6' && !strcmp(m + 2, "86")) ||
		 !strcmp(m, "x86") || !strcmp(m, "i86pc"))
		a = "i386";
	fmt_copy(out, n, a);
}

/* Characters that may stand in a URL we paste into a shell script between
 * single quotes and into a `key = value` config line. */
static int url_chars_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "-._~:/@%+,=[]", p[i]) || p[i] == '\0')
			return 0;
	return 1;
}

int server_install_parse_url(const char *v, char *out, size_t cap, char *err, size_t errlen)
{
	size_t n = strlen(v);
	const char *host = NULL;

	if (!strncmp(v, "http://", 7))
		host = v + 7;
	else if (!strncmp(v, "https://", 8))
		host = v + 8;
	while (n && v[n - 1] == '/')
		n--;
	if (!host || host >= v + n || *host == '/' || n >= cap || !url_chars_ok(v, n)) {
		fmt_snprintf(err, errlen, "bad --public-url '%s' (http://HOST[:PORT][/PATH] or https://...)", v);
		return -1;
	}
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/* SHA-256 of the rest of fd, as hex; -1 on a read error (errno set). */
static int sha256_fd(int fd, char hex[65])
{
	struct sha256_ctx h;
	unsigned char d[32], blk[65536];
	ssize_t r;
	int i;

	sha256_init(&h);
	while ((r = read(fd, blk, sizeof(blk))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		sha256_update(&h, blk, (size_t)r);
	}
	sha256_final(&h, d);
	for (i = 0; i < 32; i++)
		fmt_snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

/* Two or four bytes of h at off in the file's byte order (le). */
static unsigned long elf_word(const unsigned char *h, int off, int size, int le)
{
	unsigned long v = 0;
	int i;

	for (i = 0; i < size; i++)
		v |= (unsigned long)h[off + (le ? i : size - 1 - i)] << (8 * i);
	return v;
}

int server_install_elf_static(int fd)
{
	unsigned char h[64], ph[4];
	unsigned long phoff, phent, phnum, i;
	int wide, le;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, "\177ELF", 4) != 0 ||
	    (h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2))
		return -1;
	wide = h[4] == 2;
	le = h[5] == 1;
	/* e_phoff is 8 bytes at 32 in ELF64 (the high half ignored: no
	 * table lies past 4 GiB), 4 at 28 in ELF32; then e_phentsize, e_phnum. */
	phoff = elf_word(h, wide ? 32 : 28, 4, le);
	if (wide && !le)
		phoff = elf_word(h, 36, 4, le);
	phent = elf_word(h, wide ? 54 : 42, 2, le);
	phnum = elf_word(h, wide ? 56 : 44, 2, le);
	if (phent < 4 || phnum > 4096)
		return -1;
	for (i = 0; i < phnum; i++) {
		if (pread(fd, ph, 4, (off_t)(phoff + i * phent)) != 4)
			return -1;
		if (elf_word(ph, 0, 4, le) == 3)     /* PT_INTERP */
			return 0;
	}
	return 1;
}

/* fd opened read-only when it names a static ELF file; else -1. */
static int open_static(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && server_install_elf_static(fd) == 1)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The binary /dist/ serves without --dist-dir, opened and hashed now (the
 * binary that answers is the one that started, even if an upgrade renames
 * a new file over its path later): this server's own when it is static;
 * else a static nestd beside it (DIR/nestd-static, as make static leaves
 * it, or DIR/../lib/nestd/nestd-static, as make install and the Debian
 * package put it): a glibc-linked binary would not run on musl machines
 * (Alpine, initramfs).  Without one, this server's own, said once. */
static int self_binary(struct server_install *in)
{
	char exe[4096], cand[4200], *slash;
	ssize_t n = readlink(SELF_EXE, exe, sizeof(exe) - 1);
	const char *served = "this server's own binary";
	int fd = open_static(SELF_EXE), i;

	in->self_fd = -1;
	in->self_sha256[0] = '\0';
	exe[n > 0 ? n : 0] = '\0';
	slash = strrchr(exe, '/');
	for (i = 0; fd < 0 && slash && i < 2; i++) {
		fmt_snprintf(cand, sizeof(cand), "%.*s/%s", (int)(slash - exe), exe,
			 i ? "../lib/nestd/nestd-static" : "nestd-static");
		if ((fd = open_static(cand)) >= 0)
			served = cand;
	}
	if (fd < 0 && (fd = open(SELF_EXE, O_RDONLY | O_CLOEXEC)) >= 0)
		log_warn("install: /dist/ serves this server's own binary, which needs the C library it "
			 "was linked with: machines without it (musl, Alpine) cannot run it; put a static "
			 "nestd (make static) beside it as nestd-static, or use --dist-dir");
	if (fd < 0) {
		log_warn("install: cannot read %s (%s): /dist/ serves nothing", SELF_EXE, strerror(errno));
		return 0;
	}
	if (sha256_fd(fd, in->self_sha256) < 0) {
		log_warn("install: reading %s: %s", served, strerror(errno));
		in->self_sha256[0] = '\0';
		close(fd);
		return 0;
	}
	in->self_fd = fd;
	log_info("install: /dist/nestd-linux-%s is %s", in->arch, served);
	return 0;
}

int server_install_init(struct server_install *in, const char *dist_dir,
			const char *public_url, char *err, size_t errlen)
{
	struct utsname u;
	struct stat st;

	in->dist_dir = dist_dir;
	in->public_url = public_url;
	in->self_fd = -1;
	server_install_arch(uname(&u) == 0 ? u.machine : "unknown", in->arch, sizeof(in->arch));
	if (dist_dir[0]) {
		if (stat(dist_dir, &st) < 0) {
			fmt_snprintf(err, errlen, "--dist-dir %s: %s", dist_dir, strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			fmt_snprintf(err, errlen, "--dist-dir %s: not a directory", dist_dir);
			return -1;
		}
		return 0;
	}
	return self_binary(in);
}

void server_install_free(struct server_install *in)
{
	if (in->self_fd >= 0)
		close(in->self_fd);
	in->self_fd = -1;
}

/* Copies install.sh (stored gzip-compressed: inflated first, as curl
 * without --compressed must get it plain), setting the first line that
 * starts with each key to KEY'VALUE'. */
int server_install_script(const char *server_url, const char *base_url, struct buf *out)
{
	unsigned char *tofree;
	size_t len;
	const char *p = (const char *)embed_data(&install_files[0], &len, &tofree), *end;
	int did_server = 0, did_base = 0, rc = 0;

	if (!p)
		return -1;
	end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (!did_server && n > sizeof(key_server) - 1 && !memcmp(p, key_server, sizeof(key_server) - 1)) {
			rc = buf_printf(out, "%s'%s'\n", key_server, server_url);
			did_server = 1;
		} else if (!did_base && n > sizeof(key_base) - 1 && !memcmp(p, key_base, sizeof(key_base) - 1)) {
			rc = buf_printf(out, "%s'%s'\n", key_base, base_url);
			did_base = 1;
		} else {
			rc = buf_append(out, p, n);
		}
		if (rc < 0)
			break;
		p += n;
	}
	free(tofree);
	return rc < 0 ? -1 : 0;
}

static void respond_text(struct conn *c, int status, const char *msg)
{
	conn_http_respond(c, status, "text/plain; charset=utf-8", NULL, msg, strlen(msg));
}

/* PUBLIC: --public-url, or from the Host header; 0, or -1 after a 400. */
static int public_url(const struct server_install *in, struct conn *c, const struct http_req *req,
		      char *out, size_t n)
{
	const struct http_span *host;

	if (in->public_url[0]) {
		fmt_copy(out, n, in->public_url);
		return 0;
	}
	host = http_get(req->h, req->nh, "Host");
	if (!host || host->n == 0 || host->n > 255 || !url_chars_ok(host->p, host->n) ||
	    memchr(host->p, '/', host->n) || memchr(host->p, '@', host->n)) {
		respond_text(c, 400, "no usable Host header: start the server with --public-url URL\n");
		return -1;
	}
	/* A request that came over TLS gets https (and so wss://): plain
	 * URLs would send the agent's token in the clear. */
	fmt_snprintf(out, n, "%s://%.*s", c->tls ? "https" : "http", (int)host->n, host->p);
	return 0;
}

static void serve_script(const struct server_install *in, struct conn *c, const struct http_req *req)
{
	char pub[600], ws[620], base[620];
	const char *rest;
	struct buf b;

	if (public_url(in, c, req, pub, sizeof(pub)) < 0)
		return;
	/* http -> ws, https -> wss; a bare host gets the path "/". */
	rest = str_find(pub, "://") + 3;
	fmt_snprintf(ws, sizeof(ws), "%s%s%s", strncmp(pub, "https:", 6) ? "ws://" : "wss://", rest,
		 strchr(rest, '/') ? "" : "/");
	fmt_snprintf(base, sizeof(base), "%s/dist", pub);
	buf_init(&b, 0);
	if (server_install_script(ws, base, &b) < 0) {
		buf_free(&b);
		respond_text(c, 500, "out of memory\n");
		return;
	}
	conn_http_respond(c, 200, "text/x-shellscript; charset=utf-8", NULL, b.p, b.len);
	buf_free(&b);
	log_info("install: served install.sh to %s (server %s)", c->peer, ws);
}

static int name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > NAME_MAX_LEN || p[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", p[i]) ||
		    p[i] == '\0')
			return 0;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Opens a regular file of the dist directory; -1 if there is none. */
static int dist_open(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

/* nestd-linux-ARCH without such a file: the newest nestd-V-linux-ARCH
 * (kind "nestd"); nestd-agent-linux-ARCH: the newest nestd-agent-V-linux-ARCH
 * (kind "nestd-agent", the agent-only build).  A full build's V never
 * starts with "agent-". */
static int dist_newest(int dirfd, const char *kind, const char *arch, char *out, size_t n)
{
	char prefix[32];
	size_t pl = (size_t)fmt_snprintf(prefix, sizeof(prefix), "%s-", kind);
	char suffix[NAME_MAX_LEN + 16];
	struct dirent *e;
	DIR *d;
	int dfd = dup(dirfd), found = 0;

	if (dfd < 0)
		return 0;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	fmt_snprintf(suffix, sizeof(suffix), "-linux-%s", arch);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (strncmp(e->d_name, prefix, pl) || !ends_with(e->d_name, suffix) ||
		    l <= pl + strlen(suffix) || !name_ok(e->d_name, l) || l >= n ||
		    (pl == 6 && !strncmp(e->d_name, "nestd-agent-", 12)))
			continue;
		if (!found || strverscmp(e->d_name, out) > 0) {
			memcpy(out, e->d_name, l + 1);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

/* Out of descriptors: the client may try again shortly. */
static void respond_busy(struct conn *c)
{
	static const char msg[] = "server busy: out of descriptors\n";

	conn_http_respond(c, 503, "text/plain; charset=utf-8", "Retry-After: 1\r\n", msg,
			  sizeof(msg) - 1);
}

/* Answers with the file; fd is the connection's from here on. */
static void send_file(struct conn *c, int fd, const struct stat *st, const char *ctype)
{
	conn_http_respond_fd(c, 200, ctype, NULL, fd, (size_t)st->st_size);
}

static void serve_self(const struct server_install *in, struct conn *c, const char *name)
{
	char plain[64], versioned[80], line[256];
	size_t n = strlen(name);
	int sum = ends_with(name, ".sha256");
	struct stat st;
	int fd;

	fmt_snprintf(plain, sizeof(plain), "nestd-linux-%s", in->arch);
	fmt_snprintf(versioned, sizeof(versioned), "nestd-%s-linux-%s", NESTD_VERSION, in->arch);
	if (sum)
		n -= 7;
	if (!in->self_sha256[0] ||
	    !((n == strlen(plain) && !memcmp(name, plain, n)) ||
	      (n == strlen(versioned) && !memcmp(name, versioned, n)))) {
		respond_text(c, 404, "not found\n");
		return;
	}
	if (sum) {
		fmt_snprintf(line, sizeof(line), "%s  %.*s\n", in->self_sha256, (int)n, name);
		conn_http_respond(c, 200, "text/plain; charset=utf-8", NULL, line, strlen(line));
		return;
	}
	/* The very file hashed at start-up, with an offset of its own. */
	fmt_snprintf(line, sizeof(line), "/proc/self/fd/%d", in->self_fd);
	fd = open(line, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		respond_busy(c);
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		respond_text(c, 500, "cannot read the server's binary\n");
		return;
	}
	send_file(c, fd, &st, "application/octet-stream");
	log_info("install: served %s to %s", name, c->peer);
}

static void serve_dir(const struct server_install *in, struct conn *c, const char *name)
{
	char file[NAME_MAX_LEN + 1], arch[NAME_MAX_LEN + 1], line[NAME_MAX_LEN + 80], hex[65];
	int sum = ends_with(name, ".sha256");
	struct stat st;
	int dirfd, fd, sfd;

	dirfd = open(in->dist_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 && (errno == EMFILE || errno == ENFILE)) {
		respond_busy(c);
		return;
	}
	if (dirfd < 0) {
		log_warn("install: --dist-dir %s: %s", in->dist_dir, strerror(errno));
		respond_text(c, 500, "the dist directory is unreadable\n");
		return;
	}
	/* The file itself, a .sha256 beside it made by `make dist` included. */
	fd = dist_open(dirfd, name, &st);
	if (fd >= 0) {
		send_file(c, fd, &st, sum ? "text/plain; charset=utf-8" : "application/octet-stream");
		if (!sum)
			log_info("install: served %s to %s", name, c->peer);
		goto out;
	}
	if (errno == EMFILE || errno == ENFILE) {
		respond_busy(c);
		goto out;
	}
	fmt_snprintf(file, sizeof(file), "%.*s", (int)(strlen(name) - (sum ? 7 : 0)), name);
	if (!strncmp(file, "nestd-linux-", 12) && file[12]) {
		fmt_copy(arch, sizeof(arch), file + 12);
		if (!dist_newest(dirfd, "nestd", arch, file, sizeof(file)))
			file[0] = '\0';
	} else if (!strncmp(file, "nestd-agent-linux-", 18) && file[18]) {
		fmt_copy(arch, sizeof(arch), file + 18);
		if (!dist_newest(dirfd, "nestd-agent", arch, file, sizeof(file)))
			file[0] = '\0';
	}
	if (!file[0] || (fd = dist_open(dirfd, file, &st)) < 0) {
		if (file[0] && (errno == EMFILE || errno == ENFILE))
			respond_busy(c);
		else
			respond_text(c, 404, "not found\n");
		goto out;
	}
	if (!sum) {
		send_file(c, fd, &st, "application/octet-stream");
		log_info("install: served %s as %s to %s", file, name, c->peer);
		goto out;
	}
	/* The newest version's own .sha256 if it has one. */
	fmt_snprintf(line, sizeof(line), "%s.sha256", file);
	sfd = dist_open(dirfd, line, &st);
	if (sfd >= 0) {
		send_file(c, sfd, &st, "text/plain; charset=utf-8");
	} else if (sha256_fd(fd, hex) < 0) {
		respond_text(c, 500, "cannot read the file\n");
	} else {
		fmt_snprintf(line, sizeof(line), "%s  %s\n", hex, file);
		conn_http_respond(c, 200, "text/plain; charset=utf-8", NULL, line, strlen(line));
	}
	close(fd);
out:
	close(dirfd);
}

int server_install_route(const struct server_install *in, struct conn *c,
			 const struct http_req *req, const struct http_span *path)
{
	static const char dist[] = "/dist/";
	char name[NAME_MAX_LEN + 1];
	int is_dist = path->n >= sizeof(dist) - 1 && !memcmp(path->p, dist, sizeof(dist) - 1);

	if (!http_span_eq(path, "/install.sh") && !is_dist)
		return 0;
	if (!http_span_eq(&req->method, "GET") && !http_span_eq(&req->method, "HEAD")) {
		conn_http_respond(c, 405, "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n",
				  "method not allowed\n", 19);
		return 1;
	}
	if (!is_dist) {
		serve_script(in, c, req);
		return 1;
	}
	if (!name_ok(path->p + sizeof(dist) - 1, path->n - (sizeof(dist) - 1))) {
		respond_text(c, 404, "not found\n");
		return 1;
	}
	fmt_snprintf(name, sizeof(name), "%.*s", (int)(path->n - (sizeof(dist) - 1)),
		 path->p + sizeof(dist) - 1);
	if (in->dist_dir[0])
		serve_dir(in, c, name);
	else
		serve_self(in, c, name);
	return 1;
}
