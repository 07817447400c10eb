/* test_server_fleet.c - the fleet's table and its one-session rule
 * (server_fleet.c): sequences and verdicts, as the cluster feeds them. */
#include "t.h"

#include <stdlib.h>
#include <string.h>

#include "server_fleet.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static struct fleet_claim claim(const char *node, const char *boot, const char *sid, long long t)
{
	struct fleet_claim c;

	memset(&c, 0, sizeof(c));
	snprintf(c.node, sizeof(c.node), "%s", node);
	snprintf(c.boot, sizeof(c.boot), "%s", boot);
	snprintf(c.sid, sizeof(c.sid), "%s", sid);
	c.t_us = t;
	return c;
}

/* A session of ours on a, as cluster_agent_up makes it. */
static void local(struct fleet_agent *a, const char *sid, long long t)
{
	a->local = (struct peer *)a;       /* any non-NULL handle */
	snprintf(a->sid, sizeof(a->sid), "%s", sid);
	a->t_us = t;
	a->state = FLEET_NONE;
	a->rev = 0;
}

void test_server_fleet_table(void)
{
	struct fleet *f = fleet_new("A");
	struct fleet_agent *a, **v;
	char name[32];
	size_t n, i;
	int k;

	CHECK(f && fleet_get(f, "x") == NULL);
	for (k = 0; k < 3000; k++) {          /* past the table's first size: it grows */
		snprintf(name, sizeof(name), "agent-%04d", 2999 - k);
		a = fleet_add(f, name);
		CHECK(a && strcmp(a->name, name) == 0);
		a->has_claim = 1;
	}
	CHECK(fleet_count(f) == 3000);
	CHECK(fleet_add(f, "agent-0042") == fleet_get(f, "agent-0042"));
	CHECK(fleet_count(f) == 3000);
	v = fleet_sorted(f, &n);
	CHECK(v && n == 3000);
	for (i = 1; v && i < n; i++)
		if (strcmp(v[i - 1]->name, v[i]->name) >= 0)
			break;
	CHECK(i == n);
	free(v);
	a = fleet_get(f, "agent-0042");
	fleet_tidy(f, a);                       /* a claim: kept */
	CHECK(fleet_get(f, "agent-0042") == a);
	a->has_claim = 0;
	fleet_tidy(f, a);                       /* neither claim nor session: gone */
	CHECK(fleet_get(f, "agent-0042") == NULL && fleet_count(f) == 2999);
	fleet_free(f);
}

void test_server_fleet_nodes(void)
{
	struct fleet *f = fleet_new("A");
	struct fleet_agent *a = fleet_add(f, "x");
	struct fleet_claim c = claim("B", "b1", "s1", 10);

	CHECK(fleet_node_alive(f, "A", NULL, 0));            /* ourselves, always */
	CHECK(!fleet_node_alive(f, "B", NULL, 1000));        /* never heard */
	fleet_node_seen(f, "B", "b1", 1000, 5);
	CHECK(fleet_node_alive(f, "B", "b1", 1000 + CFG_CLUSTER_NODE_DEAD_MS - 1));
	CHECK(!fleet_node_alive(f, "B", "b1", 1000 + CFG_CLUSTER_NODE_DEAD_MS));
	CHECK(!fleet_node_alive(f, "B", "b0", 1001));       /* another run of B */
	CHECK(fleet_nodes_alive(f, 1001) == 2);
	fleet_on_entry(a, 7, &c);
	CHECK(fleet_remote_live(f, a, 1001));
	CHECK(!fleet_remote_live(f, a, 1000 + CFG_CLUSTER_NODE_DEAD_MS));   /* B died */
	fleet_node_seen(f, "B", "b2", 2000, 0);              /* B restarted: its old claims are dead */
	CHECK(!fleet_remote_live(f, a, 2001));
	c = claim("A", "a1", "s2", 11);                      /* our own node's claim: not remote */
	fleet_on_entry(a, 8, &c);
	CHECK(!fleet_remote_live(f, a, 2001));
	fleet_free(f);
}

/* A new session here while the bucket holds an older one elsewhere: our
 * put comes later, so ours wins, in whatever order the ack and the watch
 * arrive. */
void test_server_fleet_newer_wins(void)
{
	struct fleet *f = fleet_new("A");
	struct fleet_agent *a = fleet_add(f, "x");
	struct fleet_claim old = claim("B", "b1", "sB", 100), mine = claim("A", "a1", "sA", 200);

	CHECK(fleet_on_entry(a, 5, &old) == FLEET_KEEP);     /* no session here yet */
	local(a, "sA", 200);
	a->state = FLEET_PENDING;                            /* plain put on its way */
	CHECK(fleet_on_ack(a, "sA", 1, 6) == FLEET_KEEP);
	CHECK(a->state == FLEET_HELD && a->rev == 6);
	CHECK(fleet_on_entry(a, 6, &mine) == FLEET_KEEP);    /* our put, seen */
	/* B's server sees our claim after its own and drops its session: */
	{
		struct fleet_agent *b = fleet_add(f, "y");

		fleet_on_entry(b, 5, NULL);
		local(b, "sB", 100);
		b->state = FLEET_HELD;
		b->rev = 5;
		b->seq = 5;
		CHECK(fleet_on_entry(b, 6, &mine) == FLEET_DROP);
	}
	/* The watch's entry first, then the ack: the same winner. */
	a = fleet_add(f, "z");
	local(a, "sA", 300);
	a->state = FLEET_PENDING;
	mine = claim("A", "a1", "sA", 300);
	CHECK(fleet_on_entry(a, 9, &mine) == FLEET_KEEP && a->state == FLEET_HELD);
	CHECK(fleet_on_ack(a, "sA", 1, 9) == FLEET_KEEP);
	fleet_free(f);
}

/* Our session, then a newer one elsewhere: we drop ours, whichever of our
 * ack and their claim comes first. */
void test_server_fleet_taken_over(void)
{
	struct fleet *f = fleet_new("A");
	struct fleet_agent *a = fleet_add(f, "x");
	struct fleet_claim theirs = claim("B", "b1", "sB", 500);

	local(a, "sA", 400);
	a->state = FLEET_PENDING;
	CHECK(fleet_on_entry(a, 10, &theirs) == FLEET_KEEP);   /* pending: the ack decides */
	CHECK(fleet_on_ack(a, "sA", 1, 9) == FLEET_DROP);      /* ours was 9, theirs 10 */

	a = fleet_add(f, "w");
	local(a, "sA", 400);
	a->state = FLEET_PENDING;
	CHECK(fleet_on_ack(a, "sA", 1, 9) == FLEET_KEEP);
	CHECK(fleet_on_entry(a, 10, &theirs) == FLEET_DROP);   /* held at 9, another at 10 */
	CHECK(fleet_on_entry(a, 8, &theirs) == FLEET_KEEP);    /* an older one: not ours to mind */

	/* A stale ack (a session of that name that has gone) changes nothing. */
	a = fleet_add(f, "v");
	local(a, "sNEW", 600);
	a->state = FLEET_PENDING;
	CHECK(fleet_on_ack(a, "sOLD", 1, 3) == FLEET_KEEP && a->state == FLEET_PENDING);
	/* A refused compare-and-set: back to reconcile. */
	CHECK(fleet_on_ack(a, "sNEW", 0, 0) == FLEET_KEEP && a->state == FLEET_NONE);
	/* Our held claim deleted under us (purged): put it back. */
	a->state = FLEET_HELD;
	a->rev = 4;
	CHECK(fleet_on_entry(a, 5, NULL) == FLEET_CLAIM);
	fleet_free(f);
}

/* The bucket read anew without our claim (it was made anew): a held
 * claim is put again, against an empty key; a pending one waits for its
 * ack; another server's is forgotten. */
void test_server_fleet_vanished(void)
{
	struct fleet *f = fleet_new("A");
	struct fleet_agent *a = fleet_add(f, "x"), *b = fleet_add(f, "y"), *r = fleet_add(f, "z");
	struct fleet_claim mine = claim("A", "a1", "sA", 100), theirs = claim("B", "b1", "sB", 100);

	local(a, "sA", 100);
	a->state = FLEET_PENDING;
	CHECK(fleet_on_ack(a, "sA", 1, 57) == FLEET_KEEP);
	CHECK(fleet_on_entry(a, 57, &mine) == FLEET_KEEP && a->state == FLEET_HELD);
	CHECK(fleet_on_vanished(a) == FLEET_CLAIM);
	CHECK(!a->has_claim && a->seq == 0 && a->rev == 0 && a->state == FLEET_NONE);
	/* ... and the new bucket's first sequence is ours again. */
	a->state = FLEET_PENDING;
	CHECK(fleet_on_ack(a, "sA", 1, 1) == FLEET_KEEP && a->state == FLEET_HELD && a->rev == 1);
	CHECK(fleet_on_entry(a, 1, &mine) == FLEET_KEEP);

	local(b, "sA2", 100);
	b->state = FLEET_PENDING;
	CHECK(fleet_on_vanished(b) == FLEET_KEEP && b->state == FLEET_PENDING);

	CHECK(fleet_on_entry(r, 9, &theirs) == FLEET_KEEP);
	CHECK(fleet_on_vanished(r) == FLEET_KEEP && !r->has_claim && r->seq == 0);
	fleet_free(f);
}

/* After the NATS link came back: sessions the bucket never saw compare by
 * the time they were admitted; a dead server's claim never wins. */
void test_server_fleet_reconcile(void)
{
	struct fleet *f = fleet_new("A");
	struct fleet_agent *a = fleet_add(f, "x");
	struct fleet_claim c = claim("B", "b1", "sB", 100);
	int64_t now = 50000;

	fleet_node_seen(f, "B", "b1", now, 1);
	local(a, "sA", 200);
	CHECK(fleet_reconcile(f, a, now) == FLEET_CLAIM);      /* nothing in the bucket */
	fleet_on_entry(a, 3, &c);
	CHECK(fleet_reconcile(f, a, now) == FLEET_CLAIM);      /* ours is newer (200 > 100) */
	a->t_us = 50;
	CHECK(fleet_reconcile(f, a, now) == FLEET_DROP);       /* theirs is newer */
	CHECK(fleet_reconcile(f, a, now + CFG_CLUSTER_NODE_DEAD_MS) == FLEET_CLAIM);  /* B is gone */
	a->state = FLEET_HELD;                                 /* held at 2, B's at 3 since */
	a->rev = 2;
	CHECK(fleet_reconcile(f, a, now) == FLEET_DROP);
	a->rev = 3;
	c = claim("A", "a1", "sA", 50);                         /* the bucket holds ours */
	fleet_on_entry(a, 3, &c);
	CHECK(fleet_reconcile(f, a, now) == FLEET_KEEP);
	a->state = FLEET_PENDING;
	CHECK(fleet_reconcile(f, a, now) == FLEET_KEEP);       /* an ack will come */
	a->local = NULL;
	CHECK(fleet_reconcile(f, a, now) == FLEET_KEEP);       /* no session here */
	fleet_free(f);
}
