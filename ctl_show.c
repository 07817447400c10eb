/* ctl_show.c - nestd ctl's output (see ctl_show.h).  Field names are the
 * reply payloads of docs/PROTOCOL.md ("Commands"); a field an agent does
 * not send shows as "-", never as an error or an invented 0, so older and
 * other agents (the original client's {pid, name} list) still print. */
#include "ctl_show.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "utf8.h"

/* A string value as text; null as "-"; numbers and the rest as written. */
static void str_of(const struct json *j, int t, char *out, size_t cap)
{
	size_t n;
	const char *raw;

	out[0] = '\0';
	if (t < 0)
		return;
	if (json_type(j, t) == JSON_STRING) {
		if (json_strcpy(j, t, out, cap) < 0) {
			struct buf b;

			buf_init(&b, 0);
			json_str(j, t, &b);
			snprintf(out, cap, "%s", b.p ? b.p : "");
			buf_free(&b);
		}
		return;
	}
	if (json_type(j, t) == JSON_NULL) {
		snprintf(out, cap, "-");
		return;
	}
	raw = json_raw(j, t, &n);
	snprintf(out, cap, "%.*s", (int)n, raw);
}

static long long int_of(const struct json *j, int t)
{
	long long v = 0;
	double d;

	if (t >= 0 && json_int(j, t, &v) < 0 && json_num(j, t, &d) == 0)
		v = (long long)d;
	return v;
}

static void human_bytes(long long v, char *out, size_t n)
{
	const char *u[] = { "B", "K", "M", "G", "T" };
	double d = (double)v;
	int i = 0;

	while (d >= 1024 && i < 4)
		d /= 1024, i++;
	snprintf(out, n, i ? "%.1f%s" : "%.0f%s", d, u[i]);
}

static void when(long long epoch, char *out, size_t n)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (epoch <= 0 || !localtime_r(&t, &tm)) {
		snprintf(out, n, "-");
		return;
	}
	log_fmt_tm(out, n, &tm, ' ');
}

/* ---- text from agents, made safe for a terminal ---- */

/* The length of the valid UTF-8 character at p (n bytes left) and its code
 * point; 0 when p does not start one. */
static size_t utf8_char(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t st = UTF8_ACCEPT, c;
	size_t len = p[0] < 0x80 ? 1 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4, i;

	if (len > n)
		return 0;
	for (i = 0; i < len; i++)
		if ((st = utf8_step(st, p[i])) == UTF8_REJECT)
			return 0;
	if (st != UTF8_ACCEPT)
		return 0;
	c = len == 1 ? p[0] : p[0] & (0x7f >> len);
	for (i = 1; i < len; i++)
		c = c << 6 | (p[i] & 0x3f);
	*cp = c;
	return len;
}

/* What a terminal or a text layout could act on: C0, DEL, C1, and the
 * marks that reorder text (U+200E/F, U+202A..E, U+2066..9). */
static int unsafe_char(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The visible form of an unsafe character or of a byte that is not UTF-8
 * (len 0), into out (at least 8 bytes). */
static void escape_char(uint32_t c, size_t len, unsigned flags, char *out)
{
	if (flags & CTL_TEXT_JSON)
		snprintf(out, 8, "\\u%04x", len ? (unsigned)c : 0xfffdu);
	else if (!len)
		snprintf(out, 8, "\\x%02x", (unsigned)c);
	else if (c == '\n' || c == '\t')
		snprintf(out, 8, "\\%c", c == '\n' ? 'n' : 't');
	else if (c < 0x80)
		snprintf(out, 8, "\\x%02x", (unsigned)c);
	else
		snprintf(out, 8, "\\u%04x", (unsigned)c);
}

size_t ctl_show_text(FILE *f, const char *s, size_t n, int width, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len, chars = 0;
	uint32_t c;
	char esc[8];

	while (i < n) {
		len = utf8_char(p + i, n - i, &c);
		if (!len)
			c = p[i];
		if (len && !unsafe_char(c)) {
			fwrite(p + i, 1, len, f);
		} else if (len && (flags & CTL_TEXT_LINES) && (c == '\n' || c == '\t')) {
			putc((int)c, f);
		} else {
			escape_char(c, len, flags, esc);
			fputs(esc, f);
			chars += strlen(esc) - 1;
		}
		chars++;
		i += len ? len : 1;
	}
	for (; width > 0 && chars < (size_t)width; chars++)
		putc(' ', f);
	return chars;
}

/* A NUL-terminated field, padded to width characters (0: not padded). */
static void safe_print(const char *s, int width)
{
	ctl_show_text(stdout, s, strlen(s), width, 0);
}

/* Text an agent sent as text (get_port's payload, obtain_user_usages'
 * resources): its lines as lines (each after indent), tabs as tabs, and
 * the rest through ctl_show_text, so that it cannot drive the terminal. */
static void print_text(const char *text, size_t n, const char *indent)
{
	const char *p = text, *end = text + n, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (indent)
			fputs(indent, stdout);
		ctl_show_text(stdout, p, (size_t)((nl ? nl : end) - p), 0, CTL_TEXT_LINES);
		putchar('\n');
		p = nl ? nl + 1 : end;
	}
}

/* A string token of j through print_text, whole (NULs included). */
static void show_text(const struct json *j, int t, const char *indent)
{
	struct buf b;

	buf_init(&b, 0);
	if (json_str(j, t, &b) == 0)
		print_text(b.p ? b.p : "", b.len, indent);
	buf_free(&b);
}

/* 1 if the string token is nestd's "response_COMMAND", not words. */
static int is_response_name(const struct json *j, int t)
{
	size_t n;
	const char *raw = json_raw(j, t, &n);

	return n >= 9 && !memcmp(raw, "response_", 9);
}

/* 1 if the string token holds a line break: shown as text, not a value. */
static int is_text(const struct json *j, int t)
{
	size_t n;
	const char *raw;

	if (json_type(j, t) != JSON_STRING)
		return 0;
	raw = json_raw(j, t, &n);
	return memmem(raw, n, "\\n", 2) != NULL;
}

void ctl_show_raw(const struct buf *body)
{
	/* Still JSON, the same JSON, but no raw DEL or C1 from an agent. */
	ctl_show_text(stdout, body->p, body->len, 0, CTL_TEXT_JSON | CTL_TEXT_LINES);
	if (!body->len || body->p[body->len - 1] != '\n')
		putchar('\n');
}

void ctl_show_error(const char *prefix, const char *body, size_t n)
{
	struct json j;
	char err[64];
	struct buf msg;
	int t;

	buf_init(&msg, 0);
	if (json_parse(&j, body, n, err, sizeof(err)) == 0) {
		/* the server's {"error":...}; an agent's payload.error; else the
		 * original client's text, which it put in message */
		t = json_get(&j, 0, "error");
		if (t < 0 || json_type(&j, t) != JSON_STRING) {
			int p = json_get(&j, 0, "payload");

			t = p >= 0 && json_type(&j, p) == JSON_OBJECT ? json_get(&j, p, "error") : -1;
		}
		if ((t < 0 || json_type(&j, t) != JSON_STRING) &&
		    !json_str_eq(&j, json_get(&j, 0, "status"), "command_response"))
			t = json_get(&j, 0, "message");
		if (t >= 0 && json_type(&j, t) == JSON_STRING)
			json_str(&j, t, &msg);
		json_free(&j);
	}
	fprintf(stderr, "nestd ctl: %s", prefix);
	if (msg.len)
		ctl_show_text(stderr, msg.p, msg.len, 0, 0);
	else
		fputs("(no reason given)", stderr);
	putc('\n', stderr);
	buf_free(&msg);
}

int ctl_show_clients(const struct json *j, int p, int as_json)
{
	int i, n, e;

	if (as_json)
		return 0;
	if (json_type(j, p) != JSON_ARRAY) {
		fprintf(stderr, "nestd ctl: unexpected answer from the server\n");
		return 1;
	}
	n = json_count(j, p);
	printf("%-20s %-10s %-20s %-24s %-19s %s\n", "NAME", "VERSION", "HOST", "ADDRESS",
	       "CONNECTED", "INFLIGHT");
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e)) {
		char name[80], ver[40], host[80], addr[80], since[40];

		str_of(j, json_get(j, e, "name"), name, sizeof(name));
		str_of(j, json_get(j, e, "version"), ver, sizeof(ver));
		str_of(j, json_get(j, e, "hostname"), host, sizeof(host));
		str_of(j, json_get(j, e, "address"), addr, sizeof(addr));
		when(int_of(j, json_get(j, e, "connected_since")), since, sizeof(since));
		safe_print(name, 20);
		putchar(' ');
		safe_print(ver, 10);
		putchar(' ');
		safe_print(host, 20);
		putchar(' ');
		safe_print(addr, 24);
		printf(" %-19s %lld\n", since, int_of(j, json_get(j, e, "inflight")));
	}
	if (n == 0)
		fprintf(stderr, "(no agents connected)\n");
	return 0;
}

/* A field as text, "-" when the reply does not have it (the original's
 * list has only pid and name: nothing is invented for the rest). */
static void str_or_dash(const struct json *j, int t, char *out, size_t cap)
{
	str_of(j, t, out, cap);
	if (t < 0 || !out[0])
		snprintf(out, cap, "-");
}

static void num_or_dash(const struct json *j, int t, char *out, size_t cap)
{
	if (t < 0 || json_type(j, t) == JSON_NULL)
		snprintf(out, cap, "-");
	else
		snprintf(out, cap, "%lld", int_of(j, t));
}

/* One row of obtain_all_process_info. */
static void ps_row(const struct json *j, int e)
{
	char user[64], state[24], rss[16], start[40], cmd[4096], name[256], pid[24], ppid[24];
	char cpu[16];
	double v = 0;
	int t, tc = json_get(j, e, "cmdline");

	str_or_dash(j, json_get(j, e, "user"), user, sizeof(user));
	str_or_dash(j, json_get(j, e, "state"), state, sizeof(state));
	str_of(j, tc, cmd, sizeof(cmd));
	str_of(j, json_get(j, e, "name"), name, sizeof(name));
	num_or_dash(j, json_get(j, e, "pid"), pid, sizeof(pid));
	num_or_dash(j, json_get(j, e, "ppid"), ppid, sizeof(ppid));
	if ((t = json_get(j, e, "rss")) >= 0 && json_type(j, t) != JSON_NULL)
		human_bytes(int_of(j, t), rss, sizeof(rss));
	else
		snprintf(rss, sizeof(rss), "-");
	when(int_of(j, json_get(j, e, "started")), start, sizeof(start));
	if ((t = json_get(j, e, "cpu_usage")) >= 0 && json_num(j, t, &v) == 0)
		snprintf(cpu, sizeof(cpu), "%.1f", v);
	else
		snprintf(cpu, sizeof(cpu), "-");
	printf("%7s %7s ", pid, ppid);
	safe_print(user, 12);
	putchar(' ');
	safe_print(state, 12);
	printf(" %8s %6s %-19s ", rss, cpu, start);
	if (cmd[0]) {
		safe_print(cmd, 0);
	} else if (tc >= 0) {     /* a command line, empty: a kernel thread */
		putchar('[');
		safe_print(name, 0);
		putchar(']');
	} else {
		safe_print(name, 0);
	}
	putchar('\n');
}

int ctl_show_ps(const struct json *j, int p, int as_json)
{
	int i, n, e;

	if (as_json)
		return 0;
	n = json_count(j, p);
	printf("%7s %7s %-12s %-12s %8s %6s %-19s %s\n", "PID", "PPID", "USER", "STATE",
	       "RSS", "CPU%", "STARTED", "COMMAND");
	/* json_next walks the array in one pass (json_elem would rescan). */
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e))
		ps_row(j, e);
	return 0;
}

/* Prints an object's members as "key: value" lines, nested objects
 * flattened with dots. */
static void print_kv(const struct json *j, int obj, const char *prefix)
{
	int i, n = json_count(j, obj), k = obj + 1;

	for (i = 0; i < n; i++) {
		char key[128], full[256], val[4096];
		int v = k + 1;

		str_of(j, k, key, sizeof(key));
		snprintf(full, sizeof(full), "%s%s", prefix, key);
		if (json_type(j, v) == JSON_OBJECT) {
			char pre[260];

			snprintf(pre, sizeof(pre), "%s.", full);
			print_kv(j, v, pre);
		} else if (is_text(j, v)) {
			safe_print(full, 0);
			putchar('\n');
			show_text(j, v, "  ");
		} else {
			str_of(j, v, val, sizeof(val));
			safe_print(full, 22);
			putchar(' ');
			safe_print(val, 0);
			putchar('\n');
		}
		k = json_next(j, v);
	}
}

int ctl_show_kv(const struct json *j, int p, int as_json)
{
	char v[4096];
	int m;

	if (as_json)
		return 0;
	if (p < 0) {
		/* no payload: the original's success replies say it in message */
		m = json_get(j, 0, "message");
		if (m >= 0 && json_type(j, m) == JSON_STRING && !is_response_name(j, m))
			show_text(j, m, NULL);
		return 0;
	}
	if (json_type(j, p) == JSON_OBJECT) {
		print_kv(j, p, "");
		return 0;
	}
	if (json_type(j, p) == JSON_STRING) {
		show_text(j, p, NULL);
		return 0;
	}
	str_of(j, p, v, sizeof(v));
	safe_print(v, 0);
	putchar('\n');
	return 0;
}

int ctl_show_services(const struct json *j, int p, int as_json)
{
	int i, n, e;

	if (as_json)
		return 0;
	n = json_count(j, p);
	printf("%-40s %-10s %-10s %-10s %s\n", "UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION");
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e)) {
		char name[300], load[32], act[32], sub[32], desc[512];

		if (json_type(j, e) == JSON_STRING) {   /* the reference's bare names */
			str_of(j, e, name, sizeof(name));
			safe_print(name, 0);
			putchar('\n');
			continue;
		}
		str_of(j, json_get(j, e, "name"), name, sizeof(name));
		str_of(j, json_get(j, e, "load_state"), load, sizeof(load));
		str_of(j, json_get(j, e, "active_state"), act, sizeof(act));
		str_of(j, json_get(j, e, "sub_state"), sub, sizeof(sub));
		str_of(j, json_get(j, e, "description"), desc, sizeof(desc));
		safe_print(name, 40);
		putchar(' ');
		safe_print(load, 10);
		putchar(' ');
		safe_print(act, 10);
		putchar(' ');
		safe_print(sub, 10);
		putchar(' ');
		safe_print(desc, 0);
		putchar('\n');
	}
	return 0;
}

/* Writes the string payload.key to f as it was, NULs and all. */
static void pass_through(const struct json *j, int p, const char *key, FILE *f)
{
	struct buf out;
	int t = json_get(j, p, key);

	buf_init(&out, 0);
	if (t >= 0 && json_str(j, t, &out) == 0) {
		fwrite(out.p ? out.p : "", 1, out.len, f);
		fflush(f);
	}
	buf_free(&out);
}

int ctl_show_exec(const struct json *j, int p, int as_json)
{
	long long code = 1;
	int t, b = 0;

	if (!as_json) {
		pass_through(j, p, "stdout", stdout);
		pass_through(j, p, "stderr", stderr);
	}
	t = json_get(j, p, "timed_out");
	if (t >= 0 && json_bool(j, t, &b) == 0 && b) {
		fprintf(stderr, "nestd ctl: the command timed out and was killed\n");
		code = 124;
	} else if ((t = json_get(j, p, "exit_code")) < 0 || json_int(j, t, &code) < 0) {
		char sig[32];

		str_of(j, json_get(j, p, "signal"), sig, sizeof(sig));
		fputs("nestd ctl: the command was killed by ", stderr);
		ctl_show_text(stderr, sig, strlen(sig), 0, 0);
		putc('\n', stderr);
		code = 128 + 9;
	}
	t = json_get(j, p, "truncated");
	b = 0;
	if (t >= 0 && json_bool(j, t, &b) == 0 && b && !as_json)
		fprintf(stderr, "nestd ctl: output truncated (kept the head and the tail)\n");
	return (int)(code & 255);
}
