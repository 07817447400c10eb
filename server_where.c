/* server_where.c - an agent wherever in the fleet it is (server_where.h):
 * this server's peer, else the fleet's presence (server_cluster.h). */
#include "server_where.h"

#include <stdlib.h>
#include <string.h>

#include "server_cluster.h"
#include "server_int.h"
#include "server_peer.h"

int server_agent_card(struct server *s, const char *name, struct agent_card *c)
{
	const struct peer *p = peers_find_agent(&s->peers, name);

	memset(c, 0, sizeof(*c));
	c->uid = -1;
	if (!p)
		return SRV_CLUSTER(s) ? cluster_agent_card(SRV_CLUSTER(s), name, c) : 0;
	memcpy(c->hostname, p->hostname, sizeof(c->hostname));
	c->since = p->since;
	c->uid = p->uid;
	c->commands = p->commands ? strdup(p->commands) : NULL;
	c->here = 1;
	return !p->commands || c->commands ? 1 : 0;
}

void agent_card_free(struct agent_card *c)
{
	free(c->commands);
	c->commands = NULL;
}
