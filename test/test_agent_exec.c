/* test_agent_exec.c - exec_command end to end through agent_cmd_run and a
 * real loop: exit codes, signals, timeouts killing the whole group, a
 * 50 MiB flood, a daemon holding the pipe, concurrency, the environment,
 * forgetting a job and shutting down with children alive. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "agent_t.h"
#include "t.h"

static struct agent_cmds *cmds_new(struct loop *l, int max_exec)
{
	struct agent_cfg cfg;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.services = SVC_NONE;
	cfg.max_exec = max_exec;
	return agent_cmd_init(l, &cfg, t_answered, NULL, err, sizeof(err));
}

/* exec_command message for a shell command (no quotes or backslashes in
 * cmd; extra is more payload members, starting with a comma). */
static void exec_msg(char *out, size_t n, const char *cmd, const char *extra)
{
	snprintf(out, n, "{\"status\":\"command\",\"message\":\"exec_command\","
		 "\"payload\":{\"command\":\"%s\"%s}}", cmd, extra ? extra : "");
}

/* Exactly n children of ours (zombies included) left within ms. */
static int children_within(struct loop *l, int n, int ms)
{
	int64_t until = loop_now() + ms;

	while (t_children(0) != n && loop_now() < until)
		t_spin(l, 20);
	return t_children(0) == n;
}

static int no_children_within(struct loop *l, int ms)
{
	return children_within(l, 0, ms);
}

void test_agent_exec_basic(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r;
	char msg[512], s[256];
	int t;

	exec_msg(msg, sizeof(msg), "echo out; echo err >&2; exit 3", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok && r.parsed);
	CHECK(t_int(&r, 0, "exit_code") == 3);
	CHECK(json_type(&r.j, t_get(&r, "signal")) == JSON_NULL);
	CHECK_STR(t_str(&r, 0, "stdout", s, sizeof(s)), "out\n");
	CHECK_STR(t_str(&r, 0, "stderr", s, sizeof(s)), "err\n");
	CHECK(json_type(&r.j, t_get(&r, "timed_out")) == JSON_FALSE);
	CHECK(json_type(&r.j, t_get(&r, "truncated")) == JSON_FALSE);
	t = t_get(&r, "total_bytes");
	CHECK(t_int(&r, t, "stdout") == 4 && t_int(&r, t, "stderr") == 4);
	CHECK(t_int(&r, 0, "duration_ms") >= 0 && t_int(&r, 0, "duration_ms") < 3000);
	t_reply_free(&r);

	/* killed by a signal: no exit code, the signal's name */
	exec_msg(msg, sizeof(msg), "kill -KILL $$", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(json_type(&r.j, t_get(&r, "exit_code")) == JSON_NULL);
	CHECK_STR(t_str(&r, 0, "signal", s, sizeof(s)), "SIGKILL");
	t_reply_free(&r);

	/* stdin is /dev/null: cat ends at once */
	exec_msg(msg, sizeof(msg), "cat; echo done", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(t_str(&r, 0, "stdout", s, sizeof(s)), "done\n");
	t_reply_free(&r);

	/* command not found is the shell's business: 127 */
	exec_msg(msg, sizeof(msg), "no-such-command-nestd", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(t_int(&r, 0, "exit_code") == 127);
	t_reply_free(&r);

	/* invalid UTF-8 and control bytes in the output stay valid JSON */
	exec_msg(msg, sizeof(msg), "printf 'a\\\\377\\\\001b'", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.parsed);
	CHECK_STR(t_str(&r, 0, "stdout", s, sizeof(s)), "a\xef\xbf\xbd\x01" "b");
	t_reply_free(&r);
	CHECK(no_children_within(l, 2000));
	agent_cmd_free(c);
	loop_free(l);
}

/* Only 0, 1 and 2 are open in the child: nothing of the agent leaks, not
 * even descriptors the agent inherited without close-on-exec from
 * whatever started it (issue 11, row 14). */
void test_agent_exec_no_fd_leak(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r;
	char msg[512], s[256];
	int inherited = open("/dev/null", O_RDONLY), high;

	/* one low, one far up (a fallback that stops early would miss it) */
	CHECK(inherited > 2);
	high = fcntl(inherited, F_DUPFD, 900);
	CHECK(high >= 900);
	CHECK(!(fcntl(inherited, F_GETFD) & FD_CLOEXEC));
	/* 3 is the shell's own directory handle while it globs. */
	exec_msg(msg, sizeof(msg), "cd /proc/self/fd && echo *", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(t_str(&r, 0, "stdout", s, sizeof(s)), "0 1 2 3\n");
	t_reply_free(&r);
	/* and the service tools' way in, argv without a shell */
	exec_msg(msg, sizeof(msg), "exec ls /proc/self/fd", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(t_str(&r, 0, "stdout", s, sizeof(s)), "0\n1\n2\n3\n");
	t_reply_free(&r);
	close(inherited);
	close(high);
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_exec_env(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r;
	char msg[512], s[65536];

	setenv("NESTD_TOKEN", "secret-token", 1);
	setenv("CLIENT_TOKEN", "secret-token", 1);
	setenv("NESTD_TOKEN_FILE", "/secret/file", 1);
	setenv("NESTD_TEST_VISIBLE", "yes", 1);
	exec_msg(msg, sizeof(msg), "env", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	t_str(&r, 0, "stdout", s, sizeof(s));
	CHECK(strstr(s, "NESTD_TEST_VISIBLE=yes") != NULL);
	CHECK(strstr(s, "secret") == NULL);
	CHECK(strstr(s, "TOKEN") == NULL);
	t_reply_free(&r);
	unsetenv("NESTD_TOKEN");
	unsetenv("CLIENT_TOKEN");
	unsetenv("NESTD_TOKEN_FILE");
	unsetenv("NESTD_TEST_VISIBLE");
	agent_cmd_free(c);
	loop_free(l);
}

/* A command that never ends is killed with its whole group; the reply
 * says so and nothing is left behind. */
void test_agent_exec_timeout(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r;
	char msg[512], s[64];
	int64_t t0 = loop_now();

	exec_msg(msg, sizeof(msg), "sleep 100 & sleep 100 & sleep 100", ",\"timeout\":0.5");
	CHECK(t_run(l, c, msg, &r, 10000));
	CHECK(r.ok);
	CHECK(json_type(&r.j, t_get(&r, "timed_out")) == JSON_TRUE);
	CHECK_STR(t_str(&r, 0, "signal", s, sizeof(s)), "SIGTERM");
	CHECK(loop_now() - t0 < 3000);
	CHECK(t_int(&r, 0, "duration_ms") >= 450);
	t_reply_free(&r);
	CHECK(no_children_within(l, 3000));

	/* a command that ignores TERM gets KILL after the grace */
	t0 = loop_now();
	exec_msg(msg, sizeof(msg), "trap '' TERM; sleep 100", ",\"timeout\":0.2");
	CHECK(t_run(l, c, msg, &r, 10000));
	CHECK(json_type(&r.j, t_get(&r, "timed_out")) == JSON_TRUE);
	CHECK_STR(t_str(&r, 0, "signal", s, sizeof(s)), "SIGKILL");
	CHECK(loop_now() - t0 < 4000);
	t_reply_free(&r);
	CHECK(no_children_within(l, 3000));

	/* a timeout too small for milliseconds still is a timeout */
	exec_msg(msg, sizeof(msg), "sleep 100", ",\"timeout\":0.0001");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(json_type(&r.j, t_get(&r, "timed_out")) == JSON_TRUE);
	t_reply_free(&r);
	CHECK(no_children_within(l, 3000));
	agent_cmd_free(c);
	loop_free(l);
}

/* 50 MiB on stdout: the reply keeps the head and the tail, counts it all. */
void test_agent_exec_flood(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r;
	struct buf out;
	char msg[512];
	int t;

	exec_msg(msg, sizeof(msg), "head -c 52428800 /dev/zero | tr '\\\\0' a; echo END", NULL);
	CHECK(t_run(l, c, msg, &r, 60000));
	CHECK(r.ok && r.parsed);
	CHECK(json_type(&r.j, t_get(&r, "truncated")) == JSON_TRUE);
	t = t_get(&r, "total_bytes");
	CHECK(t_int(&r, t, "stdout") == 52428800 + 4);
	buf_init(&out, 0);
	CHECK(json_str(&r.j, t_get(&r, "stdout"), &out) == 0);
	CHECK(out.len > (1u << 20) && out.len < (1u << 20) + 200);
	CHECK(out.len > 4 && !memcmp(out.p, "aaaa", 4));
	CHECK(out.len > 8 && !memcmp(out.p + out.len - 8, "aaaaEND\n", 8));
	CHECK(strstr(out.p, "bytes omitted") != NULL);
	buf_free(&out);
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

/* A daemon keeps stdout open: the reply still comes, shortly after the
 * shell exits, and the orphan is reaped by us (the subreaper) later. */
void test_agent_exec_daemon_holds_pipe(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r;
	char msg[512], s[64];
	int64_t t0 = loop_now();

	exec_msg(msg, sizeof(msg), "(setsid sleep 1 &); sleep 0.5 & echo started", NULL);
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok);
	CHECK(loop_now() - t0 < 1000);
	CHECK_STR(t_str(&r, 0, "stdout", s, sizeof(s)), "started\n");
	CHECK(t_int(&r, 0, "exit_code") == 0);
	t_reply_free(&r);
	/* the daemon (reparented to us) and the background sleep end and are
	 * reaped: no zombie, no child left */
	CHECK(no_children_within(l, 3000));
	CHECK(t_children('Z') == 0);
	agent_cmd_free(c);
	loop_free(l);
}

/* 20 at once with max_exec 4: four run, sixteen are told "busy"; other
 * commands are answered meanwhile. */
void test_agent_exec_concurrent(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 4);
	struct t_reply r[20], sys;
	char msg[512], s[64];
	int i, busy = 0, ok = 0;
	int64_t t0 = loop_now();

	exec_msg(msg, sizeof(msg), "sleep 0.5; echo ok", NULL);
	for (i = 0; i < 20; i++)
		t_start(c, msg, &r[i]);
	for (i = 0; i < 20; i++)
		if (r[i].called && !r[i].ok &&
		    !strcmp(r[i].err, "busy: 4 commands already running"))
			busy++;
	CHECK(busy == 16);
	CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"obtain_system_info\"}",
		    &sys, 1000));
	CHECK(sys.ok && loop_now() - t0 < 400);
	t_reply_free(&sys);
	for (i = 0; i < 20; i++) {
		if (!strncmp(r[i].err, "busy", 4))
			continue;
		CHECK(t_wait(l, &r[i], 5000));
		ok += r[i].ok && !strcmp(t_str(&r[i], 0, "stdout", s, sizeof(s)), "ok\n");
	}
	CHECK(ok == 4);
	for (i = 0; i < 20; i++)
		t_reply_free(&r[i]);
	/* the slots are free again */
	CHECK(t_run(l, c, msg, &r[0], 5000));
	CHECK(r[0].ok);
	t_reply_free(&r[0]);
	agent_cmd_free(c);
	loop_free(l);
}

/* The connection went away: no reply, the group is killed and reaped. */
void test_agent_exec_forget(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r, other;
	char msg[512];

	exec_msg(msg, sizeof(msg), "sleep 100 & sleep 100", NULL);
	t_start(c, msg, &r);
	t_start(c, msg, &other);
	t_spin(l, 100);
	CHECK(t_children(0) == 2);
	agent_cmd_forget(c, &r.cmd);
	/* the other job's shell is untouched (its sleep is a grandchild) */
	CHECK(children_within(l, 1, 4000));
	CHECK(!r.called);
	CHECK(!other.called);
	agent_cmd_free(c);
	CHECK(!other.called);
	CHECK(t_children(0) == 0);
	loop_free(l);
}

/* Shutdown with commands running kills and reaps them all. */
void test_agent_exec_free_kills(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, 0);
	struct t_reply r[3];
	char msg[512];
	int i;

	exec_msg(msg, sizeof(msg), "trap '' TERM; sleep 100 & sleep 100", NULL);
	for (i = 0; i < 3; i++)
		t_start(c, msg, &r[i]);
	t_spin(l, 100);
	agent_cmd_free(c);
	for (i = 0; i < 3; i++)
		CHECK(!r[i].called);
	CHECK(t_children(0) == 0);
	/* grandchildren reparented to us are reaped once they die */
	c = cmds_new(l, 0);
	CHECK(no_children_within(l, 3000));
	agent_cmd_free(c);
	loop_free(l);
}
