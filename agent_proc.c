/* agent_proc.c - processes from /proc (see agent_proc.h).
 *
 * Speed matters: a shared server has thousands of processes and the list
 * must be cheaper than ps(1).  Per process we read /proc/PID/stat and
 * /proc/PID/cmdline and fstat the /proc/PID directory, all relative to one
 * /proc descriptor, and nothing else.  The directory's owner is the
 * process's effective uid even for non-dumpable processes: the kernel's
 * task_dump_owner() only turns *files* over to root for those, and keeps
 * world-readable directories with the real owner precisely so that tools
 * can stat /proc/PID instead of parsing status (see the comment there).
 * So /proc/PID/status is read only for obtain_process_info (VmSwap), and
 * only while the machine has swap at all (see swap_in_use).
 *
 * obtain_process_info keeps the files of the last few processes it was
 * asked about open (struct kept): opening and closing a /proc file costs
 * the kernel as much as rendering it, and a detail view asks about the
 * same process again and again.  A kept file read again from offset 0 is
 * rendered afresh; once its process is gone it fails with ESRCH (it holds
 * that process, not its number), and the answer is read by path as
 * before, so a reused pid is the new process.
 *
 * stat's second field is the command name in parentheses and may itself
 * hold ')' and anything else, so it ends at the LAST ')'. */
#include "agent_proc.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/auxv.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fmt.h"
#include "num.h"

#define PF_KTHREAD_FLAG 0x00200000ULL

struct user_ent {
	unsigned uid;
	unsigned line;      /* first line wins, as getpwuid would */
	size_t off;         /* name in the pool */
};

struct users {
	char path[256];
	struct stat st;     /* of the file as loaded: reload when it changes */
	int loaded;
	double checked;     /* monotonic seconds of the last stat(2) */
	struct user_ent *e;
	size_t n;
	char *pool;
};

struct cpu_ent {
	int pid;            /* 0: empty slot */
	unsigned gen;
	unsigned long long start, ticks;
	double t;           /* monotonic seconds of the sample */
};

struct cpu_tab {
	struct cpu_ent *e;
	size_t cap, n;
	unsigned gen;
};

/* One process's kept files, stat and cmdline; pid 0 is an empty slot. */
struct kept {
	int pid;
	unsigned used;       /* the least recently used slot goes first */
	int fd[2];
};

#define PROC_KEPT 4
#define USERS_RECHECK_S 1.0
#define PROCFS_MAGIC 0x9fa0

struct proc_ctx {
	int procfd;
	int procfs;          /* procfd is a real procfs: files may be kept */
	struct kept kept[PROC_KEPT];
	unsigned kept_clock;
	char root[256];      /* what procfd is, for messages */
	long clk;
	long pagesize;
	long long btime;
	pid_t self;
	struct users users;
	struct cpu_tab cpu;
	/* Buffers the commands own, allocated once: obtain_process_info's
	 * command line (CFG_PROC_INFO_CMDLINE_MAX) and the directory
	 * entries a listing reads with getdents64 (musl's readdir reads
	 * 2 KiB at a time: ten times the system calls of this). */
	char *cmdbuf;
	char *dents;
	size_t list_len[2];  /* the last listing's length, full and brief */
	/* Whether any swap area is active (see swap_in_use), and when that
	 * was last looked at. */
	int swap_on;
	double swap_seen;
};

#define DENTS_BUF (32u << 10)

/* ---- small helpers ---- */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double boot_uptime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads a whole small file relative to dirfd into b[0..cap); the count,
 * or -1 with errno. */
static ssize_t read_at(int dirfd, const char *path, char *b, size_t cap)
{
	ssize_t n, got = 0;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)got < cap) {
		n = read(fd, b + got, cap - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		got += n;
		/* A short read is the end for /proc files; asking again would
		 * cost cmdline another walk of the target's memory. */
		if (n == 0 || (size_t)got < cap)
			break;
	}
	close(fd);
	return got;
}

static char *fmt_uint(char *end, unsigned long long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* ticks/clk with two decimals, right-aligned before end (room for 24);
 * the start.  Without printf's floating point: this runs thousands of
 * times per list. */
static char *ticks_text(char *end, unsigned long long ticks, long clk, unsigned long long base)
{
	unsigned long long whole = ticks / (unsigned long long)clk + base;
	unsigned long long frac = (ticks % (unsigned long long)clk) * 100 / (unsigned long long)clk;

	*--end = (char)('0' + frac % 10);
	*--end = (char)('0' + frac / 10);
	*--end = '.';
	return fmt_uint(end, whole);
}

/* A percentage with one decimal, rounded, right-aligned before end (room
 * for 16); NULL for what never happens in practice (negative, NaN, past
 * 1e12), which jw_double writes (vals_fill). */
static char *percent_text(char *end, double pct)
{
	unsigned long long t;

	if (!(pct >= 0) || pct > 1e12)
		return NULL;
	t = (unsigned long long)(pct * 10 + 0.5);
	*--end = (char)('0' + t % 10);
	*--end = '.';
	return fmt_uint(end, t / 10);
}

/* "PID/name" into out (cap >= 32), without printf: this runs twice per
 * process per list. */
static void proc_path(char *out, const char *dir, const char *name)
{
	size_t d = strlen(dir), n = strlen(name);

	memcpy(out, dir, d);
	out[d] = '/';
	memcpy(out + d + 1, name, n + 1);
}

/* "PID" into out (room for 24), without printf. */
static void pid_dir(char *out, int pid)
{
	char tmp[24], *e = tmp + sizeof(tmp), *b = fmt_uint(e, (unsigned long long)pid);

	memcpy(out, b, (size_t)(e - b));
	out[e - b] = '\0';
}

static const char *state_word(char s)
{
	switch (s) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk-sleep";
	case 'T': return "stopped";
	case 't': return "tracing-stop";
	case 'Z': return "zombie";
	case 'X': case 'x': return "dead";
	case 'K': return "wake-kill";
	case 'W': return "waking";
	case 'I': return "idle";
	case 'P': return "parked";
	default: return "unknown";
	}
}

/* ---- users from /etc/passwd ---- */

static int user_before(const struct user_ent *x, const struct user_ent *y)
{
	return x->uid != y->uid ? x->uid < y->uid : x->line < y->line;
}

/* By uid, then line: a Shell sort (gaps 3h+1), once per change of the
 * file; qsort would bring 2 KB into the agent-only binary for it. */
static void users_sort(struct user_ent *e, size_t n)
{
	size_t gap = 1, i, j;

	while (gap < n / 3)
		gap = 3 * gap + 1;
	for (; gap > 0; gap /= 3)
		for (i = gap; i < n; i++) {
			struct user_ent t = e[i];

			for (j = i; j >= gap && user_before(&t, &e[j - gap]); j -= gap)
				e[j] = e[j - gap];
			e[j] = t;
		}
}

static void users_clear(struct users *u)
{
	free(u->e);
	free(u->pool);
	u->e = NULL;
	u->pool = NULL;
	u->n = 0;
	u->loaded = 0;
}

/* Parses name:passwd:uid:... lines; malformed lines are skipped. */
static void users_parse(struct users *u, char *text, size_t len)
{
	size_t cap = 64, n = 0, i, k;
	unsigned line = 0;
	char *p = text, *end = text + len, *nl, *c1, *c2, *c3;
	unsigned long uid;

	u->e = malloc(cap * sizeof(*u->e));
	if (!u->e)
		return;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		*nl = '\0';
		line++;
		if (*p == '+' || *p == '-' || *p == '#')
			continue;
		if (!(c1 = strchr(p, ':')) || !(c2 = strchr(c1 + 1, ':')))
			continue;
		if (c1 == p || !(c3 = strchr(c2 + 1, ':')) || c3 == c2 + 1)
			continue;
		*c3 = '\0';
		errno = 0;
		uid = num_strtoul(c2 + 1, &c3);
		if (errno || *c3 || c2[1] < '0' || c2[1] > '9' || uid > 0xffffffffUL)
			continue;
		*c1 = '\0';
		if (n == cap) {
			struct user_ent *ne = realloc(u->e, 2 * cap * sizeof(*ne));

			if (!ne)
				break;
			u->e = ne;
			cap *= 2;
		}
		u->e[n].uid = (unsigned)uid;
		u->e[n].line = line;
		u->e[n].off = (size_t)(p - text);
		n++;
	}
	users_sort(u->e, n);
	for (i = k = 0; i < n; i++)
		if (!k || u->e[k - 1].uid != u->e[i].uid)
			u->e[k++] = u->e[i];
	u->n = k;
	u->pool = text;
}

/* Reloads when the file changed (inode, size or mtime), so new users show
 * up by name without restarting the agent.  The file is stat(2)ed at most
 * once a second, not per command: a round trip makes 6 system calls instead
 * of 7, and a change still shows within a second (docs/PROTOCOL.md). */
static void users_refresh(struct users *u, double now)
{
	struct stat st;
	char *text;
	ssize_t n;

	if (u->loaded && now - u->checked < USERS_RECHECK_S)
		return;
	u->checked = now;
	if (stat(u->path, &st) < 0) {
		users_clear(u);
		return;
	}
	if (u->loaded && st.st_ino == u->st.st_ino && st.st_dev == u->st.st_dev &&
	    st.st_size == u->st.st_size &&
	    st.st_mtim.tv_sec == u->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == u->st.st_mtim.tv_nsec)
		return;
	users_clear(u);
	u->st = st;
	u->loaded = 1;
	if (st.st_size <= 0 || st.st_size > CFG_PASSWD_MAX)
		return;
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return;
	n = read_at(AT_FDCWD, u->path, text, (size_t)st.st_size);
	if (n < 0) {
		free(text);
		return;
	}
	text[n] = '\0';
	users_parse(u, text, (size_t)n);
	if (!u->pool)
		free(text);
}

static const char *users_find(const struct users *u, unsigned uid)
{
	size_t lo = 0, hi = u->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u->e[mid].uid == uid)
			return u->pool + u->e[mid].off;
		if (u->e[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *proc_user_name(struct proc_ctx *p, unsigned uid, char *out, size_t n)
{
	const char *name;

	users_refresh(&p->users, mono_now());
	name = users_find(&p->users, uid);
	if (name)
		return name;
	fmt_snprintf(out, n, "%u", uid);
	return out;
}

void proc_set_passwd(struct proc_ctx *p, const char *path)
{
	fmt_snprintf(p->users.path, sizeof(p->users.path), "%s", path);
	users_clear(&p->users);
}

/* ---- cpu usage between samples ---- */

static size_t cpu_slot(const struct cpu_tab *t, int pid)
{
	size_t i = ((size_t)(unsigned)pid * 2654435761u) & (t->cap - 1);

	while (t->e[i].pid && t->e[i].pid != pid)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* Rebuilds into a table of newcap slots, keeping entries with keep_gen
 * (or all when keep_gen is 0). */
static int cpu_rehash(struct cpu_tab *t, size_t newcap, unsigned keep_gen)
{
	struct cpu_tab nt = { NULL, newcap, 0, t->gen };
	size_t i;

	nt.e = calloc(newcap, sizeof(*nt.e));
	if (!nt.e)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (!t->e[i].pid || (keep_gen && t->e[i].gen != keep_gen))
			continue;
		nt.e[cpu_slot(&nt, t->e[i].pid)] = t->e[i];
		nt.n++;
	}
	free(t->e);
	*t = nt;
	return 0;
}

/* Percent of one CPU since the previous sample of this process (same pid
 * and start time), or over its lifetime on the first sample. */
static double cpu_usage(struct proc_ctx *p, const struct pinfo *pi, double now, double up)
{
	struct cpu_tab *t = &p->cpu;
	unsigned long long ticks = pi->utime + pi->stime;
	double pct, age;
	struct cpu_ent *e;

	age = up - (double)pi->start / (double)p->clk;
	pct = age > 0 ? (double)ticks / (double)p->clk / age * 100.0 : 0.0;
	if (!t->e || (t->n + 1) * 10 > t->cap * 7) {
		if (t->n > 1000000 || cpu_rehash(t, t->cap ? t->cap * 2 : 1024, 0) < 0)
			return pct;
	}
	e = &t->e[cpu_slot(t, pi->pid)];
	if (e->pid && e->start == pi->start && now > e->t && ticks >= e->ticks)
		pct = (double)(ticks - e->ticks) / (double)p->clk / (now - e->t) * 100.0;
	if (!e->pid)
		t->n++;
	e->pid = pi->pid;
	e->start = pi->start;
	e->ticks = ticks;
	e->t = now;
	e->gen = t->gen;
	return pct;
}

/* ---- reading one process ---- */

/* Fields 4..24 of a stat line from p, all integers (some, like tpgid,
 * may be -1), into f[4..24]: where they end, or NULL if one is not. */
static const char *stat_fields(const char *p, const char *end, long long *f)
{
	unsigned long long v;
	int i, neg;

	for (i = 4; i <= 24; i++) {
		while (p < end && *p == ' ')
			p++;
		neg = p < end && *p == '-';
		p += neg;
		if (p >= end || (unsigned char)(*p - '0') > 9)
			return NULL;
		for (v = 0; p < end && (unsigned char)(*p - '0') <= 9; p++)
			v = v * 10 + (unsigned long long)(*p - '0');
		/* unsigned negation: no overflow whatever the digits said */
		f[i] = (long long)(neg ? 0 - v : v);
	}
	return p;
}

int proc_stat_parse(struct pinfo *pi, const char *b, size_t n)
{
	const char *open, *close, *p, *q, *end = b + n;
	long long f[25];
	size_t clen;

	open = memchr(b, '(', n);
	close = open ? memchr(open, ')', (size_t)(end - open)) : NULL;
	if (!close)
		return -1;
	/* The LAST ')' closes comm (which may hold some itself).  Nearly
	 * always that is the first one: it is when no ')' follows it, and the
	 * fields parsed after it are only digits, spaces and '-', so only the
	 * rest of the line is searched (half of it; musl's memchr over the
	 * whole line was a tenth of a static agent's listing). */
	p = close + 2 < end ? stat_fields(close + 3, end, f) : NULL;
	if (!p || close[1] == ')' || close[2] == ')' || memchr(p, ')', (size_t)(end - p))) {
		while (close + 1 < end && (q = memchr(close + 1, ')', (size_t)(end - close - 1))))
			close = q;
		if (close + 2 >= end || !stat_fields(close + 3, end, f))
			return -1;
	}
	clen = (size_t)(close - open - 1);
	if (clen >= sizeof(pi->comm))
		clen = sizeof(pi->comm) - 1;
	memcpy(pi->comm, open + 1, clen);
	pi->comm[clen] = '\0';
	pi->state = close[2];
	pi->ppid = (int)f[4];
	pi->flags = (unsigned long long)f[9];
	pi->utime = (unsigned long long)f[14];
	pi->stime = (unsigned long long)f[15];
	pi->threads = f[20];
	pi->start = (unsigned long long)f[22];
	pi->vsize = (unsigned long long)f[23];
	pi->rss_pages = f[24] > 0 ? (unsigned long long)f[24] : 0;
	return 0;
}

/* ---- kept files ---- */

static void kept_close(struct kept *k)
{
	int i;

	for (i = 0; i < 2; i++)
		if (k->pid && k->fd[i] >= 0)
			close(k->fd[i]);
	k->pid = 0;
}

/* pid's kept files, opened now if they were not; NULL when they cannot be
 * (not a procfs, or no such process: the path's way says why). */
static struct kept *kept_get(struct proc_ctx *p, int pid, const char *dir)
{
	static const char *const names[2] = { "stat", "cmdline" };
	struct kept *k, *lru = p->kept;
	char path[48];
	int i;

	if (!p->procfs)
		return NULL;
	for (k = p->kept; k < p->kept + PROC_KEPT; k++) {
		if (k->pid == pid) {
			k->used = ++p->kept_clock;
			return k;
		}
		if (k->used < lru->used)
			lru = k;
	}
	k = lru;
	kept_close(k);
	k->pid = pid;
	k->used = ++p->kept_clock;
	for (i = 0; i < 2; i++) {
		proc_path(path, dir, names[i]);
		k->fd[i] = openat(p->procfd, path, O_RDONLY | O_CLOEXEC);
	}
	if (k->fd[0] < 0 || k->fd[1] < 0) {
		kept_close(k);
		return NULL;
	}
	return k;
}

/* The file dir/name into b[0..cap): through its kept descriptor fd, or
 * by path when fd < 0.  As read_at. */
static ssize_t proc_file(struct proc_ctx *p, const char *dir, const char *name, int fd,
			 char *b, size_t cap)
{
	char path[48];
	ssize_t n;

	if (fd < 0) {
		proc_path(path, dir, name);
		return read_at(p->procfd, path, b, cap);
	}
	while ((n = pread(fd, b, cap, 0)) < 0 && errno == EINTR)
		;
	return n;
}

/* 0, 1 when the process is gone (skip it), -1 on another error.  brief:
 * only what the name needs (stat, and cmdline when comm was cut).  k: the
 * process's kept files, or NULL to read by path. */
static int proc_read(struct proc_ctx *p, int pid, const char *dir, struct pinfo *pi,
		     char *cmd, size_t cmdcap, int brief, const struct kept *k)
{
	char sb[1024];
	struct stat st;
	ssize_t n;

	pi->pid = pid;
	n = proc_file(p, dir, "stat", k ? k->fd[0] : -1, sb, sizeof(sb) - 1);
	if (n < 0)
		return errno == ENOENT || errno == ESRCH ? 1 : -1;
	if (proc_stat_parse(pi, sb, (size_t)n) < 0)
		return 1;      /* raced with exit: an empty or partial line */
	pi->cmd = cmd;
	pi->cmdlen = 0;
	if (brief && strlen(pi->comm) < 15)
		return 0;
	if (!brief && fstatat(p->procfd, dir, &st, 0) < 0)
		return 1;
	pi->uid = brief ? 0 : st.st_uid;
	n = proc_file(p, dir, "cmdline", k ? k->fd[1] : -1, cmd, cmdcap);
	if (n < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return 1;
		n = 0;         /* EACCES and friends: show no command line */
	}
	pi->cmd = cmd;
	pi->cmdlen = (size_t)n;
	return 0;
}

static int is_kthread(const struct pinfo *pi)
{
	return (pi->flags & PF_KTHREAD_FLAG) || pi->pid == 2 || pi->ppid == 2;
}

/* psutil's name(): comm is cut at 15 bytes, so a full-length comm that
 * is a prefix of argv[0]'s base name is replaced by that name.  Read
 * before the command line's NULs become spaces (cmdline_join). */
static const char *name_of(const struct pinfo *pi, size_t *len)
{
	size_t clen = strlen(pi->comm), alen;
	const char *a0, *base;

	*len = clen;
	if (clen == 15 && pi->cmdlen) {
		a0 = pi->cmd;
		alen = strnlen(a0, pi->cmdlen);
		base = memrchr(a0, '/', alen);
		base = base ? base + 1 : a0;
		alen -= (size_t)(base - a0);
		if (alen > clen && !memcmp(base, pi->comm, clen) &&
		    !memchr(base, ' ', alen)) {
			*len = alen;
			return base;
		}
	}
	return pi->comm;
}

/* The command line with its NUL separators turned into spaces, in
 * place, eight bytes at a time without a branch or a call: in each byte
 * lane, ((v & 0x7f) + 0x7f) | v has the top bit set unless the byte is 0
 * (no carry crosses a lane), so its complement shifted by 2 is ' '
 * exactly in the zero lanes.  A byte loop (or memchr per argument) was a
 * tenth of a static agent's work per obtain_process_info.  Its length
 * without the trailing NULs; done twice, the same. */
static size_t cmdline_join(struct pinfo *pi)
{
	const uint64_t m = 0x7f7f7f7f7f7f7f7fULL;
	char *c = pi->cmd;
	size_t n = pi->cmdlen, i;
	uint64_t v;

	while (n && c[n - 1] == '\0')
		n--;
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&v, c + i, 8);
		v |= ~(((v & m) + m) | v | m) >> 2;
		memcpy(c + i, &v, 8);
	}
	for (; i < n; i++)
		if (!c[i])
			c[i] = ' ';
	return n;
}

/* uid's name, or the number as text in tmp (room for 16).  The caller
 * has refreshed the passwd cache (once per command). */
static const char *user_of(struct proc_ctx *p, unsigned uid, char *tmp)
{
	const char *name = users_find(&p->users, uid);

	if (name)
		return name;
	tmp[15] = '\0';
	return fmt_uint(tmp + 15, uid);
}

/* ---- the listing's records ---- */

/* What one process of the listing shows, worked out once for either way
 * of writing it. */
struct shown {
	const char *name, *user;
	size_t nlen, ulen, cmdlen;
	double cpu;
	char tmp[16];        /* the user as a number */
};


/* Whether s[0..n) is what the writer copies into a JSON string as it is
 * (ASCII from ' ' on, but '"' and '\\': json.c's ascii_safe); eight bytes
 * at a time, as a command line can be long.  The per-lane tests borrow
 * into the lane above only from a lane that already failed. */
static int plain(const char *s, size_t n)
{
	const uint64_t one = 0x0101010101010101ULL, top = 0x8080808080808080ULL;
	uint64_t x, bad = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		bad |= x | ((x - 0x20 * one) & ~x) | (((x ^ 0x22 * one) - one) & ~(x ^ 0x22 * one)) |
		       (((x ^ 0x5c * one) - one) & ~(x ^ 0x5c * one));
	}
	if (bad & top)
		return 0;
	for (; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x80 || s[i] == '"' ||
		    s[i] == '\\')
			return 0;
	return 1;
}

/* A record's values as text, by what they are; the shapes below say in
 * which order and after which literal each goes. */
enum { V_PID, V_PPID, V_NAME, V_USER, V_UID, V_STATE, V_RSS, V_VMS, V_UTIME, V_STIME,
       V_CPU, V_START, V_THREADS, V_CMD, V_KTHREAD, V_SWAP, V_SAFE, V_NONE, V_COUNT };

/* The shapes' literals, each once, packed into one string (a literal
 * that ends another is read from inside it) with room after the last for
 * rec_write's fixed-size copy; a shape is a list of (offset, length,
 * the value after it). */
#define L_PID "{\"pid\":"
#define L_PPID ",\"ppid\":"
#define L_NAME ",\"name\":\""
#define L_USER "\",\"user\":\""
#define L_UID "\",\"uid\":"
#define L_STATE "\",\"state\":\""          /* ",\"state\":\"" from its second byte */
#define L_RSS "\",\"rss\":"
#define L_VMS ",\"vms\":"
#define L_CPUT ",\"cpu_time\":{\"user\":"
#define L_SYS ",\"system\":"
#define L_CPU "},\"cpu_usage\":"           /* ",\"cpu_usage\":" from its second */
#define L_START "},\"started\":"           /* ",\"started\":" from its second */
#define L_THR ",\"threads\":"
#define L_CMD ",\"cmdline\":\""
#define L_KT "\",\"kernel_thread\":"
#define L_END "}"
#define L_STATUS "},\"status\":\""
#define L_MEM "\",\"memory\":{\"rss\":"
#define L_SWAP ",\"swap\":"
#define L_SAFE ",\"safe_kill\":"
#define REC_COPY 24        /* rec_write's fixed-size copy: the longest literal, and more */

static const char lits[] = L_PID L_PPID L_NAME L_USER L_UID L_STATE L_RSS L_VMS L_CPUT L_SYS
	L_CPU L_START L_THR L_CMD L_KT L_END L_STATUS L_MEM L_SWAP L_SAFE "                        ";

#define LEN(l) (sizeof(l) - 1)
enum {
	O_PID = 0, O_PPID = O_PID + LEN(L_PID), O_NAME = O_PPID + LEN(L_PPID),
	O_USER = O_NAME + LEN(L_NAME), O_UID = O_USER + LEN(L_USER),
	O_STATE = O_UID + LEN(L_UID), O_RSS = O_STATE + LEN(L_STATE), O_VMS = O_RSS + LEN(L_RSS),
	O_CPUT = O_VMS + LEN(L_VMS), O_SYS = O_CPUT + LEN(L_CPUT), O_CPU = O_SYS + LEN(L_SYS),
	O_START = O_CPU + LEN(L_CPU), O_THR = O_START + LEN(L_START), O_CMD = O_THR + LEN(L_THR),
	O_KT = O_CMD + LEN(L_CMD), O_END = O_KT + LEN(L_KT), O_STATUS = O_END + LEN(L_END),
	O_MEM = O_STATUS + LEN(L_STATUS), O_SWAP = O_MEM + LEN(L_MEM), O_SAFE = O_SWAP + LEN(L_SWAP),
	O_ALL = O_SAFE + LEN(L_SAFE)
};

struct seg {
	unsigned short off;
	unsigned char len, v;     /* the literal's length; the value after it */
};

#define SEG(o, l, v) { o, LEN(l), v }
#define SEG1(o, l, v) { o + 1, LEN(l) - 1, v }   /* l without its first byte */

/* The listing's record and obtain_process_info's object (docs/PROTOCOL.md),
 * byte for byte what the JSON writer's calls wrote before. */
static const struct seg list_shape[] = {
	SEG(O_PID, L_PID, V_PID), SEG(O_PPID, L_PPID, V_PPID), SEG(O_NAME, L_NAME, V_NAME),
	SEG(O_USER, L_USER, V_USER), SEG(O_UID, L_UID, V_UID), SEG1(O_STATE, L_STATE, V_STATE),
	SEG(O_RSS, L_RSS, V_RSS), SEG(O_VMS, L_VMS, V_VMS), SEG(O_CPUT, L_CPUT, V_UTIME),
	SEG(O_SYS, L_SYS, V_STIME), SEG(O_CPU, L_CPU, V_CPU), SEG1(O_START, L_START, V_START),
	SEG(O_THR, L_THR, V_THREADS), SEG(O_CMD, L_CMD, V_CMD), SEG(O_KT, L_KT, V_KTHREAD),
	SEG(O_END, L_END, V_NONE), { 0, 0, V_COUNT },
};

static const struct seg info_shape[] = {
	SEG(O_PID, L_PID, V_PID), SEG(O_PPID, L_PPID, V_PPID), SEG(O_NAME, L_NAME, V_NAME),
	SEG(O_USER, L_USER, V_USER), SEG(O_UID, L_UID, V_UID), SEG1(O_CPU, L_CPU, V_CPU),
	SEG(O_CPUT, L_CPUT, V_UTIME), SEG(O_SYS, L_SYS, V_STIME), SEG(O_STATUS, L_STATUS, V_STATE),
	SEG(O_STATE, L_STATE, V_STATE), SEG(O_MEM, L_MEM, V_RSS), SEG(O_VMS, L_VMS, V_VMS),
	SEG(O_SWAP, L_SWAP, V_SWAP), SEG(O_START, L_START, V_START), SEG(O_THR, L_THR, V_THREADS),
	SEG(O_CMD, L_CMD, V_CMD), SEG(O_KT, L_KT, V_KTHREAD), SEG(O_SAFE, L_SAFE, V_SAFE),
	SEG(O_END, L_END, V_NONE), { 0, 0, V_COUNT },
};

typedef char lits_have_room[sizeof(lits) - 1 >= O_ALL + REC_COPY ? 1 : -1];

struct vals {
	const char *s[V_COUNT];
	size_t n[V_COUNT];
	unsigned esc;              /* 1 << V_x: that text is escaped on the way */
	char num[V_COUNT][24];     /* the numbers, right-aligned */
	char odd[400];             /* a percentage jw_double writes */
};

static void val_num(struct vals *v, int i, unsigned long long u, int neg)
{
	char *e = v->num[i] + sizeof(v->num[i]), *b = fmt_uint(e, u);

	if (neg)
		*--b = '-';
	v->s[i] = b;
	v->n[i] = (size_t)(e - b);
}

static void val_text(struct vals *v, int i, const char *s, size_t n)
{
	v->s[i] = s;
	v->n[i] = n;
	if (!plain(s, n))
		v->esc |= 1u << i;
}

#define VAL_INT(v, i, x) val_num(v, i, (x) < 0 ? 0ULL - (unsigned long long)(x) : \
				 (unsigned long long)(x), (x) < 0)

static void val_ticks(struct vals *v, int i, unsigned long long t, long clk, unsigned long long base)
{
	char *e = v->num[i] + sizeof(v->num[i]), *b = ticks_text(e, t, clk, base);

	v->s[i] = b;
	v->n[i] = (size_t)(e - b);
}

/* A percentage percent_text has no digits for, as jw_double writes it
 * (null, or %.1f of a huge number): never in practice, kept JSON. */
static void val_odd_cpu(struct vals *v, double pct)
{
	struct buf b;
	struct jw w;

	buf_init(&b, sizeof(v->odd) - 1);
	jw_init(&w, &b);
	jw_double(&w, pct, 1);
	v->n[V_CPU] = jw_error(&w) || !b.p ? 0 : b.len;
	memcpy(v->odd, b.p ? b.p : "", v->n[V_CPU]);
	v->s[V_CPU] = v->odd;
	buf_free(&b);
}

/* What both shapes show of pi, as text into v.  s: name_of's name, the
 * user, the joined command line's length and the CPU percentage, worked
 * out once for both. */
static void vals_fill(struct vals *v, const struct proc_ctx *p, const struct pinfo *pi,
		      const struct shown *s)
{
	char *e = v->num[V_CPU] + sizeof(v->num[V_CPU]), *b = percent_text(e, s->cpu);
	const char *st = state_word(pi->state);

	v->esc = 0;
	if (b) {
		v->s[V_CPU] = b;
		v->n[V_CPU] = (size_t)(e - b);
	} else {
		val_odd_cpu(v, s->cpu);
	}
	VAL_INT(v, V_PID, pi->pid);
	VAL_INT(v, V_PPID, pi->ppid);
	val_text(v, V_NAME, s->name, s->nlen);
	val_text(v, V_USER, s->user, s->ulen);
	val_num(v, V_UID, pi->uid, 0);
	val_text(v, V_STATE, st, strlen(st));
	val_num(v, V_RSS, pi->rss_pages * (unsigned long long)p->pagesize, 0);
	val_num(v, V_VMS, pi->vsize, 0);
	val_ticks(v, V_UTIME, pi->utime, p->clk, 0);
	val_ticks(v, V_STIME, pi->stime, p->clk, 0);
	val_ticks(v, V_START, pi->start, p->clk, (unsigned long long)p->btime);
	VAL_INT(v, V_THREADS, pi->threads);
	val_text(v, V_CMD, pi->cmd, s->cmdlen);
	val_text(v, V_KTHREAD, is_kthread(pi) ? "true" : "false", is_kthread(pi) ? 4 : 5);
	val_text(v, V_NONE, "", 0);
}

/* The record in shape sh appended to w's buffer, as one value (jw_raw
 * with nothing writes the separator that is due), each literal and text
 * copied whole: the writer's separators, key scans and per-string
 * escaper took more user-space time than anything else a listing or an
 * answer does.  With room for it all (and then some), each literal's
 * whole array is copied, a fixed-size copy; else, or with a text to
 * escape (json_escape), piece by piece, exactly to the buffer's bound,
 * past which w's error is set as the writer's own would be. */
static void rec_write(struct jw *w, const struct seg *sh, const struct vals *v)
{
	struct buf *b = w->b;
	size_t i, room = 2;
	char *o;
	int k;

	if (jw_error(w))
		return;
	for (i = 0; sh[i].v != V_COUNT; i++)
		room += REC_COPY + v->n[sh[i].v];
	if (!v->esc && buf_reserve(b, room) == 0) {
		jw_raw(w, "", 0);
		o = b->p + b->len;
		for (i = 0; sh[i].v != V_COUNT; i++) {
			memcpy(o, lits + sh[i].off, REC_COPY);
			o += sh[i].len;
			memcpy(o, v->s[sh[i].v], v->n[sh[i].v]);
			o += v->n[sh[i].v];
		}
		*o = '\0';
		b->len = (size_t)(o - b->p);
		return;
	}
	if (buf_reserve(b, 1) < 0)
		goto full;
	jw_raw(w, "", 0);
	for (i = 0; sh[i].v != V_COUNT; i++) {
		k = sh[i].v;
		if (buf_reserve(b, sh[i].len + v->n[k]) < 0)
			goto full;
		memcpy(b->p + b->len, lits + sh[i].off, sh[i].len);
		b->len += sh[i].len;
		if (!(v->esc & (1u << k))) {
			memcpy(b->p + b->len, v->s[k], v->n[k]);
			b->len += v->n[k];
		} else if (json_escape(b, v->s[k], v->n[k]) < 0) {
			goto full;
		}
	}
	b->p[b->len] = '\0';
	return;
full:
	if (b->p)
		b->p[b->len] = '\0';
	w->err = 1;
}

/* ---- commands ---- */

/* One directory entry of the listing: nothing unless it is a process.
 * brief: the original's {pid, name} (about 40 bytes a process against
 * 330: 20,000 fit its server's 1 MiB).  -1 when the reply is full. */
static int list_one(struct proc_ctx *p, int brief, const char *name, struct jw *w, char *cmd,
		    size_t cmdcap, double now, double up)
{
	unsigned long long pid;
	struct pinfo pi;
	struct shown s;
	struct vals v;
	const char *c;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	for (pid = 0, c = name; *c >= '0' && *c <= '9' && pid <= 0x7fffffff; c++)
		pid = pid * 10 + (unsigned long long)(*c - '0');
	if (*c || pid > 0x7fffffff || proc_read(p, (int)pid, name, &pi, cmd, cmdcap, brief, NULL) != 0)
		return 0;
	s.name = name_of(&pi, &s.nlen);
	if (brief) {
		jw_obj(w);
		jw_kint(w, "pid", pi.pid);
		jw_key(w, "name");
		jw_strn(w, s.name, s.nlen);
		jw_obj_end(w);
		return jw_error(w) ? -1 : 0;
	}
	s.user = user_of(p, pi.uid, s.tmp);
	s.ulen = strlen(s.user);
	s.cmdlen = cmdline_join(&pi);
	s.cpu = cpu_usage(p, &pi, now, up);
	vals_fill(&v, p, &pi, &s);
	rec_write(w, list_shape, &v);
	return jw_error(w) ? -1 : 0;
}

/* The kernel's own directory records (getdents64 fills our buffer). */
struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int list_procs(struct proc_ctx *p, int brief, struct jw *w, char *err, size_t errlen)
{
	char cmd[CFG_PROC_LIST_CMDLINE_MAX];
	double now = mono_now(), up = boot_uptime();
	int fd, full = 0;
	size_t start;
	long n, off;

	if (!p->dents && !(p->dents = malloc(DENTS_BUF))) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	fd = openat(p->procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fmt_snprintf(err, errlen, "cannot read %s: %s", p->root, strerror(errno));
		return -1;
	}
	users_refresh(&p->users, now);
	p->cpu.gen += !brief;
	/* Room for what the last listing took and an eighth more, at once:
	 * growing by doubling copied the first half of a listing again. */
	start = w->b->len;
	if (p->list_len[brief])
		(void)buf_reserve(w->b, p->list_len[brief] + p->list_len[brief] / 8);
	jw_arr(w);
	while (!full && ((n = syscall(SYS_getdents64, fd, p->dents, DENTS_BUF)) > 0 ||
			 (n < 0 && errno == EINTR))) {
		for (off = 0; n > 0 && off < n && !full; ) {
			const struct dent64 *d = (const struct dent64 *)(void *)(p->dents + off);

			full = list_one(p, brief, d->name, w, cmd, sizeof(cmd), now, up) < 0;
			off += d->reclen;
		}
	}
	jw_arr_end(w);
	p->list_len[brief] = w->b->len - start;
	close(fd);
	/* Forget processes that were not seen: keeps the table the size of
	 * the process table. */
	if (!brief && p->cpu.e && p->cpu.n)
		cpu_rehash(&p->cpu, p->cpu.cap, p->cpu.gen);
	if (jw_error(w)) {
		fmt_snprintf(err, errlen, "process list too large for one reply");
		return -1;
	}
	return 0;
}

int proc_list(struct proc_ctx *p, struct jw *w, char *err, size_t errlen)
{
	return list_procs(p, 0, w, err, errlen);
}

int proc_list_brief(struct proc_ctx *p, struct jw *w, char *err, size_t errlen)
{
	return list_procs(p, 1, w, err, errlen);
}

/* VmSwap in bytes from status; 0 when absent (kernel threads). */
static unsigned long long status_swap(struct proc_ctx *p, const char *dir)
{
	char path[48], b[4096], *s, *end;
	unsigned long long v = 0;
	ssize_t n;

	proc_path(path, dir, "status");
	n = read_at(p->procfd, path, b, sizeof(b) - 1);
	if (n <= 0)
		return 0;
	/* From 'V' to 'V': only the Vm* lines start with one, and VmSwap is
	 * the last of them (a dozen steps, not a walk over every line). */
	for (s = b, end = b + n; ; s++) {
		if (!(s = memchr(s, 'V', (size_t)(end - s))) || end - s < 8)
			return 0;
		if ((s == b || s[-1] == '\n') && !memcmp(s, "VmSwap:", 7))
			break;
	}
	for (s += 7; s < end && (*s == ' ' || *s == '\t'); s++)
		;
	while (s < end && *s >= '0' && *s <= '9')
		v = v * 10 + (unsigned long long)(*s++ - '0');
	return v * 1024;
}

/* Whether VmSwap can be anything but 0: the proc root's "swaps" lists an
 * active area below its header line.  status is the dearest file the
 * kernel renders per process (signal masks, capabilities, CPU lists: it
 * doubled the cost of obtain_process_info), and most small machines and
 * containers have no swap, so it is skipped while none is on.  Looked at
 * again at most once a second, so for up to a second after a swapon the
 * swap still reads 0 (swapoff empties an area before it goes, so the other
 * way round is exact).  A root without "swaps" (a fixture, or a /proc
 * without it) reads status every time, as before. */
static int swap_in_use(struct proc_ctx *p, double now)
{
	char b[256];
	ssize_t n;
	const char *nl;

	if (p->swap_seen > 0 && now - p->swap_seen < 1.0)
		return p->swap_on;
	n = read_at(p->procfd, "swaps", b, sizeof(b));
	if (n < 0)
		p->swap_on = 1;
	else
		p->swap_on = (nl = memchr(b, '\n', (size_t)n)) && nl + 1 < b + n;
	p->swap_seen = now;
	return p->swap_on;
}

int proc_info(struct proc_ctx *p, int pid, struct jw *w, char *err, size_t errlen)
{
	char dir[24], *cmd;
	struct pinfo pi;
	struct kept *k;
	struct shown s;
	struct vals v;
	unsigned long long swap;
	double now;
	int r;

	if (!p->cmdbuf && !(p->cmdbuf = malloc(CFG_PROC_INFO_CMDLINE_MAX))) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	cmd = p->cmdbuf;
	pid_dir(dir, pid);
	k = kept_get(p, pid, dir);
	r = proc_read(p, pid, dir, &pi, cmd, CFG_PROC_INFO_CMDLINE_MAX, 0, k);
	if (r == 1 && k) {
		/* Gone, or its number is another process's now: by path. */
		kept_close(k);
		r = proc_read(p, pid, dir, &pi, cmd, CFG_PROC_INFO_CMDLINE_MAX, 0, NULL);
	}
	if (r != 0) {
		fmt_snprintf(err, errlen, "no such process: %d", pid);
		return -1;
	}
	now = mono_now();
	swap = swap_in_use(p, now) ? status_swap(p, dir) : 0;
	users_refresh(&p->users, now);
	s.name = name_of(&pi, &s.nlen);
	s.user = user_of(p, pi.uid, s.tmp);
	s.ulen = strlen(s.user);
	s.cpu = cpu_usage(p, &pi, now, boot_uptime());
	s.cmdlen = cmdline_join(&pi);
	vals_fill(&v, p, &pi, &s);
	val_num(&v, V_SWAP, swap, 0);
	val_text(&v, V_SAFE, pid != 1 && pid != p->self ? "true" : "false",
		 pid != 1 && pid != p->self ? 4 : 5);
	rec_write(w, info_shape, &v);
	return 0;
}

/* ---- signals ---- */

static const struct { const char *name; int sig; } sig_tab[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
	/* aliases last, so that names print as above */
	{ "IOT", SIGABRT }, { "POLL", SIGIO }, { "CLD", SIGCHLD },
};

int proc_signal_parse(const char *s)
{
	char up[16];
	size_t i, n = strlen(s);
	long v;
	char *end;

	if (n && n < 4 && s[0] >= '0' && s[0] <= '9') {
		v = num_strtol(s, &end);
		return *end || v < 1 || v >= SIGRTMAX + 1 ? -1 : (int)v;
	}
	if (n >= sizeof(up))
		return -1;
	for (i = 0; i <= n; i++)
		up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	s = up;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(sig_tab) / sizeof(sig_tab[0]); i++)
		if (!strcmp(s, sig_tab[i].name))
			return sig_tab[i].sig;
	if (!strncmp(s, "RTMIN+", 6) || !strncmp(s, "RTMAX-", 6)) {
		v = num_strtol(s + 6, &end);
		if (*end || end == s + 6 || v < 0 || v > SIGRTMAX - SIGRTMIN)
			return -1;
		return s[2] == 'M' && s[3] == 'I' ? SIGRTMIN + (int)v : SIGRTMAX - (int)v;
	}
	if (!strcmp(s, "RTMIN"))
		return SIGRTMIN;
	if (!strcmp(s, "RTMAX"))
		return SIGRTMAX;
	return -1;
}

const char *proc_signal_name(int sig, char *tmp, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(sig_tab) / sizeof(sig_tab[0]); i++) {
		if (sig_tab[i].sig == sig) {
			fmt_snprintf(tmp, n, "SIG%s", sig_tab[i].name);
			return tmp;
		}
	}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		fmt_snprintf(tmp, n, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		fmt_snprintf(tmp, n, "SIG%d", sig);
	return tmp;
}

int proc_signal(struct proc_ctx *p, int pid, int sig, char *err, size_t errlen)
{
	char dir[16], tmp[16];
	struct stat st;

	if (pid == 1) {
		fmt_snprintf(err, errlen, "refusing to signal pid 1 (init)");
		return -1;
	}
	if (pid == p->self) {
		fmt_snprintf(err, errlen, "refusing to signal the agent itself (pid %d)", pid);
		return -1;
	}
	if (kill(pid, sig) == 0)
		return 0;
	if (errno == ESRCH) {
		fmt_snprintf(err, errlen, "no such process: %d", pid);
	} else if (errno == EPERM) {
		fmt_snprintf(dir, sizeof(dir), "%d", pid);
		if (fstatat(p->procfd, dir, &st, 0) == 0)
			fmt_snprintf(err, errlen, "permission denied: cannot signal %d (owned by %s)",
				 pid, proc_user_name(p, st.st_uid, tmp, sizeof(tmp)));
		else
			fmt_snprintf(err, errlen, "permission denied: cannot signal %d", pid);
	} else {
		fmt_snprintf(err, errlen, "cannot signal %d: %s", pid, strerror(errno));
	}
	return -1;
}

/* ---- setup ---- */

static long long read_btime(int procfd)
{
	char b[8192], *s;
	ssize_t n = read_at(procfd, "stat", b, sizeof(b) - 1);

	if (n <= 0)
		return 0;
	b[n] = '\0';
	s = str_find(b, "\nbtime ");
	return s ? num_strtoll(s + 7, NULL) : 0;
}

/* Files are kept only from a real procfs: a fixture's could be replaced
 * under a kept descriptor, which would then read the old one. */
static int root_is_procfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && sf.f_type == PROCFS_MAGIC;
}

static void kept_forget(struct proc_ctx *p)
{
	int i;

	for (i = 0; i < PROC_KEPT; i++)
		kept_close(&p->kept[i]);
}

struct proc_ctx *proc_new(char *err, size_t errlen)
{
	struct proc_ctx *p = calloc(1, sizeof(*p));

	if (!p) {
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fmt_snprintf(p->root, sizeof(p->root), "%s", CFG_PROC_ROOT);
	p->procfd = open(p->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->procfd < 0) {
		fmt_snprintf(err, errlen, "cannot open %s: %s", p->root, strerror(errno));
		free(p);
		return NULL;
	}
	/* The kernel's own values, as sysconf reads them (musl's sysconf
	 * costs 1 KB of table for these two). */
	p->clk = (long)getauxval(AT_CLKTCK);
	if (p->clk <= 0)
		p->clk = 100;
	p->pagesize = (long)getauxval(AT_PAGESZ);
	if (p->pagesize <= 0)
		p->pagesize = 4096;
	p->btime = read_btime(p->procfd);
	p->procfs = root_is_procfs(p->procfd);
	p->self = getpid();
	fmt_snprintf(p->users.path, sizeof(p->users.path), "/etc/passwd");
	return p;
}

int proc_set_root(struct proc_ctx *p, const char *root, char *err, size_t errlen)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		fmt_snprintf(err, errlen, "--proc-root %s: %s", root, strerror(errno));
		return -1;
	}
	kept_forget(p);
	close(p->procfd);
	p->procfd = fd;
	fmt_snprintf(p->root, sizeof(p->root), "%s", root);
	p->btime = read_btime(fd);
	p->procfs = root_is_procfs(fd);
	return 0;
}

void proc_free(struct proc_ctx *p)
{
	if (!p)
		return;
	users_clear(&p->users);
	free(p->cpu.e);
	free(p->cmdbuf);
	free(p->dents);
	kept_forget(p);
	close(p->procfd);
	free(p);
}
