/* server_fleet.c - the fleet's table and its rule (see server_fleet.h).
 * Agents by name in a chained hash table (FNV-1a, doubled at load 1);
 * servers in a small array, a fleet having a handful of them. */
#include "server_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "sort.h"

struct fleet_node {
	char node[CFG_CLUSTER_NODE_MAX + 1];
	char boot[FLEET_ID_LEN + 1];
	int64_t seen;                  /* loop_now() of its last heartbeat */
	int agents;
};

struct fleet {
	char node[CFG_CLUSTER_NODE_MAX + 1];
	struct fleet_agent **tab;
	size_t cap, n;
	struct fleet_node *nodes;
	int nnodes;
};

static size_t hash(const char *s)
{
	size_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

struct fleet *fleet_new(const char *node)
{
	struct fleet *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	fmt_copy(f->node, sizeof(f->node), node);
	f->cap = 1024;
	f->tab = calloc(f->cap, sizeof(*f->tab));
	if (!f->tab) {
		free(f);
		return NULL;
	}
	return f;
}

void fleet_free(struct fleet *f)
{
	size_t i;
	struct fleet_agent *a, *next;

	if (!f)
		return;
	for (i = 0; i < f->cap; i++)
		for (a = f->tab[i]; a; a = next) {
			next = a->hnext;
			free(a->info);
			free(a);
		}
	free(f->tab);
	free(f->nodes);
	free(f);
}

const char *fleet_node(const struct fleet *f)
{
	return f->node;
}

struct fleet_agent *fleet_get(const struct fleet *f, const char *name)
{
	struct fleet_agent *a;

	for (a = f->tab[hash(name) & (f->cap - 1)]; a; a = a->hnext)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static void grow(struct fleet *f)
{
	size_t ncap = f->cap * 2, i;
	struct fleet_agent **nt = calloc(ncap, sizeof(*nt)), *a, *next;

	if (!nt)
		return;                /* longer chains, still correct */
	for (i = 0; i < f->cap; i++)
		for (a = f->tab[i]; a; a = next) {
			size_t h = hash(a->name) & (ncap - 1);

			next = a->hnext;
			a->hnext = nt[h];
			nt[h] = a;
		}
	free(f->tab);
	f->tab = nt;
	f->cap = ncap;
}

struct fleet_agent *fleet_add(struct fleet *f, const char *name)
{
	struct fleet_agent *a = fleet_get(f, name);
	size_t h;

	if (a)
		return a;
	if (strlen(name) > TOKEN_NAME_MAX || !(a = calloc(1, sizeof(*a))))
		return NULL;
	if (f->n + 1 > f->cap)
		grow(f);
	fmt_copy(a->name, sizeof(a->name), name);
	h = hash(name) & (f->cap - 1);
	a->hnext = f->tab[h];
	f->tab[h] = a;
	f->n++;
	return a;
}

void fleet_tidy(struct fleet *f, struct fleet_agent *a)
{
	struct fleet_agent **pp;

	if (a->local || a->has_claim)
		return;
	for (pp = &f->tab[hash(a->name) & (f->cap - 1)]; *pp; pp = &(*pp)->hnext)
		if (*pp == a) {
			*pp = a->hnext;
			f->n--;
			free(a->info);
			free(a);
			return;
		}
}

size_t fleet_count(const struct fleet *f)
{
	return f->n;
}

void fleet_each(const struct fleet *f, void (*fn)(struct fleet_agent *a, void *arg), void *arg)
{
	size_t i;
	struct fleet_agent *a;

	for (i = 0; i < f->cap; i++)
		for (a = f->tab[i]; a; a = a->hnext)
			fn(a, arg);
}

static int by_name(const void *x, const void *y)
{
	return strcmp((*(struct fleet_agent *const *)x)->name, (*(struct fleet_agent *const *)y)->name);
}

struct fleet_agent **fleet_sorted(const struct fleet *f, size_t *n)
{
	struct fleet_agent **v, *a;
	size_t i, k = 0;

	*n = 0;
	if (!f->n || !(v = malloc(f->n * sizeof(*v))))
		return NULL;
	for (i = 0; i < f->cap; i++)
		for (a = f->tab[i]; a; a = a->hnext)
			v[k++] = a;
	sort_items(v, k, sizeof(*v), by_name);
	*n = k;
	return v;
}

/* ---- the servers ---- */

static struct fleet_node *node_find(const struct fleet *f, const char *node)
{
	int i;

	for (i = 0; i < f->nnodes; i++)
		if (strcmp(f->nodes[i].node, node) == 0)
			return &f->nodes[i];
	return NULL;
}

void fleet_node_seen(struct fleet *f, const char *node, const char *boot, int64_t now_ms,
		     int agents)
{
	struct fleet_node *nd = node_find(f, node), *nv;

	if (!nd) {
		nv = realloc(f->nodes, (size_t)(f->nnodes + 1) * sizeof(*nv));
		if (!nv)
			return;
		f->nodes = nv;
		nd = &f->nodes[f->nnodes++];
		memset(nd, 0, sizeof(*nd));
		fmt_copy(nd->node, sizeof(nd->node), node);
	}
	fmt_copy(nd->boot, sizeof(nd->boot), boot);
	nd->seen = now_ms;
	nd->agents = agents;
}

int fleet_node_alive(const struct fleet *f, const char *node, const char *boot, int64_t now_ms)
{
	const struct fleet_node *nd;

	if (strcmp(node, f->node) == 0)
		return 1;
	nd = node_find(f, node);
	return nd && now_ms - nd->seen < CFG_CLUSTER_NODE_DEAD_MS &&
	       (!boot || strcmp(nd->boot, boot) == 0);
}

int fleet_nodes_alive(const struct fleet *f, int64_t now_ms)
{
	int i, n = 1;

	for (i = 0; i < f->nnodes; i++)
		if (strcmp(f->nodes[i].node, f->node) && now_ms - f->nodes[i].seen < CFG_CLUSTER_NODE_DEAD_MS)
			n++;
	return n;
}

int fleet_remote_live(const struct fleet *f, const struct fleet_agent *a, int64_t now_ms)
{
	return a->has_claim && strcmp(a->claim.node, f->node) != 0 &&
	       fleet_node_alive(f, a->claim.node, a->claim.boot, now_ms);
}

/* ---- the rule ---- */

static int ours(const struct fleet_agent *a)
{
	return a->has_claim && strcmp(a->claim.sid, a->sid) == 0;
}

enum fleet_verdict fleet_on_entry(struct fleet_agent *a, unsigned long long seq,
				  const struct fleet_claim *c)
{
	a->seq = seq;
	a->has_claim = c != NULL;
	if (c)
		a->claim = *c;
	if (!a->local)
		return FLEET_KEEP;
	if (ours(a)) {                    /* our own put, seen come back */
		a->state = FLEET_HELD;
		if (seq > a->rev)
			a->rev = seq;
		return FLEET_KEEP;
	}
	if (a->state != FLEET_HELD || seq <= a->rev)
		return FLEET_KEEP;        /* pending: its ack decides; none: reconcile */
	/* Another session's claim after ours: that session is newer.  A
	 * deletion after ours (someone purged the key): put ours back. */
	return c ? FLEET_DROP : FLEET_CLAIM;
}

enum fleet_verdict fleet_on_vanished(struct fleet_agent *a)
{
	a->has_claim = 0;
	a->seq = 0;
	if (!a->local || a->state != FLEET_HELD)
		return FLEET_KEEP;        /* pending: its ack decides; none: reconcile */
	a->state = FLEET_NONE;
	a->rev = 0;
	return FLEET_CLAIM;
}

enum fleet_verdict fleet_on_ack(struct fleet_agent *a, const char *sid, int ok,
				unsigned long long seq)
{
	if (!a->local || strcmp(sid, a->sid) != 0)
		return FLEET_KEEP;
	if (!ok) {
		if (a->state == FLEET_PENDING)
			a->state = FLEET_NONE;    /* to be reconciled */
		return FLEET_KEEP;
	}
	a->state = FLEET_HELD;
	if (seq > a->rev)
		a->rev = seq;
	if (a->has_claim && a->seq > seq && !ours(a))
		return FLEET_DROP;            /* the bucket already holds a newer one */
	return FLEET_KEEP;
}

enum fleet_verdict fleet_reconcile(const struct fleet *f, const struct fleet_agent *a,
				   int64_t now_ms)
{
	if (!a->local || a->state == FLEET_PENDING || ours(a))
		return FLEET_KEEP;
	if (a->state == FLEET_HELD && a->seq <= a->rev)
		return FLEET_KEEP;
	/* A claim of a server that is gone (or restarted since) is no session:
	 * ours is the one connected. */
	if (!a->has_claim || !fleet_node_alive(f, a->claim.node, a->claim.boot, now_ms))
		return FLEET_CLAIM;
	if (a->state == FLEET_HELD)
		return FLEET_DROP;            /* another session after ours */
	/* Ours never reached the bucket: the later admission wins. */
	return a->claim.t_us > a->t_us ? FLEET_DROP : FLEET_CLAIM;
}
