/* agent_usage.c - obtain_user_usages and get_port (see agent_usage.h).
 *
 * The walk is du's: post-order, every entry lstat'ed (fstatat with
 * AT_SYMLINK_NOFOLLOW) relative to its directory's descriptor, a folder
 * entered through openat(O_NOFOLLOW | O_DIRECTORY), so neither a symlink
 * nor a rename during the walk can lead it out of the tree.  It runs in
 * the agent's loop, so it is bounded: CFG_USAGE_WALK_MS, CFG_USAGE_WALK_ENTRIES
 * and CFG_USAGE_WALK_DEPTH (one descriptor per level); what it could not
 * count is said in the reply, never an error.  Inodes with several links
 * are counted once, as du does; a folder that is one of its own ancestors
 * (a bind mount loop), or a kernel file system mounted below (/proc, /sys),
 * is not entered.
 *
 * Memory comes from the user's cgroup v2: the user-UID.slice above the
 * agent's own cgroup when there is one (where a shared server like Nest
 * puts its per-user limits), else the agent's cgroup; the limit that holds
 * is the smallest memory.max on the way up. */
#include "agent_usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "agent_sys.h"
#include "buf.h"
#include "config.h"
#include "fmt.h"

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- inodes seen (those with several links) ---- */

struct ino_set {
	struct { dev_t dev; ino_t ino; int used; } *e;
	size_t cap, n;
};

/* 1 if (dev, ino) was there already, else adds it (0). */
static int ino_seen(struct ino_set *s, dev_t dev, ino_t ino)
{
	size_t i, k;

	if ((s->n + 1) * 2 > s->cap) {
		struct ino_set t = { NULL, s->cap ? s->cap * 2 : 256, 0 };

		t.e = calloc(t.cap, sizeof(*t.e));
		if (!t.e)
			return 0;    /* counted twice rather than not at all */
		for (k = 0; k < s->cap; k++)
			if (s->e[k].used)
				ino_seen(&t, s->e[k].dev, s->e[k].ino);
		free(s->e);
		*s = t;
	}
	i = ((size_t)ino * 2654435761u ^ (size_t)dev) & (s->cap - 1);
	for (; s->e[i].used; i = (i + 1) & (s->cap - 1))
		if (s->e[i].dev == dev && s->e[i].ino == ino)
			return 1;
	s->e[i].used = 1;
	s->e[i].dev = dev;
	s->e[i].ino = ino;
	s->n++;
	return 0;
}

/* ---- du ---- */

struct frame {
	DIR *d;
	dev_t dev;
	ino_t ino;
	unsigned long long bytes;
	char *name;               /* depth 1: its row's path */
	int noted;                /* an unreadable entry counted already */
};

struct walk {
	const struct du_limits *lim;
	struct du_result *r;
	struct frame *f;          /* f[0] is the top folder */
	int depth;                /* the frame being read */
	struct ino_set seen;
	const char *top;
	long long t0;
};

static int row_add(struct du_result *r, unsigned long long bytes, char *path)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct du_row *nr = realloc(r->rows, cap * sizeof(*nr));

		if (!nr) {
			free(path);
			return -1;
		}
		r->rows = nr;
		r->cap = cap;
	}
	r->rows[r->n].bytes = bytes;
	r->rows[r->n].path = path;
	r->n++;
	return 0;
}

/* TOP/NAME, as du joins them. */
static char *join(const char *top, const char *name)
{
	size_t t = strlen(top), n = strlen(name);
	char *p = malloc(t + n + 2);

	if (!p)
		return NULL;
	memcpy(p, top, t);
	if (!t || top[t - 1] != '/')
		p[t++] = '/';
	memcpy(p + t, name, n + 1);
	return p;
}

/* The frame on top is done: its size goes to its parent (or the total),
 * and a folder at depth 1 gets its row. */
static void frame_pop(struct walk *w)
{
	struct frame *f = &w->f[w->depth];

	closedir(f->d);
	if (w->depth == 0) {
		w->r->total = f->bytes;
	} else {
		w->f[w->depth - 1].bytes += f->bytes;
		if (f->name)
			row_add(w->r, f->bytes, f->name);
	}
	f->name = NULL;
	w->depth--;
}

/* A kernel's file system mounted below the tree (/proc, /sys...: a root
 * agent's working directory may be /): du would add /proc/kcore's 128 TB
 * of "apparent size"; it is not entered. */
static int is_pseudo_fs(int fd)
{
	static const unsigned long magic[] = {
		0x9fa0,       /* proc */       0x62656572,  /* sysfs */
		0x63677270,   /* cgroup2 */    0x27e0eb,    /* cgroup */
		0x1cd1,       /* devpts */     0x64626720,  /* debugfs */
		0x74726163,   /* tracefs */    0x73636673,  /* securityfs */
		0xcafe4a11,   /* bpf */        0x6e736673,  /* nsfs */
	};
	struct statfs sf;
	size_t i;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((unsigned long)sf.f_type == magic[i])
			return 1;
	return 0;
}

static int is_ancestor(const struct walk *w, const struct stat *st)
{
	int i;

	for (i = 0; i <= w->depth; i++)
		if (w->f[i].dev == st->st_dev && w->f[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* A folder entry: entered when it may be; else its own size counted (and
 * at depth 1 its row). */
static void enter(struct walk *w, const char *name, const struct stat *st)
{
	struct frame *f = &w->f[w->depth], *c;
	int fd = -1, row = w->depth == 0;
	DIR *d = NULL;

	if (w->depth + 1 >= w->lim->depth || is_ancestor(w, st))
		w->r->skipped++;
	else if ((fd = openat(dirfd(f->d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC | O_NONBLOCK)) < 0)
		w->r->unreadable++;
	else if (st->st_dev != f->dev && is_pseudo_fs(fd))
		w->r->skipped++;
	else if (!(d = fdopendir(fd)))
		w->r->unreadable++;
	if (!d) {
		if (fd >= 0)
			close(fd);
		f->bytes += (unsigned long long)st->st_size;
		if (row)
			row_add(w->r, (unsigned long long)st->st_size, join(w->top, name));
		return;
	}
	c = &w->f[++w->depth];
	memset(c, 0, sizeof(*c));
	c->d = d;
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->bytes = (unsigned long long)st->st_size;
	c->name = row ? join(w->top, name) : NULL;
}

/* One entry of the frame on top. */
static void entry(struct walk *w, const char *name)
{
	struct frame *f = &w->f[w->depth];
	struct stat st;

	if (fstatat(dirfd(f->d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT && !f->noted) {   /* gone meanwhile: nothing to count */
			w->r->unreadable++;
			f->noted = 1;
		}
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		enter(w, name, &st);
		return;
	}
	if (st.st_nlink > 1 && ino_seen(&w->seen, st.st_dev, st.st_ino))
		return;
	f->bytes += (unsigned long long)st.st_size;
}

/* The walk until it is done or a bound stops it. */
static void walk_run(struct walk *w)
{
	struct dirent *de;

	while (w->depth >= 0) {
		errno = 0;
		de = readdir(w->f[w->depth].d);
		if (!de) {
			if (errno && !w->f[w->depth].noted)
				w->r->unreadable++;
			frame_pop(w);
			continue;
		}
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
					     (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (++w->r->entries > w->lim->entries ||
		    ((w->r->entries & 63) == 0 && ms_now() - w->t0 > w->lim->ms)) {
			w->r->complete = 0;
			break;
		}
		entry(w, de->d_name);
	}
	while (w->depth >= 0)      /* stopped: what was counted so far */
		frame_pop(w);
}

int usage_du(const char *dir, const struct du_limits *lim, struct du_result *r,
	     char *err, size_t errlen)
{
	struct walk w;
	struct stat st;
	char *self;
	int fd;

	memset(r, 0, sizeof(*r));
	memset(&w, 0, sizeof(w));
	r->complete = 1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	w.f = calloc((size_t)lim->depth + 1, sizeof(*w.f));
	if (fd < 0 || !w.f || fstat(fd, &st) < 0 || !(w.f[0].d = fdopendir(fd))) {
		fmt_snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(w.f);
		return -1;
	}
	w.lim = lim;
	w.r = r;
	w.top = dir;
	w.t0 = ms_now();
	w.f[0].dev = st.st_dev;
	w.f[0].ino = st.st_ino;
	w.f[0].bytes = (unsigned long long)st.st_size;
	walk_run(&w);
	free(w.seen.e);
	free(w.f);
	r->ms = ms_now() - w.t0;
	self = strdup(dir);
	if (self)
		row_add(r, r->total, self);
	return 0;
}

void usage_du_free(struct du_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->rows[i].path);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

/* ---- cgroup v2 ---- */

long long usage_parse_value(const char *t, size_t n)
{
	long long v = 0;
	size_t i = 0;

	while (n && (t[n - 1] == '\n' || t[n - 1] == ' '))
		n--;
	if (n == 3 && !memcmp(t, "max", 3))
		return USAGE_NO_LIMIT;
	if (!n || n > 18)
		return USAGE_UNKNOWN;
	for (; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return USAGE_UNKNOWN;
		v = v * 10 + (t[i] - '0');
	}
	return v;
}

int usage_cgroup_self(const char *text, size_t n, char *out, size_t cap)
{
	const char *p = text, *end = text + n, *nl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl - p >= 4 && !memcmp(p, "0::/", 4) && (size_t)(nl - p - 3) < cap) {
			memcpy(out, p + 3, (size_t)(nl - p - 3));
			out[nl - p - 3] = '\0';
			return 0;
		}
		if (nl == end)
			break;
	}
	return -1;
}

/* The WHICH-th (from 1) blank-separated field of [p, nl). */
static const char *field(const char *p, const char *nl, int which, size_t *len)
{
	const char *s;

	for (;;) {
		while (p < nl && *p == ' ')
			p++;
		for (s = p; p < nl && *p != ' '; p++)
			;
		if (--which == 0 || p >= nl) {
			*len = which == 0 ? (size_t)(p - s) : 0;
			return which == 0 ? s : NULL;
		}
	}
}

int usage_cgroup_mount(const char *text, size_t n, char *out, size_t cap)
{
	const char *p = text, *end = text + n, *nl, *sep, *mp, *fs;
	size_t mpl, fsl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SRC SUPER" */
		sep = mem_find(p, (size_t)(nl - p), " - ", 3);
		mp = field(p, nl, 5, &mpl);
		fs = sep ? field(sep + 3, nl, 1, &fsl) : NULL;
		if (mp && fs && fsl == 7 && !memcmp(fs, "cgroup2", 7) && mpl < cap &&
		    !memchr(mp, '\\', mpl)) {   /* octal escapes: not a path we can use */
			memcpy(out, mp, mpl);
			out[mpl] = '\0';
			return 0;
		}
		if (nl == end)
			break;
	}
	return -1;
}

static long long cg_value(const char *dir, const char *file)
{
	char path[600], b[64];
	ssize_t n;

	fmt_snprintf(path, sizeof(path), "%s/%s", dir, file);
	n = sys_read(path, b, sizeof(b));
	return n < 0 ? USAGE_UNKNOWN : usage_parse_value(b, (size_t)n);
}

/* The tighter of two limits. */
static long long tighter(long long a, long long b)
{
	if (a < 0)
		return b >= 0 || b == USAGE_NO_LIMIT ? b : a;
	return b >= 0 && b < a ? b : a;
}

void usage_cgroup_read(const char *dir, const char *top, struct cg_usage *u)
{
	char up[512], *slash;

	fmt_snprintf(u->dir, sizeof(u->dir), "%s", dir);
	u->mem_used = cg_value(dir, "memory.current");
	u->mem_limit = cg_value(dir, "memory.max");
	u->pids = cg_value(dir, "pids.current");
	u->pids_limit = cg_value(dir, "pids.max");
	if (!top)
		return;
	fmt_snprintf(up, sizeof(up), "%s", dir);
	while ((slash = strrchr(up, '/')) && slash > up && strlen(up) > strlen(top)) {
		*slash = '\0';
		u->mem_limit = tighter(u->mem_limit, cg_value(up, "memory.max"));
		u->pids_limit = tighter(u->pids_limit, cg_value(up, "pids.max"));
	}
}

/* The cgroup to report: --cgroup, else the user-UID.slice above the
 * agent's own cgroup (or that cgroup).  0, or -1 (no cgroup v2). */
static int user_cgroup(const struct usage_opts *o, struct cg_usage *u)
{
	char b[16384], mnt[256], self[512], dir[800], slice[32], *s;

	if (o->cgroup) {
		usage_cgroup_read(o->cgroup, NULL, u);
		return 0;
	}
	u->dir[0] = '\0';
	if (sys_read("/proc/self/mountinfo", b, sizeof(b)) < 0 ||
	    usage_cgroup_mount(b, strlen(b), mnt, sizeof(mnt)) < 0)
		fmt_snprintf(mnt, sizeof(mnt), "%s", CFG_CGROUP_ROOT);
	if (sys_read("/proc/self/cgroup", b, sizeof(b)) < 0 ||
	    usage_cgroup_self(b, strlen(b), self, sizeof(self)) < 0)
		return -1;
	fmt_snprintf(slice, sizeof(slice), "/user-%u.slice", (unsigned)geteuid());
	s = str_find(self, slice);
	if (s && (s[strlen(slice)] == '/' || !s[strlen(slice)]))
		s[strlen(slice)] = '\0';
	fmt_snprintf(dir, sizeof(dir), "%s%s", mnt, strcmp(self, "/") ? self : "");
	usage_cgroup_read(dir, mnt, u);
	return 0;
}

/* ---- obtain_user_usages ---- */

/* The user's processes, counted in the procfs (no cgroup to ask). */
static long long own_processes(const char *root)
{
	DIR *d = opendir(root ? root : CFG_PROC_ROOT);
	struct dirent *de;
	struct stat st;
	long long n = 0;

	if (!d)
		return USAGE_UNKNOWN;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    fstatat(dirfd(d), de->d_name, &st, 0) == 0 && st.st_uid == geteuid())
			n++;
	closedir(d);
	return n;
}

static double gb(long long v)
{
	return (double)v / 1e9;
}

/* nestd's own lines in the spirit of `nest resources`. */
static void own_summary(struct buf *t, const char *cwd, const struct du_result *du,
			const struct cg_usage *u, long long procs)
{
	unsigned long long total, avail, fr;
	struct statvfs v;

	buf_printf(t, "Disk usage: %.2f GB in %s", gb((long long)du->total), cwd);
	if (statvfs(cwd, &v) == 0) {
		fr = v.f_frsize ? v.f_frsize : v.f_bsize;
		buf_printf(t, ", %.2f GB free of %.2f GB on its file system",
			   gb((long long)(v.f_bavail * fr)), gb((long long)(v.f_blocks * fr)));
	}
	if (u->mem_used >= 0 && u->mem_limit >= 0)
		buf_printf(t, "\nMemory usage: %.2f GB used out of %.2f GB limit",
			   gb(u->mem_used), gb(u->mem_limit));
	else if (u->mem_used >= 0)
		buf_printf(t, "\nMemory usage: %.2f GB used, no limit", gb(u->mem_used));
	else {
		sys_memory(&total, &avail);
		buf_printf(t, "\nMemory usage: %.2f GB used out of %.2f GB (the whole machine; "
			   "no cgroup v2 figures here)", gb((long long)(total - avail)),
			   gb((long long)total));
	}
	if (procs >= 0)
		buf_printf(t, "\nProcesses: %lld", procs);
	if (procs >= 0 && u->pids_limit >= 0)
		buf_printf(t, " out of %lld limit", u->pids_limit);
	buf_putc(t, '\n');
}

/* What the walk could not count, said where people read (the original's
 * view shows the resources text as is). */
static void walk_notes(struct buf *t, const struct du_result *du, size_t cut)
{
	if (t->len && t->p[t->len - 1] != '\n')
		buf_putc(t, '\n');
	if (!du->complete)
		buf_printf(t, "Storage: stopped after %llu entries (%lld ms): the sizes are at "
			   "least these\n", du->entries, du->ms);
	if (du->unreadable)
		buf_printf(t, "Storage: %u folder%s could not be read; what is in %s is not "
			   "counted\n", du->unreadable, du->unreadable == 1 ? "" : "s",
			   du->unreadable == 1 ? "it" : "them");
	if (du->skipped)
		buf_printf(t, "Storage: %u folder%s not entered (deeper than %d levels, a loop, or "
			   "a kernel file system such as /proc)\n", du->skipped,
			   du->skipped == 1 ? "" : "s", CFG_USAGE_WALK_DEPTH);
	if (cut)
		buf_printf(t, "Storage: %zu smaller folders are summed in one row\n", cut);
}

/* Largest first, ties in row order (one answer in both builds, whatever a
 * libc's qsort does with ties): a Shell sort (gaps 3h+1) of the row
 * pointers, as qsort brought musl's smoothsort, 2 KB, into the agent-only
 * binary. */
static int row_before(const struct du_row *x, const struct du_row *y)
{
	return x->bytes != y->bytes ? x->bytes > y->bytes : x < y;
}

static void rows_sort(const struct du_row **e, size_t n)
{
	size_t gap = 1, i, j;

	while (gap < n / 3)
		gap = 3 * gap + 1;
	for (; gap > 0; gap /= 3)
		for (i = gap; i < n; i++) {
			const struct du_row *t = e[i];

			for (j = i; j >= gap && row_before(t, e[j - gap]); j -= gap)
				e[j] = e[j - gap];
			e[j] = t;
		}
}

/* Which folder rows go out (keep[i]): all when they fit, else the largest
 * that do.  The original's view joins every row into one Slack section
 * (CFG_USAGE_ORIG_TEXT); nestd's shape keeps CFG_USAGE_ROWS_MAX.  The
 * number of rows left out. */
static size_t rows_pick(const struct du_result *r, int original, unsigned char *keep)
{
	size_t nf = r->n ? r->n - 1 : 0, i, used = 0, out = 0;
	size_t room = original ? CFG_USAGE_ORIG_TEXT : CFG_USAGE_ROWS_MAX;
	const struct du_row **ord;

	for (i = 0; i < nf; i++) {
		keep[i] = 1;
		used += original ? strlen(r->rows[i].path) + 24 : 1;
	}
	if (used + (original && r->n ? strlen(r->rows[nf].path) + 48 : 2) <= room)
		return 0;
	ord = malloc((nf ? nf : 1) * sizeof(*ord));
	if (!ord)
		return 0;
	for (i = 0; i < nf; i++)
		ord[i] = &r->rows[i];
	rows_sort(ord, nf);
	used = original ? strlen(r->rows[nf].path) + 96 : 3;    /* DIR, total, "N more" */
	for (i = 0; i < nf; i++) {
		size_t cost = original ? strlen(ord[i]->path) + 24 : 1;
		size_t at = (size_t)(ord[i] - r->rows);

		keep[at] = used + cost <= room;
		used += keep[at] ? cost : 0;
		out += !keep[at];
	}
	free(ord);
	return out;
}

static void row_write(struct jw *w, int original, unsigned long long bytes, const char *path)
{
	char num[24];

	jw_arr(w);
	if (original) {       /* du's text, as the original client split it */
		fmt_snprintf(num, sizeof(num), "%llu", bytes);
		jw_str(w, num);
	} else {
		jw_uint(w, bytes);
	}
	jw_str(w, path);
	jw_arr_end(w);
}

static void storage_write(struct jw *w, int original, const struct du_result *r,
			  const unsigned char *keep, size_t cut)
{
	unsigned long long rest = 0;
	char label[64];
	size_t i;

	jw_key(w, "storage");
	jw_arr(w);
	for (i = 0; i + 1 < r->n; i++) {
		if (keep[i])
			row_write(w, original, r->rows[i].bytes, r->rows[i].path);
		else
			rest += r->rows[i].bytes;
	}
	if (cut) {
		fmt_snprintf(label, sizeof(label), "(%zu more folders)", cut);
		row_write(w, original, rest, label);
	}
	if (r->n)
		row_write(w, original, r->rows[r->n - 1].bytes, r->rows[r->n - 1].path);
	row_write(w, original, r->total, "total");
	jw_arr_end(w);
}

static void kv_figure(struct jw *w, const char *k, long long v)
{
	jw_key(w, k);
	if (v >= 0)
		jw_int(w, v);
	else
		jw_null(w);
}

/* nestd's shape: the figures as numbers beside the text. */
static void figures_write(struct jw *w, const char *cwd, const struct du_result *du,
			  const struct cg_usage *u, long long procs)
{
	struct statvfs v;
	unsigned long long fr;

	jw_kbool(w, "storage_complete", du->complete);
	jw_kint(w, "storage_unreadable", du->unreadable);
	jw_key(w, "memory");
	jw_obj(w);
	kv_figure(w, "used", u->mem_used);
	kv_figure(w, "limit", u->mem_limit);
	jw_obj_end(w);
	jw_key(w, "processes");
	jw_obj(w);
	kv_figure(w, "count", procs);
	kv_figure(w, "limit", u->pids_limit);
	jw_obj_end(w);
	jw_key(w, "disk");
	jw_obj(w);
	jw_kstr(w, "path", cwd);
	jw_key(w, "used");
	jw_uint(w, du->total);
	if (statvfs(cwd, &v) == 0) {
		fr = v.f_frsize ? v.f_frsize : v.f_bsize;
		kv_figure(w, "fs_total", (long long)(v.f_blocks * fr));
		kv_figure(w, "fs_free", (long long)(v.f_bavail * fr));
	}
	jw_obj_end(w);
}

int usage_write(const struct usage_opts *o, const char *nest, size_t nest_len,
		struct jw *w, char *err, size_t errlen)
{
	static const struct du_limits lim = {
		CFG_USAGE_WALK_MS, CFG_USAGE_WALK_ENTRIES, CFG_USAGE_WALK_DEPTH
	};
	char cwd[4096];
	struct du_result du;
	struct cg_usage u;
	unsigned char *keep;
	long long procs;
	struct buf t;
	size_t cut;

	if (!getcwd(cwd, sizeof(cwd))) {
		fmt_snprintf(err, errlen, "cannot tell the working directory: %s", strerror(errno));
		return -1;
	}
	if (usage_du(cwd, &lim, &du, err, errlen) < 0) {
		usage_du_free(&du);
		return -1;
	}
	keep = calloc(du.n ? du.n : 1, 1);
	if (!keep) {
		usage_du_free(&du);
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (user_cgroup(o, &u) < 0)
		u.mem_used = u.mem_limit = u.pids = u.pids_limit = USAGE_UNKNOWN;
	procs = u.pids >= 0 ? u.pids : own_processes(o->proc_root);
	cut = rows_pick(&du, o->original, keep);
	buf_init(&t, 0);
	if (nest)
		buf_append(&t, nest, nest_len);
	else
		own_summary(&t, cwd, &du, &u, procs);
	if (!du.complete || du.unreadable || du.skipped || cut)
		walk_notes(&t, &du, cut);
	jw_obj(w);
	jw_key(w, "resources");
	jw_strn(w, t.p ? t.p : "", t.len);
	storage_write(w, o->original, &du, keep, cut);
	if (!o->original)
		figures_write(w, cwd, &du, &u, procs);
	jw_obj_end(w);
	buf_free(&t);
	free(keep);
	usage_du_free(&du);
	return 0;
}

/* ---- get_port ---- */

int usage_free_port(char *err, size_t errlen)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	/* Port 0: the kernel picks one that nothing is bound to, on any
	 * address; it is free again the moment this socket closes (it never
	 * connected, so no TIME_WAIT holds it). */
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	else
		fmt_snprintf(err, errlen, "cannot find a free port: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return port;
}

/* The N of "Port N is free to use!", or -1. */
static int port_of(const char *t, size_t n)
{
	const char *p = mem_find(t, n, "Port ", 5);
	int v = 0, digits = 0;

	if (!p)
		return -1;
	for (p += 5; p < t + n && *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
		v = v * 10 + (*p - '0');
	return digits && v > 0 && v < 65536 ? v : -1;
}

int usage_write_port(int original, const char *nest, size_t nest_len, struct jw *w,
		     char *err, size_t errlen)
{
	char text[64];
	int port;

	if (nest) {
		port = port_of(nest, nest_len);
	} else {
		if ((port = usage_free_port(err, errlen)) < 0)
			return -1;
		/* `nest get_port`'s words, its newline included */
		fmt_snprintf(text, sizeof(text), "Port %d is free to use!\n", port);
		nest = text;
		nest_len = strlen(text);
	}
	if (original) {
		jw_strn(w, nest, nest_len);
		return 0;
	}
	jw_obj(w);
	kv_figure(w, "port", port);
	jw_key(w, "text");
	jw_strn(w, nest, nest_len);
	jw_obj_end(w);
	return 0;
}
