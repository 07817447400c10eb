/* net.h - socket helpers in the manner of Redis' anet.c: they return 0/-1
 * (or a descriptor) and write the reason into the caller's buffer; they
 * never log and never exit.  Every descriptor is O_CLOEXEC and, except
 * where said, O_NONBLOCK. */
#ifndef NESTD_NET_H
#define NESTD_NET_H

#include <stddef.h>

enum net_scheme { NET_TCP, NET_UNIX };
enum url_scheme { URL_WS, URL_WSS, URL_HTTP, URL_HTTPS, URL_UNIX };

struct net_addr {
	enum net_scheme kind;
	char host[256];      /* without brackets */
	char port[8];
	char path[108];      /* unix socket path */
	int tls;             /* "tls:HOST:PORT": TLS forced on this listener */
	unsigned mode;       /* unix listener: the socket's permission bits
			      * exactly (0: as the umask makes them) */
};

struct net_url {
	enum url_scheme scheme;
	char host[256];      /* without brackets; "localhost" for unix: */
	char port[8];
	char path[1024];     /* request target, at least "/" */
	char unix_path[108];
	int tls;
};

/* "HOST:PORT", "[V6]:PORT", "unix:PATH", "tls:HOST:PORT" */
int net_parse_addr(const char *s, struct net_addr *a, char *err, size_t errlen);
/* "ws://HOST[:PORT][/PATH]", "wss://", "http://", "https://", "unix:PATH" */
int net_parse_url(const char *s, struct net_url *u, char *err, size_t errlen);
/* One syntax for both: a --listen address may be written as the URL that
 * reaches it (http:// or ws://HOST:PORT[/], https:// or wss:// for tls:),
 * and a client's URL as the address the server listens on (HOST:PORT for
 * http://, tls:HOST:PORT for https://).  0 with out filled in, or -1 when
 * s is not of that other spelling (unix:PATH is the same in both). */
int net_url_as_addr(const char *url, char *out, size_t n);
int net_addr_as_url(const char *addr, char *out, size_t n);

/* Listening socket; a unix socket path left behind by a dead server is
 * replaced, one that a live server answers on is not. */
int net_listen(const struct net_addr *a, char *err, size_t errlen);
/* Accepts one connection, non-blocking; peer gets "ADDR:PORT" or "unix".
 * -1 with errno set (EAGAIN when there is nothing to accept). */
int net_accept(int lfd, char *peer, size_t peerlen);
/* Starts a non-blocking connect (resolving the host, which may block
 * briefly).  Returns the fd; completion shows as POLLOUT, then
 * net_connect_result() says whether it worked. */
int net_connect(const struct net_url *u, char *err, size_t errlen);
int net_connect_result(int fd, char *err, size_t errlen);
/* The same to the nth address (modulo their number) the host resolves to,
 * their number in *count (1 for unix:), so that a caller can go round a
 * name that stands for several servers. */
int net_connect_at(const struct net_url *u, unsigned nth, unsigned *count, char *err,
		   size_t errlen);
/* The same without blocking, for an event loop: a name that is no IP
 * literal is resolved by a child process (getaddrinfo may wait seconds
 * for a resolver).  net_resolve_start returns the read end of a pipe
 * (non-blocking) that turns readable when the child has answered, its
 * pid in *pid; or -2 when u needs no resolving (an IP literal, unix:):
 * call net_connect.  net_resolve_finish reads the answer, reaps the child
 * and starts the connect: a descriptor as net_connect's, or -1 with err.
 * net_resolve_cancel ends a child not waited for (kill, reap, close). */
int net_resolve_start(const struct net_url *u, int *pid, char *err, size_t errlen);
int net_resolve_finish(int rfd, int pid, const struct net_url *u, char *err, size_t errlen);
void net_resolve_cancel(int rfd, int pid);
/* 1 for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost". */
int net_is_loopback(const char *host);
/* inet_ntop's text for an AF_INET (4 bytes) or AF_INET6 (16 bytes)
 * address, by glibc's rules (RFC 5952: lowercase, the first longest run of
 * two or more zero groups as "::", IPv4-mapped and -compatible addresses
 * with their dotted tail) into out (room for INET6_ADDRSTRLEN).  libc's
 * inet_ntop calls snprintf, which would bring all of musl's printf back
 * into the static binary for it. */
void net_ntop(int family, const void *addr, char *out);
/* Writes the descriptor's peer address as text. */
void net_peer_name(int fd, char *out, size_t n);

#endif
