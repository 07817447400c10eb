/* loadgen.c - closed-loop HTTP/1.1 load generator for bench_api.sh.
 *
 * C connections, each with one request in flight at a time, over
 * keep-alive (reconnects when the server says Connection: close), until
 * N requests have been answered.  Every request's latency is recorded,
 * so p50/p99 are exact, not sampled.  Plain sockets and poll(2).
 *
 *   loadgen -a 127.0.0.1:PORT|unix:PATH -c CONNS -n TOTAL -p PATH
 *           [-b BODY] [-t TOKEN_FILE] [-e EXPECT_SUBSTRING]
 *           [-r N] [-d SECONDS] [-i MICROSECONDS]
 *
 *   -r N   PATH holds one %05d: each request names a random number below N
 *          (a random agent of bench/manyagents.c's ag00000...)
 *   -d S   stop after S seconds (TOTAL is then only the most)
 *   -i US  each connection waits US microseconds between its requests: a
 *          steady trickle of operators rather than a flood
 * SIGINT or SIGTERM: no new requests; those in flight are awaited, and the
 * line is printed for what was done.
 *
 * Prints one line:
 *   requests=N ok=N bad=N secs=S rps=R p50_us=.. p90_us=.. p99_us=.. max_us=..
 * "bad" counts non-200 answers and answers without EXPECT_SUBSTRING. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct cn {
	int fd;
	size_t sent;            /* bytes of the request written */
	char *in;
	size_t len, cap;
	long long t0;           /* request start, ns */
	int busy;
};

static const char *addr;
static char *req;
static size_t reqlen;
static const char *expect;
static const char *path_fmt, *body_s, *tok_s;
static int rand_n;
static volatile sig_atomic_t stop_req;

/* The run: connections, their poll entries, every latency. */
static struct cn *cs;
static struct pollfd *pf;
static long long *lat, t_stop, gap_ns;
static int conns = 1;
static long total = 1000, started, done, bad;

static void on_stop(int sig)
{
	(void)sig;
	stop_req = 1;
}

/* The request text, with a fresh random agent number under -r. */
static void build_req(void)
{
	char path[512];

	if (rand_n)
		snprintf(path, sizeof(path), path_fmt, rand() % rand_n);
	else
		snprintf(path, sizeof(path), "%s", path_fmt);
	reqlen = (size_t)sprintf(req, "%s %s HTTP/1.1\r\nHost: bench\r\n%s%s%s"
				 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				 body_s ? "POST" : "GET", path, tok_s[0] ? "Authorization: Bearer " : "",
				 tok_s, tok_s[0] ? "\r\n" : "", body_s ? strlen(body_s) : 0,
				 body_s ? body_s : "");
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int dial(void)
{
	int fd;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un su;

		memset(&su, 0, sizeof(su));
		su.sun_family = AF_UNIX;
		snprintf(su.sun_path, sizeof(su.sun_path), "%s", addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
			perror("connect");
			exit(1);
		}
	} else {
		struct sockaddr_in si;
		char host[64];
		const char *colon = strrchr(addr, ':');
		int one = 1;

		memset(&si, 0, sizeof(si));
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
		si.sin_family = AF_INET;
		si.sin_port = htons((unsigned short)atoi(colon + 1));
		inet_pton(AF_INET, host, &si.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&si, sizeof(si)) < 0) {
			perror("connect");
			exit(1);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Length of a whole response in c->in, 0 if incomplete; *status, *close. */
static size_t complete(struct cn *c, int *status, int *close_after, int *has)
{
	char *e, *h, *cl;
	size_t head, body = 0;

	if (c->len < 12)
		return 0;
	e = memmem(c->in, c->len, "\r\n\r\n", 4);
	if (!e)
		return 0;
	head = (size_t)(e - c->in) + 4;
	*status = atoi(c->in + 9);
	for (h = c->in; h < e; h = strstr(h, "\r\n") + 2) {
		if (strncasecmp(h, "Content-Length:", 15) == 0)
			body = strtoul(h + 15, NULL, 10);
		if (strncasecmp(h, "Connection:", 11) == 0 && strcasestr(h, "close") &&
		    strcasestr(h, "close") < strstr(h, "\r\n"))
			*close_after = 1;
		if (!strstr(h, "\r\n"))
			break;
	}
	(void)cl;
	if (c->len < head + body)
		return 0;
	*has = !expect || memmem(c->in + head, body, expect, strlen(expect)) != NULL;
	return head + body;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Starts a request on every idle connection whose turn it is, writes what
 * it can; wait_ms: the poll timeout, shortened to the next turn. */
static int start_and_write(long long tn, int *wait_ms)
{
	int i;

	for (i = 0; i < conns; i++) {
		struct cn *c = &cs[i];

		if (stop_req)
			;
		else if (!c->busy && started < total && (!t_stop || tn < t_stop) && tn < c->t0) {
			if ((c->t0 - tn) / 1000000 < *wait_ms)
				*wait_ms = (int)((c->t0 - tn) / 1000000) + 1;
		} else if (!c->busy && started < total && (!t_stop || tn < t_stop)) {
			if (rand_n)
				build_req();
			c->busy = 1;
			c->sent = 0;
			c->len = 0;
			c->t0 = now_ns();
			started++;
		}
		if (c->busy && c->sent < reqlen) {
			ssize_t w = write(c->fd, req + c->sent, reqlen - c->sent);

			if (w > 0)
				c->sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN) {
				perror("write");
				return -1;
			}
		}
		pf[i].fd = c->fd;
		pf[i].events = c->busy ? (c->sent < reqlen ? POLLOUT : POLLIN) : 0;
		pf[i].revents = 0;
	}
	return 0;
}

/* Reads what came; a whole answer frees its connection for the next. */
static int read_answers(void)
{
	int i;

	for (i = 0; i < conns; i++) {
		struct cn *c = &cs[i];
		int status = 0, cl = 0, has = 0;
		size_t n;
		ssize_t r;

		if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (c->cap - c->len < 65536) {
			c->cap *= 2;
			c->in = realloc(c->in, c->cap);
		}
		r = read(c->fd, c->in + c->len, c->cap - c->len);
		if (r <= 0) {
			if (r < 0 && errno == EAGAIN)
				continue;
			fprintf(stderr, "loadgen: connection closed mid-request\n");
			return -1;
		}
		c->len += (size_t)r;
		n = complete(c, &status, &cl, &has);
		if (!n)
			continue;
		lat[done++] = now_ns() - c->t0;
		if (status != 200 || !has)
			bad++;
		c->busy = 0;
		c->t0 = now_ns() + gap_ns;     /* the next request's earliest start */
		if (cl) {
			close(c->fd);
			c->fd = dial();
		}
	}
	return 0;
}

/* The one line, for what was answered in ns nanoseconds. */
static int print_line(long long ns)
{
	double secs = (double)ns / 1e9;

	total = done;
	if (!total)
		return 1;
	qsort(lat, (size_t)total, sizeof(*lat), cmp);
	printf("requests=%ld ok=%ld bad=%ld secs=%.3f rps=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
	       total, total - bad, bad, secs, (double)total / secs,
	       lat[total / 2] / 1e3, lat[total * 9 / 10] / 1e3, lat[total * 99 / 100] / 1e3,
	       lat[total - 1] / 1e3);
	return bad ? 3 : 0;
}

int main(int argc, char **argv)
{
	int opt, i;
	double dur = 0;
	const char *path = "/", *body = NULL, *tokfile = NULL;
	char token[256] = "";
	long long t_start, t_end;

	while ((opt = getopt(argc, argv, "a:c:n:p:b:t:e:r:d:i:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 'n': total = atol(optarg); break;
		case 'p': path = optarg; break;
		case 'b': body = optarg; break;
		case 't': tokfile = optarg; break;
		case 'e': expect = optarg; break;
		case 'r': rand_n = atoi(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 'i': gap_ns = atoll(optarg) * 1000; break;
		default:
			fprintf(stderr, "usage: loadgen -a ADDR -c CONNS -n TOTAL -p PATH [-b BODY] [-t TOKFILE] "
				"[-e EXPECT] [-r N] [-d SECONDS] [-i MICROSECONDS]\n");
			return 2;
		}
	}
	if (!addr || conns < 1 || total < 1)
		return 2;
	if (tokfile) {
		FILE *f = fopen(tokfile, "r");

		if (!f || !fgets(token, sizeof(token), f)) {
			perror(tokfile);
			return 1;
		}
		fclose(f);
		token[strcspn(token, "\r\n")] = '\0';
	}
	req = malloc(4096 + (body ? strlen(body) : 0));
	path_fmt = path;
	body_s = body;
	tok_s = token;
	build_req();
	cs = calloc((size_t)conns, sizeof(*cs));
	pf = calloc((size_t)conns, sizeof(*pf));
	lat = calloc((size_t)total, sizeof(*lat));
	for (i = 0; i < conns; i++) {
		cs[i].fd = dial();
		cs[i].cap = 65536;
		cs[i].in = malloc(cs[i].cap);
	}
	t_start = now_ns();
	if (dur > 0)
		t_stop = t_start + (long long)(dur * 1e9);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	while (done < started || (started < total && !stop_req && (!t_stop || now_ns() < t_stop))) {
		long long tn = now_ns();
		int wait_ms = 30000;

		if (start_and_write(tn, &wait_ms) < 0)
			return 1;
		if (done == started && (started >= total || stop_req || (t_stop && now_ns() >= t_stop)))
			break;
		{
			int r = poll(pf, (nfds_t)conns, stop_req ? 100 : wait_ms);

			if ((r < 0 && errno != EINTR) || (r == 0 && wait_ms == 30000 && done < started)) {
				fprintf(stderr, "loadgen: no progress in 30 s (%ld of %ld answered)\n",
					done, total);
				return 1;
			}
		}
		if (read_answers() < 0)
			return 1;
	}
	t_end = now_ns();
	return print_line(t_end - t_start);
}
