/* token.c - token generation and checks, the server's token file, and the
 * `nestd token` command.
 *
 * The file holds one token per line: NAME ROLE SHA256-HEX CREATED.  It is
 * never edited in place: every change writes a new file and renames it over
 * the old one, under an flock(2) on a side lock file so two `nestd token`
 * runs cannot lose each other's changes. */
#include "token.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotenv.h"
#include "log.h"
#include "rnd.h"
#include "sha256.h"

static const char hexd[] = "0123456789abcdef";

static int is_lhex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int token_generate(char out[TOKEN_LEN + 1])
{
	unsigned char r[TOKEN_HEX_LEN / 2];
	char sum[65];
	int i;

	if (rnd_bytes(r, sizeof(r)) < 0)
		return -1;
	for (i = 0; i < TOKEN_HEX_LEN / 2; i++) {
		out[2 * i] = hexd[r[i] >> 4];
		out[2 * i + 1] = hexd[r[i] & 15];
	}
	sha256_hex(out, TOKEN_HEX_LEN, sum);
	out[TOKEN_HEX_LEN] = '.';
	memcpy(out + TOKEN_HEX_LEN + 1, sum, TOKEN_SUM_LEN);
	out[TOKEN_LEN] = '\0';
	memset(r, 0, sizeof(r));
	return 0;
}

int token_check(const char *t, size_t n)
{
	char sum[65];
	size_t i;

	if (n != TOKEN_LEN || t[TOKEN_HEX_LEN] != '.')
		return TOKEN_BAD_FORM;
	for (i = 0; i < n; i++)
		if (i != TOKEN_HEX_LEN && !is_lhex((unsigned char)t[i]))
			return TOKEN_BAD_FORM;
	sha256_hex(t, TOKEN_HEX_LEN, sum);
	if (memcmp(sum, t + TOKEN_HEX_LEN + 1, TOKEN_SUM_LEN) != 0)
		return TOKEN_BAD_SUM;
	return TOKEN_OK;
}

int token_name_valid(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > TOKEN_NAME_MAX || name[0] == '-' || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

const char *token_role_name(enum token_role r)
{
	return r == ROLE_OPERATOR ? "operator" : "agent";
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = s[2 * i], lo = s[2 * i + 1];

		if (!is_lhex(hi) || !is_lhex(lo))
			return -1;
		hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void token_db_free(struct token_db *db)
{
	free(db->e);
	db->e = NULL;
	db->n = 0;
}

/* The next word (sscanf's %s: blanks skipped, up to the next blank) into
 * out; 0 if there is none or it does not fit (sscanf("%127s") would have
 * split it, which made the line malformed all the same). */
static int word(char **pp, char *out, size_t cap)
{
	char *p = *pp;
	size_t n = 0;

	while (*p && isspace((unsigned char)*p))
		p++;
	while (p[n] && !isspace((unsigned char)p[n]))
		n++;
	if (!n || n >= cap)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	*pp = p + n;
	return 1;
}

int token_db_load(const char *path, struct token_db *db, char *err, size_t errlen)
{
	FILE *f;
	char line[512];
	int lineno = 0;

	db->e = NULL;
	db->n = 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[128], role[32], hash[128];
		long long created;
		struct token_entry *e, *ne;
		char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (!word(&p, name, sizeof(name)) || !word(&p, role, sizeof(role)) ||
		    !word(&p, hash, sizeof(hash)) || !token_name_valid(name) || strlen(hash) != 2 * TOKEN_HASH_LEN ||
		    (strcmp(role, "agent") != 0 && strcmp(role, "operator") != 0)) {
			snprintf(err, errlen, "%s:%d: malformed token line", path, lineno);
			goto bad;
		}
		created = strtoll(p, NULL, 10);         /* optional: 0 if absent */
		ne = realloc(db->e, (size_t)(db->n + 1) * sizeof(*ne));
		if (!ne) {
			snprintf(err, errlen, "out of memory");
			goto bad;
		}
		db->e = ne;
		e = &db->e[db->n];
		memset(e, 0, sizeof(*e));
		strcpy(e->name, name);
		e->role = strcmp(role, "operator") == 0 ? ROLE_OPERATOR : ROLE_AGENT;
		e->created = created;
		if (unhex(hash, e->hash, TOKEN_HASH_LEN) < 0) {
			snprintf(err, errlen, "%s:%d: malformed hash", path, lineno);
			goto bad;
		}
		db->n++;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	token_db_free(db);
	return -1;
}

static int dir_of(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return snprintf(out, n, ".") < 0 ? -1 : 0;
	if (slash == path)
		return snprintf(out, n, "/") < 0 ? -1 : 0;
	if ((size_t)(slash - path) >= n)
		return -1;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

int token_db_save(const char *path, const struct token_db *db, char *err, size_t errlen)
{
	char tmp[4200], dir[4096];
	FILE *f;
	int fd, i, dfd;

	if (strlen(path) > 4000 || dir_of(path, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "token file path too long");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "# nestd tokens: NAME ROLE SHA256(TOKEN) CREATED. Edit with `nestd token`.\n");
	for (i = 0; i < db->n; i++) {
		char hex[2 * TOKEN_HASH_LEN + 1];
		int k;

		for (k = 0; k < TOKEN_HASH_LEN; k++) {
			hex[2 * k] = hexd[db->e[i].hash[k] >> 4];
			hex[2 * k + 1] = hexd[db->e[i].hash[k] & 15];
		}
		hex[2 * TOKEN_HASH_LEN] = '\0';
		fprintf(f, "%s %s %s %lld\n", db->e[i].name, token_role_name(db->e[i].role),
			hex, db->e[i].created);
	}
	if (fflush(f) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

const struct token_entry *token_db_find(const struct token_db *db, const char *token, size_t n)
{
	unsigned char h[TOKEN_HASH_LEN];
	const struct token_entry *found = NULL;
	int i, k;

	sha256(token, n, h);
	for (i = 0; i < db->n; i++) {
		unsigned char d = 0;

		for (k = 0; k < TOKEN_HASH_LEN; k++)
			d |= (unsigned char)(h[k] ^ db->e[i].hash[k]);
		/* no early exit: every entry costs the same */
		if (d == 0 && !found)
			found = &db->e[i];
	}
	return found;
}

const struct token_entry *token_db_by_name(const struct token_db *db, const char *name)
{
	int i;

	for (i = 0; i < db->n; i++)
		if (strcmp(db->e[i].name, name) == 0)
			return &db->e[i];
	return NULL;
}

void token_default_state_dir(char *out, size_t n)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		snprintf(out, n, "%s", CFG_STATE_DIR_ROOT);
	else if (x && x[0] == '/')
		snprintf(out, n, "%s/nestd", x);
	else
		snprintf(out, n, "%s/.local/state/nestd", home && *home ? home : ".");
}

/* The token a token file's text holds: the first word of a bare token
 * file, or CLIENT_TOKEN (else NESTD_TOKEN) of a file in the .env form,
 * the original client's ~/.env.nest-management-bot.  0, or -1. */
int token_from_text(const char *text, size_t n, char *out, size_t cap)
{
	const char *s = text, *e, *end = text + n;

	if (dotenv_has_binding(text, n))
		return dotenv_get(text, n, "CLIENT_TOKEN", out, cap) > 0 ||
		       dotenv_get(text, n, "NESTD_TOKEN", out, cap) > 0 ? 0 : -1;
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	for (e = s; e < end && *e && *e != '\n' && *e != '\r' && *e != ' ' && *e != '\t'; e++)
		;
	if (e == s || (size_t)(e - s) >= cap)
		return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

int token_read_file(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	char buf[CFG_TOKEN_FILE_MAX];
	ssize_t r = 0;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read token file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 0077)) {
		close(fd);
		snprintf(err, errlen, "token file %s is readable by others (mode %03o); chmod 600 it",
			 path, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	while (len < sizeof(buf) && ((r = read(fd, buf + len, sizeof(buf) - len)) > 0 ||
				     (r < 0 && errno == EINTR)))
		len += r > 0 ? (size_t)r : 0;
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "cannot read token file %s: %s", path, strerror(errno));
		return -1;
	}
	rc = token_from_text(buf, len, out, cap);
	memset(buf, 0, sizeof(buf));
	if (rc < 0) {
		out[0] = '\0';
		snprintf(err, errlen, "token file %s holds no token%s", path,
			 len == sizeof(buf) ? " (or it is too large)" : "");
		return -1;
	}
	return 0;
}

/* ---- `nestd token` ---- */

#define MAX_OPERANDS 4

/* token_parse and token_validate return GO to go on, or the exit status. */
#define GO (-1)

/* The command line, parsed and validated; read only in token_run. */
struct token_opts {
	const char *verb;              /* new, list, revoke */
	const char *pos[MAX_OPERANDS]; /* operands after the verb */
	int npos;
	const char *role;              /* "agent" or "operator" */
	const char *tokens, *state_dir; /* --tokens, --state-dir as given */
	char path[4096], dir[4096];    /* the token file and its directory */
};

static const struct option token_longopts[] = {
	{ "role", required_argument, NULL, 'r' },
	{ "tokens", required_argument, NULL, 't' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char token_usage[] =
	"usage: nestd token new NAME [--role agent|operator] | list | revoke NAME\n"
	"       [--tokens FILE] [--state-dir DIR]\n";

static int usage_err(const char *msg)
{
	fprintf(stderr, "nestd token: %s\nTry 'nestd help token'.\n", msg);
	return 2;
}

/* One getopt_long pass over argv[1..argc).  Before the verb (o->verb NULL)
 * it stops at the first operand and takes --help; after it, it collects
 * the operands. */
static int take_opts(int argc, char **argv, struct token_opts *o)
{
	int c;

	optind = 1;
	while (optind < argc) {
		c = getopt_long(argc, argv, "+h", token_longopts, NULL);
		if (c == -1) {
			if (!o->verb || optind >= argc)   /* the verb, or a final "--" */
				return GO;
			if (o->npos == MAX_OPERANDS)
				return usage_err("too many arguments");
			o->pos[o->npos++] = argv[optind++];
			continue;
		}
		switch (c) {
		case 'r': o->role = optarg; break;
		case 't': o->tokens = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'h':
			if (!o->verb) {
				fputs(token_usage, stdout);
				return 0;
			}
			/* fall through */
		default:
			return usage_err("bad option");
		}
	}
	return GO;
}

/* Options may come before and after the verb: "token new alice --role
 * operator". */
static int token_parse(int argc, char **argv, struct token_opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->role = "agent";
	if ((rc = take_opts(argc, argv, o)) != GO)
		return rc;
	if (optind >= argc)
		return usage_err("missing verb: new, list or revoke");
	o->verb = argv[optind];
	/* The verb stands in for argv[0] of the second pass. */
	return take_opts(argc - optind, argv + optind, o);
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
	if (!list && strcmp(o->verb, "new") && strcmp(o->verb, "revoke"))
		return usage_err("unknown verb (new, list, revoke)");
	if (o->npos == 1 && !token_name_valid(o->pos[0]))
		return usage_err("NAME: 1-" CFG_STR(TOKEN_NAME_MAX) " letters, digits, '-', '_', '.', "
				 "not starting with '-' or '.'");
	if (o->tokens) {
		snprintf(o->path, sizeof(o->path), "%s", o->tokens);
		dir_of(o->path, o->dir, sizeof(o->dir));
		return GO;
	}
	if (o->state_dir)
		snprintf(o->dir, sizeof(o->dir), "%s", o->state_dir);
	else
		token_default_state_dir(o->dir, sizeof(o->dir));
	snprintf(o->path, sizeof(o->path), "%.4080s/%s", o->dir, CFG_TOKENS_FILE);
	return GO;
}

static int mkdir_p(const char *dir)
{
	char tmp[4096];
	size_t i, n = strlen(dir);

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];

			tmp[i] = '\0';
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

/* The state directory and an exclusive flock(2) on PATH.lock, so two
 * changes cannot lose each other; the lock's descriptor, or -1. */
static int lock_db(const struct token_opts *o)
{
	char lockp[4200];
	int fd;

	if (mkdir_p(o->dir) < 0) {
		fprintf(stderr, "nestd token: cannot create %s: %s\n", o->dir, strerror(errno));
		return -1;
	}
	snprintf(lockp, sizeof(lockp), "%s.lock", o->path);
	fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		fprintf(stderr, "nestd token: cannot lock %s: %s\n", lockp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int verb_list(const struct token_opts *o, struct token_db *db)
{
	int i;

	if (db->n == 0)
		fprintf(stderr, "no tokens in %s\n", o->path);
	else
		printf("%-24s %-9s %s\n", "NAME", "ROLE", "CREATED");
	for (i = 0; i < db->n; i++) {
		char when[32] = "-";
		time_t t = (time_t)db->e[i].created;
		struct tm tm;

		if (t && gmtime_r(&t, &tm))
			snprintf(when + log_fmt_tm(when, sizeof(when), &tm, ' '), 2, "Z");
		printf("%-24s %-9s %s\n", db->e[i].name, token_role_name(db->e[i].role), when);
	}
	return 0;
}

/* Prints the new token once, on stdout; only its hash is kept. */
static int verb_new(const struct token_opts *o, struct token_db *db)
{
	char tok[TOKEN_LEN + 1], err[512];
	struct token_entry *ne;
	const char *name = o->pos[0];

	if (token_db_by_name(db, name)) {
		fprintf(stderr, "nestd token: a token named '%s' exists; revoke it first\n", name);
		return 1;
	}
	ne = realloc(db->e, (size_t)(db->n + 1) * sizeof(*ne));
	if (!ne) {
		fprintf(stderr, "nestd token: out of memory\n");
		return 1;
	}
	db->e = ne;
	if (token_generate(tok) < 0) {
		fprintf(stderr, "nestd token: the kernel gave no random bytes\n");
		return 1;
	}
	ne = &db->e[db->n];
	memset(ne, 0, sizeof(*ne));
	strcpy(ne->name, name);
	ne->role = strcmp(o->role, "operator") == 0 ? ROLE_OPERATOR : ROLE_AGENT;
	ne->created = (long long)time(NULL);
	sha256(tok, TOKEN_LEN, ne->hash);
	db->n++;
	if (token_db_save(o->path, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd token: %s\n", err);
		memset(tok, 0, sizeof(tok));
		return 1;
	}
	printf("%s\n", tok);
	fflush(stdout);
	memset(tok, 0, sizeof(tok));
	fprintf(stderr, "nestd token: %s token '%s' added to %s (only its hash is stored; keep the token above safe)\n",
		o->role, name, o->path);
	return 0;
}

static int verb_revoke(const struct token_opts *o, struct token_db *db)
{
	const struct token_entry *e = token_db_by_name(db, o->pos[0]);
	char err[512];

	if (!e) {
		fprintf(stderr, "nestd token: no token named '%s' in %s\n", o->pos[0], o->path);
		return 1;
	}
	memmove((void *)e, e + 1, (size_t)(db->n - (e - db->e) - 1) * sizeof(*e));
	db->n--;
	if (token_db_save(o->path, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd token: %s\n", err);
		return 1;
	}
	fprintf(stderr, "nestd token: revoked '%s' (a running server drops it on SIGHUP)\n", o->pos[0]);
	return 0;
}

/* list reads without a lock (the file is only ever replaced whole);
 * new and revoke hold it from load to save. */
static int token_run(const struct token_opts *o)
{
	struct token_db db;
	char err[512];
	int lockfd = -1, rc = 1;

	if (strcmp(o->verb, "list") != 0 && (lockfd = lock_db(o)) < 0)
		return 1;
	if (token_db_load(o->path, &db, err, sizeof(err)) < 0)
		fprintf(stderr, "nestd token: %s\n", err);
	else if (!strcmp(o->verb, "list"))
		rc = verb_list(o, &db);
	else if (!strcmp(o->verb, "new"))
		rc = verb_new(o, &db);
	else
		rc = verb_revoke(o, &db);
	token_db_free(&db);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

int token_main(int argc, char **argv)
{
	struct token_opts o;
	int rc;

	if ((rc = token_parse(argc, argv, &o)) != GO || (rc = token_validate(&o)) != GO)
		return rc;
	return token_run(&o);
}
