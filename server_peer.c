/* server_peer.c - the list of the server's peers and its counts (see
 * server_peer.h).  Newest first: the order does not matter to anyone, and
 * an accepted connection goes in at no cost. */
#include "server_peer.h"

#include <stdlib.h>
#include <string.h>

void peers_add(struct peers *ps, struct peer *p)
{
	p->prev = NULL;
	p->next = ps->head;
	if (ps->head)
		ps->head->prev = p;
	ps->head = p;
	ps->nconn++;
	if (p->kind == PEER_AGENT)
		ps->nagents++;
}

void peers_unlink(struct peers *ps, struct peer *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		ps->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	ps->nconn--;
	if (p->kind == PEER_AGENT)
		ps->nagents--;
}

void peers_set_kind(struct peers *ps, struct peer *p, enum peer_kind kind)
{
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

void peer_free(struct peer *p)
{
	free(p->commands);
	free(p);
}
