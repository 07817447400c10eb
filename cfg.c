/* cfg.c - flags and config file from one option table (see cfg.h). */
#include "cfg.h"
#include "num.h"
#include "fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cfg_opt *find(const struct cfg_opt *opts, const char *name, size_t n)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == n && strncmp(opts->name, name, n) == 0)
			return opts;
	return NULL;
}

const char *cfg_find_config(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

int cfg_parse_args(int argc, char **argv, const struct cfg_opt *opts, cfg_set_fn set,
		   void *ctx, char **pos, int maxpos, int *npos, int *help,
		   char *err, size_t errlen)
{
	int i, only_pos = 0;

	*npos = 0;
	*help = 0;
	for (i = 0; i < argc; i++) {
		char *a = argv[i];
		const struct cfg_opt *o;
		const char *val = NULL, *eq;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*npos >= maxpos) {
				fmt_snprintf(err, errlen, "unexpected argument '%s'", a);
				return -1;
			}
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = 1;
			continue;
		}
		if (a[1] != '-') {
			fmt_snprintf(err, errlen, "unknown option '%s'", a);
			return -1;
		}
		eq = strchr(a + 2, '=');
		o = find(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (!o) {
			fmt_snprintf(err, errlen, "unknown option '%.*s'",
				 (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
			return -1;
		}
		if (o->has_arg) {
			if (eq) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				fmt_snprintf(err, errlen, "option '--%s' needs a value", o->name);
				return -1;
			}
		} else if (eq) {
			fmt_snprintf(err, errlen, "option '--%s' takes no value", o->name);
			return -1;
		}
		if (set(ctx, o->id, val, 0, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* fgets and feof over read(2): the file's lines without stdio's FILE, which
 * (with fopen, fclose and their buffers) the agent-only static binary then
 * does not carry. */
struct lines {
	int fd, eof;          /* eof: read(2) said end of file (or failed) */
	size_t pos, len;
	char b[4096];
};

static int lines_more(struct lines *r)
{
	ssize_t n;

	if (r->pos < r->len)
		return 1;
	if (r->eof)
		return 0;
	do
		n = read(r->fd, r->b, sizeof(r->b));
	while (n < 0 && errno == EINTR);
	r->pos = 0;
	r->len = n > 0 ? (size_t)n : 0;
	r->eof = n <= 0;
	return n > 0;
}

/* As fgets: up to cap - 1 bytes, through the first newline; NULL at the end. */
static char *lines_next(struct lines *r, char *line, size_t cap)
{
	size_t k = 0;

	while (k + 1 < cap && lines_more(r)) {
		char c = r->b[r->pos++];

		line[k++] = c;
		if (c == '\n')
			break;
	}
	if (!k)
		return NULL;
	line[k] = '\0';
	return line;
}

int cfg_load_file(const char *path, const struct cfg_opt *opts, cfg_set_fn set,
		  void *ctx, char *err, size_t errlen)
{
	struct lines f;
	char line[4096], sub[512];
	int lineno = 0;

	memset(&f, 0, sizeof(f));
	f.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f.fd < 0) {
		fmt_snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	while (lines_next(&f, line, sizeof(line))) {
		char *k, *v, *eq;
		const struct cfg_opt *o;

		lineno++;
		/* A line that had to be cut is refused, never read as two. */
		if (!strchr(line, '\n') && !f.eof) {
			fmt_snprintf(err, errlen, "%s:%d: line longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			goto bad;
		}
		k = trim(line);
		if (*k == '#' || *k == '\0')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fmt_snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			goto bad;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (strlen(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[strlen(v) - 1] == v[0]) {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		/* protocol_version as well as protocol-version: a file's keys are
		 * often written the way other tools' config files spell them */
		for (eq = k; *eq; eq++)
			if (*eq == '_')
				*eq = '-';
		o = find(opts, k, strlen(k));
		if (!o || !o->file_ok) {
			fmt_snprintf(err, errlen, "%s:%d: unknown key '%.64s'", path, lineno, k);
			goto bad;
		}
		if (!o->has_arg) {
			int b;

			if (cfg_parse_bool(v, &b) < 0) {
				fmt_snprintf(err, errlen, "%s:%d: %s wants true or false", path, lineno, k);
				goto bad;
			}
			if (!b)
				continue;
			v = NULL;
		}
		if (set(ctx, o->id, v, 1, sub, sizeof(sub)) < 0) {
			fmt_snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
			goto bad;
		}
	}
	close(f.fd);
	return 0;
bad:
	close(f.fd);
	return -1;
}

int cfg_parse_seconds(const char *s, long long *ms)
{
	const char *end;
	double d = num_parse(s, &end);

	if (end == s || *end || !isfinite(d) || d < 0 || d > 1e9)
		return -1;
	*ms = (long long)(d * 1000.0 + 0.5);
	return 0;
}

int cfg_parse_bytes(const char *s, unsigned long long *v)
{
	char *end;
	unsigned long long n, mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = num_strtoull(s, &end);
	if (errno)
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1ull << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1ull << 30, end++;
	if (*end == 'i' && mul > 1)
		end++;
	if ((*end == 'B' || *end == 'b') && end[1] == '\0')
		end++;
	if (*end || n > (1ull << 40) / mul)
		return -1;
	*v = n * mul;
	return 0;
}

int cfg_parse_bool(const char *s, int *v)
{
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		*v = 1;
	else if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		*v = 0;
	else
		return -1;
	return 0;
}
