/* test_minify.c - tools/minify.c, the build-time minifier of the dashboard's
 * JS and CSS and of install.sh: what it must keep (strings, regex literals,
 * the spaces and line breaks that change meaning, here-documents), what it
 * drops, what it refuses, and the real files: smaller, a fixed point, and
 * (with node) app.js still JavaScript. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"

#define MINIFY_LIB
#include "../tools/minify.c"

void test_minify_cases(void);
void test_minify_refuses(void);
void test_minify_ui_files(void);

static char out_[4096];

static const char *mini(int kind, const char *in)
{
	size_t n;
	char err[200];

	if (minify(kind, in, strlen(in), out_, &n, err, sizeof(err)) < 0)
		return NULL;
	out_[n] = '\0';
	return out_;
}

/* What comes out of what, kind by kind; NULL: refused. */
static const struct {
	int kind;
	const char *in, *want;
} cases[] = {
	/* comments go; a line break stays where a statement may end there */
	{ MINIFY_JS, "/* head */\nvar a = 1; // one\n  var b = a\n  return b\n",
	  "var a=1;var b=a\nreturn b\n" },
	{ MINIFY_JS, "x = y /* a\n b */ z",
	  "x=y\nz\n" },
	{ MINIFY_JS, "f(a,\n  b)\n{\n  g()\n}\n",
	  "f(a,b)\n{g()}\n" },
	{ MINIFY_JS, "a++\nb\n",
	  "a++\nb\n" },
	/* spaces that keep tokens apart */
	{ MINIFY_JS, "var x = a - -b + +c, y = a + ++c;",
	  "var x=a- -b+ +c,y=a+ ++c;\n" },
	{ MINIFY_JS, "x = a / /re/.exec(s).length;",
	  "x=a/ /re/.exec(s).length;\n" },
	{ MINIFY_JS, "if (x < !--y) 1 .toString();",
	  "if(x< !--y)1 .toString();\n" },
	{ MINIFY_JS, "typeof  x === 'string'",
	  "typeof x==='string'\n" },
	/* strings and regexes byte for byte, whatever they hold */
	{ MINIFY_JS, "s = 'a  /* b */ // c' + \"d \\\" e  \" + `f  // g`;",
	  "s='a  /* b */ // c'+\"d \\\" e  \"+`f  // g`;\n" },
	{ MINIFY_JS, "r = /\\/\\/ [/*]  '/g; t = s.split(/\\s+/);",
	  "r=/\\/\\/ [/*]  '/g;t=s.split(/\\s+/);\n" },
	{ MINIFY_JS, "return /a b/.test(x)",
	  "return/a b/.test(x)\n" },
	/* after a name or a closing bracket '/' divides */
	{ MINIFY_JS, "x = a / b / c; y = (a) / 2 / (b);",
	  "x=a/b/c;y=(a)/2/(b);\n" },
	{ MINIFY_JS, "",
	  "" },
	{ MINIFY_JS, "  \n /* only */ \n",
	  "" },
	{ MINIFY_CSS, "/* c */\na  b > c ,\n d :hover {\n  color : red ;\n  margin: 0 auto;\n}\n",
	  "a b > c,d :hover{color :red;margin:0 auto}\n" },
	{ MINIFY_CSS, "@media (max-width: 40em) and (hover: none) {\n  a { width: calc(100% - 2px); }\n}",
	  "@media (max-width:40em) and (hover:none){a{width:calc(100% - 2px)}}\n" },
	{ MINIFY_CSS, "a::after { content: ' /* x */ ;  } '; }",
	  "a::after{content:' /* x */ ;  } '}\n" },
	{ MINIFY_CSS, "a { background: url(data:x//y) }",
	  "a{background:url(data:x//y)}\n" },
	/* comment lines, blank ones, indentation and trailing comments go; the
	 * #! line and the code stay */
	{ MINIFY_SH, "#!/bin/sh\n# about\n\n  # more\nx=1 # one\n\tcase $x in\n\tesac\n",
	  "#!/bin/sh\nx=1\ncase $x in\nesac\n" },
	/* a here-document's body is data, whatever it holds */
	{ MINIFY_SH, "cat <<'EOF'\n# unit\n\nEOF\n# gone\ncat <<-X >f\n\t# kept\n\tX\n# gone\n",
	  "cat <<'EOF'\n# unit\n\nEOF\ncat <<-X >f\n\t# kept\n\tX\n" },
	/* so is a string over several lines, and a continued line's next one */
	{ MINIFY_SH, "s='a\n# in\n\nb' t=\"c\n# in\\\"\n\" # it's\nf a \\\n# arg\n# gone\n",
	  "s='a\n# in\n\nb' t=\"c\n# in\\\"\n\" # it's\nf a \\\n# arg\n" },
	/* $# and ${x#y} are no comments; a quote in a comment opens nothing */
	{ MINIFY_SH, "#!\necho $# ${x#*/} # don't\n# gone\n",
	  "#!\necho $# ${x#*/}\n" },
	/* a string's lines keep their blanks, an escaped blank stays, a line
	 * that continues another keeps its indentation, and "a\" then "#b" is
	 * the word a#b, no comment */
	{ MINIFY_SH, "#!\nif x; then\n\t  y='a\n\t b'\n\tz=\\ # c\n\tw \\\n\t  v;# d\nfi\necho a\\\n#b\n",
	  "#!\nif x; then\ny='a\n\t b'\nz=\\ \nw \\\n\t  v;# d\nfi\necho a\\\n#b\n" },
	{ MINIFY_SH, "#!\n\tx=1;# c\n  cat <<E # e\n  # in\nE\n",
	  "#!\nx=1;\ncat <<E\n  # in\nE\n" },
	{ MINIFY_SH, "cat <<EOF\nno end\n",
	  NULL },
	{ MINIFY_SH, "x='open\n",
	  NULL },
	{ MINIFY_SH, "cat <<A <<B\n",
	  NULL },
	{ MINIFY_JS, "var s = 'open\n';",
	  NULL },
	{ MINIFY_JS, "var s = \"open",
	  NULL },
	{ MINIFY_JS, "x = /open\n",
	  NULL },
	{ MINIFY_JS, "x = 1 /* open",
	  NULL },
	{ MINIFY_JS, "x = `a ${b} c`",
	  NULL },
	{ MINIFY_CSS, "a { content: 'open }",
	  NULL },
};

void test_minify_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = mini(cases[i].kind, cases[i].in);

		if (!cases[i].want)
			CHECK(got == NULL);
		else
			CHECK_STR(got, cases[i].want);
		if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want)))
			fprintf(stderr, "  case %zu: %s\n", i, cases[i].in);
	}
}

void test_minify_refuses(void)
{
	char err[200];
	size_t n;

	CHECK(minify(MINIFY_JS, "a\nb\n'x", 6, out_, &n, err, sizeof(err)) < 0);
	CHECK_STR(err, "line 3: unterminated string");
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = malloc(1 << 20);

	*n = f && p ? fread(p, 1, (1 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	return p;
}

/* Through node --check when there is a node (the browser tests' own). */
static int node_checks(const char *js, size_t n)
{
	char path[] = "/tmp/nestd-minify-XXXXXX.js";
	int fd = mkstemps(path, 3), st = -1;
	pid_t pid;

	if (fd < 0 || write(fd, js, n) != (ssize_t)n) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	pid = fork();
	if (pid == 0) {
		execlp("node", "node", "--check", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	unlink(path);
	return pid > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void test_minify_ui_files(void)
{
	static const char *const files[] = { "ui/app.js", "ui/style.css", "install.sh" };
	static const int kind[] = { MINIFY_JS, MINIFY_CSS, MINIFY_SH };
	size_t i, n, m = 0, m2 = 0;
	char err[200];

	for (i = 0; i < 3; i++) {
		char *in = slurp(files[i], &n), *out = malloc(n + 1), *again = malloc(n + 2);
		int rc;

		CHECK(n > 1000);
		CHECK(minify(kind[i], in, n, out, &m, err, sizeof(err)) == 0);
		CHECK(m < n * 9 / 10);
		CHECK(minify(kind[i], out, m, again, &m2, err, sizeof(err)) == 0);
		CHECK_MEM(again, m2, out, m);          /* a fixed point */
		if (i == 0) {
			rc = node_checks(out, m);
			if (rc == 127 || rc < 0)
				SKIP("no node to parse the minified app.js");
			else
				CHECK(rc == 0);
		}
		free(in);
		free(out);
		free(again);
	}
}
