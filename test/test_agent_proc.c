/* test_agent_proc.c - processes from /proc through agent_cmd_run: the
 * list, details, hostile names, non-dumpable owners, vanishing processes,
 * signals; a --proc-root fixture in both list shapes; and the passwd
 * cache and signal names directly. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "agent_proc.h"
#include "agent_t.h"
#include "t.h"

static struct agent_cmds *cmds_new(struct loop *l)
{
	struct agent_cfg cfg;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.services = SVC_NONE;
	return agent_cmd_init(l, &cfg, t_answered, NULL, err, sizeof(err));
}

/* Index of the list element whose pid is pid, or -1. */
static int list_find(struct t_reply *r, int pid)
{
	int i, e, n = json_count(&r->j, 0);

	for (i = 0; i < n; i++) {
		e = json_elem(&r->j, 0, i);
		if (t_int(r, e, "pid") == pid)
			return e;
	}
	return -1;
}

/* The whole time, even when SIGCHLD (a child stopped or continued)
 * interrupts the sleep. */
static void ms_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A child that renames itself to name and waits; ready once renamed. */
static pid_t child_named(const char *name)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, name, 0, 0, 0);
		if (write(p[1], "x", 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void child_end(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void test_agent_proc_list_self(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l);
	struct t_reply r;
	char s[4096];
	int e, t;

	CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"obtain_all_process_info\"}",
		    &r, 10000));
	CHECK(r.ok && r.parsed && json_type(&r.j, 0) == JSON_ARRAY);
	CHECK(json_count(&r.j, 0) > 2);
	e = list_find(&r, getpid());
	CHECK(e >= 0);
	CHECK(t_int(&r, e, "ppid") == getppid());
	CHECK(t_int(&r, e, "uid") == (long long)geteuid());
	if (geteuid() == 0)
		CHECK_STR(t_str(&r, e, "user", s, sizeof(s)), "root");
	CHECK(strstr(t_str(&r, e, "cmdline", s, sizeof(s)), "unit") != NULL);
	CHECK(strstr(t_str(&r, e, "name", s, sizeof(s)), "unit") != NULL);
	CHECK_STR(t_str(&r, e, "state", s, sizeof(s)), "running");
	CHECK(t_int(&r, e, "rss") > 4096 && t_int(&r, e, "vms") > t_int(&r, e, "rss"));
	CHECK(t_int(&r, e, "threads") == 1);
	t = json_get(&r.j, e, "started");
	CHECK(json_type(&r.j, t) == JSON_NUMBER);
	t = json_get(&r.j, e, "cpu_time");
	CHECK(json_type(&r.j, json_get(&r.j, t, "user")) == JSON_NUMBER);
	CHECK(json_type(&r.j, json_get(&r.j, e, "cpu_usage")) == JSON_NUMBER);
	CHECK(json_type(&r.j, json_get(&r.j, e, "kernel_thread")) == JSON_FALSE);
	/* pid 2 is kthreadd where there is one (not in a pid namespace) */
	e = list_find(&r, 2);
	if (e >= 0)
		CHECK(json_type(&r.j, json_get(&r.j, e, "kernel_thread")) == JSON_TRUE);
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_proc_info(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l);
	struct t_reply r;
	char msg[256], s[256];
	time_t now = time(NULL);
	double started;
	int t;

	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", getpid());
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok && r.parsed);
	CHECK(t_int(&r, 0, "pid") == getpid());
	CHECK_STR(t_str(&r, 0, "status", s, sizeof(s)), "running");
	t = t_get(&r, "memory");
	CHECK(t_int(&r, t, "rss") > 0 && t_int(&r, t, "vms") > 0 && t_int(&r, t, "swap") >= 0);
	CHECK(json_num(&r.j, t_get(&r, "started"), &started) == 0);
	CHECK(started > (double)now - 3600 && started <= (double)now + 2);
	/* safe_kill: false for the agent itself */
	CHECK(json_type(&r.j, t_get(&r, "safe_kill")) == JSON_FALSE);
	t_reply_free(&r);
	CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		    "\"payload\":{\"pid\":1}}", &r, 5000));
	CHECK(r.ok && json_type(&r.j, t_get(&r, "safe_kill")) == JSON_FALSE);
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

/* A name with quotes, a backslash, control characters and bytes that are
 * not UTF-8 must come back as valid JSON, the bad bytes as U+FFFD. */
void test_agent_proc_weird_name(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l);
	struct t_reply r;
	char msg[256], s[256];
	pid_t pid = child_named("a\"b\\c\n\x01\xff\xfe)(");
	int e;

	CHECK(pid > 0);
	CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"obtain_all_process_info\"}",
		    &r, 10000));
	CHECK(r.ok && r.parsed);
	e = list_find(&r, pid);
	CHECK(e >= 0);
	CHECK_STR(t_str(&r, e, "name", s, sizeof(s)), "a\"b\\c\n\x01\xef\xbf\xbd\xef\xbf\xbd)(");
	t_reply_free(&r);
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok && r.parsed);
	CHECK_STR(t_str(&r, 0, "name", s, sizeof(s)), "a\"b\\c\n\x01\xef\xbf\xbd\xef\xbf\xbd)(");
	CHECK(json_type(&r.j, t_get(&r, "safe_kill")) == JSON_TRUE);
	t_reply_free(&r);
	child_end(pid);
	agent_cmd_free(c);
	loop_free(l);
}

/* The /proc/PID files of a non-dumpable process belong to root, but the
 * directory keeps the real owner, and that is what we must show. */
void test_agent_proc_nondumpable_owner(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c;
	struct t_reply r;
	char msg[256], s[64];
	int p[2];
	pid_t pid;

	if (geteuid() != 0) {
		SKIP("needs root (a process of another uid made non-dumpable)");
		loop_free(l);
		return;
	}
	c = cmds_new(l);
	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(1);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (write(p[1], "x", 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	CHECK(read(p[0], s, 1) == 1);
	close(p[0]);
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(t_int(&r, 0, "uid") == 65534);
	CHECK_STR(t_str(&r, 0, "user", s, sizeof(s)), "nobody");
	t_reply_free(&r);
	child_end(pid);
	agent_cmd_free(c);
	loop_free(l);
}

/* A child that takes the name "renamed" when told so on its pipe (fd
 * *tell), and says so on *ack. */
static pid_t child_renaming(const char *name, int *tell, int *ack)
{
	int a[2], b[2];
	char c;
	pid_t pid;

	if (pipe(a) < 0 || pipe(b) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, name, 0, 0, 0);
		if (write(b[1], "x", 1) < 0 || read(a[0], &c, 1) != 1)
			_exit(1);
		prctl(PR_SET_NAME, "renamed", 0, 0, 0);
		if (write(b[1], "x", 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(a[0]);
	close(b[1]);
	*tell = a[1];
	*ack = b[0];
	if (read(*ack, &c, 1) != 1)
		pid = -1;
	return pid;
}

/* Our descriptors open on /proc/PID/... files. */
static int proc_fds(void)
{
	char path[300], target[256];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	ssize_t k;

	while (dir && (d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		k = readlink(path, target, sizeof(target) - 1);
		if (k > 0) {
			target[k] = '\0';
			n += !strncmp(target, "/proc/", 6) && target[6] >= '1' && target[6] <= '9';
		}
	}
	if (dir)
		closedir(dir);
	return n;
}

/* obtain_process_info keeps a process's files open between answers: each
 * answer is still read afresh (a new name shows), a process that is gone
 * is "no such process", and no more than a few are ever kept. */
void test_agent_proc_kept(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l);
	struct t_reply r;
	char msg[256], s[64];
	pid_t pid, more[6];
	int tell = -1, ack = -1, i, base = proc_fds();

	pid = child_renaming("kept-one", &tell, &ack);
	CHECK(pid > 0);
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok && r.parsed);
	CHECK_STR(t_str(&r, 0, "name", s, sizeof(s)), "kept-one");
	t_reply_free(&r);
	CHECK(write(tell, "x", 1) == 1 && read(ack, s, 1) == 1);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok && r.parsed);
	CHECK_STR(t_str(&r, 0, "name", s, sizeof(s)), "renamed");
	t_reply_free(&r);
	child_end(pid);
	close(tell);
	close(ack);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(!r.ok);
	snprintf(s, sizeof(s), "no such process: %d", pid);
	CHECK_STR(r.err, s);
	t_reply_free(&r);
	for (i = 0; i < 6; i++) {
		more[i] = child_named("kept-more");
		snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":"
			 "\"obtain_process_info\",\"payload\":{\"pid\":%d}}", more[i]);
		CHECK(t_run(l, c, msg, &r, 5000));
		CHECK(r.ok && r.parsed);
		t_reply_free(&r);
	}
	CHECK(proc_fds() - base <= 8);
	for (i = 0; i < 6; i++)
		child_end(more[i]);
	agent_cmd_free(c);
	loop_free(l);
	CHECK(proc_fds() == base);
}

/* Processes come and go while the list is read: never an error, always
 * valid JSON.  A pid that is gone is "no such process". */
void test_agent_proc_vanish(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l);
	struct t_reply r;
	char msg[256];
	pid_t churn, gone;
	int i, ok = 0;

	churn = fork();
	if (churn == 0) {
		for (;;) {
			pid_t k = fork();

			if (k == 0)
				_exit(0);
			if (k > 0)
				waitpid(k, NULL, 0);
		}
	}
	for (i = 0; i < 15; i++) {
		CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"obtain_all_process_info\"}",
			    &r, 10000));
		ok += r.ok && r.parsed;
		t_reply_free(&r);
	}
	CHECK(ok == 15);
	child_end(churn);
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", gone);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(!r.ok);
	snprintf(msg, sizeof(msg), "no such process: %d", gone);
	CHECK_STR(r.err, msg);
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_proc_signals(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l);
	struct t_reply r;
	char msg[256], want[256], s[64];
	pid_t pid = child_named("victim");
	int st = 0, i;

	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"pause_process\","
		 "\"payload\":{\"pid\":%d}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok && t_int(&r, 0, "pid") == pid);
	t_reply_free(&r);
	for (i = 0; i < 100 && t_state(pid) != 'T'; i++)
		ms_sleep(5);
	CHECK(t_state(pid) == 'T');
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(t_str(&r, 0, "status", s, sizeof(s)), "stopped");
	t_reply_free(&r);
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"resume_process\","
		 "\"payload\":{\"pid\":%d}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok);
	t_reply_free(&r);
	/* waking up passes through other states; it must leave 'T' */
	for (i = 0; i < 100 && t_state(pid) != 'S'; i++)
		ms_sleep(5);
	CHECK(t_state(pid) == 'S');
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"kill_process\","
		 "\"payload\":{\"pid\":%d,\"method\":\"usr1\"}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "signal", s, sizeof(s)), "SIGUSR1");
	t_reply_free(&r);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);

	pid = child_named("victim2");
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"kill_process\","
		 "\"payload\":{\"pid\":%d}}", pid);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(t_str(&r, 0, "signal", s, sizeof(s)), "SIGTERM");
	t_reply_free(&r);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	/* gone now */
	CHECK(t_run(l, c, msg, &r, 5000));
	snprintf(want, sizeof(want), "no such process: %d", pid);
	CHECK_STR(r.err, want);
	t_reply_free(&r);

	CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"kill_process\","
		    "\"payload\":{\"pid\":1,\"method\":\"SIGKILL\"}}", &r, 5000));
	CHECK_STR(r.err, "refusing to signal pid 1 (init)");
	t_reply_free(&r);
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"pause_process\","
		 "\"payload\":{\"pid\":%d}}", getpid());
	CHECK(t_run(l, c, msg, &r, 5000));
	snprintf(want, sizeof(want), "refusing to signal the agent itself (pid %d)", getpid());
	CHECK_STR(r.err, want);
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

/* As an unprivileged user, signalling someone else's process is EPERM,
 * reported with the owner's name. */
void test_agent_proc_eperm(void)
{
	char err[256] = "", want[256];
	struct proc_ctx *p;
	pid_t victim, pid;
	int pe[2], st;

	if (geteuid() != 0) {
		SKIP("needs root (to drop to uid 65534)");
		return;
	}
	victim = child_named("rootowned");
	CHECK(pipe(pe) == 0);
	pid = fork();
	if (pid == 0) {
		close(pe[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(1);
		p = proc_new(err, sizeof(err));
		if (!p && access("/proc/self", R_OK) < 0)
			snprintf(err, sizeof(err), "SKIP");   /* e.g. a chroot whose / is 0700 */
		else if (p && proc_signal(p, victim, SIGKILL, err, sizeof(err)) == 0)
			snprintf(err, sizeof(err), "signal went through");
		if (write(pe[1], err, strlen(err)) < 0)
			_exit(1);
		_exit(0);
	}
	close(pe[1]);
	memset(err, 0, sizeof(err));
	CHECK(read(pe[0], err, sizeof(err) - 1) > 0);
	close(pe[0]);
	waitpid(pid, &st, 0);
	if (strcmp(err, "SKIP") == 0) {
		SKIP("uid 65534 cannot reach /proc here (a / other users cannot search)");
		child_end(victim);
		return;
	}
	snprintf(want, sizeof(want), "permission denied: cannot signal %d (owned by root)", victim);
	CHECK_STR(err, want);
	/* Not killed: alive and no zombie (running or sleeping, as a loaded
	 * machine has it at that moment). */
	CHECK(kill(victim, 0) == 0 && t_state(victim) != 'Z');
	child_end(victim);
}

/* The name uid has once the users cache has followed the file: asked
 * every 20 ms for up to 5 s (the file is looked at once a second). */
static const char *user_settled(struct proc_ctx *p, unsigned uid, const char *want,
				char *tmp, size_t n)
{
	const char *got = proc_user_name(p, uid, tmp, n);
	int i;

	for (i = 0; i < 250 && strcmp(got, want) != 0; i++) {
		ms_sleep(20);
		got = proc_user_name(p, uid, tmp, n);
	}
	return got;
}

void test_agent_proc_users(void)
{
	char path[] = "/tmp/nestd-passwd-XXXXXX", tmp[16];
	struct proc_ctx *p;
	FILE *f;
	int fd;

	p = proc_new(tmp, sizeof(tmp));
	CHECK(p != NULL);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("root:x:0:0:root:/root:/bin/bash\n"
	      "broken line\n"
	      ":x:5:5::/:/bin/sh\n"
	      "+nis:x:7:7::/:/bin/sh\n"
	      "orpheus:x:1000:1000:,,,:/home/orpheus:/bin/bash\n"
	      "alias:x:1000:1000::/:/bin/sh\n"
	      "nouid:x::1::/:/bin/sh\n"
	      "big:x:4294967294:1::/:/bin/sh", f);
	fclose(f);
	proc_set_passwd(p, path);
	CHECK_STR(proc_user_name(p, 0, tmp, sizeof(tmp)), "root");
	CHECK_STR(proc_user_name(p, 1000, tmp, sizeof(tmp)), "orpheus");
	CHECK_STR(proc_user_name(p, 4294967294u, tmp, sizeof(tmp)), "big");
	CHECK_STR(proc_user_name(p, 5, tmp, sizeof(tmp)), "5");
	CHECK_STR(proc_user_name(p, 7, tmp, sizeof(tmp)), "7");
	CHECK_STR(proc_user_name(p, 1001, tmp, sizeof(tmp)), "1001");
	/* a new user appears: the file changed, the cache follows within
	 * its second (the file is stat(2)ed once a second) */
	f = fopen(path, "a");
	fputs("\nheidi:x:1001:1001::/home/heidi:/bin/sh\n", f);
	fclose(f);
	CHECK_STR(user_settled(p, 1001, "heidi", tmp, sizeof(tmp)), "heidi");
	unlink(path);
	CHECK_STR(user_settled(p, 1001, "1001", tmp, sizeof(tmp)), "1001");
	/* a new file to read is read at once, not after the second */
	proc_set_passwd(p, "/nonexistent/passwd");
	CHECK_STR(proc_user_name(p, 0, tmp, sizeof(tmp)), "0");
	proc_free(p);
}

void test_agent_proc_signal_names(void)
{
	char tmp[32];

	CHECK(proc_signal_parse("SIGTERM") == SIGTERM);
	CHECK(proc_signal_parse("term") == SIGTERM);
	CHECK(proc_signal_parse("Kill") == SIGKILL);
	CHECK(proc_signal_parse("SIGHUP") == SIGHUP);
	CHECK(proc_signal_parse("9") == SIGKILL);
	CHECK(proc_signal_parse("SIGRTMIN+2") == SIGRTMIN + 2);
	CHECK(proc_signal_parse("0") == -1);
	CHECK(proc_signal_parse("") == -1);
	CHECK(proc_signal_parse("SIG") == -1);
	CHECK(proc_signal_parse("SIGTERMX") == -1);
	CHECK(proc_signal_parse("999") == -1);
	CHECK(proc_signal_parse("-9") == -1);
	CHECK_STR(proc_signal_name(SIGKILL, tmp, sizeof(tmp)), "SIGKILL");
	CHECK_STR(proc_signal_name(SIGABRT, tmp, sizeof(tmp)), "SIGABRT");
	CHECK_STR(proc_signal_name(SIGRTMIN + 1, tmp, sizeof(tmp)), "SIGRTMIN+1");
}

/* cpu_usage is measured since the previous sample: a spinning child
 * shows a lot, the same child stopped shows exactly 0 on the next sample
 * although its lifetime average is high. */
static double sample_cpu(struct loop *l, struct agent_cmds *c, const char *msg)
{
	struct t_reply r;
	double u = -1;

	CHECK(t_run(l, c, msg, &r, 5000));
	json_num(&r.j, t_get(&r, "cpu_usage"), &u);
	t_reply_free(&r);
	return u;
}

void test_agent_proc_cpu_usage(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l);
	char msg[256];
	double u1, u3, u4;
	pid_t busy = fork();

	if (busy == 0)
		for (;;)
			;
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"obtain_process_info\","
		 "\"payload\":{\"pid\":%d}}", busy);
	ms_sleep(300);
	u1 = sample_cpu(l, c, msg);
	kill(busy, SIGSTOP);
	ms_sleep(50);
	sample_cpu(l, c, msg);
	ms_sleep(200);
	u3 = sample_cpu(l, c, msg);
	kill(busy, SIGCONT);
	ms_sleep(300);
	u4 = sample_cpu(l, c, msg);
	if (!(u1 > 10 && u3 == 0 && u4 > 10 && u4 < 130))
		fprintf(stderr, "cpu_usage samples: %.1f %.1f %.1f\n", u1, u3, u4);
	CHECK(u1 > 10);
	CHECK(u3 == 0);
	CHECK(u4 > 10 && u4 < 130);
	child_end(busy);
	agent_cmd_free(c);
	loop_free(l);
}

/* A /proc-like fixture with a few processes: DIR/stat (btime), DIR/PID/
 * {stat,cmdline}. */
static void proc_fixture(const char *root, int pid, const char *comm, const char *cmdline,
			 size_t cmdlen)
{
	char p[512], stat[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%d", root, pid);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(stat, sizeof(stat), "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 12 3 0 0 20 0 1 0 "
		 "5000 10485760 256 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		 pid, comm, pid, pid);
	snprintf(p, sizeof(p), "%s/%d/stat", root, pid);
	f = fopen(p, "w");
	CHECK(f && fputs(stat, f) >= 0);
	if (f)
		fclose(f);
	snprintf(p, sizeof(p), "%s/%d/cmdline", root, pid);
	f = fopen(p, "w");
	CHECK(f && fwrite(cmdline, 1, cmdlen, f) == cmdlen);
	if (f)
		fclose(f);
}

/* --proc-root: the processes of another procfs (here a fixture), in both
 * shapes; the original's list is exactly [{pid, name}], the name as
 * psutil gives it (comm, or argv[0]'s base name when comm was cut). */
void test_agent_proc_root(void)
{
	char root[] = "/tmp/nestd-procroot-XXXXXX", p[600], err[256];
	static const char long_cmd[] = "/usr/bin/a-very-long-program-name\0--flag\0";
	static const char odd_cmd[] = "a\0\0bc\0\x01\x7f\xc3\xa9\0" "0123456\0\x7f\x80\x81\xff"
		"\0\0\0\0\0\0\0\0\0" "x y\0z\x20\x21\0\0";
	struct proc_ctx *pc;
	struct buf b;
	struct jw w;
	int f;

	CHECK(mkdtemp(root) != NULL);
	snprintf(p, sizeof(p), "%s/stat", root);
	f = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(f >= 0 && write(f, "cpu  1 0 1 1\nbtime 1700000000\n", 30) == 30);
	if (f >= 0)
		close(f);
	proc_fixture(root, 4100000, "sleep", "sleep\0" "300\0", 10);
	proc_fixture(root, 4100001, "a-very-long-pro", long_cmd, sizeof(long_cmd) - 1);
	proc_fixture(root, 4100002, "tmux: server", "", 0);
	pc = proc_new(err, sizeof(err));
	CHECK(pc != NULL);
	CHECK(proc_set_root(pc, "/nonexistent-procroot", err, sizeof(err)) == -1 &&
	      strstr(err, "--proc-root /nonexistent-procroot"));
	CHECK(proc_set_root(pc, root, err, sizeof(err)) == 0);
	buf_init(&b, 0);
	jw_init(&w, &b);
	CHECK(proc_list_brief(pc, &w, err, sizeof(err)) == 0);
	/* readdir's order is the file system's: compare as a set */
	CHECK(b.p && strlen(b.p) == strlen("[{\"pid\":4100000,\"name\":\"sleep\"},"
					   "{\"pid\":4100001,\"name\":\"a-very-long-program-name\"},"
					   "{\"pid\":4100002,\"name\":\"tmux: server\"}]"));
	CHECK(b.p && strstr(b.p, "{\"pid\":4100000,\"name\":\"sleep\"}"));
	CHECK(b.p && strstr(b.p, "{\"pid\":4100001,\"name\":\"a-very-long-program-name\"}"));
	CHECK(b.p && strstr(b.p, "{\"pid\":4100002,\"name\":\"tmux: server\"}"));
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(proc_info(pc, 4100000, &w, err, sizeof(err)) == 0);
	/* started: the fixture's btime plus 5000 ticks */
	CHECK(b.p && strstr(b.p, "\"cmdline\":\"sleep 300\"") &&
	      strstr(b.p, "\"started\":1700000050.00"));
	/* NULs in every lane of the word-wise join, runs of them, bytes either
	 * side of 0x80 and 0x7f kept as they are: the same text as joining
	 * byte by byte gives, trailing NULs dropped */
	proc_fixture(root, 4100003, "odd", odd_cmd, sizeof(odd_cmd) - 1);
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(proc_info(pc, 4100003, &w, err, sizeof(err)) == 0);
	{
		char want[sizeof(odd_cmd)], *s;
		struct buf e;
		struct jw ew;
		size_t i, n = sizeof(odd_cmd) - 1;

		memcpy(want, odd_cmd, sizeof(odd_cmd));
		while (n && !want[n - 1])
			n--;
		for (i = 0; i < n; i++)
			want[i] = want[i] ? want[i] : ' ';
		buf_init(&e, 0);
		jw_init(&ew, &e);
		jw_strn(&ew, want, n);
		s = b.p ? strstr(b.p, "\"cmdline\":") : NULL;
		CHECK(s && e.p && !strncmp(s + 10, e.p, e.len) && s[10 + e.len] == ',');
		buf_free(&e);
	}
	/* quotes and backslashes in the name and the command line, in the
	 * listing and the details (each record written whole, its texts
	 * escaped as the writer escapes them) */
	proc_fixture(root, 4100004, "q\"u\\te", "say\0\"hi\\\0", 9);
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(proc_list(pc, &w, err, sizeof(err)) == 0);
	CHECK(b.p && strstr(b.p, "{\"pid\":4100004,\"ppid\":1,\"name\":\"q\\\"u\\\\te\",") &&
	      strstr(b.p, ",\"cmdline\":\"say \\\"hi\\\\\",\"kernel_thread\":false}"));
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(proc_info(pc, 4100004, &w, err, sizeof(err)) == 0);
	CHECK(b.p && strstr(b.p, "\"name\":\"q\\\"u\\\\te\",\"user\":") &&
	      strstr(b.p, ",\"cmdline\":\"say \\\"hi\\\\\",\"kernel_thread\":false,"
			  "\"safe_kill\":true}"));
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(proc_info(pc, 4100009, &w, err, sizeof(err)) == -1);
	CHECK_STR(err, "no such process: 4100009");
	buf_free(&b);
	proc_free(pc);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	CHECK(system(p) == 0);
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char p[600];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	CHECK(f && fputs(text, f) >= 0);
	if (f)
		fclose(f);
}

/* obtain_process_info's swap for a fixture process whose status says
 * VmSwap 8 kB, read through a fresh context (the swaps check is cached
 * per context). */
static long long info_swap(const char *root)
{
	char err[256];
	struct proc_ctx *pc = proc_new(err, sizeof(err));
	struct buf b;
	struct jw w;
	long long swap = -1;
	const char *s;

	CHECK(pc && proc_set_root(pc, root, err, sizeof(err)) == 0);
	buf_init(&b, 0);
	jw_init(&w, &b);
	if (pc && proc_info(pc, 4100100, &w, err, sizeof(err)) == 0 && b.p &&
	    (s = strstr(b.p, "\"swap\":")))
		swap = atoll(s + 7);
	buf_free(&b);
	proc_free(pc);
	return swap;
}

/* status (VmSwap) is read only while the root's "swaps" lists an active
 * area, or when the root has no "swaps" at all. */
void test_agent_proc_swap(void)
{
	char root[] = "/tmp/nestd-procswap-XXXXXX", p[600];
	static const char hdr[] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

	CHECK(mkdtemp(root) != NULL);
	put_file(root, "stat", "cpu  1 0 1 1\nbtime 1700000000\n");
	proc_fixture(root, 4100100, "sleep", "sleep\0" "300\0", 10);
	snprintf(p, sizeof(p), "%s/4100100", root);
	put_file(p, "status", "Name:\tsleep\nVmRSS:\t1024 kB\nVmSwap:\t8 kB\nThreads:\t1\n");
	CHECK(info_swap(root) == 8192);            /* no "swaps": status is read */
	put_file(root, "swaps", hdr);
	CHECK(info_swap(root) == 0);               /* no area on: status is not read */
	snprintf(p, sizeof(p), "%s/dev/sda2\t\t\t\tpartition\t1048572\t\t8\t\t-2\n", hdr);
	put_file(root, "swaps", p);
	CHECK(info_swap(root) == 8192);            /* an area on: read again */
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	CHECK(system(p) == 0);
}
