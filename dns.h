/* dns.h - name to addresses, by our own small resolver, for both ends
 * (the agent's server, the server's Slack API host and the rest): musl's
 * getaddrinfo brings ~21 KB of resolver into the static binaries for what
 * this does in a fraction of that.
 *
 * The order is musl's: a numeric address; then /etc/hosts; then DNS, to
 * the nameservers of /etc/resolv.conf (at most 3; 127.0.0.1 when there is
 * none), with its search list (`search` or `domain`, the last line wins),
 * tried first for a name with fewer dots than `options ndots:` (1) and not
 * ending in a dot, and its `options timeout:` (5 s, the whole wait) and
 * `attempts:` (2: a query not answered is sent again every timeout /
 * attempts).  A and AAAA are asked of every nameserver at once over UDP; an
 * answer with TC set is asked again over TCP of the server that sent it.
 * The IPv4 addresses come first, then the IPv6 ones (no RFC 6724 sort: a
 * server listening on 0.0.0.0 only is the common case).
 *
 * The core (query, answer, resolv.conf and hosts readers, the list of names
 * to try) does no I/O and is what the unit tests and fuzz_dns drive. */
#ifndef NESTD_DNS_H
#define NESTD_DNS_H

#include <stddef.h>
#include <sys/socket.h>

#define DNS_ADDRS 8           /* addresses kept per name */
#define DNS_NS    3           /* nameservers, as MAXNS */

struct dns_addr {
	int family;           /* AF_INET or AF_INET6 */
	unsigned char a[16];
};

struct dns_list {
	int n;
	struct dns_addr a[DNS_ADDRS];
};

struct dns_conf {
	struct sockaddr_storage ns[DNS_NS];
	char ns_text[DNS_NS][48];   /* as written, for the messages */
	int nns;
	char search[256];     /* domains, blank-separated */
	int ndots, timeout, attempts;
};

/* What an answer said (dns_answer). */
enum dns_rc {
	DNS_OK = 0,           /* the addresses of the asked type added (maybe none) */
	DNS_NXDOMAIN = -1,    /* no such name */
	DNS_SERVFAIL = -2,    /* the server could not answer now */
	DNS_REFUSED = -3,     /* another error code: refused, not implemented */
	DNS_TRUNCATED = -4,   /* TC set: ask again over TCP */
	DNS_IGNORE = -5       /* not an answer to this query (id, question) or malformed */
};

/* The query for name (no trailing dot) and type (1 A, 28 AAAA), with id,
 * recursion desired, into q: its length, 0 when the name cannot be one
 * (empty label, a label over 63 bytes, over 255 in all). */
size_t dns_query(unsigned char *q, size_t cap, unsigned id, const char *name, int type);
/* Reads the answer m (n bytes) to the query q (qn bytes): one of dns_rc;
 * DNS_OK adds the answer section's records of q's type and class IN to out
 * (up to DNS_ADDRS in all).  Every length and pointer is checked. */
int dns_answer(const unsigned char *m, size_t n, const unsigned char *q, size_t qn,
	       struct dns_list *out);
/* resolv.conf's text (NUL-terminated) into c, musl's defaults first. */
void dns_conf_parse(const char *text, struct dns_conf *c);
/* The addresses /etc/hosts' text gives name (case-insensitive), added to out. */
void dns_hosts(const char *text, const char *name, struct dns_list *out);
/* A numeric IPv4 or IPv6 address into out: 1, else 0. */
int dns_numeric(const char *name, struct dns_list *out);
/* The i-th name to ask DNS for, i from 0, into out (without trailing
 * dot): 1, or 0 past the last.  Search domains first when name has fewer
 * dots than ndots and no trailing dot, then name itself. */
int dns_name(const struct dns_conf *c, const char *name, int i, char *out, size_t cap);

/* All of it, with I/O: 0 and out filled (n >= 1), or -1 with the reason
 * ("name not found", "no answer from 10.0.0.1 within 5 s", ...) in err. */
int dns_resolve(const char *name, struct dns_list *out, char *err, size_t errlen);

#endif
