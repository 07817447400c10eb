/* test_net.c - net.h's parsers: net_parse_url (ws, wss, http, https, unix:
 * with default ports, IPv6 brackets, paths, every bound) and
 * net_parse_addr (HOST:PORT, [V6]:PORT, tls:, unix:), and
 * net_is_loopback.  Only the parsers: nothing here opens a socket. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../net.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* Parses s as a URL: 1 when it is accepted with these fields (host, port,
 * path; unix_path for unix:), 0 (with the reason printed) otherwise. */
static int url_is(const char *s, enum url_scheme sc, int tls, const char *host,
		  const char *port, const char *path)
{
	struct net_url u;
	char err[300] = "";

	if (net_parse_url(s, &u, err, sizeof(err)) != 0) {
		fprintf(stderr, "  url '%.80s' refused: %s\n", s, err);
		return 0;
	}
	if (u.scheme != sc || u.tls != tls || strcmp(u.host, host) != 0 ||
	    (sc != URL_UNIX && strcmp(u.port, port) != 0) ||
	    strcmp(sc == URL_UNIX ? u.unix_path : u.path, path) != 0) {
		fprintf(stderr, "  url '%.80s': scheme %d tls %d host '%s' port '%s' path '%.80s' unix '%.80s'\n",
			s, (int)u.scheme, u.tls, u.host, u.port, u.path, u.unix_path);
		return 0;
	}
	return 1;
}

/* 1 when s is refused with a reason that names it (or part of it). */
static int url_bad(const char *s)
{
	struct net_url u;
	char err[300] = "";

	if (net_parse_url(s, &u, err, sizeof(err)) == 0) {
		fprintf(stderr, "  url '%.80s' accepted: host '%s' port '%s' path '%.80s'\n", s, u.host, u.port, u.path);
		return 0;
	}
	return err[0] != '\0';
}

static int addr_is(const char *s, enum net_scheme kind, int tls, const char *host, const char *port,
		   const char *path)
{
	struct net_addr a;
	char err[300] = "";

	if (net_parse_addr(s, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "  addr '%.80s' refused: %s\n", s, err);
		return 0;
	}
	if (a.kind != kind || a.tls != tls ||
	    (kind == NET_TCP && (strcmp(a.host, host) != 0 || strcmp(a.port, port) != 0)) ||
	    (kind == NET_UNIX && strcmp(a.path, path) != 0)) {
		fprintf(stderr, "  addr '%.80s': kind %d tls %d host '%s' port '%s' path '%.80s'\n",
			s, (int)a.kind, a.tls, a.host, a.port, a.path);
		return 0;
	}
	return 1;
}

static int addr_bad(const char *s)
{
	struct net_addr a;
	char err[300] = "";

	if (net_parse_addr(s, &a, err, sizeof(err)) == 0) {
		fprintf(stderr, "  addr '%.80s' accepted: host '%s' port '%s' path '%.80s'\n", s, a.host, a.port, a.path);
		return 0;
	}
	return err[0] != '\0';
}

/* buf = first, then n - 1 times c: an n-byte string. */
static const char *run_of(char *buf, char first, char c, size_t n)
{
	buf[0] = first;
	memset(buf + 1, c, n - 1);
	buf[n] = '\0';
	return buf;
}

/* The URL fmt % arg is accepted with host (NULL: arg), port 80 and path
 * (NULL: arg), and fmt % arg + "x" at the end of arg is refused. */
static int url_bound(const char *fmt, const char *arg, enum url_scheme sc, const char *host,
		     const char *path)
{
	char s[1400], longer[1300];

	snprintf(s, sizeof(s), fmt, arg);
	if (!url_is(s, sc, 0, host ? host : arg, "80", path ? path : arg))
		return 0;
	snprintf(longer, sizeof(longer), "%sx", arg);
	snprintf(s, sizeof(s), fmt, longer);
	return url_bad(s);
}

void test_net_url_schemes(void)
{
	CHECK(url_is("ws://example.org/", URL_WS, 0, "example.org", "80", "/"));
	CHECK(url_is("ws://example.org", URL_WS, 0, "example.org", "80", "/"));
	CHECK(url_is("wss://example.org/", URL_WSS, 1, "example.org", "443", "/"));
	CHECK(url_is("http://127.0.0.1:8989", URL_HTTP, 0, "127.0.0.1", "8989", "/"));
	CHECK(url_is("https://bot.example.org:8443/api", URL_HTTPS, 1, "bot.example.org", "8443", "/api"));
	CHECK(url_is("ws://h:1/", URL_WS, 0, "h", "1", "/"));
	CHECK(url_is("ws://h:65535/", URL_WS, 0, "h", "65535", "/"));
	/* Schemes are case-insensitive (RFC 3986 3.1). */
	CHECK(url_is("WSS://Example.org/", URL_WSS, 1, "Example.org", "443", "/"));
	CHECK(url_is("HTTP://x/", URL_HTTP, 0, "x", "80", "/"));
	/* The request target is kept whole: path and query. */
	CHECK(url_is("ws://h:81/nest/ws?x=1&y=%20", URL_WS, 0, "h", "81", "/nest/ws?x=1&y=%20"));
	/* IPv6 in brackets; the brackets are not part of the host. */
	CHECK(url_is("ws://[::1]:8989/", URL_WS, 0, "::1", "8989", "/"));
	CHECK(url_is("wss://[2001:db8::1]/x", URL_WSS, 1, "2001:db8::1", "443", "/x"));
	CHECK(url_is("http://[fe80::1%25eth0]:80/", URL_HTTP, 0, "fe80::1%25eth0", "80", "/"));
	/* unix: (and the unix:// spelling) */
	CHECK(url_is("unix:/run/nestd.sock", URL_UNIX, 0, "localhost", "", "/run/nestd.sock"));
	CHECK(url_is("unix:///run/nestd.sock", URL_UNIX, 0, "localhost", "", "/run/nestd.sock"));
	CHECK(url_is("unix:rel.sock", URL_UNIX, 0, "localhost", "", "rel.sock"));
	{
		struct net_url u;
		char err[100];

		CHECK(net_parse_url("unix:/x.sock", &u, err, sizeof(err)) == 0 && strcmp(u.path, "/") == 0);
	}
}

void test_net_url_bad(void)
{
	char s[1400], p[1100];

	/* Schemes nestd does not speak, or none. */
	CHECK(url_bad("ftp://h/"));
	CHECK(url_bad("ws:/h/"));
	CHECK(url_bad("ws:h"));
	CHECK(url_bad("h:80"));
	CHECK(url_bad("//h/"));
	CHECK(url_bad(""));
	CHECK(url_bad("wsx://h/"));
	/* Missing host. */
	CHECK(url_bad("ws://"));
	CHECK(url_bad("ws:///"));
	CHECK(url_bad("ws://:80/"));
	CHECK(url_bad("https://[]:443/"));
	/* Ports: 1..65535, digits only. */
	CHECK(url_bad("ws://h:0/"));
	CHECK(url_bad("ws://h:65536/"));
	CHECK(url_bad("ws://h:99999/"));
	CHECK(url_bad("ws://h:123456/"));
	CHECK(url_bad("ws://h:/"));
	CHECK(url_bad("ws://h:-1/"));
	CHECK(url_bad("ws://h:8o/"));
	CHECK(url_bad("ws://h:80x/"));
	CHECK(url_bad("ws://h:0x50/"));
	CHECK(url_bad("ws://h:+80/") && url_bad("ws://h: 80/"));
	/* IPv6: brackets needed, and closed, and followed by ':' or '/'. */
	CHECK(url_bad("ws://::1:80/"));
	CHECK(url_bad("ws://[::1/"));
	CHECK(url_bad("ws://[::1]x/"));
	CHECK(url_bad("ws://[::1]:/"));
	/* Credentials are not supported; nor fragments or blanks in the path. */
	CHECK(url_bad("ws://user:pw@h/"));
	CHECK(url_bad("ws://user@h/"));
	CHECK(url_bad("ws://h/a b"));
	CHECK(url_bad("ws://h/a#frag"));
	CHECK(url_bad("ws://h/a\tb"));
	CHECK(url_bad("ws://h/a\x7f"));
	CHECK(url_bad("ws://h/\r\nX-Injected: 1"));
	/* unix: needs a path. */
	CHECK(url_bad("unix:"));
	CHECK(url_bad("unix://"));

	/* Host: at most 255 bytes; path: at most 1023. */
	CHECK(url_bound("ws://%s:80/", run_of(p, 'a', 'a', 255), URL_WS, NULL, "/"));
	CHECK(url_bound("ws://h%s", run_of(p, '/', 'p', 1023), URL_WS, "h", NULL));
	/* unix: paths fit sun_path: at most 107 bytes. */
	run_of(p, '/', 'u', 107);
	snprintf(s, sizeof(s), "unix:%s", p);
	CHECK(url_is(s, URL_UNIX, 0, "localhost", "", p));
	snprintf(s, sizeof(s), "unix://%s", p);
	CHECK(url_is(s, URL_UNIX, 0, "localhost", "", p));
	snprintf(s, sizeof(s), "unix:%su", p);
	CHECK(url_bad(s));
	/* A reason is always written, and fits the caller's buffer. */
	{
		struct net_url u;
		char err[16];

		memset(err, 'x', sizeof(err));
		CHECK(net_parse_url("ftp://a-rather-long-host-name/", &u, err, sizeof(err)) == -1 &&
		      memchr(err, '\0', sizeof(err)) != NULL);
	}
}

void test_net_addr(void)
{
	char s[400], p[300];

	CHECK(addr_is("127.0.0.1:8989", NET_TCP, 0, "127.0.0.1", "8989", ""));
	CHECK(addr_is("0.0.0.0:1", NET_TCP, 0, "0.0.0.0", "1", ""));
	CHECK(addr_is("localhost:65535", NET_TCP, 0, "localhost", "65535", ""));
	CHECK(addr_is("[::1]:8989", NET_TCP, 0, "::1", "8989", ""));
	CHECK(addr_is("[::]:443", NET_TCP, 0, "::", "443", ""));
	CHECK(addr_is("tls:127.0.0.1:8443", NET_TCP, 1, "127.0.0.1", "8443", ""));
	CHECK(addr_is("tls:[::1]:8443", NET_TCP, 1, "::1", "8443", ""));
	CHECK(addr_is("unix:/run/nestd.sock", NET_UNIX, 0, "", "", "/run/nestd.sock"));
	CHECK(addr_is("unix:rel/x.sock", NET_UNIX, 0, "", "", "rel/x.sock"));

	/* A port is required (a listener has no default), 1..65535. */
	CHECK(addr_bad("127.0.0.1"));
	CHECK(addr_bad("127.0.0.1:"));
	CHECK(addr_bad("127.0.0.1:0"));
	CHECK(addr_bad("127.0.0.1:65536"));
	CHECK(addr_bad("127.0.0.1:http"));
	CHECK(addr_bad(":8989"));
	CHECK(addr_bad(""));
	CHECK(addr_bad("[::1]"));
	CHECK(addr_bad("::1:8989"));
	CHECK(addr_bad("[::1:8989"));
	CHECK(addr_bad("[]:8989"));
	CHECK(addr_bad("tls:"));
	CHECK(addr_bad("tls:127.0.0.1"));
	CHECK(addr_bad("tls:unix:/x.sock"));
	CHECK(addr_bad("unix:"));
	/* URLs are not addresses. */
	CHECK(addr_bad("ws://127.0.0.1:8989/"));

	/* Bounds: host 255 bytes, unix path 107. */
	run_of(p, 'h', 'h', 255);
	snprintf(s, sizeof(s), "%s:80", p);
	CHECK(addr_is(s, NET_TCP, 0, p, "80", ""));
	snprintf(s, sizeof(s), "%sh:80", p);
	CHECK(addr_bad(s));
	run_of(p, '/', 'u', 107);
	snprintf(s, sizeof(s), "unix:%s", p);
	CHECK(addr_is(s, NET_UNIX, 0, "", "", p));
	snprintf(s, sizeof(s), "unix:%su", p);
	CHECK(addr_bad(s));
}

void test_net_is_loopback(void)
{
	CHECK(net_is_loopback("127.0.0.1"));
	CHECK(net_is_loopback("127.255.0.9"));
	CHECK(net_is_loopback("::1"));
	CHECK(net_is_loopback("::ffff:127.0.0.1"));
	CHECK(net_is_loopback("localhost"));
	CHECK(!net_is_loopback("0.0.0.0"));
	CHECK(!net_is_loopback("::"));
	CHECK(!net_is_loopback("128.0.0.1"));
	CHECK(!net_is_loopback("10.0.0.1"));
	CHECK(!net_is_loopback("127.example.org"));
	CHECK(!net_is_loopback("localhost.example.org"));
	CHECK(!net_is_loopback("::ffff:10.0.0.1"));
	CHECK(!net_is_loopback(""));
}

/* net_ntop against libc's inet_ntop, which it stands in for: the usual
 * forms, every placement of zero runs (ties, one zero group, at either
 * end), mapped and compatible IPv4 tails, and random addresses built of
 * zero and non-zero groups. */
void test_net_ntop(void);
void test_net_ntop(void)
{
	static const char *const v6[] = {
		"::", "::1", "1::", "fe80::1", "2001:db8::8:800:200c:417a", "2001:db8:0:0:1:0:0:1",
		"2001:db8::1:0:0:1", "1:0:0:2:0:0:0:3", "1:0:2:0:3:0:4:0", "0:1:0:1:0:1:0:1",
		"::ffff:127.0.0.1", "::ffff:0.0.0.0", "::1.2.3.4", "::0.0.1.2", "::ffff:1:2",
		"1:2:3:4:5:6:7:8", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:0:1::", "::ffff",
		"64:ff9b::192.0.2.33",
	};
	unsigned char a[16];
	char got[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN];
	size_t i, j;
	int bad = 0;

	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		CHECK(inet_pton(AF_INET6, v6[i], a) == 1);
		net_ntop(AF_INET6, a, got);
		inet_ntop(AF_INET6, a, want, sizeof(want));
		CHECK_STR(got, want);
	}
	srand(7);
	for (i = 0; i < 5000; i++) {
		for (j = 0; j < 16; j += 2) {
			int r = rand() % 4;

			a[j] = r == 0 ? 0 : r == 1 ? 0xff : (unsigned char)rand();
			a[j + 1] = r == 0 ? 0 : (unsigned char)rand();
		}
		if (i % 7 == 0)
			memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		net_ntop(AF_INET6, a, got);
		inet_ntop(AF_INET6, a, want, sizeof(want));
		if (strcmp(got, want)) {
			bad++;
			fprintf(stderr, "net_ntop: got %s, inet_ntop %s\n", got, want);
		}
		net_ntop(AF_INET, a, got);
		inet_ntop(AF_INET, a, want, sizeof(want));
		bad += strcmp(got, want) != 0;
	}
	CHECK(bad == 0);
}
