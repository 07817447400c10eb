/* server_admit.c - the budget of failed authentications per address, a
 * token bucket of CFG_AUTH_FAIL_BURST refilled one per
 * CFG_AUTH_FAIL_REFILL_MS, in a fixed table of CFG_AUTH_TABLE addresses
 * (an attacker with many addresses evicts the stalest, never grows
 * memory); which tokens and which agent versions are accepted. */
#include "server_admit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct admit_slot {
	char addr[48];
	double tokens;      /* failures still allowed */
	int64_t at;         /* when tokens was computed */
};

struct admit {
	unsigned long long failures;
	struct admit_slot slot[CFG_AUTH_TABLE];
};

struct admit *admit_new(void)
{
	return calloc(1, sizeof(struct admit));
}

void admit_free(struct admit *a)
{
	free(a);
}

static void addr_key(const char *peer, char *out, size_t n)
{
	const char *colon;
	size_t l;

	/* "1.2.3.4:5678" and "[::1]:5678" lose the port; "unix:uid=N" stays
	 * whole, so each local user has a budget of its own. */
	colon = strncmp(peer, "unix", 4) == 0 ? NULL : strrchr(peer, ':');
	l = colon && colon != peer ? (size_t)(colon - peer) : strlen(peer);
	if (l >= n)
		l = n - 1;
	memcpy(out, peer, l);
	out[l] = '\0';
}

static struct admit_slot *find_slot(struct admit *a, const char *peer, int create, int64_t now)
{
	char key[48];
	unsigned h = 2166136261u;
	const char *p;
	int i, best = -1;
	int64_t oldest = 0;

	addr_key(peer, key, sizeof(key));
	for (p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	/* Linear probing over a few slots; the stalest one is reused. */
	for (i = 0; i < 8; i++) {
		struct admit_slot *s = &a->slot[(h + (unsigned)i) % CFG_AUTH_TABLE];

		if (strcmp(s->addr, key) == 0)
			return s;
		if (best < 0 || s->at < oldest) {
			best = (int)((h + (unsigned)i) % CFG_AUTH_TABLE);
			oldest = s->at;
		}
	}
	if (!create)
		return NULL;
	snprintf(a->slot[best].addr, sizeof(a->slot[best].addr), "%s", key);
	a->slot[best].tokens = CFG_AUTH_FAIL_BURST;
	a->slot[best].at = now;
	return &a->slot[best];
}

static void refill(struct admit_slot *s, int64_t now)
{
	s->tokens += (double)(now - s->at) / CFG_AUTH_FAIL_REFILL_MS;
	if (s->tokens > CFG_AUTH_FAIL_BURST)
		s->tokens = CFG_AUTH_FAIL_BURST;
	s->at = now;
}

int admit_blocked(struct admit *a, const char *peer, int64_t now)
{
	struct admit_slot *slot = find_slot(a, peer, 0, now);

	if (!slot)
		return 0;
	refill(slot, now);
	if (slot->tokens >= 1)
		return 0;
	return (int)((1 - slot->tokens) * CFG_AUTH_FAIL_REFILL_MS / 1000) + 1;
}

void admit_failed(struct admit *a, const char *peer, int64_t now)
{
	struct admit_slot *slot = find_slot(a, peer, 1, now);

	refill(slot, now);
	slot->tokens -= 1;
	if (slot->tokens < -CFG_AUTH_FAIL_BURST)
		slot->tokens = -CFG_AUTH_FAIL_BURST;
	a->failures++;
}

unsigned long long admit_failures(const struct admit *a)
{
	return a->failures;
}

const char *admit_token(const struct token_db *db, const char *tok, enum token_role role,
			const struct token_entry **e)
{
	*e = NULL;
	switch (token_check(tok, strlen(tok))) {
	case TOKEN_BAD_FORM:
		return "invalid token format";
	case TOKEN_BAD_SUM:
		return "invalid token checksum (mistyped token?)";
	}
	*e = token_db_find(db, tok, strlen(tok));
	if (!*e)
		return "unknown or revoked token";
	if ((*e)->role != role)
		return role == ROLE_AGENT ? "operator tokens cannot connect as agents"
					  : "agent tokens cannot be used as operators";
	return NULL;
}

/* Equal, or followed by a character that cannot continue the last number. */
int server_version_ok(const char *accept, const char *version)
{
	const char *p = accept;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		if (n == 1 && *p == '*')
			return 1;
		if (n && strncmp(version, p, n) == 0 &&
		    (version[n] == '\0' || version[n] < '0' || version[n] > '9'))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}
