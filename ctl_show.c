/* ctl_show.c - nestd ctl's output (see ctl_show.h).  Field names are the
 * reply payloads of docs/PROTOCOL.md ("Commands"); a field an agent does
 * not send shows as "-", never as an error or an invented 0, so older and
 * other agents (the original client's {pid, name} list) still print. */
#include "ctl_show.h"

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

/* Strips control characters so a hostile process name cannot drive the
 * operator's terminal. */
static void safe_print(const char *s, int width)
{
	char tmp[4096];
	size_t i, n = strlen(s);

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	for (i = 0; i < n; i++)
		tmp[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	tmp[n] = '\0';
	if (width)
		printf("%-*s", width, tmp);
	else
		fputs(tmp, stdout);
}

/* The length of the valid UTF-8 character at s[0..n) that starts with a
 * byte of 0x80 or more, or 0 when it is none. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;

	return len && len <= n && utf8_valid(s, len) ? len : 0;
}

/* Text an agent sent as text (get_port's payload, obtain_user_usages'
 * resources): its lines as lines, tabs as tabs; every other control
 * character made visible so that it cannot drive the terminal: C0 and DEL
 * as \xHH, C1 (U+0080 to U+009F) as \u00HH, and a byte that is no UTF-8
 * (a raw 0x9b is CSI to some terminals) as \xHH. */
static void print_text(const char *text, size_t n, const char *indent)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i, k;
	int bol = 1;

	for (i = 0; i < n; i += k) {
		k = 1;
		if (bol && indent)
			fputs(indent, stdout);
		bol = s[i] == '\n';
		if (s[i] == '\n' || s[i] == '\t' || (s[i] >= 0x20 && s[i] < 0x7f)) {
			putchar(s[i]);
		} else if (s[i] < 0x80 || !(k = utf8_char(s + i, n - i))) {
			printf("\\x%02x", s[i]);
			k = 1;
		} else if (k == 2 && s[i] == 0xc2 && s[i + 1] <= 0x9f) {
			printf("\\u%04x", s[i + 1]);
		} else {
			fwrite(s + i, 1, k, stdout);
		}
	}
	if (n && s[n - 1] != '\n')
		putchar('\n');
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
	fwrite(body->p, 1, body->len, stdout);
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
	fprintf(stderr, "nestd ctl: %s%s\n", prefix, msg.len ? msg.p : "(no reason given)");
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
		printf(" %-24s %-19s %lld\n", addr, since, int_of(j, json_get(j, e, "inflight")));
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
	printf("%-12s %8s %6s %-19s ", state, rss, cpu, start);
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
			printf("%-22s ", full);
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
		printf(" %-10s %-10s %-10s ", load, act, sub);
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
		fprintf(stderr, "nestd ctl: the command was killed by %s\n", sig);
		code = 128 + 9;
	}
	t = json_get(j, p, "truncated");
	b = 0;
	if (t >= 0 && json_bool(j, t, &b) == 0 && b && !as_json)
		fprintf(stderr, "nestd ctl: output truncated (kept the head and the tail)\n");
	return (int)(code & 255);
}
