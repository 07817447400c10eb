/* loop.h - a tiny event loop in the manner of Redis' ae.c, on epoll(7).
 *
 * "Ask, don't track": the loop asks a source what it wants right now
 * (want(): POLLIN/POLLOUT) and when it next needs attention (deadline), so
 * no caller ever flips POLLOUT on or off by hand.  It asks after every
 * ready() call of that source, and before every wait for the sources that
 * are few (timers, pipes, listeners).  Sources that exist by the thousand
 * (connections) set LOOP_TOUCH and call loop_touch() whenever their answer
 * may have changed from outside their own ready(); that keeps each round's
 * cost proportional to the sources that did something, not to all of them.
 * Timers are a heap of deadlines and the wait's timeout.  Signals reach the
 * loop through a self-pipe and are delivered as ordinary callbacks. */
#ifndef NESTD_LOOP_H
#define NESTD_LOOP_H

#include <stdint.h>

struct loop;
struct loop_src;

struct loop_src {
	int fd;                                    /* -1: deadline only */
	short (*want)(struct loop_src *s);         /* POLLIN|POLLOUT; NULL: POLLIN */
	void (*ready)(struct loop_src *s, short revents);
	/* ready() is called with the poll revents, or with 0 when only the
	 * deadline passed.  It may add or delete any source, itself included. */
	int64_t deadline;                          /* loop_now() ms; 0: none */
	void *arg;
	unsigned flags;                            /* LOOP_TOUCH */
	/* private to loop.c */
	int slot_, heap_, always_;
	unsigned gen_;
	short reg_;
	unsigned char registered_, dirty_;
	int64_t heap_at_;
};

/* The source calls loop_touch() itself; the loop does not ask it on every
 * round. */
#define LOOP_TOUCH 1u

/* want() or deadline of s may have changed: ask it before the next wait. */
void loop_touch(struct loop *l, struct loop_src *s);
/* Call s->ready(s, POLLOUT) once at the end of this round, before the next
 * wait: output queued by many events in one round leaves in one write. */
void loop_defer(struct loop *l, struct loop_src *s);

int64_t loop_now(void);                 /* monotonic milliseconds */
int64_t loop_now_us(void);              /* monotonic microseconds */

struct loop *loop_new(void);
void loop_free(struct loop *l);
int  loop_add(struct loop *l, struct loop_src *s);   /* 0 / -1 (ENOMEM) */
void loop_del(struct loop *l, struct loop_src *s);   /* safe inside ready() */
/* One poll round, waiting at most max_wait_ms (-1: until something). */
int  loop_once(struct loop *l, int max_wait_ms);
/* Runs until loop_stop(); returns 0. */
int  loop_run(struct loop *l);
void loop_stop(struct loop *l);
int  loop_count(const struct loop *l);

/* Delivers the listed signals to cb through the loop's self-pipe. Installs
 * SA_RESTART handlers; the callback runs from loop_once like any source.
 * May be called several times: each signal has its own callback, and a
 * later call for the same signal replaces it. */
int  loop_signals(struct loop *l, const int *sigs, int nsigs,
		  void (*cb)(int sig, void *arg), void *arg);
/* Unregisters: of the listed signals, those whose callback is still cb
 * with arg lose it (one that another owner took over since keeps its
 * new callback), so an owner about to be freed is never called again,
 * not even for a signal already waiting in the pipe.  The handlers stay
 * installed, so a signal without a callback is read and dropped rather
 * than left to its default action (SIGTERM's would end the process). */
void loop_signals_del(struct loop *l, const int *sigs, int nsigs,
		      void (*cb)(int sig, void *arg), void *arg);

#endif
