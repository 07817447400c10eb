/* test_server_authz.c - server_authz.h's contract: which command is which
 * kind (every command the agent answers is classified; unknown names need
 * exec), globs, owner matches, and the reasons of refusals. */
#include <stdio.h>
#include <string.h>

#include "../server_authz.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static struct token_scope scope(const char *text)
{
	struct token_scope s;
	char err[200];

	if (token_scope_parse(text, strlen(text), &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "  scope '%s': %s\n", text, err);
		s.can = 0;   /* allows nothing: a broken test fails */
		strcpy(s.agents, "\x01");
	}
	return s;
}

void test_server_authz_kinds(void)
{
	/* docs/PROTOCOL.md's commands, all of them classified. */
	static const char *read[] = { "obtain_all_process_info", "obtain_process_info", "list_services",
				      "obtain_service_info", "obtain_system_info", "obtain_user_usages",
				      "get_port" };
	static const char *control[] = { "kill_process", "pause_process", "resume_process",
					 "start_service", "stop_service", "restart_service",
					 "reload_service" };
	size_t i;

	for (i = 0; i < sizeof(read) / sizeof(read[0]); i++)
		CHECK(authz_command_kind(read[i]) == TOKEN_CAN_READ && authz_command_known(read[i]));
	for (i = 0; i < sizeof(control) / sizeof(control[0]); i++)
		CHECK(authz_command_kind(control[i]) == TOKEN_CAN_CONTROL && authz_command_known(control[i]));
	CHECK(authz_command_kind("exec_command") == TOKEN_CAN_EXEC && authz_command_known("exec_command"));
	/* Unknown names need the most powerful kind. */
	CHECK(authz_command_kind("obtain_everything") == TOKEN_CAN_EXEC);
	CHECK(!authz_command_known("obtain_everything"));
	CHECK(authz_command_kind("") == TOKEN_CAN_EXEC);
	CHECK(authz_command_kind("KILL_PROCESS") == TOKEN_CAN_EXEC);
	CHECK(authz_command_kind("kill_process_") == TOKEN_CAN_EXEC);
}

void test_server_authz_glob(void)
{
	static const struct { const char *pat, *name; int want; } g[] = {
		{ "*", "anything", 1 }, { "*", "", 1 }, { "web*", "web", 1 }, { "web*", "web01", 1 },
		{ "web*", "aweb", 0 }, { "*web", "myweb", 1 }, { "*web", "webs", 0 },
		{ "w?b", "web", 1 }, { "w?b", "wb", 0 }, { "w?b", "weeb", 0 },
		{ "a*b*c", "abc", 1 }, { "a*b*c", "axxbyyc", 1 }, { "a*b*c", "axxbyy", 0 },
		{ "*.example", "x.example", 1 }, { "db-*-01", "db-eu-01", 1 }, { "db-*-01", "db-eu-02", 0 },
		{ "web", "web", 1 }, { "web", "Web", 0 }, { "web", "web1", 0 }, { "**", "x", 1 },
		{ "*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		int got = authz_glob(g[i].pat, strlen(g[i].pat), g[i].name);

		if (got != g[i].want)
			fprintf(stderr, "  glob '%s' '%s': %d\n", g[i].pat, g[i].name, got);
		CHECK(got == g[i].want);
	}
	/* Only n bytes of the pattern count. */
	CHECK(authz_glob("web,db", 3, "web") && !authz_glob("web,db", 3, "web,db"));
}

void test_server_authz_visible(void)
{
	struct token_scope s = scope("agents=owner:slack:U1,web*");

	/* Unscoped, NULL and "agents" left out: everything. */
	CHECK(authz_agent_visible(NULL, "x", ""));
	s = scope("can=read");
	CHECK(authz_agent_visible(&s, "x", "") && authz_agent_visible(&s, "y", "slack:U2"));

	s = scope("agents=owner:slack:U1,web*");
	CHECK(authz_agent_visible(&s, "db1", "slack:U1"));     /* by owner */
	CHECK(authz_agent_visible(&s, "web7", ""));            /* by name */
	CHECK(authz_agent_visible(&s, "web7", "slack:U2"));    /* either suffices */
	CHECK(!authz_agent_visible(&s, "db1", "slack:U2"));
	CHECK(!authz_agent_visible(&s, "db1", ""));
	CHECK(!authz_agent_visible(&s, "db1", NULL));
	/* Owners match whole and exactly. */
	CHECK(!authz_agent_visible(&s, "db1", "slack:U10"));
	CHECK(!authz_agent_visible(&s, "db1", "slack:U"));
	CHECK(!authz_agent_visible(&s, "db1", "Slack:U1"));
	/* An owner selector is not a glob on names, nor a name glob an owner. */
	CHECK(!authz_agent_visible(&s, "owner:slack:U1", ""));
	s = scope("agents=web*");
	CHECK(!authz_agent_visible(&s, "db1", "web1"));

	/* The Slack face's scope: the agents a user owns. */
	CHECK(authz_scope_owned_by(&s, "slack:U9") == 0);
	CHECK(authz_agent_visible(&s, "any", "slack:U9") && !authz_agent_visible(&s, "any", "slack:U1"));
	CHECK(!authz_agent_visible(&s, "slack:U9", ""));
	CHECK(s.can == TOKEN_CAN_ALL);
	CHECK(authz_scope_owned_by(&s, "bad owner") == -1);
}

void test_server_authz_commands(void)
{
	struct token_scope s = scope("can=read,control");
	char why[300];

	CHECK(authz_command_allowed(NULL, "exec_command", why, sizeof(why)) == NULL);
	CHECK(authz_command_allowed(&s, "obtain_all_process_info", why, sizeof(why)) == NULL);
	CHECK(authz_command_allowed(&s, "kill_process", why, sizeof(why)) == NULL);
	CHECK(authz_command_allowed(&s, "exec_command", why, sizeof(why)) == why);
	CHECK_STR(why, "exec_command is an exec command, and your scope allows only read,control");
	CHECK(authz_command_allowed(&s, "frobnicate", why, sizeof(why)) == why);
	CHECK_STR(why, "frobnicate is an exec command (an unknown name counts as exec), and your "
		  "scope allows only read,control");
	s = scope("can=read");
	CHECK(authz_command_allowed(&s, "stop_service", why, sizeof(why)) == why);
	CHECK_STR(why, "stop_service is a control command, and your scope allows only read");
	s = scope("can=exec");
	CHECK(authz_command_allowed(&s, "exec_command", why, sizeof(why)) == NULL);
	CHECK(authz_command_allowed(&s, "frobnicate", why, sizeof(why)) == NULL);
	CHECK(authz_command_allowed(&s, "list_services", why, sizeof(why)) != NULL);
	/* Kinds do not imply each other. */
	s = scope("can=control");
	CHECK(authz_command_allowed(&s, "obtain_process_info", why, sizeof(why)) != NULL);
	CHECK(authz_command_allowed(&s, "resume_process", why, sizeof(why)) == NULL);
	/* An unscoped token allows everything. */
	token_scope_all(&s);
	CHECK(authz_command_allowed(&s, "anything_at_all", why, sizeof(why)) == NULL);
}
