/* loop.c - poll(2) loop with deadlines and a signal self-pipe (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct loop {
	struct loop_src **src;   /* live sources; NULL holes after loop_del */
	int nsrc, cap;
	int holes;
	struct pollfd *pfd;
	int *pmap;               /* pollfd index -> src index */
	int pcap;
	int stop;
	/* signals */
	struct loop_src sigsrc;
	int sigsrc_added;
	void (*sigcb[65])(int, void *);
	void *sigarg[65];
};

static int sig_pipe[2] = { -1, -1 };

int64_t loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	return calloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	free(l->src);
	free(l->pfd);
	free(l->pmap);
	free(l);
}

int loop_add(struct loop *l, struct loop_src *s)
{
	if (l->nsrc == l->cap) {
		int ncap = l->cap ? l->cap * 2 : 64;
		struct loop_src **n = realloc(l->src, (size_t)ncap * sizeof(*n));

		if (!n)
			return -1;
		l->src = n;
		l->cap = ncap;
	}
	s->slot_ = l->nsrc;
	l->src[l->nsrc++] = s;
	return 0;
}

void loop_del(struct loop *l, struct loop_src *s)
{
	if (s->slot_ < 0 || s->slot_ >= l->nsrc || l->src[s->slot_] != s)
		return;
	l->src[s->slot_] = NULL;
	s->slot_ = -1;
	l->holes++;
}

int loop_count(const struct loop *l)
{
	return l->nsrc - l->holes;
}

static void compact(struct loop *l)
{
	int i, j = 0;

	if (!l->holes)
		return;
	for (i = 0; i < l->nsrc; i++) {
		if (l->src[i]) {
			l->src[j] = l->src[i];
			l->src[j]->slot_ = j;
			j++;
		}
	}
	l->nsrc = j;
	l->holes = 0;
}

int loop_once(struct loop *l, int max_wait_ms)
{
	int i, np = 0, n, timeout = max_wait_ms;
	int64_t now, first = 0;

	compact(l);
	if (l->pcap < l->nsrc) {
		struct pollfd *p = realloc(l->pfd, (size_t)l->nsrc * sizeof(*p));
		int *m;

		if (!p)
			return -1;
		l->pfd = p;
		m = realloc(l->pmap, (size_t)l->nsrc * sizeof(*m));
		if (!m)
			return -1;
		l->pmap = m;
		l->pcap = l->nsrc;
	}
	for (i = 0; i < l->nsrc; i++) {
		struct loop_src *s = l->src[i];

		if (s->deadline && (!first || s->deadline < first))
			first = s->deadline;
		if (s->fd < 0)
			continue;
		l->pfd[np].fd = s->fd;
		l->pfd[np].events = s->want ? s->want(s) : POLLIN;
		l->pfd[np].revents = 0;
		l->pmap[np] = i;
		np++;
	}
	if (first) {
		int64_t d = first - loop_now();

		if (d < 0)
			d = 0;
		if (timeout < 0 || d < timeout)
			timeout = d > 0x7fffffff ? 0x7fffffff : (int)d;
	}
	n = poll(l->pfd, (nfds_t)np, timeout);
	if (n < 0 && errno != EINTR)
		return -1;
	/* Sources added during dispatch sit past `end` and wait a round. */
	for (i = 0; n > 0 && i < np; i++) {
		struct loop_src *s = l->src[l->pmap[i]];

		if (!l->pfd[i].revents || !s)
			continue;
		s->ready(s, l->pfd[i].revents);
	}
	now = loop_now();
	for (i = 0; i < l->nsrc; i++) {
		struct loop_src *s = l->src[i];

		if (s && s->deadline && s->deadline <= now)
			s->ready(s, 0);
	}
	return 0;
}

int loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (loop_once(l, -1) < 0)
			return -1;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

static void sig_handler(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* pipe full: the signal is already pending in it */
	}
	errno = saved;
}

static void sig_ready(struct loop_src *s, short revents)
{
	struct loop *l = s->arg;
	unsigned char c[64];
	ssize_t n, i;

	if (!revents)
		return;
	while ((n = read(s->fd, c, sizeof(c))) > 0)
		for (i = 0; i < n; i++)
			if (c[i] < 65 && l->sigcb[c[i]])
				l->sigcb[c[i]](c[i], l->sigarg[c[i]]);
}

int loop_signals(struct loop *l, const int *sigs, int nsigs,
		 void (*cb)(int sig, void *arg), void *arg)
{
	struct sigaction sa;
	int i;

	if (sig_pipe[0] < 0) {
		if (pipe(sig_pipe) < 0)
			return -1;
		for (i = 0; i < 2; i++) {
			fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
			fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
		}
	}
	if (!l->sigsrc_added) {
		memset(&l->sigsrc, 0, sizeof(l->sigsrc));
		l->sigsrc.fd = sig_pipe[0];
		l->sigsrc.ready = sig_ready;
		l->sigsrc.arg = l;
		if (loop_add(l, &l->sigsrc) < 0)
			return -1;
		l->sigsrc_added = 1;
	}
	for (i = 0; i < nsigs; i++) {
		if (sigs[i] <= 0 || sigs[i] >= 65)
			return -1;
		l->sigcb[sigs[i]] = cb;
		l->sigarg[sigs[i]] = arg;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nsigs; i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -1;
	return 0;
}
