/* token_cmd.c - `nestd token new|list|revoke|import`: the token file's only
 * writer, and with --cluster URL the fleet's token store's (token_kv.c).  A change holds an exclusive flock(2) on a side lock file from
 * its load to its save, so two runs cannot lose each other's changes; the
 * directory, the lock file and the token file are opened without
 * following symlinks (token_file.c).  A running server notices the new
 * file by itself (server.c re-stats it), so nothing here signals anyone. */
#include "token.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "help.h"
#include "fmt.h"
#include "log.h"
#include "num.h"
#include "out.h"
#include "sha256.h"
#include "token_file.h"
#include "token_kv.h"

#define MAX_OPERANDS 4

/* --cluster given: never without NATS, where token_set refuses it (and
 * so the fleet's verbs leave such builds). */
#if NESTD_NATS
#define FLEET(o) ((o)->kv.urls != NULL)
#define NESTD_NATS_BUILT 1
#else
#define FLEET(o) 0
#define NESTD_NATS_BUILT 0
#endif

/* token_parse and token_validate return GO to go on, or the exit status. */
#define GO (-1)

/* The command line, parsed and validated; read only in token_run. */
struct token_opts {
	const char *verb;              /* new, list, revoke */
	const char *pos[MAX_OPERANDS]; /* operands after the verb */
	int npos;
	const char *role;              /* "agent" or "operator" */
	const char *owner, *scope_text; /* --owner, --scope as given, or NULL */
	struct token_scope scope;      /* --scope, parsed */
	const char *tokens, *state_dir; /* --tokens, --state-dir as given */
	struct token_kv kv;            /* --cluster and company; urls NULL: the file */
	const char *replicas;
	char path[4096], dir[4096];    /* the token file and its directory */
	const char *base;              /* the file's name in dir */
};

enum { T_ROLE = 1, T_OWNER, T_SCOPE, T_TOKENS, T_STATE_DIR, T_CLUSTER, T_CPREFIX, T_CREDS, T_USER,
       T_TOKEN, T_CA, T_CERT, T_KEY, T_REPLICAS };

/* cfg.c's parser, as every other subcommand's (getopt conventions; no
 * getopt_long in the static binary). */
static const struct cfg_opt token_cfg[] = {
	{ "role", 1, T_ROLE, 0 },
	{ "owner", 1, T_OWNER, 0 },
	{ "scope", 1, T_SCOPE, 0 },
	{ "tokens", 1, T_TOKENS, 0 },
	{ "state-dir", 1, T_STATE_DIR, 0 },
	{ "cluster", 1, T_CLUSTER, 0 },
	{ "cluster-prefix", 1, T_CPREFIX, 0 },
	{ "cluster-creds", 1, T_CREDS, 0 },
	{ "cluster-user-file", 1, T_USER, 0 },
	{ "cluster-token-file", 1, T_TOKEN, 0 },
	{ "cluster-ca", 1, T_CA, 0 },
	{ "cluster-cert", 1, T_CERT, 0 },
	{ "cluster-key", 1, T_KEY, 0 },
	{ "cluster-replicas", 1, T_REPLICAS, 0 },
	{ NULL, 0, 0, 0 },
};

/* The --help text is HELP_TEXT(token) in help_text.h (help.c prints it). */

static int usage_err(const char *msg)
{
	out_printf(&out_stderr, "nestd token: %s\nTry 'nestd help token'.\n", msg);
	return 2;
}

static int token_set(void *ctx, int id, const char *v, int from_file, char *err, size_t errlen)
{
	struct token_opts *o = ctx;
	const char **slot[] = { NULL, &o->role, &o->owner, &o->scope_text, &o->tokens, &o->state_dir,
				&o->kv.urls, &o->kv.prefix, &o->kv.creds, &o->kv.user_file,
				&o->kv.token_file, &o->kv.ca, &o->kv.cert, &o->kv.key, &o->replicas };

	if (!NESTD_NATS_BUILT && id >= T_CLUSTER) {
		fmt_snprintf(err, errlen, "--%s: this nestd was built without NATS (make NATS=1 with "
			     "libnats-dev installed)", token_cfg[id - 1].name);
		return -1;
	}
	*slot[id] = v;
	return 0;
}

/* Options may come before and after the verb: "token new alice --role
 * operator". */
static int token_parse(int argc, char **argv, struct token_opts *o)
{
	char *pos[MAX_OPERANDS + 1], err[300];
	int npos, help, i;

	memset(o, 0, sizeof(*o));
	o->role = "agent";
	token_scope_all(&o->scope);
	if (cfg_parse_args(argc - 1, argv + 1, token_cfg, token_set, o, pos, MAX_OPERANDS + 1,
			   &npos, &help, err, sizeof(err)) < 0)
		return usage_err(err);
	if (help) {
		help_print(HELP_TOKEN, &out_stdout);
		return 0;
	}
	if (!npos)
		return usage_err("missing verb: new, list or revoke");
	o->verb = pos[0];
	for (i = 1; i < npos; i++)
		o->pos[o->npos++] = pos[i];
	return GO;
}

/* --owner and --scope: each for its role, and only with new. */
static int validate_who(struct token_opts *o)
{
	int op = !strcmp(o->role, "operator");
	char err[300], msg[340];

	if ((o->owner || o->scope_text) && strcmp(o->verb, "new") != 0)
		return usage_err("--owner and --scope go with new");
	if (o->owner && op)
		return usage_err("--owner is for agent tokens (an operator token has a --scope)");
	if (o->scope_text && !op)
		return usage_err("--scope is for operator tokens (add --role operator)");
	if (o->owner && !token_owner_valid(o->owner, strlen(o->owner)))
		return usage_err("--owner: 1-" CFG_STR(TOKEN_OWNER_MAX) " letters, digits and . _ - : @ +, "
				 "not starting with '-'");
	if (o->scope_text &&
	    token_scope_parse(o->scope_text, strlen(o->scope_text), &o->scope, err, sizeof(err)) < 0) {
		fmt_snprintf(msg, sizeof(msg), "--%s", err);
		return usage_err(msg);
	}
	return GO;
}

/* --cluster and the options that go with it. */
static int validate_kv(struct token_opts *o)
{
	struct token_kv *k = &o->kv;
	const char *p;
	char *end;
	long r = 0;

	if (!FLEET(o)) {
		if (k->prefix || k->creds || k->user_file || k->token_file || k->ca || k->cert ||
		    k->key || o->replicas)
			return usage_err("the --cluster-* options go with --cluster");
		return GO;
	}
	if (strncmp(k->urls, "nats://", 7) && strncmp(k->urls, "tls://", 6))
		return usage_err("--cluster takes nats://HOST:PORT or tls://HOST:PORT, comma-separated");
	if (!k->prefix)
		k->prefix = CFG_CLUSTER_PREFIX;
	for (p = k->prefix; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
			break;
	if (*p || !*k->prefix || strlen(k->prefix) > CFG_CLUSTER_PREFIX_MAX)
		return usage_err("bad --cluster-prefix (1 to " CFG_STR(CFG_CLUSTER_PREFIX_MAX)
				 " of A-Z a-z 0-9 _ -)");
	if (o->replicas && ((r = num_strtol(o->replicas, &end)) < 1 || *end ||
			    r > CFG_CLUSTER_REPLICAS_MAX))
		return usage_err("bad --cluster-replicas (1 to " CFG_STR(CFG_CLUSTER_REPLICAS_MAX) ")");
	if (!k->cert != !k->key)
		return usage_err("--cluster-cert and --cluster-key go together");
	k->replicas = (int)r;
#define EMPTY_IF_NULL(f) if (!k->f) k->f = ""
	EMPTY_IF_NULL(creds);
	EMPTY_IF_NULL(user_file);
	EMPTY_IF_NULL(token_file);
	EMPTY_IF_NULL(ca);
	EMPTY_IF_NULL(cert);
	EMPTY_IF_NULL(key);
#undef EMPTY_IF_NULL
	return GO;
}

static int token_validate(struct token_opts *o)
{
	int list = !strcmp(o->verb, "list");

	if (strcmp(o->role, "agent") != 0 && strcmp(o->role, "operator") != 0)
		return usage_err("--role must be agent or operator");
	if (list && o->npos != 0)
		return usage_err("list takes no arguments");
	if ((!strcmp(o->verb, "new") || !strcmp(o->verb, "revoke")) && o->npos != 1)
		return usage_err("new and revoke take one NAME");
	if (!strcmp(o->verb, "import") && (o->npos != 0 || !o->tokens || !FLEET(o)))
		return usage_err("import takes --tokens FILE and --cluster URL");
	if (!list && strcmp(o->verb, "new") && strcmp(o->verb, "revoke") && strcmp(o->verb, "import"))
		return usage_err("unknown verb (new, list, revoke, import)");
	if (validate_kv(o) != GO)
		return 2;
	if (o->npos == 1 && !token_name_valid(o->pos[0]))
		return usage_err("NAME: 1-" CFG_STR(TOKEN_NAME_MAX) " letters, digits, '-', '_', '.', "
				 "not starting with '-' or '.'");
	if (validate_who(o) != GO)
		return 2;
	if (o->tokens) {
		fmt_copy(o->path, sizeof(o->path), o->tokens);
	} else {
		if (o->state_dir)
			fmt_copy(o->dir, sizeof(o->dir), o->state_dir);
		else
			token_default_state_dir(o->dir, sizeof(o->dir));
		fmt_snprintf(o->path, sizeof(o->path), "%.4080s/%s", o->dir, CFG_TOKENS_FILE);
	}
	if (strlen(o->path) > 4000 || token_path_split(o->path, o->dir, sizeof(o->dir), &o->base) < 0)
		return usage_err("--tokens must name a file");
	return GO;
}

/* The state directory and the lock (token_lock), the reason printed. */
static int lock_db(const struct token_opts *o, int *dfd)
{
	char err[700];
	int fd = token_lock(o->dir, o->base, 0, dfd, err, sizeof(err));

	if (fd < 0)
		out_printf(&out_stderr, "nestd token: %s\n", err);
	return fd;
}

static void list_row(const struct token_entry *e)
{
	char when[32] = "-", scope[CFG_SCOPE_MAX + 1];
	time_t t = (time_t)e->created;
	struct tm tm;

	if (t) {
		num_utc((long long)t, &tm);
		fmt_snprintf(when + log_fmt_tm(when, sizeof(when), &tm, ' '), 2, "Z");
	}
	token_scope_format(&e->scope, scope, sizeof(scope));
	out_print("%-24s %-9s %-21s %-24s %s\n", e->name, token_role_name(e->role), when,
	       e->role == ROLE_AGENT && e->owner[0] ? e->owner : "-",
	       e->role == ROLE_AGENT ? "-" : scope[0] ? scope : "all");
}

static int verb_list(const struct token_opts *o, struct token_db *db)
{
	int i;

	if (db->n == 0)
		out_printf(&out_stderr, "no tokens in %s\n", FLEET(o) ? "the fleet's token store" : o->path);
	else
		out_print("%-24s %-9s %-21s %-24s %s\n", "NAME", "ROLE", "CREATED", "OWNER", "SCOPE");
	for (i = 0; i < db->n; i++)
		list_row(&db->e[i]);
	return 0;
}

/* A new token into tok and its entry (only the hash) into ne: 0, or -1
 * with the reason printed. */
static int mint(const struct token_opts *o, char tok[TOKEN_LEN + 1], struct token_entry *ne)
{
	if (token_generate(tok) < 0) {
		out_printf(&out_stderr, "nestd token: the kernel gave no random bytes\n");
		return -1;
	}
	memset(ne, 0, sizeof(*ne));
	fmt_copy(ne->name, sizeof(ne->name), o->pos[0]);
	ne->role = strcmp(o->role, "operator") == 0 ? ROLE_OPERATOR : ROLE_AGENT;
	ne->created = (long long)time(NULL);
	fmt_snprintf(ne->owner, sizeof(ne->owner), "%s", o->owner ? o->owner : "");
	ne->scope = o->scope;
	sha256(tok, TOKEN_LEN, ne->hash);
	return 0;
}

/* Prints the new token once, on stdout; only its hash is kept. */
static int verb_new(const struct token_opts *o, int dfd, struct token_db *db)
{
	char tok[TOKEN_LEN + 1], err[800];
	struct token_entry ne;
	const char *name = o->pos[0];

	if (token_db_by_name(db, name)) {
		out_printf(&out_stderr, "nestd token: a token named '%s' exists; revoke it first\n", name);
		return 1;
	}
	if (mint(o, tok, &ne) < 0)
		return 1;
	if (token_db_add(db, &ne) < 0)
		fmt_snprintf(err, sizeof(err), "out of memory");
	else if (token_db_save_at(dfd, o->base, o->path, db, err, sizeof(err)) == 0)
		err[0] = '\0';
	if (err[0]) {
		out_printf(&out_stderr, "nestd token: %s\n", err);
		memset(tok, 0, sizeof(tok));
		return 1;
	}
	out_print("%s\n", tok);
	out_flush(&out_stdout);
	memset(tok, 0, sizeof(tok));
	out_printf(&out_stderr, "nestd token: %s token '%s' added to %s (only its hash is stored; "
		"keep the token above safe).\nA running server picks it up by itself: nothing needs "
		"restarting.\n",
		o->role, name, o->path);
	return 0;
}

static int verb_revoke(const struct token_opts *o, int dfd, struct token_db *db)
{
	const struct token_entry *e = token_db_by_name(db, o->pos[0]);
	char err[800];

	if (!e) {
		out_printf(&out_stderr, "nestd token: no token named '%s' in %s\n", o->pos[0], o->path);
		return 1;
	}
	token_db_remove(db, (int)(e - db->e));
	if (token_db_save_at(dfd, o->base, o->path, db, err, sizeof(err)) < 0) {
		out_printf(&out_stderr, "nestd token: %s\n", err);
		return 1;
	}
	out_printf(&out_stderr, "nestd token: revoked '%s'.\nA running server drops its sessions "
		"by itself within seconds: no restart, no SIGHUP needed.\n", o->pos[0]);
	return 0;
}

/* ---- the fleet's token store (--cluster) ---- */

static int kv_new(const struct token_opts *o)
{
	char tok[TOKEN_LEN + 1], err[800];
	struct token_entry ne;
	int rc;

	if (mint(o, tok, &ne) < 0)
		return 1;
	rc = token_kv_new(&o->kv, &ne, err, sizeof(err));
	if (rc == 0) {
		out_print("%s\n", tok);
		out_flush(&out_stdout);
		out_printf(&out_stderr, "nestd token: %s token '%s' added to the fleet's token store (%s_tokens; "
			"only its hash is stored; keep the token above safe).\nEvery server of the fleet "
			"knows it at once.\n", o->role, ne.name, o->kv.prefix);
	} else if (rc == 1) {
		out_printf(&out_stderr, "nestd token: the fleet's store has a token named '%s'; revoke it "
			"first\n", ne.name);
	} else {
		out_printf(&out_stderr, "nestd token: %s\n", err);
	}
	memset(tok, 0, sizeof(tok));
	return rc == 0 ? 0 : 1;
}

static int kv_import(const struct token_opts *o)
{
	struct token_db db;
	char err[800];
	int added = 0, kept = 0, rc;

	if (token_db_load(o->path, &db, err, sizeof(err)) < 0) {
		out_printf(&out_stderr, "nestd token: %s\n", err);
		return 1;
	}
	rc = token_kv_import(&o->kv, &db, &added, &kept, err, sizeof(err));
	token_db_free(&db);
	if (rc < 0)
		out_printf(&out_stderr, "nestd token: %s\n", err);
	out_printf(&out_stderr, "nestd token: %d tokens imported from %s into the fleet's store, %d kept "
		"(a token of that name was there already)\n", added, o->path, kept);
	return rc < 0 ? 1 : 0;
}

static int kv_run(const struct token_opts *o)
{
	struct token_db db;
	char err[800];
	int rc;

	if (!strcmp(o->verb, "new"))
		return kv_new(o);
	if (!strcmp(o->verb, "import"))
		return kv_import(o);
	if (!strcmp(o->verb, "revoke")) {
		rc = token_kv_revoke(&o->kv, o->pos[0], err, sizeof(err));
		if (rc == 0)
			out_printf(&out_stderr, "nestd token: revoked '%s'; every server of the fleet drops its "
				"sessions at once.\n", o->pos[0]);
		else if (rc == 1)
			out_printf(&out_stderr, "nestd token: no token named '%s' in the fleet's store\n", o->pos[0]);
		else
			out_printf(&out_stderr, "nestd token: %s\n", err);
		return rc == 0 ? 0 : 1;
	}
	if (token_kv_list(&o->kv, &db, err, sizeof(err)) < 0) {
		out_printf(&out_stderr, "nestd token: %s\n", err);
		token_db_free(&db);
		return 1;
	}
	rc = verb_list(o, &db);
	token_db_free(&db);
	return rc;
}

/* list reads without a lock (the file is only ever replaced whole);
 * new and revoke hold it from load to save. */
static int token_run(const struct token_opts *o)
{
	struct token_db db;
	struct token_file_id id;
	char err[800];
	int lockfd = -1, dfd = -1, rc = 1, lrc;

	if (!strcmp(o->verb, "list"))
		lrc = token_db_load(o->path, &db, err, sizeof(err));
	else if ((lockfd = lock_db(o, &dfd)) < 0)
		return 1;
	else
		lrc = token_db_load_at(dfd, o->base, o->path, 1, &db, &id, err, sizeof(err));
	if (lrc < 0)
		out_printf(&out_stderr, "nestd token: %s\n", err);
	else if (!strcmp(o->verb, "list"))
		rc = verb_list(o, &db);
	else if (!strcmp(o->verb, "new"))
		rc = verb_new(o, dfd, &db);
	else
		rc = verb_revoke(o, dfd, &db);
	token_db_free(&db);
	if (lockfd >= 0)
		close(lockfd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int token_main(int argc, char **argv)
{
	struct token_opts o;
	int rc;

	if ((rc = token_parse(argc, argv, &o)) != GO || (rc = token_validate(&o)) != GO)
		return rc;
	return FLEET(&o) ? kv_run(&o) : token_run(&o);
}
