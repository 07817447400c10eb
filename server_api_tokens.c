/* server_api_tokens.c - agent tokens through the API, for the dashboard's
 * token page and any bot (docs/PROTOCOL.md, "Agent tokens"):
 *
 *   GET    /api/tokens          the agent tokens in reach: name, owner, created, online
 *   POST   /api/tokens          {"name":N[,"owner":WHO]} -> 201, the token, shown once
 *   DELETE /api/tokens/NAME     revoked: its agent is dropped at once
 *
 * Each needs the tokens kind (can=tokens, in every unscoped operator) and
 * reaches only agents the scope reaches (server_authz.h): a scope of
 * owner:WHO mints tokens owned by WHO (the default owner when it names
 * one and only one), a scope of web* mints web1.  Operator tokens are
 * never listed, minted or revoked here: that stays `nestd token` on the
 * server's machine.  The file is changed as `nestd token` changes it
 * (token_edit_add: under its lock, whole), then re-read at once, so a new
 * token works for the very next connection.  In a fleet (--cluster) the
 * tokens are the fleet's store (server_int.h's tokens_put, tokens_drop):
 * in effect here at once, on the other servers as the store's change
 * reaches them, a revoked agent dropped wherever it is connected. */
#include "server_api_tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "server_reply.h"
#include "server_audit.h"
#include "server_authz.h"
#include "server_cluster.h"
#include "server_int.h"
#include "sha256.h"
#include "token_file.h"

/* 1 after a 403 when op may not manage tokens at all. */
static int tokens_refused(struct conn *c, const struct token_entry *op, const char *what)
{
	char why[300];

	if (!authz_action_allowed(&op->scope, TOKEN_CAN_TOKENS, what, why, sizeof(why)))
		return 0;
	api_error(c, 403, NULL, why);
	return 1;
}

static void list_tokens(struct server *s, struct conn *c, const struct token_entry *op)
{
	struct buf b;
	struct jw w;
	int i;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_arr(&w);
	for (i = 0; i < s->db.n; i++) {
		const struct token_entry *e = &s->db.e[i];

		if (e->role != ROLE_AGENT || !authz_agent_visible(&op->scope, e->name, e->owner))
			continue;
		jw_obj(&w);
		jw_kstr(&w, "name", e->name);
		jw_kstr(&w, "owner", e->owner[0] ? e->owner : NULL);
		jw_key(&w, "created");
		if (e->created)
			jw_int(&w, e->created);
		else
			jw_null(&w);
		/* in a fleet: connected to any server */
		jw_kbool(&w, "online", peers_find_agent(&s->peers, e->name) ||
			 (SRV_CLUSTER(s) && cluster_agent_owner(SRV_CLUSTER(s), e->name)));
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	buf_putc(&b, '\n');
	api_json(c, 200, NULL, &b);
	buf_free(&b);
}

/* The owner a new token gets when the request names none: the scope's,
 * when it reaches agents of exactly one owner and nothing else. */
static void default_owner(const struct token_entry *op, char *owner, size_t cap)
{
	const char *a = op->scope.agents;

	if (!strncmp(a, "owner:", 6) && !strchr(a, ','))
		fmt_copy(owner, cap, a + 6);
}

/* Why the body names no token to mint (NULL: it does): name and owner. */
static const char *read_new(const char *body, size_t n, char *name, char *owner)
{
	struct json j;
	const char *why = NULL;
	int t;

	if (json_parse(&j, body, n, NULL, 0) < 0)
		return "body must be JSON: {\"name\": NAME, \"owner\": WHO}";
	if (json_type(&j, 0) != JSON_OBJECT)
		why = "body must be a JSON object: {\"name\": NAME, \"owner\": WHO}";
	else if (json_strcpy(&j, json_get(&j, 0, "name"), name, TOKEN_NAME_MAX + 1) < 0 ||
		 !token_name_valid(name))
		why = "\"name\" must be 1-" CFG_STR(TOKEN_NAME_MAX) " letters, digits, '-', '_', "
		      "'.', not starting with '-' or '.'";
	else if ((t = json_get(&j, 0, "owner")) >= 0 && json_type(&j, t) != JSON_NULL &&
		 (json_strcpy(&j, t, owner, TOKEN_OWNER_MAX + 1) < 0 ||
		  !token_owner_valid(owner, strlen(owner))))
		why = "\"owner\" must be 1-" CFG_STR(TOKEN_OWNER_MAX) " of letters, digits and "
		      ". _ - : @ +, not starting with '-'";
	json_free(&j);
	return why;
}

/* The new entry and its token into e, tok; 0, or -1 with no random bytes. */
static int make_entry(const char *name, const char *owner, struct token_entry *e,
		      char tok[TOKEN_LEN + 1])
{
	memset(e, 0, sizeof(*e));
	if (token_generate(tok) < 0)
		return -1;
	fmt_copy(e->name, sizeof(e->name), name);
	fmt_copy(e->owner, sizeof(e->owner), owner);
	e->role = ROLE_AGENT;
	e->created = (long long)time(NULL);
	token_scope_all(&e->scope);
	sha256(tok, TOKEN_LEN, e->hash);
	return 0;
}

/* The new entry into the store: the fleet's, or the token file;
 * 0 or a TOKEN_EDIT_* refusal with err. */
static int store_add(struct server *s, const struct token_entry *e, char *err, size_t errlen)
{
	if (!s->tokens_put)
		return token_edit_add(s->o->tokens_path, e, err, errlen);
	if (token_db_by_name(&s->db, e->name)) {
		fmt_snprintf(err, errlen, "a token named '%s' exists; revoke it first", e->name);
		return TOKEN_EDIT_EXISTS;
	}
	return s->tokens_put(s, e, 1, err, errlen) < 0 ? TOKEN_EDIT_BUSY : 0;
}

/* The agent token name out of the store, as store_add. */
static int store_remove(struct server *s, const char *name, char *err, size_t errlen)
{
	if (!s->tokens_drop)
		return token_edit_remove(s->o->tokens_path, name, ROLE_AGENT, err, errlen);
	return s->tokens_drop(s, name, err, errlen) < 0 ? TOKEN_EDIT_BUSY : 0;
}

/* An edit's refusal as the HTTP answer. */
static void edit_failed(struct conn *c, int rc, const char *err)
{
	if (rc == TOKEN_EDIT_BUSY)
		api_error(c, 503, "Retry-After: 1\r\n", err);
	else if (rc == TOKEN_EDIT_EXISTS)
		api_error(c, 409, NULL, err);
	else if (rc == TOKEN_EDIT_MISSING)
		api_error(c, 404, NULL, err);
	else
		api_error(c, 500, NULL, err);
}

static void answer_new(struct conn *c, const struct token_entry *e, const char *tok)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "name", e->name);
	jw_kstr(&w, "owner", e->owner[0] ? e->owner : NULL);
	jw_kint(&w, "created", e->created);
	jw_kstr(&w, "token", tok);
	jw_obj_end(&w);
	buf_putc(&b, '\n');
	api_json(c, 201, NULL, &b);
	memset(b.p, 0, b.len);
	buf_free(&b);
}

static void mint(struct server *s, struct conn *c, const struct token_entry *op,
		 const char *body, size_t n)
{
	char name[TOKEN_NAME_MAX + 1] = "", owner[TOKEN_OWNER_MAX + 1] = "", err[800];
	char tok[TOKEN_LEN + 1], msg[400], who[TOKEN_NAME_MAX + 1];
	const char *why = read_new(body, n, name, owner);
	struct token_entry e;
	int rc;

	/* op points into the token table, which the re-read below replaces. */
	fmt_copy(who, sizeof(who), op->name);

	if (why) {
		api_error(c, 400, NULL, why);
		return;
	}
	if (!owner[0])
		default_owner(op, owner, sizeof(owner));
	if (!authz_agent_visible(&op->scope, name, owner)) {
		fmt_snprintf(msg, sizeof(msg), "your scope does not reach an agent named '%s'%s%s%s: "
			 "mint one your scope reaches (GET /api/me)", name, owner[0] ? " owned by '" : "",
			 owner, owner[0] ? "'" : "");
		api_error(c, 403, NULL, msg);
		return;
	}
	if (make_entry(name, owner, &e, tok) < 0) {
		api_error(c, 500, NULL, "the kernel gave no random bytes");
		return;
	}
	rc = store_add(s, &e, err, sizeof(err));
	if (rc) {
		memset(tok, 0, sizeof(tok));
		log_warn("operator %s: minting a token for %s failed: %s", op->name, name, err);
		edit_failed(c, rc, err);
		return;
	}
	if (s->tokens_recheck)
		s->tokens_recheck(s);      /* the new token works for the next connection */
	log_info("operator %s minted an agent token '%s'%s%s", who, name,
		 owner[0] ? " owned by " : "", owner);
	audit_action(s->audit, "token_minted", who, c->peer, name, owner[0] ? owner : NULL);
	answer_new(c, &e, tok);
	memset(tok, 0, sizeof(tok));
}

static void revoke(struct server *s, struct conn *c, const struct token_entry *op,
		   const char *name)
{
	const struct token_entry *e = token_db_by_name(&s->db, name);
	char err[800], msg[200];
	int rc;

	/* Outside the scope is as absent as an unknown name. */
	if (!e || e->role != ROLE_AGENT || !authz_agent_visible(&op->scope, e->name, e->owner)) {
		fmt_snprintf(msg, sizeof(msg), "no agent token named '%s'", name);
		api_error(c, 404, NULL, msg);
		return;
	}
	rc = store_remove(s, name, err, sizeof(err));
	if (rc) {
		log_warn("operator %s: revoking the token '%s' failed: %s", op->name, name, err);
		edit_failed(c, rc, err);
		return;
	}
	log_info("operator %s revoked the agent token '%s'", op->name, name);
	audit_action(s->audit, "token_revoked", op->name, c->peer, name, NULL);
	if (s->tokens_recheck)
		s->tokens_recheck(s);      /* its session is dropped now; op and e are gone */
	fmt_snprintf(msg, sizeof(msg), "{\"revoked\":\"%s\"}\n", name);
	api_send(c, 200, "application/json", NULL, msg, strlen(msg));
}

void api_tokens(struct server *s, struct conn *c, const struct http_req *req,
		const struct token_entry *op, const char *name, const char *body, size_t n)
{
	int get = http_span_eq(&req->method, "GET") || http_span_eq(&req->method, "HEAD");

	if (!name && get) {
		if (!tokens_refused(c, op, "listing agent tokens"))
			list_tokens(s, c, op);
	} else if (!name && http_span_eq(&req->method, "POST")) {
		if (!tokens_refused(c, op, "minting an agent token"))
			mint(s, c, op, body, n);
	} else if (name && http_span_eq(&req->method, "DELETE")) {
		if (!tokens_refused(c, op, "revoking an agent token"))
			revoke(s, c, op, name);
	} else {
		api_error(c, 405, name ? "Allow: DELETE\r\n" : "Allow: GET, HEAD, POST\r\n",
			  "method not allowed");
	}
}
