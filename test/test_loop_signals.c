/* test_loop_signals.c - signals as loop events (loop_signals and
 * loop_signals_del): a signal reaches its callback with its argument, a
 * later registration replaces an earlier one, and an owner that
 * unregistered is never called again, not even for a signal that was
 * already waiting in the self-pipe, while a newer owner keeps its own. */
#include <signal.h>
#include "../loop.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

struct seen {
	int calls, sig;
};

static void on_sig(int sig, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->sig = sig;
}

static void on_sig_other(int sig, void *arg)
{
	on_sig(sig, arg);
}

/* Rounds of the loop until s has been called n times, at most 50. */
static int turn_until(struct loop *l, const struct seen *s, int n)
{
	int i;

	for (i = 0; i < 50 && s->calls < n; i++)
		loop_once(l, 100);
	return s->calls == n;
}

/* A few rounds with nothing left to wait for: what is in the pipe is read. */
static void drain(struct loop *l)
{
	int i;

	for (i = 0; i < 3; i++)
		loop_once(l, 0);
}

void test_loop_signals_deliver(void)
{
	static const int usr1[] = { SIGUSR1 };
	struct loop *l = loop_new();
	struct seen a = { 0, 0 }, b = { 0, 0 };

	CHECK(loop_signals(l, usr1, 1, on_sig, &a) == 0);
	raise(SIGUSR1);
	CHECK(turn_until(l, &a, 1));
	CHECK(a.sig == SIGUSR1);
	/* a second owner takes the signal over */
	CHECK(loop_signals(l, usr1, 1, on_sig, &b) == 0);
	raise(SIGUSR1);
	CHECK(turn_until(l, &b, 1));
	CHECK(a.calls == 1);
	/* a bad signal number is refused */
	{
		static const int bad[] = { 0 };

		CHECK(loop_signals(l, bad, 1, on_sig, &a) < 0);
	}
	loop_signals_del(l, usr1, 1, on_sig, &b);
	loop_free(l);
}

void test_loop_signals_del(void)
{
	static const int usr1[] = { SIGUSR1 }, both[] = { SIGUSR1, SIGUSR2 };
	struct loop *l = loop_new();
	struct seen a = { 0, 0 }, b = { 0, 0 };

	/* already in the pipe when the owner leaves: dropped, not delivered */
	CHECK(loop_signals(l, usr1, 1, on_sig, &a) == 0);
	raise(SIGUSR1);
	loop_signals_del(l, usr1, 1, on_sig, &a);
	drain(l);
	CHECK(a.calls == 0);
	/* after it left: still caught (the process lives on), still dropped */
	raise(SIGUSR1);
	drain(l);
	CHECK(a.calls == 0);
	/* a new owner gets what comes after it, not what was dropped before */
	CHECK(loop_signals(l, usr1, 1, on_sig, &b) == 0);
	drain(l);
	CHECK(b.calls == 0);
	raise(SIGUSR1);
	CHECK(turn_until(l, &b, 1));

	/* leaving with another argument or callback does not silence the
	 * owner that holds the signal now */
	loop_signals_del(l, usr1, 1, on_sig, &a);
	loop_signals_del(l, usr1, 1, on_sig_other, &b);
	raise(SIGUSR1);
	CHECK(turn_until(l, &b, 2));

	/* several signals at once; only those still ours are given up */
	CHECK(loop_signals(l, both, 2, on_sig, &a) == 0);
	CHECK(loop_signals(l, usr1, 1, on_sig_other, &b) == 0);
	loop_signals_del(l, both, 2, on_sig, &a);
	raise(SIGUSR2);
	raise(SIGUSR1);
	CHECK(turn_until(l, &b, 3));
	drain(l);
	CHECK(a.calls == 0);
	CHECK(b.calls == 3 && b.sig == SIGUSR1);
	loop_signals_del(l, usr1, 1, on_sig_other, &b);
	loop_free(l);
}
