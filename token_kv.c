/* token_kv.c - the fleet's token store from the command line (see
 * token_kv.h).  Each call connects, binds to the bucket (making it when it
 * is not there yet, with the configuration the servers give it), does its
 * one thing and closes. */
#include "token_kv.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "server_nats.h"

#if NESTD_NATS

#include <nats/nats.h>

#include "buf.h"
#include "config.h"

struct store {
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
};

static int fail(char *err, size_t n, const char *what, natsStatus st)
{
	const char *last = nats_GetLastError(NULL), *cut;

	/* "(conn.c:2088): No server available...": the library's place is noise here */
	if (last && last[0] == '(' && (cut = strstr(last, "): ")))
		last = cut + 3;
	fmt_snprintf(err, n, "%s: %s", what, last && *last ? last : natsStatus_GetText(st));
	return -1;
}

static void store_close(struct store *s)
{
	kvStore_Destroy(s->kv);
	jsCtx_Destroy(s->js);
	natsConnection_Destroy(s->nc);
	natsOptions_Destroy(s->opts);
	nats_Close();
}

/* Bound to PREFIX_tokens (made when missing): 0, or -1 (err). */
static int store_open(const struct token_kv *k, struct store *s, char *err, size_t n)
{
	char bucket[CFG_CLUSTER_PREFIX_MAX + 16];
	struct nats_cfg cfg = {
		.urls = k->urls, .name = "nestd token", .creds_file = k->creds,
		.user_file = k->user_file, .token_file = k->token_file, .ca_file = k->ca,
		.cert_file = k->cert, .key_file = k->key,
	};
	kvConfig kc;
	natsStatus st;
	const char *p;
	int urls = 1;

	memset(s, 0, sizeof(*s));
	if (natsOptions_Create(&s->opts) != NATS_OK)
		return fail(err, n, "NATS", NATS_NO_MEMORY);
	if (nats_apply_cfg(s->opts, &cfg, err, n) < 0)
		return -1;
	natsOptions_SetTimeout(s->opts, CFG_CLUSTER_CONNECT_TIMEOUT_MS);
	if ((st = natsConnection_Connect(&s->nc, s->opts)) != NATS_OK)
		return fail(err, n, "cannot connect to NATS", st);
	if ((st = natsConnection_JetStream(&s->js, s->nc, NULL)) != NATS_OK)
		return fail(err, n, "JetStream", st);
	fmt_snprintf(bucket, sizeof(bucket), "%s_tokens", k->prefix);
	st = js_KeyValue(&s->kv, s->js, bucket);
	if (st == NATS_NOT_FOUND) {
		for (p = k->urls; (p = strchr(p, ',')); p++)
			urls++;
		kvConfig_Init(&kc);
		kc.Bucket = bucket;
		kc.History = 1;
		kc.StorageType = js_FileStorage;
		kc.Replicas = k->replicas ? k->replicas : urls >= 3 ? 3 : 1;
		st = js_CreateKeyValue(&s->kv, s->js, &kc);
	}
	if (st != NATS_OK)
		return fail(err, n, "the token store", st);
	return 0;
}

/* 0 added, 1 the name is taken, -1 error. */
static int put_new(struct store *s, const struct token_entry *e, char *err, size_t n)
{
	struct buf b;
	natsStatus st;
	kvEntry *old = NULL;
	uint64_t rev;

	buf_init(&b, 4096);
	if (token_entry_format(e, &b) < 0) {
		buf_free(&b);
		fmt_snprintf(err, n, "out of memory");
		return -1;
	}
	st = kvStore_Create(&rev, s->kv, e->name, b.p, (int)b.len);
	buf_free(&b);
	if (st == NATS_OK)
		return 0;
	/* Refused: taken, unless something else went wrong. */
	if (kvStore_Get(&old, s->kv, e->name) == NATS_OK) {
		kvEntry_Destroy(old);
		return 1;
	}
	return fail(err, n, "storing the token", st);
}

int token_kv_new(const struct token_kv *k, const struct token_entry *e, char *err, size_t n)
{
	struct store s;
	int rc = store_open(k, &s, err, n);

	if (rc == 0)
		rc = put_new(&s, e, err, n);
	store_close(&s);
	return rc;
}

int token_kv_list(const struct token_kv *k, struct token_db *db, char *err, size_t n)
{
	struct store s;
	kvKeysList keys = { 0 };
	natsStatus st;
	int i, rc;

	memset(db, 0, sizeof(*db));
	rc = store_open(k, &s, err, n);
	if (rc == 0 && (st = kvStore_Keys(&keys, s.kv, NULL)) != NATS_OK && st != NATS_NOT_FOUND)
		rc = fail(err, n, "listing the token store", st);
	for (i = 0; rc == 0 && i < keys.Count; i++) {
		kvEntry *e = NULL;
		struct token_db one;

		if (kvStore_Get(&e, s.kv, keys.Keys[i]) != NATS_OK)
			continue;                 /* revoked meanwhile */
		if (token_db_parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), keys.Keys[i], &one,
				   err, n) == 0) {
			if (one.n == 1 && token_db_add(db, &one.e[0]) < 0)
				rc = fail(err, n, "listing", NATS_NO_MEMORY);
			token_db_free(&one);
		}
		kvEntry_Destroy(e);
	}
	kvKeysList_Destroy(&keys);
	store_close(&s);
	return rc;
}

int token_kv_revoke(const struct token_kv *k, const char *name, char *err, size_t n)
{
	struct store s;
	kvEntry *e = NULL;
	natsStatus st;
	int rc = store_open(k, &s, err, n);

	if (rc == 0 && (st = kvStore_Get(&e, s.kv, name)) != NATS_OK)
		rc = st == NATS_NOT_FOUND ? 1 : fail(err, n, "the token store", st);
	kvEntry_Destroy(e);
	if (rc == 0 && (st = kvStore_Delete(s.kv, name)) != NATS_OK)
		rc = fail(err, n, "revoking", st);
	store_close(&s);
	return rc;
}

int token_kv_import(const struct token_kv *k, const struct token_db *db, int *added,
		    int *kept, char *err, size_t n)
{
	struct store s;
	int i, rc = store_open(k, &s, err, n), r;

	*added = *kept = 0;
	for (i = 0; rc == 0 && i < db->n; i++) {
		r = put_new(&s, &db->e[i], err, n);
		if (r < 0)
			rc = -1;
		else if (r == 0)
			++*added;
		else
			++*kept;
	}
	store_close(&s);
	return rc;
}

#else /* !NESTD_NATS */

static int no_nats(char *err, size_t n)
{
	fmt_snprintf(err, n, "--cluster: this nestd was built without NATS (make NATS=1 with "
		 "libnats-dev installed)");
	return -1;
}

int token_kv_new(const struct token_kv *k, const struct token_entry *e, char *err, size_t n)
{
	return no_nats(err, n);
}

int token_kv_list(const struct token_kv *k, struct token_db *db, char *err, size_t n)
{
	memset(db, 0, sizeof(*db));
	return no_nats(err, n);
}

int token_kv_revoke(const struct token_kv *k, const char *name, char *err, size_t n)
{
	return no_nats(err, n);
}

int token_kv_import(const struct token_kv *k, const struct token_db *db, int *added,
		    int *kept, char *err, size_t n)
{
	*added = *kept = 0;
	return no_nats(err, n);
}

#endif
