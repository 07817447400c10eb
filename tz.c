/* tz.c - local time (see tz.h for what and why).
 *
 * The zone is loaded once per value of TZ into one static record: a TZif
 * file's transitions and types as read (big-endian, checked against the
 * file's length), or none, and a POSIX rule (from TZ or the file's
 * footer).  Dates are days since 1970-01-01 by num.c's proleptic
 * Gregorian arithmetic (num_days, num_utc). */
#include "tz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "num.h"

#define TZ_FILE_MAX (256 * 1024)

struct tz_type {
	int32_t off;          /* seconds east of UTC */
	int isdst;
	const char *abbr;
};

struct tz_rule_day {
	char kind;            /* 'J' (1..365, no Feb 29), 'n' (0..365), 'M' */
	int n, m, w, d;
	int32_t time;         /* seconds after local midnight */
};

struct tz_rule {
	struct tz_type std, dst;
	int has_dst;
	struct tz_rule_day start, end;
	char names[2][16];
};

static struct {
	char key[256];        /* "=" and TZ's value it was loaded for, "\1" for unset */
	int loaded;
	unsigned char *file;  /* the TZif file, owned */
	const unsigned char *times, *idx;   /* 8-byte (or 4-byte) times, type indices */
	int tsize, ntimes, ntypes;
	struct tz_type types[256];
	int has_rule;
	struct tz_rule rule;
} Z;

/* ---- dates ---- */

static int leap(long long y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static long long floor_div(long long a, long long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- POSIX rules ---- */

/* A zone name ("CET", "<+0330>") into out: past it, or NULL. */
static const char *rule_name(const char *s, char *out, size_t cap)
{
	const char *b = s, *e;

	if (*s == '<') {
		b = ++s;
		while (*s && *s != '>')
			s++;
		if (*s != '>')
			return NULL;
		e = s++;
	} else {
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
			s++;
		e = s;
	}
	if (e - b < 3 || (size_t)(e - b) >= cap)
		return NULL;
	memcpy(out, b, (size_t)(e - b));
	out[e - b] = '\0';
	return s;
}

/* [+-]hh[:mm[:ss]] into seconds: past it, or NULL. */
static const char *rule_hms(const char *s, int32_t *v)
{
	int sign = 1, part, i;
	int32_t t = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (i = 0; i < 3; i++) {
		if (i && *s != ':')
			break;
		if (i)
			s++;
		if (*s < '0' || *s > '9')
			return NULL;
		for (part = 0; *s >= '0' && *s <= '9' && part < 1000; s++)
			part = part * 10 + (*s - '0');
		t += part * (i == 0 ? 3600 : i == 1 ? 60 : 1);
	}
	*v = sign * t;
	return s;
}

static int num(const char **s, int lo, int hi, int *v)
{
	int x = 0;

	if (**s < '0' || **s > '9')
		return -1;
	for (; **s >= '0' && **s <= '9' && x <= hi; (*s)++)
		x = x * 10 + (**s - '0');
	*v = x;
	return x < lo || x > hi ? -1 : 0;
}

/* ",Jn", ",n" or ",Mm.w.d", then "/time": past it, or NULL. */
static const char *rule_day(const char *s, struct tz_rule_day *r)
{
	memset(r, 0, sizeof(*r));
	r->time = 7200;
	if (*s++ != ',')
		return NULL;
	if (*s == 'J') {
		s++;
		r->kind = 'J';
		if (num(&s, 1, 365, &r->n) < 0)
			return NULL;
	} else if (*s == 'M') {
		s++;
		r->kind = 'M';
		if (num(&s, 1, 12, &r->m) < 0 || *s++ != '.' || num(&s, 1, 5, &r->w) < 0 ||
		    *s++ != '.' || num(&s, 0, 6, &r->d) < 0)
			return NULL;
	} else {
		r->kind = 'n';
		if (num(&s, 0, 365, &r->n) < 0)
			return NULL;
	}
	if (*s == '/')
		s = rule_hms(s + 1, &r->time);
	return s;
}

/* TZ's POSIX form into r: 0, or -1 when it is not one. */
static int rule_parse(const char *s, struct tz_rule *r)
{
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (!(s = rule_name(s, r->names[0], sizeof(r->names[0]))) || !(s = rule_hms(s, &off)))
		return -1;
	r->std.off = -off;    /* POSIX counts west of UTC */
	r->std.abbr = r->names[0];
	r->dst = r->std;
	if (!*s)
		return 0;
	if (!(s = rule_name(s, r->names[1], sizeof(r->names[1]))))
		return -1;
	r->has_dst = 1;
	r->dst.abbr = r->names[1];
	r->dst.isdst = 1;
	r->dst.off = r->std.off + 3600;
	if (*s && *s != ',') {
		if (!(s = rule_hms(s, &off)))
			return -1;
		r->dst.off = -off;
	}
	if (!*s)
		s = ",M3.2.0,M11.1.0";
	if (!(s = rule_day(s, &r->start)) || !(s = rule_day(s, &r->end)))
		return -1;
	return 0;
}

/* The day of year y (days since the epoch) a rule's date falls on. */
static long long rule_date(const struct tz_rule_day *r, long long y)
{
	static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long long jan1 = num_days(y, 1, 1), first;
	int d, last;

	if (r->kind == 'J')
		return jan1 + r->n - 1 + (leap(y) && r->n >= 60);
	if (r->kind == 'n')
		return jan1 + r->n;
	first = num_days(y, r->m, 1);
	last = mdays[r->m - 1] + (r->m == 2 && leap(y));
	d = (int)((r->d - (first + 4) % 7 + 14) % 7) + 1 + (r->w - 1) * 7;
	while (d > last)
		d -= 7;
	return first + d - 1;
}

/* The type of the rule at UTC t. */
static const struct tz_type *rule_at(const struct tz_rule *r, long long t)
{
	long long y, start, end;
	struct tm tm;

	if (!r->has_dst)
		return &r->std;
	num_utc(t + r->std.off, &tm);
	y = tm.tm_year + 1900LL;
	/* the start is read in standard time, the end in daylight time */
	start = rule_date(&r->start, y) * 86400 + r->start.time - r->std.off;
	end = rule_date(&r->end, y) * 86400 + r->end.time - r->dst.off;
	if (start < end)
		return t >= start && t < end ? &r->dst : &r->std;
	return t >= end && t < start ? &r->std : &r->dst;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static long long trans_at(int i)
{
	const unsigned char *p = Z.times + (size_t)i * (size_t)Z.tsize;

	if (Z.tsize == 4)
		return (int32_t)be32(p);
	return (long long)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* One data block at p (n bytes left) with times of tsize bytes: 0 and Z
 * filled, or -1 when the counts do not fit the file; *end past it. */
static int tzif_block(const unsigned char *p, size_t n, int tsize, const unsigned char **end)
{
	uint32_t isut, isstd, leaps, nt, nty, nch;
	size_t need;
	const unsigned char *ty, *chars;
	int i;

	if (n < 44 || memcmp(p, "TZif", 4))
		return -1;
	isut = be32(p + 20), isstd = be32(p + 24), leaps = be32(p + 28);
	nt = be32(p + 32), nty = be32(p + 36), nch = be32(p + 40);
	if (nt > 100000 || nty == 0 || nty > 256 || nch > 1024 || leaps > 10000 || isut > 256 || isstd > 256)
		return -1;
	need = 44 + (size_t)nt * ((size_t)tsize + 1) + nty * 6 + nch + leaps * ((size_t)tsize + 4) + isstd + isut;
	if (need > n)
		return -1;
	Z.times = p + 44;
	Z.idx = Z.times + (size_t)nt * (size_t)tsize;
	ty = Z.idx + nt;
	chars = ty + nty * 6;
	Z.tsize = tsize;
	Z.ntimes = (int)nt;
	Z.ntypes = (int)nty;
	for (i = 0; i < (int)nt; i++)
		if (Z.idx[i] >= nty)
			return -1;
	for (i = 0; i < (int)nty; i++) {
		unsigned ai = ty[6 * i + 5];

		Z.types[i].off = (int32_t)be32(ty + 6 * i);
		Z.types[i].isdst = ty[6 * i + 4] != 0;
		Z.types[i].abbr = ai < nch && memchr(chars + ai, '\0', nch - ai) ? (const char *)chars + ai : "";
	}
	*end = p + need;
	return 0;
}

/* The TZif file's zone into Z (its 64-bit part and footer from version
 * 2 on): 0, or -1. */
static int tzif_load(unsigned char *f, size_t n)
{
	const unsigned char *end, *nl;

	if (tzif_block(f, n, 4, &end) < 0)
		return -1;
	if (f[4] < '2')
		return 0;
	if (tzif_block(end, n - (size_t)(end - f), 8, &end) < 0)
		return -1;
	/* the footer, "\nRULE\n": the rule after the last transition */
	if (end < f + n && *end == '\n' && (nl = memchr(end + 1, '\n', (size_t)(f + n - end - 1)))) {
		*(unsigned char *)nl = '\0';
		Z.has_rule = nl > end + 1 && rule_parse((const char *)end + 1, &Z.rule) == 0;
	}
	return 0;
}

/* The file at path whole (TZ_FILE_MAX at most) into Z.file: its length,
 * or 0 when there is none. */
static size_t zone_file(const char *path)
{
	struct buf b;
	size_t n;

	buf_init(&b, TZ_FILE_MAX);
	if (buf_read_file(&b, path) < 0 || !b.p) {
		buf_free(&b);
		return 0;
	}
	n = b.len;
	Z.file = (unsigned char *)buf_steal(&b);
	return n;
}

/* The zone named by TZ's value s (NULL: unset) into Z. */
static void load(const char *s)
{
	static const char *const dirs[] = { "/usr/share/zoneinfo/", "/share/zoneinfo/", "/etc/zoneinfo/" };
	const char *slash;
	size_t n = 0, i;

	free(Z.file);
	memset(&Z, 0, sizeof(Z));
	Z.loaded = 1;
	if (!s)
		s = "/etc/localtime";
	slash = strchr(s, '/');
	if (*s == ':' || (slash && !memchr(s, ',', (size_t)(slash - s)))) {
		if (*s == ':')
			s++;
		if (*s == '/') {
			n = zone_file(s);
		} else if (!str_find(s, "..")) {
			for (i = 0; i < 3 && !Z.file; i++) {
				char path[512];
				size_t dl = strlen(dirs[i]), sl = strlen(s);

				if (dl + sl >= sizeof(path))
					break;
				memcpy(path, dirs[i], dl);
				memcpy(path + dl, s, sl + 1);
				n = zone_file(path);
			}
		}
		if (Z.file && tzif_load(Z.file, n) == 0)
			return;
		free(Z.file);
		Z.file = NULL;
		Z.ntypes = 0;
		Z.has_rule = 0;
	} else if (*s && rule_parse(s, &Z.rule) == 0) {
		Z.has_rule = 1;
	}
}

/* The zone's type at UTC t (UTC itself when there is no zone). */
static const struct tz_type *type_at(long long t)
{
	static const struct tz_type utc = { 0, 0, "UTC" };
	const char *s = getenv("TZ");
	char key[sizeof(Z.key)];
	int lo, hi, i;

	if (s && strlen(s) >= sizeof(key) - 1)
		s = "";   /* no zone has such a name: UTC */
	key[0] = s ? '=' : '\1';
	strcpy(key + 1, s ? s : "");
	if (!Z.loaded || strcmp(key, Z.key)) {
		load(s);
		strcpy(Z.key, key);
	}
	if (Z.ntypes && (Z.ntimes == 0 || t < trans_at(0))) {
		for (i = 0; i < Z.ntypes && Z.types[i].isdst; i++)
			;
		return &Z.types[i < Z.ntypes ? i : 0];
	}
	if (Z.ntypes && (t < trans_at(Z.ntimes - 1) || !Z.has_rule)) {
		for (lo = 0, hi = Z.ntimes - 1; lo < hi;) {   /* the last transition <= t */
			int mid = (lo + hi + 1) / 2;

			if (trans_at(mid) <= t)
				lo = mid;
			else
				hi = mid - 1;
		}
		return &Z.types[Z.idx[lo]];
	}
	return Z.has_rule ? rule_at(&Z.rule, t) : &utc;
}

struct tm *tz_localtime(long long t, struct tm *tm)
{
	const struct tz_type *ty = type_at(t);

	num_utc(t + ty->off, tm);
	tm->tm_isdst = ty->isdst;
	tm->tm_gmtoff = ty->off;
	tm->tm_zone = ty->abbr;
	return tm;
}

long long tz_mktime(struct tm *tm)
{
	long long y = tm->tm_year + 1900LL + floor_div(tm->tm_mon, 12), t0, before, after, t;
	int mon = (int)(tm->tm_mon - floor_div(tm->tm_mon, 12) * 12);

	t0 = (num_days(y, mon + 1, 1) + tm->tm_mday - 1) * 86400 + tm->tm_hour * 3600LL +
	     tm->tm_min * 60LL + tm->tm_sec;
	/* The offsets on either side of any change near t0 (no zone is 30 h
	 * from UTC): the one before wins when it gives t0 back, or when
	 * neither does (a skipped time). */
	before = type_at(t0 - 108000)->off;
	after = type_at(t0 + 108000)->off;
	t = t0 - before;
	if (before != after && type_at(t)->off != before && type_at(t0 - after)->off == after)
		t = t0 - after;
	tz_localtime(t, tm);
	return t;
}
