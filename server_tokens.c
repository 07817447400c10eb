/* server_tokens.c - the fleet's token store, as every server holds it.
 *
 * With --cluster the tokens (names, roles, hashes, owners, scopes) live in
 * the key-value bucket P_tokens, one key a token, its value the token
 * file's line for it (token.h), written by `nestd token ... --cluster`
 * (token_kv.c).  Each server follows the bucket like the agents one: a
 * snapshot builds a new token table that replaces the server's at once
 * (so authentication never sees half a store), then every change is
 * applied as it is stored, and the server drops the sessions whose token
 * went (env.tokens_changed): a revocation reaches every server within the
 * time a message takes.
 *
 * The mirror is also written to a cache file in the state directory (at
 * most every CFG_CLUSTER_TOKENS_SAVE_MS): a server that starts while NATS
 * cannot be reached still knows the tokens it knew. */
/* Without libnats (make NATS=0, the static binaries) this is compiled out:
 * server_cluster.c's stubs stand in for the cluster. */
#if NESTD_NATS

#include "fmt.h"
#include "server_cluster_int.h"
#include "server_cluster.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "token_file.h"

/* The value of key as one token entry named key; -1 when it is not. */
static int entry_parse(const char *key, const struct nats_msg *m, struct token_entry *e)
{
	struct token_db one;
	char err[300];
	int ok;

	if (token_db_parse(m->data, m->len, "the fleet's token store", &one, err, sizeof(err)) < 0) {
		log_warn("cluster: token store: key %s: %s", key, err);
		return -1;
	}
	ok = one.n == 1 && strcmp(one.e[0].name, key) == 0;
	if (ok)
		*e = one.e[0];
	else
		log_warn("cluster: token store: key %s does not hold one token named so", key);
	token_db_free(&one);
	return ok ? 0 : -1;
}

/* Puts (or, e NULL, removes) the entry named key in db. */
static int db_set(struct token_db *db, const char *key, const struct token_entry *e)
{
	const struct token_entry *old = token_db_by_name(db, key);

	if (old)
		token_db_remove(db, (int)(old - db->e));
	return e ? token_db_add(db, e) : 0;
}

static void tokens_start(struct cluster *c)
{
	token_db_free(&c->building);
	memset(&c->building, 0, sizeof(c->building));
}

static void tokens_entry(struct cluster *c, const char *key, unsigned long long seq, int del,
			 const struct nats_msg *m)
{
	struct token_entry e;
	int ok = !del && entry_parse(key, m, &e) == 0;

	if (!c->w[W_TOKENS].synced) {          /* part of the snapshot */
		if (db_set(&c->building, key, ok ? &e : NULL) < 0)
			log_error("cluster: token store: out of memory");
		return;
	}
	if (db_set(c->env.db, key, ok ? &e : NULL) < 0)
		log_error("cluster: token store: out of memory");
	log_info("cluster: token store: %s %s", key, ok ? "stored" : "revoked");
	c->tokens_dirty = 1;
	c->env.tokens_changed(c->env.arg);
}

static void tokens_synced(struct cluster *c)
{
	token_db_free(c->env.db);
	*c->env.db = c->building;
	memset(&c->building, 0, sizeof(c->building));
	log_info("cluster: the fleet's token store is read: %d tokens", c->env.db->n);
	c->tokens_dirty = 1;
	c->tokens_saved_at = 0;          /* write the cache now */
	c->env.tokens_changed(c->env.arg);
}

static void tokens_watch_init(struct watch *w)
{
	w->bucket = "tokens";
	w->on_start = tokens_start;
	w->on_entry = tokens_entry;
	w->on_synced = tokens_synced;
}

/* Every heartbeat: the mirror into the cache file, now and then. */
static void tokens_tick(struct cluster *c, int64_t now)
{
	char err[600], dir[4096];
	const char *base;

	if (!c->tokens_dirty || !c->env.tokens_cache || !c->env.tokens_cache[0] ||
	    (c->tokens_saved_at && now - c->tokens_saved_at < CFG_CLUSTER_TOKENS_SAVE_MS))
		return;
	c->tokens_dirty = 0;
	c->tokens_saved_at = now;
	if (token_path_split(c->env.tokens_cache, dir, sizeof(dir), &base) == 0)
		token_dir_make(dir);
	if (token_db_save(c->env.tokens_cache, c->env.db, err, sizeof(err)) < 0)
		log_warn("cluster: cannot keep a copy of the token store: %s", err);
}

/* ---- a face's new token ---- */

int cluster_token_put(struct cluster *c, const struct token_entry *e, int create, char *err,
		      size_t errlen)
{
	char subj[160];
	struct nats_hdr h = { "Nats-Expected-Last-Subject-Sequence", "0" };
	struct cluster_status st;
	struct pend *p;
	struct buf b;
	int r;

	cluster_status(c, &st);
	if (!st.ready) {
		fmt_snprintf(err, errlen, "the fleet's token store cannot be reached (%s)", st.why);
		return -1;
	}
	buf_init(&b, 0);
	kv_subject(c, "tokens", e->name, subj, sizeof(subj));
	/* a new name only if no other server took it meanwhile */
	r = token_entry_format(e, &b) == 0 &&
	    js_send(c, subj, P_TOKEN, &h, create ? 1 : 0, &b, &p) == 0 ? 0 : -1;
	buf_free(&b);
	if (r < 0) {
		fmt_snprintf(err, errlen, "the token could not be sent to the fleet's token store");
		return -1;
	}
	fmt_copy(p->name, sizeof(p->name), e->name);
	/* Here at once (the store's change comes back through the watch the
	 * same): the token works on this server before its answer is read. */
	if (db_set(c->env.db, e->name, e) < 0) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->tokens_dirty = 1;
	c->env.tokens_changed(c->env.arg);
	return 0;
}

int cluster_token_drop(struct cluster *c, const char *name, char *err, size_t errlen)
{
	char subj[160];
	struct nats_hdr h = { "KV-Operation", "DEL" };
	struct cluster_status st;
	struct pend *p;

	cluster_status(c, &st);
	if (!st.ready) {
		fmt_snprintf(err, errlen, "the fleet's token store cannot be reached (%s)", st.why);
		return -1;
	}
	kv_subject(c, "tokens", name, subj, sizeof(subj));
	if (js_send(c, subj, P_TOKEN, &h, 1, NULL, &p) < 0) {
		fmt_snprintf(err, errlen, "the revocation could not be sent to the fleet's token store");
		return -1;
	}
	fmt_copy(p->name, sizeof(p->name), name);
	/* Gone here at once, as a put is here at once; every other server
	 * follows the store's deletion and drops the session if it holds it. */
	db_set(c->env.db, name, NULL);
	c->tokens_dirty = 1;
	c->env.tokens_changed(c->env.arg);
	return 0;
}

/* The answer to a P_TOKEN put (m NULL: none in time). */
static void tokens_put_answer(struct cluster *c, const struct pend *p, const struct nats_msg *m)
{
	char why[200] = "no answer in time";
	long long code;
	struct json j;

	if (m && js_answer(m, &j, NULL, &code, why, sizeof(why)) == 0) {
		json_free(&j);
		return;
	}
	/* What this server took at once is not the store's: read it anew. */
	log_warn("cluster: token store: %s not stored: %s", p->name, why);
	watch_again(c, W_TOKENS);
}

int cluster_load_tokens(const char *cache, struct token_db *db, char *err, size_t errlen)
{
	return token_db_load(cache, db, err, errlen);
}

const struct cluster_part cluster_tokens_part = {
	tokens_watch_init, tokens_put_answer, tokens_tick
};

#else

#include "server_cluster.h"

/* No cluster to be part of (cluster_open refuses): nothing to call. */
const struct cluster_part cluster_tokens_part;

#endif /* NESTD_NATS */
