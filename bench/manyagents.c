/* manyagents.c - N minimal agents in one process, for bench_agents.sh and
 * bench_storm.sh.
 *
 *   manyagents [-s NSRC] [-t CERT] [-R] [-T SECONDS] ADDR TOKENS
 *
 * One WebSocket connection per line of TOKENS ("NAME TOKEN"): the
 * handshake, the let_me_in_pls authentication, then every command
 * answered at once with {"status":"command_response","id":ID,...} and
 * every ping with a pong.  epoll, so a round costs what happened in it,
 * not the number of agents.
 *
 *   ADDR        unix:PATH or 127.0.0.1:PORT
 *   -s NSRC     TCP from 127.0.0.2 ... 127.0.0.(NSRC+1) in turn: each
 *               source address has its own ~28,000 ephemeral ports toward
 *               one server address, so 100,000 agents need four
 *   -t CERT     wss://: TLS through BearSSL, the server's public key taken
 *               from its certificate file (a bench: no chain to check);
 *               every agent keeps its session and offers it again when it
 *               reconnects, as nestd agent does
 *   -R          reconnect when the server closes or goes away, with the
 *               agent's backoff: full jitter from 1 s, doubling to 60 s
 *   -T SECONDS  give up after this long (default 600): the bound
 *
 * Prints, on stdout:
 *   ready N SECONDS       all N authenticated, the first time
 *   down                  (-R) a connection lost after ready: a storm
 *   back N SECONDS refused R resumed S full F
 *                         (-R) all N authenticated again, SECONDS after the
 *                         storm's first loss; R refusals by the server in it
 *                         (valid tokens all), S TLS sessions resumed, F
 *                         full handshakes (TLS); then ready for the next
 * and runs until SIGTERM/SIGINT or the bound. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if BENCH_TLS
#include <bearssl.h>
#include "base64.h"
#endif

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum phase { P_IDLE, P_CONNECTING, P_UPGRADE, P_AUTH, P_UP };

struct ag {
	int fd;
	enum phase phase;
	int attempt;
	double retry_at;        /* P_IDLE with -R: when to dial again */
	char *in;               /* a partial frame or head, or NULL */
	size_t len, cap;
	char token[80];
#if BENCH_TLS
	br_ssl_client_context *cc;
	unsigned char *iobuf;
	br_ssl_session_parameters sess;
	int has_sess, offered, hs_done, want_out;
#endif
};

static volatile sig_atomic_t stop;
static struct ag *ags;
static int nags, nsrc, reconnect, use_tls, epfd;
static const char *addr;
static unsigned char rbuf[65536];
static long long refused, resumed, full;
static int pending;       /* dialled, not yet authenticated */

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void drop(struct ag *a, const char *why);

/* ---- TLS (-t) ---- */

#if BENCH_TLS
static br_x509_knownkey_context xk;      /* stateless: one for all */
static unsigned char key_buf[1100];

/* The first certificate of a PEM file: its public key, for knownkey. */
static int load_key(const char *path)
{
	static char pem[65536];
	static unsigned char der[16384];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(pem, 1, sizeof(pem) - 1, f) : 0, k = 0;
	char *b, *e, *p;
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	static char b64[32768];

	if (f)
		fclose(f);
	pem[n] = '\0';
	b = strstr(pem, "-----BEGIN CERTIFICATE-----");
	e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
	if (!e)
		return -1;
	for (p = b + 27; p < e && k < sizeof(b64); p++)
		if (*p != '\n' && *p != '\r')
			b64[k++] = *p;
	k = base64_decode(b64, k, der, sizeof(der));
	if ((long)k <= 0)
		return -1;
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der, k);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk)
		return -1;
	if (pk->key_type == BR_KEYTYPE_EC) {
		static br_ec_public_key ec;

		memcpy(key_buf, pk->key.ec.q, pk->key.ec.qlen);
		ec.curve = pk->key.ec.curve;
		ec.q = key_buf;
		ec.qlen = pk->key.ec.qlen;
		br_x509_knownkey_init_ec(&xk, &ec, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	} else {
		static br_rsa_public_key rsa;

		memcpy(key_buf, pk->key.rsa.n, pk->key.rsa.nlen);
		memcpy(key_buf + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
		rsa.n = key_buf;
		rsa.nlen = pk->key.rsa.nlen;
		rsa.e = key_buf + pk->key.rsa.nlen;
		rsa.elen = pk->key.rsa.elen;
		br_x509_knownkey_init_rsa(&xk, &rsa, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	}
	return 0;
}

/* A fresh engine for a connection, offering the last session. */
static int tls_start(struct ag *a)
{
	static br_x509_minimal_context xc;   /* init_full wants one; knownkey replaces it */

	if (!a->cc) {
		a->cc = malloc(sizeof(*a->cc));
		a->iobuf = malloc(BR_SSL_BUFSIZE_INPUT + 2048);
		if (!a->cc || !a->iobuf)
			return -1;
	}
	br_ssl_client_init_full(a->cc, &xc, NULL, 0);
	br_ssl_engine_set_x509(&a->cc->eng, &xk.vtable);
	br_ssl_engine_set_buffers_bidi(&a->cc->eng, a->iobuf, BR_SSL_BUFSIZE_INPUT,
				       a->iobuf + BR_SSL_BUFSIZE_INPUT, 2048);
	if (a->has_sess)
		br_ssl_engine_set_session_parameters(&a->cc->eng, &a->sess);
	a->offered = a->has_sess;
	a->hs_done = 0;
	a->want_out = 0;
	return br_ssl_client_reset(a->cc, "localhost", a->has_sess) ? 0 : -1;
}

/* The handshake just ended: resumed (the server took our session id) or
 * full; the session kept for next time. */
static void tls_handshake_done(struct ag *a)
{
	br_ssl_session_parameters p;

	a->hs_done = 1;
	br_ssl_engine_get_session_parameters(&a->cc->eng, &p);
	if (a->offered && p.session_id_len == a->sess.session_id_len &&
	    !memcmp(p.session_id, a->sess.session_id, p.session_id_len))
		resumed++;
	else
		full++;
	a->sess = p;
	a->has_sess = 1;
}
#endif

/* ---- output ---- */

static void want_out(struct ag *a, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
				  .data.u32 = (uint32_t)(a - ags) };

	epoll_ctl(epfd, EPOLL_CTL_MOD, a->fd, &ev);
}

/* Writes all of a plain message (small: the socket buffer takes them). */
static int put_plain(int fd, const void *p, size_t n)
{
	const char *c = p;
	int spins = 0;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && spins++ < 1000) {
			usleep(1000);
			continue;
		}
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

#if BENCH_TLS
/* Records out of the engine, as far as the socket takes them. */
static int tls_flush(struct ag *a)
{
	br_ssl_engine_context *e = &a->cc->eng;

	while (br_ssl_engine_current_state(e) & BR_SSL_SENDREC) {
		size_t len;
		unsigned char *b = br_ssl_engine_sendrec_buf(e, &len);
		ssize_t w = write(a->fd, b, len);

		if (w < 0 && errno == EAGAIN) {
			if (!a->want_out)
				want_out(a, a->want_out = 1);
			return 0;
		}
		if (w <= 0)
			return -1;
		br_ssl_engine_sendrec_ack(e, (size_t)w);
	}
	if (a->want_out)
		want_out(a, a->want_out = 0);
	return 0;
}

static int put_tls(struct ag *a, const void *p, size_t n)
{
	br_ssl_engine_context *e = &a->cc->eng;
	const unsigned char *c = p;
	int spins = 0;

	while (n) {
		unsigned st = br_ssl_engine_current_state(e);
		size_t len;

		if (st & BR_SSL_CLOSED)
			return -1;
		if (st & BR_SSL_SENDAPP) {
			unsigned char *b = br_ssl_engine_sendapp_buf(e, &len);

			if (len > n)
				len = n;
			memcpy(b, c, len);
			br_ssl_engine_sendapp_ack(e, len);
			c += len;
			n -= len;
			continue;
		}
		if (tls_flush(a) < 0 || spins++ > 1000)
			return -1;
		if (a->want_out)
			usleep(1000);
	}
	br_ssl_engine_flush(e, 0);
	return tls_flush(a);
}
#endif

static int put(struct ag *a, const void *p, size_t n)
{
#if BENCH_TLS
	if (use_tls)
		return put_tls(a, p, n);
#endif
	return put_plain(a->fd, p, n);
}

/* A masked client frame. */
static int send_frame(struct ag *a, int opcode, const char *p, size_t n)
{
	unsigned char out[4200], mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t hl = 0, i;

	if (n > 4096)
		return -1;
	out[hl++] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		out[hl++] = (unsigned char)(0x80 | n);
	} else {
		out[hl++] = 0x80 | 126;
		out[hl++] = (unsigned char)(n >> 8);
		out[hl++] = (unsigned char)n;
	}
	memcpy(out + hl, mask, 4);
	hl += 4;
	for (i = 0; i < n; i++)
		out[hl + i] = (unsigned char)(p[i] ^ mask[i & 3]);
	return put(a, out, hl + n);
}

/* ---- input ---- */

static void jstr(const char *msg, size_t n, const char *key, char *out, size_t cap)
{
	char pat[32];
	const char *p, *e;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = memmem(msg, n, pat, strlen(pat));
	if (!p)
		return;
	p += strlen(pat);
	e = memchr(p, '"', (size_t)(msg + n - p));
	if (!e || (size_t)(e - p) >= cap)
		return;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

static int authed, ever_ready;

/* One whole frame. */
static void frame(struct ag *a, int op, const char *m, size_t n)
{
	if (op == 9) {
		send_frame(a, 10, m, n);
	} else if (op == 8) {
		send_frame(a, 8, m, n < 2 ? n : 2);
	} else if (op == 1 && a->phase == P_AUTH) {
		if (memmem(m, n, "Authenticated", 13)) {
			a->phase = P_UP;
			a->attempt = 0;
			authed++;
			pending--;
		} else {
			refused++;
			fprintf(stderr, "manyagents: refused: %.*s\n", (int)(n > 200 ? 200 : n), m);
		}
	} else if (op == 1 && memmem(m, n, "\"status\":\"command\"", 18)) {
		char id[64], cmd[64], r[256];
		int rl;

		jstr(m, n, "id", id, sizeof(id));
		jstr(m, n, "message", cmd, sizeof(cmd));
		rl = snprintf(r, sizeof(r), "{\"status\":\"command_response\",\"message\":\"response_%s\","
			      "\"id\":\"%s\",\"payload\":{\"ok\":true}}", cmd, id);
		send_frame(a, 1, r, (size_t)rl);
	}
}

/* Whole frames from p[0..n); the bytes used. */
static size_t frames(struct ag *a, const unsigned char *b, size_t n)
{
	size_t off = 0;

	while (a->phase >= P_AUTH) {
		size_t avail = n - off, hl = 2, len;
		const unsigned char *f = b + off;

		if (avail < 2)
			break;
		len = f[1] & 127;
		if (len == 126) {
			if (avail < 4)
				break;
			len = (size_t)f[2] << 8 | f[3];
			hl = 4;
		} else if (len == 127) {
			if (avail < 10)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | f[2 + i];
			hl = 10;
		}
		if (avail < hl + len)
			break;
		frame(a, f[0] & 15, (const char *)f + hl, len);
		off += hl + len;
	}
	return off;
}

/* The 101 response; the bytes used (0: not all here yet). */
static size_t upgrade(struct ag *a, const unsigned char *b, size_t n)
{
	const unsigned char *e = memmem(b, n, "\r\n\r\n", 4);
	char auth[300];
	int al;

	if (!e)
		return 0;
	if (n < 12 || memcmp(b, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "manyagents: handshake refused: %.40s\n", b);
		refused++;
		return n;
	}
	al = snprintf(auth, sizeof(auth), "{\"status\":\"let_me_in_pls\",\"message\":\"hi\","
		      "\"payload\":{\"version\":\"0.1.0\",\"client_token\":\"%s\"}}", a->token);
	a->phase = P_AUTH;
	send_frame(a, 1, auth, (size_t)al);
	return (size_t)(e + 4 - b);
}

/* Bytes from the server, in order: what is not whole yet waits in a->in
 * (allocated only then). */
static void input(struct ag *a, const unsigned char *p, size_t n)
{
	const unsigned char *b = p;
	size_t len = n, used;

	if (a->len) {
		if (a->cap - a->len < n) {
			a->cap = (a->len + n) * 2;
			a->in = realloc(a->in, a->cap);
		}
		memcpy(a->in + a->len, p, n);
		a->len += n;
		b = (unsigned char *)a->in;
		len = a->len;
	}
	used = a->phase == P_UPGRADE ? upgrade(a, b, len) : 0;
	used += frames(a, b + used, len - used);
	if (used == len) {
		free(a->in);
		a->in = NULL;
		a->len = a->cap = 0;
		return;
	}
	if (b == p) {
		a->cap = (len - used) * 2 + 256;
		a->in = malloc(a->cap);
		memcpy(a->in, p + used, len - used);
	} else {
		memmove(a->in, a->in + used, len - used);
	}
	a->len = len - used;
}

#if BENCH_TLS
static int tls_ready(struct ag *a)
{
	br_ssl_engine_context *e = &a->cc->eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(e);
		size_t len;
		unsigned char *b;
		ssize_t r;

		if (st & BR_SSL_CLOSED)
			return -1;
		if (!a->hs_done && (st & BR_SSL_SENDAPP)) {
			tls_handshake_done(a);
			if (a->phase == P_UPGRADE) {
				static const char hs[] =
					"GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
					"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
					"Sec-WebSocket-Version: 13\r\n\r\n";

				if (put(a, hs, sizeof(hs) - 1) < 0)
					return -1;
			}
			continue;
		}
		if (st & BR_SSL_SENDREC) {
			if (tls_flush(a) < 0)
				return -1;
			/* Written: the state may have moved on (a resumed
			 * handshake ends with our own Finished). */
			if (!a->want_out)
				continue;
			if (!(st & BR_SSL_RECVREC) && !(st & BR_SSL_RECVAPP))
				return 0;
		}
		if (st & BR_SSL_RECVAPP) {
			b = br_ssl_engine_recvapp_buf(e, &len);
			memcpy(rbuf, b, len);
			br_ssl_engine_recvapp_ack(e, len);
			input(a, rbuf, len);
			continue;
		}
		if (!(st & BR_SSL_RECVREC))
			return 0;
		b = br_ssl_engine_recvrec_buf(e, &len);
		r = read(a->fd, b, len);
		if (r > 0) {
			br_ssl_engine_recvrec_ack(e, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EAGAIN)
			return 0;
		return -1;
	}
}
#endif

/* ---- connections ---- */

static int dial(struct ag *a)
{
	static unsigned rr;
	int fd, one = 1;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un su;

		memset(&su, 0, sizeof(su));
		su.sun_family = AF_UNIX;
		snprintf(su.sun_path, sizeof(su.sun_path), "%s", addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || (connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0 &&
			       errno != EINPROGRESS && errno != EAGAIN))
			goto fail;
	} else {
		struct sockaddr_in si;
		char host[64];
		const char *colon = strrchr(addr, ':');

		memset(&si, 0, sizeof(si));
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (nsrc) {
			si.sin_family = AF_INET;
			si.sin_addr.s_addr = htonl(0x7f000002u + rr++ % (unsigned)nsrc);
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			if (bind(fd, (struct sockaddr *)&si, sizeof(si)) < 0)
				goto fail;
		}
		si.sin_family = AF_INET;
		si.sin_port = htons((unsigned short)atoi(colon + 1));
		inet_pton(AF_INET, host, &si.sin_addr);
		if (connect(fd, (struct sockaddr *)&si, sizeof(si)) < 0 && errno != EINPROGRESS)
			goto fail;
	}
	a->fd = fd;
	a->phase = P_CONNECTING;
	{
		struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)(a - ags) };

		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	a->fd = -1;
	return -1;
}

static void schedule(struct ag *a)
{
	double cap = 1.0;
	int i;

	for (i = 0; i < a->attempt && cap < 60; i++)
		cap *= 2;
	if (cap > 60)
		cap = 60;
	if (a->attempt < 30)
		a->attempt++;
	a->retry_at = now() + cap * (rand() / (RAND_MAX + 1.0));
}

static void drop(struct ag *a, const char *why)
{
	if (a->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, a->fd, NULL);
		close(a->fd);
	}
	if (a->phase == P_UP)
		authed--;
	else if (a->phase != P_IDLE)
		pending--;
	a->fd = -1;
	a->phase = P_IDLE;
	free(a->in);
	a->in = NULL;
	a->len = a->cap = 0;
	if (!reconnect) {
		fprintf(stderr, "manyagents: #%d: %s\n", (int)(a - ags), why);
		stop = 1;
		return;
	}
	schedule(a);
}

/* The socket is connected: the upgrade request (after TLS's handshake). */
static void connected(struct ag *a)
{
	static const char hs[] =
		"GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		drop(a, err ? strerror(err) : "connect failed");
		return;
	}
	want_out(a, 0);
	a->phase = P_UPGRADE;
#if BENCH_TLS
	if (use_tls) {
		if (tls_start(a) < 0 || tls_ready(a) < 0)
			drop(a, "TLS failed");
		return;
	}
#endif
	if (put(a, hs, sizeof(hs) - 1) < 0)
		drop(a, "write failed");
}

static void readable(struct ag *a)
{
	ssize_t r;

#if BENCH_TLS
	if (use_tls) {
		if (tls_ready(a) < 0)
			drop(a, "closed by the server");
		return;
	}
#endif
	r = read(a->fd, rbuf, sizeof(rbuf));
	if (r > 0)
		input(a, rbuf, (size_t)r);
	else if (r == 0 || errno != EAGAIN)
		drop(a, "closed by the server");
}

static int load_tokens(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int cap = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[80], tok[80];

		if (sscanf(line, "%79s %79s", name, tok) != 2)
			continue;
		if (nags == cap) {
			cap = cap ? cap * 2 : 1024;
			ags = realloc(ags, (size_t)cap * sizeof(*ags));
			if (!ags)
				return -1;
		}
		memset(&ags[nags], 0, sizeof(ags[nags]));
		ags[nags].fd = -1;
		snprintf(ags[nags].token, sizeof(ags[nags].token), "%s", tok);
		nags++;
	}
	fclose(f);
	return 0;
}

/* Room for every connection: the hard limit too (we are root in the
 * bench). */
static void raise_nofile(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n) {
		rl.rlim_cur = (rlim_t)n;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Dial whoever is due, keeping at most 512 half-open (the server's listen
 * backlog) so the early ones authenticate within its timeouts: the first
 * time in order, after that (-R) whoever's backoff has run out. */
static int next_new;      /* agents below this were dialled once */

static int dial_due(double t)
{
	int i;

	for (; next_new < nags && pending < 512; next_new++) {
		if (dial(&ags[next_new]) < 0) {
			if (!reconnect) {
				fprintf(stderr, "manyagents: connect #%d: %s\n", next_new, strerror(errno));
				return -1;
			}
			schedule(&ags[next_new]);
			continue;
		}
		pending++;
	}
	if (!reconnect || next_new < nags)
		return 0;
	for (i = 0; i < nags && pending < 512; i++) {
		struct ag *a = &ags[i];

		if (a->phase != P_IDLE || a->retry_at > t)
			continue;
		if (dial(a) < 0)
			schedule(a);
		else
			pending++;
	}
	return 0;
}

/* ready, down, back (see the top of this file). */
static void report(double *t_lost, double t0)
{
	if (authed == nags && !ever_ready) {
		ever_ready = 1;
		printf("ready %d %.2f\n", nags, now() - t0);
		fflush(stdout);
	}
	/* A storm: from the first agent lost to the last one back. */
	if (ever_ready && !*t_lost && authed < nags) {
		*t_lost = now();
		refused = resumed = full = 0;
		printf("down\n");
		fflush(stdout);
	}
	if (*t_lost && authed == nags) {
		printf("back %d %.2f refused %lld resumed %lld full %lld\n", nags, now() - *t_lost,
		       refused, resumed, full);
		fflush(stdout);
		*t_lost = 0;
	}
}

int main(int argc, char **argv)
{
	static struct epoll_event evs[1024];
	const char *cert = NULL;
	double t0, t_lost = 0, bound = 600, last_dial = 0;
	int opt, i, n;

	while ((opt = getopt(argc, argv, "s:t:RT:")) != -1) {
		if (opt == 's')
			nsrc = atoi(optarg);
		else if (opt == 't')
			cert = optarg;
		else if (opt == 'R')
			reconnect = 1;
		else if (opt == 'T')
			bound = atof(optarg);
		else
			return 2;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: manyagents [-s NSRC] [-t CERT] [-R] [-T SECONDS] ADDR TOKENS\n");
		return 2;
	}
	addr = argv[optind];
	(void)use_tls;
	if (cert) {
#if BENCH_TLS
		if (load_key(cert) < 0) {
			fprintf(stderr, "manyagents: %s: no certificate key\n", cert);
			return 1;
		}
		use_tls = 1;
#else
		fprintf(stderr, "manyagents: built without BearSSL (BENCH_TLS=1)\n");
		return 2;
#endif
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());
	if (load_tokens(argv[optind + 1]) < 0 || !nags)
		return 1;
	raise_nofile(nags + 100);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	t0 = now();
	while (!stop && now() - t0 < bound) {
		double t = now();

		if (t - last_dial > 0.005) {
			if (dial_due(t) < 0)
				return 1;
			last_dial = t;
		}
		n = epoll_wait(epfd, evs, 1024, 5);
		for (i = 0; i < n; i++) {
			struct ag *a = &ags[evs[i].data.u32];

			if (a->fd < 0)
				continue;
			if (a->phase == P_CONNECTING)
				connected(a);
			else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				readable(a);
#if BENCH_TLS
			else if (use_tls && (evs[i].events & EPOLLOUT) && tls_flush(a) < 0)
				drop(a, "write failed");
#endif
		}
		report(&t_lost, t0);
	}
	for (i = 0; i < nags; i++)
		if (ags[i].fd >= 0)
			close(ags[i].fd);
	return 0;
}
