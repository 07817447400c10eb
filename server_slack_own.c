/* server_slack_own.c - whose agents are whose for the Slack face: a
 * person reaches the agents whose token names them as owner
 * ("slack:U…"), an admin every agent, through the one rule of every face
 * (server_authz.h); the agent tokens the face mints for people, under the
 * token file's lock (in a fleet: into the fleet's store); and the Web API
 * calls the actions make.  Below both
 * server_slack.c and server_slack_act.c (server_slack_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fmt.h"
#include "log.h"
#include "server_audit.h"
#include "server_authz.h"
#include "server_int.h"
#include "server_slack_api.h"
#include "server_slack_int.h"
#include "sha256.h"
#include "token_file.h"

/* ---- who may see what ---- */

int slack_is_admin(const struct slack *sl, const char *user)
{
	int i;

	for (i = 0; i < sl->nadmins; i++)
		if (!strcmp(sl->admins[i], user))
			return 1;
	return 0;
}

/* "slack:U…" */
static void owner_of_user(const char *user, char *out, size_t n)
{
	fmt_snprintf(out, n, "slack:%s", user);
}

int slack_may(const struct slack *sl, const char *user, const char *name)
{
	const struct token_entry *e = token_db_by_name(&sl->srv->db, name);
	struct token_scope scope;
	char owner[TOKEN_OWNER_MAX + 1];

	if (slack_is_admin(sl, user))
		return 1;
	owner_of_user(user, owner, sizeof(owner));
	/* The same check as every face's: a scope that reaches what this
	 * person owns, against the agent's owner as the token file says. */
	return e && e->role == ROLE_AGENT && authz_scope_owned_by(&scope, owner) == 0 &&
	       authz_agent_visible(&scope, e->name, e->owner);
}

int slack_agents_of(const struct slack *sl, const char *user, const char **names, int max)
{
	const struct token_db *db = &sl->srv->db;
	int i, n = 0;

	for (i = 0; i < db->n && n < max; i++)
		if (db->e[i].role == ROLE_AGENT && slack_may(sl, user, db->e[i].name))
			names[n++] = db->e[i].name;
	return n;
}

/* ---- minting tokens ---- */

/* A free name for user's next agent: slack-u0123abcd, then -2, -3... */
static void new_name(const struct token_db *db, const char *user, char *name, size_t cap)
{
	char base[TOKEN_NAME_MAX + 1];
	size_t i;
	int k;

	fmt_snprintf(base, sizeof(base), "slack-%s", user);
	for (i = 0; base[i]; i++)
		if (base[i] >= 'A' && base[i] <= 'Z')
			base[i] = (char)(base[i] - 'A' + 'a');
	fmt_copy(name, cap, base);
	for (k = 2; token_db_by_name(db, name) && k < 10000; k++)
		fmt_snprintf(name, cap, "%.50s-%d", base, k);
}

/* The change, against the store as it is now (another writer may have
 * changed the file since the server read it): the new entry into *ne,
 * which replaces old's, if any. */
static int mint_entry(const struct token_db *db, const char *user, const char *old, char *name,
		      size_t ncap, char *token, struct token_entry *ne, char *err, size_t errlen)
{
	int i;

	char owner[TOKEN_OWNER_MAX + 1];
	int mine = 0;

	memset(ne, 0, sizeof(*ne));
	owner_of_user(user, owner, sizeof(owner));
	for (i = 0; i < db->n; i++)
		mine += db->e[i].role == ROLE_AGENT && !strcmp(db->e[i].owner, owner);
	if (old) {
		for (i = 0; i < db->n && strcmp(db->e[i].name, old); i++)
			;
		if (i == db->n || db->e[i].role != ROLE_AGENT) {
			fmt_snprintf(err, errlen, "there is no agent token named %s", old);
			return -1;
		}
		*ne = db->e[i];
		fmt_copy(name, ncap, old);
	} else if (mine >= CFG_SLACK_AGENTS_MAX) {
		fmt_snprintf(err, errlen, "you have %d tokens already: reset one instead", mine);
		return -1;
	} else {
		new_name(db, user, name, ncap);
		fmt_copy(ne->name, sizeof(ne->name), name);
		ne->role = ROLE_AGENT;
		token_scope_all(&ne->scope);
		owner_of_user(user, ne->owner, sizeof(ne->owner));
	}
	if (token_generate(token) < 0) {
		fmt_snprintf(err, errlen, "the kernel gave no random bytes");
		return -1;
	}
	sha256(token, TOKEN_LEN, ne->hash);
	ne->created = (long long)time(NULL);
	return 0;
}

/* The token file's change: the entry in place of old's. */
static int mint_in(struct token_db *db, const char *user, const char *old, char *name,
		   size_t ncap, char *token, char *err, size_t errlen)
{
	struct token_entry ne;
	const struct token_entry *e;

	if (mint_entry(db, user, old, name, ncap, token, &ne, err, errlen) < 0)
		return -1;
	if (old && (e = token_db_by_name(db, old)) != NULL)
		token_db_remove(db, (int)(e - db->e));
	if (token_db_add(db, &ne) < 0) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

struct minting {
	const char *user, *old;
	char *name, *token, *err;
	size_t ncap, errlen;
};

static int mint_edit(struct token_db *db, const void *arg)
{
	const struct minting *m = arg;

	return mint_in(db, m->user, m->old, m->name, m->ncap, m->token, m->err, m->errlen) < 0 ?
	       TOKEN_EDIT_ERROR : 0;
}

/* Where the tokens live: the token file, changed under the lock every
 * writer of it takes (token_edit, never waiting for it: the event loop
 * does not block), or in a fleet the fleet's store (the server's copy of
 * it is current). */
static int mint_stored(struct server *s, const char *user, const char *old, char *name,
		       size_t ncap, char *token, char *err, size_t errlen)
{
	struct minting m = { user, old, name, token, err, ncap, errlen };
	struct token_entry ne;

	if (s->tokens_put)
		return mint_entry(&s->db, user, old, name, ncap, token, &ne, err, errlen) < 0 ? -1 :
		       s->tokens_put(s, &ne, !old, err, errlen);
	return token_edit(s->o->tokens_path, mint_edit, &m, err, errlen) < 0 ? -1 : 0;
}

int slack_mint(struct slack *sl, const char *user, const char *old, char *name, size_t ncap,
	       char *token, size_t tcap, char *err, size_t errlen)
{
	struct server *s = sl->srv;
	int r;

	if (tcap < TOKEN_LEN + 1)
		return -1;
	r = mint_stored(s, user, old, name, ncap, token, err, errlen);
	if (r < 0) {
		memset(token, 0, tcap);
		log_warn("slack: %s: no token: %s", user, err);
		return -1;
	}
	/* The server takes the file as written (the fleet's store: at once):
	 * a reset token's session goes (its hash is no longer there). */
	s->tokens_recheck(s);
	log_info("slack: %s %s the token of agent %s", user, old ? "reset" : "made", name);
	{
		char who[TOKEN_OWNER_MAX + 1];

		owner_of_user(user, who, sizeof(who));
		audit_token(s->audit, old ? "token_reset" : "token_new", name, who);
	}
	return 0;
}

/* ---- the Web API, for the actions ---- */

static void logged(void *arg, const char *error, const struct json *j)
{
	/* server_slack_api.c has logged a failure with Slack's error code. */
}

struct slack_call *slack_call(struct slack *sl, const char *method, const char *body, size_t n,
			      slack_api_fn done, void *arg)
{
	return slack_api_call(sl->api, method, SLACK_BOT, body, n, CFG_SLACK_CALL_TIMEOUT_MS,
			      done ? done : logged, arg);
}

