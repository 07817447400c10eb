/* test_token.c - token.h's contract: the token format and its checksum,
 * names, the server's token file (NAME ROLE SHA256-HEX [CREATED] lines,
 * comments, every kind of bad line, a line over the reader's bounds), the
 * atomic save, lookups, and token_read_file's checks of a token file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sha256.h"
#include "../token.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* The reference document's example token, checksum and all. */
static const char seed_tok[] =
	"e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f.ddc69770";

static char dir[256];

static const char *tpath(const char *name)
{
	static char p[2][512];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static int put(const char *name, const char *text, mode_t mode)
{
	const char *p = tpath(name);
	FILE *f;

	unlink(p);     /* the last one may be read-only (0400) */
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0)
		return -1;
	return chmod(p, mode);
}

static int setup_dir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/nestd-unit-token.XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static void rm_dir(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* The stored form of a token: SHA-256 of the whole token, in hex. */
static void hash_hex(const char *tok, char out[65])
{
	sha256_hex(tok, strlen(tok), out);
}

void test_token_check(void)
{
	char t[TOKEN_LEN + 1], u[TOKEN_LEN + 2];
	int i, ok = 1;

	CHECK(token_check(seed_tok, strlen(seed_tok)) == TOKEN_OK);
	/* Generated tokens pass, and differ. */
	for (i = 0; i < 50 && ok; i++) {
		char t2[TOKEN_LEN + 1];

		ok = token_generate(t) == 0 && token_generate(t2) == 0 && strlen(t) == TOKEN_LEN &&
		     token_check(t, TOKEN_LEN) == TOKEN_OK && strcmp(t, t2) != 0;
	}
	CHECK(ok);

	/* Any one hex digit changed: the checksum no longer matches (in the
	 * 64 digits) or is another checksum (in the 8). */
	memcpy(u, seed_tok, sizeof(seed_tok));
	for (i = 0, ok = 1; i < TOKEN_LEN && ok; i++) {
		if (i == TOKEN_HEX_LEN)
			continue;
		u[i] = seed_tok[i] == '0' ? '1' : '0';
		ok = token_check(u, TOKEN_LEN) == TOKEN_BAD_SUM;
		u[i] = seed_tok[i];
	}
	CHECK(ok);

	/* The form: 64 lowercase hex, '.', 8 lowercase hex. */
	memcpy(u, seed_tok, sizeof(seed_tok));
	u[3] = 'F';
	CHECK(token_check(u, TOKEN_LEN) == TOKEN_BAD_FORM);
	memcpy(u, seed_tok, sizeof(seed_tok));
	u[TOKEN_LEN - 1] = 'A';
	CHECK(token_check(u, TOKEN_LEN) == TOKEN_BAD_FORM);
	memcpy(u, seed_tok, sizeof(seed_tok));
	u[10] = 'g';
	CHECK(token_check(u, TOKEN_LEN) == TOKEN_BAD_FORM);
	memcpy(u, seed_tok, sizeof(seed_tok));
	u[TOKEN_HEX_LEN] = ':';
	CHECK(token_check(u, TOKEN_LEN) == TOKEN_BAD_FORM);
	memcpy(u, seed_tok, sizeof(seed_tok));
	u[20] = '\0';   /* a NUL inside the n bytes */
	CHECK(token_check(u, TOKEN_LEN) == TOKEN_BAD_FORM);
	CHECK(token_check(seed_tok, TOKEN_LEN - 1) == TOKEN_BAD_FORM);
	CHECK(token_check(seed_tok, TOKEN_HEX_LEN) == TOKEN_BAD_FORM);
	CHECK(token_check("", 0) == TOKEN_BAD_FORM);
	/* One more character (a newline left on, a second dot): not a token. */
	snprintf(u, sizeof(u), "%s\n", seed_tok);
	CHECK(token_check(u, TOKEN_LEN + 1) == TOKEN_BAD_FORM);
	snprintf(u, sizeof(u), "0%s", seed_tok);
	CHECK(token_check(u, TOKEN_LEN + 1) == TOKEN_BAD_FORM);
	/* The dot shifted by one: 63 hex '.' 9 hex. */
	memcpy(u, seed_tok, sizeof(seed_tok));
	u[TOKEN_HEX_LEN - 1] = '.';
	u[TOKEN_HEX_LEN] = '4';
	CHECK(token_check(u, TOKEN_LEN) == TOKEN_BAD_FORM);
}

void test_token_names(void)
{
	char n[TOKEN_NAME_MAX + 2];

	CHECK(token_name_valid("alice"));
	CHECK(token_name_valid("web-01.example_org"));
	CHECK(token_name_valid("A"));
	CHECK(token_name_valid("0"));
	CHECK(token_name_valid("a-"));
	CHECK(token_name_valid("a."));
	memset(n, 'x', TOKEN_NAME_MAX);
	n[TOKEN_NAME_MAX] = '\0';
	CHECK(token_name_valid(n));
	n[TOKEN_NAME_MAX] = 'x';
	n[TOKEN_NAME_MAX + 1] = '\0';
	CHECK(!token_name_valid(n));
	CHECK(!token_name_valid(""));
	CHECK(!token_name_valid("-alice"));
	CHECK(!token_name_valid(".alice"));
	CHECK(!token_name_valid("a b"));
	CHECK(!token_name_valid("a/b"));
	CHECK(!token_name_valid("../x"));
	CHECK(!token_name_valid("a\tb"));
	CHECK(!token_name_valid("a\nb"));
	CHECK(!token_name_valid("caf\xc3\xa9"));
	CHECK(!token_name_valid("a:b"));
	CHECK(!token_name_valid("a\"b"));
	CHECK_STR(token_role_name(ROLE_AGENT), "agent");
	CHECK_STR(token_role_name(ROLE_OPERATOR), "operator");
}

/* Loads text as a token file: the result, with err (or "") in *why. */
static int load(const char *text, struct token_db *db, char *err, size_t n)
{
	err[0] = '\0';
	if (put("tokens", text, 0600) < 0)
		return -99;
	return token_db_load(tpath("tokens"), db, err, n);
}

/* The reason load gives for text ("" when it loads). */
static const char *err_of(const char *text)
{
	static char err[600];
	struct token_db db;

	if (load(text, &db, err, sizeof(err)) == 0)
		err[0] = '\0';
	token_db_free(&db);
	return err;
}

/* The stored form of a token, in a static buffer (two live at a time). */
static const char *hash_of(const char *tok)
{
	static char h[2][65];
	static int k;

	k ^= 1;
	sha256_hex(tok, strlen(tok), h[k]);
	return h[k];
}

/* -1, an empty db and err naming the line ("FILE:N:" or "line N"). */
static int refused_at(const char *text, int line)
{
	struct token_db db;
	char err[600], want[2][40];
	int rc = load(text, &db, err, sizeof(err));

	snprintf(want[0], sizeof(want[0]), ":%d:", line);
	snprintf(want[1], sizeof(want[1]), "line %d", line);
	if (rc != -1 || db.n != 0 || db.e != NULL || !(strstr(err, want[0]) || strstr(err, want[1]))) {
		fprintf(stderr, "  refused_at(line %d): rc %d, n %d, err '%s'\n", line, rc, db.n, err);
		token_db_free(&db);
		return 0;
	}
	return 1;
}

void test_token_file_good(void)
{
	struct token_db db;
	char err[600], text[2048], ha[65], hb[65], hc[65];
	const struct token_entry *e;
	unsigned char raw[32];

	if (setup_dir() < 0) {
		CHECK(!"mkdtemp");
		return;
	}
	/* Missing: an empty db, not an error. */
	CHECK(token_db_load(tpath("nonexistent"), &db, err, sizeof(err)) == 0 && db.n == 0);
	token_db_free(&db);

	hash_hex("token-a", ha);
	hash_hex("token-b", hb);
	hash_hex(seed_tok, hc);
	snprintf(text, sizeof(text),
		 "# nestd tokens: NAME ROLE SHA256(TOKEN) CREATED\n"
		 "\n"
		 "   # an indented comment\n"
		 "alice agent %s 1795640000\n"
		 "\t  ops   operator\t%s   17\n"
		 "seed agent %s\n"          /* CREATED is optional */
		 "\n", ha, hb, hc);
	CHECK(load(text, &db, err, sizeof(err)) == 0);
	CHECK(db.n == 3);
	if (db.n == 3) {
		CHECK_STR(db.e[0].name, "alice");
		CHECK(db.e[0].role == ROLE_AGENT && db.e[0].created == 1795640000);
		sha256("token-a", 7, raw);
		CHECK(memcmp(db.e[0].hash, raw, 32) == 0);
		CHECK_STR(db.e[1].name, "ops");
		CHECK(db.e[1].role == ROLE_OPERATOR && db.e[1].created == 17);
		CHECK_STR(db.e[2].name, "seed");
		CHECK(db.e[2].created == 0);
	}
	/* Lookups: by the token (its hash) and by name. */
	e = token_db_find(&db, seed_tok, strlen(seed_tok));
	CHECK(e && strcmp(e->name, "seed") == 0);
	e = token_db_find(&db, "token-b", 7);
	CHECK(e && e->role == ROLE_OPERATOR);
	CHECK(token_db_find(&db, "token-", 6) == NULL);
	CHECK(token_db_find(&db, "token-bb", 8) == NULL);
	CHECK(token_db_find(&db, "token-b", 6) == NULL);
	CHECK(token_db_by_name(&db, "ops") == &db.e[1]);
	CHECK(token_db_by_name(&db, "op") == NULL);
	CHECK(token_db_by_name(&db, "Ops") == NULL);
	token_db_free(&db);
	CHECK(db.n == 0 && db.e == NULL);

	/* CRLF line endings (a file edited on Windows), and a last line
	 * without its newline. */
	snprintf(text, sizeof(text), "# c\r\nalice agent %s 5\r\nops operator %s", ha, hb);
	CHECK(load(text, &db, err, sizeof(err)) == 0 && db.n == 2);
	CHECK(db.n == 2 && db.e[0].created == 5 && strcmp(db.e[1].name, "ops") == 0 &&
	      db.e[1].role == ROLE_OPERATOR);
	token_db_free(&db);
	/* A blank line is skipped whatever its line ending. */
	snprintf(text, sizeof(text), "alice agent %s 5\r\n\r\n \t\r\nops operator %s\r\n", ha, hb);
	CHECK(load(text, &db, err, sizeof(err)) == 0 && db.n == 2);
	token_db_free(&db);

	/* A comment-only or empty file. */
	CHECK(load("# nothing yet\n", &db, err, sizeof(err)) == 0 && db.n == 0);
	token_db_free(&db);
	CHECK(load("", &db, err, sizeof(err)) == 0 && db.n == 0);
	token_db_free(&db);
	rm_dir();
}

void test_token_file_bad(void)
{
	char text[4096], h[65], big[CFG_TOKEN_LINE_MAX + 300];
	struct token_db db;
	char err[600];

	if (setup_dir() < 0) {
		CHECK(!"mkdtemp");
		return;
	}
	/* Each a file whose bad line is the given one; %s is a hash. */
	static const struct { const char *text; int line; } bad[] = {
		/* Bad hashes: short, long, uppercase, not hex, missing. */
		{ "# header\nalice agent %.63s 1\n", 2 },
		{ "# header\nalice agent %s0 1\n", 2 },
		{ "# header\nalice agent %.60sABCD 1\n", 2 },
		{ "# header\nalice agent %.63sg 1\n", 2 },
		{ "# header\nalice agent\n", 2 },
		{ "# header\nalice\n", 2 },
		/* Truncated in the middle of the hash (a disk that filled up). */
		{ "# header\nok agent %s 1\nalice agent %.30s", 3 },
		/* Bad names and roles; fields in the wrong order. */
		{ "# header\n-alice agent %s 1\n", 2 },
		{ "# header\nal/ice agent %s 1\n", 2 },
		{ "# header\nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn agent %s 1\n", 2 },
		{ "# header\nalice admin %s 1\n", 2 },
		{ "# header\nalice Agent %s 1\n", 2 },
		{ "# header\nalice %s agent 1\n", 2 },
		/* The bad line is named even after good ones. */
		{ "a agent %s\nb agent %s\n# c\nc agent zz\n", 4 },
	};
	size_t i;

	hash_hex("x", h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ok;

		snprintf(text, sizeof(text), bad[i].text, h, h);
		ok = refused_at(text, bad[i].line);
		if (!ok)
			fprintf(stderr, "  case %zu: %s", i, bad[i].text);
		CHECK(ok);
	}

	/* Two entries with one name: `nestd token revoke NAME` would remove
	 * the first only and report NAME revoked while the second still logs
	 * in; a hand-merged file like this is refused at load, naming the
	 * later line and the earlier one. */
	{
		char h2[65];

		hash_hex("y", h2);
		snprintf(text, sizeof(text), "alice agent %s 1\nalice operator %s 2\n", h, h2);
		CHECK(refused_at(text, 2));
		CHECK(strstr(err_of(text), "line 1") != NULL);
		snprintf(text, sizeof(text), "# c\nbob agent %s\nalice agent %s 1\n\ncarol agent %s\n"
			 "alice agent %s 2\n", h2, h, hash_of("z"), hash_of("w"));
		CHECK(refused_at(text, 6));
		/* One token under two names: revoking one would leave it working
		 * under the other. */
		snprintf(text, sizeof(text), "alice agent %s 1\nbob agent %s 2\n", h, h);
		CHECK(refused_at(text, 2));
		CHECK(strstr(err_of(text), "alice") != NULL);
	}

	/* A line longer than the reader's bound is refused, never read as
	 * two: the tail of a long comment must not become a token line. */
	memset(big, 'c', sizeof(big));
	big[0] = '#';
	snprintf(big + CFG_TOKEN_LINE_MAX - 80, sizeof(big) - (CFG_TOKEN_LINE_MAX - 80),
		 "%80s evil operator %s 1\n", "", h);
	CHECK(refused_at(big, 1));
	CHECK(load(big, &db, err, sizeof(err)) == -1 && token_db_by_name(&db, "evil") == NULL &&
	      strstr(err, "longer than"));
	token_db_free(&db);
	/* ... and a line of exactly the bound is read (CR not counted). */
	{
		char line[CFG_TOKEN_LINE_MAX + 8];

		memset(line, ' ', sizeof(line));
		memcpy(line, "ok agent ", 9);
		memcpy(line + 9, h, 64);
		snprintf(line + CFG_TOKEN_LINE_MAX - 1, 8, "7\r\n");
		CHECK(load(line, &db, err, sizeof(err)) == 0 && db.n == 1 && db.e[0].created == 7);
		token_db_free(&db);
		line[CFG_TOKEN_LINE_MAX - 1] = ' ';
		snprintf(line + CFG_TOKEN_LINE_MAX, 8, "7\r\n");
		CHECK(refused_at(line, 1));
	}

	/* Not a file: a directory is neither missing nor a token file. */
	err[0] = '\0';
	CHECK(token_db_load(dir, &db, err, sizeof(err)) == -1 && db.n == 0 && strstr(err, "directory"));
	token_db_free(&db);
	rm_dir();
}

void test_token_file_many_and_save(void)
{
	struct token_db db, back;
	char err[600], want[65], *text;
	size_t cap = 6000 * 110, len = 0;
	int i, ok = 1;
	struct stat st;

	if (setup_dir() < 0) {
		CHECK(!"mkdtemp");
		return;
	}
	/* 5000 entries: the file has no count bound. */
	text = malloc(cap);
	CHECK(text != NULL);
	if (!text) {
		rm_dir();
		return;
	}
	for (i = 0; i < 5000; i++) {
		char tok[32];

		snprintf(tok, sizeof(tok), "t%d", i);
		hash_hex(tok, want);
		len += (size_t)snprintf(text + len, cap - len, "n%d %s %s %d\n", i,
					i % 3 ? "agent" : "operator", want, i);
	}
	CHECK(load(text, &db, err, sizeof(err)) == 0 && db.n == 5000);
	free(text);
	for (i = 0; i < db.n && ok; i++) {
		char tok[32];
		const struct token_entry *e;

		snprintf(tok, sizeof(tok), "t%d", i);
		e = token_db_find(&db, tok, strlen(tok));
		ok = e == &db.e[i] && e->created == i && e->role == (i % 3 ? ROLE_AGENT : ROLE_OPERATOR);
	}
	CHECK(ok);

	/* Saved: mode 0600, no temp file left, loads back equal. */
	CHECK(token_db_save(tpath("saved"), &db, err, sizeof(err)) == 0);
	CHECK(stat(tpath("saved"), &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(token_db_load(tpath("saved"), &back, err, sizeof(err)) == 0 && back.n == db.n);
	for (i = 0, ok = back.n == db.n; ok && i < db.n; i++)
		ok = strcmp(back.e[i].name, db.e[i].name) == 0 && back.e[i].role == db.e[i].role &&
		     back.e[i].created == db.e[i].created && memcmp(back.e[i].hash, db.e[i].hash, 32) == 0;
	CHECK(ok);
	token_db_free(&back);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "test \"$(ls '%s' | grep -c tmp)\" = 0", dir);
		CHECK(system(cmd) == 0);
	}
	/* Saving where it cannot: an error, nothing created. */
	err[0] = '\0';
	CHECK(token_db_save(tpath("no/such/dir/tokens"), &db, err, sizeof(err)) == -1 && err[0]);
	CHECK(access(tpath("no"), F_OK) != 0);
	token_db_free(&db);
	rm_dir();
}

/* token_read_file into out[cap]: the return value; out copied to got. */
static int rd(const char *text, mode_t mode, size_t cap, char *got, char *err, size_t errlen)
{
	char out[1024];

	if (put("tok", text, mode) < 0)
		return -99;
	err[0] = '\0';
	memset(out, 'Z', sizeof(out));
	if (token_read_file(tpath("tok"), out, cap, err, errlen) < 0) {
		got[0] = '\0';
		return -1;
	}
	snprintf(got, 1024, "%s", out);
	return 0;
}

void test_token_read_file(void)
{
	char got[1024], err[600], text[1200];

	if (setup_dir() < 0) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(text, sizeof(text), "%s\n", seed_tok);
	CHECK(rd(text, 0600, 128, got, err, sizeof(err)) == 0);
	CHECK_STR(got, seed_tok);
	CHECK(rd(text, 0400, 128, got, err, sizeof(err)) == 0 && strcmp(got, seed_tok) == 0);
	CHECK(rd(text, 0700, 128, got, err, sizeof(err)) == 0 && strcmp(got, seed_tok) == 0);
	/* Without a newline, with CRLF, with blanks around it. */
	CHECK(rd(seed_tok, 0600, 128, got, err, sizeof(err)) == 0 && strcmp(got, seed_tok) == 0);
	snprintf(text, sizeof(text), "%s\r\n", seed_tok);
	CHECK(rd(text, 0600, 128, got, err, sizeof(err)) == 0 && strcmp(got, seed_tok) == 0);
	snprintf(text, sizeof(text), "  \t%s \t\n", seed_tok);
	CHECK(rd(text, 0600, 128, got, err, sizeof(err)) == 0 && strcmp(got, seed_tok) == 0);
	/* Only the first line. */
	snprintf(text, sizeof(text), "%s\nsecond line\n", seed_tok);
	CHECK(rd(text, 0600, 128, got, err, sizeof(err)) == 0 && strcmp(got, seed_tok) == 0);

	/* Readable by group or others: refused with a reason (that does not
	 * quote the token). */
	snprintf(text, sizeof(text), "%s\n", seed_tok);
	CHECK(rd(text, 0644, 128, got, err, sizeof(err)) == -1 && err[0] && !strstr(err, seed_tok));
	CHECK(rd(text, 0640, 128, got, err, sizeof(err)) == -1 && err[0]);
	CHECK(rd(text, 0604, 128, got, err, sizeof(err)) == -1 && err[0]);
	CHECK(rd(text, 0666, 128, got, err, sizeof(err)) == -1 && err[0]);

	/* Nothing in it. */
	CHECK(rd("", 0600, 128, got, err, sizeof(err)) == -1 && err[0]);
	CHECK(rd(" \n\t\r\n", 0600, 128, got, err, sizeof(err)) == -1 && err[0]);
	/* Longer than the caller's buffer: refused, never cut short. */
	CHECK(rd(text, 0600, TOKEN_LEN, got, err, sizeof(err)) == -1 && err[0]);
	CHECK(rd(text, 0600, TOKEN_LEN + 1, got, err, sizeof(err)) == 0 && strcmp(got, seed_tok) == 0);
	/* A first line of 600 bytes fits the reader and the caller: read
	 * whole. */
	memset(text, 'a', 600);
	text[600] = '\n';
	text[601] = '\0';
	CHECK(rd(text, 0600, sizeof(got), got, err, sizeof(err)) == 0 && strlen(got) == 600);
	/* One longer than the reader's own bound (CFG_TOKEN_READ_MAX) is
	 * refused, never cut to its first bytes; so is one that is only
	 * blanks that long. */
	{
		static char huge[CFG_TOKEN_READ_MAX + 100];
		char cap[CFG_TOKEN_READ_MAX + 200];

		memset(huge, 'b', sizeof(huge) - 2);
		huge[sizeof(huge) - 2] = '\n';
		CHECK(put("tok", huge, 0600) == 0);
		err[0] = '\0';
		CHECK(token_read_file(tpath("tok"), cap, sizeof(cap), err, sizeof(err)) == -1 &&
		      strstr(err, "refused"));
		memset(huge, ' ', sizeof(huge) - 2);
		memcpy(huge + sizeof(huge) - 10, "abcdefgh", 8);
		CHECK(put("tok", huge, 0600) == 0);
		err[0] = '\0';
		CHECK(token_read_file(tpath("tok"), cap, sizeof(cap), err, sizeof(err)) == -1 && err[0]);
		/* Exactly the bound, then EOF: read. */
		memset(huge, 'c', CFG_TOKEN_READ_MAX);
		huge[CFG_TOKEN_READ_MAX] = '\0';
		CHECK(put("tok", huge, 0600) == 0);
		CHECK(token_read_file(tpath("tok"), cap, sizeof(cap), err, sizeof(err)) == 0 &&
		      strlen(cap) == CFG_TOKEN_READ_MAX);
	}
	/* Missing, or a directory. */
	err[0] = '\0';
	CHECK(token_read_file(tpath("nope"), got, sizeof(got), err, sizeof(err)) == -1 &&
	      strstr(err, tpath("nope")));
	err[0] = '\0';
	chmod(dir, 0700);
	CHECK(token_read_file(dir, got, sizeof(got), err, sizeof(err)) == -1 && err[0]);
	rm_dir();
}

/* Owners and scopes in the file: read, refused where they do not belong,
 * written back in the canonical form; old lines unchanged. */
void test_token_file_owner_scope(void)
{
	struct token_db db, back;
	struct buf b;
	char err[600], text[4096], h1[65], h2[65], h3[65], h4[65], h5[65];
	int i, ok;

	if (setup_dir() < 0) {
		CHECK(!"mkdtemp");
		return;
	}
	hash_hex("one", h1);
	hash_hex("two", h2);
	hash_hex("three", h3);
	hash_hex("four", h4);
	hash_hex("five", h5);
	snprintf(text, sizeof(text),
		 "web1 agent %s 10 owner=slack:U0123ABCD\n"
		 "bot operator %s 11 scope=can=read,control;agents=owner:slack:U1,web*,web*\n"
		 "old agent %s\n"
		 "ops operator %s 12\n"
		 "mail agent %s owner=alice@example.org\n",
		 h1, h2, h3, h4, h5);
	CHECK(load(text, &db, err, sizeof(err)) == 0 && db.n == 5);
	if (db.n == 5) {
		CHECK_STR(db.e[0].owner, "slack:U0123ABCD");
		CHECK(token_scope_is_all(&db.e[0].scope));
		CHECK(db.e[1].owner[0] == '\0' && db.e[1].scope.can == (TOKEN_CAN_READ | TOKEN_CAN_CONTROL));
		CHECK_STR(db.e[1].scope.agents, "owner:slack:U1,web*");
		CHECK(db.e[2].owner[0] == '\0' && token_scope_is_all(&db.e[2].scope) && db.e[2].created == 0);
		CHECK(token_scope_is_all(&db.e[3].scope));
		CHECK_STR(db.e[4].owner, "alice@example.org");
		CHECK(db.e[4].created == 0);
	}
	/* Written and read back: the same entries, the scope canonical. */
	buf_init(&b, 0);
	CHECK(token_db_format(&db, &b) == 0);
	CHECK(strstr(b.p, "scope=agents=owner:slack:U1,web*;can=read,control\n") != NULL);
	CHECK(strstr(b.p, " owner=slack:U0123ABCD\n") != NULL);
	CHECK(token_db_parse(b.p, b.len, "again", &back, err, sizeof(err)) == 0 && back.n == db.n);
	for (i = 0, ok = back.n == db.n; ok && i < db.n; i++)
		ok = !strcmp(back.e[i].name, db.e[i].name) && !strcmp(back.e[i].owner, db.e[i].owner) &&
		     back.e[i].scope.can == db.e[i].scope.can &&
		     !strcmp(back.e[i].scope.agents, db.e[i].scope.agents) &&
		     !memcmp(back.e[i].hash, db.e[i].hash, TOKEN_HASH_LEN);
	CHECK(ok);
	token_db_free(&back);
	buf_free(&b);
	token_db_free(&db);

	/* Each refused at its line. */
	{
		static const char *bad[] = {
			"x operator %s 1 owner=alice\n",          /* owner= on an operator */
			"x agent %s 1 scope=can=read\n",          /* scope= on an agent */
			"x agent %s 1 owner=a owner=b\n",         /* twice */
			"x operator %s 1 scope=can=read scope=can=exec\n",
			"x agent %s 1 colour=blue\n",             /* unknown field */
			"x agent %s 1 owner=\n",                  /* empty owner */
			"x agent %s 1 owner=-rf\n",
			"x agent %s 1 owner=a,b\n",
			"x agent %s 1 owner=%s\n",                /* too long (the hash, 64 + ...) */
			"x operator %s 1 scope=\n",
			"x operator %s 1 scope=can=write\n",
			"x operator %s 1 scope=agents=\n",
			"x operator %s 1 scope=agents=a/b\n",
			"x agent %s 1x\n",                        /* CREATED not digits */
			"x agent %s -5\n",
			"x agent %s 1 2\n",                       /* a second number */
			"x agent %s 1 owner\n",                   /* a field without = */
		};
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			char longowner[80];

			memset(longowner, 'o', 65);
			longowner[65] = '\0';
			snprintf(text, sizeof(text), "# first\n");
			snprintf(text + strlen(text), sizeof(text) - strlen(text), bad[k], h1, longowner);
			ok = refused_at(text, 2);
			if (!ok)
				fprintf(stderr, "  case %zu: %s", k, text);
			CHECK(ok);
		}
	}
	/* A NUL inside a line (a file a crash left zeroes in). */
	{
		char nul[200];
		int n = snprintf(nul, sizeof(nul), "a agent %s 1\n", h1);
		struct token_db d;

		nul[3] = '\0';
		CHECK(put("tokens", "", 0600) == 0);
		CHECK(token_db_parse(nul, (size_t)n, "mem", &d, err, sizeof(err)) == -1 &&
		      strstr(err, "mem:1:") && d.n == 0);
	}
	rm_dir();
}

/* The directory a token file lives in: refused when someone else could
 * replace the file; writers follow no symlink; a refused save leaves the
 * old file. */
void test_token_file_directory(void)
{
	struct token_db db;
	struct token_entry e;
	char err[600], sub[600], link[600], file[700];
	struct stat st;

	if (setup_dir() < 0) {
		CHECK(!"mkdtemp");
		return;
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "alice");
	token_scope_all(&e.scope);
	db.e = NULL;
	db.n = 0;
	CHECK(token_db_add(&db, &e) == 0);

	snprintf(sub, sizeof(sub), "%s/state", dir);
	snprintf(file, sizeof(file), "%s/tokens", sub);
	CHECK(mkdir(sub, 0700) == 0);
	CHECK(token_db_save(file, &db, err, sizeof(err)) == 0);

	/* Writable by the group or others: refused for reading and writing,
	 * with the reason and the fix. */
	chmod(sub, 0770);
	err[0] = '\0';
	CHECK(token_db_save(file, &db, err, sizeof(err)) == -1 && strstr(err, "writable by its group") &&
	      strstr(err, "chmod go-w"));
	{
		struct token_db d;

		err[0] = '\0';
		CHECK(token_db_load(file, &d, err, sizeof(err)) == -1 && strstr(err, "writable") && d.n == 0);
	}
	chmod(sub, 01777);
	err[0] = '\0';
	CHECK(token_db_save(file, &db, err, sizeof(err)) == -1 && strstr(err, "writable by others"));
	chmod(sub, 0700);

	/* Owned by another user (root can make one): refused, naming both. */
	if (geteuid() == 0) {
		struct token_db d;

		CHECK(chown(sub, 4242, 4242) == 0);
		err[0] = '\0';
		CHECK(token_db_load(file, &d, err, sizeof(err)) == -1 && strstr(err, "uid 4242"));
		CHECK(token_db_save(file, &db, err, sizeof(err)) == -1);
		CHECK(chown(sub, 0, 0) == 0);
	} else {
		SKIP("a directory owned by another user needs root to make");
	}

	/* A symlink to the directory: writers refuse it; readers follow it. */
	snprintf(link, sizeof(link), "%s/link", dir);
	CHECK(symlink(sub, link) == 0);
	snprintf(file, sizeof(file), "%s/tokens", link);
	err[0] = '\0';
	CHECK(token_db_save(file, &db, err, sizeof(err)) == -1 && strstr(err, "symbolic link"));
	{
		struct token_db d;

		CHECK(token_db_load(file, &d, err, sizeof(err)) == 0 && d.n == 1);
		token_db_free(&d);
	}
	/* The file kept its mode, and no temp file was left anywhere. */
	snprintf(file, sizeof(file), "%s/tokens", sub);
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
	{
		char cmd[800];

		snprintf(cmd, sizeof(cmd), "test \"$(ls -a '%s' | grep -c tmp)\" = 0", sub);
		CHECK(system(cmd) == 0);
	}
	token_db_free(&db);
	rm_dir();
}

/* token_file_changed: the same file is unchanged; a replaced, created or
 * removed one has changed. */
void test_token_file_changed(void)
{
	struct token_file_id id;
	struct token_db db;
	char err[600];

	if (setup_dir() < 0) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(token_db_load_id(tpath("tokens"), &db, &id, err, sizeof(err)) == 0 && !id.exists);
	CHECK(!token_file_changed(tpath("tokens"), &id));
	CHECK(put("tokens", "# one\n", 0600) == 0);
	CHECK(token_file_changed(tpath("tokens"), &id));
	CHECK(token_db_load_id(tpath("tokens"), &db, &id, err, sizeof(err)) == 0 && id.exists);
	CHECK(!token_file_changed(tpath("tokens"), &id));
	CHECK(!token_file_changed(tpath("tokens"), &id));
	/* put() unlinks and writes a new file: a new inode. */
	CHECK(put("tokens", "# one\n", 0600) == 0);
	CHECK(token_file_changed(tpath("tokens"), &id));
	/* A refused file's version is still told, so it is not retried until
	 * it changes again. */
	CHECK(put("tokens", "bad line\n", 0600) == 0);
	CHECK(token_db_load_id(tpath("tokens"), &db, &id, err, sizeof(err)) == -1 && id.exists);
	CHECK(!token_file_changed(tpath("tokens"), &id));
	unlink(tpath("tokens"));
	CHECK(token_file_changed(tpath("tokens"), &id));
	rm_dir();
}
