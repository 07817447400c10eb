/* dns.c - our own small stub resolver (see dns.h for what and why).
 *
 * The core first (no I/O): the query, the answer, the two files' readers
 * and the names to try; then the I/O, which only sends, waits and reads. */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "buf.h"
#include "fmt.h"
#include "loop.h"
#include "rnd.h"
#include "num.h"

#define T_A    1
#define T_AAAA 28

size_t dns_query(unsigned char *q, size_t cap, unsigned id, const char *name, int type)
{
	size_t n = 12;
	const char *p = name;

	if (cap < 12 + 255 + 4)
		return 0;
	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 1;                       /* RD */
	q[5] = 1;                       /* one question */
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (len == 0 || len > 63 || n - 12 + len + 2 > 255)
			return 0;
		q[n++] = (unsigned char)len;
		memcpy(q + n, p, len);
		n += len;
		if (!dot)
			break;
		p = dot + 1;
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = (unsigned char)type;
	q[n++] = 0;
	q[n++] = 1;                     /* class IN */
	return n;
}

/* Past the name at *off, checked whole: labels of at most 63 bytes,
 * compression pointers only backwards (so no loop), 255 bytes in all;
 * *off then is where the name ends in place.  0, or -1 when malformed. */
static int name_end(const unsigned char *m, size_t n, size_t *off)
{
	size_t o = *off, total = 0, end = 0;
	int hops;

	for (hops = 0; hops < 128; hops++) {
		unsigned c;

		if (o >= n)
			return -1;
		c = m[o];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (o + 1 >= n)
				return -1;
			to = (size_t)(c & 0x3f) << 8 | m[o + 1];
			if (!end)
				end = o + 2;
			if (to >= o)
				return -1;
			o = to;
			continue;
		}
		if (c & 0xc0)
			return -1;      /* the reserved label types */
		total += c + 1;
		if (total > 255)
			return -1;
		if (!c) {
			*off = end ? end : o + 1;
			return 0;
		}
		o += 1 + c;
	}
	return -1;
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void add(struct dns_list *l, int family, const void *a, size_t n)
{
	if (l->n >= DNS_ADDRS)
		return;
	l->a[l->n].family = family;
	memset(l->a[l->n].a, 0, sizeof(l->a[l->n].a));
	memcpy(l->a[l->n].a, a, n);
	l->n++;
}

/* The header and question of m are those of q (the id, a response to a
 * standard query, the same name in any case, type and class). */
static int is_reply_to(const unsigned char *m, size_t n, const unsigned char *q, size_t qn)
{
	size_t i;

	if (qn < 17 || n < qn || m[0] != q[0] || m[1] != q[1] || !(m[2] & 0x80) ||
	    (m[2] & 0x78) || be16(m + 4) != 1)
		return 0;
	for (i = 12; i < qn; i++) {   /* letters in any case (DNS 0x20), the rest exact */
		unsigned a = m[i] | 0x20u;

		if (m[i] != q[i] && (a != (q[i] | 0x20u) || a < 'a' || a > 'z'))
			return 0;
	}
	return 1;
}

int dns_answer(const unsigned char *m, size_t n, const unsigned char *q, size_t qn,
	       struct dns_list *out)
{
	struct dns_list got = *out;
	unsigned type = be16(q + qn - 4), an, i, rc;
	size_t off = qn, want = type == T_A ? 4 : 16;

	if (!is_reply_to(m, n, q, qn))
		return DNS_IGNORE;
	rc = m[3] & 15;
	if (m[2] & 2)
		return DNS_TRUNCATED;
	if (rc == 3)
		return DNS_NXDOMAIN;
	if (rc == 2)
		return DNS_SERVFAIL;
	if (rc)
		return DNS_REFUSED;
	an = be16(m + 6);
	for (i = 0; i < an; i++) {
		unsigned rt, rclass, rdlen;

		if (name_end(m, n, &off) < 0 || n - off < 10)
			return DNS_IGNORE;
		rt = be16(m + off);
		rclass = be16(m + off + 2);
		rdlen = be16(m + off + 8);
		off += 10;
		if (n - off < rdlen)
			return DNS_IGNORE;
		if (rt == type && rclass == 1 && rdlen == want)
			add(&got, type == T_A ? AF_INET : AF_INET6, m + off, want);
		off += rdlen;
	}
	*out = got;
	return DNS_OK;
}

/* ------------------------------------------------------------------ */
/* The files */

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The line at p (up to '\n' or the end) as [p, *end); the next line's start. */
static const char *line_of(const char *p, const char **end)
{
	const char *nl = strchr(p, '\n');

	*end = nl ? nl : p + strlen(p);
	return nl ? nl + 1 : *end;
}

/* The word at or after p before end: [*w, return); p itself when none. */
static const char *word(const char *p, const char *end, const char **w)
{
	while (p < end && blank(*p))
		p++;
	*w = p;
	while (p < end && !blank(*p))
		p++;
	return p;
}

/* The number after "key:" anywhere in the line, capped; as musl reads it. */
static void option(const char *line, const char *end, const char *key, int cap, int *v)
{
	size_t kl = strlen(key);
	const char *p;

	for (p = line; p + kl < end; p++)
		if (!memcmp(p, key, kl) && p[kl] >= '0' && p[kl] <= '9') {
			long x = 0;

			for (p += kl; p < end && *p >= '0' && *p <= '9' && x <= cap; p++)
				x = x * 10 + (*p - '0');
			*v = x > cap ? cap : (int)x;
			return;
		}
}

static int starts(const char *line, const char *end, const char *key)
{
	size_t kl = strlen(key);

	return (size_t)(end - line) > kl && !memcmp(line, key, kl) && blank(line[kl]);
}

static void nameserver(struct dns_conf *c, const char *w, size_t wl)
{
	char a[sizeof(c->ns_text[0])];
	struct sockaddr_in *s4 = (struct sockaddr_in *)&c->ns[c->nns];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->ns[c->nns];

	if (c->nns >= DNS_NS || wl == 0 || wl >= sizeof(a))
		return;
	memcpy(a, w, wl);
	a[wl] = '\0';
	memset(&c->ns[c->nns], 0, sizeof(c->ns[0]));
	if (num_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
	} else if (num_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
	} else {
		return;
	}
	memcpy(c->ns_text[c->nns], a, wl + 1);
	c->nns++;
}

void dns_conf_parse(const char *text, struct dns_conf *c)
{
	const char *p = text, *end, *line, *w, *we;

	memset(c, 0, sizeof(*c));
	c->ndots = 1;
	c->timeout = 5;
	c->attempts = 2;
	while (*p) {
		line = p;
		p = line_of(p, &end);
		if (starts(line, end, "options")) {
			option(line, end, "ndots:", 15, &c->ndots);
			option(line, end, "attempts:", 10, &c->attempts);
			option(line, end, "timeout:", 60, &c->timeout);
		} else if (starts(line, end, "nameserver")) {
			we = word(line + 10, end, &w);
			nameserver(c, w, (size_t)(we - w));
		} else if (starts(line, end, "domain") || starts(line, end, "search")) {
			size_t l;

			word(line + 6, end, &w);
			for (we = end; we > w && blank(we[-1]); we--)
				;
			l = (size_t)(we - w);
			if (l < sizeof(c->search)) {
				memcpy(c->search, w, l);
				c->search[l] = '\0';
			}
		}
	}
	if (c->attempts < 1)
		c->attempts = 1;
	if (c->timeout < 1)
		c->timeout = 1;
	if (!c->nns)
		nameserver(c, "127.0.0.1", 9);
}

int dns_numeric(const char *name, struct dns_list *out)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (num_aton(name, (unsigned char *)&a4)) {   /* musl's and glibc's forms, 127.1 too */
		add(out, AF_INET, &a4, 4);
		return 1;
	}
	if (num_pton(AF_INET6, name, &a6) == 1) {
		add(out, AF_INET6, &a6, 16);
		return 1;
	}
	return 0;
}

/* Whether [w, we) is name, ignoring case and one trailing dot on either. */
static int same_name(const char *w, const char *we, const char *name)
{
	size_t l = (size_t)(we - w), nl = strlen(name);

	if (l && w[l - 1] == '.')
		l--;
	if (nl && name[nl - 1] == '.')
		nl--;
	return l == nl && l && !strncasecmp(w, name, l);
}

void dns_hosts(const char *text, const char *name, struct dns_list *out)
{
	const char *p = text, *end, *line, *w, *we;

	while (*p) {
		const char *hash;
		char a[64];
		size_t al;

		line = p;
		p = line_of(p, &end);
		hash = memchr(line, '#', (size_t)(end - line));
		if (hash)
			end = hash;
		we = word(line, end, &w);
		al = (size_t)(we - w);
		if (!al || al >= sizeof(a))
			continue;
		memcpy(a, w, al);
		a[al] = '\0';
		for (;;) {
			const char *n, *ne = word(we, end, &n);

			if (ne == n)
				break;
			if (same_name(n, ne, name)) {
				struct dns_list one = { 0 };

				if (dns_numeric(a, &one))
					add(out, one.a[0].family, one.a[0].a,
					    one.a[0].family == AF_INET ? 4 : 16);
				break;
			}
			we = ne;
		}
	}
}

int dns_name(const struct dns_conf *c, const char *name, int i, char *out, size_t cap)
{
	size_t l = strlen(name), k;
	int dots = 0, search;
	const char *p = c->search, *w, *we;

	for (k = 0; k < l; k++)
		dots += name[k] == '.';
	search = l && name[l - 1] != '.' && dots < c->ndots;
	if (l && name[l - 1] == '.')
		l--;
	if (!l || name[l - 1] == '.' || l >= cap)
		return 0;
	for (; search; p = we) {
		we = word(p, p + strlen(p), &w);
		if (we == w)
			break;
		k = (size_t)(we - w);
		if (w[k - 1] == '.')
			k--;
		if (!k || l + 1 + k >= cap || l + 1 + k > 253)
			continue;
		if (i-- == 0) {
			memcpy(out, name, l);
			out[l] = '.';
			memcpy(out + l + 1, w, k);
			out[l + 1 + k] = '\0';
			return 1;
		}
	}
	if (i != 0)
		return 0;
	memcpy(out, name, l);
	out[l] = '\0';
	return 1;
}

/* ------------------------------------------------------------------ */
/* The I/O */

#define WAITING 1             /* rc: no answer yet */
#define SYSERR(e) (-100 - (e))

/* One name's two queries (A, AAAA) in flight to every nameserver. */
struct ask {
	const struct dns_conf *c;
	unsigned char q[2][12 + 255 + 4];
	size_t qn[2];
	int fd[DNS_NS];
	int rc[2][DNS_NS];    /* WAITING, a dns_rc, or SYSERR(errno) */
	int done[2];          /* answered: DNS_OK or DNS_NXDOMAIN in nx */
	int nx[2];
	struct dns_list got[2];
	int64_t deadline;
};

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Until fd is ready for ev: 1, or 0 when the deadline came first. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, ev, 0 };
		int64_t left = deadline - loop_now();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

/* All k bytes out of (wr) or into b by the deadline: 0, or -1. */
static int tcp_io(int fd, unsigned char *b, size_t k, int wr, int64_t deadline)
{
	size_t done = 0;

	while (done < k) {
		ssize_t r;

		if (!wait_fd(fd, wr ? POLLOUT : POLLIN, deadline))
			return -1;
		r = wr ? send(fd, b + done, k - done, MSG_NOSIGNAL) : recv(fd, b + done, k - done, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* Query k asked again over TCP of nameserver s, whose UDP answer was
 * truncated: a dns_rc (DNS_TRUNCATED when TCP gave no answer). */
static int ask_tcp(const struct ask *a, int s, int k, struct dns_list *out)
{
	const struct sockaddr_storage *ss = &a->c->ns[s];
	unsigned char b[2 + sizeof(a->q[0])], *m = NULL;
	size_t qn = a->qn[k], len;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), rc = DNS_TRUNCATED;

	if (fd < 0)
		return rc;
	b[0] = (unsigned char)(qn >> 8);
	b[1] = (unsigned char)qn;
	memcpy(b + 2, a->q[k], qn);
	if ((connect(fd, (const struct sockaddr *)ss, ss_len(ss)) == 0 || errno == EINPROGRESS) &&
	    tcp_io(fd, b, qn + 2, 1, a->deadline) == 0 && tcp_io(fd, b, 2, 0, a->deadline) == 0) {
		len = be16(b);
		m = malloc(len + 1);
		if (m && tcp_io(fd, m, len, 0, a->deadline) == 0)
			rc = dns_answer(m, len, a->q[k], qn, out);
	}
	free(m);
	close(fd);
	return rc == DNS_IGNORE ? DNS_TRUNCATED : rc;
}

/* A datagram from nameserver s: the answer to one of the queries, or
 * nothing (another id or question: ignored, as an attacker's would be). */
static void on_udp(struct ask *a, int s)
{
	unsigned char m[4096];
	ssize_t n = recv(a->fd[s], m, sizeof(m), 0);
	int k;

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		for (k = 0; k < 2; k++)   /* ICMP's refusal: that server is out */
			if (a->rc[k][s] == WAITING)
				a->rc[k][s] = SYSERR(errno);
		return;
	}
	for (k = 0; k < 2; k++) {
		struct dns_list got = { 0 };
		int rc;

		if (a->done[k])
			continue;
		rc = dns_answer(m, (size_t)n, a->q[k], a->qn[k], &got);
		if (rc == DNS_IGNORE)
			continue;
		if (rc == DNS_TRUNCATED)
			rc = ask_tcp(a, s, k, &got);
		a->rc[k][s] = rc;
		if (rc == DNS_OK || rc == DNS_NXDOMAIN) {
			a->done[k] = 1;
			a->nx[k] = rc == DNS_NXDOMAIN;
			a->got[k] = got;
		}
		return;
	}
}

/* Query k has its answer, or every nameserver has failed it. */
static int settled(const struct ask *a, int k)
{
	int s;

	if (a->done[k])
		return 1;
	for (s = 0; s < a->c->nns; s++)
		if (a->rc[k][s] == WAITING)
			return 0;
	return 1;
}

/* Each query still waiting, to each nameserver still in the running. */
static void send_waiting(struct ask *a)
{
	int k, s;

	for (k = 0; k < 2; k++)
		for (s = 0; s < a->c->nns; s++)
			if (!a->done[k] && a->rc[k][s] == WAITING &&
			    send(a->fd[s], a->q[k], a->qn[k], MSG_NOSIGNAL) < 0 && errno != EAGAIN)
				a->rc[k][s] = SYSERR(errno);
}

/* Why query k of a has no answer, into err. */
static void why(const struct ask *a, int k, char *err, size_t errlen)
{
	int s, rc = WAITING;
	const char *ns = a->c->ns_text[0];

	for (s = 0; s < a->c->nns; s++)   /* a server's own word before a silence */
		if (a->rc[k][s] != WAITING) {
			rc = a->rc[k][s];
			ns = a->c->ns_text[s];
			break;
		}
	if (rc == WAITING)
		fmt_snprintf(err, errlen, "no answer from nameserver %s%s within %d s", ns,
			     a->c->nns > 1 ? " (nor the others)" : "", a->c->timeout);
	else if (rc == DNS_SERVFAIL)
		fmt_snprintf(err, errlen, "nameserver %s: server failure (SERVFAIL)", ns);
	else if (rc == DNS_REFUSED)
		fmt_snprintf(err, errlen, "nameserver %s refused the query", ns);
	else if (rc == DNS_TRUNCATED)
		fmt_snprintf(err, errlen, "nameserver %s: answer truncated, and none over TCP", ns);
	else
		fmt_snprintf(err, errlen, "nameserver %s: %s", ns, strerror(-(rc + 100)));
}

/* The two answers into out, A first: the count; 0 when both said the name
 * has none (*nx: NXDOMAIN); -1 with why. */
static int ask_result(const struct ask *a, struct dns_list *out, int *nx, char *err, size_t errlen)
{
	int k, i;

	for (k = 0; k < 2; k++)
		for (i = 0; i < a->got[k].n; i++)
			add(out, a->got[k].a[i].family, a->got[k].a[i].a, k ? 16 : 4);
	if (out->n)
		return out->n;
	for (k = 0; k < 2; k++)
		if (!a->done[k]) {
			why(a, k, err, errlen);
			return -1;
		}
	*nx = a->nx[0] || a->nx[1];
	return 0;
}

/* One name of every nameserver, within the timeout: as ask_result. */
static int ask_name(const struct dns_conf *c, const char *name, struct dns_list *out, int *nx,
		    char *err, size_t errlen)
{
	struct ask a;
	struct pollfd p[DNS_NS];
	unsigned char id[4] = { 0 };
	int64_t now = loop_now(), next = now, retry;
	int k, s, r;

	memset(&a, 0, sizeof(a));
	a.c = c;
	rnd_bytes(id, sizeof(id));
	for (k = 0; k < 2; k++) {
		a.qn[k] = dns_query(a.q[k], sizeof(a.q[k]), (unsigned)id[2 * k] << 8 | id[2 * k + 1], name,
				    k ? T_AAAA : T_A);
		if (!a.qn[k])
			return 0;
	}
	for (s = 0; s < c->nns; s++) {
		a.fd[s] = socket(c->ns[s].ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (a.fd[s] >= 0 && connect(a.fd[s], (const struct sockaddr *)&c->ns[s], ss_len(&c->ns[s])) < 0)
			a.rc[0][s] = a.rc[1][s] = SYSERR(errno);
		else
			a.rc[0][s] = a.rc[1][s] = a.fd[s] < 0 ? SYSERR(errno) : WAITING;
		p[s].fd = a.fd[s];
		p[s].events = POLLIN;
	}
	a.deadline = now + c->timeout * 1000;
	retry = c->timeout * 1000 / c->attempts;
	while (!(settled(&a, 0) && settled(&a, 1)) && (now = loop_now()) < a.deadline) {
		if (now >= next) {
			send_waiting(&a);
			next += retry;
		}
		if (poll(p, (nfds_t)c->nns, (int)((next < a.deadline ? next : a.deadline) - now)) <= 0)
			continue;
		for (s = 0; s < c->nns; s++)
			if (p[s].revents)
				on_udp(&a, s);
	}
	for (s = 0; s < c->nns; s++)
		if (a.fd[s] >= 0)
			close(a.fd[s]);
	r = ask_result(&a, out, nx, err, errlen);
	return r;
}

/* The text of a small file (its first 64 KiB) into b; b->p NULL when
 * there is none. */
static void file_text(const char *path, struct buf *b)
{
	buf_init(b, 65536);
	if (buf_read_file(b, path) < 0)
		buf_free(b);
}

int dns_resolve(const char *name, struct dns_list *out, char *err, size_t errlen)
{
	struct dns_conf c;
	struct buf text;
	char try[256];
	int i, r = 0, nx = 0;

	memset(out, 0, sizeof(*out));
	if (dns_numeric(name, out))
		return 0;
	file_text("/etc/hosts", &text);
	if (text.p)
		dns_hosts(text.p, name, out);
	buf_free(&text);
	if (out->n)
		return 0;
	file_text("/etc/resolv.conf", &text);
	dns_conf_parse(text.p ? text.p : "", &c);
	buf_free(&text);
	for (i = 0; r == 0 && dns_name(&c, name, i, try, sizeof(try)); i++)
		r = ask_name(&c, try, out, &nx, err, errlen);
	if (r > 0)
		return 0;
	if (r == 0)
		fmt_snprintf(err, errlen, nx ? "no such name (NXDOMAIN)" : "the name has no IPv4 or IPv6 address");
	return -1;
}
