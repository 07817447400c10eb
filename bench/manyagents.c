/* manyagents.c - N minimal agents in one process, for bench_agents.sh.
 *
 * Opens one WebSocket connection per line of TOKENS ("NAME TOKEN"), does
 * the handshake and the let_me_in_pls authentication, then answers every
 * command at once with {"status":"command_response","id":ID,...} and
 * every ping with a pong.  Prints "ready N SECONDS" when all N are
 * authenticated, then serves until SIGTERM/SIGINT.
 *
 *   manyagents ADDR TOKENS      ADDR: unix:PATH or 127.0.0.1:PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct ag {
	int fd;
	int phase;           /* 0 handshake, 1 auth sent, 2 authenticated */
	char *in;
	size_t len, cap;
	char token[80];
};

static volatile sig_atomic_t stop;

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

static int dial(const char *addr)
{
	int fd;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un su;

		memset(&su, 0, sizeof(su));
		su.sun_family = AF_UNIX;
		snprintf(su.sun_path, sizeof(su.sun_path), "%s", addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0)
			return -1;
	} else {
		struct sockaddr_in si;
		char host[64];
		const char *colon = strrchr(addr, ':');

		memset(&si, 0, sizeof(si));
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		si.sin_family = AF_INET;
		si.sin_port = htons((unsigned short)atoi(colon + 1));
		inet_pton(AF_INET, host, &si.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&si, sizeof(si)) < 0)
			return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Writes all of it (these are small; the socket buffer takes them). */
static void put(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };

			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

/* A masked client frame. */
static void send_frame(int fd, int opcode, const char *p, size_t n)
{
	unsigned char h[14], mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	char buf[4096];
	size_t hl = 0, i;

	if (n > sizeof(buf))
		return;
	h[hl++] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		h[hl++] = (unsigned char)(0x80 | n);
	} else {
		h[hl++] = 0x80 | 126;
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	}
	memcpy(h + hl, mask, 4);
	hl += 4;
	for (i = 0; i < n; i++)
		buf[i] = (char)(p[i] ^ mask[i & 3]);
	{
		char out[4200];

		memcpy(out, h, hl);
		memcpy(out + hl, buf, n);
		put(fd, out, hl + n);
	}
}

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

/* Consumes whole frames from a->in; returns 1 when this one just authenticated. */
static int frames(struct ag *a)
{
	int authed = 0;
	size_t off = 0;

	for (;;) {
		unsigned char *b = (unsigned char *)a->in + off;
		size_t avail = a->len - off, hl = 2, n;
		int op;

		if (avail < 2)
			break;
		op = b[0] & 15;
		n = b[1] & 127;
		if (n == 126) {
			if (avail < 4)
				break;
			n = (size_t)b[2] << 8 | b[3];
			hl = 4;
		} else if (n == 127) {
			if (avail < 10)
				break;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | b[2 + i];
			hl = 10;
		}
		if (avail < hl + n)
			break;
		{
			const char *m = (const char *)b + hl;

			if (op == 9) {
				send_frame(a->fd, 10, m, n);
			} else if (op == 8) {
				send_frame(a->fd, 8, m, n < 2 ? n : 2);
			} else if (op == 1 && a->phase == 1) {
				if (memmem(m, n, "Authenticated", 13)) {
					a->phase = 2;
					authed = 1;
				} else {
					fprintf(stderr, "manyagents: refused: %.*s\n", (int)n, m);
				}
			} else if (op == 1 && memmem(m, n, "\"status\":\"command\"", 18)) {
				char id[64], cmd[64], r[256];
				int rl;

				jstr(m, n, "id", id, sizeof(id));
				jstr(m, n, "message", cmd, sizeof(cmd));
				rl = snprintf(r, sizeof(r), "{\"status\":\"command_response\",\"message\":\"response_%s\","
					      "\"id\":\"%s\",\"payload\":{\"ok\":true}}", cmd, id);
				send_frame(a->fd, 1, r, (size_t)rl);
			}
		}
		off += hl + n;
	}
	memmove(a->in, a->in + off, a->len - off);
	a->len -= off;
	return authed;
}

int main(int argc, char **argv)
{
	FILE *f;
	char line[256];
	struct ag *ags = NULL;
	struct pollfd *pf;
	int n = 0, cap = 0, i, ready = 0, announced = 0, opened = 0;
	double t0;
	static const char hs[] =
		"GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

	if (argc != 3) {
		fprintf(stderr, "usage: manyagents ADDR TOKENS\n");
		return 2;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGPIPE, SIG_IGN);
	f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[80], tok[80];

		if (sscanf(line, "%79s %79s", name, tok) != 2)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			ags = realloc(ags, (size_t)cap * sizeof(*ags));
		}
		memset(&ags[n], 0, sizeof(ags[n]));
		snprintf(ags[n].token, sizeof(ags[n].token), "%s", tok);
		n++;
	}
	fclose(f);
	pf = calloc((size_t)n, sizeof(*pf));
	t0 = now();
	while (!stop) {
		int r, k;

		/* Connect in slices so early ones authenticate within the
		 * server's timeouts while later ones are still dialing. */
		for (k = 0; k < 256 && opened < n; k++, opened++) {
			struct ag *a = &ags[opened];

			a->fd = dial(argv[1]);
			if (a->fd < 0) {
				fprintf(stderr, "manyagents: connect #%d: %s\n", opened, strerror(errno));
				return 1;
			}
			a->cap = 2048;
			a->in = malloc(a->cap);
			put(a->fd, hs, sizeof(hs) - 1);
		}
		for (i = 0; i < opened; i++) {
			pf[i].fd = ags[i].fd;
			pf[i].events = POLLIN;
			pf[i].revents = 0;
		}
		r = poll(pf, (nfds_t)opened, opened < n ? 0 : 1000);
		if (r < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < opened && r > 0; i++) {
			struct ag *a = &ags[i];
			ssize_t got;

			if (!pf[i].revents)
				continue;
			if (a->cap - a->len < 1024) {
				a->cap *= 2;
				a->in = realloc(a->in, a->cap);
			}
			got = read(a->fd, a->in + a->len, a->cap - a->len);
			if (got <= 0) {
				if (got < 0 && errno == EAGAIN)
					continue;
				fprintf(stderr, "manyagents: #%d closed by the server\n", i);
				close(a->fd);
				a->fd = -1;
				continue;
			}
			a->len += (size_t)got;
			if (a->phase == 0) {
				char *e = memmem(a->in, a->len, "\r\n\r\n", 4);
				char auth[300];
				int al;

				if (!e)
					continue;
				if (strncmp(a->in, "HTTP/1.1 101", 12) != 0) {
					fprintf(stderr, "manyagents: handshake refused: %.40s\n", a->in);
					return 1;
				}
				a->len -= (size_t)(e + 4 - a->in);
				memmove(a->in, e + 4, a->len);
				al = snprintf(auth, sizeof(auth), "{\"status\":\"let_me_in_pls\",\"message\":\"hi\","
					      "\"payload\":{\"version\":\"0.1.0\",\"client_token\":\"%s\"}}", a->token);
				send_frame(a->fd, 1, auth, (size_t)al);
				a->phase = 1;
			}
			ready += frames(a);
		}
		if (ready == n && !announced) {
			printf("ready %d %.2f\n", n, now() - t0);
			fflush(stdout);
			announced = 1;
		}
	}
	for (i = 0; i < opened; i++)
		if (ags[i].fd >= 0)
			close(ags[i].fd);
	return 0;
}
