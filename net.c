/* net.c - listening, accepting and connecting sockets (see net.h). */
#include "net.h"
#include "buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "fmt.h"
#include "num.h"

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -1;
}

static int valid_port(const char *p)
{
	char *end;
	long v;

	/* Digits only: strtol alone would take a sign and leading blanks. */
	if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p))
		return 0;
	v = num_strtol(p, &end);
	return *end == '\0' && v > 0 && v < 65536;
}

/* Splits "host:port" or "[v6]:port" in place semantics into the two arrays. */
static int split_hostport(const char *s, size_t len, char *host, size_t hcap,
			  char *port, size_t pcap, const char *defport)
{
	const char *colon, *hs = s, *he;

	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (!rb)
			return -1;
		hs = s + 1;
		he = rb;
		colon = (rb + 1 < s + len) ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return -1;
	} else {
		colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', (size_t)(s + len - colon - 1)))
			return -1;  /* bare IPv6 needs brackets */
		he = colon ? colon : s + len;
	}
	if (he == hs || (size_t)(he - hs) >= hcap)
		return -1;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	if (colon) {
		size_t pl = (size_t)(s + len - colon - 1);

		if (pl == 0 || pl >= pcap)
			return -1;
		memcpy(port, colon + 1, pl);
		port[pl] = '\0';
	} else if (defport) {
		fmt_snprintf(port, pcap, "%s", defport);
	} else {
		return -1;
	}
	return valid_port(port) ? 0 : -1;
}

int net_parse_addr(const char *s, struct net_addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0) {
		a->kind = NET_UNIX;
		if (!s[5] || strlen(s + 5) >= sizeof(a->path))
			return fail(err, errlen, "bad address '%s': unix socket path empty or too long", s);
		strcpy(a->path, s + 5);
		return 0;
	}
	a->kind = NET_TCP;
	if (strncmp(s, "tls:", 4) == 0) {
		a->tls = 1;
		if (split_hostport(s + 4, strlen(s + 4), a->host, sizeof(a->host), a->port,
				   sizeof(a->port), NULL) < 0)
			return fail(err, errlen, "bad address '%s': want tls:HOST:PORT or tls:[IPV6]:PORT", s);
		return 0;
	}
	if (split_hostport(s, strlen(s), a->host, sizeof(a->host), a->port,
			   sizeof(a->port), NULL) < 0)
		return fail(err, errlen, "bad address '%s': want HOST:PORT, [IPV6]:PORT, tls:HOST:PORT or unix:PATH", s);
	return 0;
}

int net_parse_url(const char *s, struct net_url *u, char *err, size_t errlen)
{
	static const struct { const char *p; enum url_scheme sc; const char *port; int tls; } sch[] = {
		{ "ws://", URL_WS, "80", 0 }, { "wss://", URL_WSS, "443", 1 },
		{ "http://", URL_HTTP, "80", 0 }, { "https://", URL_HTTPS, "443", 1 },
	};
	const char *rest = NULL, *slash;
	size_t i;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "unix:", 5) == 0) {
		const char *path = s + 5;
		size_t pl;

		if (strncmp(path, "//", 2) == 0)
			path += 2;
		pl = strlen(path);
		if (!pl || pl >= sizeof(u->unix_path))
			return fail(err, errlen, "bad URL '%s': unix socket path empty or too long", s);
		u->scheme = URL_UNIX;
		memcpy(u->unix_path, path, pl + 1);
		strcpy(u->host, "localhost");
		strcpy(u->path, "/");
		return 0;
	}
	for (i = 0; i < sizeof(sch) / sizeof(sch[0]); i++) {
		size_t pl = strlen(sch[i].p);

		if (strncasecmp(s, sch[i].p, pl) == 0) {
			rest = s + pl;
			u->scheme = sch[i].sc;
			u->tls = sch[i].tls;
			break;
		}
	}
	if (!rest)
		return fail(err, errlen, "bad URL '%s': want ws://, wss://, http://, https:// or unix:PATH", s);
	slash = strchr(rest, '/');
	if (!slash)
		slash = rest + strlen(rest);
	if (memchr(rest, '@', (size_t)(slash - rest)))
		return fail(err, errlen, "bad URL '%s': credentials in URLs are not supported", s);
	if (split_hostport(rest, (size_t)(slash - rest), u->host, sizeof(u->host),
			   u->port, sizeof(u->port), sch[i].port) < 0)
		return fail(err, errlen, "bad URL '%s': bad host or port", s);
	if (*slash) {
		if (strlen(slash) >= sizeof(u->path))
			return fail(err, errlen, "bad URL '%s': path too long", s);
		for (const char *c = slash; *c; c++)
			if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '#')
				return fail(err, errlen, "bad URL '%s': bad character in path", s);
		strcpy(u->path, slash);
	} else {
		strcpy(u->path, "/");
	}
	return 0;
}

static int unix_sockaddr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

static int listen_unix(const struct net_addr *a, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, rc;

	if (unix_sockaddr(a->path, &sa) < 0)
		return fail(err, errlen, "unix socket path too long: %s", a->path);
	if (lstat(a->path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode))
			return fail(err, errlen, "%s exists and is not a socket", a->path);
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return fail(err, errlen, "%s: another server is listening there", a->path);
		}
		if (probe >= 0)
			close(probe);
		unlink(a->path);   /* a dead server's socket */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	/* bind creates the file with the umask's bits: with the umask set to
	 * the complement of mode it is born with exactly those, so there is
	 * no moment in which a wider mode lets someone in; chmod then undoes
	 * nothing but a umask narrower than asked. */
	old = a->mode ? umask(~a->mode & 0777) : 0;
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (a->mode)
		umask(old);
	if (rc < 0 || (a->mode && chmod(a->path, a->mode) < 0) ||
	    listen(fd, CFG_LISTEN_BACKLOG) < 0) {
		fmt_snprintf(err, errlen, "cannot listen on unix:%s: %s", a->path, strerror(errno));
		if (rc == 0)
			unlink(a->path);
		close(fd);
		return -1;
	}
	return fd;
}

static int is_localhost(const char *h)
{
	size_t n = strlen(h);

	return strcasecmp(h, "localhost") == 0 || strcasecmp(h, "localhost.") == 0 ||
	       (n > 10 && strcasecmp(h + n - 10, ".localhost") == 0);
}

/* One address a name resolved to, as a socket address. */
struct net_ai {
	int family;
	socklen_t len;
	struct sockaddr_storage sa;
};

/* host's addresses (dns.c: numeric, /etc/hosts, DNS) with port, at most
 * max of them: their count, or -1 with "cannot resolve HOST: why". */
static int resolve(const char *host, const char *port, struct net_ai *out, int max,
		   char *err, size_t errlen)
{
	struct dns_list l;
	char why[160];
	int i;

	if (dns_resolve(host, &l, why, sizeof(why)) < 0 && is_localhost(host)) {
		/* RFC 6761: localhost is the loopback, with or without an
		 * /etc/hosts (initramfs images and minimal roots have none). */
		dns_numeric("127.0.0.1", &l);
	}
	if (!l.n) {
		fmt_snprintf(err, errlen, "cannot resolve %s: %s", host, why);
		return -1;
	}
	for (i = 0; i < l.n && i < max; i++) {
		struct net_ai *a = &out[i];

		memset(a, 0, sizeof(*a));
		a->family = l.a[i].family;
		if (a->family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;

			s4->sin_family = AF_INET;
			s4->sin_port = htons((unsigned short)num_atoi(port));
			memcpy(&s4->sin_addr, l.a[i].a, 4);
			a->len = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((unsigned short)num_atoi(port));
			memcpy(&s6->sin6_addr, l.a[i].a, 16);
			a->len = sizeof(*s6);
		}
	}
	return i;
}

/* Prepares and binds, or starts connecting, one socket of a resolved
 * address: 0 keeps it, -1 (errno set) tries the next address. */
typedef int (*try_fn)(int fd, const struct net_ai *ai);

/* The first address of host:port that try() accepts, as a non-blocking
 * socket; -1 with "WHAT HOST:PORT: why" (the last failure's errno) in err. */
static int first_socket(const char *host, const char *port, try_fn try,
			const char *what, char *err, size_t errlen)
{
	struct net_ai res[DNS_ADDRS];
	int fd = -1, saved = 0, n, i;

	n = resolve(host, port, res, DNS_ADDRS, err, errlen);
	for (i = 0; i < n; i++) {
		fd = socket(res[i].family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd >= 0 && try(fd, &res[i]) == 0)
			break;
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd < 0 && n >= 0)
		fmt_snprintf(err, errlen, "%s %s:%s: %s", what, host, port, strerror(saved));
	return fd;
}

static int try_listen(int fd, const struct net_ai *ai)
{
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	return bind(fd, (const struct sockaddr *)&ai->sa, ai->len) == 0 &&
	       listen(fd, CFG_LISTEN_BACKLOG) == 0 ? 0 : -1;
}

/* A refusal shows up later, through net_connect_result. */
static int try_connect(int fd, const struct net_ai *ai)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return connect(fd, (const struct sockaddr *)&ai->sa, ai->len) == 0 || errno == EINPROGRESS
	       ? 0 : -1;
}

int net_listen(const struct net_addr *a, char *err, size_t errlen)
{
	if (a->kind == NET_UNIX)
		return listen_unix(a, err, errlen);
	return first_socket(a->host, a->port, try_listen, "cannot listen on", err, errlen);
}

static char *ntop4(const unsigned char *a, char *o)
{
	int i;

	for (i = 0; i < 4; i++) {
		char d[4], *e = d + sizeof(d), *s = e;
		unsigned v = a[i];

		do
			*--s = (char)('0' + v % 10);
		while (v /= 10);
		if (i)
			*o++ = '.';
		memcpy(o, s, (size_t)(e - s));
		o += e - s;
	}
	*o = '\0';
	return o;
}

/* The longest run of zero groups (the first of equal ones), as [*base, +len). */
static void zero_run(const unsigned w[8], int *base, int *len)
{
	int i, cur = -1;

	*base = -1;
	*len = 0;
	for (i = 0; i <= 8; i++) {
		if (i < 8 && w[i] == 0) {
			if (cur < 0)
				cur = i;
		} else if (cur >= 0) {
			if (i - cur > *len)
				*base = cur, *len = i - cur;
			cur = -1;
		}
	}
	if (*len < 2)
		*base = -1;
}

void net_ntop(int family, const void *addr, char *o)
{
	const unsigned char *a = addr;
	unsigned w[8];
	int i, base, len;

	if (family != AF_INET6) {
		ntop4(a, o);
		return;
	}
	for (i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	zero_run(w, &base, &len);
	for (i = 0; i < 8; i++) {
		if (base >= 0 && i >= base && i < base + len) {
			if (i == base)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff))) {
			ntop4(a + 12, o);
			return;
		}
		o += fmt_snprintf(o, 5, "%x", w[i]);
	}
	if (base >= 0 && base + len == 8)
		*o++ = ':';
	*o = '\0';
}

void net_peer_name(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	fmt_snprintf(out, n, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		net_ntop(AF_INET, &s4->sin_addr, host);
		fmt_snprintf(out, n, "%s:%u", host, ntohs(s4->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		net_ntop(AF_INET6, &s6->sin6_addr, host);
		fmt_snprintf(out, n, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		struct ucred cr;
		socklen_t cl = sizeof(cr);

		/* The peer's uid names a local client better than any path. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
			fmt_snprintf(out, n, "unix:uid=%u", (unsigned)cr.uid);
		else
			fmt_snprintf(out, n, "unix");
	}
}

int net_accept(int lfd, char *peer, size_t peerlen)
{
	int fd, one = 1;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	net_peer_name(fd, peer, peerlen);
	return fd;
}

static int connect_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd;

	if (unix_sockaddr(path, &sa) < 0)
		return fail(err, errlen, "unix socket path too long");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS &&
	    errno != EAGAIN) {
		fmt_snprintf(err, errlen, "connect to unix:%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int net_connect(const struct net_url *u, char *err, size_t errlen)
{
	if (u->scheme == URL_UNIX)
		return connect_unix(u->unix_path, err, errlen);
	/* The first address that accepts a connect() call. */
	return first_socket(u->host, u->port, try_connect, "connect to", err, errlen);
}

int net_connect_at(const struct net_url *u, unsigned nth, unsigned *count, char *err,
		   size_t errlen)
{
	struct net_ai res[DNS_ADDRS], *ai;
	int fd, saved, n;

	*count = 1;
	if (u->scheme == URL_UNIX)
		return connect_unix(u->unix_path, err, errlen);
	n = resolve(u->host, u->port, res, DNS_ADDRS, err, errlen);
	if (n < 0)
		return -1;
	*count = (unsigned)n;
	ai = &res[nth % *count];
	fd = socket(ai->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	saved = fd < 0 ? errno : 0;
	if (fd >= 0 && try_connect(fd, ai) < 0) {
		saved = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		char host[INET6_ADDRSTRLEN];

		net_ntop(ai->family, ai->family == AF_INET ? (void *)&((struct sockaddr_in *)&ai->sa)->sin_addr
			 : (void *)&((struct sockaddr_in6 *)&ai->sa)->sin6_addr, host);
		fmt_snprintf(err, errlen, "connect to %s:%s (%s): %s", u->host, u->port, host,
			 strerror(saved));
	}
	return fd;
}

/* What the resolver child writes: its addresses, or its reason. */
struct resolved {
	int n;                                  /* addresses; 0: why holds the reason */
	struct net_ai a[CFG_RESOLVE_ADDRS];
	char why[160];
};

int net_resolve_start(const struct net_url *u, int *pid, char *err, size_t errlen)
{
	struct dns_list l = { 0 };
	int p[2];

	if (u->scheme == URL_UNIX || dns_numeric(u->host, &l))
		return -2;
	/* clone(SIGCHLD) is fork(2) without libc's wrapper, whose atfork and
	 * thread bookkeeping a process of one thread does not need (and the
	 * static binary need not carry).  With every other argument 0 its
	 * argument order, which differs between architectures, does not matter. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (*pid = (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)) < 0) {
		fmt_snprintf(err, errlen, "cannot resolve %s: %s", u->host, strerror(errno));
		return -1;
	}
	if (*pid == 0) {
		/* The child: one lookup, one write (smaller than PIPE_BUF, so
		 * whole), then gone without running the parent's atexit. */
		struct resolved r;
		int n;

		memset(&r, 0, sizeof(r));
		n = resolve(u->host, u->port, r.a, CFG_RESOLVE_ADDRS, r.why, sizeof(r.why));
		r.n = n < 0 ? 0 : n;
		_exit(write(p[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	return p[0];
}

int net_resolve_finish(int rfd, int pid, const struct net_url *u, char *err, size_t errlen)
{
	struct resolved r;
	ssize_t got = read(rfd, &r, sizeof(r));
	int i, fd = -1, saved = EHOSTUNREACH;

	close(rfd);
	waitpid(pid, NULL, 0);
	if (got != (ssize_t)sizeof(r)) {
		fmt_snprintf(err, errlen, "cannot resolve %s: no answer", u->host);
		return -1;
	}
	if (!r.n) {
		fmt_snprintf(err, errlen, "%.*s", (int)sizeof(r.why) - 1, r.why);
		return -1;
	}
	for (i = 0; i < r.n && i < CFG_RESOLVE_ADDRS && fd < 0; i++) {
		fd = socket(r.a[i].family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd >= 0 && try_connect(fd, &r.a[i]) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		fmt_snprintf(err, errlen, "connect to %s:%s: %s", u->host, u->port, strerror(saved));
	return fd;
}

void net_resolve_cancel(int rfd, int pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(rfd);
}

int net_connect_result(int fd, char *err, size_t errlen)
{
	int e = 0;
	socklen_t l = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		e = errno;
	if (e) {
		fmt_snprintf(err, errlen, "%s", strerror(e));
		return -1;
	}
	return 0;
}

int net_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (num_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (num_pton(AF_INET6, host, &a6) == 1) {
		static const unsigned char lo[16] = { [15] = 1 };
		static const unsigned char v4map[12] = { [10] = 0xff, [11] = 0xff };

		return !memcmp(a6.s6_addr, lo, 16) ||
		       (!memcmp(a6.s6_addr, v4map, 12) && a6.s6_addr[12] == 127);
	}
	return 0;
}

int net_url_as_addr(const char *url, char *out, size_t n)
{
	static const struct { const char *scheme, *prefix; } map[] = {
		{ "http://", "" }, { "ws://", "" }, { "https://", "tls:" }, { "wss://", "tls:" },
	};
	size_t i, l;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t sl = strlen(map[i].scheme);

		if (strncmp(url, map[i].scheme, sl))
			continue;
		l = strlen(url + sl);
		while (l && url[sl + l - 1] == '/')     /* a path but "/" is no listener's */
			l--;
		if (!l || memchr(url + sl, '/', l) || (size_t)fmt_snprintf(out, n, "%s%.*s", map[i].prefix,
								       (int)l, url + sl) >= n)
			return -1;
		return 0;
	}
	return -1;
}

int net_addr_as_url(const char *addr, char *out, size_t n)
{
	int tls = !strncmp(addr, "tls:", 4);

	if (str_find(addr, "://") || !strncmp(addr, "unix:", 5))
		return -1;
	return (size_t)fmt_snprintf(out, n, "%s%s", tls ? "https://" : "http://", addr + (tls ? 4 : 0)) < n
	       ? 0 : -1;
}
