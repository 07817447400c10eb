/* test_server_peer.c - the peer list and its index by name: every agent
 * found, nothing else found, across growth, kind changes, unlinking in
 * any order, and two peers of one name (an agent and the one it
 * replaced). */
#include <stdio.h>
#include <stdlib.h>
#include "t.h"
#include "server_peer.h"

void test_server_peer_index(void);

static struct peer *mk(struct peers *ps, const char *name, enum peer_kind k)
{
	struct peer *p = calloc(1, sizeof(*p));

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->kind = k;
	peers_add(ps, p);
	return p;
}

void test_server_peer_index(void)
{
	enum { N = 3000 };
	static struct peer *ag[N];
	struct peers ps = { 0 };
	struct peer *old, *http, *neo;
	char name[32];
	int i, bad = 0;

	http = mk(&ps, "op", PEER_HTTP);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "ag%05d", i);
		ag[i] = mk(&ps, name, i % 3 ? PEER_AGENT : PEER_NEW);
	}
	for (i = 0; i < N; i += 3)
		peers_set_kind(&ps, ag[i], PEER_AGENT);   /* authenticated later */
	CHECK(ps.nagents == N && ps.nconn == N + 1 && ps.nbucket >= N);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "ag%05d", i);
		bad += peers_find_agent(&ps, name) != ag[i];
	}
	CHECK(bad == 0);
	CHECK(peers_find_agent(&ps, "op") == NULL && peers_find_agent(&ps, "ag99999") == NULL);
	/* A second ag00007 replaces the first: only the new one is found,
	 * and the old one leaving does not take the new one out. */
	old = ag[7];
	peers_set_kind(&ps, old, PEER_REPLACED);
	neo = mk(&ps, "ag00007", PEER_NEW);
	peers_set_kind(&ps, neo, PEER_AGENT);
	CHECK(peers_find_agent(&ps, "ag00007") == neo);
	peers_unlink(&ps, old);
	peer_free(old);
	CHECK(peers_find_agent(&ps, "ag00007") == neo);
	ag[7] = neo;
	/* Half of them go (odd ones, from the middle of chains). */
	for (i = 1; i < N; i += 2) {
		peers_unlink(&ps, ag[i]);
		peer_free(ag[i]);
		ag[i] = NULL;
	}
	for (i = 0, bad = 0; i < N; i++) {
		snprintf(name, sizeof(name), "ag%05d", i);
		bad += peers_find_agent(&ps, name) != ag[i];
	}
	CHECK(bad == 0 && ps.nagents == N / 2);
	for (i = 0; i < N; i += 2) {
		peers_unlink(&ps, ag[i]);
		peer_free(ag[i]);
	}
	CHECK(ps.nagents == 0 && ps.bucket == NULL && ps.nbucket == 0);
	CHECK(peers_find_agent(&ps, "ag00000") == NULL);
	peers_unlink(&ps, http);
	peer_free(http);
	CHECK(ps.head == NULL && ps.nconn == 0);
}
