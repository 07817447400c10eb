/* test_server_peer.c - the peer list and its index by name: every agent
 * found, nothing else found, across growth, kind changes, unlinking in
 * any order, and two peers of one name (an agent and the one it
 * replaced); what an agent's announced list offers, walked in place or
 * parsed, alike. */
#include <stdio.h>
#include <stdlib.h>
#include "t.h"
#include "server_peer.h"

void test_server_peer_index(void);
void test_server_peer_cursor(void);
void test_server_peer_offers(void);

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

/* A walk that outlives the peers it stands on or has ahead of it: each
 * agent still there is visited once, none that went, none that came. */
void test_server_peer_cursor(void)
{
	enum { N = 50 };
	struct peer *ag[N], *p, *late;
	struct peers ps = { 0 };
	struct peer_cursor cur, other;
	char name[16];
	int i, seen[N] = { 0 }, bad = 0, n = 0;

	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%02d", i);
		ag[i] = mk(&ps, name, i == 5 ? PEER_HTTP : PEER_AGENT);
	}
	peers_cursor_open(&ps, &cur);
	peers_cursor_open(&ps, &other);
	/* newest first: c49, c48, ... */
	for (i = 0; i < 10 && (p = peers_cursor_next(&cur)); i++)
		n++;
	/* the peer the cursor stands on (c39), and ones ahead (c30..c20) go */
	for (i = 39; i >= 20; i -= (i > 30 ? 9 : 1)) {
		peers_unlink(&ps, ag[i]);
		peer_free(ag[i]);
		ag[i] = NULL;
	}
	late = mk(&ps, "late", PEER_AGENT);      /* at the head: not visited */
	while ((p = peers_cursor_next(&cur))) {
		for (i = 0; i < N && ag[i] != p; i++)
			;
		bad += i == N || seen[i]++ || p == late || p->kind != PEER_AGENT;
		n++;
	}
	CHECK(bad == 0);
	CHECK(n == 10 + 39 - 11 - 1);   /* then c38..c00, less c30..c20 that went and the HTTP peer */
	peers_cursor_close(&ps, &cur);
	peers_cursor_close(&ps, &other);
	CHECK(ps.cursors == NULL);
	for (i = 0; i < N; i++)
		if (ag[i]) {
			peers_unlink(&ps, ag[i]);
			peer_free(ag[i]);
		}
	peers_unlink(&ps, late);
	peer_free(late);
	CHECK(ps.head == NULL && ps.nagents == 0);
}

/* peer_offers walks a list of plain strings in place and hands any other
 * form to the parser: both must give the parser's answer. */
void test_server_peer_offers(void)
{
	static const struct { const char *list, *cmd; int want; } c[] = {
		{ "[\"kill_process\",\"obtain_process_info\"]", "kill_process", 1 },
		{ "[\"kill_process\",\"obtain_process_info\"]", "obtain_process_info", 1 },
		{ "[\"kill_process\",\"obtain_process_info\"]", "kill", 0 },
		{ "[\"kill_process\",\"obtain_process_info\"]", "kill_processes", 0 },
		{ " [ \"a\" ,\n\t\"kill_process\" ] ", "kill_process", 1 },
		{ "[]", "kill_process", 0 },
		{ "[ ]", "kill_process", 0 },
		/* other forms, for the parser: escapes, nested values, numbers */
		{ "[\"kill\\u005fprocess\"]", "kill_process", 1 },
		{ "[\"x\\\"kill_process\\\"\"]", "kill_process", 0 },
		{ "[{\"kill_process\":1}]", "kill_process", 0 },
		{ "[[\"kill_process\"]]", "kill_process", 0 },
		{ "[1,\"kill_process\"]", "kill_process", 1 },
		{ "[\"kill_process\"", "kill_process", 0 },
	};
	struct peer p = { 0 };
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		p.commands = (char *)c[i].list;
		if (peer_offers(&p, c[i].cmd) != c[i].want) {
			fprintf(stderr, "peer_offers(%s, %s) != %d\n", c[i].list, c[i].cmd, c[i].want);
			bad++;
		}
	}
	CHECK(bad == 0);
	p.commands = NULL;                      /* an original client */
	CHECK(peer_offers(&p, "kill_process") == 1);
	CHECK(peer_offers(&p, "exec_command") == 0);
}
