/* server_authz.c - who may do what (see server_authz.h): the command
 * kinds, in one table, and the scope matcher. */
#include "server_authz.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"

/* Every command an agent answers (docs/PROTOCOL.md, "Commands"), with
 * the kind it needs.  A new command goes here, or it needs exec. */
static const struct {
	const char *name;
	unsigned kind;
} commands[] = {
	{ "obtain_all_process_info", TOKEN_CAN_READ },
	{ "obtain_process_info", TOKEN_CAN_READ },
	{ "list_services", TOKEN_CAN_READ },
	{ "obtain_service_info", TOKEN_CAN_READ },
	{ "obtain_system_info", TOKEN_CAN_READ },
	{ "obtain_user_usages", TOKEN_CAN_READ },
	{ "get_port", TOKEN_CAN_READ },
	{ "kill_process", TOKEN_CAN_CONTROL },
	{ "pause_process", TOKEN_CAN_CONTROL },
	{ "resume_process", TOKEN_CAN_CONTROL },
	{ "start_service", TOKEN_CAN_CONTROL },
	{ "stop_service", TOKEN_CAN_CONTROL },
	{ "restart_service", TOKEN_CAN_CONTROL },
	{ "reload_service", TOKEN_CAN_CONTROL },
	{ "exec_command", TOKEN_CAN_EXEC },
};

static int lookup(const char *command)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, command) == 0)
			return (int)i;
	return -1;
}

unsigned authz_command_kind(const char *command)
{
	int i = lookup(command);

	return i < 0 ? TOKEN_CAN_EXEC : commands[i].kind;
}

int authz_command_known(const char *command)
{
	return lookup(command) >= 0;
}

/* Iterative, with one backtrack point (the last '*'): linear in practice,
 * never exponential, whatever the pattern. */
int authz_glob(const char *pat, size_t n, const char *name)
{
	size_t p = 0, star = (size_t)-1;
	const char *s = name, *mark = NULL;

	while (*s) {
		if (p < n && (pat[p] == '?' || pat[p] == *s)) {
			p++;
			s++;
		} else if (p < n && pat[p] == '*') {
			star = p++;
			mark = s;
		} else if (star != (size_t)-1) {
			p = star + 1;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (p < n && pat[p] == '*')
		p++;
	return p == n;
}

int authz_agent_visible(const struct token_scope *scope, const char *name, const char *owner)
{
	const char *p;

	if (!scope || !scope->agents[0])
		return 1;
	for (p = scope->agents; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l > 6 && memcmp(p, "owner:", 6) == 0) {
			if (owner && owner[0] && strlen(owner) == l - 6 && memcmp(p + 6, owner, l - 6) == 0)
				return 1;
		} else if (authz_glob(p, l, name)) {
			return 1;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

const char *authz_command_allowed(const struct token_scope *scope, const char *command,
				  char *why, size_t n)
{
	unsigned kind = authz_command_kind(command);
	char need[16], have[32];

	if (!scope || (scope->can & kind))
		return NULL;
	token_scope_kinds(kind, need, sizeof(need));
	token_scope_kinds(scope->can, have, sizeof(have));
	fmt_snprintf(why, n, "%s is %s %s command%s, and your scope allows only %s", command,
		 kind == TOKEN_CAN_EXEC ? "an" : "a", need,
		 authz_command_known(command) ? "" : " (an unknown name counts as exec)", have);
	return why;
}

const char *authz_action_allowed(const struct token_scope *scope, unsigned kind,
				 const char *what, char *why, size_t n)
{
	char need[16], have[32];

	if (!scope || (scope->can & kind))
		return NULL;
	token_scope_kinds(kind, need, sizeof(need));
	token_scope_kinds(scope->can, have, sizeof(have));
	fmt_snprintf(why, n, "%s needs the %s kind (can=%s), and your scope allows only %s", what, need,
		 need, have);
	return why;
}

int authz_scope_owned_by(struct token_scope *scope, const char *owner)
{
	token_scope_all(scope);
	if (!token_owner_valid(owner, strlen(owner)))
		return -1;
	fmt_snprintf(scope->agents, sizeof(scope->agents), "owner:%s", owner);
	return 0;
}
