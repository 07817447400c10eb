/* tools/minify.c - takes the comments and the layout out of the dashboard's
 * JavaScript and CSS, at build time, before they are compressed and
 * embedded (see the Makefile).  It never runs in nestd.
 *
 *   minify js|css|sh < IN > OUT
 *
 * Conservative on purpose, a tokenizer and not a rewriter: strings, regex
 * literals and template literals are copied byte for byte; only comments
 * and whitespace between tokens go.
 *   JS:  a run of whitespace becomes nothing, or one space where the two
 *        tokens would otherwise merge ("var x", "a - -b", "a / /re/");
 *        a line break is kept (automatic semicolon insertion depends on it)
 *        unless the token before it is one after which no line break can
 *        matter ( ; { , ( [ = : ? & | ! ) or the next one is } .  A
 *        comment counts as the whitespace it stands for (a block comment
 *        holding a line break as a line break).  A '/' starts a regex
 *        after an operator, an opening bracket, a ',' ';' or a keyword such
 *        as return; after a name, a number or a closing bracket it is a
 *        division (the usual rule; our own code never puts a regex after
 *        ')' or '}').  A template literal holding ${ is refused rather
 *        than guessed at.
 *   CSS: whitespace runs become one space, none next to { } ; , or after
 *        a ':' (a space before ':' is a descendant selector: kept), and a
 *        ';' (or several) right before '}' goes.
 *   sh:  (install.sh) the lines that are a comment and nothing else, and
 *        blank lines, go; so do the indentation and the trailing comment
 *        (with the blanks before it) of a line that starts as code.  The
 *        first line (#!) stays as it is, and so does every line of a
 *        here-document, every line that starts inside a quoted string
 *        spanning lines, and every line that continues one ending in a
 *        backslash ("a\" then "#b" is the word a#b).  Quotes are followed
 *        as sh does ('...', "..." with its escapes, a backslash, a #
 *        comment from the start of a word); a here-document's word is read
 *        from <<WORD, <<-WORD and their quoted forms, one per line.
 * Anything it cannot tokenize (an unterminated string, regex or comment) is
 * an error naming the line: the input is our own file, fix it there.
 * Portable C.  minify() is also built into the unit tests and a fuzz
 * target (MINIFY_LIB: no main). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minify.h"

struct mz {
	const char *in;
	size_t n, i;
	char *out;
	size_t o;
	int css;          /* MINIFY_JS, MINIFY_CSS, MINIFY_SH */
	char *err;
	size_t errlen;
};

static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c == '\\' || c >= 0x80;
}

static int fail(struct mz *m, const char *what)
{
	size_t i, line = 1;

	for (i = 0; i < m->i && i < m->n; i++)
		line += m->in[i] == '\n';
	snprintf(m->err, m->errlen, "line %lu: %s", (unsigned long)line, what);
	return -1;
}

static char last(const struct mz *m)
{
	return m->o ? m->out[m->o - 1] : 0;
}

/* The name that ends the output, if it is one after which '/' is a regex. */
static int keyword_before(const struct mz *m)
{
	static const char *const kw[] = { "return", "typeof", "instanceof", "in", "of", "new",
					  "delete", "void", "throw", "case", "do", "else",
					  "yield", "await", NULL };
	size_t s = m->o, k;

	while (s > 0 && is_word((unsigned char)m->out[s - 1]))
		s--;
	for (k = 0; kw[k]; k++)
		if (strlen(kw[k]) == m->o - s && !memcmp(m->out + s, kw[k], m->o - s))
			return 1;
	return 0;
}

static int regex_here(const struct mz *m)
{
	char p = last(m);

	if (!p)
		return 1;
	if (is_word((unsigned char)p))
		return keyword_before(m);
	return !strchr(")]}'\"`", p);
}

/* Would the two tokens run together without a space between them? */
static int js_need_space(char a, char b)
{
	if (is_word((unsigned char)a) && is_word((unsigned char)b))
		return 1;
	if ((a == '+' || a == '-') && b == a)       /* a - -b, a + ++b */
		return 1;
	if (a == '/' && (b == '/' || b == '*'))     /* a / /re/: not a comment */
		return 1;
	if ((a == '<' && b == '!') || (a == '-' && b == '>'))   /* <!-- and --> */
		return 1;
	return a >= '0' && a <= '9' && b == '.';    /* 1 .toString() */
}

/* ws: 0 none, 1 blank, 2 a line break, before the token at m->i. */
static void js_gap(struct mz *m, int ws)
{
	char a = last(m), b = m->in[m->i];

	if (!a || !ws)
		return;
	if (ws == 2 && !strchr(";{,([=:?&|!", a) && b != '}') {
		m->out[m->o++] = '\n';
		return;
	}
	if (js_need_space(a, b))
		m->out[m->o++] = ' ';
}

static void css_gap(struct mz *m, int ws)
{
	char a = last(m), b = m->in[m->i];

	if (a && ws && !strchr("{};,:", a) && !strchr("{};,", b))
		m->out[m->o++] = ' ';
}

/* Copies a quoted string (or a template literal without ${) whole. */
static int copy_quoted(struct mz *m)
{
	char q = m->in[m->i];

	m->out[m->o++] = m->in[m->i++];
	while (m->i < m->n) {
		char c = m->in[m->i];

		if (c == '\\' && m->i + 1 < m->n) {
			m->out[m->o++] = m->in[m->i++];
		} else if (c == q) {
			m->out[m->o++] = m->in[m->i++];
			return 0;
		} else if (q == '`' && c == '$' && m->i + 1 < m->n && m->in[m->i + 1] == '{') {
			return fail(m, "template literal with ${...}: not supported, use +");
		} else if (c == '\n' && q != '`') {
			return fail(m, "line break in a string");
		}
		m->out[m->o++] = m->in[m->i++];
	}
	return fail(m, "unterminated string");
}

static int copy_regex(struct mz *m)
{
	int cls = 0;

	m->out[m->o++] = m->in[m->i++];
	while (m->i < m->n) {
		char c = m->in[m->i];

		if (c == '\n')
			break;
		if (c == '\\' && m->i + 1 < m->n && m->in[m->i + 1] != '\n') {
			m->out[m->o++] = m->in[m->i++];
		} else if (c == '[') {
			cls = 1;
		} else if (c == ']') {
			cls = 0;
		} else if (c == '/' && !cls) {
			m->out[m->o++] = m->in[m->i++];
			return 0;
		}
		m->out[m->o++] = m->in[m->i++];
	}
	return fail(m, "unterminated regex literal");
}

/* Skips a comment at m->i, if there is one; 1 blank, 2 a line break, 0 none. */
static int skip_comment(struct mz *m)
{
	const char *end;

	if (m->i + 1 >= m->n || m->in[m->i] != '/')
		return 0;
	if (m->in[m->i + 1] == '*') {
		size_t s = m->i + 2, j;

		for (j = s; j + 1 < m->n; j++)
			if (m->in[j] == '*' && m->in[j + 1] == '/')
				break;
		if (j + 1 >= m->n)
			return fail(m, "unterminated comment");
		m->i = j + 2;
		return memchr(m->in + s, '\n', j - s) ? 2 : 1;
	}
	if (m->in[m->i + 1] != '/' || m->css == MINIFY_CSS)
		return 0;
	end = memchr(m->in + m->i, '\n', m->n - m->i);
	m->i = end ? (size_t)(end - m->in) : m->n;
	return 1;
}

static int run(struct mz *m)
{
	int ws = 0;

	while (m->i < m->n) {
		char c = m->in[m->i];
		int k, re;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n') {
			if (c == '\n' && m->css != MINIFY_CSS)
				ws = 2;
			else if (!ws)
				ws = 1;
			m->i++;
			continue;
		}
		if ((k = skip_comment(m)) < 0)
			return -1;
		if (k) {
			ws = ws > k ? ws : k;
			continue;
		}
		/* asked before the gap, which is no token */
		re = c == '/' && m->css != MINIFY_CSS && regex_here(m);
		if (m->css == MINIFY_CSS)
			css_gap(m, ws);
		else
			js_gap(m, ws);
		ws = 0;
		if (c == '"' || c == '\'' || (c == '`' && m->css != MINIFY_CSS)) {
			if (copy_quoted(m) < 0)
				return -1;
		} else if (re) {
			if (copy_regex(m) < 0)
				return -1;
		} else {
			while (m->css == MINIFY_CSS && c == '}' && last(m) == ';')
				m->o--;
			m->out[m->o++] = m->in[m->i++];
		}
	}
	if (m->o)
		m->out[m->o++] = '\n';
	return 0;
}

/* ---- sh ---- */

struct shl {
	int q;                /* the quote open at the end of the line, or 0 */
	int cont;             /* the line ends in a backslash: continued */
	size_t code;          /* the line's length before its comment, if any */
	char doc[64];         /* a here-document starts after it: its word */
	int dash;             /* <<-: the end line may start with tabs */
};

/* The here-document operator at l[i] ("<<"), if it is one: its word. */
static int sh_heredoc(struct mz *m, const char *l, size_t n, size_t i, struct shl *st)
{
	size_t k = 0;
	char q = 0;

	i += 2;
	if (i < n && l[i] == '<')
		return fail(m, "<<< is not sh");
	if (i < n && l[i] == '-')
		st->dash = 1, i++;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i < n && (l[i] == '\'' || l[i] == '"'))
		q = l[i++];
	while (i < n && k < sizeof(st->doc) - 1 && (is_word((unsigned char)l[i]) && l[i] != '\\'))
		st->doc[k++] = l[i++];
	st->doc[k] = '\0';
	if (!k || (q && (i >= n || l[i] != q)))
		return fail(m, "a here-document word this cannot read");
	return 0;
}

/* Follows the quotes of one line (l[0..n), no newline) from st->q; sets
 * st->code to where the line's comment starts less the blanks before it
 * (n: none). */
static int sh_scan(struct mz *m, const char *l, size_t n, struct shl *st)
{
	size_t i, last = 0;     /* just past the last byte that is not layout */

	st->cont = 0;
	st->code = n;
	for (i = 0; i < n; i++) {
		char c = l[i];

		if (st->q == '\'') {
			if (c == '\'')
				st->q = 0;
		} else if (st->q == '"') {
			if (c == '\\')
				i++;
			else if (c == '"')
				st->q = 0;
		} else if (c == '\\') {
			if (++i == n)
				st->cont = 1;
		} else if (c == ' ' || c == '\t') {
			continue;
		} else if (c == '\'' || c == '"') {
			st->q = c;
		} else if (c == '#' && (i == 0 || strchr(" \t;|&()", l[i - 1]))) {
			st->code = last;           /* a comment: the rest of the line */
			return 0;
		} else if (c == '<' && i + 1 < n && l[i + 1] == '<') {
			if (st->doc[0])
				return fail(m, "two here-documents on one line");
			if (sh_heredoc(m, l, n, i, st) < 0)
				return -1;
			i++;
		}
		last = i < n ? i + 1 : n;
	}
	if (st->q == '"' && n && l[n - 1] == '\\')
		st->cont = 1;
	return 0;
}

static int sh_blank_or_comment(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i == n || l[i] == '#';
}

static int sh_run(struct mz *m)
{
	struct shl st = { 0, 0, 0, "", 0 };
	int in_doc = 0, cont = 0, first = 1;

	while (m->i < m->n) {
		const char *l = m->in + m->i, *nl = memchr(l, '\n', m->n - m->i);
		size_t n = nl ? (size_t)(nl - l) : m->n - m->i, t = 0, from = 0, to = n;
		int code = !first && !st.q && !cont;   /* starts as code, not data */

		if (in_doc) {
			while (st.dash && t < n && l[t] == '\t')
				t++;
			if (n - t == strlen(st.doc) && !memcmp(l + t, st.doc, n - t))
				in_doc = 0, st.doc[0] = '\0', st.dash = 0;
		} else if (code && sh_blank_or_comment(l, n)) {
			m->i += n + (nl != NULL);
			continue;
		} else {
			/* A line that starts as code: its indentation is layout and
			 * its comment goes (a line that continues another keeps
			 * both: "a\\" then "#b" is the word a#b). */
			while (code && from < n && (l[from] == ' ' || l[from] == '\t'))
				from++;
			if (sh_scan(m, l + from, n - from, &st) < 0)
				return -1;
			if (code)
				to = from + st.code;
			cont = st.cont;
			in_doc = st.doc[0] != '\0';
		}
		first = 0;
		memcpy(m->out + m->o, l + from, to - from);
		m->o += to - from;
		if (nl)
			m->out[m->o++] = '\n';
		m->i += n + (nl != NULL);
	}
	if (st.q || in_doc)
		return fail(m, st.q ? "unterminated string" : "unterminated here-document");
	return 0;
}

int minify(int kind, const char *in, size_t n, char *out, size_t *outn, char *err, size_t errlen)
{
	struct mz m = { in, n, 0, out, 0, kind, err, errlen };

	if ((kind == MINIFY_SH ? sh_run(&m) : run(&m)) < 0)
		return -1;
	*outn = m.o;
	return 0;
}

#ifndef MINIFY_LIB
int main(int argc, char **argv)
{
	size_t n = 0, cap = 1 << 16, outn;
	char *in = malloc(cap), *out, err[200];
	size_t r;

	if (argc != 2 || (strcmp(argv[1], "js") && strcmp(argv[1], "css") && strcmp(argv[1], "sh"))) {
		fprintf(stderr, "usage: minify js|css|sh < IN > OUT\n");
		return 2;
	}
	while (in && (r = fread(in + n, 1, cap - n, stdin)) > 0)
		if ((n += r) == cap)
			in = realloc(in, cap *= 2);
	out = in ? malloc(n + 1) : NULL;
	if (!out || ferror(stdin)) {
		fprintf(stderr, "minify: %s\n", out ? "read error" : "out of memory");
		return 1;
	}
	if (minify(!strcmp(argv[1], "css") ? MINIFY_CSS : !strcmp(argv[1], "sh") ? MINIFY_SH : MINIFY_JS,
		   in, n, out, &outn, err, sizeof(err)) < 0) {
		fprintf(stderr, "minify: %s\n", err);
		return 1;
	}
	if (fwrite(out, 1, outn, stdout) != outn || fflush(stdout) != 0) {
		fprintf(stderr, "minify: write error\n");
		return 1;
	}
	return 0;
}
#endif
