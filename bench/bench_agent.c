/* bench_agent.c - a real `nestd agent` over loopback, driven by this
 * program acting as the server (the bot):
 *
 *   bench_agent NESTD REFCLIENT NPROC [STATIC_NESTD]
 *
 * For each agent (nestd, the Python reference-style client REFCLIENT run
 * with /usr/bin/python3, and STATIC_NESTD when given) it listens on
 * 127.0.0.1, starts the agent, does the handshake, accepts whatever token
 * the first message carries, and measures:
 *   - round trips/s of obtain_process_info, one in flight, no id
 *     (N = 20,000 or 5 s, whichever ends first)
 *   - the same with 32 in flight, each with an id
 *   - the agent's VmRSS while idle after connecting
 *   - for nestd only: obtain_all_process_info with NPROC extra sleep
 *     children alive (reply time and size), then VmRSS and VmHWM
 * The sleep children die with this program (PR_SET_PDEATHSIG) and are
 * killed and reaped at the end; every agent is killed and reaped too.
 *
 * The WebSocket server side is hand-written (server frames unmasked,
 * client frames masked), using the tree's sha1.c and base64.c for the
 * Sec-WebSocket-Accept. */
#include <arpa/inet.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "sha1.h"

extern char **environ;

#define N_MAX 20000
#define T_MAX_MS 5000.0
#define PIPE_DEPTH 32

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

struct result {
	const char *name;
	int ok;
	double rtt1, rtt32;          /* round trips per second */
	int n1, n32;
	long rss_idle, rss_list, hwm_list;
	double list_ms;
	size_t list_bytes;
	int list_n;
};

static int count_objects(const char *s)
{
	int n = 0;

	for (; (s = strstr(s, "\"pid\":")); s++)
		n++;
	return n;
}

/* Sequential: one in flight, no id.  Returns calls/s. */
static double rtt_serial(struct wsc *c, const char *cmd, int *count)
{
	double t0 = now_ms(), t;
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
	t = now_ms() - t0;
	*count = i;
	return i / (t / 1e3);
}

/* Pipelined: PIPE_DEPTH in flight, each with an id. */
static double rtt_pipe(struct wsc *c, int pid, int *count)
{
	char cmd[160];
	double t0 = now_ms(), t;
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
	t = now_ms() - t0;
	*count = got;
	return got / (t / 1e3);
}

static pid_t *kids;
static int nkids;

static void start_sleeps(int n)
{
	char *argv[] = { "/bin/sleep", "600", NULL };
	int i;

	kids = calloc((size_t)n, sizeof(*kids));
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

static void run_agent(struct result *r, char *const argv_tmpl[], int is_nestd, int nproc)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char url[64], tokenv[128], *argv[16], *envp[8], cmd[160];
	int ls, i, one = 1, st;
	struct wsc c;
	pid_t pid;

	r->ok = 0;
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0)
		die("listen");
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", ntohs(sa.sin_port));
	/* a well-formed token from the script; this server accepts any */
	snprintf(tokenv, sizeof(tokenv), "NESTD_TOKEN=%s",
		 getenv("BENCH_TOKEN") ? getenv("BENCH_TOKEN") : "");
	for (i = 0; argv_tmpl[i] && i < 14; i++)
		argv[i] = strcmp(argv_tmpl[i], "@URL") ? argv_tmpl[i] : url;
	argv[i] = NULL;
	envp[0] = tokenv;
	envp[1] = "PATH=/usr/bin:/bin";
	envp[2] = NULL;
	pid = spawn(argv, envp);
	if (ws_accept(ls, &c, 10000) < 0 || recv_text(&c) < 0 ||
	    !strstr(c.msg, "let_me_in_pls")) {
		fprintf(stderr, "bench_agent: %s did not connect\n", r->name);
		goto out;
	}
	send_text(&c, "{\"status\":\"info\",\"message\":\"Authenticated :D\"}");
	c.deadline = now_ms() + 60000;
	usleep(300000);            /* let it settle: idle */
	r->rss_idle = status_kib(pid, "VmRSS");
	snprintf(cmd, sizeof(cmd), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", (int)getpid());
	r->rtt1 = rtt_serial(&c, cmd, &r->n1);
	if (r->rtt1 < 0)
		goto out;
	r->rtt32 = rtt_pipe(&c, (int)getpid(), &r->n32);
	if (r->rtt32 < 0)
		goto out;
	if (is_nestd && nproc > 0) {
		double t0;

		start_sleeps(nproc);
		usleep(200000);
		t0 = now_ms();
		send_text(&c, "{\"status\":\"command\",\"message\":\"obtain_all_process_info\"}");
		if (recv_text(&c) < 0 || !strstr(c.msg, "\"command_response\"")) {
			fprintf(stderr, "bench_agent: obtain_all_process_info failed\n");
			stop_sleeps();
			goto out;
		}
		r->list_ms = now_ms() - t0;
		r->list_bytes = c.msglen;
		r->list_n = count_objects(c.msg);
		usleep(100000);
		r->rss_list = status_kib(pid, "VmRSS");
		r->hwm_list = status_kib(pid, "VmHWM");
		stop_sleeps();
	}
	r->ok = 1;
out:
	kill(pid, SIGTERM);
	for (i = 0; i < 200 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 200) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	close(c.fd);
	close(ls);
	free(c.buf);
	free(c.msg);
}

static void kib(char *out, size_t n, long v)
{
	if (v < 0)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%ld KiB", v);
}

int main(int argc, char **argv)
{
	struct result r[3] = { { .name = "nestd agent" }, { .name = "python ref (psutil)" },
			       { .name = "nestd-static agent" } };
	char *a_nestd[] = { argv[1], "agent", "--server", "@URL", "--log-level", "warn", NULL };
	char *a_py[] = { "/usr/bin/python3", argv[2], "@URL", NULL };
	char *a_static[] = { argc > 4 ? argv[4] : NULL, "agent", "--server", "@URL", "--log-level",
			     "warn", NULL };
	int nproc, i, nres;
	char b1[32], b2[32], b3[32];

	if (argc < 4) {
		fprintf(stderr, "usage: bench_agent NESTD REFCLIENT NPROC [STATIC_NESTD]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getenv("BENCH_PY_LABEL"))
		r[1].name = getenv("BENCH_PY_LABEL");
	nproc = atoi(argv[3]);
	run_agent(&r[0], a_nestd, 1, nproc);
	run_agent(&r[1], a_py, 0, 0);
	nres = 2;
	if (argc > 4 && access(argv[4], X_OK) == 0) {
		run_agent(&r[2], a_static, 1, nproc);
		nres = 3;
	}

	printf("\n%-22s %14s %18s %12s\n", "agent", "rtt/s 1-deep", "rtt/s 32-deep+id", "idle VmRSS");
	for (i = 0; i < nres; i++) {
		kib(b1, sizeof(b1), r[i].rss_idle);
		if (!r[i].ok)
			printf("%-22s FAILED\n", r[i].name);
		else
			printf("%-22s %14.0f %18.0f %12s\n", r[i].name, r[i].rtt1, r[i].rtt32, b1);
	}
	printf("(obtain_process_info round trips over loopback; up to %d or %.0f s each: "
	       "nestd %d/%d, python %d/%d)\n", N_MAX, T_MAX_MS / 1e3, r[0].n1, r[0].n32, r[1].n1, r[1].n32);
	if (r[0].ok && r[1].ok && r[1].rtt1 > 0)
		printf("ratio nestd/python: %.1fx (1-deep), %.1fx (32-deep)\n",
		       r[0].rtt1 / r[1].rtt1, r[0].rtt32 / r[1].rtt32);
	for (i = 0; i < nres; i += 2) {
		if (!r[i].ok || !r[i].list_n)
			continue;
		kib(b1, sizeof(b1), r[i].rss_idle);
		kib(b2, sizeof(b2), r[i].rss_list);
		kib(b3, sizeof(b3), r[i].hwm_list);
		printf("%s: obtain_all_process_info with %d extra sleeps: %d processes, %zu bytes, "
		       "%.1f ms round trip; VmRSS idle %s -> after %s (VmHWM %s)\n",
		       r[i].name, nproc, r[i].list_n, r[i].list_bytes, r[i].list_ms, b1, b2, b3);
	}
	if (nres == 3 && r[2].ok)
		printf("static idle VmRSS: %ld KiB (target < 1024 KiB): %s\n", r[2].rss_idle,
		       r[2].rss_idle >= 0 && r[2].rss_idle < 1024 ? "met" : "NOT met");
	else
		printf("static build: not found (make static), skipped\n");
	return r[0].ok && r[1].ok ? 0 : 1;
}
