/* test_agent_cmd.c - dispatch, the --allow/--deny policy and payload
 * validation, through agent_cmd_run and a real loop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "agent_sys.h"
#include "agent_t.h"
#include "t.h"

static struct agent_cmds *cmds_new(struct loop *l, const char *allow, const char *deny)
{
	struct agent_cfg cfg;
	char err[256];
	struct agent_cmds *c;

	memset(&cfg, 0, sizeof(cfg));
	cfg.services = SVC_NONE;
	cfg.allow = allow;
	cfg.deny = deny;
	c = agent_cmd_init(l, &cfg, t_answered, NULL, err, sizeof(err));
	if (!c)
		fprintf(stderr, "agent_cmd_init: %s\n", err);
	return c;
}

/* Runs msg and checks it fails with exactly want. */
static void expect_error(struct loop *l, struct agent_cmds *c, const char *msg, const char *want)
{
	struct t_reply r;

	CHECK(t_run(l, c, msg, &r, 5000));
	CHECK(!r.ok);
	CHECK_STR(r.err, want);
	t_reply_free(&r);
}

void test_agent_cmd_policy(void)
{
	struct loop *l = loop_new();
	struct agent_cfg cfg;
	struct agent_cmds *c;
	struct buf b;
	const char *backend = NULL;
	char err[256];

	c = cmds_new(l, "read", NULL);
	CHECK(c != NULL);
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":\"true\"}}",
		     "command not allowed on this agent: exec_command");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"kill_process\","
		     "\"payload\":{\"pid\":12345}}",
		     "command not allowed on this agent: kill_process");
	buf_init(&b, 0);
	agent_cmd_describe(c, &b, &backend);
	CHECK_STR(b.p, "[\"obtain_all_process_info\",\"obtain_process_info\","
		  "\"list_services\",\"obtain_service_info\",\"obtain_system_info\","
		  "\"obtain_user_usages\",\"get_port\"]");
	CHECK_STR(backend, "none");
	buf_free(&b);
	agent_cmd_free(c);

	/* deny wins over allow, groups and names mix, blanks are tolerated */
	c = cmds_new(l, "all", " exec , process");
	CHECK(c != NULL);
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":\"true\"}}",
		     "command not allowed on this agent: exec_command");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"pause_process\","
		     "\"payload\":{\"pid\":12345}}",
		     "command not allowed on this agent: pause_process");
	agent_cmd_free(c);

	c = cmds_new(l, "obtain_system_info,kill_process", "kill_process");
	buf_init(&b, 0);
	agent_cmd_describe(c, &b, NULL);
	CHECK_STR(b.p, "[\"obtain_system_info\"]");
	buf_free(&b);
	agent_cmd_free(c);

	/* default: everything */
	c = cmds_new(l, NULL, NULL);
	buf_init(&b, 0);
	agent_cmd_describe(c, &b, NULL);
	CHECK(strstr(b.p, "exec_command") && strstr(b.p, "reload_service") &&
	      strstr(b.p, "resume_process"));
	buf_free(&b);
	agent_cmd_free(c);

	memset(&cfg, 0, sizeof(cfg));
	cfg.services = SVC_NONE;
	cfg.allow = "read,exce";
	CHECK(agent_cmd_init(l, &cfg, t_answered, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "--allow") && strstr(err, "'exce'"));
	cfg.allow = NULL;
	cfg.deny = "kill";
	CHECK(agent_cmd_init(l, &cfg, t_answered, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "--deny") && strstr(err, "'kill'"));
	loop_free(l);
}

void test_agent_cmd_unknown(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, NULL, NULL);

	expect_error(l, c, "{\"status\":\"command\",\"message\":\"download_raid_shadow_legends\"}",
		     "unknown command: download_raid_shadow_legends");
	expect_error(l, c, "{\"status\":\"command\"}", "command without a message");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"obtain_system_info_and_then_some_"
		     "more_text_that_is_longer_than_any_command_we_know\"}",
		     "unknown command: obtain_system_info_and_then_some_more_text_that_is_longer_than_a");
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_cmd_payload_pid(void)
{
	static const char *const bad[] = {
		"{\"pid\":\"12\"}", "{\"pid\":1.5}", "{\"pid\":-3}", "{\"pid\":0}",
		"{\"pid\":99999999999}", "{\"pid\":1e3}", "{\"pid\":null}", "{\"pid\":true}",
		"{\"pid\":[1]}", "{}", "[1]", "\"pid\"", NULL
	};
	static const char *const cmds[] = {
		"obtain_process_info", "kill_process", "pause_process", "resume_process", NULL
	};
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, NULL, NULL);
	char msg[256];
	int i, k;

	for (k = 0; cmds[k]; k++) {
		for (i = 0; bad[i]; i++) {
			snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"%s\","
				 "\"payload\":%s}", cmds[k], bad[i]);
			expect_error(l, c, msg, "payload.pid must be a positive integer");
		}
		snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"%s\"}", cmds[k]);
		expect_error(l, c, msg, "payload.pid must be a positive integer");
	}
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"kill_process\","
		     "\"payload\":{\"pid\":12345,\"method\":\"SIGFOO\"}}",
		     "payload.method must be a signal name (SIGTERM, SIGKILL, ...) or number");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"kill_process\","
		     "\"payload\":{\"pid\":12345,\"method\":[9]}}",
		     "payload.method must be a signal name (SIGTERM, SIGKILL, ...) or number");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"kill_process\","
		     "\"payload\":{\"pid\":12345,\"method\":0}}",
		     "payload.method must be a signal name (SIGTERM, SIGKILL, ...) or number");
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_cmd_payload_service(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, NULL, NULL);
	char msg[1024], name[300];

	expect_error(l, c, "{\"status\":\"command\",\"message\":\"start_service\"}",
		     "payload.service_name must be a string");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"stop_service\","
		     "\"payload\":{\"service_name\":7}}", "payload.service_name must be a string");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"stop_service\","
		     "\"payload\":{\"service_name\":\"-H evil\"}}",
		     "invalid service name: must not start with '-'");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"restart_service\","
		     "\"payload\":{\"service_name\":\"a;reboot\"}}",
		     "invalid service name: only letters, digits and :_.@-\\ are allowed");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"reload_service\","
		     "\"payload\":{\"service_name\":\"$(reboot)\"}}",
		     "invalid service name: only letters, digits and :_.@-\\ are allowed");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"obtain_service_info\","
		     "\"payload\":{\"service_name\":\"two words\"}}",
		     "invalid service name: only letters, digits and :_.@-\\ are allowed");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"start_service\","
		     "\"payload\":{\"service_name\":\"\"}}",
		     "invalid service name: must be 1 to 256 bytes");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"start_service\","
		     "\"payload\":{\"service_name\":\"a\\u0000b\"}}",
		     "invalid service name: must be 1 to 256 bytes");
	memset(name, 'a', 257);
	name[257] = '\0';
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"start_service\","
		 "\"payload\":{\"service_name\":\"%s\"}}", name);
	expect_error(l, c, msg, "invalid service name: must be 1 to 256 bytes");
	/* 256 bytes is a fine name; the none backend then says so */
	name[256] = '\0';
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"start_service\","
		 "\"payload\":{\"service_name\":\"%s\"}}", name);
	expect_error(l, c, msg, "no service manager on this machine (--services none)");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"list_services\"}",
		     "no service manager on this machine (--services none)");
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_cmd_payload_command(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, NULL, NULL);
	struct buf msg;
	size_t i;

	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\"}",
		     "payload.command must be a string");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":[\"ls\"]}}", "payload.command must be a string");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":\"\"}}", "payload.command must not be empty");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":\"ls\\u0000rm\"}}",
		     "payload.command must not contain NUL characters");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":\"true\",\"timeout\":\"5\"}}",
		     "payload.timeout must be a positive number of seconds");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":\"true\",\"timeout\":-1}}",
		     "payload.timeout must be a positive number of seconds");
	expect_error(l, c, "{\"status\":\"command\",\"message\":\"exec_command\","
		     "\"payload\":{\"command\":\"true\",\"timeout\":0}}",
		     "payload.timeout must be a positive number of seconds");
	buf_init(&msg, 0);
	buf_puts(&msg, "{\"status\":\"command\",\"message\":\"exec_command\","
		 "\"payload\":{\"command\":\"");
	for (i = 0; i < 100 * 1024; i++)
		buf_putc(&msg, 'x');
	buf_puts(&msg, "\"}}");
	expect_error(l, c, msg.p, "payload.command must be at most 65536 bytes");
	buf_free(&msg);
	CHECK(t_children(0) == 0);
	agent_cmd_free(c);
	loop_free(l);
}

void test_agent_cmd_system_info(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, NULL, NULL);
	struct t_reply r;
	char s[256];
	int t;

	CHECK(t_run(l, c, "{\"status\":\"command\",\"message\":\"obtain_system_info\"}", &r, 5000));
	CHECK(r.ok && r.parsed);
	CHECK(strlen(t_str(&r, 0, "hostname", s, sizeof(s))) > 0);
	CHECK(strlen(t_str(&r, 0, "kernel", s, sizeof(s))) > 0);
	CHECK(json_type(&r.j, t_get(&r, "uptime")) == JSON_NUMBER);
	t = t_get(&r, "load");
	CHECK(json_type(&r.j, t) == JSON_ARRAY && json_count(&r.j, t) == 3);
	t = t_get(&r, "cpu");
	CHECK(t_int(&r, t, "cores") == sysconf(_SC_NPROCESSORS_ONLN));
	t = t_get(&r, "memory");
	CHECK(t_int(&r, t, "total") > 0 && t_int(&r, t, "used") > 0 &&
	      t_int(&r, t, "available") > 0);
	CHECK(t_int(&r, t, "total") == t_int(&r, t, "used") + t_int(&r, t, "available"));
	t = t_get(&r, "swap");
	CHECK(t_int(&r, t, "total") >= 0 && t_int(&r, t, "used") >= 0);
	t = t_get(&r, "disk");
	CHECK_STR(t_str(&r, t, "path", s, sizeof(s)), "/");
	CHECK(t_int(&r, t, "total") > 0 && t_int(&r, t, "used") > 0);
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

/* Runs msg as a record whose id the agent set; the record as answered. */
static void run_with_id(struct loop *l, struct agent_cmds *c, const char *msg, const char *id,
			struct t_reply *r)
{
	struct nest_msg m;
	char err[128];

	memset(r, 0, sizeof(*r));
	r->cmd.id = id ? strdup(id) : NULL;
	CHECK(proto_parse(&m, msg, strlen(msg), err, sizeof(err)) == 0);
	agent_cmd_run(c, &r->cmd, &m);
	proto_free(&m);
	CHECK(t_wait(l, r, 5000));
}

/* One record from arrival to reply: the name read once, the kind, the
 * whole reply message built in it (id and all), the message let go. */
void test_agent_cmd_record(void)
{
	struct loop *l = loop_new();
	struct agent_cmds *c = cmds_new(l, NULL, NULL);
	struct t_reply r;
	char msg[256];

	run_with_id(l, c, "{\"status\":\"command\",\"message\":\"kill_process\",\"id\":\"x\","
		    "\"payload\":{\"pid\":1}}", "a\\\"1", &r);
	CHECK(r.called == 1 && r.cmd.answered && r.cmd.msg == NULL);
	CHECK(r.cmd.kind == CMD_KILL);
	CHECK_STR(r.cmd.name, "kill_process");
	CHECK_STR(r.cmd.reply.p, "{\"status\":\"command_response_error\",\"message\":"
		  "\"response_kill_process\",\"id\":\"a\\\"1\","
		  "\"payload\":{\"error\":\"refusing to signal pid 1 (init)\"}}");
	t_reply_free(&r);

	/* a success reply carries the id the same way */
	run_with_id(l, c, "{\"status\":\"command\",\"message\":\"obtain_system_info\"}", "7", &r);
	CHECK(r.ok && r.cmd.kind == CMD_SYS_INFO);
	{
		static const char head[] = "{\"status\":\"command_response\",\"message\":"
			"\"response_obtain_system_info\",\"id\":\"7\",\"payload\":{\"hostname\":";

		CHECK(!strncmp(r.cmd.reply.p, head, sizeof(head) - 1));
	}
	t_reply_free(&r);

	/* no usable name: answered as "unknown", in order, with the reason */
	run_with_id(l, c, "{\"status\":\"command\"}", NULL, &r);
	CHECK(r.cmd.kind == CMD_NONE);
	CHECK_STR(r.cmd.reply.p, "{\"status\":\"command_response_error\",\"message\":"
		  "\"response_unknown\",\"payload\":{\"error\":\"command without a message\"}}");
	t_reply_free(&r);
	run_with_id(l, c, "{\"status\":\"command\",\"message\":\"\"}", NULL, &r);
	CHECK_STR(r.cmd.name, "unknown");
	CHECK_STR(r.err, "unknown command: ");
	t_reply_free(&r);
	run_with_id(l, c, "{\"status\":\"command\",\"message\":\"a\\u0000b\"}", NULL, &r);
	CHECK_STR(r.cmd.name, "unknown");
	CHECK_STR(r.err, "unknown command: a\\u0000b");
	t_reply_free(&r);
	/* 63 bytes is still a name (the reply says it), 64 is not */
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"%063d\"}", 0);
	run_with_id(l, c, msg, NULL, &r);
	CHECK(strlen(r.cmd.name) == 63 && r.cmd.kind == CMD_NONE);
	t_reply_free(&r);
	snprintf(msg, sizeof(msg), "{\"status\":\"command\",\"message\":\"%064d\"}", 0);
	run_with_id(l, c, msg, NULL, &r);
	CHECK_STR(r.cmd.name, "unknown");
	t_reply_free(&r);

	/* a command with a child: the record holds it while it runs */
	t_start(c, "{\"status\":\"command\",\"message\":\"exec_command\","
		"\"payload\":{\"command\":\"echo hi\"}}", &r);
	CHECK(!r.called && r.cmd.child != NULL && r.cmd.msg == NULL);
	CHECK(t_wait(l, &r, 5000));
	CHECK(r.ok && r.cmd.child == NULL && r.cmd.kind == CMD_EXEC);
	t_reply_free(&r);
	agent_cmd_free(c);
	loop_free(l);
}

void test_sys_cpu_list(void)
{
	CHECK(sys_cpu_list_count("0\n") == 1);
	CHECK(sys_cpu_list_count("0-1\n") == 2);
	CHECK(sys_cpu_list_count("0-3,6,8-11") == 9);
	CHECK(sys_cpu_list_count("0,2,4-5\n") == 4);
	CHECK(sys_cpu_list_count("") == 0);
	CHECK(sys_cpu_list_count("\n") == 0);
	CHECK(sys_cpu_list_count("3-1") == 0);
	CHECK(sys_cpu_list_count("0-") == 0);
	CHECK(sys_cpu_list_count("0-3,") == 0);
	CHECK(sys_cpu_list_count("0-3x") == 0);
	CHECK(sys_cpu_list_count("99999999") == 0);
	CHECK(sys_cpu_list_count("0-99999999") == 0);
}
