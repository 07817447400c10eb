/* loop.h - a tiny poll(2) event loop in the manner of Redis' ae.c.
 *
 * "Ask, don't track": before every poll the loop asks each source what it
 * wants right now (want()) and when it next needs attention (deadline), so
 * no caller ever has to remember to flip POLLOUT on or off.  Timers are just
 * the poll timeout.  Signals reach the loop through a self-pipe and are
 * delivered as ordinary callbacks, never run in a handler. */
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
	int slot_;                                 /* private to loop.c */
};

int64_t loop_now(void);                 /* monotonic milliseconds */

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
 * May be called several times: each signal has its own callback. */
int  loop_signals(struct loop *l, const int *sigs, int nsigs,
		  void (*cb)(int sig, void *arg), void *arg);

#endif
