/* test_dotenv.c - dotenv.h's reading of the .env form against what
 * python-dotenv (0.21, Debian 12's; the original client's loader) gives for the same
 * text: quotes, escapes, comments, export, blanks, CRLF, lines it skips,
 * the last binding winning; and token_dotenv / token_read_file, which take
 * a token file in the .env form too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dotenv.h"
#include "../token.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static const char *get(const char *text, const char *key, int *rc)
{
	static char out[256];

	*rc = dotenv_get(text, strlen(text), key, out, sizeof(out));
	return out;
}

/* Each row: the file's text, a key, what python-dotenv's dotenv_values()
 * gives for it (NULL: the key is not there). */
static const struct {
	const char *text, *key, *want;
} vec[] = {
	{ "CLIENT_TOKEN=abc\n", "CLIENT_TOKEN", "abc" },
	{ "# written by setup\nCLIENT_TOKEN=\"tok\"\nDEV=true\nWS_URL=ws://127.0.0.1:9/\n",
	  "WS_URL", "ws://127.0.0.1:9/" },
	{ "export DEV=false\nCLIENT_TOKEN='tok'  \n", "CLIENT_TOKEN", "tok" },
	{ "export DEV=false\n", "DEV", "false" },
	{ "export  \tK=v", "K", "v" },
	{ "exportK=v", "exportK", "v" },
	{ "  K =  value with spaces   # a comment\n", "K", "value with spaces" },
	{ "K=abc#def\n", "K", "abc#def" },
	{ "K=abc\t#def\n", "K", "abc" },
	{ "K=\"a\\nb\\t\\\"q\\\"\\\\\"\n", "K", "a\nb\t\"q\"\\" },
	{ "K='a\\nb'\n", "K", "a\\nb" },
	{ "K='it\\'s'\n", "K", "it's" },
	{ "K=\"two\nlines\"\nL=x\n", "K", "two\nlines" },
	{ "K=\"two\nlines\"\nL=x\n", "L", "x" },
	{ "K=\"a\\\"", "K", "a\\" },         /* no bare quote closes: the escaped one does */
	{ "K=\"open\nL=x\n", "K", NULL },
	{ "K=\"open\nL=x\n", "L", "x" },
	{ "K=1\nK=2\n", "K", "2" },
	{ "K=1\nK\n", "K", NULL },          /* a bare key unsets it */
	{ "=nokey\nK=v\n", "K", "v" },
	{ "K=\"v\" junk\nO=x\n", "K", NULL },
	{ "K=\"v\" junk\nO=x\n", "O", "x" },
	{ "K=\"v\"   # fine\n", "K", "v" },
	{ "'K'=v\n", "K", "v" },
	{ "K=\n", "K", "" },
	{ "K=v\r\nB=w\r\n", "K", "v" },
	{ "K=v\r\nB=w\r\n", "B", "w" },
	{ "K=v\rB=w", "B", "w" },
	{ "#K=v\n", "K", NULL },
	{ "K v\nL=w\n", "L", "w" },
	{ "", "K", NULL },
	{ "\n\n   \n", "K", NULL },
};

void test_dotenv_vectors(void)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		const char *got = get(vec[i].text, vec[i].key, &rc);

		if (!vec[i].want) {
			CHECK(rc == DOTENV_ABSENT);
			CHECK_STR(got, "");
		} else {
			CHECK(rc == (int)strlen(vec[i].want));
			CHECK_STR(got, vec[i].want);
		}
		if ((vec[i].want ? rc != (int)strlen(vec[i].want) : rc != DOTENV_ABSENT))
			fprintf(stderr, "  row %zu: %s\n", i, vec[i].text);
	}
}

void test_dotenv_bounds(void)
{
	char out[4];
	const char nul[] = "K=a\0b\n";

	CHECK(dotenv_get("K=abc", 5, "K", out, sizeof(out)) == 3);
	CHECK(dotenv_get("K=abcd", 6, "K", out, sizeof(out)) == DOTENV_BAD);
	CHECK_STR(out, "");
	CHECK(dotenv_get(nul, sizeof(nul) - 1, "K", out, sizeof(out)) == DOTENV_BAD);
	CHECK(dotenv_get("K=abc", 5, "K", out, 0) == DOTENV_BAD);
	/* the text is read only as far as n says */
	CHECK(dotenv_get("K=abcdef", 4, "K", out, sizeof(out)) == 2);
	CHECK_STR(out, "ab");
	CHECK(dotenv_get("K=\"ab", 5, "K", out, sizeof(out)) == DOTENV_ABSENT);
}

void test_dotenv_has_binding(void)
{
	static const struct { const char *t; int want; } v[] = {
		{ "e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f.ddc69770\n", 0 },
		{ "# only a comment = here\n", 0 },
		{ "KEY\n", 0 },
		{ "A=b\n", 1 },
		{ "# c\n\nexport A='b'\n", 1 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CHECK(dotenv_has_binding(v[i].t, strlen(v[i].t)) == v[i].want);
}

void test_token_dotenv(void)
{
	static const char tok[] =
		"e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f.ddc69770";
	char text[512], out[TOKEN_LEN + 8], dir[] = "/tmp/nestd-dotenv-XXXXXX", p[64], err[256];
	FILE *f;

	/* a bare token file is not the .env form */
	snprintf(text, sizeof(text), "  %s  \nsecond line\n", tok);
	CHECK(token_dotenv(text, strlen(text), out, sizeof(out)) == 0);
	snprintf(text, sizeof(text), "# the original's file\nDEV=true\nCLIENT_TOKEN=\"%s\"\n"
		 "WS_URL=ws://x/\n", tok);
	CHECK(token_dotenv(text, strlen(text), out, sizeof(out)) == 1);
	CHECK_STR(out, tok);
	snprintf(text, sizeof(text), "NESTD_TOKEN=%s\n", tok);
	CHECK(token_dotenv(text, strlen(text), out, sizeof(out)) == 1);
	CHECK_STR(out, tok);
	/* the .env form without a token: none, not its first word */
	CHECK(token_dotenv("DEV=true\n", 9, out, sizeof(out)) == -1);
	CHECK(token_dotenv("CLIENT_TOKEN=\n", 14, out, sizeof(out)) == -1);
	snprintf(text, sizeof(text), "CLIENT_TOKEN=%s\n", tok);
	CHECK(token_dotenv(text, strlen(text), out, 10) == -1);
	/* through token_read_file, as --token-file reads it */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/env", dir);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "export DEV=false\nCLIENT_TOKEN='%s'  # its token\n", tok);
		fclose(f);
	}
	chmod(p, 0600);
	CHECK(token_read_file(p, out, sizeof(out), err, sizeof(err)) == 0);
	CHECK_STR(out, tok);
	f = fopen(p, "w");
	if (f) {
		fputs("DEV=true\nWS_URL=ws://x/\n", f);
		fclose(f);
	}
	CHECK(token_read_file(p, out, sizeof(out), err, sizeof(err)) == -1 &&
	      strstr(err, "no CLIENT_TOKEN"));
	unlink(p);
	rmdir(dir);
}
