/* server_roster.c - the agents the server has seen and their history (see
 * server_roster.h).  Binary search over the sorted table: 16,384 agents
 * cost 14 comparisons a lookup and one memmove of pointers an insertion. */
#include "server_roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "num.h"
#include "token.h"

void roster_init(struct roster *r)
{
	memset(r, 0, sizeof(*r));
}

static void agent_free(struct roster_agent *a)
{
	if (!a)
		return;
	free(a->commands);
	free(a->hist);
	free(a);
}

void roster_free(struct roster *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		agent_free(r->a[i]);
	free(r->a);
	roster_init(r);
}

/* Where name is, or would go: *found says which. */
static int slot(const struct roster *r, const char *name, int *found)
{
	int lo = 0, hi = r->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2, c = strcmp(r->a[mid]->name, name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

struct roster_agent *roster_find(const struct roster *r, const char *name)
{
	int found, i = slot(r, name, &found);

	return found ? r->a[i] : NULL;
}

static void remove_at(struct roster *r, int i)
{
	if (r->a[i]->hist)
		r->nhist--;
	agent_free(r->a[i]);
	memmove(r->a + i, r->a + i + 1, sizeof(*r->a) * (size_t)(r->n - i - 1));
	r->n--;
	r->dirty = r->hist_dirty = 1;
}

/* Room for one more: the table grown, or the offline agent seen longest
 * ago forgotten.  0, or -1. */
static int make_room(struct roster *r)
{
	int i, old = -1;

	if (r->n < r->cap)
		return 0;
	if (r->cap < CFG_ROSTER_MAX) {
		int ncap = r->cap ? r->cap * 2 : 16;
		struct roster_agent **na;

		if (ncap > CFG_ROSTER_MAX)
			ncap = CFG_ROSTER_MAX;
		na = realloc(r->a, sizeof(*na) * (size_t)ncap);
		if (!na)
			return -1;
		r->a = na;
		r->cap = ncap;
		return 0;
	}
	for (i = 0; i < r->n; i++)
		if (!r->a[i]->online && (old < 0 || r->a[i]->last_seen < r->a[old]->last_seen))
			old = i;
	if (old < 0)
		return -1;
	remove_at(r, old);
	return 0;
}

/* A new, empty agent of that name in its place; NULL when none fits. */
static struct roster_agent *insert(struct roster *r, const char *name)
{
	struct roster_agent *a;
	int found, i;

	if (!token_name_valid(name) || make_room(r) < 0 || !(a = calloc(1, sizeof(*a))))
		return NULL;
	fmt_copy(a->name, sizeof(a->name), name);
	a->cpu_busy = -1;
	i = slot(r, name, &found);
	memmove(r->a + i + 1, r->a + i, sizeof(*r->a) * (size_t)(r->n - i));
	r->a[i] = a;
	r->n++;
	return a;
}

/* The announced commands, kept when small (a nestd agent's list is ~300
 * bytes); a list past CFG_ROSTER_COMMANDS_MAX is remembered as none. */
static void set_commands(struct roster_agent *a, const char *commands)
{
	free(a->commands);
	a->commands = NULL;
	if (commands && strlen(commands) <= CFG_ROSTER_COMMANDS_MAX)
		a->commands = strdup(commands);
}

struct roster_agent *roster_seen(struct roster *r, const struct roster_info *in, long long now)
{
	struct roster_agent *a = roster_find(r, in->name);

	if (!a && !(a = insert(r, in->name)))
		return NULL;
	if (!a->first_seen)
		a->first_seen = now;
	a->last_seen = now;
	a->online = 1;
	fmt_snprintf(a->owner, sizeof(a->owner), "%s", in->owner ? in->owner : "");
	fmt_snprintf(a->version, sizeof(a->version), "%s", in->version ? in->version : "");
	fmt_snprintf(a->hostname, sizeof(a->hostname), "%s", in->hostname ? in->hostname : "");
	fmt_snprintf(a->backend, sizeof(a->backend), "%s", in->backend ? in->backend : "");
	set_commands(a, in->commands);
	a->next_sample_ms = 0;
	a->sampling = 0;
	r->dirty = 1;
	return a;
}

void roster_left(struct roster *r, const char *name, long long now)
{
	struct roster_agent *a = roster_find(r, name);

	if (!a)
		return;
	a->online = 0;
	a->last_seen = now;
	r->dirty = 1;
}

void roster_touch(struct roster *r, long long now)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->a[i]->online && r->a[i]->last_seen != now) {
			r->a[i]->last_seen = now;
			r->dirty = 1;
		}
}

int roster_forget(struct roster *r, const char *name)
{
	int found, i = slot(r, name, &found);

	if (!found)
		return -1;
	if (r->a[i]->online)
		return -2;
	remove_at(r, i);
	return 0;
}

/* ---- history ---- */

const struct roster_sample *roster_sample_at(const struct roster_agent *a, int i)
{
	return &a->hist[(a->hfirst + i) % CFG_HISTORY_SAMPLES];
}

int roster_add_sample(struct roster *r, struct roster_agent *a, const struct roster_sample *s)
{
	if (!a->hist) {
		if (r->nhist >= CFG_HISTORY_AGENTS_MAX ||
		    !(a->hist = malloc(sizeof(*a->hist) * CFG_HISTORY_SAMPLES)))
			return -1;
		r->nhist++;
		a->hn = a->hfirst = 0;
	}
	if (a->hn < CFG_HISTORY_SAMPLES) {
		a->hist[(a->hfirst + a->hn++) % CFG_HISTORY_SAMPLES] = *s;
	} else {
		a->hist[a->hfirst] = *s;
		a->hfirst = (a->hfirst + 1) % CFG_HISTORY_SAMPLES;
	}
	r->hist_dirty = 1;
	return 0;
}

/* A number at key of object o, or dflt. */
static double num_at(const struct json *j, int o, const char *key, double dflt)
{
	double v;
	int t = o >= 0 && json_type(j, o) == JSON_OBJECT ? json_get(j, o, key) : -1;

	return t >= 0 && json_num(j, t, &v) == 0 ? v : dflt;
}

/* CPU % since the last sample, from cpu.times (seconds: user, nice,
 * system, idle, iowait, irq, softirq, steal); -1 for the first sample,
 * after a reboot, or from an agent that does not send them. */
static double cpu_percent(struct roster_agent *a, const struct json *j, int times)
{
	static const char *const keys[] = { "user", "nice", "system", "idle", "iowait", "irq",
					    "softirq", "steal" };
	double v[8], total = 0, busy, pct = -1;
	size_t i;

	for (i = 0; i < 8; i++) {
		v[i] = num_at(j, times, keys[i], -1);
		if (v[i] < 0 && i < 4) {
			a->cpu_busy = -1;
			return -1;
		}
		total += v[i] > 0 ? v[i] : 0;
	}
	busy = total - v[3] - (v[4] > 0 ? v[4] : 0);
	if (a->cpu_busy >= 0 && total > a->cpu_total && busy >= a->cpu_busy) {
		pct = 100.0 * (busy - a->cpu_busy) / (total - a->cpu_total);
		pct = pct > 100 ? 100 : pct;
	}
	a->cpu_busy = busy;
	a->cpu_total = total;
	return pct;
}

int roster_sample_parse(struct roster_agent *a, const struct json *j, int p, long long now,
			struct roster_sample *s)
{
	int load = p >= 0 && json_type(j, p) == JSON_OBJECT ? json_get(j, p, "load") : -1;
	int mem, disk, cpu, i;

	if (p < 0 || json_type(j, p) != JSON_OBJECT)
		return -1;
	mem = json_get(j, p, "memory");
	disk = json_get(j, p, "disk");
	cpu = json_get(j, p, "cpu");
	s->t = now;
	s->uptime = (long long)num_at(j, p, "uptime", -1);
	for (i = 0; i < 3; i++) {
		int e = load >= 0 && json_type(j, load) == JSON_ARRAY ? json_elem(j, load, i) : -1;

		if (e < 0 || json_num(j, e, &s->load[i]) < 0 || s->load[i] < 0)
			s->load[i] = -1;
	}
	s->mem_used = (long long)num_at(j, mem, "used", -1);
	s->mem_total = (long long)num_at(j, mem, "total", -1);
	s->disk_used = (long long)num_at(j, disk, "used", -1);
	s->disk_total = (long long)num_at(j, disk, "total", -1);
	s->cpu = cpu_percent(a, j, cpu >= 0 && json_type(j, cpu) == JSON_OBJECT ?
			     json_get(j, cpu, "times") : -1);
	return 0;
}

/* ---- the agents file ---- */

int roster_format(const struct roster *r, struct buf *out)
{
	struct jw w;
	int i;

	for (i = 0; i < r->n; i++) {
		const struct roster_agent *a = r->a[i];

		jw_init(&w, out);
		jw_obj(&w);
		jw_kstr(&w, "name", a->name);
		jw_kstr(&w, "owner", a->owner[0] ? a->owner : NULL);
		jw_kstr(&w, "hostname", a->hostname);
		jw_kstr(&w, "version", a->version);
		jw_kstr(&w, "services", a->backend);
		jw_key(&w, "commands");
		if (a->commands)
			jw_raw(&w, a->commands, strlen(a->commands));
		else
			jw_null(&w);
		jw_kint(&w, "first_seen", a->first_seen);
		jw_kint(&w, "last_seen", a->last_seen);
		jw_obj_end(&w);
		if (jw_error(&w) || buf_putc(out, '\n') < 0)
			return -1;
	}
	return 0;
}

/* A string member into out[cap]; 0 absent or null (out ""), -1 otherwise
 * unusable. */
static int str_member(const struct json *j, const char *key, char *out, size_t cap)
{
	int t = json_get(j, 0, key);

	out[0] = '\0';
	if (t < 0 || json_type(j, t) == JSON_NULL)
		return 0;
	return json_strcpy(j, t, out, cap);
}

/* One line of the agents file into r: 0, or -1 when it does not read. */
static int parse_agent(struct roster *r, const char *line, size_t n)
{
	char name[TOKEN_NAME_MAX + 1];
	struct roster_agent *a;
	long long first = 0, last = 0;
	struct json j;
	int t, ok;

	if (json_parse(&j, line, n, NULL, 0) < 0)
		return -1;
	ok = json_type(&j, 0) == JSON_OBJECT && str_member(&j, "name", name, sizeof(name)) == 0 &&
	     !roster_find(r, name) && json_int(&j, json_get(&j, 0, "first_seen"), &first) == 0 &&
	     json_int(&j, json_get(&j, 0, "last_seen"), &last) == 0 && (a = insert(r, name));
	if (ok) {
		a->first_seen = first;
		a->last_seen = last;
		if (str_member(&j, "owner", a->owner, sizeof(a->owner)) < 0 ||
		    str_member(&j, "hostname", a->hostname, sizeof(a->hostname)) < 0 ||
		    str_member(&j, "version", a->version, sizeof(a->version)) < 0 ||
		    str_member(&j, "services", a->backend, sizeof(a->backend)) < 0)
			a->owner[0] = a->hostname[0] = a->version[0] = a->backend[0] = '\0';
		t = json_get(&j, 0, "commands");
		if (t >= 0 && json_type(&j, t) == JSON_ARRAY) {
			char *c = json_dup(&j, t);

			set_commands(a, c);
			free(c);
		}
	}
	json_free(&j);
	return ok ? 0 : -1;
}

/* Calls fn on each line of text (without its newline); the lines it
 * refused. */
static int each_line(struct roster *r, const char *text, size_t n,
		     int (*fn)(struct roster *, const char *, size_t))
{
	const char *p = text, *end = text + n;
	int bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len && p[0] != '#' && fn(r, p, len) < 0)
			bad++;
		p += len + 1;
	}
	return bad;
}

int roster_parse(struct roster *r, const char *text, size_t n)
{
	int bad = each_line(r, text, n, parse_agent);

	r->dirty = 0;
	return bad;
}

/* ---- the history file ---- */

static void put_num(struct buf *out, double v, int decimals)
{
	if (v < 0)
		buf_puts(out, " -");
	else if (decimals)
		buf_printf(out, " %.*f", decimals, v);
	else
		buf_printf(out, " %lld", (long long)v);
}

int roster_history_format(const struct roster *r, struct buf *out)
{
	int i, k, m;

	if (buf_puts(out, "# nestd history: NAME EPOCH CPU LOAD1 LOAD5 LOAD15 MEM_USED MEM_TOTAL "
		     "DISK_USED DISK_TOTAL UPTIME\n") < 0)
		return -1;
	for (i = 0; i < r->n; i++)
		for (k = 0; k < r->a[i]->hn; k++) {
			const struct roster_sample *s = roster_sample_at(r->a[i], k);

			buf_printf(out, "%s %lld", r->a[i]->name, s->t);
			put_num(out, s->cpu, 1);
			for (m = 0; m < 3; m++)
				put_num(out, s->load[m], 2);
			put_num(out, (double)s->mem_used, 0);
			put_num(out, (double)s->mem_total, 0);
			put_num(out, (double)s->disk_used, 0);
			put_num(out, (double)s->disk_total, 0);
			put_num(out, (double)s->uptime, 0);
			if (buf_putc(out, '\n') < 0)
				return -1;
		}
	return 0;
}

#define TWO53 9007199254740992ULL

/* digits [. digits] with up to 9 decimals, as the double nearest to it
 * (ties to even, as strtod rounds): 0, or -1 for any other shape or
 * 9e18 and above.  What put_num writes must read back to the very double
 * it was written from: %.2f of a value past 2^53 has 18 digits, past
 * num_parse's exact range (fuzz_state's round trip caught the drift), and
 * strtod would bring ~7 KB of musl into the static binary for this alone.
 * Three exact cases: below 2^53 as an integer of digits, one correctly
 * rounded division (Clinger's fast path); an integer part from 2^53 on,
 * where doubles are integers, rounded to their spacing; between the two,
 * the value times 2^j rounded to an integer by integer arithmetic. */
static int exact_decimal(const char *s, double *v)
{
	unsigned long long ip = 0, f = 0, p10 = 1, sp, r, m, t;
	double scale = 1;
	int k = 0, e = 0, j;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((ip = ip * 10 + (unsigned)(*s - '0')) >= 9000000000000000000ULL)
			return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, k++) {
			if (k == 9)
				return -1;
			f = f * 10 + (unsigned)(*s - '0');
			p10 *= 10;
		}
	if (*s)
		return -1;
	if (ip <= TWO53 / p10 && ip * p10 + f <= TWO53) {
		*v = (double)(ip * p10 + f) / (double)p10;
		return 0;
	}
	for (t = ip; t > 1; t >>= 1)
		e++;                                  /* 2^e <= ip < 2^(e+1) */
	if (ip >= TWO53) {
		sp = 1ULL << (e - 52);                /* the doubles' spacing here */
		r = ip % sp;
		m = ip - r;
		if (r > sp / 2 || (r == sp / 2 && (f || (m / sp) & 1)))
			m += sp;
		*v = (double)m;
		return 0;
	}
	j = 52 - e;                                   /* spacing 2^-j, j <= 29 */
	t = f << j;
	m = (ip << j) + t / p10;
	r = t % p10;
	if (2 * r > p10 || (2 * r == p10 && (m & 1)))
		m++;
	while (j--)
		scale /= 2;
	*v = (double)m * scale;
	return 0;
}

/* The next blank-separated field of *p (before end) as a number: -1 for
 * "-"; 0, or -1 when it is neither. */
static int field(const char **p, const char *end, double *v)
{
	char tmp[32];
	const char *e;
	size_t n = 0;

	while (*p < end && **p == ' ')
		(*p)++;
	while (*p < end && **p != ' ' && n < sizeof(tmp) - 1)
		tmp[n++] = *(*p)++;
	tmp[n] = '\0';
	if (n == 1 && tmp[0] == '-') {
		*v = -1;
		return 0;
	}
	/* Any other shape (an exponent, a file edited by hand): num_parse's
	 * nearly exact reading. */
	if (n && exact_decimal(tmp, v) == 0)
		return 0;
	*v = num_parse(tmp, &e);
	return n && *e == '\0' && *v >= 0 && *v < 9e18 ? 0 : -1;   /* fits a long long */
}

static int parse_sample(struct roster *r, const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n), *end = line + n, *p;
	char name[TOKEN_NAME_MAX + 1];
	struct roster_agent *a;
	struct roster_sample s;
	double f[10];
	int i;

	if (!sp || (size_t)(sp - line) > TOKEN_NAME_MAX)
		return -1;
	memcpy(name, line, (size_t)(sp - line));
	name[sp - line] = '\0';
	if (!(a = roster_find(r, name)))
		return -1;
	for (p = sp, i = 0; i < 10; i++)
		if (field(&p, end, &f[i]) < 0)
			return -1;
	if (p != end || f[0] < 0 || (a->hn && f[0] < roster_sample_at(a, a->hn - 1)->t))
		return -1;
	s.t = (long long)f[0];
	s.cpu = f[1] > 100 ? -1 : f[1];
	for (i = 0; i < 3; i++)
		s.load[i] = f[2 + i];
	s.mem_used = (long long)f[5];
	s.mem_total = (long long)f[6];
	s.disk_used = (long long)f[7];
	s.disk_total = (long long)f[8];
	s.uptime = (long long)f[9];
	return roster_add_sample(r, a, &s);
}

int roster_history_parse(struct roster *r, const char *text, size_t n)
{
	int bad = each_line(r, text, n, parse_sample);

	r->hist_dirty = 0;
	return bad;
}
