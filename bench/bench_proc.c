/* bench_proc.c - how fast is obtain_all_process_info?
 *
 * In one run, with NPROC extra processes alive (sleep children, killed
 * and reaped at the end, and told to die with us by PR_SET_PDEATHSIG):
 *   nestd     agent_cmd_run("obtain_all_process_info") until answered() has
 *             the whole reply, median of RUNS
 *   baseline  readdir /proc + read stat and cmdline of every process, the
 *             least any /proc reader can do
 *   ps        ps -eo pid,ppid,user,stat,rss,lstart,nlwp,args >/dev/null
 *   psutil    the reference client's loop, if /usr/bin/python3 has psutil
 * plus obtain_process_info calls per second (handler only), and prints each time and the ratios.  Usage: bench_proc [NPROC [RUNS]] */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "proto.h"
#include "proc_probe.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static size_t reply_len;
static int reply_ok;

/* The whole reply message, as the agent would send it. */
static void on_answered(struct cmd *cmd, void *arg)
{
	static const char ok[] = "{\"status\":\"command_response\",";

	reply_ok = !strncmp(cmd->reply.p ? cmd->reply.p : "", ok, sizeof(ok) - 1);
	reply_len = cmd->reply.len;
	if (!reply_ok)
		fprintf(stderr, "bench: %s failed: %.300s\n", cmd->name, cmd->reply.p);
}

/* One command through a fresh record, freed once answered. */
static void run_one(struct agent_cmds *c, const struct nest_msg *m)
{
	struct cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	agent_cmd_run(c, &cmd, m);
	buf_free(&cmd.reply);
}

/* What every /proc reader must at least do (proc_probe.h). */
static int baseline(void)
{
	return proc_probe(0);
}

/* Runs argv with stdout to /dev/null (or to out_fd), waits; ms taken. */
static double run_timed(char *const argv[], int out_fd)
{
	posix_spawn_file_actions_t fa;
	double t0 = now_ms();
	int st;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return now_ms() - t0;
}

static const char psutil_py[] =
	"import sys, time\n"
	"try:\n"
	"    import psutil\n"
	"except ImportError:\n"
	"    print('none'); sys.exit(0)\n"
	"runs = int(sys.argv[1]); ts = []\n"
	"for _ in range(runs + 1):\n"
	"    t0 = time.monotonic()\n"
	"    procs = []\n"
	"    for p in psutil.process_iter():\n"
	"        try:\n"
	"            procs.append({'pid': p.pid, 'name': p.name()})\n"
	"        except psutil.Error:\n"
	"            pass\n"
	"    ts.append((time.monotonic() - t0) * 1000)\n"
	"ts = sorted(ts[1:]); n = len(ts)\n"
	"print('%.2f %d' % ((ts[n // 2] + ts[(n - 1) // 2]) / 2, len(procs)))\n";

int main(int argc, char **argv)
{
	int nproc = argc > 1 ? atoi(argv[1]) : 2000;
	int runs = argc > 2 ? atoi(argv[2]) : 15;
	double *tn = calloc((size_t)runs, sizeof(double));
	double *tb = calloc((size_t)runs, sizeof(double));
	double *tp = calloc((size_t)runs, sizeof(double));
	static const char cmd[] = "{\"status\":\"command\",\"message\":\"obtain_all_process_info\"}";
	char *ps_argv[] = { "ps", "-eo", "pid,ppid,user,stat,rss,lstart,nlwp,args", NULL };
	char runs_s[16], err[256], pybuf[128];
	pid_t *kids = calloc((size_t)nproc, sizeof(pid_t));
	struct agent_cmds *c;
	struct agent_cfg cfg;
	struct nest_msg m;
	struct rusage ru;
	struct loop *l;
	double mn, mb, mp, mpy = -1, t0, info_rate = 0;
	size_t list_len = 0;
	int i, started = 0, nb = 0, pfd[2], pycount = 0;
	ssize_t k;

	if (!tn || !tb || !tp || !kids || runs < 1)
		return 1;
	/* the crowd */
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			execlp("sleep", "sleep", "600", (char *)NULL);
			_exit(127);
		}
		kids[started++] = pid;
	}
	usleep(300000);   /* let every child get past exec */

	l = loop_new();
	memset(&cfg, 0, sizeof(cfg));
	cfg.services = SVC_NONE;
	c = agent_cmd_init(l, &cfg, on_answered, NULL, err, sizeof(err));
	if (!c || proto_parse(&m, cmd, sizeof(cmd) - 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	/* warm caches (passwd, dentries) once, then measure */
	run_one(c, &m);
	baseline();
	run_timed(ps_argv, -1);
	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		run_one(c, &m);
		tn[i] = now_ms() - t0;
		list_len = reply_len;
		t0 = now_ms();
		nb = baseline();
		tb[i] = now_ms() - t0;
		tp[i] = run_timed(ps_argv, -1);
	}
	/* obtain_process_info, handler only (the connection adds framing) */
	{
		char info[128];
		struct nest_msg mi;
		int calls = 2000;

		snprintf(info, sizeof(info), "{\"status\":\"command\",\"message\":"
			 "\"obtain_process_info\",\"payload\":{\"pid\":%d}}", (int)getpid());
		if (proto_parse(&mi, info, strlen(info), err, sizeof(err)) == 0) {
			t0 = now_ms();
			for (i = 0; i < calls; i++)
				run_one(c, &mi);
			info_rate = calls / ((now_ms() - t0) / 1000.0);
			proto_free(&mi);
		}
	}
	/* psutil, in the same crowd */
	snprintf(runs_s, sizeof(runs_s), "%d", runs < 5 ? runs : 5);
	if (access("/usr/bin/python3", X_OK) == 0 && pipe(pfd) == 0) {
		char *py_argv[] = { "/usr/bin/python3", "-c", (char *)psutil_py, runs_s, NULL };

		run_timed(py_argv, pfd[1]);
		close(pfd[1]);
		k = read(pfd[0], pybuf, sizeof(pybuf) - 1);
		close(pfd[0]);
		pybuf[k > 0 ? k : 0] = '\0';
		if (sscanf(pybuf, "%lf %d", &mpy, &pycount) != 2)
			mpy = -1;
	}
	getrusage(RUSAGE_SELF, &ru);
	mn = median(tn, runs);
	mb = median(tb, runs);
	mp = median(tp, runs);
	printf("processes listed:          %d (%d extra sleep children), %d runs each\n",
	       nb, started, runs);
	printf("nestd obtain_all_process_info: %8.2f ms  (reply %zu bytes%s)\n", mn, list_len,
	       reply_ok ? "" : ", FAILED");
	printf("baseline stat+cmdline:     %8.2f ms\n", mb);
	printf("ps -eo ...:                %8.2f ms\n", mp);
	if (mpy >= 0)
		printf("psutil [{pid,name}]:       %8.2f ms  (%d processes)\n", mpy, pycount);
	else
		printf("psutil:                    skipped (python3-psutil not installed)\n");
	printf("ratio ps/nestd:            %8.2f  (target >= 2)\n", mp / mn);
	printf("ratio nestd/baseline:      %8.2f  (target <= 1.5)\n", mn / mb);
	if (mpy >= 0)
		printf("ratio psutil/nestd:        %8.2f\n", mpy / mn);
	printf("obtain_process_info:       %8.0f calls/s (handler only)\n", info_rate);
	printf("bench peak RSS:            %8ld KiB\n", ru.ru_maxrss);

	proto_free(&m);
	agent_cmd_free(c);
	loop_free(l);
	for (i = 0; i < started; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < started; i++)
		while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(kids);
	free(tn);
	free(tb);
	free(tp);
	return 0;
}
