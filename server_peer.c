/* server_peer.c - the list of the server's peers and its counts (see
 * server_peer.h).  Newest first: the order matters to no one.  Each peer
 * keeps the address of the pointer that points to it (pprev), so taking
 * one out costs the same wherever it stands and needs no tail. */
#include "server_peer.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
static void preauth_link(struct peers *ps, struct peer *p)
{
	p->pa_next = ps->preauth;
	if (p->pa_next)
		p->pa_next->pa_pprev = &p->pa_next;
	p->pa_pprev = &ps->preauth;
	ps->preauth = p;
}

static void preauth_unlink(struct peer *p)
{
	if (!p->pa_pprev)
		return;
	*p->pa_pprev = p->pa_next;
	if (p->pa_next)
		p->pa_next->pa_pprev = p->pa_pprev;
	p->pa_next = NULL;
	p->pa_pprev = NULL;
}

void peers_add(struct peers *ps, struct peer *p)
{
	if (p->kind == PEER_NEW)
		preauth_link(ps, p);
	p->next = ps->head;
	if (p->next)
		p->next->pprev = &p->next;
	p->pprev = &ps->head;
	ps->head = p;
	ps->nconn++;
	if (p->kind == PEER_AGENT)
		ps->nagents++;
}

void peers_unlink(struct peers *ps, struct peer *p)
{
	preauth_unlink(p);
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	p->next = NULL;
	p->pprev = NULL;
	ps->nconn--;
	if (p->kind == PEER_AGENT)
		ps->nagents--;
}

void peers_set_kind(struct peers *ps, struct peer *p, enum peer_kind kind)
{
	if (kind != PEER_NEW)
		preauth_unlink(p);
	else if (!p->pa_pprev)
		preauth_link(ps, p);
	if (p->kind == PEER_AGENT)
		ps->nagents--;
	if (kind == PEER_AGENT)
		ps->nagents++;
	p->kind = kind;
}

struct peer *peers_next_agent(struct peer *p)
{
	while (p && p->kind != PEER_AGENT)
		p = p->next;
	return p;
}

struct peer *peers_find_agent(const struct peers *ps, const char *name)
{
	struct peer *p;

	for (p = peers_next_agent(ps->head); p; p = peers_next_agent(p->next))
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* What the original client answers (docs/ORIGINAL.md): all that an agent
 * announcing no command list is ever sent.  Anything else makes it exit
 * for good ("Server sent illegal command"). */
static const char *const original_commands[] = {
	"obtain_user_usages", "obtain_all_process_info", "obtain_process_info",
	"kill_process", "pause_process", "resume_process", "list_services",
	"obtain_service_info", "start_service", "stop_service", "restart_service",
	"reload_service", "get_port",
};

int peer_offers(const struct peer *p, const char *command)
{
	struct json j;
	size_t i;
	int n, e, found = 0;

	if (!p->commands) {
		for (i = 0; i < sizeof(original_commands) / sizeof(original_commands[0]); i++)
			if (!strcmp(original_commands[i], command))
				return 1;
		return 0;
	}
	if (json_parse(&j, p->commands, strlen(p->commands), NULL, 0) < 0)
		return 0;
	if (json_type(&j, 0) == JSON_ARRAY) {
		n = json_count(&j, 0);
		for (i = 0, e = 1; (int)i < n && !found; i++, e = json_next(&j, e))
			found = json_str_eq(&j, e, command);
	}
	json_free(&j);
	return found;
}

void peer_free(struct peer *p)
{
	free(p->commands);
	free(p);
}
