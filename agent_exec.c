/* agent_exec.c - the agent's child runner (see agent_exec.h).
 *
 * A child is three loop sources: its stdout pipe, its stderr pipe and a
 * timer.  It is finished when the kernel has told us it exited (SIGCHLD,
 * reaped with waitpid(-1, WNOHANG) because the agent is a subreaper and
 * inherits orphaned grandchildren too) and both pipes are at end of file.
 * A grandchild that daemonizes without closing the pipes must not hold the
 * reply hostage, so once the direct child is gone the pipes get a short
 * grace and are then closed with whatever was read.
 *
 * Timer phases: RUN (deadline = timeout) -> TERM sent to the group
 * (deadline = kill grace) -> KILL sent; or, once the child exited, DRAIN
 * (deadline = EOF grace). */
#include "agent_exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "env.h"
#include "fmt.h"
#include "num.h"

extern char **environ;

enum { PH_RUN, PH_TERM, PH_KILL, PH_DRAIN };

/* One captured stream: the first half of the bound kept as is, the last
 * half in a ring, so both the start and the end of a flood survive. */
struct cap {
	struct buf head;
	size_t headmax;
	char *ring;
	size_t ringcap, ringlen, ringpos;
	unsigned long long total;
};

struct exec_child {
	struct exec_mgr *m;
	struct exec_child *next;
	pid_t pid;                   /* the keeper's (see "starting a child") */
	pid_t pgid;                  /* the command's, and its group's */
	int exited, status;
	int phase, timed_out, cancelled;
	int64_t t0, t_exit;
	struct loop_src io[2];       /* fd -1 once closed */
	struct loop_src timer;
	struct cap cap[2];
	exec_done_fn cb;
	void *arg;
};

struct exec_mgr {
	struct loop *l;
	struct exec_child *head;
};

/* Variables that hold the agent's secret never reach a command. */
static const char *const env_secret[] = {
	"NESTD_TOKEN=", "CLIENT_TOKEN=", "NESTD_TOKEN_FILE=", NULL
};

static void cap_init(struct cap *c, size_t max)
{
	buf_init(&c->head, 0);
	c->headmax = max / 2;
	c->ring = NULL;
	c->ringcap = max - max / 2;
	c->ringlen = c->ringpos = 0;
	c->total = 0;
}

static void cap_free(struct cap *c)
{
	buf_free(&c->head);
	free(c->ring);
	c->ring = NULL;
}

static void cap_feed(struct cap *c, const char *p, size_t n)
{
	size_t take;

	c->total += n;
	if (c->head.len < c->headmax) {
		take = c->headmax - c->head.len;
		if (take > n)
			take = n;
		if (buf_append(&c->head, p, take) < 0)
			take = n;    /* out of memory: count the bytes, drop them */
		p += take;
		n -= take;
	}
	if (!n || !c->ringcap)
		return;
	if (!c->ring && !(c->ring = malloc(c->ringcap)))
		return;
	if (n >= c->ringcap) {
		memcpy(c->ring, p + n - c->ringcap, c->ringcap);
		c->ringpos = 0;
		c->ringlen = c->ringcap;
		return;
	}
	take = c->ringcap - c->ringpos;
	if (take > n)
		take = n;
	memcpy(c->ring + c->ringpos, p, take);
	memcpy(c->ring, p + take, n - take);
	c->ringpos = (c->ringpos + n) % c->ringcap;
	c->ringlen = c->ringlen + n > c->ringcap ? c->ringcap : c->ringlen + n;
}

/* Moves the capture into out: head, a marker if bytes were dropped, tail. */
static int cap_finish(struct cap *c, struct buf *out)
{
	unsigned long long kept = c->head.len + c->ringlen;
	int truncated = c->total > kept;

	*out = c->head;
	buf_init(&c->head, 0);
	if (truncated)
		buf_printf(out, "\n[... %llu bytes omitted ...]\n", c->total - kept);
	if (c->ringlen < c->ringcap) {
		buf_append(out, c->ring, c->ringlen);
	} else if (c->ringlen) {
		buf_append(out, c->ring + c->ringpos, c->ringcap - c->ringpos);
		buf_append(out, c->ring, c->ringpos);
	}
	if (!out->p)
		buf_append(out, "", 0);
	return truncated;
}

static void child_close_io(struct exec_child *c, int i)
{
	if (c->io[i].fd < 0)
		return;
	loop_del(c->m->l, &c->io[i]);
	close(c->io[i].fd);
	c->io[i].fd = -1;
}

static void child_unlink(struct exec_child *c)
{
	struct exec_child **pp;

	for (pp = &c->m->head; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
}

static void child_free(struct exec_child *c)
{
	child_close_io(c, 0);
	child_close_io(c, 1);
	loop_del(c->m->l, &c->timer);
	child_unlink(c);
	cap_free(&c->cap[0]);
	cap_free(&c->cap[1]);
	free(c);
}

static void child_finish(struct exec_child *c)
{
	struct exec_result r;

	memset(&r, 0, sizeof(r));
	if (WIFSIGNALED(c->status)) {
		r.exit_code = -1;
		r.signal = WTERMSIG(c->status);
	} else {
		r.exit_code = WEXITSTATUS(c->status);
	}
	r.timed_out = c->timed_out;
	r.truncated = cap_finish(&c->cap[0], &r.out);
	r.truncated |= cap_finish(&c->cap[1], &r.err);
	r.total_out = c->cap[0].total;
	r.total_err = c->cap[1].total;
	r.duration_ms = c->t_exit - c->t0;
	/* Unlinked before the callback, which may start or cancel others. */
	child_unlink(c);
	c->cb(c->arg, &r);
	buf_free(&r.out);
	buf_free(&r.err);
	child_free(c);
}

/* Reads what is there now; at most a few chunks per call so that one
 * chatty child cannot starve the connection. */
static void child_read(struct exec_child *c, int i)
{
	char chunk[65536];
	int rounds;
	ssize_t n;

	for (rounds = 0; rounds < 16 && c->io[i].fd >= 0; rounds++) {
		n = read(c->io[i].fd, chunk, sizeof(chunk));
		if (n > 0) {
			cap_feed(&c->cap[i], chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		child_close_io(c, i);        /* EOF, or an error: same end */
	}
}

static void child_io_ready(struct loop_src *s, short revents)
{
	struct exec_child *c = s->arg;
	int i = s == &c->io[0] ? 0 : 1;

	if (!revents)
		return;
	child_read(c, i);
	if (c->exited && c->io[0].fd < 0 && c->io[1].fd < 0)
		child_finish(c);
}

static void child_timer(struct loop_src *s, short revents)
{
	struct exec_child *c = s->arg;

	(void)revents;
	if (c->exited) {
		/* EOF grace over: keep what arrived, let the holder write into
		 * a closed pipe. */
		child_read(c, 0);
		child_read(c, 1);
		child_close_io(c, 0);
		child_close_io(c, 1);
		child_finish(c);
		return;
	}
	switch (c->phase) {
	case PH_RUN:
		if (!c->cancelled)
			c->timed_out = 1;
		kill(-c->pgid, SIGTERM);
		c->phase = PH_TERM;
		s->deadline = loop_now() + CFG_EXEC_KILL_GRACE_MS;
		break;
	case PH_TERM:
		kill(-c->pgid, SIGKILL);
		c->phase = PH_KILL;
		s->deadline = 0;
		break;
	default:
		s->deadline = 0;
		break;
	}
}

static void child_exited(struct exec_child *c, int status)
{
	c->exited = 1;
	c->status = status;
	c->t_exit = loop_now();
	/* A killed command takes its whole group along; the group id cannot
	 * have been reused yet, members may still hold it. */
	if (c->cancelled || c->timed_out)
		kill(-c->pgid, SIGKILL);
	if (c->cancelled) {
		child_free(c);
		return;
	}
	if (c->io[0].fd < 0 && c->io[1].fd < 0) {
		child_finish(c);
		return;
	}
	c->phase = PH_DRAIN;
	c->timer.deadline = c->t_exit + CFG_EXEC_EOF_GRACE_MS;
}

void exec_mgr_reap(struct exec_mgr *m)
{
	struct exec_child *c;
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (c = m->head; c; c = c->next)
			if (c->pid == pid && !c->exited)
				break;
		if (c)
			child_exited(c, status);
		/* else: an orphaned grandchild, reaped and forgotten */
	}
}

struct exec_mgr *exec_mgr_new(struct loop *l)
{
	struct exec_mgr *m = calloc(1, sizeof(*m));

	if (m)
		m->l = l;
	return m;
}

void exec_env_scrub(void)
{
	static const char *const wipe[] = { "NESTD_TOKEN=", "CLIENT_TOKEN=" };
	volatile char *v;
	char **e;
	size_t i, k;

	for (e = environ; e && *e; e++)
		for (i = 0; i < sizeof(wipe) / sizeof(wipe[0]); i++) {
			k = strlen(wipe[i]);
			if (strncmp(*e, wipe[i], k))
				continue;
			/* volatile: stores the compiler may not drop as dead */
			for (v = *e + k; *v; v++)
				*v = '\0';
		}
	env_drop("NESTD_TOKEN");
	env_drop("CLIENT_TOKEN");
}

static char **env_build(void)
{
	size_t n = 0, k = 0, i;
	char **env, **e;

	for (e = environ; e && *e; e++)
		n++;
	env = malloc((n + 1) * sizeof(*env));
	if (!env)
		return NULL;
	for (e = environ; e && *e; e++) {
		for (i = 0; env_secret[i]; i++)
			if (!strncmp(*e, env_secret[i], strlen(env_secret[i])))
				break;
		if (!env_secret[i])
			env[k++] = *e;
	}
	env[k] = NULL;
	return env;
}

/* ---- starting a child ----
 *
 * The agent forks a keeper, which forks the command.  The command leads a
 * process group of its own (so a group signal reaches everything it
 * started, and nothing else); the keeper, outside it, has asked the kernel
 * for SIG_KEEPER when the agent dies (PR_SET_PDEATHSIG), and then only
 * waits: when the command ends it ends the same way (the same exit code,
 * or the same signal), so the agent sees the command's status on the
 * keeper's pid; when the agent dies first, even by SIGKILL, it kills the
 * command's group, so nothing of a running command outlives its agent.
 * posix_spawn could do neither, nor close every descriptor above 2 (musl
 * has no closefrom), so both are forks of a single-threaded process that
 * call only what is safe there.  _Fork (glibc 2.34, musl 1.2.2): fork
 * without the atfork handlers and libc's lock resets, which only a
 * process of several threads needs (and the static binary need not carry).
 *
 * The keeper tells the agent the command's pid on the report pipe; the
 * command, if exec fails, adds its errno.  The pipe is close-on-exec, so
 * its end of file means: the command runs. */

#define SIG_KEEPER SIGUSR2           /* "your agent is gone" */

enum { REPORT_PID = 'P', REPORT_ERRNO = 'E' };

struct report {                      /* one write(2), under PIPE_BUF */
	int what, value;
};

/* What the keeper and the command need, gathered before the fork. */
struct spawn_req {
	char *const *argv;
	char **env;
	int fd[3];                   /* the command's 0, 1 and 2 */
	int report;                  /* the report pipe's write end */
	pid_t agent;
};

/* Closes every descriptor from low up: close_range(2) where the kernel has
 * it (5.9) and libc names it, else what /proc/self/fd lists, else every
 * number below the limit. */
static void fds_close_from(int low)
{
	struct rlimit rl;
	struct dirent *de;
	DIR *d;
	long fd, max = 65536;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)low, ~0U, 0) == 0)
		return;
#endif
	if ((d = opendir("/proc/self/fd"))) {
		while ((de = readdir(d)))
			if ((fd = num_strtol(de->d_name, NULL)) >= low && fd != dirfd(d))
				close((int)fd);
		closedir(d);
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = (long)rl.rlim_cur;
	for (fd = low; fd < max; fd++)
		close((int)fd);
}

/* In the keeper: the command's 0, 1, 2 in place, the report pipe on 3
 * (close-on-exec), nothing else open.  Everything is first moved above 9
 * so that a source already sitting on 0..3 is not overwritten. */
static void child_fds(const struct spawn_req *r)
{
	int moved[4], i;

	for (i = 0; i < 3; i++)
		moved[i] = fcntl(r->fd[i], F_DUPFD, 10);
	moved[3] = fcntl(r->report, F_DUPFD_CLOEXEC, 10);
	for (i = 0; i < 3; i++)
		if (moved[i] < 0 || dup2(moved[i], i) < 0)
			_exit(127);
	if (moved[3] < 0 || dup3(moved[3], 3, O_CLOEXEC) < 0)
		_exit(127);
	fds_close_from(4);
}

static void report(int what, int value)
{
	struct report rep = { what, value };
	ssize_t n;

	do
		n = write(3, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
}

static pid_t keeper_agent;           /* in the keeper: the agent's pid ... */
static volatile pid_t keeper_command;   /* ... and the command's (its group) */

static void keeper_orphaned(int sig)
{
	(void)sig;
	if (getppid() == keeper_agent)
		return;              /* a stray SIG_KEEPER: the agent lives */
	if (keeper_command > 0)
		kill(-keeper_command, SIGKILL);
	_exit(127);
}

/* The command itself: its own group, default dispositions (the agent
 * ignores SIGPIPE and keeps handlers), nothing blocked, its environment,
 * exec. */
static void command_exec(const struct spawn_req *r)
{
	sigset_t none;
	int sig;

	setpgid(0, 0);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = r->env;
	execvp(r->argv[0], r->argv);
	report(REPORT_ERRNO, errno);
	_exit(127);
}

/* Ends the keeper the way its command ended. */
static void keeper_mirror(int status)
{
	struct rlimit none = { 0, 0 };
	sigset_t s;
	int sig;

	if (!WIFSIGNALED(status))
		_exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	/* The command dumped its own core.  prlimit is setrlimit's system
	 * call without musl's every-thread broadcast (2 KB; one thread here). */
	prlimit(0, RLIMIT_CORE, &none, NULL);
	signal(sig, SIG_DFL);
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

/* The keeper (see above).  Every signal arrives blocked from the agent's
 * fork and stays blocked but SIG_KEEPER; the agent's SIGKILL, should it
 * come, needs no permission. */
static void keeper_main(const struct spawn_req *r)
{
	struct sigaction sa;
	sigset_t s;
	pid_t pid;
	int status;

	child_fds(r);
	keeper_agent = r->agent;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = keeper_orphaned;
	sigaction(SIG_KEEPER, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIG_KEEPER);
	if (getppid() != r->agent)
		_exit(127);          /* the agent died before the request took */
	pid = _Fork();
	if (pid == 0)
		command_exec(r);
	if (pid < 0) {
		report(REPORT_ERRNO, errno);
		_exit(127);
	}
	setpgid(pid, pid);           /* also here: the group exists before the report */
	keeper_command = pid;
	report(REPORT_PID, pid);
	/* The keeper holds none of the command's pipes: their end of file is
	 * the command's. */
	close(0);
	close(1);
	close(2);
	close(3);
	sigemptyset(&s);
	sigaddset(&s, SIG_KEEPER);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	keeper_mirror(status);
}

/* Reads the report pipe to its end: the command's pid into *pgid, and 0,
 * or the error number that kept it from running. */
static int spawn_outcome(int fd, pid_t *pgid)
{
	struct report rep;
	int e = 0;
	ssize_t n;

	*pgid = 0;
	for (;;) {
		n = read(fd, &rep, sizeof(rep));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(rep))
			break;
		if (rep.what == REPORT_PID)
			*pgid = rep.value;
		else
			e = rep.value ? rep.value : EIO;
	}
	return e ? e : *pgid > 0 ? 0 : ECHILD;
}

/* Starts the keeper with argv[0] under it: stdout and stderr into the
 * pipes' write ends p[0][1] and p[1][1].  0 once the command runs, its
 * keeper's pid in *pid and its group's in *pgid; else the error number (a
 * program that cannot be executed included), nothing left running. */
static int spawn(pid_t *pid, pid_t *pgid, char *const argv[], int p[2][2], char **env)
{
	struct spawn_req r = { argv, env, { -1, p[0][1], p[1][1] }, -1, getpid() };
	sigset_t all, old;
	int rep[2], e, status;

	if (pipe2(rep, O_CLOEXEC) < 0)
		return errno;
	if ((r.fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		close(rep[0]);
		close(rep[1]);
		return e;
	}
	r.report = rep[1];
	/* Blocked across the fork: no handler of the agent's runs in the
	 * keeper (they write to the agent's own wake-up pipe). */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	*pid = _Fork();
	if (*pid == 0)
		keeper_main(&r);
	e = *pid < 0 ? errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(r.fd[0]);
	close(rep[1]);
	if (*pid < 0) {
		close(rep[0]);
		return e;
	}
	e = spawn_outcome(rep[0], pgid);
	close(rep[0]);
	if (e)                       /* the command never ran: the keeper ends */
		while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
			;
	return e;
}

struct exec_child *exec_start(struct exec_mgr *m, char *const argv[],
			      unsigned timeout_ms, size_t max_output,
			      exec_done_fn cb, void *arg, char *err, size_t errlen)
{
	struct exec_child *c;
	int p[2][2] = { { -1, -1 }, { -1, -1 } };
	char **env = NULL;
	int i, rc;

	c = calloc(1, sizeof(*c));
	if (!c || !(env = env_build())) {
		fmt_snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		/* Both ends close-on-exec; dup2 in the child clears it on 1/2.
		 * Only our end is non-blocking: the child keeps a normal pipe. */
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			fmt_snprintf(err, errlen, "pipe: %s", strerror(errno));
			goto fail;
		}
		fcntl(p[i][0], F_SETFL, O_NONBLOCK);
	}
	rc = spawn(&c->pid, &c->pgid, argv, p, env);
	if (rc) {
		fmt_snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(rc));
		goto fail;
	}
	free(env);
	close(p[0][1]);
	close(p[1][1]);
	c->m = m;
	c->cb = cb;
	c->arg = arg;
	c->t0 = loop_now();
	for (i = 0; i < 2; i++) {
		cap_init(&c->cap[i], max_output);
		c->io[i].fd = p[i][0];
		c->io[i].ready = child_io_ready;
		c->io[i].arg = c;
		loop_add(m->l, &c->io[i]);
	}
	c->timer.fd = -1;
	c->timer.ready = child_timer;
	c->timer.arg = c;
	c->timer.deadline = timeout_ms ? c->t0 + timeout_ms : 0;
	loop_add(m->l, &c->timer);
	c->next = m->head;
	m->head = c;
	return c;
fail:
	for (i = 0; i < 2; i++) {
		if (p[i][0] >= 0)
			close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
	free(env);
	free(c);
	return NULL;
}

void exec_detach(struct exec_child *c, exec_done_fn cb, void *arg)
{
	c->cb = cb;
	c->arg = arg;
}

void exec_cancel(struct exec_mgr *m, struct exec_child *c)
{
	(void)m;
	if (c->cancelled)
		return;
	c->cancelled = 1;
	/* Nobody reads any more: closing our ends makes writers die of
	 * SIGPIPE, which helps the TERM along. */
	child_close_io(c, 0);
	child_close_io(c, 1);
	if (c->exited) {
		kill(-c->pgid, SIGKILL);
		child_free(c);
		return;
	}
	kill(-c->pgid, SIGTERM);
	c->phase = PH_TERM;
	c->timer.deadline = loop_now() + CFG_EXEC_KILL_GRACE_MS;
}

/* Children still wanted (wanted = 1) or not reaped yet (wanted = 0). */
static int count_children(const struct exec_mgr *m, int wanted)
{
	const struct exec_child *c;
	int n = 0;

	for (c = m->head; c; c = c->next)
		n += wanted ? !c->cancelled : !c->exited;
	return n;
}

int exec_running(const struct exec_mgr *m)
{
	return count_children(m, 1);
}

int exec_alive(const struct exec_mgr *m)
{
	return count_children(m, 0);
}

void exec_mgr_free(struct exec_mgr *m)
{
	struct exec_child *c;
	struct timespec ts = { 0, 5 * 1000000L };
	int64_t until = loop_now() + 500;
	int status;
	pid_t pid;

	if (!m)
		return;
	for (c = m->head; c; c = c->next)
		if (!c->exited)
			kill(-c->pgid, SIGTERM);
	/* A short chance to exit cleanly, then no more chances. */
	while (exec_alive(m) && loop_now() < until) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (c = m->head; c; c = c->next)
				if (c->pid == pid)
					c->exited = 1;
		if (exec_alive(m))
			nanosleep(&ts, NULL);
	}
	for (c = m->head; c; c = c->next) {
		kill(-c->pgid, SIGKILL);
		if (!c->exited)
			while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
				;
		c->exited = 1;
	}
	/* Group members die of the KILL a moment later; reap them too, but
	 * do not wait for daemons that left the group (setsid). */
	until = loop_now() + 200;
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0)
			continue;
		if (pid < 0 && errno != EINTR)
			break;
		if (loop_now() >= until)
			break;
		nanosleep(&ts, NULL);
	}
	while (m->head)
		child_free(m->head);
	free(m);
}
