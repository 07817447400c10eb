/* loop.c - epoll loop with a deadline heap and a signal self-pipe (see
 * loop.h for the contract).
 *
 * Every source has a slot in a table; an event carries the slot and the
 * slot's generation, so an event for a source deleted earlier in the same
 * round (whose memory may already hold a new source) is recognised and
 * dropped. */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define NSIG_MAX 65

struct slot {
	struct loop_src *s;
	unsigned gen;
	int next_free;
};

struct loop {
	int epfd;
	struct slot *slots;
	int nslots, capslots, free_head, nlive;
	struct loop_src **heap;          /* min-heap by deadline */
	int nheap, capheap;
	struct loop_src **always;        /* asked before every wait */
	int nalways, capalways;
	unsigned long long *dirty;       /* slot | gen << 32 */
	int ndirty, capdirty;
	unsigned long long *deferred;    /* loop_defer, same keys */
	int ndeferred, capdeferred;
	int stop;
	/* signals */
	struct loop_src sigsrc;
	int sigsrc_added;
	void (*sigcb[NSIG_MAX])(int, void *);
	void *sigarg[NSIG_MAX];
};

static int sig_pipe[2] = { -1, -1 };

int64_t loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->free_head = -1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->slots);
	free(l->heap);
	free(l->always);
	free(l->dirty);
	free(l->deferred);
	free(l);
}

static int grow(void **p, int *cap, int need, size_t elem)
{
	int ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, (size_t)ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* ---- deadline heap ---- */

static void heap_set(struct loop *l, int i, struct loop_src *s)
{
	l->heap[i] = s;
	s->heap_ = i;
}

static void heap_up(struct loop *l, int i)
{
	struct loop_src *s = l->heap[i];

	while (i > 0) {
		int p = (i - 1) / 2;

		if (l->heap[p]->heap_at_ <= s->heap_at_)
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, s);
}

static void heap_down(struct loop *l, int i)
{
	struct loop_src *s = l->heap[i];

	for (;;) {
		int c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->heap_at_ < l->heap[c]->heap_at_)
			c++;
		if (l->heap[c]->heap_at_ >= s->heap_at_)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, s);
}

static void heap_remove(struct loop *l, struct loop_src *s)
{
	int i = s->heap_;

	if (i < 0)
		return;
	s->heap_ = -1;
	if (--l->nheap == i)
		return;
	{
		struct loop_src *moved = l->heap[l->nheap];

		heap_set(l, i, moved);
		heap_down(l, i);
		heap_up(l, moved->heap_);
	}
}

static int heap_update(struct loop *l, struct loop_src *s)
{
	if (!s->deadline) {
		heap_remove(l, s);
		return 0;
	}
	if (s->heap_ >= 0) {
		if (s->heap_at_ == s->deadline)
			return 0;
		s->heap_at_ = s->deadline;
		heap_down(l, s->heap_);
		heap_up(l, s->heap_);
		return 0;
	}
	if (grow((void **)&l->heap, &l->capheap, l->nheap + 1, sizeof(*l->heap)) < 0)
		return -1;
	s->heap_at_ = s->deadline;
	heap_set(l, l->nheap, s);
	heap_up(l, l->nheap++);
	return 0;
}

/* ---- asking a source ---- */

static unsigned long long key_of(const struct loop_src *s)
{
	return (unsigned long long)(unsigned)s->slot_ | (unsigned long long)s->gen_ << 32;
}

static struct loop_src *src_of(struct loop *l, unsigned long long key)
{
	int slot = (int)(key & 0xffffffffu);
	unsigned gen = (unsigned)(key >> 32);

	if (slot < 0 || slot >= l->nslots || !l->slots[slot].s || l->slots[slot].gen != gen)
		return NULL;
	return l->slots[slot].s;
}

static void sync_src(struct loop *l, struct loop_src *s)
{
	s->dirty_ = 0;
	if (s->fd >= 0) {
		short want = s->want ? s->want(s) : POLLIN;

		if (!s->registered_ || want != s->reg_) {
			struct epoll_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.events = (want & POLLIN ? EPOLLIN : 0) | (want & POLLOUT ? EPOLLOUT : 0);
			ev.data.u64 = key_of(s);
			if (epoll_ctl(l->epfd, s->registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
				      s->fd, &ev) == 0) {
				s->registered_ = 1;
				s->reg_ = want;
			}
		}
	}
	heap_update(l, s);
}

void loop_touch(struct loop *l, struct loop_src *s)
{
	if (s->dirty_ || s->slot_ < 0)
		return;
	if (grow((void **)&l->dirty, &l->capdirty, l->ndirty + 1, sizeof(*l->dirty)) < 0) {
		sync_src(l, s);   /* no room to defer: ask now */
		return;
	}
	s->dirty_ = 1;
	l->dirty[l->ndirty++] = key_of(s);
}

void loop_defer(struct loop *l, struct loop_src *s)
{
	int i;

	if (s->slot_ < 0)
		return;
	for (i = l->ndeferred - 1; i >= 0 && i >= l->ndeferred - 4; i--)
		if (l->deferred[i] == key_of(s))
			return;   /* the common repeat: the same peer again */
	if (grow((void **)&l->deferred, &l->capdeferred, l->ndeferred + 1,
		 sizeof(*l->deferred)) < 0) {
		s->ready(s, POLLOUT);
		return;
	}
	l->deferred[l->ndeferred++] = key_of(s);
}

int loop_add(struct loop *l, struct loop_src *s)
{
	int slot;

	if (l->free_head >= 0) {
		slot = l->free_head;
		l->free_head = l->slots[slot].next_free;
	} else {
		if (grow((void **)&l->slots, &l->capslots, l->nslots + 1, sizeof(*l->slots)) < 0)
			return -1;
		slot = l->nslots++;
		l->slots[slot].gen = 0;
	}
	if (!(s->flags & LOOP_TOUCH) &&
	    grow((void **)&l->always, &l->capalways, l->nalways + 1, sizeof(*l->always)) < 0) {
		l->slots[slot].s = NULL;
		l->slots[slot].next_free = l->free_head;
		l->free_head = slot;
		return -1;
	}
	l->slots[slot].s = s;
	l->slots[slot].gen++;
	s->slot_ = slot;
	s->gen_ = l->slots[slot].gen;
	s->heap_ = -1;
	s->always_ = -1;
	s->registered_ = 0;
	s->dirty_ = 0;
	s->reg_ = 0;
	if (!(s->flags & LOOP_TOUCH)) {
		s->always_ = l->nalways;
		l->always[l->nalways++] = s;
	}
	l->nlive++;
	loop_touch(l, s);
	return 0;
}

void loop_del(struct loop *l, struct loop_src *s)
{
	int slot = s->slot_;

	if (slot < 0 || slot >= l->nslots || l->slots[slot].s != s)
		return;
	if (s->registered_ && s->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->registered_ = 0;
	heap_remove(l, s);
	if (s->always_ >= 0) {
		struct loop_src *last = l->always[--l->nalways];

		l->always[s->always_] = last;
		last->always_ = s->always_;
		s->always_ = -1;
	}
	l->slots[slot].s = NULL;
	l->slots[slot].next_free = l->free_head;
	l->free_head = slot;
	s->slot_ = -1;
	l->nlive--;
}

int loop_count(const struct loop *l)
{
	return l->nlive;
}

/* Calls s->ready and asks s again afterwards, if it still exists. */
static void dispatch(struct loop *l, struct loop_src *s, short revents)
{
	unsigned long long key = key_of(s);

	s->ready(s, revents);
	s = src_of(l, key);
	if (s)
		loop_touch(l, s);
}

int loop_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n, timeout = max_wait_ms;
	int64_t now;

	for (i = 0; i < l->nalways; i++)
		sync_src(l, l->always[i]);
	for (i = 0; i < l->ndirty; i++) {
		struct loop_src *s = src_of(l, l->dirty[i]);

		if (s && s->dirty_)
			sync_src(l, s);
	}
	l->ndirty = 0;
	if (l->nheap) {
		int64_t d = l->heap[0]->heap_at_ - loop_now();

		if (d < 0)
			d = 0;
		if (timeout < 0 || d < timeout)
			timeout = d > 0x7fffffff ? 0x7fffffff : (int)d;
	}
	n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout);
	if (n < 0 && errno != EINTR)
		return -1;
	for (i = 0; i < n; i++) {
		struct loop_src *s = src_of(l, evs[i].data.u64);
		short rev = 0;

		if (!s)
			continue;   /* deleted earlier in this round */
		if (evs[i].events & EPOLLIN)
			rev |= POLLIN;
		if (evs[i].events & EPOLLOUT)
			rev |= POLLOUT;
		if (evs[i].events & EPOLLERR)
			rev |= POLLERR;
		if (evs[i].events & EPOLLHUP)
			rev |= POLLHUP;
		if (evs[i].events & EPOLLRDHUP)
			rev |= POLLIN;
		dispatch(l, s, rev);
	}
	now = loop_now();
	/* Sources whose deadline passed.  A source may set itself a deadline
	 * that has passed already; it is called once per round. */
	{
		int budget = l->nheap;

		while (l->nheap && l->heap[0]->heap_at_ <= now && budget-- > 0) {
			struct loop_src *s = l->heap[0];

			heap_remove(l, s);
			if (s->deadline && s->deadline <= now)
				dispatch(l, s, 0);
			else
				loop_touch(l, s);
		}
	}
	/* Deferred output, now that every event and deadline of the round has
	 * added its share.  A repeat in the list finds nothing left to do. */
	for (i = 0; i < l->ndeferred; i++) {
		struct loop_src *s = src_of(l, l->deferred[i]);

		if (s)
			dispatch(l, s, POLLOUT);
	}
	l->ndeferred = 0;
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
			if (c[i] < NSIG_MAX && l->sigcb[c[i]])
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
		if (sigs[i] <= 0 || sigs[i] >= NSIG_MAX)
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

void loop_signals_del(struct loop *l, const int *sigs, int nsigs,
		      void (*cb)(int sig, void *arg), void *arg)
{
	int i, sig;

	for (i = 0; i < nsigs; i++) {
		sig = sigs[i];
		if (sig <= 0 || sig >= NSIG_MAX || l->sigcb[sig] != cb || l->sigarg[sig] != arg)
			continue;
		l->sigcb[sig] = NULL;
		l->sigarg[sig] = NULL;
	}
}
