/* ctl_table.c - nestd ctl's tables and units (see ctl_table.h). */
#include "ctl_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl_text.h"
#include "fmt.h"
#include "tz.h"
#include "log.h"
#include "num.h"
#include "out.h"

struct ctl_view ctl_view;

void ctl_view_default(void)
{
	const char *cols = getenv("COLUMNS"), *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	struct winsize ws;
	int tty = isatty(STDOUT_FILENO);

	memset(&ctl_view, 0, sizeof(ctl_view));
	ctl_view.out = &out_stdout;
	ctl_view.headers = 1;
	ctl_view.now = (long long)time(NULL);
	if (cols && num_atoi(cols) > 0)
		ctl_view.width = num_atoi(cols);
	else if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		ctl_view.width = ws.ws_col;
	ctl_view.color = tty && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
}

void ctl_table_init(struct ctl_table *t, int ncol, const char *const *heads, const char *align,
		    int state_col)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->ncol = ncol > CTL_TABLE_COLS ? CTL_TABLE_COLS : ncol;
	for (i = 0; i < t->ncol; i++) {
		t->head[i] = heads[i];
		t->align[i] = align[i];
	}
	t->state_col = state_col;
}

int ctl_table_add(struct ctl_table *t, const char *s, size_t n)
{
	struct buf b;
	char *cell;

	if (t->ncell == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cell, nc * sizeof(*c));

		if (!c)
			return -1;
		t->cell = c;
		t->cap = nc;
	}
	buf_init(&b, 0);
	ctl_text_buf(&b, s, n, 0, 0);
	cell = malloc(b.len + 1);       /* its size, not the buffer's room */
	if (cell) {
		memcpy(cell, b.p ? b.p : "", b.len);
		cell[b.len] = '\0';
	}
	buf_free(&b);
	if (!cell)
		return -1;
	t->cell[t->ncell++] = cell;
	return 0;
}

int ctl_table_addz(struct ctl_table *t, const char *s)
{
	return ctl_table_add(t, s, strlen(s));
}

/* Characters of an escaped (valid UTF-8) cell. */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The first max characters of s, as bytes. */
static size_t cut(const char *s, size_t max)
{
	size_t i = 0, n = 0;

	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == max)
			break;
	return i;
}

static void print_cell(const struct ctl_table *t, int c, const char *s, size_t w, int last)
{
	struct out *o = ctl_view.out;
	const char *sgr = ctl_view.color && c == t->state_col ? ctl_state_color(s) : NULL;
	size_t len = chars(s), b = len > w ? cut(s, w) : strlen(s), pad = len < w ? w - len : 0;

	if (t->align[c] == 'r')
		for (; pad; pad--)
			out_putc(o, ' ');
	if (sgr)
		out_printf(o, "\033[%sm", sgr);
	out_write(o, s, b);
	if (sgr)
		out_puts(o, "\033[0m");
	if (!last)
		for (; pad; pad--)
			out_putc(o, ' ');
}

/* Widths: each column its widest cell (the header's with headers); with
 * a terminal width, the last column gets what is left, however little, so
 * that no line is wider than the terminal; only when the other columns
 * fill it already does it keep 10 (the lines wrap then whatever it is). */
static void widths(const struct ctl_table *t, size_t *w)
{
	size_t i, sum = 0;
	int c;

	for (c = 0; c < t->ncol; c++)
		w[c] = ctl_view.headers ? strlen(t->head[c]) : 0;
	for (i = 0; i < t->ncell; i++) {
		size_t n = chars(t->cell[i]);

		if (n > w[i % t->ncol])
			w[i % t->ncol] = n;
	}
	for (c = 0; c < t->ncol - 1; c++)
		sum += w[c] + 1;
	if (ctl_view.width > 0 && sum + w[t->ncol - 1] > (size_t)ctl_view.width)
		w[t->ncol - 1] = sum < (size_t)ctl_view.width ? (size_t)ctl_view.width - sum : 10;
}

void ctl_table_print(struct ctl_table *t)
{
	size_t w[CTL_TABLE_COLS], i;
	int c;

	widths(t, w);
	if (ctl_view.headers) {
		for (c = 0; c < t->ncol; c++) {
			int sc = t->state_col;

			t->state_col = -1;     /* the header is not a state */
			print_cell(t, c, t->head[c], w[c], c == t->ncol - 1);
			t->state_col = sc;
			out_putc(ctl_view.out, c == t->ncol - 1 ? '\n' : ' ');
		}
	}
	for (i = 0; i < t->ncell; i++) {
		c = (int)(i % (size_t)t->ncol);
		print_cell(t, c, t->cell[i], w[c], c == t->ncol - 1);
		out_putc(ctl_view.out, c == t->ncol - 1 ? '\n' : ' ');
		free(t->cell[i]);
	}
	free(t->cell);
	t->cell = NULL;
	t->ncell = t->cap = 0;
}

/* ---- units ---- */

void ctl_fmt_bytes(double v, char *out, size_t n)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int i = 0;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		fmt_snprintf(out, n, "%.0f B", v);
	else
		fmt_snprintf(out, n, v < 10 ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void ctl_fmt_duration(double secs, char *out, size_t n)
{
	long long s = (long long)secs;

	if (secs < 0)
		fmt_snprintf(out, n, "-");
	else if (s < 60)
		fmt_snprintf(out, n, "%lld s", s);
	else if (s < 3600)
		fmt_snprintf(out, n, "%lld min", s / 60);
	else if (s < 86400)
		fmt_snprintf(out, n, "%lld h %lld min", s / 3600, s % 3600 / 60);
	else
		fmt_snprintf(out, n, "%lld d %lld h", s / 86400, s % 86400 / 3600);
}

void ctl_fmt_time(double epoch, int age, char *out, size_t n)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	char ago[40];
	int w;

	if (epoch <= 0 || !tz_localtime(t, &tm)) {
		fmt_snprintf(out, n, "-");
		return;
	}
	w = log_fmt_tm(out, n, &tm, ' ');
	if (!age || w < 0 || (size_t)w >= n)
		return;
	if (ctl_view.now >= (long long)epoch) {
		ctl_fmt_duration((double)ctl_view.now - epoch, ago, sizeof(ago));
		fmt_snprintf(out + w, n - (size_t)w, " (%s ago)", ago);
	} else {
		ctl_fmt_duration(epoch - (double)ctl_view.now, ago, sizeof(ago));
		fmt_snprintf(out + w, n - (size_t)w, " (in %s)", ago);
	}
}

void ctl_fmt_start(double epoch, char *out, size_t n)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)epoch, now = (time_t)ctl_view.now;
	struct tm tm, today;

	if (epoch <= 0 || !tz_localtime(t, &tm) || !tz_localtime(now, &today)) {
		fmt_snprintf(out, n, "-");
		return;
	}
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		fmt_snprintf(out, n, "%02d:%02d", tm.tm_hour, tm.tm_min);
	else if (tm.tm_year == today.tm_year)
		fmt_snprintf(out, n, "%s %02d", mon[tm.tm_mon], tm.tm_mday);
	else
		fmt_snprintf(out, n, "%d", tm.tm_year + 1900);
}

const char *ctl_state_color(const char *w)
{
	static const char *const good[] = { "running", "active", "online", NULL };
	static const char *const bad[] = { "failed", "zombie", "dead", "offline", NULL };
	static const char *const warn[] = { "stopped", "tracing-stop", "activating",
					    "deactivating", "reloading", "disk-sleep", NULL };
	int i;

	for (i = 0; good[i]; i++)
		if (!strcmp(w, good[i]))
			return "32";
	for (i = 0; bad[i]; i++)
		if (!strcmp(w, bad[i]))
			return "31";
	for (i = 0; warn[i]; i++)
		if (!strcmp(w, warn[i]))
			return "33";
	return NULL;
}
