/* ctl_show.c - nestd ctl's output (see ctl_show.h).  Field names are the
 * reply payloads of docs/PROTOCOL.md ("Commands"); a field an agent does
 * not send shows as "-", never as an error or an invented 0, so older and
 * other agents (the original client's {pid, name} list) still print. */
#include "ctl_show.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ctl_table.h"
#include "ctl_text.h"
#include "fmt.h"
#include "log.h"
#include "out.h"
#include "sort.h"

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
			fmt_snprintf(out, cap, "%s", b.p ? b.p : "");
			buf_free(&b);
		}
		return;
	}
	if (json_type(j, t) == JSON_NULL) {
		fmt_snprintf(out, cap, "-");
		return;
	}
	raw = json_raw(j, t, &n);
	fmt_snprintf(out, cap, "%.*s", (int)n, raw);
}

static long long int_of(const struct json *j, int t)
{
	long long v = 0;
	double d;

	if (t >= 0 && json_int(j, t, &v) < 0 && json_num(j, t, &d) == 0)
		v = (long long)d;
	return v;
}

/* Where people's output goes: ctl_view.out (a test's memory), or
 * stdout. */
static struct out *out(void)
{
	return ctl_view.out ? ctl_view.out : &out_stdout;
}

/* A NUL-terminated field, padded to width characters (0: not padded). */
static void safe_print(const char *s, int width)
{
	ctl_text_put(out(), s, strlen(s), width, 0);
}

/* Text an agent sent as text (get_port's payload, obtain_user_usages'
 * resources): its lines as lines (each after indent), tabs as tabs, and
 * the rest through ctl_text_put, so that it cannot drive the terminal. */
static void print_text(const char *text, size_t n, const char *indent)
{
	const char *p = text, *end = text + n, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (indent)
			out_puts(out(), indent);
		ctl_text_put(out(), p, (size_t)((nl ? nl : end) - p), 0, CTL_TEXT_LINES);
		out_putc(out(), '\n');
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
	return mem_find(raw, n, "\\n", 2) != NULL;
}

void ctl_show_raw(const struct buf *body)
{
	/* Still JSON, the same JSON, but no raw DEL or C1 from an agent. */
	ctl_text_put(out(), body->p, body->len, 0, CTL_TEXT_JSON | CTL_TEXT_LINES);
	if (!body->len || body->p[body->len - 1] != '\n')
		out_putc(out(), '\n');
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
	out_printf(&out_stderr, "nestd ctl: %s", prefix);
	if (msg.len)
		ctl_text_put(&out_stderr, msg.p, msg.len, 0, 0);
	else
		out_puts(&out_stderr, "(no reason given)");
	out_putc(&out_stderr, '\n');
	buf_free(&msg);
}

/* 1 after saying so when the answer is no array. */
static int not_array(const struct json *j, int p)
{
	if (json_type(j, p) == JSON_ARRAY)
		return 0;
	out_printf(&out_stderr, "nestd ctl: unexpected answer from the server\n");
	return 1;
}

static double num_of(const struct json *j, int t, double dflt)
{
	double v;

	return t >= 0 && json_num(j, t, &v) == 0 ? v : dflt;
}

/* One agent's row: NAME STATE HOST VERSION SINCE [SERVER] ADDRESS; the
 * SERVER column in a fleet, where each agent names the server it is on. */
static void client_row(struct ctl_table *t, const struct json *j, int e, int fleet)
{
	char name[80], host[80], ver[40], addr[80], since[64], d[40], srv[80];
	int online = 1, u;
	double at;

	str_of(j, json_get(j, e, "name"), name, sizeof(name));
	str_of(j, json_get(j, e, "hostname"), host, sizeof(host));
	str_of(j, json_get(j, e, "version"), ver, sizeof(ver));
	str_of(j, json_get(j, e, "address"), addr, sizeof(addr));
	str_of(j, json_get(j, e, "server"), srv, sizeof(srv));
	if ((u = json_get(j, e, "online")) >= 0)
		json_bool(j, u, &online);
	at = num_of(j, json_get(j, e, online ? "connected_since" : "last_seen"), 0);
	ctl_fmt_duration(at > 0 ? (double)ctl_view.now - at : -1, d, sizeof(d));
	fmt_snprintf(since, sizeof(since), at > 0 ? (online ? "up %s" : "%s ago") : "-", d);
	ctl_table_addz(t, name);
	ctl_table_addz(t, online ? "online" : "offline");
	ctl_table_addz(t, host[0] ? host : "-");
	ctl_table_addz(t, ver[0] ? ver : "-");
	ctl_table_addz(t, since);
	if (fleet)
		ctl_table_addz(t, srv[0] ? srv : "-");
	ctl_table_addz(t, addr[0] && strcmp(addr, "-") ? addr : "-");
}

int ctl_show_clients(const struct json *j, int p, int as_json)
{
	static const char *const heads[] = { "NAME", "STATE", "HOST", "VERSION", "SINCE", "ADDRESS" };
	static const char *const fleet_heads[] = { "NAME", "STATE", "HOST", "VERSION", "SINCE",
						   "SERVER", "ADDRESS" };
	struct ctl_table t;
	int i, n, e, fleet = 0;

	if (as_json || not_array(j, p))
		return as_json ? 0 : 1;
	n = json_count(j, p);
	for (i = 0, e = p + 1; i < n && !fleet; i++, e = json_next(j, e))
		fleet = json_get(j, e, "server") >= 0;
	if (fleet)
		ctl_table_init(&t, 7, fleet_heads, "lllllll", 1);
	else
		ctl_table_init(&t, 6, heads, "llllll", 1);
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e))
		client_row(&t, j, e, fleet);
	if (n)
		ctl_table_print(&t);
	else
		out_printf(&out_stderr, "(no agents known: start one with nestd agent --server URL)\n");
	return 0;
}

/* The audit entries, oldest first: when, where, what, who, to whom. */
static void audit_row(struct ctl_table *t, const struct json *j, int e)
{
	char tm[40], srv[80], ev[40], op[80], ag[80], what[120], oc[40], detail[170];

	str_of(j, json_get(j, e, "time"), tm, sizeof(tm));
	str_of(j, json_get(j, e, "server"), srv, sizeof(srv));
	str_of(j, json_get(j, e, "event"), ev, sizeof(ev));
	str_of(j, json_get(j, e, "operator"), op, sizeof(op));
	str_of(j, json_get(j, e, "agent"), ag, sizeof(ag));
	str_of(j, json_get(j, e, "command"), what, sizeof(what));
	if (!what[0])
		str_of(j, json_get(j, e, "reason"), what, sizeof(what));
	str_of(j, json_get(j, e, "outcome"), oc, sizeof(oc));
	fmt_snprintf(detail, sizeof(detail), oc[0] ? "%s (%s)" : "%s", what, oc);
	ctl_table_addz(t, tm);
	ctl_table_addz(t, srv[0] ? srv : "-");
	ctl_table_addz(t, ev);
	ctl_table_addz(t, op[0] ? op : "-");
	ctl_table_addz(t, ag[0] ? ag : "-");
	ctl_table_addz(t, detail);
}

int ctl_show_audit(const struct json *j, int p, int as_json)
{
	static const char *const heads[] = { "TIME", "SERVER", "EVENT", "OPERATOR", "AGENT", "DETAIL" };
	struct ctl_table t;
	int i, n, e;

	if (as_json || not_array(j, p))
		return as_json ? 0 : 1;
	n = json_count(j, p);
	ctl_table_init(&t, 6, heads, "llllll", -1);
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e))
		audit_row(&t, j, e);
	if (n)
		ctl_table_print(&t);
	else
		out_printf(&out_stderr, "(no entries)\n");
	return 0;
}

/* A field as text, "-" when the reply does not have it (the original's
 * list has only pid and name: nothing is invented for the rest). */
static void str_or_dash(const struct json *j, int t, char *out, size_t cap)
{
	str_of(j, t, out, cap);
	if (t < 0 || !out[0])
		fmt_snprintf(out, cap, "-");
}

static void num_or_dash(const struct json *j, int t, char *out, size_t cap)
{
	if (t < 0 || json_type(j, t) == JSON_NULL)
		fmt_snprintf(out, cap, "-");
	else
		fmt_snprintf(out, cap, "%lld", int_of(j, t));
}

/* One row of obtain_all_process_info: PID PPID USER STATE CPU% RSS START
 * COMMAND, a field the reply lacks as "-". */
static void ps_row(struct ctl_table *t, const struct json *j, int e)
{
	char user[64], state[24], rss[24], start[24], cmd[4096], name[256], pid[24], ppid[24];
	char cpu[16], shown[4200];
	double v;
	int r, tc = json_get(j, e, "cmdline");

	str_or_dash(j, json_get(j, e, "user"), user, sizeof(user));
	str_or_dash(j, json_get(j, e, "state"), state, sizeof(state));
	str_of(j, tc, cmd, sizeof(cmd));
	str_of(j, json_get(j, e, "name"), name, sizeof(name));
	num_or_dash(j, json_get(j, e, "pid"), pid, sizeof(pid));
	num_or_dash(j, json_get(j, e, "ppid"), ppid, sizeof(ppid));
	if ((r = json_get(j, e, "rss")) >= 0 && json_type(j, r) != JSON_NULL)
		ctl_fmt_bytes(num_of(j, r, 0), rss, sizeof(rss));
	else
		fmt_snprintf(rss, sizeof(rss), "-");
	ctl_fmt_start(num_of(j, json_get(j, e, "started"), 0), start, sizeof(start));
	if ((v = num_of(j, json_get(j, e, "cpu_usage"), -1)) >= 0)
		fmt_snprintf(cpu, sizeof(cpu), "%.1f", v);
	else
		fmt_snprintf(cpu, sizeof(cpu), "-");
	/* a command line, empty: a kernel thread, shown [name] as ps does */
	fmt_snprintf(shown, sizeof(shown), cmd[0] ? "%s" : tc >= 0 ? "[%s]" : "%s", cmd[0] ? cmd : name);
	ctl_table_addz(t, pid);
	ctl_table_addz(t, ppid);
	ctl_table_addz(t, user);
	ctl_table_addz(t, state);
	ctl_table_addz(t, cpu);
	ctl_table_addz(t, rss);
	ctl_table_addz(t, start);
	ctl_table_addz(t, shown);
}

/* --sort: the reply's field it names, numeric or not, and whether it goes
 * busiest (largest) first by default. */
static const struct {
	const char *key, *field;
	int numeric, desc;
} sorts[] = {
	{ "pid", "pid", 1, 0 }, { "ppid", "ppid", 1, 0 }, { "cpu", "cpu_usage", 1, 1 },
	{ "rss", "rss", 1, 1 }, { "mem", "rss", 1, 1 }, { "start", "started", 1, 0 },
	{ "started", "started", 1, 0 }, { "user", "user", 0, 0 }, { "name", "name", 0, 0 },
	{ "state", "state", 0, 0 },
};

static const struct json *sort_j;
static int sort_i = 0, sort_dir = 1;

static int by_field(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y, r = 0;
	const char *f = sorts[sort_i].field;

	if (sorts[sort_i].numeric) {
		double u = num_of(sort_j, json_get(sort_j, a, f), -1e300);
		double v = num_of(sort_j, json_get(sort_j, b, f), -1e300);

		r = u < v ? -1 : u > v;
	} else {
		char s1[256], s2[256];

		str_of(sort_j, json_get(sort_j, a, f), s1, sizeof(s1));
		str_of(sort_j, json_get(sort_j, b, f), s2, sizeof(s2));
		r = strcmp(s1, s2);
	}
	if (!r) {       /* stable: ties by pid */
		double u = num_of(sort_j, json_get(sort_j, a, "pid"), 0);
		double v = num_of(sort_j, json_get(sort_j, b, "pid"), 0);

		return u < v ? -1 : u > v;
	}
	return r * sort_dir;
}

/* 0 with the sort chosen from ctl_view.sort; -1 when it names no column. */
int ctl_show_sort_key(const char *key)
{
	size_t i;
	int rev = key && key[0] == '-';

	sort_i = 0;
	sort_dir = 1;
	if (!key)
		return 0;
	for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		if (!strcmp(key + rev, sorts[i].key)) {
			sort_i = (int)i;
			sort_dir = (sorts[i].desc ? -1 : 1) * (rev ? -1 : 1);
			return 0;
		}
	return -1;
}

int ctl_show_ps(const struct json *j, int p, int as_json)
{
	static const char *const heads[] = { "PID", "PPID", "USER", "STATE", "CPU%", "RSS",
					     "START", "COMMAND" };
	struct ctl_table t;
	int i, n, e, k = 0, *rows;
	char user[64];

	if (as_json)
		return 0;
	if (json_type(j, p) != JSON_ARRAY || ctl_show_sort_key(ctl_view.sort) < 0)
		return 1;
	n = json_count(j, p);
	if (!(rows = malloc(sizeof(*rows) * (size_t)(n + 1))))
		return 1;
	/* json_next walks the array in one pass (json_elem would rescan). */
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e)) {
		str_of(j, json_get(j, e, "user"), user, sizeof(user));
		if (!ctl_view.user || !strcmp(user, ctl_view.user))
			rows[k++] = e;
	}
	sort_j = j;
	sort_items(rows, (size_t)k, sizeof(*rows), by_field);
	ctl_table_init(&t, 8, heads, "rrllrrll", 3);
	for (i = 0; i < k; i++)
		ps_row(&t, j, rows[i]);
	ctl_table_print(&t);
	free(rows);
	return 0;
}

/* A value as a person reads it, by its key (and its object's): bytes in
 * memory, swap and disk objects and rss/vms as "24 GiB", uptime as
 * "44 min", the epochs as a local time and its age, seconds as "0.12 s",
 * a list of numbers (load) as "1.36 1.97 1.43"; else as written. */
static void human_value(const struct json *j, int v, const char *parent, const char *key,
			char *out, size_t cap)
{
	static const char *const times[] = { "started", "connected_since", "first_seen", "last_seen",
					     "created", "expires", NULL };
	double d;
	int i, isnum = json_type(j, v) == JSON_NUMBER && json_num(j, v, &d) == 0;

	if (isnum && (!strcmp(parent, "memory") || !strcmp(parent, "swap") ||
		      !strcmp(parent, "disk") || !strcmp(key, "rss") || !strcmp(key, "vms"))) {
		ctl_fmt_bytes(d, out, cap);
		return;
	}
	if (isnum && !strcmp(key, "uptime")) {
		ctl_fmt_duration(d, out, cap);
		return;
	}
	for (i = 0; isnum && times[i]; i++)
		if (!strcmp(key, times[i])) {
			ctl_fmt_time(d, 1, out, cap);
			return;
		}
	if (isnum && (!strcmp(parent, "cpu_time") || !strcmp(parent, "times"))) {
		fmt_snprintf(out, cap, "%.2f s", d);
		return;
	}
	if (isnum && !strcmp(key, "cpu_usage")) {
		fmt_snprintf(out, cap, "%.1f %%", d);
		return;
	}
	if (json_type(j, v) == JSON_ARRAY) {
		int n = json_count(j, v), e = v + 1, w = 0;

		for (i = 0; i < n && json_type(j, e) == JSON_NUMBER; i++, e = json_next(j, e))
			;
		if (n && i == n) {
			for (i = 0, e = v + 1, out[0] = '\0'; i < n && (size_t)w < cap; i++, e = json_next(j, e))
				w += fmt_snprintf(out + w, cap - (size_t)w, "%s%.2f", i ? " " : "", num_of(j, e, 0));
			return;
		}
	}
	str_of(j, v, out, cap);
}

/* Prints an object's members as "key: value" lines, nested objects
 * flattened with dots; keys padded to the widest. */
static void print_kv(const struct json *j, int obj, const char *prefix, const char *parent)
{
	int i, n = json_count(j, obj), k = obj + 1;

	for (i = 0; i < n; i++) {
		char key[128], full[256], val[4096];
		int v = k + 1;

		str_of(j, k, key, sizeof(key));
		fmt_snprintf(full, sizeof(full), "%s%s", prefix, key);
		if (json_type(j, v) == JSON_OBJECT) {
			char pre[260];

			fmt_snprintf(pre, sizeof(pre), "%s.", full);
			print_kv(j, v, pre, key);
		} else if (is_text(j, v)) {
			safe_print(full, 0);
			out_putc(out(), '\n');
			show_text(j, v, "  ");
		} else {
			human_value(j, v, parent, key, val, sizeof(val));
			safe_print(full, 22);
			out_putc(out(), ' ');
			safe_print(val, 0);
			out_putc(out(), '\n');
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
		print_kv(j, p, "", "");
		return 0;
	}
	if (json_type(j, p) == JSON_STRING) {
		show_text(j, p, NULL);
		return 0;
	}
	str_of(j, p, v, sizeof(v));
	safe_print(v, 0);
	out_putc(out(), '\n');
	return 0;
}

int ctl_show_services(const struct json *j, int p, int as_json)
{
	static const char *const heads[] = { "UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION" };
	static const char *const keys[] = { "name", "load_state", "active_state", "sub_state",
					    "description" };
	struct ctl_table t;
	int i, n, e, c;

	if (as_json)
		return 0;
	if (json_type(j, p) != JSON_ARRAY)
		return 1;
	n = json_count(j, p);
	ctl_table_init(&t, 5, heads, "lllll", 2);
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e)) {
		char v[512];

		for (c = 0; c < 5; c++) {
			/* the original's bare names: the unit, and nothing known */
			if (json_type(j, e) == JSON_STRING)
				str_of(j, c ? -1 : e, v, sizeof(v));
			else
				str_of(j, json_get(j, e, keys[c]), v, sizeof(v));
			ctl_table_addz(&t, v[0] ? v : "-");
		}
	}
	ctl_table_print(&t);
	return 0;
}

/* The reply to an action, as a sentence: "sent SIGTERM to 15780",
 * "paused 15780", "started nginx.service"; the original's text replies
 * as they are. */
int ctl_show_action(const struct json *j, int p, int as_json)
{
	char sig[40], unit[300], act[40], pid[24];
	int m = json_get(j, 0, "message");

	if (as_json)
		return 0;
	if (p < 0 || json_type(j, p) != JSON_OBJECT)
		return ctl_show_kv(j, p, as_json);
	num_or_dash(j, json_get(j, p, "pid"), pid, sizeof(pid));
	str_of(j, json_get(j, p, "signal"), sig, sizeof(sig));
	str_of(j, json_get(j, p, "service_name"), unit, sizeof(unit));
	str_of(j, json_get(j, p, "action"), act, sizeof(act));
	if (json_str_eq(j, m, "response_kill_process"))
		out_printf(out(), "sent %s to %s\n", sig[0] ? sig : "the signal", pid);
	else if (json_str_eq(j, m, "response_pause_process"))
		out_printf(out(), "paused %s (SIGSTOP)\n", pid);
	else if (json_str_eq(j, m, "response_resume_process"))
		out_printf(out(), "resumed %s (SIGCONT)\n", pid);
	else if (unit[0] && act[0]) {
		out_printf(out(), "%s%s ", act, !strcmp(act, "stop") ? "ped" :
			   act[strlen(act) - 1] == 'e' ? "d" : "ed");
		safe_print(unit, 0);
		out_putc(out(), '\n');
	} else
		return ctl_show_kv(j, p, as_json);
	return 0;
}

/* Writes the string payload.key to f as it was, NULs and all. */
static void pass_through(const struct json *j, int p, const char *key, struct out *o)
{
	struct buf out;
	int t = json_get(j, p, key);

	buf_init(&out, 0);
	if (t >= 0 && json_str(j, t, &out) == 0) {
		out_write(o, out.p ? out.p : "", out.len);
		out_flush(o);
	}
	buf_free(&out);
}

int ctl_show_exec(const struct json *j, int p, int as_json)
{
	long long code = 1;
	int t, b = 0;

	if (!as_json) {
		pass_through(j, p, "stdout", &out_stdout);
		pass_through(j, p, "stderr", &out_stderr);
	}
	t = json_get(j, p, "timed_out");
	if (t >= 0 && json_bool(j, t, &b) == 0 && b) {
		out_printf(&out_stderr, "nestd ctl: the command timed out and was killed\n");
		code = 124;
	} else if ((t = json_get(j, p, "exit_code")) < 0 || json_int(j, t, &code) < 0) {
		char sig[32];

		str_of(j, json_get(j, p, "signal"), sig, sizeof(sig));
		out_puts(&out_stderr, "nestd ctl: the command was killed by ");
		ctl_text_put(&out_stderr, sig, strlen(sig), 0, 0);
		out_putc(&out_stderr, '\n');
		code = 128 + 9;
	}
	t = json_get(j, p, "truncated");
	b = 0;
	if (t >= 0 && json_bool(j, t, &b) == 0 && b && !as_json)
		out_printf(&out_stderr, "nestd ctl: output truncated (kept the head and the tail)\n");
	return (int)(code & 255);
}
