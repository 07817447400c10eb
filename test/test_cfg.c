/* test_cfg.c - cfg.h's contract, through a table of our own: flags
 * (--name VALUE, --name=VALUE, options and operands in any order, "--",
 * -h/--help, unknown and malformed options), the config file (key = value,
 * comments, quotes, flags as booleans, unknown keys, keys only flags may
 * set, a line over the reader's bound), flags overriding the file, and the
 * number parsers with fractions, suffixes and overflow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cfg.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

enum { O_NAME = 1, O_COUNT, O_VERBOSE, O_SECRET, O_CONFIG };

static const struct cfg_opt opts[] = {
	{ "name", 1, O_NAME, 1 },
	{ "count", 1, O_COUNT, 1 },
	{ "verbose", 0, O_VERBOSE, 1 },
	{ "secret", 1, O_SECRET, 0 },     /* a flag only, never from a file */
	{ "config", 1, O_CONFIG, 0 },
	{ NULL, 0, 0, 0 },
};

/* Every set() call, in order: "ID=VALUE/f;" (f: from the file, a: a flag;
 * VALUE "(null)" for a flag without value), and the options' final values,
 * the last set winning. */
struct rec {
	char log[8192];
	char name[64];
	long long count;
	int verbose;
};

static int set(void *ctx, int id, const char *val, int from_file, char *err, size_t errlen)
{
	struct rec *r = ctx;
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%d=%.40s/%c;", id, val ? val : "(null)",
		 from_file ? 'f' : 'a');
	if (val && strcmp(val, "refuse") == 0) {
		snprintf(err, errlen, "refused value");
		return -1;
	}
	switch (id) {
	case O_NAME: snprintf(r->name, sizeof(r->name), "%s", val); break;
	case O_COUNT: r->count = atoll(val); break;
	case O_VERBOSE: r->verbose = 1; break;
	}
	return 0;
}

/* Parses a NULL-terminated list of arguments; *np operands into pos. */
static int parse(struct rec *r, char **pos, int maxpos, int *np, int *help, char *err, size_t errlen,
		 char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(r, 0, sizeof(*r));
	err[0] = '\0';
	return cfg_parse_args(argc, argv, opts, set, r, pos, maxpos, np, help, err, errlen);
}

#define ARGS(...) ((char *[]){ __VA_ARGS__, NULL })

void test_cfg_args(void)
{
	struct rec r;
	char *pos[4], err[300];
	int np, help;

	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--name", "alice")) == 0);
	CHECK_STR(r.log, "1=alice/a;");
	CHECK(np == 0 && help == 0);
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--name=alice")) == 0);
	CHECK_STR(r.log, "1=alice/a;");
	/* After the first '=', everything is the value; an empty value is one. */
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--name=a=b")) == 0);
	CHECK_STR(r.log, "1=a=b/a;");
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--name=")) == 0);
	CHECK_STR(r.log, "1=/a;");
	/* A separate value may start with '-'. */
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--count", "-5")) == 0);
	CHECK_STR(r.log, "2=-5/a;");
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--name", "--verbose")) == 0);
	CHECK(strcmp(r.log, "1=--verbose/a;") == 0 && !r.verbose);
	/* A flag takes no value. */
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--verbose")) == 0);
	CHECK_STR(r.log, "3=(null)/a;");
	/* Options and operands in any order; argv[0] is an operand like any. */
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err),
		    ARGS("ps", "--name", "x", "alice", "--verbose", "-", "--count=2")) == 0);
	CHECK(np == 3 && strcmp(pos[0], "ps") == 0 && strcmp(pos[1], "alice") == 0 && strcmp(pos[2], "-") == 0);
	CHECK_STR(r.log, "1=x/a;3=(null)/a;2=2/a;");
	/* In order: the last of a repeated option wins. */
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--name", "a", "--name=b")) == 0);
	CHECK_STR(r.name, "b");
	/* "--" ends the options: what follows is operands, even -h. */
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err),
		    ARGS("--name", "x", "--", "--verbose", "-h", "--")) == 0);
	CHECK(np == 3 && strcmp(pos[0], "--verbose") == 0 && strcmp(pos[1], "-h") == 0 &&
	      strcmp(pos[2], "--") == 0);
	CHECK(help == 0 && !r.verbose && strcmp(r.log, "1=x/a;") == 0);
	/* -h and --help, anywhere. */
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("--help")) == 0 && help == 1);
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("a", "-h", "--name", "n")) == 0 &&
	      help == 1 && np == 1 && strcmp(r.name, "n") == 0);
	CHECK(parse(&r, pos, 4, &np, &help, err, sizeof(err), ARGS("x")) == 0 && help == 0);
}

void test_cfg_args_bad(void)
{
	struct rec r;
	char *pos[2], err[300];
	int np, help;

	/* Unknown options, named in the reason. */
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("--nope")) == -1 && strstr(err, "--nope"));
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("--nope=1")) == -1 && strstr(err, "--nope"));
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("-x")) == -1 && strstr(err, "-x"));
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("-name", "x")) == -1 && err[0]);
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("--Name", "x")) == -1 && err[0]);
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("--")) == 0 && np == 0);
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("---name", "x")) == -1 && err[0]);
	/* A value missing at the end; a value given to a flag. */
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("--verbose", "--name")) == -1 &&
	      strstr(err, "name"));
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("--verbose=yes")) == -1 &&
	      strstr(err, "verbose") && !r.verbose);
	/* Too many operands. */
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("a", "b", "c")) == -1 && strstr(err, "c"));
	CHECK(parse(&r, pos, 0, &np, &help, err, sizeof(err), ARGS("a")) == -1 && err[0]);
	/* The setter's refusal ends the parse with its reason. */
	CHECK(parse(&r, pos, 2, &np, &help, err, sizeof(err), ARGS("--name", "refuse", "--verbose")) == -1 &&
	      strstr(err, "refused value") && !r.verbose);
}

void test_cfg_find_config(void)
{
	CHECK_STR(cfg_find_config(2, ARGS("--config", "a.conf")), "a.conf");
	CHECK_STR(cfg_find_config(3, ARGS("x", "--config=b.conf", "y")), "b.conf");
	CHECK_STR(cfg_find_config(4, ARGS("--config", "1", "--config", "2")), "1");
	CHECK(cfg_find_config(1, ARGS("--config")) == NULL);
	CHECK(cfg_find_config(3, ARGS("--", "--config", "c")) == NULL);
	CHECK(cfg_find_config(2, ARGS("--name", "x")) == NULL);
	CHECK(cfg_find_config(0, ARGS("--config", "x")) == NULL);
}

static char dir[256];

static const char *conf(const char *text)
{
	static char p[300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/test.conf", dir);
	f = fopen(p, "w");
	if (!f)
		return "/nonexistent/dir/test.conf";
	fputs(text, f);
	fclose(f);
	return p;
}

static int load(struct rec *r, const char *text, char *err, size_t n)
{
	memset(r, 0, sizeof(*r));
	err[0] = '\0';
	return cfg_load_file(conf(text), opts, set, r, err, n);
}

/* -1 with the line number ("FILE:N:" or "line N") in err. */
static int refused_at(const char *text, int line, const char *also)
{
	struct rec r;
	char err[600], w[2][32];
	int rc = load(&r, text, err, sizeof(err));

	snprintf(w[0], sizeof(w[0]), ":%d:", line);
	snprintf(w[1], sizeof(w[1]), "line %d", line);
	if (rc != -1 || !(strstr(err, w[0]) || strstr(err, w[1])) || (also && !strstr(err, also))) {
		fprintf(stderr, "  refused_at(%d): rc %d err '%s'\n", line, rc, err);
		return 0;
	}
	return 1;
}

void test_cfg_file(void)
{
	struct rec r;
	char err[600];
	const char *t;

	t = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/nestd-unit-cfg.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(load(&r, "# a comment\n\n   # indented comment\nname = alice\ncount=3\n"
		   "\t verbose \t=\t yes \t\n", err, sizeof(err)) == 0);
	CHECK_STR(r.log, "1=alice/f;2=3/f;3=(null)/f;");
	/* CRLF, a last line without newline. */
	CHECK(load(&r, "name = a\r\n\r\ncount = 4", err, sizeof(err)) == 0);
	CHECK_STR(r.log, "1=a/f;2=4/f;");
	/* Quotes around a value are dropped; only a matching pair. */
	CHECK(load(&r, "name = \"a b\"\n", err, sizeof(err)) == 0 && strcmp(r.name, "a b") == 0);
	CHECK(load(&r, "name = 'c d'\n", err, sizeof(err)) == 0 && strcmp(r.name, "c d") == 0);
	CHECK(load(&r, "name = \"\"\n", err, sizeof(err)) == 0 && strcmp(r.log, "1=/f;") == 0);
	CHECK(load(&r, "name = \"x'\n", err, sizeof(err)) == 0 && strcmp(r.name, "\"x'") == 0);
	CHECK(load(&r, "name = \"\n", err, sizeof(err)) == 0 && strcmp(r.name, "\"") == 0);
	CHECK(load(&r, "name = a\"b\"\n", err, sizeof(err)) == 0 && strcmp(r.name, "a\"b\"") == 0);
	/* Everything after the first '=' is the value. */
	CHECK(load(&r, "name = a = b\n", err, sizeof(err)) == 0 && strcmp(r.name, "a = b") == 0);
	CHECK(load(&r, "name =\n", err, sizeof(err)) == 0 && strcmp(r.log, "1=/f;") == 0);
	/* Flags as booleans: true ones set, false ones do not. */
	CHECK(load(&r, "verbose = true\n", err, sizeof(err)) == 0 && r.verbose);
	CHECK(load(&r, "verbose = 1\n", err, sizeof(err)) == 0 && r.verbose);
	CHECK(load(&r, "verbose = false\n", err, sizeof(err)) == 0 && r.log[0] == '\0');
	CHECK(load(&r, "verbose = no\nverbose = 0\n", err, sizeof(err)) == 0 && r.log[0] == '\0');
	CHECK(load(&r, "", err, sizeof(err)) == 0 && r.log[0] == '\0');

	/* Bad lines: named by number, and the key where there is one. */
	CHECK(refused_at("name = a\nbogus = 1\n", 2, "bogus"));
	CHECK(refused_at("# c\n\nname\n", 3, NULL));
	CHECK(refused_at("= x\n", 1, NULL));
	CHECK(refused_at("Name = x\n", 1, "Name"));
	CHECK(refused_at("name = x\nverbose = maybe\n", 2, "verbose"));
	CHECK(refused_at("verbose =\n", 1, NULL));
	/* A key only a flag may set (a token, say) is not read from a file. */
	CHECK(refused_at("secret = hunter2\n", 1, "secret"));
	CHECK(refused_at("config = other.conf\n", 1, NULL));
	/* "--name" is a flag, not a key. */
	CHECK(refused_at("--name = x\n", 1, NULL));
	/* The setter's refusal, with the line. */
	CHECK(refused_at("count = 1\nname = refuse\n", 2, "refused value"));
	/* A missing file is an error (the caller asked for it). */
	CHECK(cfg_load_file("/nonexistent/nestd.conf", opts, set, &r, err, sizeof(err)) == -1 &&
	      strstr(err, "/nonexistent/nestd.conf"));

	/* A line longer than the reader's 4 KiB buffer must not be read as
	 * two lines: its tail would be applied as a key of its own. */
	{
		static char big[9000];
		int rc;

		memcpy(big, "name = ", 7);
		memset(big + 7, 'a', 4095 - 7);
		snprintf(big + 4095, sizeof(big) - 4095, "count = 7\n");
		rc = load(&r, big, err, sizeof(err));
		CHECK(rc == -1 || (r.count == 0 && strlen(r.name) == sizeof(r.name) - 1));
	}
	unlink(conf(""));
	rmdir(dir);
}

/* The file first, then the flags over it: what the roles do with cfg.h. */
void test_cfg_flags_override_file(void)
{
	struct rec r;
	char err[300], *pos[2];
	char **argv = ARGS("--count", "9", "--config", "", "op");
	const char *cf;
	int np, help, argc = 5;

	{
		const char *t = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/nestd-unit-cfg.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(dir)) {
			CHECK(!"mkdtemp");
			return;
		}
	}
	cf = conf("name = fromfile\ncount = 1\nverbose = yes\n");
	argv[3] = (char *)cf;
	CHECK(cfg_find_config(argc, argv) == cf);
	memset(&r, 0, sizeof(r));
	CHECK(cfg_load_file(cfg_find_config(argc, argv), opts, set, &r, err, sizeof(err)) == 0);
	CHECK(cfg_parse_args(argc, argv, opts, set, &r, pos, 2, &np, &help, err, sizeof(err)) == 0);
	CHECK(strcmp(r.name, "fromfile") == 0 && r.count == 9 && r.verbose && np == 1 &&
	      strcmp(pos[0], "op") == 0);
	/* The file's values, then the flags' (--config among them) in order. */
	CHECK(strncmp(r.log, "1=fromfile/f;2=1/f;3=(null)/f;2=9/a;5=", 38) == 0);
	unlink(cf);
	rmdir(dir);
}

void test_cfg_numbers(void)
{
	long long ms;
	unsigned long long b;
	int v;

	/* Seconds, fractions allowed, into milliseconds. */
	CHECK(cfg_parse_seconds("0", &ms) == 0 && ms == 0);
	CHECK(cfg_parse_seconds("1", &ms) == 0 && ms == 1000);
	CHECK(cfg_parse_seconds("1.5", &ms) == 0 && ms == 1500);
	CHECK(cfg_parse_seconds("0.25", &ms) == 0 && ms == 250);
	CHECK(cfg_parse_seconds(".5", &ms) == 0 && ms == 500);
	CHECK(cfg_parse_seconds("0.001", &ms) == 0 && ms == 1);
	CHECK(cfg_parse_seconds("0.3", &ms) == 0 && ms == 300);
	CHECK(cfg_parse_seconds("86400", &ms) == 0 && ms == 86400000LL);
	CHECK(cfg_parse_seconds("2.", &ms) == 0 && ms == 2000);
	/* Not seconds: nothing written. */
	ms = 42;
	CHECK(cfg_parse_seconds("", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("abc", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("1s", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("5m", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("1.5.2", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("1,5", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("1 ", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("-1", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("-0.5", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("inf", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("nan", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("1e400", &ms) == -1 && ms == 42);
	CHECK(cfg_parse_seconds("99999999999999999999", &ms) == -1 && ms == 42);

	/* Bytes, with K/M/G (binary) and their KiB/KB spellings. */
	CHECK(cfg_parse_bytes("0", &b) == 0 && b == 0);
	CHECK(cfg_parse_bytes("4096", &b) == 0 && b == 4096);
	CHECK(cfg_parse_bytes("1K", &b) == 0 && b == 1024);
	CHECK(cfg_parse_bytes("1k", &b) == 0 && b == 1024);
	CHECK(cfg_parse_bytes("64KiB", &b) == 0 && b == 65536);
	CHECK(cfg_parse_bytes("2M", &b) == 0 && b == 2u << 20);
	CHECK(cfg_parse_bytes("2MB", &b) == 0 && b == 2u << 20);
	CHECK(cfg_parse_bytes("1G", &b) == 0 && b == 1u << 30);
	CHECK(cfg_parse_bytes("3g", &b) == 0 && b == 3ull << 30);
	CHECK(cfg_parse_bytes("10B", &b) == 0 && b == 10);
	b = 42;
	CHECK(cfg_parse_bytes("", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("K", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("-1", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("+1", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes(" 1", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("1.5M", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("1 K", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("1KK", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("1T", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("1X", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("0x10", &b) == -1 && b == 42);
	/* Too big to hold, with or without a suffix: refused, never wrapped. */
	CHECK(cfg_parse_bytes("18446744073709551616", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("17179869184G", &b) == -1 && b == 42);
	CHECK(cfg_parse_bytes("18014398509481984K", &b) == -1 && b == 42);

	/* Booleans. */
	CHECK(cfg_parse_bool("true", &v) == 0 && v == 1);
	CHECK(cfg_parse_bool("YES", &v) == 0 && v == 1);
	CHECK(cfg_parse_bool("1", &v) == 0 && v == 1);
	CHECK(cfg_parse_bool("False", &v) == 0 && v == 0);
	CHECK(cfg_parse_bool("no", &v) == 0 && v == 0);
	CHECK(cfg_parse_bool("0", &v) == 0 && v == 0);
	v = 7;
	CHECK(cfg_parse_bool("", &v) == -1 && v == 7);
	CHECK(cfg_parse_bool("2", &v) == -1 && v == 7);
	CHECK(cfg_parse_bool("truee", &v) == -1 && v == 7);
	CHECK(cfg_parse_bool("y", &v) == -1 && v == 7);
}
