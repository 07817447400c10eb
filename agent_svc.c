/* agent_svc.c - service backends (see agent_svc.h).
 *
 * systemd: `systemctl [--user] --no-ask-password ACTION -- UNIT`,
 * `list-units --type=service --all --no-pager --plain -o json` and
 * `show -p ...` (key=value).  systemd 246 and later print the unit list as
 * JSON with -o json; older ones take -o for the journal's output mode,
 * ignore it here and print the table, which is parsed by its header's
 * columns: the table has a JOB column while any job is pending (seen on
 * systemd 252: "nt-after.service loaded inactive dead start start Waits"),
 * so splitting words would put the job into the description.
 * `show` answers even for units that do not exist (LoadState=not-found),
 * so that case is turned into an error here.  The start time comes from
 * ActiveEnterTimestampMonotonic, which needs no time zone parsing; the
 * human form is systemd's own "TIMESTAMP; 2h ago", as `systemctl status`
 * prints it and the reference bot displayed it.
 *
 * OpenRC: `rc-service NAME ACTION|status`, `rc-status --servicelist`
 * (" name   [  started  ]" lines).  What those leave out is where OpenRC
 * keeps it: the description in the script's description= line (what
 * `rc-service NAME describe` prints), the pid in RC_SVCDIR/options/NAME
 * (supervise-daemon's child_pid, or the pidfile the script named), the
 * start time in supervise-daemon's start_time. */
#include "agent_svc.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "env.h"
#include "fmt.h"
#include "tz.h"
#include "num.h"

#define USEC_PER_SEC    1000000LL
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR   (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY    (24 * USEC_PER_HOUR)
#define USEC_PER_WEEK   (7 * USEC_PER_DAY)
#define USEC_PER_MONTH  (2629800 * USEC_PER_SEC)
#define USEC_PER_YEAR   (31557600 * USEC_PER_SEC)

static const char *const op_names[] = {
	"start", "stop", "restart", "reload", "list", "show"
};

const char *svc_op_name(enum svc_op op)
{
	return op_names[op];
}

const char *svc_backend_name(enum svc_backend b)
{
	switch (b) {
	case SVC_SYSTEMD: return "systemd";
	case SVC_SYSTEMD_USER: return "systemd-user";
	case SVC_OPENRC: return "openrc";
	case SVC_NONE: return "none";
	default: return "auto";
	}
}

/* Is prog runnable: a path as given, or a name found in PATH. */
static int prog_exists(const char *prog)
{
	const char *path, *p, *e;
	char full[4096];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	for (p = path; ; p = e + 1) {
		e = strchr(p, ':');
		if (!e)
			e = p + strlen(p);
		fmt_snprintf(full, sizeof(full), "%.*s/%s", (int)(e - p), e == p ? "." : p, prog);
		if (e == p)
			fmt_snprintf(full, sizeof(full), "./%s", prog);
		if (access(full, X_OK) == 0)
			return 1;
		if (!*e)
			return 0;
	}
}

/* `systemctl --user` finds the user's manager through XDG_RUNTIME_DIR;
 * without it (an agent started from cron, su or a plain ssh command)
 * systemd 252 says only "Failed to connect to bus: No medium found".
 * logind makes it /run/user/UID, so that is used when it is there and
 * ours; the children the agent starts inherit it. */
static void user_runtime_dir(void)
{
	static char kv[64];   /* in the environment from then on */
	const char *dir = kv + sizeof("XDG_RUNTIME_DIR=") - 1;
	struct stat st;

	if (getenv("XDG_RUNTIME_DIR") || getenv("DBUS_SESSION_BUS_ADDRESS"))
		return;
	fmt_snprintf(kv, sizeof(kv), "XDG_RUNTIME_DIR=/run/user/%u", (unsigned)geteuid());
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
		env_add(kv);
}

/* auto: systemd only where it actually runs (the tool alone is installed
 * in many containers); the user's instance when not root, as the
 * reference did; then OpenRC; else none. */
void svc_init(struct svc *s, const struct agent_cfg *cfg)
{
	struct stat st;

	s->systemctl = cfg->systemctl ? cfg->systemctl : "systemctl";
	s->rc_service = cfg->rc_service ? cfg->rc_service : "rc-service";
	s->rc_status = cfg->rc_status ? cfg->rc_status : "rc-status";
	s->rc_initd = "/etc/init.d";
	s->rc_svcdir = "/run/openrc";
	s->backend = cfg->services;
	if (s->backend == SVC_AUTO) {
		if (stat("/run/systemd/system", &st) == 0 && prog_exists(s->systemctl))
			s->backend = geteuid() == 0 ? SVC_SYSTEMD : SVC_SYSTEMD_USER;
		else if (access("/sbin/openrc-run", X_OK) == 0 || prog_exists(s->rc_service))
			s->backend = SVC_OPENRC;
		else
			s->backend = SVC_NONE;
	}
	if (s->backend == SVC_SYSTEMD_USER)
		user_runtime_dir();
}

int svc_name_check(const char *name, size_t len, char *err, size_t errlen)
{
	size_t i;
	char c;

	if (len == 0 || len > CFG_SERVICE_NAME_MAX || memchr(name, 0, len)) {
		fmt_snprintf(err, errlen, "invalid service name: must be 1 to %d bytes",
			 CFG_SERVICE_NAME_MAX);
		return -1;
	}
	if (name[0] == '-') {
		fmt_snprintf(err, errlen, "invalid service name: must not start with '-'");
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(":_.@-\\", c))
			continue;
		fmt_snprintf(err, errlen, "invalid service name: only letters, digits and "
			 ":_.@-\\ are allowed");
		return -1;
	}
	return 0;
}

void svc_unit(const struct svc *s, const char *name, char *out, size_t cap)
{
	static const char *const suffixes[] = {
		".service", ".socket", ".target", ".timer", ".path", ".mount",
		".automount", ".swap", ".slice", ".scope", ".device", NULL
	};
	size_t n = strlen(name), k, i;

	if (s->backend == SVC_SYSTEMD || s->backend == SVC_SYSTEMD_USER) {
		for (i = 0; suffixes[i]; i++) {
			k = strlen(suffixes[i]);
			if (n > k && !strcmp(name + n - k, suffixes[i]))
				break;
		}
		if (!suffixes[i]) {
			fmt_snprintf(out, cap, "%s.service", name);
			return;
		}
	}
	fmt_snprintf(out, cap, "%s", name);
}

int svc_argv(const struct svc *s, enum svc_op op, const char *unit, unsigned flags,
	     const char **argv, char *err, size_t errlen)
{
	int n = 0;

	switch (s->backend) {
	case SVC_SYSTEMD:
	case SVC_SYSTEMD_USER:
		argv[n++] = s->systemctl;
		if (s->backend == SVC_SYSTEMD_USER)
			argv[n++] = "--user";
		if (op == SVC_OP_LIST) {
			argv[n++] = "list-units";
			argv[n++] = "--type=service";
			argv[n++] = "--all";
			argv[n++] = "--no-pager";
			argv[n++] = "--plain";
			argv[n++] = "-o";
			argv[n++] = "json";
		} else if (op == SVC_OP_INFO) {
			argv[n++] = "show";
			argv[n++] = "--no-pager";
			argv[n++] = "-p";
			argv[n++] = "Id,Description,LoadState,ActiveState,SubState,FragmentPath,"
				    "MainPID,ActiveEnterTimestamp,ActiveEnterTimestampMonotonic";
			argv[n++] = "--";
			argv[n++] = unit;
		} else {
			argv[n++] = "--no-ask-password";
			/* The original's D-Bus StartUnit(..., "replace") returned
			 * once the job was queued; so does --no-block. */
			if (flags & SVC_NO_BLOCK)
				argv[n++] = "--no-block";
			argv[n++] = op_names[op];
			argv[n++] = "--";
			argv[n++] = unit;
		}
		break;
	case SVC_OPENRC:
		if (op == SVC_OP_LIST) {
			argv[n++] = s->rc_status;
			argv[n++] = "--servicelist";
		} else {
			argv[n++] = s->rc_service;
			argv[n++] = unit;
			argv[n++] = op == SVC_OP_INFO ? "status" : op_names[op];
		}
		break;
	default:
		fmt_snprintf(err, errlen, "no service manager on this machine (--services none)");
		return -1;
	}
	argv[n] = NULL;
	return 0;
}

/* Copies s[0..n) without surrounding white space into out. */
static void trim_copy(const char *s, size_t n, char *out, size_t cap)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		     s[n - 1] == '\r'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Why a tool failed: its own words (stderr, else stdout), else its fate. */
void svc_tool_error(const char *tool, const struct exec_result *r, char *err, size_t errlen)
{
	trim_copy(r->err.p ? r->err.p : "", r->err.len, err, errlen);
	if (!*err)
		trim_copy(r->out.p ? r->out.p : "", r->out.len, err, errlen);
	if (*err)
		return;
	if (r->timed_out)
		fmt_snprintf(err, errlen, "%s timed out", tool);
	else if (r->signal)
		fmt_snprintf(err, errlen, "%s was killed by signal %d", tool, r->signal);
	else
		fmt_snprintf(err, errlen, "%s failed with exit status %d", tool, r->exit_code);
}

void svc_format_ago(char *out, size_t n, long long d)
{
	long long a, b;

	if (d >= USEC_PER_YEAR) {
		a = d / USEC_PER_YEAR;
		b = d % USEC_PER_YEAR / USEC_PER_MONTH;
		fmt_snprintf(out, n, "%lld %s %lld %s ago", a, a == 1 ? "year" : "years",
			 b, b == 1 ? "month" : "months");
	} else if (d >= USEC_PER_MONTH) {
		a = d / USEC_PER_MONTH;
		b = d % USEC_PER_MONTH / USEC_PER_DAY;
		fmt_snprintf(out, n, "%lld %s %lld %s ago", a, a == 1 ? "month" : "months",
			 b, b == 1 ? "day" : "days");
	} else if (d >= USEC_PER_WEEK) {
		a = d / USEC_PER_WEEK;
		b = d % USEC_PER_WEEK / USEC_PER_DAY;
		fmt_snprintf(out, n, "%lld %s %lld %s ago", a, a == 1 ? "week" : "weeks",
			 b, b == 1 ? "day" : "days");
	} else if (d >= 2 * USEC_PER_DAY) {
		fmt_snprintf(out, n, "%lld days ago", d / USEC_PER_DAY);
	} else if (d >= 25 * USEC_PER_HOUR) {
		fmt_snprintf(out, n, "1 day %lldh ago", (d - USEC_PER_DAY) / USEC_PER_HOUR);
	} else if (d >= 6 * USEC_PER_HOUR) {
		fmt_snprintf(out, n, "%lldh ago", d / USEC_PER_HOUR);
	} else if (d >= USEC_PER_HOUR) {
		fmt_snprintf(out, n, "%lldh %lldmin ago", d / USEC_PER_HOUR,
			 d % USEC_PER_HOUR / USEC_PER_MINUTE);
	} else if (d >= 5 * USEC_PER_MINUTE) {
		fmt_snprintf(out, n, "%lldmin ago", d / USEC_PER_MINUTE);
	} else if (d >= USEC_PER_MINUTE) {
		fmt_snprintf(out, n, "%lldmin %llds ago", d / USEC_PER_MINUTE,
			 d % USEC_PER_MINUTE / USEC_PER_SEC);
	} else if (d >= USEC_PER_SEC) {
		fmt_snprintf(out, n, "%llds ago", d / USEC_PER_SEC);
	} else if (d >= 1000) {
		fmt_snprintf(out, n, "%lldms ago", d / 1000);
	} else if (d > 0) {
		fmt_snprintf(out, n, "%lldus ago", d);
	} else {
		fmt_snprintf(out, n, "now");
	}
}

/* Splits off the next white-space separated word of [*p, end). */
static int next_word(const char **p, const char *end, const char **w, size_t *wn)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*w = s;
	while (s < end && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
		s++;
	*wn = (size_t)(s - *w);
	*p = s;
	return *wn > 0;
}

/* list_services' keys, and the names systemd's JSON gives them. */
static const char *const unit_keys[5] = {
	"name", "load_state", "active_state", "sub_state", "description"
};
static const char *const unit_json_keys[5] = { "unit", "load", "active", "sub", "description" };

/* One unit: an object, or (brief: the original's shape) its bare name. */
static void unit_obj(struct jw *w, int brief, const char *const f[5], const size_t fn[5])
{
	int i;

	if (brief) {
		jw_strn(w, f[0], fn[0]);
		return;
	}
	jw_obj(w);
	for (i = 0; i < 5; i++) {
		jw_key(w, unit_keys[i]);
		jw_strn(w, f[i], fn[i]);
	}
	jw_obj_end(w);
}

/* -o json: [{"unit":..,"load":..,"active":..,"sub":..,"job":..,
 * "description":..}]; "job" only while some job is pending. */
static int units_json(const char *text, size_t n, int brief, struct jw *w)
{
	struct json j;
	const char *raw;
	size_t rn;
	int i, k, e, v, cnt;

	if (json_parse(&j, text, n, NULL, 0) < 0 || json_type(&j, 0) != JSON_ARRAY) {
		json_free(&j);
		return -1;
	}
	jw_arr(w);
	cnt = json_count(&j, 0);
	for (i = 0, e = 1; i < cnt; i++, e = json_next(&j, e)) {
		v = json_get(&j, e, "unit");
		if (json_type(&j, e) != JSON_OBJECT || json_type(&j, v) != JSON_STRING)
			continue;
		if (brief) {
			raw = json_raw(&j, v, &rn);
			jw_strraw(w, raw, rn);
			continue;
		}
		jw_obj(w);
		for (k = 0; k < 5; k++) {
			v = json_get(&j, e, unit_json_keys[k]);
			raw = "";
			rn = 0;
			if (json_type(&j, v) == JSON_STRING)
				raw = json_raw(&j, v, &rn);
			jw_key(w, unit_keys[k]);
			jw_strraw(w, raw, rn);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
	json_free(&j);
	return jw_error(w) ? -1 : 0;
}

/* The start of a table row's unit name: past the indent and the bullet
 * ("●", or "*" from older versions) that marks failed units without
 * --plain.  Display columns and bytes agree from there on: unit names and
 * states are ASCII, the description (UTF-8) comes last. */
static const char *row_start(const char *p, const char *nl)
{
	while (p < nl && (*p == ' ' || *p == '*'))
		p++;
	if (nl - p >= 3 && !memcmp(p, "\xe2\x97\x8f", 3))
		p += 3;
	while (p < nl && *p == ' ')
		p++;
	return p;
}

/* The header's columns, as offsets from UNIT; 0 if the line is not one.
 * col: LOAD ACTIVE SUB JOB DESCRIPTION (JOB: 0 when the table has none). */
static int units_header(const char *p, const char *nl, size_t col[5])
{
	static const char *const names[5] = { "LOAD", "ACTIVE", "SUB", "JOB", "DESCRIPTION" };
	const char *u = row_start(p, nl), *s = u, *wd;
	size_t wn;
	int i;

	if (nl - u < 5 || memcmp(u, "UNIT ", 5))
		return 0;
	memset(col, 0, 5 * sizeof(col[0]));
	s += 4;
	while (next_word(&s, nl, &wd, &wn))
		for (i = 0; i < 5; i++)
			if (strlen(names[i]) == wn && !memcmp(names[i], wd, wn))
				col[i] = (size_t)(wd - u);
	/* Columns out of order (a name twice, a table that is not
	 * systemctl's) would cut cells backwards: not a header then. */
	return col[0] && col[1] > col[0] && col[2] > col[1] &&
	       (!col[3] || (col[3] > col[2] && col[4] > col[3])) && col[4] > col[2];
}

/* [a, b) of a row clipped to the line and trimmed into f/fn. */
static void cell(const char *u, const char *nl, size_t a, size_t b, const char **f, size_t *fn)
{
	const char *s = u + a, *e = u + b;

	if (s > nl)
		s = nl;
	if (e > nl)
		e = nl;
	if (e < s)
		e = s;
	while (s < e && *s == ' ')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t'))
		e--;
	*f = s;
	*fn = (size_t)(e - s);
}

/* A table row cut at the header's columns; 0 if it is not a unit's row
 * (a unit's name has no blank and always a '.': "0 loaded units listed."
 * is not one). */
static int units_row(const char *p, const char *nl, const size_t col[5],
		     const char *f[5], size_t fn[5])
{
	const char *u = row_start(p, nl);
	size_t sub_end = col[3] ? col[3] : col[4];

	cell(u, nl, 0, col[0], &f[0], &fn[0]);
	cell(u, nl, col[0], col[1], &f[1], &fn[1]);
	cell(u, nl, col[1], col[2], &f[2], &fn[2]);
	cell(u, nl, col[2], sub_end, &f[3], &fn[3]);
	cell(u, nl, col[4], (size_t)(nl - u), &f[4], &fn[4]);
	return fn[0] && memchr(f[0], '.', fn[0]) && !memchr(f[0], ' ', fn[0]) && fn[1];
}

/* No header (--no-legend): UNIT LOAD ACTIVE SUB DESCRIPTION split on
 * blanks, right unless a job is pending. */
static int units_words(const char *p, const char *nl, const char *f[5], size_t fn[5])
{
	int i;

	p = row_start(p, nl);
	for (i = 0; i < 4; i++)
		if (!next_word(&p, nl, &f[i], &fn[i]))
			return 0;
	cell(p, nl, 0, (size_t)(nl - p), &f[4], &fn[4]);
	return memchr(f[0], '.', fn[0]) != NULL;
}

static int parse_units(const char *text, size_t n, int brief, struct jw *w)
{
	const char *p = text, *end = text + n, *nl, *f[5];
	size_t fn[5], col[5];
	int hdr = -1;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p < end && *p == '[')
		return units_json(p, (size_t)(end - p), brief, w);
	jw_arr(w);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (hdr < 0 && (hdr = units_header(p, nl, col)) == 1)
			continue;
		if (hdr == 1 && row_start(p, nl) == nl)
			break;	/* the legend follows the first blank line */
		if (hdr == 1 ? units_row(p, nl, col, f, fn) : units_words(p, nl, f, fn))
			unit_obj(w, brief, f, fn);
		if (nl == end)
			break;
	}
	jw_arr_end(w);
	return jw_error(w) ? -1 : 0;
}

int svc_parse_units(const char *text, size_t n, struct jw *w)
{
	return parse_units(text, n, 0, w);
}

int svc_parse_unit_names(const char *text, size_t n, struct jw *w)
{
	return parse_units(text, n, 1, w);
}

/* Value of key in show's key=value lines, or NULL. */
static const char *show_get(const char *text, size_t n, const char *key, size_t *vn)
{
	const char *p = text, *end = text + n, *nl;
	size_t kl = strlen(key);

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if ((size_t)(nl - p) > kl && !memcmp(p, key, kl) && p[kl] == '=') {
			*vn = (size_t)(nl - p - (long)kl - 1);
			return p + kl + 1;
		}
		if (nl == end)
			break;
	}
	*vn = 0;
	return NULL;
}

/* A text field: null when absent or empty, or "" in the original's shape
 * (its views show it as text). */
static void kstr_field(struct jw *w, unsigned flags, const char *k, const char *v, size_t n)
{
	jw_key(w, k);
	if (v && n)
		jw_strn(w, v, n);
	else if (flags & SVC_ORIGINAL)
		jw_str(w, "");
	else
		jw_null(w);
}

/* pid, started and uptime, the way each shape says "none": null, or the
 * original's 0 and "Unable to calculate :(" (its "Manage Process" button
 * does int() on the pid). */
static void run_fields(struct jw *w, unsigned flags, long long pid, long long started,
		       const char *uptime)
{
	int orig = flags & SVC_ORIGINAL;

	jw_key(w, "pid");
	if (pid > 0 || orig)
		jw_int(w, pid > 0 ? pid : 0);
	else
		jw_null(w);
	jw_key(w, "started");
	if (started > 0)
		jw_int(w, started);
	else
		jw_null(w);
	jw_key(w, "uptime");
	if (uptime)
		jw_str(w, uptime);
	else if (orig)
		jw_str(w, SVC_ORIG_NO_UPTIME);
	else
		jw_null(w);
}

/* A number of show's, or 0. */
static long long show_num(const char *text, size_t n, const char *key)
{
	char tmp[32];
	size_t vn;
	const char *v = show_get(text, n, key, &vn);

	if (!v || vn >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, vn);
	tmp[vn] = '\0';
	return num_strtoll(tmp, NULL);
}

static int is_word(const char *v, size_t n, const char *word)
{
	return v && n == strlen(word) && !memcmp(v, word, n);
}

int svc_parse_show(const char *text, size_t n, const char *unit, unsigned flags,
		   long long now_real_us, long long now_mono_us, struct jw *w, char *err,
		   size_t errlen)
{
	static const char *const keys[6][2] = {
		{ "name", "Id" }, { "description", "Description" }, { "load_state", "LoadState" },
		{ "active_state", "ActiveState" }, { "sub_state", "SubState" },
		{ "file_location", "FragmentPath" },
	};
	const char *v[6], *ts;
	size_t vn[6], tsn;
	long long enter = show_num(text, n, "ActiveEnterTimestampMonotonic");
	long long started = 0;
	char ago[64], up[256];
	int i, active;

	for (i = 0; i < 6; i++)
		v[i] = show_get(text, n, keys[i][1], &vn[i]);
	ts = show_get(text, n, "ActiveEnterTimestamp", &tsn);
	if (!v[2] || is_word(v[2], vn[2], "not-found")) {
		fmt_snprintf(err, errlen, "no such service: %s", unit);
		return -1;
	}
	/* Only a unit that is up has an uptime; an old ActiveEnter of a
	 * stopped unit would read as if it were still running. */
	active = is_word(v[3], vn[3], "active") || is_word(v[3], vn[3], "reloading");
	if (!active || enter <= 0 || enter > now_mono_us)
		enter = 0;
	if (enter)
		started = (now_real_us - (now_mono_us - enter)) / USEC_PER_SEC;
	if (enter && ts && tsn) {
		svc_format_ago(ago, sizeof(ago), now_mono_us - enter);
		fmt_snprintf(up, sizeof(up), "%.*s; %s", (int)(tsn > 160 ? 160 : tsn), ts, ago);
	}
	jw_obj(w);
	jw_key(w, "name");
	if (v[0] && vn[0])
		jw_strn(w, v[0], vn[0]);
	else
		jw_str(w, unit);
	for (i = 1; i < 6; i++)
		kstr_field(w, flags, keys[i][0], v[i], vn[i]);
	run_fields(w, flags, show_num(text, n, "MainPID"), started,
		   enter && ts && tsn ? up : NULL);
	jw_obj_end(w);
	return jw_error(w) ? -1 : 0;
}

/* OpenRC's words for a state, mapped onto systemd's active/sub pair so
 * that the bot's views need not know the backend. */
static void rc_state(const char *st, size_t n, const char **active, const char **sub)
{
	static const struct { const char *rc, *active, *sub; } map[] = {
		{ "started", "active", "running" },
		{ "stopped", "inactive", "dead" },
		{ "crashed", "failed", "failed" },
		{ "starting", "activating", "start" },
		{ "stopping", "deactivating", "stop" },
		{ "inactive", "inactive", "inactive" },
		{ "scheduled", "inactive", "scheduled" },
		{ "hotplugged", "active", "hotplugged" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i].rc) == n && !memcmp(map[i].rc, st, n)) {
			*active = map[i].active;
			*sub = map[i].sub;
			return;
		}
	}
	*active = "unknown";
	*sub = "unknown";
}

/* Up to cap - 1 bytes of a small file, NUL-terminated: its length, or -1.
 * O_NONBLOCK: a FIFO planted where a pidfile should be cannot hang us. */
static ssize_t read_small(const char *path, char *out, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	/* fread's loop over read(2), without stdio's FILE in the agent. */
	while (got < cap - 1) {
		n = read(fd, out + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out[got] = '\0';
	return (ssize_t)got;
}

int svc_rc_description(const char *s, size_t n, char *out, size_t cap)
{
	const char *p = s, *end = s + n, *nl, *v;
	size_t k = 0;
	char q;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		if (nl - p < 12 || memcmp(p, "description=", 12)) {
			if (nl == end)
				break;
			continue;
		}
		v = p + 12;
		q = v < nl && (*v == '"' || *v == '\'') ? *v++ : 0;
		for (; v < nl && k + 1 < cap; v++) {
			if (!*v || (q ? *v == q : (*v == ' ' || *v == '\t' || *v == ';' || *v == '#')))
				break;
			if (q == '"' && *v == '\\' && v + 1 < nl && v[1])
				v++;
			out[k++] = *v;
		}
		out[k] = '\0';
		return (int)k;
	}
	if (cap)
		out[0] = '\0';
	return -1;
}

/* The description of service name (n bytes) from its script in initd. */
static void rc_desc(const char *initd, const char *name, size_t n, char *out, size_t cap)
{
	char path[512], text[16384];
	ssize_t len = -1;

	out[0] = '\0';
	if (initd && n < 256 && !memchr(name, '/', n)) {
		fmt_snprintf(path, sizeof(path), "%s/%.*s", initd, (int)n, name);
		len = read_small(path, text, sizeof(text));
	}
	if (len > 0)
		svc_rc_description(text, (size_t)len, out, cap);
}

int svc_parse_rc_list(const char *text, size_t n, const char *initd, int brief, struct jw *w)
{
	const char *p = text, *end = text + n, *nl, *name, *st, *lb, *a, *s;
	size_t namen, stn;
	char desc[512];

	jw_arr(w);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lb = memchr(p, '[', (size_t)(nl - p));
		if (lb && next_word(&p, lb, &name, &namen)) {
			p = lb + 1;
			if (!next_word(&p, nl, &st, &stn)) {
				;           /* no state: not a service's line */
			} else if (brief) {
				jw_strn(w, name, namen);
			} else {
				rc_state(st, stn, &a, &s);
				rc_desc(initd, name, namen, desc, sizeof(desc));
				jw_obj(w);
				jw_key(w, "name");
				jw_strn(w, name, namen);
				jw_kstr(w, "load_state", "loaded");
				jw_kstr(w, "active_state", a);
				jw_kstr(w, "sub_state", s);
				jw_kstr(w, "description", desc);
				jw_obj_end(w);
			}
		}
		if (nl == end)
			break;
	}
	jw_arr_end(w);
	return jw_error(w) ? -1 : 0;
}

/* What OpenRC's state directory says of a started service: the pid
 * (supervise-daemon's child_pid, else the script's pidfile) when that
 * process is alive, and supervise-daemon's start_time (local time). */
struct rc_run {
	long long pid;
	long long started;	/* epoch seconds, 0: unknown */
	char start_text[64];
};

static long long read_pid(const char *path)
{
	char b[32];
	long long pid;

	if (read_small(path, b, sizeof(b)) <= 0)
		return 0;
	pid = num_strtoll(b, NULL);
	if (pid <= 0 || pid > 0x7fffffff || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	return pid;
}

/* OpenRC's start_time, "YYYY-MM-DD HH:MM:SS", into tm's fields as
 * written (the caller adjusts year and month); by hand, so that the static
 * binary carries no scanf. */
static int rc_time(const char *s, struct tm *tm)
{
	int *f[6] = { &tm->tm_year, &tm->tm_mon, &tm->tm_mday, &tm->tm_hour, &tm->tm_min,
		      &tm->tm_sec };
	static const char sep[] = "-- ::";
	int i;

	for (i = 0; i < 6; i++) {
		int v = 0, d = 0;

		for (; *s >= '0' && *s <= '9' && d < 9; s++, d++)
			v = v * 10 + (*s - '0');
		if (!d || (i < 5 && *s++ != sep[i]))
			return -1;
		*f[i] = v;
	}
	return 0;
}

static void rc_running(const char *svcdir, const char *unit, struct rc_run *x)
{
	char path[512], b[512];
	struct tm tm;
	ssize_t n;

	memset(x, 0, sizeof(*x));
	fmt_snprintf(path, sizeof(path), "%s/options/%s/child_pid", svcdir, unit);
	x->pid = read_pid(path);
	fmt_snprintf(path, sizeof(path), "%s/options/%s/pidfile", svcdir, unit);
	if (!x->pid && (n = read_small(path, b, sizeof(b))) > 1 && b[0] == '/') {
		b[strcspn(b, "\n")] = '\0';
		x->pid = read_pid(b);
	}
	fmt_snprintf(path, sizeof(path), "%s/options/%s/start_time", svcdir, unit);
	memset(&tm, 0, sizeof(tm));
	if (read_small(path, b, sizeof(b)) > 0 && rc_time(b, &tm) == 0) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_isdst = -1;
		static const char wday[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

		x->started = tz_mktime(&tm);
		/* strftime's "%a %Y-%m-%d %H:%M:%S %Z", without strftime in the
		 * static binary. */
		if (x->started > 0)
			fmt_snprintf(x->start_text, sizeof(x->start_text), "%s %04d-%02d-%02d %02d:%02d:%02d %s",
				 wday[(unsigned)tm.tm_wday % 7], tm.tm_year + 1900, tm.tm_mon + 1,
				 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_zone ? tm.tm_zone : "");
		else
			x->started = 0;
	}
}

/* `rc-service NAME status` prints " * status: started" and exits non-zero
 * for anything but started, so its output decides, not its status. */
static int rc_info(const struct svc *sv, const char *unit, unsigned flags,
		   const struct exec_result *r, struct jw *w, char *err, size_t errlen)
{
	const char *text = r->out.p ? r->out.p : "", *s, *st, *a, *sub;
	size_t stn;
	char path[CFG_SERVICE_NAME_MAX + 512], desc[512], ago[64];
	struct rc_run x;

	s = str_find(text, "status:");
	if (!s) {
		if (r->err.p && str_find(r->err.p, "does not exist"))
			fmt_snprintf(err, errlen, "no such service: %s", unit);
		else
			svc_tool_error("rc-service", r, err, errlen);
		return -1;
	}
	s += 7;
	if (!next_word(&s, text + r->out.len, &st, &stn)) {
		svc_tool_error("rc-service", r, err, errlen);
		return -1;
	}
	rc_state(st, stn, &a, &sub);
	fmt_snprintf(path, sizeof(path), "%s/%s", sv->rc_initd ? sv->rc_initd : "/etc/init.d", unit);
	rc_desc(sv->rc_initd ? sv->rc_initd : "/etc/init.d", unit, strlen(unit), desc, sizeof(desc));
	memset(&x, 0, sizeof(x));
	if (!strcmp(a, "active"))
		rc_running(sv->rc_svcdir ? sv->rc_svcdir : "/run/openrc", unit, &x);
	jw_obj(w);
	jw_kstr(w, "name", unit);
	jw_kstr(w, "description", desc);
	jw_kstr(w, "load_state", "loaded");
	jw_kstr(w, "active_state", a);
	jw_kstr(w, "sub_state", sub);
	jw_kstr(w, "file_location", path);
	if (x.started) {
		svc_format_ago(ago, sizeof(ago), ((long long)time(NULL) - x.started) * USEC_PER_SEC);
		fmt_snprintf(path, sizeof(path), "%s; %s", x.start_text, ago);
	}
	run_fields(w, flags, x.pid, x.started, x.started ? path : NULL);
	jw_obj_end(w);
	return 0;
}

static long long clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* A service action whose tool outlived the agent's deadline.  systemctl
 * was only waiting for the job: killing it leaves the job to the manager
 * (seen on systemd 252), so the reply says so rather than "timed out". */
static void action_timed_out(const struct svc *s, enum svc_op op, const char *unit,
			     const struct exec_result *r, char *err, size_t errlen)
{
	int systemd = s->backend != SVC_OPENRC;

	fmt_snprintf(err, errlen, "%s %s %s: no answer within %lld s%s",
		 systemd ? "systemctl" : "rc-service", op_names[op], unit,
		 (r->duration_ms + 500) / 1000,
		 systemd ? "; the job goes on in systemd: obtain_service_info tells how it ends"
			 : "; rc-service was stopped");
}

int svc_reply(const struct svc *s, enum svc_op op, const char *unit, unsigned flags,
	      const struct exec_result *r, struct jw *w, char *err, size_t errlen)
{
	int systemd = s->backend != SVC_OPENRC;
	const char *tool = systemd ? "systemctl" : op == SVC_OP_LIST ? "rc-status" : "rc-service";
	int ok = !r->timed_out && !r->signal && r->exit_code == 0, rc;
	const char *out = r->out.p ? r->out.p : "";

	if (!systemd && op == SVC_OP_INFO)
		return rc_info(s, unit, flags, r, w, err, errlen);
	if (r->timed_out && op <= SVC_OP_RELOAD) {
		action_timed_out(s, op, unit, r, err, errlen);
		return -1;
	}
	if (!ok) {
		svc_tool_error(tool, r, err, errlen);
		return -1;
	}
	switch (op) {
	case SVC_OP_LIST:
		if (systemd)
			rc = parse_units(out, r->out.len, flags & SVC_ORIGINAL, w);
		else
			rc = svc_parse_rc_list(out, r->out.len, s->rc_initd ? s->rc_initd : "/etc/init.d",
					       flags & SVC_ORIGINAL, w);
		if (rc < 0)
			fmt_snprintf(err, errlen, "cannot read %s's list (%s)", tool,
				 jw_error(w) ? "too large a reply" : "not what it prints");
		return rc;
	case SVC_OP_INFO:
		return svc_parse_show(out, r->out.len, unit, flags, clock_us(CLOCK_REALTIME),
				      clock_us(CLOCK_MONOTONIC), w, err, errlen);
	default:
		svc_write_action(w, unit, op, flags & SVC_NO_BLOCK);
		return 0;
	}
}

void svc_write_action(struct jw *w, const char *unit, enum svc_op op, int queued)
{
	jw_obj(w);
	jw_kstr(w, "service_name", unit);
	jw_kstr(w, "action", op_names[op]);
	/* queued: the job was handed over (--no-block), its end is not known;
	 * done: the tool waited for it and it succeeded */
	jw_kstr(w, "result", queued ? "queued" : "done");
	jw_obj_end(w);
}
