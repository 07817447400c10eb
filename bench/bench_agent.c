/* bench_agent.c - real `nestd agent` builds over loopback, driven by this
 * program acting as the server (the bot), against the limits of this
 * machine measured in the same run:
 *
 *   bench_agent [-r ROUNDS] [-n NPROC] [-l LISTINGS] [-p REFCLIENT] LABEL=NESTD...
 *
 * Each LABEL=NESTD is an agent binary (the glibc build, the static musl
 * build, the agent-only static build).  With NPROC extra sleep children
 * alive, ROUNDS rounds (default 3) each run every agent once, in an order
 * that rotates from round to round, and measure:
 *   - obtain_process_info round trips/s, one in flight, no id (20,000 or
 *     3 s, whichever ends first)
 *   - the same with 32 in flight, each with an id
 *   - obtain_all_process_info round trip, median of LISTINGS (default 5)
 *   - VmRSS idle after connecting, VmHWM after the listings
 * and, each round, the two references:
 *   - raw: a forked C process ping-ponging over a loopback TCP socket with
 *     blocking read(2)/write(2), request and reply of the agent's sizes:
 *     what two processes can do on this kernel with nothing else to do
 *   - probe: stat(2) + open/read/close of /proc/PID/stat, fstat(2), and
 *     /proc/PID/cmdline for every process: what any /proc lister must do
 * Figures are the medians over the rounds, so drift of the shared machine
 * hits every agent alike.  REFCLIENT (bench/ref_client.py, run with
 * /usr/bin/python3) is measured once, for the ratio to Python.
 *
 * Every child (agents, sleeps, the raw peer) is killed and reaped; the
 * sleeps also die with this program (PR_SET_PDEATHSIG).  The agents are
 * closed with a close frame first, so a profiler wrapped around one
 * (valgrind --tool=callgrind) writes its data.
 *
 * The WebSocket server side is hand-written (server frames unmasked,
 * client frames masked), using the tree's sha1.c and base64.c for the
 * Sec-WebSocket-Accept. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "sha1.h"
#include "proc_probe.h"

extern char **environ;

#define N_DEFAULT 20000
#define T_DEFAULT_MS 3000.0
/* BENCH_FIXED=N: exactly N calls per phase, however long they take (for
 * instruction counts under a profiler). */
static int N_MAX = N_DEFAULT;
static double T_MAX_MS = T_DEFAULT_MS;
#define PIPE_DEPTH 32
#define MAX_AGENTS 4
#define MAX_ROUNDS 15

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_agent: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[64];
	int i;

	if (n <= 0)
		return -1;
	for (i = 0; i < n && i < 64; i++)
		t[i] = v[i];
	qsort(t, (size_t)i, sizeof(*t), dcmp);
	return i % 2 ? t[i / 2] : (t[i / 2 - 1] + t[i / 2]) / 2;
}

/* ---- one connection: buffered reads, frames ---- */

struct wsc {
	int fd;
	unsigned char *buf;
	size_t cap, len, pos;
	char *msg;                 /* last message, NUL-terminated */
	size_t msgcap, msglen;
	double deadline;
};

static int fill(struct wsc *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int left = (int)(c->deadline - now_ms());

	if (c->pos && c->pos == c->len)
		c->pos = c->len = 0;
	if (c->pos > (1u << 20)) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->cap - c->len < 65536) {
		c->cap = c->cap * 2 + 65536;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			die("realloc");
	}
	if (left <= 0 || poll(&p, 1, left) <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n <= 0) {
		errno = n ? errno : ECONNRESET;
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t k;

	while (n) {
		k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("write");
		s += k;
		n -= (size_t)k;
	}
}

/* One unmasked text frame (the server's side). */
static void send_text(struct wsc *c, const char *s)
{
	unsigned char h[10];
	size_t n = strlen(s), hl;

	h[0] = 0x81;
	if (n < 126) {
		h[1] = (unsigned char)n;
		hl = 2;
	} else if (n < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		int i;

		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	/* one write per message: header and payload together */
	{
		char *f = malloc(hl + n);

		if (!f)
			die("malloc");
		memcpy(f, h, hl);
		memcpy(f + hl, s, n);
		send_all(c->fd, f, hl + n);
		free(f);
	}
}

/* The next text message into c->msg (pings answered); -1 on close/timeout. */
static int recv_text(struct wsc *c)
{
	c->msglen = 0;
	for (;;) {
		size_t avail = c->len - c->pos, off = 2, i;
		unsigned char *p = c->buf + c->pos;
		uint64_t n;
		int op, fin;

		if (avail < 2) {
			if (fill(c) < 0)
				return -1;
			continue;
		}
		n = p[1] & 0x7f;
		if (n == 126) {
			if (avail < 4) {
				if (fill(c) < 0)
					return -1;
				continue;
			}
			n = ((uint64_t)p[2] << 8) | p[3];
			off = 4;
		} else if (n == 127) {
			if (avail < 10) {
				if (fill(c) < 0)
					return -1;
				continue;
			}
			n = 0;
			for (i = 0; i < 8; i++)
				n = (n << 8) | p[2 + i];
			off = 10;
		}
		if (p[1] & 0x80)
			off += 4;
		if (avail < off + n) {
			if (fill(c) < 0)
				return -1;
			continue;
		}
		op = p[0] & 0x0f;
		fin = p[0] & 0x80;
		if (p[1] & 0x80) {
			unsigned char *k = p + off - 4;

			for (i = 0; i < n; i++)
				p[off + i] ^= k[i & 3];
		}
		if (op == 8)
			return -1;
		if (op == 9) {           /* ping: pong back */
			unsigned char h[2] = { 0x8a, (unsigned char)n };

			send_all(c->fd, h, 2);
			send_all(c->fd, p + off, n);
		} else if (op == 1 || op == 0) {
			if (c->msgcap < c->msglen + n + 1) {
				c->msgcap = (c->msglen + n + 1) * 2;
				c->msg = realloc(c->msg, c->msgcap);
				if (!c->msg)
					die("realloc");
			}
			memcpy(c->msg + c->msglen, p + off, n);
			c->msglen += n;
			c->msg[c->msglen] = '\0';
		}
		c->pos += off + n;
		if ((op == 1 || op == 0) && fin)
			return 0;
	}
}

/* Accepts one connection and does the server's handshake. */
static int ws_accept(int ls, struct wsc *c, double timeout_ms)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	struct pollfd p = { .fd = ls, .events = POLLIN };
	char resp[256], acc[64], *k, *e, keybuf[128];
	unsigned char dig[20];
	struct sha1_ctx s;
	int one = 1;

	memset(c, 0, sizeof(*c));
	if (poll(&p, 1, (int)timeout_ms) <= 0)
		return -1;
	c->fd = accept(ls, NULL, NULL);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->deadline = now_ms() + timeout_ms;
	for (;;) {
		if (fill(c) < 0)
			return -1;
		c->buf[c->len] = 0;
		if (memmem(c->buf, c->len, "\r\n\r\n", 4))
			break;
	}
	k = strcasestr((char *)c->buf, "Sec-WebSocket-Key:");
	if (!k)
		return -1;
	k += 18;
	while (*k == ' ')
		k++;
	e = strstr(k, "\r\n");
	if (!e || e - k >= 100)
		return -1;
	memcpy(keybuf, k, (size_t)(e - k));
	keybuf[e - k] = 0;
	sha1_init(&s);
	sha1_update(&s, keybuf, strlen(keybuf));
	sha1_update(&s, guid, strlen(guid));
	sha1_final(&s, dig);
	acc[base64_encode(dig, 20, acc)] = 0;
	snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	send_all(c->fd, resp, strlen(resp));
	c->pos = (size_t)((unsigned char *)memmem(c->buf, c->len, "\r\n\r\n", 4) - c->buf) + 4;
	return 0;
}

/* ---- the agents ---- */

static long status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = atol(line + kl + 1);
	fclose(f);
	return v;
}

static pid_t spawn(char *const argv[], char *const envp[])
{
	pid_t pid;
	posix_spawn_file_actions_t fa;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0)
		die(argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

struct agent {
	const char *label;
	char *path;
	int is_py;
	int runs, failed;
	double rtt1[MAX_ROUNDS], rtt32[MAX_ROUNDS], list_ms[MAX_ROUNDS], list_cpu[MAX_ROUNDS];
	long rss_idle, hwm;
	size_t list_bytes, reply_bytes;
	int list_n;
};

static int count_objects(const char *s)
{
	int n = 0;

	for (; (s = strstr(s, "\"pid\":")); s++)
		n++;
	return n;
}

/* The size of one frame carrying n payload bytes, with or without mask. */
static size_t frame_len(size_t n, int masked)
{
	return n + (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/* Sequential: one in flight, no id.  Returns calls/s. */
static double rtt_serial(struct wsc *c, const char *cmd, size_t *reply)
{
	double t0 = now_ms();
	int i;

	for (i = 0; i < N_MAX; i++) {
		send_text(c, cmd);
		if (recv_text(c) < 0 || !strstr(c->msg, "\"command_response\"")) {
			fprintf(stderr, "bench_agent: bad reply: %.200s\n", c->msglen ? c->msg : "(none)");
			return -1;
		}
		if ((i & 63) == 63 && now_ms() - t0 > T_MAX_MS) {
			i++;
			break;
		}
	}
	*reply = c->msglen;
	return i / ((now_ms() - t0) / 1e3);
}

/* Pipelined: PIPE_DEPTH in flight, each with an id. */
static double rtt_pipe(struct wsc *c, int pid)
{
	char cmd[160];
	double t0 = now_ms();
	int sent = 0, got = 0, stop = 0;

	while (got < sent || !stop) {
		while (!stop && sent - got < PIPE_DEPTH) {
			snprintf(cmd, sizeof(cmd), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
				 "\"id\":\"q%d\",\"payload\":{\"pid\":%d}}", sent, pid);
			send_text(c, cmd);
			sent++;
			if (sent >= N_MAX)
				stop = 1;
		}
		if (recv_text(c) < 0 || !strstr(c->msg, "\"command_response\"") ||
		    !strstr(c->msg, "\"id\"")) {
			fprintf(stderr, "bench_agent: bad pipelined reply: %.200s\n",
				c->msglen ? c->msg : "(none)");
			return -1;
		}
		got++;
		if ((got & 63) == 0 && now_ms() - t0 > T_MAX_MS)
			stop = 1;
	}
	return got / ((now_ms() - t0) / 1e3);
}

/* CPU time the clock ck has counted, in ms (-1 if it cannot be read). */
static double cpu_ms(clockid_t ck)
{
	struct timespec ts;

	if (clock_gettime(ck, &ts) < 0)
		return -1;
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The listing, `runs` times: the median in ms, and into *cpu the median
 * CPU time the agent (pid) spent on one, from its process CPU clock: the
 * kernel's count for that process alone, which other work on a shared
 * machine stretches far less than the wall-clock time. */
static double listing(struct wsc *c, struct agent *a, int runs, pid_t pid, double *cpu)
{
	double t[32], u[32], t0, u0;
	clockid_t ck;
	int i;

	if (clock_getcpuclockid(pid, &ck) != 0)
		ck = (clockid_t)-1;
	for (i = 0; i < runs && i < 32; i++) {
		u0 = cpu_ms(ck);
		t0 = now_ms();
		send_text(c, "{\"status\":\"command\",\"message\":\"obtain_all_process_info\"}");
		if (recv_text(c) < 0 || !strstr(c->msg, "\"command_response\"")) {
			fprintf(stderr, "bench_agent: obtain_all_process_info failed\n");
			return -1;
		}
		t[i] = now_ms() - t0;
		u[i] = u0 < 0 ? -1 : cpu_ms(ck) - u0;
	}
	a->list_bytes = c->msglen;
	a->list_n = count_objects(c->msg);
	*cpu = median(u, i);
	return median(t, i);
}

static pid_t *kids;
static int nkids;
static char cmd1[160];        /* the 1-deep command, for the raw peer */
static char *reply_sample;    /* and the first agent's reply to it */

static void start_sleeps(int n)
{
	char *argv[] = { "/bin/sleep", "600", NULL };
	int i;

	kids = calloc((size_t)n + 1, sizeof(*kids));
	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0)
			break;
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			execve(argv[0], argv, environ);
			_exit(127);
		}
		kids[nkids++] = p;
	}
}

static void stop_sleeps(void)
{
	int i;

	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < nkids; i++)
		while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	nkids = 0;
}

static int listen_lo(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(ls, 4) < 0 ||
	    getsockname(ls, (struct sockaddr *)sa, &sl) < 0)
		die("listen");
	return ls;
}

static void reap(pid_t pid)
{
	int i, st;

	for (i = 0; i < 300 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 300) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

/* One run of one agent: connect, measure, close. */
static void run_agent(struct agent *a, int round, int listings)
{
	struct sockaddr_in sa;
	char url[64], tokenv[128], *argv[10], *envp[4], cmd[160];
	int ls, ok = 0;
	struct wsc c;
	pid_t pid;

	ls = listen_lo(&sa);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", ntohs(sa.sin_port));
	/* a well-formed token from the script; this server accepts any */
	snprintf(tokenv, sizeof(tokenv), "NESTD_TOKEN=%s",
		 getenv("BENCH_TOKEN") ? getenv("BENCH_TOKEN") : "");
	if (a->is_py) {
		argv[0] = "/usr/bin/python3";
		argv[1] = a->path;
		argv[2] = url;
		argv[3] = NULL;
	} else {
		/* --compat nestd: the shapes a nestd server gets (the full
		 * process list), as this driver does not announce itself. */
		char *t[] = { a->path, "agent", "--server", url, "--log-level", "warn", "--compat",
			      "nestd", NULL };

		memcpy(argv, t, sizeof(t));
	}
	envp[0] = tokenv;
	envp[1] = "PATH=/usr/bin:/bin";
	envp[2] = NULL;
	pid = spawn(argv, envp);
	if (ws_accept(ls, &c, 20000) < 0 || recv_text(&c) < 0 ||
	    !strstr(c.msg, "let_me_in_pls")) {
		fprintf(stderr, "bench_agent: %s did not connect\n", a->label);
		goto out;
	}
	send_text(&c, "{\"status\":\"info\",\"message\":\"Authenticated :D\"}");
	c.deadline = now_ms() + 120000;
	usleep(300000);            /* let it settle: idle */
	if (round == 0)
		a->rss_idle = status_kib(pid, "VmRSS");
	snprintf(cmd, sizeof(cmd), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", (int)getpid());
	memcpy(cmd1, cmd, sizeof(cmd1));
	a->rtt1[round] = rtt_serial(&c, cmd, &a->reply_bytes);
	if (!reply_sample && a->rtt1[round] > 0 && !a->is_py)
		reply_sample = strdup(c.msg);
	a->rtt32[round] = a->rtt1[round] < 0 ? -1 : rtt_pipe(&c, (int)getpid());
	a->list_cpu[round] = 0;
	a->list_ms[round] = a->is_py || a->rtt32[round] < 0 || !listings ? 0 :
			    listing(&c, a, listings, pid, &a->list_cpu[round]);
	if (a->rtt1[round] < 0 || a->rtt32[round] < 0 || a->list_ms[round] < 0)
		goto out;
	if (!a->is_py)
		a->hwm = status_kib(pid, "VmHWM");
	ok = 1;
	/* A close frame (code 1000): the agent answers it and waits to
	 * reconnect; SIGTERM then ends it at once. */
	{
		unsigned char cl[4] = { 0x88, 2, 0x03, 0xe8 };

		send_all(c.fd, cl, sizeof(cl));
		c.deadline = now_ms() + 2000;
		while (recv_text(&c) == 0)
			;
	}
out:
	if (!ok)
		a->failed = 1;
	a->runs++;
	kill(pid, SIGTERM);
	reap(pid);
	close(c.fd);
	close(ls);
	free(c.buf);
	free(c.msg);
}

/* ---- the references ---- */

/* What an obtain_process_info answer reads of /proc, the agent's way:
 * pread of PID/stat and PID/cmdline through descriptors kept open, and
 * fstatat of the PID directory by name (its owner), into buffers of the
 * agent's sizes.  Opened on the first call. */
struct proc_reads {
	int procfd, stat, cmdline;
	char dir[16], sb[1024], *cmd;
};

static void proc_reads_do(struct proc_reads *pr, int pid)
{
	char path[48];
	struct stat st;

	if (pr->procfd <= 0) {
		snprintf(pr->dir, sizeof(pr->dir), "%d", pid);
		pr->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(path, sizeof(path), "%s/stat", pr->dir);
		pr->stat = openat(pr->procfd, path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "%s/cmdline", pr->dir);
		pr->cmdline = openat(pr->procfd, path, O_RDONLY | O_CLOEXEC);
		pr->cmd = malloc(65536);
		if (pr->procfd < 0 || pr->stat < 0 || pr->cmdline < 0 || !pr->cmd)
			_exit(1);
	}
	if (pread(pr->stat, pr->sb, sizeof(pr->sb) - 1, 0) <= 0 ||
	    fstatat(pr->procfd, pr->dir, &st, 0) < 0 || pread(pr->cmdline, pr->cmd, 65536, 0) < 0)
		_exit(1);
}

/* The raw peer: reads a request of q bytes, writes the reply frame (an
 * agent's real reply, masked with a zero key) back, until EOF.  With
 * pid, it first reads what an answer about pid reads of /proc
 * (proc_reads_do): the ping-pong plus the kernel's share of an answer,
 * so that what the agent falls short of it is nestd's own. */
static void raw_peer(int port, size_t q, const unsigned char *frame, size_t r, int pid)
{
	struct proc_reads pr = { 0 };

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char *in = malloc(q);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!in || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		size_t got = 0;
		ssize_t k;

		while (got < q) {
			k = read(fd, in + got, q - got);
			if (k <= 0)
				_exit(0);
			got += (size_t)k;
		}
		if (pid)
			proc_reads_do(&pr, pid);
		for (got = 0; got < r; got += (size_t)k) {
			k = write(fd, frame + got, r - got);
			if (k <= 0)
				_exit(0);
		}
	}
}

/* Round trips/s against the raw peer (with pid: reading /proc as an
 * answer about pid does), through the very code that drives the agents
 * (send_text, recv_text): only the peer differs. */
static double raw_pingpong(const char *cmd, const char *reply, int proc_pid)
{
	struct sockaddr_in sa;
	size_t n = strlen(reply), q = frame_len(strlen(cmd), 0), r = frame_len(n, 1), hl = r - n;
	unsigned char *frame = calloc(1, r);
	int ls = listen_lo(&sa), one = 1, i;
	struct wsc c;
	double t0;
	pid_t pid;

	if (!frame)
		die("malloc");
	frame[0] = 0x81;
	if (n < 126) {
		frame[1] = (unsigned char)(0x80 | n);
	} else {
		frame[1] = 0x80 | 126;
		frame[2] = (unsigned char)(n >> 8);
		frame[3] = (unsigned char)n;
	}
	memcpy(frame + hl, reply, n);      /* the mask key (before it) is zero */
	pid = fork();
	if (pid == 0) {
		close(ls);
		raw_peer(ntohs(sa.sin_port), q, frame, r, proc_pid);
	}
	memset(&c, 0, sizeof(c));
	c.fd = accept(ls, NULL, NULL);
	if (c.fd < 0 || n >= 65536)
		die("raw ping-pong");
	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c.deadline = now_ms() + 120000;
	t0 = now_ms();
	for (i = 0; i < N_MAX; i++) {
		send_text(&c, cmd);
		if (recv_text(&c) < 0 || c.msglen != n)
			die("raw ping-pong reply");
		if ((i & 63) == 63 && now_ms() - t0 > T_MAX_MS) {
			i++;
			break;
		}
	}
	t0 = i / ((now_ms() - t0) / 1e3);
	close(c.fd);
	close(ls);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(frame);
	free(c.buf);
	free(c.msg);
	return t0;
}

/* The probe (proc_probe.h) with the owner: ms for the whole of /proc,
 * and its CPU time (this process's CPU clock) added to *cpu. */
static double probe(int *count, double *cpu)
{
	double t0 = now_ms(), u0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);

	if ((*count = proc_probe(1)) < 0)
		die("/proc");
	*cpu += cpu_ms(CLOCK_PROCESS_CPUTIME_ID) - u0;
	return now_ms() - t0;
}

/* ---- the report ---- */

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static const char *verdict(int ok)
{
	return ok ? "met" : "NOT met";
}

static void report(struct agent *ag, int na, const double *raw, const double *rawp,
		   const double *pr, const double *pcpu, int rounds, int nprobe, struct agent *py)
{
	double mraw = median(raw, rounds), mpr = median(pr, rounds), mpc = median(pcpu, rounds);
	double mrawp = median(rawp, rounds);
	double r1[MAX_AGENTS], r32[MAX_AGENTS], ls[MAX_AGENTS];
	int i;

	printf("\n%-26s %12s %12s %11s %10s %10s\n", "agent (median of rounds)", "rtt/s 1-deep",
	       "rtt/s 32+id", "listing ms", "idle RSS", "peak RSS");
	for (i = 0; i < na; i++) {
		r1[i] = median(ag[i].rtt1, ag[i].runs);
		r32[i] = median(ag[i].rtt32, ag[i].runs);
		ls[i] = median(ag[i].list_ms, ag[i].runs);
		if (ag[i].failed)
			printf("%-26s FAILED\n", ag[i].label);
		else
			printf("%-26s %12.0f %12.0f %11.1f %6ld KiB %6ld KiB\n", ag[i].label, r1[i], r32[i],
			       ls[i], ag[i].rss_idle, ag[i].hwm);
	}
	printf("%-26s %12.0f %12s %11.1f   (same run; raw: blocking C ping-pong, %zu-byte "
	       "request, %zu-byte reply; probe: stat+fstat+cmdline of %d processes)\n",
	       "raw TCP / probe", mraw, "-", mpr, frame_len(strlen(cmd1), 0), frame_len(ag[0].reply_bytes, 1),
	       nprobe);
	printf("%-26s %12.0f %12s %11s   (the same ping-pong, each reply after an answer's "
	       "/proc reads: pread stat and cmdline through kept descriptors, fstatat the directory)\n",
	       "raw TCP + /proc reads", mrawp, "-", "-");
	if (py && !py->failed)
		printf("%-26s %12.0f %12.0f %11s %6ld KiB\n", py->label, py->rtt1[0], py->rtt32[0], "-",
		       py->rss_idle);
	printf("listing: %d processes, %zu bytes; %d rounds, order rotated\n\n", ag[0].list_n,
	       ag[0].list_bytes, rounds);
	for (i = 0; i < na; i++) {
		printf("%s: rtt 1-deep %.2fx raw TCP (target >= 0.8: %s); listing %.2fx the probe "
		       "(target <= 1.1: %s)\n", ag[i].label, ratio(r1[i], mraw),
		       verdict(ratio(r1[i], mraw) >= 0.8), ratio(ls[i], mpr), verdict(ratio(ls[i], mpr) <= 1.1));
		printf("%s: rtt 1-deep %.2fx raw TCP + /proc reads (target >= 0.8: %s): what is "
		       "left is nestd's own\n", ag[i].label, ratio(r1[i], mrawp),
		       verdict(ratio(r1[i], mrawp) >= 0.8));
		printf("%s: listing CPU time %.1f ms in the agent, %.2fx the probe's %.1f ms\n",
		       ag[i].label, median(ag[i].list_cpu, ag[i].runs),
		       ratio(median(ag[i].list_cpu, ag[i].runs), mpc), mpc);
		if (i == 0)
			continue;
		printf("%s vs %s: 1-deep %.2fx, 32-deep %.2fx, listing %.2fx the time "
		       "(target: within 10%%: %s)\n", ag[i].label, ag[0].label, ratio(r1[i], r1[0]),
		       ratio(r32[i], r32[0]), ratio(ls[i], ls[0]),
		       verdict(r1[i] >= 0.9 * r1[0] && r32[i] >= 0.9 * r32[0] && ls[i] <= 1.1 * ls[0]));
	}
	if (py && !py->failed)
		printf("%s vs python: %.1fx (1-deep), %.1fx (32-deep)\n", ag[0].label,
		       ratio(r1[0], py->rtt1[0]), ratio(r32[0], py->rtt32[0]));
}

int main(int argc, char **argv)
{
	struct agent ag[MAX_AGENTS], py;
	double raw[MAX_ROUNDS], rawp[MAX_ROUNDS], pr[MAX_ROUNDS], pcpu[MAX_ROUNDS], pw[3], pc[3];
	int na = 0, rounds = 3, nproc = 2000, listings = 5, opt, r, i, nprobe = 0, bad = 0;
	const char *pyref = NULL;

	memset(ag, 0, sizeof(ag));
	memset(&py, 0, sizeof(py));
	while ((opt = getopt(argc, argv, "r:n:l:p:")) != -1) {
		if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 'n')
			nproc = atoi(optarg);
		else if (opt == 'l')
			listings = atoi(optarg);
		else if (opt == 'p')
			pyref = optarg;
		else
			return 2;
	}
	for (i = optind; i < argc && na < MAX_AGENTS; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return 2;
		*eq = '\0';
		ag[na].label = argv[i];
		ag[na++].path = eq + 1;
	}
	if (!na || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_agent [-r ROUNDS] [-n NPROC] [-l LISTINGS] "
			"[-p REFCLIENT] LABEL=NESTD...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getenv("BENCH_FIXED")) {
		N_MAX = atoi(getenv("BENCH_FIXED"));
		T_MAX_MS = 1e12;
	}
	start_sleeps(nproc);
	usleep(300000);
	probe(&nprobe, &pcpu[0]);  /* warm the dentries */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < na; i++)
			run_agent(&ag[(i + r) % na], r, listings);
		if (!reply_sample)
			break;
		raw[r] = raw_pingpong(cmd1, reply_sample, 0);
		rawp[r] = raw_pingpong(cmd1, reply_sample, (int)getpid());
		for (i = 0; i < 3; i++) {
			pc[i] = 0;
			pw[i] = probe(&nprobe, &pc[i]);
		}
		pr[r] = median(pw, 3);
		pcpu[r] = median(pc, 3);
	}
	if (pyref) {
		py.label = getenv("BENCH_PY_LABEL") ? getenv("BENCH_PY_LABEL") : "python ref";
		py.path = (char *)pyref;
		py.is_py = 1;
		run_agent(&py, 0, 0);
	}
	stop_sleeps();
	for (i = 0; i < na; i++)
		bad |= ag[i].failed;
	if (!ag[0].reply_bytes) {
		fprintf(stderr, "bench_agent: %s failed\n", ag[0].label);
		return 1;
	}
	report(ag, na, raw, rawp, pr, pcpu, r, nprobe, pyref ? &py : NULL);
	return bad;
}
