/* test_loop.c - loop.h through its public API: the deadline heap (many
 * timers fired in deadline order, ties, past and future deadlines, deadlines
 * changed, sources added and deleted from callbacks), fd events for a
 * source deleted earlier in the same round, loop_defer, loop_once's wait
 * bound, loop_run/loop_stop and signals.
 *
 * Every deadline that must fire is in the past, so a round fires it
 * whatever the machine's load; every one that must not is an hour away.
 * The few waits that need real time are bounded by an alarm(2), which ends
 * the runner loudly if loop_once waited longer than it should.  Nothing
 * asserts a duration. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../loop.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#define HOUR (3600 * 1000)
#define MAXT 2000

struct tsrc;
typedef void (*action_fn)(struct tsrc *t);

struct tsrc {
	struct loop_src s;
	struct loop *l;
	int id;
	int fired;           /* times ready() was called */
	short last_rev;
	int64_t due;         /* the deadline it fired for */
	action_fn act;       /* run inside ready(), after recording */
	struct tsrc *other;  /* the action's target */
	int keep;            /* 1: leave the deadline as it is (re-fire) */
};

/* The firing order of the current round. */
static int order[MAXT * 2], norder;

static void t_ready(struct loop_src *s, short rev)
{
	struct tsrc *t = s->arg;

	t->fired++;
	t->last_rev = rev;
	t->due = s->deadline;
	if (norder < (int)(sizeof(order) / sizeof(order[0])))
		order[norder++] = t->id;
	if (!t->keep && rev == 0)
		s->deadline = 0;     /* a one-shot timer */
	if (t->act)
		t->act(t);
}

static void tinit(struct tsrc *t, struct loop *l, int id, int64_t deadline, unsigned flags)
{
	memset(t, 0, sizeof(*t));
	t->s.fd = -1;
	t->s.ready = t_ready;
	t->s.arg = t;
	t->s.deadline = deadline;
	t->s.flags = flags;
	t->l = l;
	t->id = id;
}

/* A deterministic shuffle (no rand(): other tests may seed it). */
static unsigned lcg(unsigned *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 8;
}

/* a[0..n) = 0..n-1 in an order fixed by seed. */
static void permutation(int *a, int n, unsigned seed)
{
	int i;

	for (i = 0; i < n; i++)
		a[i] = i;
	for (i = n - 1; i > 0; i--) {
		int j = (int)(lcg(&seed) % (unsigned)(i + 1)), k = a[i];

		a[i] = a[j];
		a[j] = k;
	}
}

/* A past deadline for rank r (0 first) of n: distinct, ascending, > 0. */
static int64_t past(int64_t base, int r, int n)
{
	return base - 1 - n + r;
}

/* The base for n past() deadlines: now, or 0 (a counted skip of test)
 * when the monotonic clock is too young to hold them all above 0. */
static int64_t past_base(const char *test, int n)
{
	int64_t base = loop_now();

	if (base > n + 2)
		return base;
	t_skip(test, "the monotonic clock is younger than the deadlines need");
	return 0;
}

static struct tsrc T_[MAXT];

/* Steps inside loops (adding 1500 sources, a few bounded rounds) that
 * matter only together: each test counts them as one check, steps_ok(),
 * instead of padding the count with one per iteration. */
static int bad_steps;
#define STEP(cond) do { \
	if (!(cond)) { bad_steps++; fprintf(stderr, "  step failed %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

static int steps_ok(void)
{
	int ok = bad_steps == 0;

	bad_steps = 0;
	return ok;
}

void test_loop_many_timers_in_order(void)
{
	struct loop *l = loop_new();
	int perm[MAXT], i, n = MAXT, ok;
	int64_t base = past_base(__func__, MAXT);

	CHECK(l != NULL);
	if (!l || !base) {
		loop_free(l);
		return;
	}
	permutation(perm, n, 12345);
	/* Added in shuffled order, half of them LOOP_TOUCH sources. */
	for (i = 0, ok = 1; i < n; i++) {
		int r = perm[i];

		tinit(&T_[r], l, r, past(base, r, n), (r & 1) ? LOOP_TOUCH : 0);
		ok = ok && loop_add(l, &T_[r].s) == 0;
	}
	CHECK(ok);
	CHECK(loop_count(l) == n);
	norder = 0;
	CHECK(loop_once(l, 0) == 0);
	CHECK(norder == n);
	for (i = 0, ok = norder == n; ok && i < n; i++)
		ok = order[i] == i && T_[i].fired == 1 && T_[i].last_rev == 0;
	CHECK(ok);
	/* One-shot timers cleared their deadlines: nothing more fires. */
	norder = 0;
	CHECK(loop_once(l, 0) == 0 && norder == 0);
	CHECK(loop_count(l) == n);

	/* Re-armed from outside (a LOOP_TOUCH source says so with
	 * loop_touch), in reverse rank order this time. */
	for (i = 0; i < n; i++) {
		T_[i].s.deadline = past(base, n - 1 - i, n);
		if (T_[i].s.flags & LOOP_TOUCH)
			loop_touch(l, &T_[i].s);
	}
	norder = 0;
	CHECK(loop_once(l, 0) == 0 && norder == n);
	for (i = 0, ok = norder == n; ok && i < n; i++)
		ok = order[i] == n - 1 - i;
	CHECK(ok);
	for (i = 0; i < n; i++)
		loop_del(l, &T_[i].s);
	CHECK(loop_count(l) == 0);
	loop_free(l);
}

void test_loop_ties_and_future(void)
{
	struct loop *l = loop_new();
	struct tsrc t[30];
	int64_t now = loop_now(), tie = now - 500;
	int i, ok, seen[30] = { 0 };

	/* 0-4 earlier, 5-19 tied, 20-24 an hour away, 25 no deadline,
	 * 26-29 tied again later than the first tie. */
	for (i = 0; i < 30; i++) {
		int64_t d = i < 5 ? now - 1000 + i : i < 20 ? tie : i < 25 ? now + HOUR : i == 25 ? 0 : now - 10;

		tinit(&t[i], l, i, d, i % 3 == 0 ? LOOP_TOUCH : 0);
		STEP(loop_add(l, &t[i].s) == 0);
	}
	norder = 0;
	CHECK(loop_once(l, 0) == 0);
	CHECK(norder == 24);
	/* 0-4 in order, then the fifteen tied (in any order), then 26-29. */
	for (i = 0, ok = norder == 24; ok && i < 5; i++)
		ok = order[i] == i;
	for (i = 5; ok && i < 20; i++) {
		ok = order[i] >= 5 && order[i] < 20 && !seen[order[i]];
		seen[order[i]] = 1;
	}
	for (i = 20; ok && i < 24; i++) {
		ok = order[i] >= 26 && !seen[order[i]];
		seen[order[i]] = 1;
	}
	CHECK(ok);
	for (i = 20, ok = 1; i < 26; i++)
		ok = ok && t[i].fired == 0;
	CHECK(ok);
	/* Nothing due: a round with no wait fires nothing. */
	norder = 0;
	CHECK(loop_once(l, 0) == 0 && norder == 0);
	for (i = 0; i < 30; i++)
		loop_del(l, &t[i].s);
	CHECK(steps_ok());
	loop_free(l);
}

/* ---- changes made from inside callbacks ---- */

static void act_del_other(struct tsrc *t)
{
	loop_del(t->l, &t->other->s);
}

static void act_del_self_and_other(struct tsrc *t)
{
	loop_del(t->l, &t->other->s);
	loop_del(t->l, &t->s);
}

static void act_push_other(struct tsrc *t)
{
	t->other->s.deadline = loop_now() + HOUR;
	loop_touch(t->l, &t->other->s);
}

static void act_pull_other(struct tsrc *t)
{
	t->other->s.deadline = loop_now() - 1;
	loop_touch(t->l, &t->other->s);
}

static void act_zero_other(struct tsrc *t)
{
	t->other->s.deadline = 0;
	loop_touch(t->l, &t->other->s);
}

static struct tsrc added[4];
static int nadded;

static void act_add(struct tsrc *t)
{
	struct tsrc *n = &added[nadded];

	tinit(n, t->l, 100 + nadded, nadded % 2 ? loop_now() + HOUR : loop_now() - 1, 0);
	CHECK(loop_add(t->l, &n->s) == 0);
	nadded++;
}

void test_loop_changes_in_callbacks(void)
{
	struct loop *l = loop_new();
	struct tsrc t[12];
	int64_t now = loop_now();
	int i, r;

	/* t0 deletes t5 (due later this round); t1 deletes itself and t6;
	 * t2 pushes t7 (due) an hour away; t3 pulls t8 (an hour away) into
	 * the past; t4 clears t9's deadline (due); t10 adds two sources, one
	 * due, one not; t11 is an ordinary timer after all of them. */
	for (i = 0; i < 12; i++) {
		int64_t d = (i == 8) ? now + HOUR : (i == 10 ? now - 95 : now - 100 + i);

		tinit(&t[i], l, i, i == 11 ? now - 50 : d, i & 1 ? LOOP_TOUCH : 0);
		STEP(loop_add(l, &t[i].s) == 0);
	}
	t[0].act = act_del_other, t[0].other = &t[5];
	t[1].act = act_del_self_and_other, t[1].other = &t[6];
	t[2].act = act_push_other, t[2].other = &t[7];
	t[3].act = act_pull_other, t[3].other = &t[8];
	t[4].act = act_zero_other, t[4].other = &t[9];
	t[10].act = act_add;
	nadded = 0;
	CHECK(loop_count(l) == 12);
	norder = 0;
	CHECK(loop_once(l, 0) == 0);
	CHECK(t[0].fired == 1 && t[1].fired == 1 && t[2].fired == 1 && t[3].fired == 1 &&
	      t[4].fired == 1 && t[10].fired == 1 && t[11].fired == 1);
	CHECK(t[5].fired == 0 && t[6].fired == 0);     /* deleted before their turn */
	CHECK(t[7].fired == 0);                        /* moved away before its turn */
	CHECK(t[9].fired == 0);                        /* deadline cleared */
	CHECK(nadded == 1 && loop_count(l) == 12 - 3 + 1);
	/* The deadline pulled into the past and the source added due: they
	 * fire within the next rounds, once each; the others stay quiet. */
	for (r = 0; r < 3 && (t[8].fired == 0 || added[0].fired == 0); r++)
		STEP(loop_once(l, 0) == 0);
	CHECK(t[8].fired == 1 && added[0].fired == 1);
	for (r = 0; r < 3; r++)
		STEP(loop_once(l, 0) == 0);
	CHECK(t[7].fired == 0 && t[9].fired == 0 && t[8].fired == 1 && added[0].fired == 1);
	CHECK(t[0].fired == 1 && t[11].fired == 1);
	for (i = 0; i < 12; i++)
		loop_del(l, &t[i].s);      /* deleting twice is harmless */
	loop_del(l, &added[0].s);
	CHECK(loop_count(l) == 0);
	CHECK(steps_ok());
	loop_free(l);
}

/* A source that keeps its deadline in the past fires again every round, and
 * the others due still fire: loop_once returns. */
void test_loop_rearm_does_not_starve(void)
{
	struct loop *l = loop_new();
	struct tsrc hot, cold[3];
	int64_t now = loop_now();
	int i, r, ok = 1;

	tinit(&hot, l, 0, now - 1000, 0);
	hot.keep = 1;
	CHECK(loop_add(l, &hot.s) == 0);
	for (i = 0; i < 3; i++) {
		tinit(&cold[i], l, i + 1, now - 10 + i, 0);
		STEP(loop_add(l, &cold[i].s) == 0);
	}
	for (r = 1; r <= 5; r++) {
		STEP(loop_once(l, 0) == 0);
		ok = ok && hot.fired >= r;
	}
	CHECK(ok);
	CHECK(cold[0].fired == 1 && cold[1].fired == 1 && cold[2].fired == 1);
	loop_del(l, &hot.s);
	for (i = 0; i < 3; i++)
		loop_del(l, &cold[i].s);
	CHECK(steps_ok());
	loop_free(l);
}

/* A model check: 1500 timers; each callback deletes a timer, moves one an
 * hour away, or does nothing, the target chosen by a fixed sequence.  A
 * model walks the timers in deadline order doing the same; the loop must
 * fire exactly the model's timers in the model's order.  Then the timers
 * moved away are brought back into the past and fire, in order. */
void test_loop_model(void)
{
	enum { N = 1500 };
	static int alive[N], due[N], want[N];
	struct loop *l = loop_new();
	int64_t base = past_base(__func__, N);
	int perm[N], i, ok, nwant = 0, nback = 0;
	unsigned x = 99;

	if (!base) {
		loop_free(l);
		return;
	}
	permutation(perm, N, 777);
	for (i = 0; i < N; i++) {
		int id = perm[i];

		tinit(&T_[id], l, id, past(base, id, N), id % 5 == 0 ? LOOP_TOUCH : 0);
		STEP(loop_add(l, &T_[id].s) == 0);
	}
	for (i = 0; i < N; i++) {
		unsigned k = lcg(&x) % 4;

		T_[i].other = &T_[lcg(&x) % N];
		T_[i].act = k == 0 ? act_del_other : k == 1 ? act_push_other : NULL;
		alive[i] = due[i] = 1;
	}
	/* The model: timer i fires if it is still there and still due when
	 * its turn comes, then acts. */
	for (i = 0; i < N; i++) {
		int o = (int)(T_[i].other - T_);

		if (!alive[i] || !due[i])
			continue;
		want[nwant++] = i;
		if (T_[i].act == act_del_other)
			alive[o] = 0;
		else if (T_[i].act == act_push_other)
			due[o] = 0;
	}
	CHECK(nwant > N / 3 && nwant < N);   /* the sequence does exercise both */
	norder = 0;
	CHECK(loop_once(l, 0) == 0);
	CHECK(norder == nwant);
	for (i = 0, ok = norder == nwant; ok && i < nwant; i++)
		ok = order[i] == want[i];
	CHECK(ok);
	for (i = 0, ok = 1; i < N; i++)
		ok = ok && T_[i].fired <= 1;
	CHECK(ok);
	norder = 0;
	CHECK(loop_once(l, 0) == 0 && norder == 0);

	/* Back into the past, the moved ones still in the loop, in reverse id
	 * order of deadlines; no actions this time. */
	for (i = 0; i < N; i++) {
		T_[i].act = NULL;
		if (alive[i] && T_[i].s.deadline > base) {
			T_[i].s.deadline = base - 1 - i;
			loop_touch(l, &T_[i].s);
			nback++;
		}
	}
	CHECK(nback > 0);
	norder = 0;
	CHECK(loop_once(l, 0) == 0 && norder == nback);
	CHECK(ok);
	for (i = 0; i < N; i++)
		loop_del(l, &T_[i].s);
	CHECK(loop_count(l) == 0);
	CHECK(steps_ok());
	loop_free(l);
}

/* ---- fd sources ---- */

struct psrc {
	struct loop_src s;
	struct loop *l;
	int fired;
	struct psrc *victim;       /* deleted by this one's ready() */
	struct tsrc *spare;        /* added in its place */
};

static void p_ready(struct loop_src *s, short rev)
{
	struct psrc *p = s->arg;
	char c[16];

	p->fired++;
	if (rev & POLLIN) {
		if (read(s->fd, c, sizeof(c)) < 0) {
			/* drained already */
		}
	}
	if (p->victim) {
		loop_del(p->l, &p->victim->s);
		p->victim = NULL;
		if (p->spare)
			CHECK(loop_add(p->l, &p->spare->s) == 0);
	}
}

void test_loop_fd_deleted_in_round(void)
{
	struct loop *l = loop_new();
	struct psrc a, b;
	struct tsrc spare_a, spare_b;
	int pa[2], pb[2], r;

	CHECK(pipe(pa) == 0 && pipe(pb) == 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.s.fd = pa[0], b.s.fd = pb[0];
	a.s.ready = b.s.ready = p_ready;
	a.s.arg = &a, b.s.arg = &b;
	a.l = b.l = l;
	a.victim = &b, b.victim = &a;
	/* Each puts a source with no fd and no deadline in the other's slot:
	 * if the other's stale event reached it, it would fire. */
	tinit(&spare_a, l, 1, 0, 0);
	tinit(&spare_b, l, 2, 0, 0);
	a.spare = &spare_a, b.spare = &spare_b;
	CHECK(loop_add(l, &a.s) == 0 && loop_add(l, &b.s) == 0);
	CHECK(loop_once(l, 0) == 0);   /* registered; nothing to read yet */
	CHECK(a.fired == 0 && b.fired == 0);
	CHECK(write(pa[1], "x", 1) == 1 && write(pb[1], "y", 1) == 1);
	/* Both readable in the same round: the first to run deletes the
	 * other, whose event must then be dropped. */
	alarm(30);
	for (r = 0; r < 5 && a.fired + b.fired == 0; r++)
		STEP(loop_once(l, 1000) == 0);
	alarm(0);
	CHECK(a.fired + b.fired == 1);
	CHECK(spare_a.fired == 0 && spare_b.fired == 0);
	CHECK(loop_count(l) == 2);
	CHECK(loop_once(l, 0) == 0);
	CHECK(a.fired + b.fired == 1 && spare_a.fired == 0 && spare_b.fired == 0);
	loop_del(l, &a.s);
	loop_del(l, &b.s);
	loop_del(l, &spare_a.s);
	loop_del(l, &spare_b.s);
	CHECK(loop_count(l) == 0);
	CHECK(steps_ok());
	loop_free(l);
	close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]);
}

/* ---- loop_defer ---- */

static struct tsrc *defer_target, *defer_victim;

static void act_defer(struct tsrc *t)
{
	loop_defer(t->l, &defer_target->s);
	loop_defer(t->l, &defer_target->s);     /* twice: still one call */
	loop_defer(t->l, &defer_victim->s);
	loop_del(t->l, &defer_victim->s);       /* deleted before the end */
}

/* A pipe source whose ready() defers like act_defer. */
static void p_defer_ready(struct loop_src *s, short rev)
{
	struct tsrc *t = s->arg;
	char c[8];

	t->fired++;
	if (read(s->fd, c, sizeof(c)) < 0) {
		/* nothing */
	}
	act_defer(t);
}

void test_loop_defer(void)
{
	struct loop *l = loop_new();
	struct tsrc trig, target, victim, reader;
	int p[2], r;

	/* From an fd event's ready(): at the end of the same round. */
	CHECK(pipe(p) == 0);
	tinit(&reader, l, 4, 0, 0);
	reader.s.fd = p[0];
	reader.s.ready = p_defer_ready;
	tinit(&target, l, 2, 0, LOOP_TOUCH);
	tinit(&victim, l, 3, 0, 0);
	defer_target = &target, defer_victim = &victim;
	CHECK(loop_add(l, &reader.s) == 0 && loop_add(l, &target.s) == 0 && loop_add(l, &victim.s) == 0);
	CHECK(loop_once(l, 0) == 0 && reader.fired == 0);
	CHECK(write(p[1], "x", 1) == 1);
	alarm(30);
	for (r = 0; r < 5 && !reader.fired; r++)
		STEP(loop_once(l, 1000) == 0);
	alarm(0);
	CHECK(reader.fired == 1);
	CHECK(target.fired == 1 && target.last_rev == POLLOUT);
	CHECK(victim.fired == 0);
	CHECK(loop_once(l, 0) == 0 && target.fired == 1);
	loop_del(l, &reader.s);
	close(p[0]);
	close(p[1]);

	/* From a deadline's ready(): loop.h says "at the end of this round,
	 * before the next wait" too. */
	tinit(&trig, l, 1, loop_now() - 5, 0);
	trig.act = act_defer;
	tinit(&victim, l, 3, 0, 0);
	CHECK(loop_add(l, &trig.s) == 0 && loop_add(l, &victim.s) == 0);
	CHECK(loop_once(l, 0) == 0);
	CHECK(trig.fired == 1);
	CHECK(target.fired == 2);
	CHECK(loop_once(l, 0) == 0 && target.fired == 2 && target.last_rev == POLLOUT);
	CHECK(victim.fired == 0);
	CHECK(loop_once(l, 0) == 0 && target.fired == 2);
	loop_del(l, &trig.s);
	loop_del(l, &target.s);
	CHECK(steps_ok());
	loop_free(l);
}

/* ---- how long loop_once waits ---- */

static void act_stop(struct tsrc *t)
{
	loop_stop(t->l);
}

void test_loop_once_waits(void)
{
	struct loop *l = loop_new();
	struct tsrc far, soon, stopper;
	int r;

	tinit(&far, l, 1, loop_now() + HOUR, 0);
	CHECK(loop_add(l, &far.s) == 0);
	/* An hour away: rounds bounded by max_wait_ms return without it.  If
	 * loop_once waited for the timer instead, the alarm ends the run. */
	alarm(60);
	CHECK(loop_once(l, 0) == 0);
	CHECK(loop_once(l, 1) == 0);
	CHECK(loop_once(l, 20) == 0);
	CHECK(far.fired == 0);
	/* A timer 30 ms away and a round allowed ten minutes (or no bound at
	 * all): the round ends for the timer.  A signal may end a round early,
	 * hence up to three rounds. */
	tinit(&soon, l, 2, loop_now() + 30, LOOP_TOUCH);
	CHECK(loop_add(l, &soon.s) == 0);
	for (r = 0; r < 3 && !soon.fired; r++)
		STEP(loop_once(l, 600000) == 0);
	CHECK(soon.fired == 1 && far.fired == 0);
	soon.s.deadline = loop_now() + 20;
	loop_touch(l, &soon.s);
	for (r = 0; r < 3 && soon.fired < 2; r++)
		STEP(loop_once(l, -1) == 0);
	CHECK(soon.fired == 2 && far.fired == 0);
	/* loop_run until a callback calls loop_stop. */
	tinit(&stopper, l, 3, loop_now() + 10, 0);
	stopper.act = act_stop;
	CHECK(loop_add(l, &stopper.s) == 0);
	CHECK(loop_run(l) == 0);
	CHECK(stopper.fired == 1 && far.fired == 0);
	alarm(0);
	loop_del(l, &far.s);
	loop_del(l, &soon.s);
	loop_del(l, &stopper.s);
	CHECK(steps_ok());
	loop_free(l);
}

/* ---- signals ---- */

static int got_sig[3];
static void *got_arg;

static void on_sig(int sig, void *arg)
{
	if (sig == SIGUSR1)
		got_sig[1]++;
	else if (sig == SIGUSR2)
		got_sig[2]++;
	else
		got_sig[0]++;
	got_arg = arg;
}

static void on_sig2(int sig, void *arg)
{
	got_sig[0] += 100;
	got_arg = arg;
}

void test_loop_signals(void)
{
	struct loop *l = loop_new();
	int s1[] = { SIGUSR1 }, s2[] = { SIGUSR2 }, bad[] = { 0 }, r, x = 1, y = 2;

	memset(got_sig, 0, sizeof(got_sig));
	CHECK(loop_signals(l, s1, 1, on_sig, &x) == 0);
	CHECK(loop_signals(l, s2, 1, on_sig2, &y) == 0);
	CHECK(loop_signals(l, bad, 1, on_sig, &x) == -1);
	alarm(60);
	raise(SIGUSR1);
	for (r = 0; r < 5 && !got_sig[1]; r++)
		STEP(loop_once(l, 1000) == 0 || errno == EINTR);
	CHECK(got_sig[1] == 1 && got_arg == &x && got_sig[0] == 0);
	/* Each signal goes to its own callback. */
	raise(SIGUSR2);
	for (r = 0; r < 5 && !got_sig[0]; r++)
		STEP(loop_once(l, 1000) == 0 || errno == EINTR);
	CHECK(got_sig[0] == 100 && got_arg == &y && got_sig[1] == 1 && got_sig[2] == 0);
	alarm(0);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	CHECK(steps_ok());
	loop_free(l);
}
