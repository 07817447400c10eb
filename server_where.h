/* server_where.h - an agent wherever in the fleet it is: what a face
 * shows of it and may send it, without knowing which server holds its
 * connection.  Commands go through the router (server_router.h), which
 * finds the way itself; this is the rest a face needs (the Slack face's
 * home tab and views).  Without --cluster only this server's agents. */
#ifndef NESTD_SERVER_WHERE_H
#define NESTD_SERVER_WHERE_H

#include "config.h"

struct server;

struct agent_card {
	char hostname[CFG_HOSTNAME_MAX + 1];
	long long since;          /* connected since, epoch seconds */
	long long uid;            /* the uid it runs as; -1 unknown */
	char *commands;           /* the names it announced as a JSON array;
				   * NULL: an original client (announces none) */
	int here;                 /* its connection is on this server */
};

/* 1 and *c (agent_card_free it) when an agent of that name is connected
 * to this server or, as the fleet's presence says, to a live one of the
 * others; 0 when none is (or the fleet cannot be asked). */
int  server_agent_card(struct server *s, const char *name, struct agent_card *c);
void agent_card_free(struct agent_card *c);

#endif
