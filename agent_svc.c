/* agent_svc.c - service backends (see agent_svc.h).
 *
 * systemd: `systemctl [--user] --no-ask-password ACTION -- UNIT`,
 * `list-units --type=service --all --no-pager --no-legend --plain`
 * (UNIT LOAD ACTIVE SUB DESCRIPTION...) and `show -p ...` (key=value).
 * `show` answers even for units that do not exist (LoadState=not-found),
 * so that case is turned into an error here.  The start time comes from
 * ActiveEnterTimestampMonotonic, which needs no time zone parsing; the
 * human form is systemd's own "TIMESTAMP; 2h ago", as `systemctl status`
 * prints it and the reference bot displayed it.
 *
 * OpenRC: `rc-service NAME ACTION|status`, `rc-status --servicelist`
 * (" name   [  started  ]" lines). */
#include "agent_svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

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
		snprintf(full, sizeof(full), "%.*s/%s", (int)(e - p), e == p ? "." : p, prog);
		if (e == p)
			snprintf(full, sizeof(full), "./%s", prog);
		if (access(full, X_OK) == 0)
			return 1;
		if (!*e)
			return 0;
	}
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
	s->backend = cfg->services;
	if (s->backend != SVC_AUTO)
		return;
	if (stat("/run/systemd/system", &st) == 0 && prog_exists(s->systemctl))
		s->backend = geteuid() == 0 ? SVC_SYSTEMD : SVC_SYSTEMD_USER;
	else if (access("/sbin/openrc-run", X_OK) == 0 || prog_exists(s->rc_service))
		s->backend = SVC_OPENRC;
	else
		s->backend = SVC_NONE;
}

int svc_name_check(const char *name, size_t len, char *err, size_t errlen)
{
	size_t i;
	char c;

	if (len == 0 || len > CFG_SERVICE_NAME_MAX || memchr(name, 0, len)) {
		snprintf(err, errlen, "invalid service name: must be 1 to %d bytes",
			 CFG_SERVICE_NAME_MAX);
		return -1;
	}
	if (name[0] == '-') {
		snprintf(err, errlen, "invalid service name: must not start with '-'");
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(":_.@-\\", c))
			continue;
		snprintf(err, errlen, "invalid service name: only letters, digits and "
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
			snprintf(out, cap, "%s.service", name);
			return;
		}
	}
	snprintf(out, cap, "%s", name);
}

int svc_argv(const struct svc *s, enum svc_op op, const char *unit,
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
			argv[n++] = "--no-legend";
			argv[n++] = "--plain";
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
		snprintf(err, errlen, "no service manager on this machine (--services none)");
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
static void tool_error(const char *tool, const struct exec_result *r, char *err, size_t errlen)
{
	trim_copy(r->err.p ? r->err.p : "", r->err.len, err, errlen);
	if (!*err)
		trim_copy(r->out.p ? r->out.p : "", r->out.len, err, errlen);
	if (*err)
		return;
	if (r->timed_out)
		snprintf(err, errlen, "%s timed out", tool);
	else if (r->signal)
		snprintf(err, errlen, "%s was killed by signal %d", tool, r->signal);
	else
		snprintf(err, errlen, "%s failed with exit status %d", tool, r->exit_code);
}

void svc_format_ago(char *out, size_t n, long long d)
{
	long long a, b;

	if (d >= USEC_PER_YEAR) {
		a = d / USEC_PER_YEAR;
		b = d % USEC_PER_YEAR / USEC_PER_MONTH;
		snprintf(out, n, "%lld %s %lld %s ago", a, a == 1 ? "year" : "years",
			 b, b == 1 ? "month" : "months");
	} else if (d >= USEC_PER_MONTH) {
		a = d / USEC_PER_MONTH;
		b = d % USEC_PER_MONTH / USEC_PER_DAY;
		snprintf(out, n, "%lld %s %lld %s ago", a, a == 1 ? "month" : "months",
			 b, b == 1 ? "day" : "days");
	} else if (d >= USEC_PER_WEEK) {
		a = d / USEC_PER_WEEK;
		b = d % USEC_PER_WEEK / USEC_PER_DAY;
		snprintf(out, n, "%lld %s %lld %s ago", a, a == 1 ? "week" : "weeks",
			 b, b == 1 ? "day" : "days");
	} else if (d >= 2 * USEC_PER_DAY) {
		snprintf(out, n, "%lld days ago", d / USEC_PER_DAY);
	} else if (d >= 25 * USEC_PER_HOUR) {
		snprintf(out, n, "1 day %lldh ago", (d - USEC_PER_DAY) / USEC_PER_HOUR);
	} else if (d >= 6 * USEC_PER_HOUR) {
		snprintf(out, n, "%lldh ago", d / USEC_PER_HOUR);
	} else if (d >= USEC_PER_HOUR) {
		snprintf(out, n, "%lldh %lldmin ago", d / USEC_PER_HOUR,
			 d % USEC_PER_HOUR / USEC_PER_MINUTE);
	} else if (d >= 5 * USEC_PER_MINUTE) {
		snprintf(out, n, "%lldmin ago", d / USEC_PER_MINUTE);
	} else if (d >= USEC_PER_MINUTE) {
		snprintf(out, n, "%lldmin %llds ago", d / USEC_PER_MINUTE,
			 d % USEC_PER_MINUTE / USEC_PER_SEC);
	} else if (d >= USEC_PER_SEC) {
		snprintf(out, n, "%llds ago", d / USEC_PER_SEC);
	} else if (d >= 1000) {
		snprintf(out, n, "%lldms ago", d / 1000);
	} else if (d > 0) {
		snprintf(out, n, "%lldus ago", d);
	} else {
		snprintf(out, n, "now");
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

int svc_parse_units(const char *text, size_t n, struct jw *w)
{
	const char *p = text, *end = text + n, *nl, *f[4], *desc;
	size_t fn[4], dn;
	int i;

	jw_arr(w);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		/* Without --plain (or from an older systemctl) failed units
		 * carry a bullet. */
		while (p < nl && (*p == ' ' || *p == '*'))
			p++;
		if (nl - p >= 3 && !memcmp(p, "\xe2\x97\x8f", 3))
			p += 3;
		for (i = 0; i < 4; i++)
			if (!next_word(&p, nl, &f[i], &fn[i]))
				break;
		if (i < 4)
			continue;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		desc = p;
		dn = (size_t)(nl - p);
		while (dn && (desc[dn - 1] == ' ' || desc[dn - 1] == '\r'))
			dn--;
		jw_obj(w);
		jw_key(w, "name");
		jw_strn(w, f[0], fn[0]);
		jw_key(w, "load_state");
		jw_strn(w, f[1], fn[1]);
		jw_key(w, "active_state");
		jw_strn(w, f[2], fn[2]);
		jw_key(w, "sub_state");
		jw_strn(w, f[3], fn[3]);
		jw_key(w, "description");
		jw_strn(w, desc, dn);
		jw_obj_end(w);
		if (nl == end)
			break;
	}
	jw_arr_end(w);
	return jw_error(w) ? -1 : 0;
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

static void jw_kstrn_or_null(struct jw *w, const char *k, const char *v, size_t n)
{
	jw_key(w, k);
	if (v && n)
		jw_strn(w, v, n);
	else
		jw_null(w);
}

int svc_parse_show(const char *text, size_t n, const char *unit, long long now_real_us,
		   long long now_mono_us, struct jw *w, char *err, size_t errlen)
{
	const char *id, *desc, *load, *act, *sub, *frag, *mpid, *ts, *mono;
	size_t idn, descn, loadn, actn, subn, fragn, mpidn, tsn, monon;
	long long enter = 0, pid = 0;
	char ago[64], tmp[32];
	int active;

	id = show_get(text, n, "Id", &idn);
	desc = show_get(text, n, "Description", &descn);
	load = show_get(text, n, "LoadState", &loadn);
	act = show_get(text, n, "ActiveState", &actn);
	sub = show_get(text, n, "SubState", &subn);
	frag = show_get(text, n, "FragmentPath", &fragn);
	mpid = show_get(text, n, "MainPID", &mpidn);
	ts = show_get(text, n, "ActiveEnterTimestamp", &tsn);
	mono = show_get(text, n, "ActiveEnterTimestampMonotonic", &monon);
	if (!load || (loadn == 9 && !memcmp(load, "not-found", 9))) {
		snprintf(err, errlen, "no such service: %s", unit);
		return -1;
	}
	if (mpid && mpidn < sizeof(tmp)) {
		memcpy(tmp, mpid, mpidn);
		tmp[mpidn] = '\0';
		pid = strtoll(tmp, NULL, 10);
	}
	if (mono && monon < sizeof(tmp)) {
		memcpy(tmp, mono, monon);
		tmp[monon] = '\0';
		enter = strtoll(tmp, NULL, 10);
	}
	/* Only a unit that is up has an uptime; an old ActiveEnter of a
	 * stopped unit would read as if it were still running. */
	active = act && ((actn == 6 && !memcmp(act, "active", 6)) ||
			 (actn == 9 && !memcmp(act, "reloading", 9)));
	jw_obj(w);
	jw_key(w, "name");
	if (id && idn)
		jw_strn(w, id, idn);
	else
		jw_str(w, unit);
	jw_kstrn_or_null(w, "description", desc, descn);
	jw_kstrn_or_null(w, "load_state", load, loadn);
	jw_kstrn_or_null(w, "active_state", act, actn);
	jw_kstrn_or_null(w, "sub_state", sub, subn);
	jw_kstrn_or_null(w, "file_location", frag, fragn);
	jw_key(w, "pid");
	if (pid > 0)
		jw_int(w, pid);
	else
		jw_null(w);
	jw_key(w, "started");
	if (active && enter > 0 && enter <= now_mono_us)
		jw_int(w, (now_real_us - (now_mono_us - enter)) / USEC_PER_SEC);
	else
		jw_null(w);
	jw_key(w, "uptime");
	if (active && enter > 0 && enter <= now_mono_us && ts && tsn) {
		struct buf b;

		svc_format_ago(ago, sizeof(ago), now_mono_us - enter);
		buf_init(&b, 1024);
		buf_append(&b, ts, tsn);
		buf_printf(&b, "; %s", ago);
		jw_strn(w, b.p ? b.p : "", b.len);
		buf_free(&b);
	} else {
		jw_null(w);
	}
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

int svc_parse_rc_list(const char *text, size_t n, struct jw *w)
{
	const char *p = text, *end = text + n, *nl, *name, *st, *lb, *a, *s;
	size_t namen, stn;

	jw_arr(w);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lb = memchr(p, '[', (size_t)(nl - p));
		if (lb && next_word(&p, lb, &name, &namen)) {
			p = lb + 1;
			if (next_word(&p, nl, &st, &stn)) {
				rc_state(st, stn, &a, &s);
				jw_obj(w);
				jw_key(w, "name");
				jw_strn(w, name, namen);
				jw_kstr(w, "load_state", "loaded");
				jw_kstr(w, "active_state", a);
				jw_kstr(w, "sub_state", s);
				jw_kstr(w, "description", "");
				jw_obj_end(w);
			}
		}
		if (nl == end)
			break;
	}
	jw_arr_end(w);
	return jw_error(w) ? -1 : 0;
}

/* `rc-service NAME status` prints " * status: started" and exits non-zero
 * for anything but started, so its output decides, not its status. */
static int rc_info(const char *unit, const struct exec_result *r, struct jw *w,
		   char *err, size_t errlen)
{
	const char *text = r->out.p ? r->out.p : "", *s, *st, *a, *sub;
	size_t stn;
	char path[CFG_SERVICE_NAME_MAX + 16];

	s = strstr(text, "status:");
	if (!s) {
		if (r->err.p && strstr(r->err.p, "does not exist"))
			snprintf(err, errlen, "no such service: %s", unit);
		else
			tool_error("rc-service", r, err, errlen);
		return -1;
	}
	s += 7;
	if (!next_word(&s, text + r->out.len, &st, &stn)) {
		tool_error("rc-service", r, err, errlen);
		return -1;
	}
	rc_state(st, stn, &a, &sub);
	snprintf(path, sizeof(path), "/etc/init.d/%s", unit);
	jw_obj(w);
	jw_kstr(w, "name", unit);
	jw_kstr(w, "description", "");
	jw_kstr(w, "load_state", "loaded");
	jw_kstr(w, "active_state", a);
	jw_kstr(w, "sub_state", sub);
	jw_kstr(w, "file_location", path);
	jw_key(w, "pid");
	jw_null(w);
	jw_key(w, "started");
	jw_null(w);
	jw_key(w, "uptime");
	jw_null(w);
	jw_obj_end(w);
	return 0;
}

static long long clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int svc_reply(const struct svc *s, enum svc_op op, const char *unit,
	      const struct exec_result *r, struct jw *w, char *err, size_t errlen)
{
	int systemd = s->backend != SVC_OPENRC;
	const char *tool = systemd ? "systemctl" : op == SVC_OP_LIST ? "rc-status" : "rc-service";
	int ok = !r->timed_out && !r->signal && r->exit_code == 0;

	if (!systemd && op == SVC_OP_INFO)
		return rc_info(unit, r, w, err, errlen);
	if (!ok) {
		tool_error(tool, r, err, errlen);
		return -1;
	}
	switch (op) {
	case SVC_OP_LIST:
		if (systemd)
			return svc_parse_units(r->out.p ? r->out.p : "", r->out.len, w);
		return svc_parse_rc_list(r->out.p ? r->out.p : "", r->out.len, w);
	case SVC_OP_INFO:
		return svc_parse_show(r->out.p ? r->out.p : "", r->out.len, unit,
				      clock_us(CLOCK_REALTIME), clock_us(CLOCK_MONOTONIC),
				      w, err, errlen);
	default:
		jw_obj(w);
		jw_kstr(w, "service_name", unit);
		jw_kstr(w, "action", op_names[op]);
		jw_obj_end(w);
		return 0;
	}
}
