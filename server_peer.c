/* server_peer.c - the list of the server's peers and its counts (see
 * server_peer.h).  Newest first: the order matters to no one.  Each peer
 * keeps the address of the pointer that points to it (pprev), so taking
 * one out costs the same wherever it stands and needs no tail.  The
 * agents are also in a hash table by name, for peers_find_agent. */
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


static size_t name_hash(const char *s)
{
	size_t h = 2166136261u;      /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void bucket_put(struct peer **b, size_t n, struct peer *p)
{
	struct peer **head = &b[name_hash(p->name) & (n - 1)];

	p->hnext = *head;
	*head = p;
}

/* Twice the buckets once there are more agents than buckets.  The first
 * table is built from the list (every agent is there); a failed allocation
 * leaves the chains longer, or (no table yet) peers_find_agent walking the
 * list: never an agent out. */
static int index_grow(struct peers *ps)
{
	size_t n = ps->nbucket ? ps->nbucket * 2 : 64, i;
	struct peer **b = calloc(n, sizeof(*b)), *p, *next;

	if (!b)
		return -1;
	if (!ps->nbucket)
		for (p = peers_next_agent(ps->head); p; p = peers_next_agent(p->next))
			bucket_put(b, n, p);
	for (i = 0; i < ps->nbucket; i++)
		for (p = ps->bucket[i]; p; p = next) {
			next = p->hnext;
			bucket_put(b, n, p);
		}
	free(ps->bucket);
	ps->bucket = b;
	ps->nbucket = n;
	return 0;
}

/* p (in the list, already PEER_AGENT and counted) into the table. */
static void index_add(struct peers *ps, struct peer *p)
{
	if (!ps->nbucket) {
		index_grow(ps);     /* built from the list: p included */
		return;
	}
	if ((size_t)ps->nagents > ps->nbucket)
		index_grow(ps);
	bucket_put(ps->bucket, ps->nbucket, p);
}

static void index_del(struct peers *ps, struct peer *p)
{
	struct peer **pp;

	if (ps->nbucket)
		for (pp = &ps->bucket[name_hash(p->name) & (ps->nbucket - 1)]; *pp; pp = &(*pp)->hnext)
			if (*pp == p) {
				*pp = p->hnext;
				break;
			}
	p->hnext = NULL;
	if (ps->nagents == 0) {
		free(ps->bucket);
		ps->bucket = NULL;
		ps->nbucket = 0;
	}
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
	if (p->kind == PEER_AGENT) {
		ps->nagents++;
		index_add(ps, p);
	}
}

void peers_unlink(struct peers *ps, struct peer *p)
{
	struct peer_cursor *cur;

	for (cur = ps->cursors; cur; cur = cur->next)
		if (cur->at == p)
			cur->at = p->next;
	preauth_unlink(p);
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	p->next = NULL;
	p->pprev = NULL;
	ps->nconn--;
	if (p->kind == PEER_AGENT) {
		ps->nagents--;
		index_del(ps, p);
	}
}

void peers_set_kind(struct peers *ps, struct peer *p, enum peer_kind kind)
{
	enum peer_kind was = p->kind;

	if (kind != PEER_NEW)
		preauth_unlink(p);
	else if (!p->pa_pprev)
		preauth_link(ps, p);
	p->kind = kind;
	if (was == PEER_AGENT && kind != PEER_AGENT) {
		ps->nagents--;
		index_del(ps, p);
	} else if (was != PEER_AGENT && kind == PEER_AGENT) {
		ps->nagents++;
		index_add(ps, p);
	}
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

	if (ps->nbucket) {
		for (p = ps->bucket[name_hash(name) & (ps->nbucket - 1)]; p; p = p->hnext)
			if (strcmp(p->name, name) == 0)
				return p;
		return NULL;
	}
	for (p = peers_next_agent(ps->head); p; p = peers_next_agent(p->next))
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

void peers_cursor_open(struct peers *ps, struct peer_cursor *cur)
{
	cur->at = ps->head;
	cur->next = ps->cursors;
	ps->cursors = cur;
}

void peers_cursor_close(struct peers *ps, struct peer_cursor *cur)
{
	struct peer_cursor **pp;

	for (pp = &ps->cursors; *pp; pp = &(*pp)->next)
		if (*pp == cur) {
			*pp = cur->next;
			break;
		}
	cur->at = NULL;
}

struct peer *peers_cursor_next(struct peer_cursor *cur)
{
	struct peer *p = peers_next_agent(cur->at);

	cur->at = p ? p->next : NULL;
	return p;
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

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* The announced list as the agents write it, an array of plain strings
 * (no escapes), walked in place: 1 or 0 whether it names command, -1
 * when it is of another form and wants the parser.  Asked for every
 * command relayed, where parsing the list cost more than the rest of
 * the routing. */
static int offers_plain(const char *s, const char *command, size_t n)
{
	const char *e;
	int found = 0;

	s = skip_ws(s);
	if (*s++ != '[')
		return -1;
	s = skip_ws(s);
	if (*s == ']')
		return *skip_ws(s + 1) ? -1 : 0;
	for (;;) {
		if (*s++ != '"')
			return -1;
		if (!(e = strchr(s, '"')) || memchr(s, '\\', (size_t)(e - s)))
			return -1;
		found |= (size_t)(e - s) == n && !memcmp(s, command, n);
		s = skip_ws(e + 1);
		if (*s == ']')
			return *skip_ws(s + 1) ? -1 : found;
		if (*s++ != ',')
			return -1;
		s = skip_ws(s);
	}
}

int peer_offers(const struct peer *p, const char *command)
{
	return commands_offer(p->commands, command);
}

int commands_offer(const char *commands, const char *command)
{
	struct json j;
	size_t i;
	int n, e, found = 0;

	if (!commands) {
		for (i = 0; i < sizeof(original_commands) / sizeof(original_commands[0]); i++)
			if (!strcmp(original_commands[i], command))
				return 1;
		return 0;
	}
	if ((found = offers_plain(commands, command, strlen(command))) >= 0)
		return found;
	found = 0;
	if (json_parse(&j, commands, strlen(commands), NULL, 0) < 0)
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
	if (p->bearer) {
		volatile unsigned char *v = (volatile unsigned char *)p->bearer;
		size_t i;

		for (i = 0; i < sizeof(*p->bearer); i++)   /* a token: not left in freed memory */
			v[i] = 0;
		free(p->bearer);
	}
	free(p->commands);
	free(p);
}
