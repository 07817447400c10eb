/* token.c - token generation and checks, and the token file's text: its
 * parser and its writer (the format is in token.h), and lookups.  No file
 * is touched here (token_file.c does that), so the parser can be fed any
 * bytes (fuzz/fuzz_token.c). */
#include "sort.h"
#include "token.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
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

static int name_ok(const char *name, size_t n)
{
	size_t i;

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

int token_name_valid(const char *name)
{
	return name_ok(name, strlen(name));
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

/* An index by hash of the entries of the database parsed last (the
 * server's, in a server), so that authenticating costs the same with
 * 100,000 tokens as with ten.  It lives here, keyed by the entry array,
 * rather than in struct token_db, whose users build and copy it freely:
 * token_db_free, token_db_add and token_db_remove drop it when it is
 * theirs, and token_db_find checks the whole hash of what it finds, so a
 * stale index could only ever miss, never return a wrong entry. */
static struct {
	const struct token_entry *e;
	int n;
	int *idx;         /* indices into e, -1 free; nidx a power of two */
	int nidx;
} tix;

static void index_drop(const struct token_db *db)
{
	if (db && db->e != tix.e)
		return;
	free(tix.idx);
	memset(&tix, 0, sizeof(tix));
}

static size_t hash_slot(const unsigned char *h, int nidx)
{
	size_t v = 0;
	int k;

	for (k = 0; k < (int)sizeof(v); k++)
		v = v << 8 | h[k];
	return v & (size_t)(nidx - 1);
}

/* Open addressing, at most half full.  Out of memory: no index, and
 * token_db_find walks the entries as before. */
static void index_build(const struct token_db *db)
{
	int i, n = 16;
	size_t s;

	index_drop(NULL);
	if (!db->e)
		return;
	while (n < 2 * db->n && n < (1 << 29))
		n *= 2;
	tix.idx = malloc((size_t)n * sizeof(*tix.idx));
	if (!tix.idx)
		return;
	for (i = 0; i < n; i++)
		tix.idx[i] = -1;
	for (i = 0; i < db->n; i++) {
		for (s = hash_slot(db->e[i].hash, n); tix.idx[s] >= 0; s = (s + 1) & (size_t)(n - 1))
			;
		tix.idx[s] = i;
	}
	tix.e = db->e;
	tix.n = db->n;
	tix.nidx = n;
}

/* The entry of hash h through the index: 1 and *found (NULL: none) when
 * the index is db's, 0 when it is not. */
static int index_find(const struct token_db *db, const unsigned char *h,
		      const struct token_entry **found)
{
	size_t s;
	int k;

	if (!tix.nidx || tix.e != db->e || tix.n != db->n)
		return 0;
	*found = NULL;
	for (s = hash_slot(h, tix.nidx); tix.idx[s] >= 0; s = (s + 1) & (size_t)(tix.nidx - 1)) {
		const struct token_entry *e = &db->e[tix.idx[s]];
		unsigned char d = 0;

		if (tix.idx[s] >= db->n)
			continue;
		for (k = 0; k < TOKEN_HASH_LEN; k++)
			d |= (unsigned char)(h[k] ^ e->hash[k]);
		if (d == 0) {
			*found = e;
			break;
		}
	}
	return 1;
}

void token_db_free(struct token_db *db)
{
	index_drop(db);
	free(db->e);
	db->e = NULL;
	db->n = 0;
}

/* The array's room doubles whenever n reaches a power of two (so its size
 * needs no field of its own: removals never shrink it). */
int token_db_add(struct token_db *db, const struct token_entry *e)
{
	if (db->n >= INT32_MAX / 2)
		return -1;
	index_drop(db);
	if ((db->n & (db->n - 1)) == 0) {
		struct token_entry *ne = realloc(db->e, (size_t)(db->n ? 2 * db->n : 1) * sizeof(*ne));

		if (!ne)
			return -1;
		db->e = ne;
	}
	db->e[db->n++] = *e;
	return 0;
}

void token_db_remove(struct token_db *db, int i)
{
	memmove(&db->e[i], &db->e[i + 1], (size_t)(db->n - i - 1) * sizeof(db->e[0]));
	db->n--;
	index_drop(db);
}

/* ---- parsing ---- */

/* A field of a line: blanks skipped, up to the next blank or the end. */
struct field {
	const char *p;
	size_t n;
};

static int next_field(const char **pp, const char *end, struct field *f)
{
	const char *p = *pp;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	f->p = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	f->n = (size_t)(p - f->p);
	*pp = p;
	return f->n > 0;
}

static int field_is(const struct field *f, const char *s)
{
	return f->n == strlen(s) && memcmp(f->p, s, f->n) == 0;
}

/* CREATED: digits only, no overflow. */
static int parse_created(const struct field *f, long long *out)
{
	long long v = 0;
	size_t i;

	if (f->n > 18)
		return -1;
	for (i = 0; i < f->n; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return -1;
		v = v * 10 + (f->p[i] - '0');
	}
	*out = v;
	return 0;
}

/* One owner= or scope= field into e; *seen: the fields given so far. */
static int parse_extra(const struct field *f, struct token_entry *e, unsigned *seen,
		       char *why, size_t n)
{
	const char *eq = memchr(f->p, '=', f->n);
	size_t kl = eq ? (size_t)(eq - f->p) : f->n, vl = eq ? f->n - kl - 1 : 0;
	int owner = eq && kl == 5 && memcmp(f->p, "owner", 5) == 0;
	int scope = eq && kl == 5 && memcmp(f->p, "scope", 5) == 0;

	if (!owner && !scope) {
		fmt_snprintf(why, n, "unknown field '%.*s' (owner=WHO, scope=SCOPE)",
			 (int)(kl > 40 ? 40 : kl), f->p);
		return -1;
	}
	if (*seen & (owner ? 1u : 2u)) {
		fmt_snprintf(why, n, "%s= given twice", owner ? "owner" : "scope");
		return -1;
	}
	*seen |= owner ? 1u : 2u;
	if (owner != (e->role == ROLE_AGENT)) {
		fmt_snprintf(why, n, owner ? "owner= is for agent tokens" : "scope= is for operator tokens");
		return -1;
	}
	if (scope)
		return token_scope_parse(eq + 1, vl, &e->scope, why, n);
	if (!token_owner_valid(eq + 1, vl)) {
		fmt_snprintf(why, n, "owner: 1-" CFG_STR(TOKEN_OWNER_MAX) " letters, digits and . _ - : @ +, "
			 "not starting with '-'");
		return -1;
	}
	memcpy(e->owner, eq + 1, vl);
	e->owner[vl] = '\0';
	return 0;
}

/* One line p[0..end) (no newline, no CR) into e: 1 an entry, 0 nothing
 * (blank or comment), -1 with the reason in why. */
static int parse_line(const char *p, const char *end, struct token_entry *e, char *why, size_t n)
{
	struct field name, role, hash, f;
	unsigned seen = 0;

	if (memchr(p, '\0', (size_t)(end - p))) {
		fmt_snprintf(why, n, "a NUL byte in the line");
		return -1;
	}
	if (!next_field(&p, end, &name) || name.p[0] == '#')
		return 0;
	memset(e, 0, sizeof(*e));
	token_scope_all(&e->scope);
	if (!next_field(&p, end, &role) || !next_field(&p, end, &hash)) {
		fmt_snprintf(why, n, "expected NAME ROLE SHA256 [CREATED] [owner=WHO] [scope=SCOPE]");
		return -1;
	}
	if (!name_ok(name.p, name.n)) {
		fmt_snprintf(why, n, "bad name (1-" CFG_STR(TOKEN_NAME_MAX) " letters, digits, '-', '_', '.', "
			 "not starting with '-' or '.')");
		return -1;
	}
	memcpy(e->name, name.p, name.n);
	if (!field_is(&role, "agent") && !field_is(&role, "operator")) {
		fmt_snprintf(why, n, "the role must be agent or operator");
		return -1;
	}
	e->role = field_is(&role, "operator") ? ROLE_OPERATOR : ROLE_AGENT;
	if (hash.n != 2 * TOKEN_HASH_LEN || unhex(hash.p, e->hash, TOKEN_HASH_LEN) < 0) {
		fmt_snprintf(why, n, "the hash must be 64 lowercase hex digits");
		return -1;
	}
	if (next_field(&p, end, &f) && !memchr(f.p, '=', f.n)) {
		if (parse_created(&f, &e->created) < 0) {
			fmt_snprintf(why, n, "CREATED must be epoch seconds (digits)");
			return -1;
		}
		next_field(&p, end, &f);
	}
	for (; f.n; next_field(&p, end, &f))
		if (parse_extra(&f, e, &seen, why, n) < 0)
			return -1;
	return 1;
}

/* An entry and the line it came from, for the duplicate checks. */
struct placed {
	const struct token_entry *e;
	int line;
};

static int by_name(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	int c = strcmp(x->e->name, y->e->name);

	return c ? c : x->line - y->line;
}

static int by_hash(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	int c = memcmp(x->e->hash, y->e->hash, TOKEN_HASH_LEN);

	return c ? c : x->line - y->line;
}

/* Two entries with one name (revoke would remove only one of them) or one
 * token (it would live on under the other name): the later line's reason. */
static int find_duplicate(const struct token_db *db, const int *lines, const char *origin,
			  char *err, size_t errlen)
{
	struct placed *pl;
	int i, bad = 0;

	if (db->n < 2)
		return 0;
	pl = malloc((size_t)db->n * sizeof(*pl));
	if (!pl) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < db->n; i++)
		pl[i] = (struct placed){ &db->e[i], lines[i] };
	sort_items(pl, (size_t)db->n, sizeof(*pl), by_name);
	for (i = 1; i < db->n && !bad; i++)
		if (strcmp(pl[i].e->name, pl[i - 1].e->name) == 0) {
			fmt_snprintf(err, errlen, "%s:%d: the name '%s' is already used on line %d", origin,
				 pl[i].line, pl[i].e->name, pl[i - 1].line);
			bad = 1;
		}
	sort_items(pl, (size_t)db->n, sizeof(*pl), by_hash);
	for (i = 1; i < db->n && !bad; i++)
		if (memcmp(pl[i].e->hash, pl[i - 1].e->hash, TOKEN_HASH_LEN) == 0) {
			fmt_snprintf(err, errlen, "%s:%d: the same token as line %d ('%s')", origin,
				 pl[i].line, pl[i - 1].line, pl[i - 1].e->name);
			bad = 1;
		}
	free(pl);
	return bad ? -1 : 0;
}

/* Room for entry n's line number in *lines (of *cap). */
static int room(int **lines, int *cap, int n)
{
	int ncap = *cap ? 2 * *cap : 16, *nl;

	if (n < *cap)
		return 0;
	if (*cap > INT32_MAX / 4 || !(nl = realloc(*lines, (size_t)ncap * sizeof(int))))
		return -1;
	*lines = nl;
	*cap = ncap;
	return 0;
}

/* One line after another: the entries into db, their line numbers into
 * *lines (malloc'd).  0, or -1 with err set. */
static int parse_lines(const char *text, size_t n, const char *origin, struct token_db *db,
		       int **lines, char *err, size_t errlen)
{
	const char *p = text, *end = text + n;
	int lineno = 0, cap = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		struct token_entry e;
		char why[300];
		int rc;

		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		if ((size_t)(le - p) > CFG_TOKEN_LINE_MAX) {
			fmt_snprintf(err, errlen, "%s:%d: line longer than " CFG_STR(CFG_TOKEN_LINE_MAX)
				 " bytes", origin, lineno);
			return -1;
		}
		rc = parse_line(p, le, &e, why, sizeof(why));
		if (rc < 0) {
			fmt_snprintf(err, errlen, "%s:%d: %s", origin, lineno, why);
			return -1;
		}
		if (rc > 0 && (room(lines, &cap, db->n) < 0 || token_db_add(db, &e) < 0)) {
			fmt_snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (rc > 0)
			(*lines)[db->n - 1] = lineno;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int token_db_parse(const char *text, size_t n, const char *origin, struct token_db *db,
		   char *err, size_t errlen)
{
	int *lines = NULL, rc;

	db->e = NULL;
	db->n = 0;
	rc = parse_lines(text, n, origin, db, &lines, err, errlen);
	if (rc == 0)
		rc = find_duplicate(db, lines, origin, err, errlen);
	free(lines);
	if (rc < 0)
		token_db_free(db);
	else
		index_build(db);
	return rc;
}

int token_entry_format(const struct token_entry *e, struct buf *out)
{
	char hex[2 * TOKEN_HASH_LEN + 1], scope[CFG_SCOPE_MAX + 1];
	int k;

	for (k = 0; k < TOKEN_HASH_LEN; k++) {
		hex[2 * k] = hexd[e->hash[k] >> 4];
		hex[2 * k + 1] = hexd[e->hash[k] & 15];
	}
	hex[2 * TOKEN_HASH_LEN] = '\0';
	token_scope_format(&e->scope, scope, sizeof(scope));
	return buf_printf(out, "%s %s %s %lld%s%s%s%s\n", e->name, token_role_name(e->role), hex,
			  e->created, e->owner[0] ? " owner=" : "", e->owner,
			  scope[0] ? " scope=" : "", scope);
}

int token_db_format(const struct token_db *db, struct buf *out)
{
	int i, rc;

	rc = buf_puts(out, "# nestd tokens: NAME ROLE SHA256(TOKEN) CREATED [owner=WHO] "
		      "[scope=SCOPE]. Edit with `nestd token`.\n");
	for (i = 0; i < db->n && rc == 0; i++)
		rc = token_entry_format(&db->e[i], out);
	return rc;
}

/* ---- lookups ---- */

const struct token_entry *token_db_find(const struct token_db *db, const char *token, size_t n)
{
	unsigned char h[TOKEN_HASH_LEN];
	const struct token_entry *found = NULL;
	int i, k;

	sha256(token, n, h);
	/* Through the index, the time depends on where SHA-256(token) falls
	 * in it: nothing anyone can turn into a token. */
	if (index_find(db, h, &found))
		return found;
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

const struct token_entry *token_db_find_hash(const struct token_db *db,
					     const unsigned char hash[TOKEN_HASH_LEN])
{
	const struct token_entry *found;
	int i;

	if (index_find(db, hash, &found))
		return found;
	for (i = 0; i < db->n; i++)
		if (memcmp(db->e[i].hash, hash, TOKEN_HASH_LEN) == 0)
			return &db->e[i];
	return NULL;
}

const struct token_entry *token_db_by_name(const struct token_db *db, const char *name)
{
	int i;

	for (i = 0; i < db->n; i++)
		if (strcmp(db->e[i].name, name) == 0)
			return &db->e[i];
	return NULL;
}
