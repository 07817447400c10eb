/* ctl_table.h - how nestd ctl lays out text for a person: tables whose
 * columns are as wide as their content and, on a terminal, together no
 * wider than it (the last column, a command line or a description, is cut
 * to what is left), states in colour on a terminal only (never with
 * NO_COLOR), and the units people read: 24 GiB, 44 min, a local time and
 * its age.  Every cell goes through ctl_text_put first, so nothing an
 * agent sent can drive the terminal.  No I/O but the struct out it is
 * given. */
#ifndef NESTD_CTL_TABLE_H
#define NESTD_CTL_TABLE_H

#include <stddef.h>

#define CTL_TABLE_COLS 12

struct out;

/* How tables come out: ctl.c fills it in once (ctl_view_default, then the
 * options), the show functions read it. */
struct ctl_view {
	struct out *out;      /* out_stdout (a test: its own) */
	int width;            /* columns of the terminal; 0: no limit (not a terminal) */
	int headers;          /* print the header line */
	int color;            /* states in colour */
	const char *sort;     /* ps: the column to sort by (NULL: pid) */
	const char *user;     /* ps: only this user's processes (NULL: all) */
	long long now;        /* epoch seconds, for ages (tests fix it) */
};

extern struct ctl_view ctl_view;

/* stdout; width from $COLUMNS or the terminal; colour when stdout is a
 * terminal, $NO_COLOR is unset or empty and $TERM is not dumb. */
void ctl_view_default(void);

struct ctl_table {
	int ncol;
	const char *head[CTL_TABLE_COLS];
	char align[CTL_TABLE_COLS];      /* 'l' or 'r' */
	int state_col;                   /* the column coloured by its word; -1 none */
	char **cell;                     /* rows * ncol escaped strings */
	size_t ncell, cap;
};

/* heads: ncol names; align: ncol of 'l'/'r'. */
void ctl_table_init(struct ctl_table *t, int ncol, const char *const *heads, const char *align,
		    int state_col);
/* The next cell, left to right, row after row: s[0..n) as ctl_text_put
 * shows it.  -1 out of memory. */
int  ctl_table_add(struct ctl_table *t, const char *s, size_t n);
int  ctl_table_addz(struct ctl_table *t, const char *s);
/* Prints it under ctl_view and frees it. */
void ctl_table_print(struct ctl_table *t);

/* The units: "1005 MiB", "24 GiB", "512 B" (the dashboard's); "44 min",
 * "2 h 5 min", "3 d 4 h", "12 s"; a local time "2026-12-01 09:56:35";
 * with its age: "2026-12-01 09:56:35 (3 min ago)"; a process start as ps
 * shows it: "09:56" today, "Nov 28" before. */
void ctl_fmt_bytes(double v, char *out, size_t n);
void ctl_fmt_duration(double secs, char *out, size_t n);
void ctl_fmt_time(double epoch, int age, char *out, size_t n);
void ctl_fmt_start(double epoch, char *out, size_t n);
/* The SGR colour of a state word ("running", "active", "online": green;
 * "failed", "zombie", "dead", "offline": red; "stopped", "activating"...:
 * yellow), or NULL for none. */
const char *ctl_state_color(const char *word);

#endif
