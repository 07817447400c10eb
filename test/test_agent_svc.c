/* test_agent_svc.c - service commands against recording stand-ins for
 * systemctl, rc-service and rc-status (test/stubs/, outputs copied from
 * the real tools), the none backend, name checks, and the parsers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "agent_svc.h"
#include "agent_t.h"
#include "t.h"

static char stub_log[64];

static struct agent_cmds *svc_cmds(struct loop *l, enum svc_backend b)
{
	struct agent_cfg cfg;
	char err[256];
	int fd;

	snprintf(stub_log, sizeof(stub_log), "/tmp/nestd-stub-XXXXXX");
	fd = mkstemp(stub_log);
	if (fd >= 0)
		close(fd);
	setenv("NESTD_STUB_LOG", stub_log, 1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.services = b;
	cfg.systemctl = "test/stubs/systemctl";
	cfg.rc_service = "test/stubs/rc-service";
	cfg.rc_status = "test/stubs/rc-status";
	return agent_cmd_init(l, &cfg, t_answered, NULL, err, sizeof(err));
}

static void svc_done_cmds(struct agent_cmds *c)
{
	agent_cmd_free(c);
	unlink(stub_log);
	unsetenv("NESTD_STUB_LOG");
}

/* The stand-ins' argv log. */
static const char *stub_calls(char *out, size_t cap)
{
	FILE *f = fopen(stub_log, "r");
	size_t n = 0;

	out[0] = '\0';
	if (f) {
		n = fread(out, 1, cap - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	return out;
}

static void svc_msg(char *out, size_t n, const char *cmd, const char *name)
{
	snprintf(out, n, "{\"status\":\"command\",\"message\":\"%s\","
		 "\"payload\":{\"service_name\":\"%s\"}}", cmd, name);
}

void test_agent_svc_systemd_actions(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_SYSTEMD);
	struct t_reply r;
	struct buf b;
	const char *backend;
	char msg[512], s[2048];

	buf_init(&b, 0);
	agent_cmd_describe(c, &b, &backend);
	CHECK_STR(backend, "systemd");
	buf_free(&b);
	svc_msg(msg, sizeof(msg), "start_service", "nginx");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "service_name", s, sizeof(s)), "nginx.service");
	CHECK_STR(t_str(&r, 0, "action", s, sizeof(s)), "start");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "restart_service", "getty@tty1");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(t_str(&r, 0, "service_name", s, sizeof(s)), "getty@tty1.service");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "reload_service", "backup.timer");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(t_str(&r, 0, "action", s, sizeof(s)), "reload");
	t_reply_free(&r);
	/* the tool's own words come back */
	svc_msg(msg, sizeof(msg), "stop_service", "missing");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(!r.ok);
	CHECK_STR(r.err, "Failed to stop missing.service: Unit missing.service not loaded.");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "start_service", "broken");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "Job for broken.service failed because the control process exited with "
		  "error code.\nSee \"systemctl status broken.service\" and \"journalctl -xeu "
		  "broken.service\" for details.");
	t_reply_free(&r);
	CHECK_STR(stub_calls(s, sizeof(s)),
		  "systemctl --no-ask-password start -- nginx.service\n"
		  "systemctl --no-ask-password restart -- getty@tty1.service\n"
		  "systemctl --no-ask-password reload -- backup.timer\n"
		  "systemctl --no-ask-password stop -- missing.service\n"
		  "systemctl --no-ask-password start -- broken.service\n");
	/* names that could do harm never reach the tool */
	svc_msg(msg, sizeof(msg), "start_service", "x;touch /tmp/nestd-pwned");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(!r.ok);
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "start_service", "--help");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(!r.ok);
	t_reply_free(&r);
	CHECK(strstr(stub_calls(s, sizeof(s)), "pwned") == NULL);
	CHECK(strstr(s, "help") == NULL);
	CHECK(access("/tmp/nestd-pwned", F_OK) < 0);
	svc_done_cmds(c);
	loop_free(l);
}

/* The original's shapes: actions queued (--no-block, as its D-Bus call
 * returned once the job was queued), bare names, 0 and "Unable to
 * calculate :(" for what an inactive unit has not, errors in message too. */
void test_agent_svc_systemd_original(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_SYSTEMD_USER);
	struct t_reply r;
	char msg[512], s[2048];
	int i;

	svc_msg(msg, sizeof(msg), "restart_service", "web");
	CHECK(t_run_as(l, c, msg, &r, 5000, 1));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "result", s, sizeof(s)), "queued");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "stop_service", "missing");
	CHECK(t_run_as(l, c, msg, &r, 5000, 1));
	CHECK(!r.ok);
	CHECK_STR(r.err, "Failed to stop missing.service: Unit missing.service not loaded.");
	CHECK_STR(r.msg, r.err);
	t_reply_free(&r);
	/* nestd's shape waits for the job: no --no-block, "done" */
	svc_msg(msg, sizeof(msg), "start_service", "web");
	CHECK(t_run_as(l, c, msg, &r, 5000, 0));
	CHECK_STR(t_str(&r, 0, "result", s, sizeof(s)), "done");
	CHECK_STR(r.msg, "response_start_service");
	t_reply_free(&r);
	CHECK_STR(stub_calls(s, sizeof(s)),
		  "systemctl --user --no-ask-password --no-block restart -- web.service\n"
		  "systemctl --user --no-ask-password --no-block stop -- missing.service\n"
		  "systemctl --user --no-ask-password start -- web.service\n");
	CHECK(t_run_as(l, c, "{\"status\":\"command\",\"message\":\"list_services\"}", &r,
		       5000, 1));
	CHECK(r.ok && json_type(&r.j, 0) == JSON_ARRAY && json_count(&r.j, 0) == 7);
	for (i = 0; i < json_count(&r.j, 0); i++)
		CHECK(json_type(&r.j, json_elem(&r.j, 0, i)) == JSON_STRING);
	CHECK(json_str_eq(&r.j, json_elem(&r.j, 0, 4), "ssh.service"));
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "obtain_service_info", "missing");
	CHECK(t_run_as(l, c, msg, &r, 5000, 1));
	CHECK(!r.ok && !strcmp(r.msg, "no such service: missing.service"));
	t_reply_free(&r);
	svc_done_cmds(c);
	loop_free(l);
}

/* OpenRC has no --no-block: in the original's shape an action still
 * running when its answer is due is answered "queued" and its tool left to
 * finish; one done by then answers for itself. */
void test_agent_svc_openrc_original(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_OPENRC);
	struct t_reply r;
	char msg[512], s[2048];
	int64_t until;

	svc_msg(msg, sizeof(msg), "stop_service", "missing");
	CHECK(t_run_as(l, c, msg, &r, 5000, 1));
	CHECK(!r.ok && !strcmp(r.msg, "* rc-service: service `missing' does not exist"));
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "start_service", "nginx");
	CHECK(t_run_as(l, c, msg, &r, 5000, 1));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "result", s, sizeof(s)), "done");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "obtain_service_info", "acpid");
	CHECK(t_run_as(l, c, msg, &r, 5000, 1));
	CHECK(r.ok && t_int(&r, 0, "pid") == 0);
	CHECK_STR(t_str(&r, 0, "uptime", s, sizeof(s)), "Unable to calculate :(");
	t_reply_free(&r);
	/* a script that takes a minute: answered long before it is done */
	setenv("NESTD_STUB_BLOCK", "60", 1);
	svc_msg(msg, sizeof(msg), "restart_service", "nginx");
	CHECK(t_run_as(l, c, msg, &r, 30000, 1));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "result", s, sizeof(s)), "queued");
	t_reply_free(&r);
	unsetenv("NESTD_STUB_BLOCK");
	/* the tool goes on, owned by the command set: stopped and reaped at
	 * its end like every child */
	CHECK(t_children(0) == 1);
	svc_done_cmds(c);
	until = loop_now() + 10000;
	while (t_children(0) && loop_now() < until)
		usleep(20000);
	CHECK(t_children(0) == 0);
	loop_free(l);
}

void test_agent_svc_systemd_user_list(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_SYSTEMD_USER);
	struct t_reply r;
	char s[2048];
	int e, old;

	/* systemd 252's JSON, then the table an older systemctl prints */
	for (old = 0; old < 2; old++) {
		if (old)
			setenv("NESTD_STUB_SYSTEMD_OLD", "1", 1);
		CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"list_services\"}", &r, 5000));
		CHECK(r.ok && r.parsed);
		CHECK(json_count(&r.j, 0) == 7);
		e = json_elem(&r.j, 0, 3);
		CHECK_STR(t_str(&r, e, "name", s, sizeof(s)), "nginx.service");
		CHECK_STR(t_str(&r, e, "load_state", s, sizeof(s)), "loaded");
		CHECK_STR(t_str(&r, e, "active_state", s, sizeof(s)), "failed");
		CHECK_STR(t_str(&r, e, "sub_state", s, sizeof(s)), "failed");
		CHECK_STR(t_str(&r, e, "description", s, sizeof(s)),
			  "A high performance web server and a reverse proxy server");
		e = json_elem(&r.j, 0, 4);     /* its start job runs */
		CHECK_STR(t_str(&r, e, "name", s, sizeof(s)), "ssh.service");
		CHECK_STR(t_str(&r, e, "active_state", s, sizeof(s)), "activating");
		CHECK_STR(t_str(&r, e, "description", s, sizeof(s)), "OpenBSD Secure Shell server");
		e = json_elem(&r.j, 0, 5);     /* its job waits; the JOB column is not its text */
		CHECK_STR(t_str(&r, e, "description", s, sizeof(s)), "start Backup after ssh");
		e = json_elem(&r.j, 0, 6);
		CHECK_STR(t_str(&r, e, "load_state", s, sizeof(s)), "not-found");
		t_reply_free(&r);
	}
	unsetenv("NESTD_STUB_SYSTEMD_OLD");
	CHECK_STR(stub_calls(s, sizeof(s)), "systemctl --user list-units --type=service --all "
		  "--no-pager --plain -o json\nsystemctl --user list-units --type=service --all "
		  "--no-pager --plain -o json\n");
	svc_done_cmds(c);
	loop_free(l);
}

void test_agent_svc_systemd_info(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_SYSTEMD);
	struct t_reply r;
	char msg[512], s[2048];

	svc_msg(msg, sizeof(msg), "obtain_service_info", "nginx");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok && r.parsed);
	CHECK_STR(t_str(&r, 0, "name", s, sizeof(s)), "nginx.service");
	CHECK_STR(t_str(&r, 0, "description", s, sizeof(s)), "A high performance web server");
	CHECK_STR(t_str(&r, 0, "active_state", s, sizeof(s)), "active");
	CHECK_STR(t_str(&r, 0, "sub_state", s, sizeof(s)), "running");
	CHECK_STR(t_str(&r, 0, "file_location", s, sizeof(s)),
		  "/lib/systemd/system/nginx.service");
	CHECK(t_int(&r, 0, "pid") == 1234);
	CHECK(t_int(&r, 0, "started") > 0);
	CHECK(!strncmp(t_str(&r, 0, "uptime", s, sizeof(s)), "Tue 2026-11-24 19:03:11 UTC; ", 29));
	CHECK(strstr(s, " ago") != NULL);
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "obtain_service_info", "missing");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "no such service: missing.service");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "obtain_service_info", "worker@");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "Failed to get properties: Unit name worker@.service is neither a valid "
		  "invocation ID nor unit name.");
	t_reply_free(&r);
	CHECK(strstr(stub_calls(s, sizeof(s)), "systemctl show --no-pager -p Id,Description,"
		     "LoadState,ActiveState,SubState,FragmentPath,MainPID,ActiveEnterTimestamp,"
		     "ActiveEnterTimestampMonotonic -- nginx.service\n") == s);
	svc_done_cmds(c);
	loop_free(l);
}

void test_agent_svc_openrc(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_OPENRC);
	struct t_reply r;
	char msg[512], s[2048];
	int e;

	svc_msg(msg, sizeof(msg), "start_service", "nginx");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "service_name", s, sizeof(s)), "nginx");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "reload_service", "nginx");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "* nginx: cannot `reload' as it has not been started");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "start_service", "broken");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "* broken: configuration is broken\n * ERROR: broken failed to start");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "obtain_service_info", "sshd");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "active_state", s, sizeof(s)), "active");
	CHECK_STR(t_str(&r, 0, "file_location", s, sizeof(s)), "/etc/init.d/sshd");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "obtain_service_info", "acpid");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(r.ok);
	CHECK_STR(t_str(&r, 0, "active_state", s, sizeof(s)), "inactive");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "obtain_service_info", "missing");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "no such service: missing");
	t_reply_free(&r);
	svc_msg(msg, sizeof(msg), "stop_service", "missing");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "* rc-service: service `missing' does not exist");
	t_reply_free(&r);
	CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"list_services\"}", &r, 5000));
	CHECK(r.ok && json_count(&r.j, 0) == 4);
	e = json_elem(&r.j, 0, 2);
	CHECK_STR(t_str(&r, e, "name", s, sizeof(s)), "sshd");
	CHECK_STR(t_str(&r, e, "active_state", s, sizeof(s)), "active");
	e = json_elem(&r.j, 0, 3);
	CHECK_STR(t_str(&r, e, "active_state", s, sizeof(s)), "failed");
	t_reply_free(&r);
	CHECK_STR(stub_calls(s, sizeof(s)),
		  "rc-service nginx start\nrc-service nginx reload\nrc-service broken start\n"
		  "rc-service sshd status\n"
		  "rc-service acpid status\nrc-service missing status\nrc-service missing stop\n"
		  "rc-status --servicelist\n");
	svc_done_cmds(c);
	loop_free(l);
}

void test_agent_svc_none_and_missing_tool(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_NONE);
	struct agent_cfg cfg;
	struct t_reply r;
	char msg[512], err[256];

	svc_msg(msg, sizeof(msg), "obtain_service_info", "nginx");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "no service manager on this machine (--services none)");
	t_reply_free(&r);
	svc_done_cmds(c);
	/* a systemctl that is not there: a clear error, not a hang */
	memset(&cfg, 0, sizeof(cfg));
	cfg.services = SVC_SYSTEMD;
	cfg.systemctl = "/nonexistent/systemctl";
	c = agent_cmd_init(l, &cfg, t_answered, NULL, err, sizeof(err));
	svc_msg(msg, sizeof(msg), "start_service", "nginx");
	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK_STR(r.err, "cannot run /nonexistent/systemctl: No such file or directory");
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_svc_names(void)
{
	struct svc s = { .backend = SVC_SYSTEMD, .systemctl = "systemctl" };
	char unit[SVC_UNIT_MAX], err[256], big[300];

	CHECK(svc_name_check("nginx", 5, err, sizeof(err)) == 0);
	CHECK(svc_name_check("a:b_c.d@e-f\\x20", 15, err, sizeof(err)) == 0);
	CHECK(svc_name_check("-x", 2, err, sizeof(err)) < 0);
	CHECK(svc_name_check("a b", 3, err, sizeof(err)) < 0);
	CHECK(svc_name_check("a/b", 3, err, sizeof(err)) < 0);
	CHECK(svc_name_check("a\nb", 3, err, sizeof(err)) < 0);
	CHECK(svc_name_check("", 0, err, sizeof(err)) < 0);
	memset(big, 'a', sizeof(big));
	big[256] = '\0';
	CHECK(svc_name_check(big, 256, err, sizeof(err)) == 0);
	big[256] = 'a';
	big[257] = '\0';
	CHECK(svc_name_check(big, 257, err, sizeof(err)) < 0);
	svc_unit(&s, "nginx", unit, sizeof(unit));
	CHECK_STR(unit, "nginx.service");
	svc_unit(&s, "nginx.service", unit, sizeof(unit));
	CHECK_STR(unit, "nginx.service");
	svc_unit(&s, "backup.timer", unit, sizeof(unit));
	CHECK_STR(unit, "backup.timer");
	svc_unit(&s, "foo.bar", unit, sizeof(unit));
	CHECK_STR(unit, "foo.bar.service");
	s.backend = SVC_OPENRC;
	svc_unit(&s, "nginx", unit, sizeof(unit));
	CHECK_STR(unit, "nginx");
}

void test_agent_svc_parsers(void)
{
	static const char show[] =
		"Id=cron.service\nDescription=Regular background program processing daemon\n"
		"LoadState=loaded\nActiveState=active\nSubState=running\n"
		"FragmentPath=/lib/systemd/system/cron.service\nMainPID=512\n"
		"ActiveEnterTimestamp=Tue 2026-11-24 19:03:11 UTC\n"
		"ActiveEnterTimestampMonotonic=5000000\n";
	static const char inactive[] =
		"Id=ssh.service\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n"
		"MainPID=0\nActiveEnterTimestamp=Tue 2026-11-24 19:03:11 UTC\n"
		"ActiveEnterTimestampMonotonic=5000000\n";
	char ago[64], err[256];
	struct buf b;
	struct jw w;

	svc_format_ago(ago, sizeof(ago), 0);
	CHECK_STR(ago, "now");
	svc_format_ago(ago, sizeof(ago), 42LL * 1000000);
	CHECK_STR(ago, "42s ago");
	svc_format_ago(ago, sizeof(ago), 150LL * 1000000);
	CHECK_STR(ago, "2min 30s ago");
	svc_format_ago(ago, sizeof(ago), 7200LL * 1000000);
	CHECK_STR(ago, "2h 0min ago");
	svc_format_ago(ago, sizeof(ago), 8LL * 3600 * 1000000);
	CHECK_STR(ago, "8h ago");
	svc_format_ago(ago, sizeof(ago), 27LL * 3600 * 1000000);
	CHECK_STR(ago, "1 day 3h ago");
	svc_format_ago(ago, sizeof(ago), 3LL * 86400 * 1000000);
	CHECK_STR(ago, "3 days ago");
	svc_format_ago(ago, sizeof(ago), 9LL * 86400 * 1000000);
	CHECK_STR(ago, "1 week 2 days ago");

	/* now: realtime 1764100000 s, monotonic 7205 s; entered at 5 s */
	buf_init(&b, 0);
	jw_init(&w, &b);
	CHECK(svc_parse_show(show, sizeof(show) - 1, "cron.service", 0, 1764100000LL * 1000000,
			     7205LL * 1000000, &w, err, sizeof(err)) == 0);
	CHECK_STR(b.p, "{\"name\":\"cron.service\",\"description\":\"Regular background "
		  "program processing daemon\",\"load_state\":\"loaded\",\"active_state\":"
		  "\"active\",\"sub_state\":\"running\",\"file_location\":\"/lib/systemd/system/"
		  "cron.service\",\"pid\":512,\"started\":1764092800,\"uptime\":\"Tue 2026-11-24 "
		  "19:03:11 UTC; 2h 0min ago\"}");
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(svc_parse_show(inactive, sizeof(inactive) - 1, "ssh.service", 0, 1764100000LL * 1000000,
			     7205LL * 1000000, &w, err, sizeof(err)) == 0);
	CHECK_STR(b.p, "{\"name\":\"ssh.service\",\"description\":null,\"load_state\":\"loaded\","
		  "\"active_state\":\"inactive\",\"sub_state\":\"dead\",\"file_location\":null,"
		  "\"pid\":null,\"started\":null,\"uptime\":null}");
	/* the original's shape: its modal shows text, its button does int(pid) */
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(svc_parse_show(inactive, sizeof(inactive) - 1, "ssh.service", SVC_ORIGINAL,
			     1764100000LL * 1000000, 7205LL * 1000000, &w, err, sizeof(err)) == 0);
	CHECK_STR(b.p, "{\"name\":\"ssh.service\",\"description\":\"\",\"load_state\":\"loaded\","
		  "\"active_state\":\"inactive\",\"sub_state\":\"dead\",\"file_location\":\"\","
		  "\"pid\":0,\"started\":null,\"uptime\":\"Unable to calculate :(\"}");
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(svc_parse_show(show, sizeof(show) - 1, "cron.service", SVC_ORIGINAL,
			     1764100000LL * 1000000, 7205LL * 1000000, &w, err, sizeof(err)) == 0);
	CHECK(strstr(b.p, "\"pid\":512,") && strstr(b.p, "\"uptime\":\"Tue 2026-11-24 19:03:11 UTC; "
						      "2h 0min ago\""));
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(svc_parse_units("", 0, &w) == 0);
	CHECK_STR(b.p, "[]");
	buf_free(&b);
}

/* Service tools are bounded too: a flood of commands does not become a
 * flood of systemctl processes. */
void test_agent_svc_busy(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = svc_cmds(l, SVC_SYSTEMD);
	struct t_reply r[10];
	char msg[512];
	int i, ok = 0, busy = 0, answered = 1;

	svc_msg(msg, sizeof(msg), "restart_service", "slow");
	for (i = 0; i < 10; i++)
		t_start(c, msg, &r[i]);
	/* Every one answered (the refusals at once, the rest when their tool
	 * ends): one check, however many were already answered. */
	for (i = 0; i < 10; i++) {
		if (!r[i].called)
			answered = t_wait(l, &r[i], 5000) && answered;
		ok += r[i].ok;
		busy += !r[i].ok && !strcmp(r[i].err, "busy: 8 service commands already running");
		t_reply_free(&r[i]);
	}
	CHECK(answered);
	CHECK(ok == 8 && busy == 2);
	svc_done_cmds(c);
	loop_free(l);
}

/* Real output of systemd 252 (Debian 12, booted in systemd-nspawn by
 * test/systemd/it_systemd.py) while nt-hang.service's start job ran and
 * nt-after.service's waited behind it: excerpts, lines as captured. */
static const char units_json_252[] =
	"[{\"unit\":\"auditd.service\",\"load\":\"not-found\",\"active\":\"inactive\",\"sub\":\"dead\","
	"\"job\":\"\",\"description\":\"auditd.service\"},{\"unit\":\"console-getty.service\","
	"\"load\":\"loaded\",\"active\":\"active\",\"sub\":\"running\",\"job\":\"\",\"description\":"
	"\"Console Getty\"},{\"unit\":\"getty@tty1.service\",\"load\":\"loaded\",\"active\":\"inactive\","
	"\"sub\":\"dead\",\"job\":\"\",\"description\":\"Getty on tty1\"},{\"unit\":\"nt-after.service\","
	"\"load\":\"loaded\",\"active\":\"inactive\",\"sub\":\"dead\",\"job\":\"start\",\"description\":"
	"\"start Waits For nt-hang\"},{\"unit\":\"nt-hang.service\",\"load\":\"loaded\",\"active\":"
	"\"activating\",\"sub\":\"start\",\"job\":\"start\",\"description\":\"nestd test: start job "
	"runs 60 s\"}]\n";

/* `list-units --type=service --all --no-pager --plain` (the table older
 * systemctl print for -o json), same moment. */
static const char units_table_252[] =
	"UNIT                                 LOAD      ACTIVE     SUB     JOB   DESCRIPTION\n"
	"auditd.service                       not-found inactive   dead          auditd.service\n"
	"console-getty.service                loaded    active     running       Console Getty\n"
	"getty@tty1.service                   loaded    inactive   dead          Getty on tty1\n"
	"nt-after.service                     loaded    inactive   dead    start start Waits For nt-hang\n"
	"nt-hang.service                      loaded    activating start   start nestd test: start job runs 60 s\n"
	"\n"
	"LOAD   = Reflects whether the unit definition was properly loaded.\n"
	"ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n"
	"SUB    = The low-level unit activation state, values depend on unit type.\n"
	"JOB    = Pending job for the unit.\n"
	"\n"
	"67 loaded units listed.\n"
	"To show all installed unit files use 'systemctl list-unit-files'.\n";

static const char units_want[] =
	"[{\"name\":\"auditd.service\",\"load_state\":\"not-found\",\"active_state\":\"inactive\","
	"\"sub_state\":\"dead\",\"description\":\"auditd.service\"},"
	"{\"name\":\"console-getty.service\",\"load_state\":\"loaded\",\"active_state\":\"active\","
	"\"sub_state\":\"running\",\"description\":\"Console Getty\"},"
	"{\"name\":\"getty@tty1.service\",\"load_state\":\"loaded\",\"active_state\":\"inactive\","
	"\"sub_state\":\"dead\",\"description\":\"Getty on tty1\"},"
	"{\"name\":\"nt-after.service\",\"load_state\":\"loaded\",\"active_state\":\"inactive\","
	"\"sub_state\":\"dead\",\"description\":\"start Waits For nt-hang\"},"
	"{\"name\":\"nt-hang.service\",\"load_state\":\"loaded\",\"active_state\":\"activating\","
	"\"sub_state\":\"start\",\"description\":\"nestd test: start job runs 60 s\"}]";

static const char *units(const char *text, struct buf *b)
{
	struct jw w;

	buf_reset(b);
	jw_init(&w, b);
	if (svc_parse_units(text, strlen(text), &w) < 0)
		return "(error)";
	return b->p ? b->p : "";
}

void test_agent_svc_units_json(void)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK_STR(units(units_json_252, &b), units_want);
	/* the user manager with no service loaded; no "job" key without jobs */
	CHECK_STR(units("[]\n", &b), "[]");
	CHECK_STR(units("[{\"unit\":\"a.service\",\"load\":\"loaded\",\"active\":\"active\","
			"\"sub\":\"running\",\"description\":\"caf\\u00e9 \\\"q\\\"\"}]", &b),
		  "[{\"name\":\"a.service\",\"load_state\":\"loaded\",\"active_state\":\"active\","
		  "\"sub_state\":\"running\",\"description\":\"caf\\u00e9 \\\"q\\\"\"}]");
	/* odd members: skipped or empty, never a crash */
	CHECK_STR(units("[1,{\"load\":\"x\"},{\"unit\":\"b.service\",\"sub\":7}]", &b),
		  "[{\"name\":\"b.service\",\"load_state\":\"\",\"active_state\":\"\","
		  "\"sub_state\":\"\",\"description\":\"\"}]");
	CHECK_STR(units("[{\"unit\":", &b), "(error)");
	buf_free(&b);
}

void test_agent_svc_units_table(void)
{
	/* without --plain, as captured: a bullet marks the not-found unit */
	static const char bullets[] =
		"  UNIT                                 LOAD      ACTIVE     SUB     JOB   DESCRIPTION\n"
		"  apt-daily-upgrade.service            loaded    inactive   dead          Daily apt upgrade and clean activities\n"
		"\xe2\x97\x8f auditd.service                       not-found inactive   dead          auditd.service\n"
		"  dbus.service                         loaded    activating start   start D-Bus System Message Bus\n";
	/* no unit at all (`systemctl --failed` on a healthy machine) */
	static const char none[] = "  UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.\n";
	/* --no-legend without jobs: the words still do */
	static const char words[] =
		"auditd.service                       not-found inactive dead    auditd.service\n"
		"console-getty.service                loaded    active   running Console Getty\n";
	struct buf b;

	buf_init(&b, 0);
	CHECK_STR(units(units_table_252, &b), units_want);
	CHECK_STR(units(bullets, &b),
		  "[{\"name\":\"apt-daily-upgrade.service\",\"load_state\":\"loaded\",\"active_state\":"
		  "\"inactive\",\"sub_state\":\"dead\",\"description\":\"Daily apt upgrade and clean "
		  "activities\"},{\"name\":\"auditd.service\",\"load_state\":\"not-found\",\"active_state\":"
		  "\"inactive\",\"sub_state\":\"dead\",\"description\":\"auditd.service\"},{\"name\":"
		  "\"dbus.service\",\"load_state\":\"loaded\",\"active_state\":\"activating\",\"sub_state\":"
		  "\"start\",\"description\":\"D-Bus System Message Bus\"}]");
	CHECK_STR(units(none, &b), "[]");
	CHECK_STR(units(words, &b),
		  "[{\"name\":\"auditd.service\",\"load_state\":\"not-found\",\"active_state\":\"inactive\","
		  "\"sub_state\":\"dead\",\"description\":\"auditd.service\"},"
		  "{\"name\":\"console-getty.service\",\"load_state\":\"loaded\",\"active_state\":\"active\","
		  "\"sub_state\":\"running\",\"description\":\"Console Getty\"}]");
	/* short and ragged rows: cut where the line ends */
	CHECK_STR(units("UNIT      LOAD   ACTIVE SUB  DESCRIPTION\nx.service loaded\ny\n", &b),
		  "[{\"name\":\"x.service\",\"load_state\":\"loaded\",\"active_state\":\"\","
		  "\"sub_state\":\"\",\"description\":\"\"}]");
	/* columns out of order (fuzz_svc found a header that cut cells
	 * backwards): not a header, so the rows are read as words */
	CHECK_STR(units("UNIT      ACTIVE LOAD   SUB     DESCRIPTION\n"
			"x.service active loaded running Desc\n", &b),
		  "[{\"name\":\"x.service\",\"load_state\":\"active\",\"active_state\":\"loaded\","
		  "\"sub_state\":\"running\",\"description\":\"Desc\"}]");
	CHECK_STR(units("UNIT  LOAD ACTIVE SUB LOAD JOB DESCRIPTION\nab.service loaded active x y z\n", &b),
		  "[{\"name\":\"ab.service\",\"load_state\":\"loaded\",\"active_state\":\"active\","
		  "\"sub_state\":\"x\",\"description\":\"y z\"}]");
	buf_free(&b);
}

/* OpenRC 0.45's scripts as Debian and install.sh write them. */
void test_agent_svc_rc_description(void)
{
	static const char agent[] =
		"#!/sbin/openrc-run\n# nestd-agent - the nestd agent\n\nname=\"nestd agent\"\n"
		"description=\"nestd agent (Nest Management Bot)\"\nsupervisor=\"supervise-daemon\"\n";
	char d[64];

	CHECK(svc_rc_description(agent, sizeof(agent) - 1, d, sizeof(d)) == 33);
	CHECK_STR(d, "nestd agent (Nest Management Bot)");
	CHECK(svc_rc_description("description='single q'\n", 23, d, sizeof(d)) == 8);
	CHECK_STR(d, "single q");
	CHECK(svc_rc_description("  description=bare # c\n", 23, d, sizeof(d)) == 4);
	CHECK_STR(d, "bare");
	CHECK(svc_rc_description("description=\"a \\\"b\\\"\"", 22, d, sizeof(d)) == 5);
	CHECK_STR(d, "a \"b\"");
	CHECK(svc_rc_description("extra_description=x\ncommand=/bin/sleep\n", 39, d, sizeof(d)) < 0);
	CHECK_STR(d, "");
	CHECK(svc_rc_description("description=\"0123456789012345\"", 30, d, 8) == 7);
	CHECK_STR(d, "0123456");
}

void test_agent_svc_rc_list_descriptions(void)
{
	char dir[] = "/tmp/nestd-initd-XXXXXX", p[64];
	/* rc-status --servicelist, OpenRC 0.45, as captured */
	static const char list[] =
		" nt-daemon                                                         [  started  ]\n"
		" nt-fail                                                           [  stopped  ]\n"
		" nt-super                                              [  started 00:00:09 (0) ]\n";
	struct buf b;
	struct jw w;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/nt-super", dir);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("#!/sbin/openrc-run\ndescription='nestd test: supervised'\n", f);
		fclose(f);
	}
	buf_init(&b, 0);
	jw_init(&w, &b);
	CHECK(svc_parse_rc_list(list, sizeof(list) - 1, dir, 0, &w) == 0);
	CHECK_STR(b.p, "[{\"name\":\"nt-daemon\",\"load_state\":\"loaded\",\"active_state\":\"active\","
		  "\"sub_state\":\"running\",\"description\":\"\"},{\"name\":\"nt-fail\",\"load_state\":"
		  "\"loaded\",\"active_state\":\"inactive\",\"sub_state\":\"dead\",\"description\":\"\"},"
		  "{\"name\":\"nt-super\",\"load_state\":\"loaded\",\"active_state\":\"active\","
		  "\"sub_state\":\"running\",\"description\":\"nestd test: supervised\"}]");
	buf_free(&b);
	unlink(p);
	rmdir(dir);
}
