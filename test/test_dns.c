/* test_dns.c - dns.c's core: the query it builds (byte for byte against
 * RFC 1035's layout), the answers it takes and the ones it must not
 * (another id, another question, malformed lengths, compression loops and
 * forward pointers, truncation, the error codes), resolv.conf and hosts as
 * musl reads them, and the order of the names tried with a search list.
 * The I/O against a real DNS server: test/it_dns.py. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "t.h"
#include "dns.h"

void test_dns_query(void);
void test_dns_answer(void);
void test_dns_answer_bad(void);
void test_dns_conf(void);
void test_dns_hosts(void);
void test_dns_names(void);

void test_dns_query(void)
{
	static const unsigned char want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'a', 'p', 'i', 5, 's', 'l', 'a', 'c', 'k', 3, 'c', 'o', 'm', 0,
		0, 28, 0, 1,
	};
	unsigned char q[300];
	char name[300];
	size_t n = dns_query(q, sizeof(q), 0x1234, "api.slack.com", 28);

	CHECK_MEM(q, n, want, sizeof(want));
	CHECK(dns_query(q, sizeof(q), 1, "", 1) == 0);
	CHECK(dns_query(q, sizeof(q), 1, "a..b", 1) == 0);
	CHECK(dns_query(q, sizeof(q), 1, "a.", 1) == 0);   /* the caller strips the dot */
	memset(name, 'x', 64);
	name[64] = '\0';
	CHECK(dns_query(q, sizeof(q), 1, name, 1) == 0);   /* a label of 64 */
	name[63] = '\0';
	CHECK(dns_query(q, sizeof(q), 1, name, 1) == 12 + 65 + 4);
	/* 253 characters is the longest name (255 bytes encoded), 254 too long */
	memset(name, 'a', 253);
	for (n = 63; n < 253; n += 64)
		name[n] = '.';
	name[253] = '\0';
	CHECK(dns_query(q, sizeof(q), 1, name, 1) == 12 + 255 + 4);
	name[253] = 'a';
	name[254] = '\0';
	CHECK(dns_query(q, sizeof(q), 1, name, 1) == 0);
	CHECK(dns_query(q, 100, 1, "short", 1) == 0);     /* no room promised */
}

/* An answer to q: header copied from it with QR and rcode, the question,
 * then the records given as raw bytes. */
static size_t reply(unsigned char *m, const unsigned char *q, size_t qn, int flags3,
		    int ancount, const unsigned char *rr, size_t rrn)
{
	memcpy(m, q, qn);
	m[2] = 0x81;
	m[3] = (unsigned char)flags3;
	m[6] = 0;
	m[7] = (unsigned char)ancount;
	memcpy(m + qn, rr, rrn);
	return qn + rrn;
}

void test_dns_answer(void)
{
	/* A CNAME to a name written with a pointer into the question, then
	 * its A record whose name points at the CNAME's target; then an
	 * AAAA the A query did not ask for, then a second A. */
	static const unsigned char rr[] = {
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'w', 'w', 0xc0, 17,
		0xc0, 42, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7,
		0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 8,
	};
	unsigned char q[300], m[600];
	size_t qn = dns_query(q, sizeof(q), 0xbeef, "host.example", 1), n;
	struct dns_list l = { 0 };
	int i;

	n = reply(m, q, qn, 0, 4, rr, sizeof(rr));
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_OK);
	CHECK(l.n == 2 && l.a[0].family == AF_INET && l.a[1].family == AF_INET);
	CHECK(!memcmp(l.a[0].a, "\x0a\x00\x00\x07", 4) && !memcmp(l.a[1].a, "\x0a\x00\x00\x08", 4));
	/* the question in another case (DNS 0x20) is the same question */
	m[13] ^= 0x20;
	l.n = 0;
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_OK && l.n == 2);
	m[13] ^= 0x20;
	/* no more than DNS_ADDRS, however many there are */
	l.n = 0;
	for (i = 0; i < 10; i++)
		CHECK(dns_answer(m, n, q, qn, &l) == DNS_OK);
	CHECK(l.n == DNS_ADDRS);
	/* the codes */
	l.n = 0;
	n = reply(m, q, qn, 3, 0, rr, 0);
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_NXDOMAIN);
	n = reply(m, q, qn, 2, 0, rr, 0);
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_SERVFAIL);
	n = reply(m, q, qn, 5, 0, rr, 0);
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_REFUSED);
	n = reply(m, q, qn, 0, 0, rr, 0);
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_OK && l.n == 0);   /* no data */
	n = reply(m, q, qn, 0, 4, rr, 20);   /* cut short, but TC says so */
	m[2] |= 2;
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_TRUNCATED && l.n == 0);
}

void test_dns_answer_bad(void)
{
	static const unsigned char a_rec[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4 };
	unsigned char q[300], m[600], bad[64];
	size_t qn = dns_query(q, sizeof(q), 0x0102, "x.test", 1), n;
	struct dns_list l = { 0 };

	n = reply(m, q, qn, 0, 1, a_rec, sizeof(a_rec));
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_OK && l.n == 1);
	l.n = 0;
	m[1] ^= 1;   /* another id */
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	m[1] ^= 1;
	m[qn - 5] = 'y';   /* another name */
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	m[qn - 5] = 0;
	m[12] ^= 0x20;     /* a length byte is no letter: not the same in another case */
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	m[12] ^= 0x20;
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_OK);
	m[qn - 3] = 28;   /* another type */
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	m[qn - 3] = 1;
	m[2] = 0x01;   /* a query, not a response */
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	m[2] = 0x81;
	CHECK(dns_answer(m, qn - 1, q, qn, &l) == DNS_IGNORE);   /* shorter than the question */
	CHECK(dns_answer(m, n - 1, q, qn, &l) == DNS_IGNORE);    /* rdata cut */
	CHECK(dns_answer(m, qn + 5, q, qn, &l) == DNS_IGNORE);   /* record header cut */
	m[7] = 2;   /* one record more than there is */
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	CHECK(l.n == 1);   /* nothing added by the answers refused */
	/* a pointer to itself, a pointer forwards, a reserved label type */
	memcpy(bad, a_rec, sizeof(a_rec));
	bad[0] = 0xc0;
	bad[1] = (unsigned char)qn;
	n = reply(m, q, qn, 0, 1, bad, sizeof(a_rec));
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	bad[1] = (unsigned char)(qn + 4);
	n = reply(m, q, qn, 0, 1, bad, sizeof(a_rec));
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	bad[0] = 0x80;
	n = reply(m, q, qn, 0, 1, bad, sizeof(a_rec));
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_IGNORE);
	/* an A record whose length is not 4 is skipped, not read */
	memcpy(bad, a_rec, sizeof(a_rec));
	bad[11] = 3;
	n = reply(m, q, qn, 0, 1, bad, sizeof(a_rec) - 1);
	l.n = 0;
	CHECK(dns_answer(m, n, q, qn, &l) == DNS_OK && l.n == 0);
}

void test_dns_conf(void)
{
	struct dns_conf c;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c.ns[0];
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c.ns[1];

	dns_conf_parse("", &c);
	CHECK(c.nns == 1 && c.ndots == 1 && c.timeout == 5 && c.attempts == 2 && !c.search[0]);
	CHECK(s4->sin_family == AF_INET && s4->sin_addr.s_addr == htonl(0x7f000001) &&
	      s4->sin_port == htons(53));
	CHECK_STR(c.ns_text[0], "127.0.0.1");
	dns_conf_parse("# a comment\nnameserver 10.1.2.3\nnameserver\t::1 \n"
		       "nameserver bogus\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n"
		       "domain first.test\nsearch  corp.test  lab.test \r\n"
		       "options rotate ndots:3 timeout:99 attempts:0\n"
		       "nameservers 9.9.9.9\n", &c);
	CHECK(c.nns == 3);
	CHECK(s4->sin_addr.s_addr == htonl(0x0a010203));
	CHECK(s6->sin6_family == AF_INET6 && s6->sin6_port == htons(53));
	CHECK_STR(c.ns_text[1], "::1");
	CHECK_STR(c.ns_text[2], "10.0.0.3");
	CHECK_STR(c.search, "corp.test  lab.test");   /* the last line wins */
	CHECK(c.ndots == 3 && c.timeout == 60 && c.attempts == 1);
	dns_conf_parse("options ndots:40 attempts:25\n", &c);
	CHECK(c.ndots == 15 && c.attempts == 10);
}

void test_dns_hosts(void)
{
	static const char hosts[] =
		"127.0.0.1\tlocalhost\n"
		"# 10.0.0.1 commented\n"
		"10.0.0.2 build build.lab.test # 10.0.0.3 build\n"
		"::1 localhost ip6-localhost\n"
		"not-an-address build\n"
		"10.0.0.4 Mixed.Case.Test\n"
		"10.0.0.5";
	struct dns_list l = { 0 };

	dns_hosts(hosts, "localhost", &l);
	CHECK(l.n == 2 && l.a[0].family == AF_INET && l.a[1].family == AF_INET6);
	l.n = 0;
	dns_hosts(hosts, "build", &l);
	CHECK(l.n == 1 && !memcmp(l.a[0].a, "\x0a\x00\x00\x02", 4));
	l.n = 0;
	dns_hosts(hosts, "mixed.case.test.", &l);
	CHECK(l.n == 1 && !memcmp(l.a[0].a, "\x0a\x00\x00\x04", 4));
	l.n = 0;
	dns_hosts(hosts, "commented", &l);
	dns_hosts(hosts, "buil", &l);
	dns_hosts(hosts, "", &l);
	CHECK(l.n == 0);
	CHECK(dns_numeric("10.1.2.3", &l) == 1 && dns_numeric("127.1", &l) == 1 &&
	      dns_numeric("fe80::1", &l) == 1 && l.n == 3);
	CHECK(l.a[1].a[0] == 127 && l.a[1].a[3] == 1 && l.a[2].family == AF_INET6);
	CHECK(dns_numeric("example.com", &l) == 0 && dns_numeric("1.2.3.4.5", &l) == 0 && l.n == 3);
}

void test_dns_names(void)
{
	struct dns_conf c;
	char out[256];

	dns_conf_parse("search corp.test lab.test.\n", &c);
	CHECK(dns_name(&c, "api", 0, out, sizeof(out)) == 1);
	CHECK_STR(out, "api.corp.test");
	CHECK(dns_name(&c, "api", 1, out, sizeof(out)) == 1);
	CHECK_STR(out, "api.lab.test");
	CHECK(dns_name(&c, "api", 2, out, sizeof(out)) == 1);
	CHECK_STR(out, "api");
	CHECK(dns_name(&c, "api", 3, out, sizeof(out)) == 0);
	/* as many dots as ndots (1): no search, as musl */
	CHECK(dns_name(&c, "api.example", 0, out, sizeof(out)) == 1);
	CHECK_STR(out, "api.example");
	CHECK(dns_name(&c, "api.example", 1, out, sizeof(out)) == 0);
	/* a trailing dot: global, the dot dropped */
	CHECK(dns_name(&c, "api.", 0, out, sizeof(out)) == 1);
	CHECK_STR(out, "api");
	CHECK(dns_name(&c, "api.", 1, out, sizeof(out)) == 0);
	CHECK(dns_name(&c, "api..", 0, out, sizeof(out)) == 0);
	CHECK(dns_name(&c, "", 0, out, sizeof(out)) == 0);
	dns_conf_parse("search corp.test\noptions ndots:2\n", &c);
	CHECK(dns_name(&c, "api.eu", 0, out, sizeof(out)) == 1);
	CHECK_STR(out, "api.eu.corp.test");
}
