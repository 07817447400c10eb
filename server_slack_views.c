/* server_slack_views.c - the Slack face's views (see server_slack_views.h).
 * What each shows follows the original bot's views (docs/ORIGINAL.md,
 * "What each view reads"), with its bugs fixed: names are escaped, lists
 * are paged inside Block Kit's limits, values carry ids. */
#include "server_slack_views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fmt.h"
#include "log.h"
#include "num.h"
#include "server_slack_bk.h"

/* ---- reading replies ---- */


/* A number, or a decimal string (the original's du rows): 0, or -1. */
static int num(const struct json *j, int t, double *v)
{
	char s[32];
	const char *end;

	if (json_num(j, t, v) == 0)
		return 0;
	if (json_strcpy(j, t, s, sizeof(s)) < 0 || !s[0])
		return -1;
	*v = num_parse(s, &end);     /* not strtod: ~7 KB of musl in the static binary */
	return *end ? -1 : 0;
}

/* ---- formatting ---- */

const char *sv_unit_name(enum sv_unit u)
{
	return u == SV_GIB ? "GiB" : u == SV_BYTES ? "bytes" : "GB";
}

void sv_unit_bytes(struct buf *out, double bytes, enum sv_unit u)
{
	if (u == SV_BYTES)
		buf_printf(out, "%.0f bytes", bytes);
	else
		buf_printf(out, "%.3f %s", bytes / (u == SV_GIB ? 1073741824.0 : 1e9), sv_unit_name(u));
}

static void duration(struct buf *out, double s)
{
	long long x = (long long)s;

	if (x >= 86400)
		buf_printf(out, "%lld d %lld h", x / 86400, x % 86400 / 3600);
	else if (x >= 3600)
		buf_printf(out, "%lld h %lld min", x / 3600, x % 3600 / 60);
	else if (x >= 60)
		buf_printf(out, "%lld min", x / 60);
	else
		buf_printf(out, "%lld s", x);
}

static void when(struct buf *out, double epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	char s[32];

	num_utc((long long)t, &tm);
	log_fmt_tm(s, sizeof(s), &tm, ' ');
	buf_printf(out, "%.16s UTC (", s);
	duration(out, (double)time(NULL) - epoch);
	buf_puts(out, " ago)");
}

static const char *state_emoji(const char *s);

/* One "{K:path}" of a template: the value v as kind K (see fill); -1 when
 * it is absent, so that its segment is left out. */
static int field(struct buf *t, const struct sv_ctx *c, const struct json *j, int v, char k)
{
	double x;

	if (v < 0 || json_type(j, v) == JSON_NULL)
		return -1;
	if (k == 'e' || k == 'c' || k == 'C' || k == 's') {
		struct buf raw, cut;
		size_t n;
		const char *p = json_raw(j, v, &n);

		buf_init(&raw, 0);
		buf_init(&cut, 0);
		if (json_type(j, v) == JSON_STRING)
			json_str(j, v, &raw);
		else if (json_type(j, v) == JSON_NUMBER)
			buf_append(&raw, p, n);
		bk_cutcpy(&cut, raw.p ? raw.p : "", raw.len, k == 'C' ? 300 : raw.len);
		if (k == 's')
			buf_printf(t, "%s ", state_emoji(cut.p ? cut.p : ""));
		(k == 'c' || k == 'C' ? bk_code : bk_esc)(t, cut.p ? cut.p : "", cut.len);
		buf_free(&raw);
		buf_free(&cut);
		return 0;
	}
	if (num(j, v, &x) < 0 || (k == 'w' && x <= 0))
		return -1;
	if (k == 'b')
		sv_unit_bytes(t, x, c->unit);
	else if (k == 'd')
		duration(t, x);
	else if (k == 'w')
		when(t, x);
	else
		buf_printf(t, k == '1' ? "%.1f" : "%.2f", x);
	return 0;
}

/* Text from a template, members of value o filled in: "{K:path}" is the
 * member at path (json_path) as K: e text, c a code span, C one cut to
 * 300 bytes, s a state with its emoji, b bytes in the person's unit, d a
 * duration, w a time and how long ago, 1 or 2 a number with that many
 * decimals.  A segment (up to a '\n', kept, or a '\v', not) with a member
 * that is absent is left out whole: replies of either shape fill what
 * they have. */
static void fill(struct buf *t, const struct sv_ctx *c, const struct json *j, int o,
		 const char *tpl)
{
	while (*tpl) {
		size_t mark = t->len, seg = strcspn(tpl, "\n\v");
		const char *p = tpl, *end = tpl + seg;
		int ok = 1;

		while (p < end && ok) {
			const char *close = *p == '{' ? memchr(p, '}', (size_t)(end - p)) : NULL;
			char path[48];

			if (!close) {
				buf_putc(t, *p++);
				continue;
			}
			fmt_snprintf(path, sizeof(path), "%.*s", (int)(close - p - 3), p + 3);
			ok = field(t, c, j, json_path(j, o, path), p[1]) == 0;
			p = close + 1;
		}
		if (!ok) {
			t->len = mark;
			if (t->p)
				t->p[mark] = '\0';
		} else if (*end == '\n') {
			buf_putc(t, '\n');
		}
		tpl = *end ? end + 1 : end;
	}
}

int sv_split(const char *value, char *agent, size_t cap, const char **rest)
{
	const char *bar = strchr(value, '|');
	size_t n = bar ? (size_t)(bar - value) : 0;

	if (!bar || !n || n >= cap)
		return -1;
	memcpy(agent, value, n);
	agent[n] = '\0';
	*rest = bar + 1;
	return 0;
}

/* ---- shared pieces ---- */

static void note(struct bk *k, const char *text, int bad)
{
	struct buf t;

	if (!text || !*text)
		return;
	buf_init(&t, 0);
	buf_puts(&t, bad ? ":warning: " : ":white_check_mark: ");
	bk_esc(&t, text, strlen(text));
	bk_text(k, t.p);
	buf_free(&t);
}

static void vbutton(struct bk *k, const char *text, const char *action, const char *value,
		    const char *style, const char *confirm)
{
	struct bk_button b = { text, action, value, style, confirm };

	bk_button(k, &b);
}

/* "AGENT|N" */
static const char *ref(char *out, size_t n, const char *agent, long long x)
{
	fmt_snprintf(out, n, "%s|%lld", agent, x);
	return out;
}

/* Previous, Next, Reload and Home for a paged list: ids[0..2] are their
 * action ids ("ps.prev", "ps.next", "ps.again"). */
static void nav(struct bk *k, const struct sv_ctx *c, const char *const *ids, int page, int pages)
{
	char v[3][TOKEN_NAME_MAX + 24];

	bk_actions(k);
	if (page > 0)
		vbutton(k, "Previous", ids[0], ref(v[0], sizeof(v[0]), c->agent, page - 1), NULL, NULL);
	if (page + 1 < pages)
		vbutton(k, "Next", ids[1], ref(v[1], sizeof(v[1]), c->agent, page + 1), NULL, NULL);
	vbutton(k, "Reload", ids[2], ref(v[2], sizeof(v[2]), c->agent, page), NULL, NULL);
	vbutton(k, "Home", "home", NULL, NULL, NULL);
	bk_actions_end(k);
}

/* The page the context asks for, inside 0..pages-1. */
static int clamp_page(int page, int pages)
{
	return page < 0 ? 0 : page >= pages ? pages - 1 : page;
}

static int finish(struct bk *k)
{
	return bk_end(k);
}

/* A home-tab page: the view, its header "TITLE on AGENT (HOST)". */
static void page_begin(struct bk *k, struct buf *b, const struct sv_ctx *c, const char *title,
		       int page, int pages)
{
	struct buf h;

	buf_init(&h, 0);
	buf_printf(&h, "%s on %s", title, c->agent);
	if (c->host && *c->host)
		buf_printf(&h, " (%s)", c->host);
	if (pages > 1)
		buf_printf(&h, ", page %d/%d", page + 1, pages);
	if (c->message)
		bk_message(k, b, h.p);
	else
		bk_view(k, b, "home", NULL, NULL, NULL, NULL);
	bk_header(k, h.p);
	buf_free(&h);
	note(k, c->note, c->note_bad);
}

/* ---- processes ---- */

static int proc_shown(const struct json *j, int e, long long uid)
{
	long long u;

	if (json_type(j, e) != JSON_OBJECT)
		return 0;
	if (uid < 0 || json_int(j, json_get(j, e, "uid"), &u) < 0)
		return 1;      /* no uid in the reply (the original's shape): all */
	return u == uid;
}

/* A list's row: "`name` · PID n · state · rss", the command line below. */
static void proc_line(struct buf *t, const struct sv_ctx *c, const struct json *j, int e)
{
	fill(t, c, j, e, "{c:name}  \xc2\xb7  PID {e:pid}\v  \xc2\xb7  {e:state}\v  \xc2\xb7  {b:rss}\v"
	     "\n{C:cmdline}");
}

/* Walks the shown entries of list p, calling each for the page's. */
static int list_page(const struct sv_ctx *c, const struct json *j, int p, int *page, int *pages,
		     int (*shown)(const struct json *, int, long long))
{
	int i, e, n = 0, cnt = json_type(j, p) == JSON_ARRAY ? json_count(j, p) : 0;

	for (i = 0, e = p + 1; i < cnt; i++, e = json_next(j, e))
		n += shown(j, e, c->uid);
	*pages = n ? (n + SV_PAGE - 1) / SV_PAGE : 1;
	*page = clamp_page(c->page, *pages);
	return n;
}

int sv_processes(struct buf *b, const struct sv_ctx *c, const struct json *j, int p)
{
	struct bk k;
	int page, pages, i, e, seen = 0, cnt;
	int n = list_page(c, j, p, &page, &pages, proc_shown);

	page_begin(&k, b, c, "Processes", page, pages);
	if (!n)
		bk_text(&k, "No processes.");
	cnt = json_type(j, p) == JSON_ARRAY ? json_count(j, p) : 0;
	for (i = 0, e = p + 1; i < cnt && bk_room(&k, 2); i++, e = json_next(j, e)) {
		char v[TOKEN_NAME_MAX + 24];
		long long pid;
		struct buf t;
		struct bk_button btn = { "Manage", "proc", v, NULL, NULL };

		if (!proc_shown(j, e, c->uid) || seen++ < page * SV_PAGE)
			continue;
		if (seen > (page + 1) * SV_PAGE)
			break;
		if (json_int(j, json_get(j, e, "pid"), &pid) < 0)
			continue;
		buf_init(&t, 0);
		proc_line(&t, c, j, e);
		ref(v, sizeof(v), c->agent, pid);
		bk_text_button(&k, t.p, &btn);
		buf_free(&t);
	}
	if (c->uid >= 0)
		bk_context(&k, "Only your own processes.");
	{
		static const char *const ids[] = { "ps.prev", "ps.next", "ps.again" };

		nav(&k, c, ids, page, pages);
	}
	return finish(&k);
}

static const char *state_emoji(const char *s)
{
	static const char *const m[][2] = {
		{ "running", ":large_green_circle:" }, { "sleeping", ":zzz:" },
		{ "stopped", ":double_vertical_bar:" }, { "zombie", ":zombie:" },
		{ "disk-sleep", ":hourglass:" },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(s, m[i][0]) == 0)
			return m[i][1];
	return ":grey_question:";
}

/* The process modal's facts, the original's and ours. */
static const char proc_tpl[] =
	"*Name:* {c:name}\n*PID:* {e:pid}\n*User:* {e:user}\n*Status:* {s:status}\n"
	"*CPU:* {1:cpu_usage} %\n*CPU time:* {2:cpu_time.user} s user, {2:cpu_time.system} s system\n"
	"*Memory:* {b:memory.rss}\v, swap {b:memory.swap}\n*Started:* {w:started}\n"
	"*Command:* {c:cmdline}";

int sv_process(struct buf *b, const struct sv_ctx *c, const struct json *j, int p)
{
	struct bk k;
	struct buf t;
	char status[32] = "", v[TOKEN_NAME_MAX + 24], title[32];
	long long pid = 0;
	int safe = 1;

	json_int(j, json_get(j, p, "pid"), &pid);
	json_strcpy(j, json_get(j, p, "status"), status, sizeof(status));
	json_bool(j, json_get(j, p, "safe_kill"), &safe);
	fmt_snprintf(title, sizeof(title), "Process %lld", pid);
	ref(v, sizeof(v), c->agent, pid);
	bk_view(&k, b, "modal", title, NULL, "proc", v);
	note(&k, c->note, c->note_bad);
	buf_init(&t, 0);
	fill(&t, c, j, p, proc_tpl);
	bk_text(&k, t.p);
	buf_free(&t);
	if (!safe)
		bk_context(&k, ":warning: Not killable from here (safe_kill: false): the agent "
			   "itself, or one the system needs.");
	bk_actions(&k);
	if (safe) {
		vbutton(&k, "Kill (SIGTERM)", "kill.term", v, "danger", "Kill this process?");
		vbutton(&k, "Kill (SIGKILL)", "kill.kill", v, "danger", "Kill this process?");
	}
	if (strcmp(status, "stopped") == 0)
		vbutton(&k, "Resume", "resume", v, "primary", NULL);
	else
		vbutton(&k, "Pause", "pause", v, NULL, NULL);
	vbutton(&k, "Reload", "proc.again", v, NULL, NULL);
	bk_actions_end(&k);
	bk_context(&k, c->agent);
	return finish(&k);
}

/* ---- services ---- */

static int svc_shown(const struct json *j, int e, long long uid)
{
	return json_type(j, e) == JSON_STRING ||
	       json_type(j, json_get(j, e, "name")) == JSON_STRING;
}

/* The unit's name (a bare string in the original's shape) into out. */
static int svc_name(const struct json *j, int e, char *out, size_t cap)
{
	return json_strcpy(j, json_type(j, e) == JSON_STRING ? e : json_get(j, e, "name"), out, cap);
}

int sv_services(struct buf *b, const struct sv_ctx *c, const struct json *j, int p)
{
	struct bk k;
	int page, pages, i, e, seen = 0;
	int n = list_page(c, j, p, &page, &pages, svc_shown);
	int cnt = json_type(j, p) == JSON_ARRAY ? json_count(j, p) : 0;

	page_begin(&k, b, c, "Services", page, pages);
	if (!n)
		bk_text(&k, "No services there.");
	for (i = 0, e = p + 1; i < cnt && bk_room(&k, 2); i++, e = json_next(j, e)) {
		char name[CFG_SERVICE_NAME_MAX + 16], v[TOKEN_NAME_MAX + CFG_SERVICE_NAME_MAX + 20];
		struct bk_button btn = { "Manage", "svc", v, NULL, NULL };
		struct buf t;

		if (!svc_shown(j, e, -1) || seen++ < page * SV_PAGE)
			continue;
		if (seen > (page + 1) * SV_PAGE)
			break;
		if (svc_name(j, e, name, sizeof(name)) < 0)
			continue;
		buf_init(&t, 0);
		bk_code(&t, name, strlen(name));
		fill(&t, c, j, e, "  \xc2\xb7  {e:active_state}\v ({e:sub_state})\n{e:description}");
		fmt_snprintf(v, sizeof(v), "%s|%s", c->agent, name);
		bk_text_button(&k, t.p, &btn);
		buf_free(&t);
	}
	{
		static const char *const ids[] = { "svcs.prev", "svcs.next", "svcs.again" };

		nav(&k, c, ids, page, pages);
	}
	return finish(&k);
}

int sv_service(struct buf *b, const struct sv_ctx *c, const struct json *j, int p)
{
	struct bk k;
	struct buf t;
	char name[CFG_SERVICE_NAME_MAX + 16] = "", st[32] = "";
	char v[TOKEN_NAME_MAX + CFG_SERVICE_NAME_MAX + 20], pv[TOKEN_NAME_MAX + 24];
	long long pid = 0;

	json_strcpy(j, json_get(j, p, "name"), name, sizeof(name));
	json_strcpy(j, json_get(j, p, "active_state"), st, sizeof(st));
	json_int(j, json_get(j, p, "pid"), &pid);
	fmt_snprintf(v, sizeof(v), "%s|%s", c->agent, name);
	bk_view(&k, b, "modal", "Service", NULL, "svc", v);
	note(&k, c->note, c->note_bad);
	buf_init(&t, 0);
	fill(&t, c, j, p, "*Name:* {c:name}\n*Description:* {e:description}\n*State:* {e:active_state}"
	     "\v ({e:sub_state})\n*File:* {c:file_location}\n*Uptime:* {e:uptime}\n"
	     "*Main PID:* {e:pid}");
	bk_text(&k, t.p);
	buf_free(&t);
	bk_actions(&k);
	if (!strcmp(st, "inactive") || !strcmp(st, "failed")) {
		vbutton(&k, "Start", "svc_do.start", v, "primary", NULL);
	} else {
		vbutton(&k, "Stop", "svc_do.stop", v, "danger", "Stop this service?");
		vbutton(&k, "Restart", "svc_do.restart", v, NULL, NULL);
		vbutton(&k, "Reload", "svc_do.reload", v, NULL, NULL);
	}
	if (pid > 0)
		vbutton(&k, "Manage Process", "proc.push", ref(pv, sizeof(pv), c->agent, pid), NULL,
			NULL);
	vbutton(&k, "Refresh", "svc.again", v, NULL, NULL);
	bk_actions_end(&k);
	bk_context(&k, c->agent);
	return finish(&k);
}

/* ---- usage and port ---- */

/* Text inside ``` keeps its lines; ` cannot end the block. */
static void esc(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n' || ch == '\t')
			buf_putc(out, (char)ch);
		else if (ch == '`')
			buf_puts(out, "\xcb\x8b");
		else
			bk_esc(out, s + i, 1);
	}
}

/* A code block of agent text, cut to fit a section. */
static void code_block(struct bk *k, const char *s, size_t n)
{
	struct buf t, e;

	buf_init(&t, 0);
	buf_init(&e, 0);
	esc(&e, s, n);
	buf_puts(&t, "```");
	bk_cutcpy(&t, e.p ? e.p : "", e.len, BK_SECTION_TEXT - 8);
	buf_puts(&t, "```");
	bk_text(k, t.p);
	buf_free(&t);
	buf_free(&e);
}

static void text_member(struct bk *k, const struct json *j, int t)
{
	struct buf s;

	buf_init(&s, 0);
	if (json_str(j, t, &s) == 0 && s.len)
		code_block(k, s.p, s.len);
	else
		bk_text(k, "_(nothing)_");
	buf_free(&s);
}

int sv_usage(struct buf *b, const struct sv_ctx *c, const struct json *j, int p)
{
	struct bk k;
	struct buf t;
	int st = json_get(j, p, "storage"), i, e, cnt;
	char v[TOKEN_NAME_MAX + 4];

	page_begin(&k, b, c, "Usage", 0, 1);
	text_member(&k, j, json_get(j, p, "resources"));
	buf_init(&t, BK_SECTION_TEXT);
	buf_printf(&t, "*Storage* (in %s%s)\n", sv_unit_name(c->unit),
		   json_type(j, json_get(j, p, "storage_complete")) == JSON_FALSE ?
		   "; the count stopped early" : "");
	cnt = json_type(j, st) == JSON_ARRAY ? json_count(j, st) : 0;
	for (i = 0, e = st + 1; i < cnt; i++, e = json_next(j, e)) {
		size_t mark = t.len;

		fill(&t, c, j, e, "{c:1}: {b:0}\n");
		if (t.len + 40 >= BK_SECTION_TEXT) {
			t.len = mark;
			buf_printf(&t, "\n\xe2\x80\xa6 %d more", cnt - i);
			break;
		}
	}
	bk_text(&k, t.p ? t.p : "*Storage*");
	buf_free(&t);
	bk_actions(&k);
	fmt_copy(v, sizeof(v), c->agent);
	vbutton(&k, "Reload", "usage", v, NULL, NULL);
	vbutton(&k, "Home", "home", NULL, NULL, NULL);
	return finish(&k);
}

int sv_port(struct buf *b, const struct sv_ctx *c, const struct json *j, int p)
{
	struct bk k;

	page_begin(&k, b, c, "A free port", 0, 1);
	/* The original's shape is the text; nestd's {"port":N,"text":...}. */
	text_member(&k, j, json_type(j, p) == JSON_OBJECT ? json_get(j, p, "text") : p);
	bk_actions(&k);
	vbutton(&k, "Another", "port", c->agent, NULL, NULL);
	vbutton(&k, "Home", "home", NULL, NULL, NULL);
	return finish(&k);
}

/* ---- the home tab ---- */

static void home_header(struct bk *k, struct buf *b, const char *note_text)
{
	bk_view(k, b, "home", NULL, NULL, NULL, NULL);
	bk_header(k, "Nest Management Bot");
	note(k, note_text, 1);
}

int sv_home_welcome(struct buf *b, const char *note_text)
{
	struct bk k;

	home_header(&k, b, note_text);
	bk_text(&k, "Welcome! See and control your processes and services here: get a token "
		"and install the agent with it.");
	bk_actions(&k);
	vbutton(&k, "Get Token", "get_token", NULL, "primary", NULL);
	return finish(&k);
}

/* "• *name* on `host`, connected for 3 h" for each agent. */
static void agent_list(struct bk *k, const struct sv_agent *a, int n)
{
	struct buf t;
	int i;

	buf_init(&t, 0);
	buf_puts(&t, n > 1 ? "*Your machines*" : "*Your machine*");
	for (i = 0; i < n; i++) {
		size_t mark = t.len;

		buf_printf(&t, "\n\xe2\x80\xa2 *%s*", a[i].name);
		if (a[i].since) {
			buf_puts(&t, " on ");
			bk_code(&t, a[i].host, strlen(a[i].host));
			buf_puts(&t, ", connected for ");
			duration(&t, (double)(time(NULL) - a[i].since));
		} else {
			buf_puts(&t, ": not connected");
		}
		if (t.len + 40 >= BK_SECTION_TEXT) {
			t.len = mark;
			buf_printf(&t, "\n\xe2\x80\xa6 %d more", n - i);
			break;
		}
	}
	bk_text(k, t.p);
	buf_free(&t);
}

/* The lines that install an agent, its token in ~/nestd-agent.token. */
static void install(struct buf *t, const char *base_url)
{
	buf_puts(t, "curl -fsSL ");
	bk_esc(t, base_url, strlen(base_url));
	buf_puts(t, "/install.sh | sh -s -- --token-file ~/nestd-agent.token```");
}

int sv_home_waiting(struct buf *b, const struct sv_agent *a, int n, const char *base_url,
		    const char *note_text)
{
	struct bk k;
	struct buf t;

	home_header(&k, b, note_text);
	agent_list(&k, a, n);
	buf_init(&t, 0);
	buf_puts(&t, "None connected. The agent runs as the user unit `nestd-agent.service`:\n"
		 "```systemctl --user restart nestd-agent.service```\nNot installed? With the token "
		 "in a file:\n```");
	install(&t, base_url);
	bk_text(&k, t.p);
	buf_free(&t);
	bk_actions(&k);
	vbutton(&k, "Reload", "home", NULL, "primary", NULL);
	vbutton(&k, "Manage Token", "tokens", NULL, NULL, NULL);
	vbutton(&k, "Settings", "settings", NULL, NULL, NULL);
	return finish(&k);
}

/* The chosen machine's figures from obtain_system_info. */
static void sysinfo(struct bk *k, const struct sv_ctx *c, const struct json *j, int p)
{
	struct buf t;

	buf_init(&t, 0);
	buf_printf(&t, "*%s*", c->agent);
	fill(&t, c, j, p, " on {c:hostname}\n*Uptime:* {d:uptime}\n*Load:* {2:load.0} {2:load.1} "
	     "{2:load.2}\v ({e:cpu.cores} cores)\n*Memory:* {b:memory.used} of {b:memory.total}\n"
	     "*Disk* ({e:disk.path}): {b:disk.used} of {b:disk.total}");
	bk_text(k, t.p);
	buf_free(&t);
}

static void menu(struct bk *k, const struct sv_ctx *c)
{
	char v[2][TOKEN_NAME_MAX + 24];

	bk_actions(k);
	vbutton(k, "Usage", "usage", c->agent, NULL, NULL);
	vbutton(k, "Processes", "ps", ref(v[0], sizeof(v[0]), c->agent, 0), NULL, NULL);
	vbutton(k, "Services", "svcs", ref(v[1], sizeof(v[1]), c->agent, 0), NULL, NULL);
	vbutton(k, "Get a Port", "port", c->agent, NULL, NULL);
	bk_actions_end(k);
}

int sv_home(struct buf *b, const struct sv_agent *a, int n, int chosen, const struct sv_ctx *c,
	    const struct json *j, int p)
{
	struct bk k;
	const char *names[BK_OPTIONS_MAX];
	int i;

	home_header(&k, b, NULL);
	note(&k, c->note, c->note_bad);
	agent_list(&k, a, n);
	if (n > 1) {
		for (i = 0; i < n && i < BK_OPTIONS_MAX; i++)
			names[i] = a[i].name;
		bk_actions(&k);
		bk_select(&k, "choose", "Choose a machine", names, names, i, chosen);
		bk_actions_end(&k);
	}
	if (chosen >= 0 && a[chosen].since) {
		if (p >= 0)
			sysinfo(&k, c, j, p);
		else if (a[chosen].original)
			bk_text(&k, "An original client: no system figures.");
		else
			bk_text(&k, "No figures: see above.");
		menu(&k, c);
	} else if (chosen >= 0) {
		bk_text(&k, "This machine is not connected.");
	}
	bk_actions(&k);
	vbutton(&k, "Manage Token", "tokens", NULL, NULL, NULL);
	vbutton(&k, "Settings", "settings", NULL, NULL, NULL);
	vbutton(&k, "Reload", "home", NULL, NULL, NULL);
	bk_actions_end(&k);
	{
		char s[64];

		fmt_snprintf(s, sizeof(s), "Sizes in %s \xc2\xb7 nestd " NESTD_VERSION, sv_unit_name(c->unit));
		bk_context(&k, s);
	}
	return finish(&k);
}

/* ---- settings, tokens, modals ---- */

int sv_settings(struct buf *b, enum sv_unit u)
{
	static const char *const texts[] = { "GB (10^9 bytes)", "GiB (2^30 bytes)", "bytes" };
	static const char *const values[] = { "gb", "gib", "bytes" };
	struct bk k;

	bk_view(&k, b, "modal", "Settings", "Save", "settings", NULL);
	bk_radio(&k, "unit", "unit", "Show storage and memory in", texts, values, 3, (int)u);
	return finish(&k);
}

int sv_tokens(struct buf *b, const struct sv_agent *a, int n, const char *note_text)
{
	struct bk k;
	int i;

	bk_view(&k, b, "modal", "Your tokens", NULL, "tokens", NULL);
	note(&k, note_text, 1);
	if (!n)
		bk_text(&k, "You have no token yet.");
	for (i = 0; i < n && bk_room(&k, 3); i++) {
		struct buf t, c;
		struct bk_button btn = { "Reset", "reset_token", a[i].name, "danger", NULL };

		buf_init(&t, 0);
		buf_init(&c, 0);
		buf_printf(&t, "*%s*: %s", a[i].name, a[i].since ? "connected" : "not connected");
		buf_printf(&c, "Reset *%s*? Its old token stops working and its agent is dropped.",
			   a[i].name);
		btn.confirm = c.p;
		bk_text_button(&k, t.p, &btn);
		buf_free(&t);
		buf_free(&c);
	}
	if (i < n)
		bk_cut(&k, "\xe2\x80\xa6");
	bk_actions(&k);
	vbutton(&k, n ? "Get another token" : "Get Token", "get_token", NULL, "primary", NULL);
	return finish(&k);
}

int sv_token(struct buf *b, const char *agent, const char *token, const char *base_url,
	     const char *note_text)
{
	struct bk k;
	struct buf t;

	bk_view(&k, b, "modal", "Your token", NULL, "token", NULL);
	note(&k, note_text, 0);
	buf_init(&t, 0);
	buf_printf(&t, "Agent *%s*'s token, shown once:\n```%s```\nOn your machine:\n"
		   "```umask 077; printf '%%s\\n' '%s' > ~/nestd-agent.token\n",
		   agent, token, token);
	install(&t, base_url);
	bk_text(&k, t.p);
	buf_free(&t);
	return finish(&k);
}

int sv_modal(struct buf *b, const char *title, const char *text)
{
	struct bk k;
	struct buf t;

	buf_init(&t, 0);
	bk_esc(&t, text, strlen(text));
	bk_view(&k, b, "modal", title, NULL, "note", NULL);
	bk_text(&k, t.p);
	buf_free(&t);
	return finish(&k);
}

/* ---- /nest ---- */

int sv_msg_agents(struct buf *b, const struct sv_agent *a, int n)
{
	struct bk k;

	bk_message(&k, b, "Your machines");
	agent_list(&k, a, n);
	return finish(&k);
}

int sv_msg(struct buf *b, const char *text)
{
	struct bk k;

	bk_message(&k, b, text);
	bk_text(&k, text);
	return finish(&k);
}
