/* fuzz_dns.c - libFuzzer target for dns.c's core: the answer parser, and
 * the resolv.conf and hosts readers with the names a search list gives.
 *
 * The input is an answer to the query for "host.corp.test" (A or AAAA, by
 * its first byte); its id and question are made those of the query for
 * half the inputs, so the parser's records are reached, not only its
 * refusal of strangers.  Properties checked (abort on violation):
 *  - no crash, and no read past the n bytes (ASan: the answer is copied
 *    into a buffer of exactly its size);
 *  - the result is one of dns_rc; addresses are added only on DNS_OK, at
 *    most DNS_ADDRS, all of the asked family;
 *  - the same input as text: nameservers at most DNS_NS, options in their
 *    ranges, every name tried NUL-terminated, shorter than its buffer, and
 *    a finite list of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "../dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)

static void answer(const uint8_t *data, size_t size)
{
	unsigned char q[300];
	int type = size && (data[0] & 1) ? 28 : 1, rc, i;
	size_t qn = dns_query(q, sizeof(q), 0x4242, "host.corp.test", type);
	struct dns_list l = { 0 };
	unsigned char *m;

	if (!size)
		return;
	m = malloc(size - 1 ? size - 1 : 1);
	if (!m)
		return;
	memcpy(m, data + 1, size - 1);
	if ((data[0] & 2) && size - 1 >= qn) {
		memcpy(m, q, 2);
		memcpy(m + 4, q + 4, 2);
		memcpy(m + 12, q + 12, qn - 12);
		m[2] |= 0x80;
		m[2] &= (unsigned char)~0x78;
	}
	rc = dns_answer(m, size - 1, q, qn, &l);
	MUST(rc <= DNS_OK && rc >= DNS_IGNORE);
	MUST(l.n >= 0 && l.n <= DNS_ADDRS);
	MUST(rc == DNS_OK || l.n == 0);
	for (i = 0; i < l.n; i++)
		MUST(l.a[i].family == (type == 1 ? AF_INET : AF_INET6));
	free(m);
}

static void text(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1), out[256];
	struct dns_conf c;
	struct dns_list l = { 0 };
	int i;

	if (!t)
		return;
	memcpy(t, data, size);
	t[size] = '\0';
	dns_conf_parse(t, &c);
	MUST(c.nns >= 1 && c.nns <= DNS_NS);
	MUST(c.ndots >= 0 && c.ndots <= 15 && c.timeout >= 1 && c.timeout <= 60);
	MUST(c.attempts >= 1 && c.attempts <= 10);
	MUST(memchr(c.search, '\0', sizeof(c.search)) != NULL);
	for (i = 0; dns_name(&c, "api", i, out, sizeof(out)); i++) {
		MUST(i < 200);
		MUST(strlen(out) < sizeof(out));
	}
	dns_hosts(t, "api", &l);
	dns_hosts(t, "localhost", &l);
	MUST(l.n >= 0 && l.n <= DNS_ADDRS);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	answer(data, size);
	text(data, size);
	return 0;
}
