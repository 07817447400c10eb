/* ctl.c - `nestd ctl`: the operator's command line.  A thin client of the
 * server's HTTP API (docs/PROTOCOL.md, "The operator API"): every
 * subcommand is one request, and what it prints is either a table for
 * people (ctl_show.c) or, with --json, the agent's reply object exactly as
 * the server returned it.
 *
 * Three steps, each finished before the next begins: parse the command
 * line, the environment and the config file into struct ctl_opts; validate
 * them and turn the subcommand into one struct ctl_cmd (which command, which
 * payload, how to show the reply); run it through ctl_io.c.  Usage errors
 * are all found before anything is sent. */
#include "ctl.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "config.h"
#include "ctl_io.h"
#include "ctl_show.h"
#include "ctl_table.h"
#include "help.h"
#include "fmt.h"
#include "json.h"
#include "net.h"
#include "token.h"
#include "tls.h"
#include "num.h"
#include "out.h"

#define MAX_OPERANDS 200

/* parse, validate and prepare return GO to go on, or the exit status. */
#define GO (-1)

enum { O_SERVER = 1, O_TOKEN_FILE, O_CONFIG, O_JSON, O_SIGNAL, O_TIMEOUT, O_WAIT,
       O_CA_FILE, O_PIN, O_INSECURE, O_AGENT, O_OPERATOR, O_LIMIT, O_ARGV, O_SORT, O_USER,
       O_NO_HEADERS };

static const struct cfg_opt ctl_opts[] = {
	{ "server", 1, O_SERVER, 1 },
	{ "token-file", 1, O_TOKEN_FILE, 1 },
	{ "config", 1, O_CONFIG, 0 },
	{ "json", 0, O_JSON, 1 },
	{ "signal", 1, O_SIGNAL, 0 },
	{ "timeout", 1, O_TIMEOUT, 0 },
	{ "wait", 1, O_WAIT, 1 },
	{ "ca-file", 1, O_CA_FILE, 1 },
	{ "pin", 1, O_PIN, 1 },
	{ "insecure", 0, O_INSECURE, 1 },
	{ "agent", 1, O_AGENT, 0 },
	{ "operator", 1, O_OPERATOR, 0 },
	{ "limit", 1, O_LIMIT, 0 },
	{ "argv", 0, O_ARGV, 0 },
	{ "sort", 1, O_SORT, 1 },
	{ "user", 1, O_USER, 0 },
	{ "no-headers", 0, O_NO_HEADERS, 1 },
	{ NULL, 0, 0, 0 },
};

/* The --help text is HELP_TEXT(ctl) in help_text.h (help.c prints it). */

/* The command line, the environment and the config file, as parsed and
 * validated; read only once ctl_validate has run. */
struct ctl_opts {
	char server[1100];
	char token[TOKEN_LEN + 8];
	char token_err[300];     /* why --token-file gave no token */
	int json;
	char signal[32];         /* kill --signal */
	double timeout;          /* exec --timeout, seconds; 0: the agent's default */
	long long wait_ms;
	char ca_file[1024], pin[CFG_TLS_MAX_PINS * 60];
	int insecure;
	char audit_agent[TOKEN_NAME_MAX + 1], audit_op[TOKEN_NAME_MAX + 1];   /* audit */
	char limit[16];
	int argv;                /* exec --argv: each word quoted, not joined */
	char sort[32], user[64];
	int no_headers;
	char *pos[MAX_OPERANDS]; /* the subcommand and its operands */
	int npos;
	struct ctl_server srv;   /* from the above, by ctl_validate */
};

/* One subcommand, ready to send. */
struct ctl_cmd {
	char get[300];           /* a GET of that path (clients, audit), not a command */
	const char *agent;
	const char *command;
	struct buf payload;      /* a JSON object; empty: no payload */
	ctl_show_fn show;
};

static int usage_error(const char *msg)
{
	out_printf(&out_stderr, "nestd ctl: %s\nTry 'nestd ctl --help'.\n", msg);
	return 2;
}

/* ---- parse ---- */

static int sub_help(const char *name);

static int ctl_set(void *ctx, int id, const char *v, int from_file, char *err, size_t errlen)
{
	struct ctl_opts *o = ctx;
	long long ms;

	switch (id) {
	case O_SERVER: fmt_copy(o->server, sizeof(o->server), v); return 0;
	case O_TOKEN_FILE:
		/* Reported only if no token turns up elsewhere. */
		o->token[0] = '\0';
		o->token_err[0] = '\0';
		if (token_read_file(v, o->token, sizeof(o->token), o->token_err,
				    sizeof(o->token_err)) < 0)
			o->token[0] = '\0';
		return 0;
	case O_CONFIG: return 0;
	case O_JSON: o->json = 1; return 0;
	case O_SIGNAL: fmt_copy(o->signal, sizeof(o->signal), v); return 0;
	case O_TIMEOUT:
	case O_WAIT:
		if (cfg_parse_seconds(v, &ms) < 0 || ms <= 0) {
			fmt_snprintf(err, errlen, "bad number of seconds '%s'", v);
			return -1;
		}
		if (id == O_TIMEOUT)
			o->timeout = (double)ms / 1000.0;
		else
			o->wait_ms = ms;
		return 0;
	case O_CA_FILE: fmt_copy(o->ca_file, sizeof(o->ca_file), v); return 0;
	case O_PIN: fmt_copy(o->pin, sizeof(o->pin), v); return 0;
	case O_INSECURE: o->insecure = 1; return 0;
	case O_AGENT:
	case O_OPERATOR:
		if (!token_name_valid(v)) {
			fmt_snprintf(err, errlen, "--%s takes a name", id == O_AGENT ? "agent" : "operator");
			return -1;
		}
		fmt_copy(id == O_AGENT ? o->audit_agent : o->audit_op, TOKEN_NAME_MAX + 1, v);
		return 0;
	case O_LIMIT:
		if (strlen(v) >= sizeof(o->limit) || num_atoi(v) < 1 || num_atoi(v) > CFG_AUDIT_LIMIT_MAX ||
		    strspn(v, "0123456789") != strlen(v)) {
			fmt_snprintf(err, errlen, "--limit takes 1 to %d", CFG_AUDIT_LIMIT_MAX);
			return -1;
		}
		fmt_copy(o->limit, sizeof(o->limit), v);
		return 0;
	case O_ARGV: o->argv = 1; return 0;
	case O_SORT:
		if (ctl_show_sort_key(v) < 0) {
			fmt_snprintf(err, errlen, "--sort takes pid, ppid, cpu, rss, start, user, name or state "
				 "(-KEY reverses), not '%.30s'", v);
			return -1;
		}
		fmt_copy(o->sort, sizeof(o->sort), v);
		return 0;
	case O_USER: fmt_copy(o->user, sizeof(o->user), v); return 0;
	case O_NO_HEADERS: o->no_headers = 1; return 0;
	}
	return -1;
}

/* The environment first, then the config file, then the flags. */
static int ctl_parse(int argc, char **argv, struct ctl_opts *o)
{
	char err[512];
	const char *cfgpath, *env;
	int help;

	memset(o, 0, sizeof(*o));
	o->wait_ms = CFG_CTL_WAIT_S * 1000LL;
	if ((env = getenv("NESTD_SERVER")) && *env)
		fmt_copy(o->server, sizeof(o->server), env);
	if ((env = getenv("NESTD_TOKEN_FILE")) && *env)
		ctl_set(o, O_TOKEN_FILE, env, 0, err, sizeof(err));
	if ((env = getenv("NESTD_TOKEN")) && *env)
		fmt_copy(o->token, sizeof(o->token), env);
	cfgpath = cfg_find_config(argc - 1, argv + 1);
	if (cfgpath && cfg_load_file(cfgpath, ctl_opts, ctl_set, o, err, sizeof(err)) < 0) {
		out_printf(&out_stderr, "nestd ctl: %s\n", err);
		return 2;
	}
	if (cfg_parse_args(argc - 1, argv + 1, ctl_opts, ctl_set, o, o->pos, MAX_OPERANDS,
			   &o->npos, &help, err, sizeof(err)) < 0)
		return usage_error(err);
	if (help && o->npos > 0 && sub_help(o->pos[0]))
		return 0;
	if (!help && o->npos > 0 && !strcmp(o->pos[0], "help")) {   /* nestd ctl help [SUB] */
		if (o->npos < 2 || !sub_help(o->pos[1]))
			help_print(HELP_CTL, &out_stdout);
		return 0;
	}
	if (help || o->npos == 0) {
		help_print(HELP_CTL, help ? &out_stdout : &out_stderr);
		return help ? 0 : 2;
	}
	return GO;
}

/* ---- validate ---- */

static int ctl_validate(struct ctl_opts *o)
{
	char err[512];
	struct ctl_server *s = &o->srv;

	char url[sizeof(o->server)];

	if (!o->server[0])
		fmt_snprintf(o->server, sizeof(o->server), "http://%s", CFG_DEFAULT_LISTEN);
	/* --server 127.0.0.1:8989 as the server's --listen writes it */
	if (net_addr_as_url(o->server, url, sizeof(url)) == 0)
		fmt_copy(o->server, sizeof(o->server), url);
	if (net_parse_url(o->server, &s->url, err, sizeof(err)) < 0)
		return usage_error(err);
	if (s->url.tls && !tls_available()) {
		out_printf(&out_stderr, "nestd ctl: https:// needs TLS, which this nestd was built without\n");
		return 2;
	}
	if (!o->token[0] && strcmp(o->pos[0], "help")) {
		out_printf(&out_stderr, "nestd ctl: %s\n", o->token_err[0] ? o->token_err :
			"no operator token: use --token-file FILE, $NESTD_TOKEN_FILE or $NESTD_TOKEN");
		return 2;
	}
	s->name = o->server;
	s->tls.ca_file = o->ca_file[0] ? o->ca_file : NULL;
	s->tls.pin = o->pin[0] ? o->pin : NULL;
	s->tls.insecure = o->insecure;
	s->token = o->token;
	s->wait_ms = o->wait_ms;
	return GO;
}

/* ---- subcommands: operands into a ctl_cmd ---- */

typedef int (*build_fn)(const struct ctl_opts *o, char *const *arg, int n, struct ctl_cmd *c);

static int build_pid(const struct ctl_opts *o, char *const *arg, int n, struct ctl_cmd *c)
{
	const char *arg_pid = arg[1];
	long pid;
	size_t i;

	/* As a JSON number: "007" is not one; 0 and negatives (process groups,
	 * after --) are no process of an agent's either. */
	pid = num_strtol(arg_pid, NULL);
	if (!*arg_pid || strspn(arg_pid, "0123456789") != strlen(arg_pid) || strlen(arg_pid) >= 10 ||
	    pid < 1) {
		char msg[120];

		fmt_snprintf(msg, sizeof(msg), "PID must be a positive integer, not '%.40s'", arg_pid);
		return usage_error(msg);
	}
	if (strcmp(c->command, "kill_process")) {
		buf_printf(&c->payload, "{\"pid\":%ld}", pid);
		return GO;
	}
	for (i = 0; o->signal[i]; i++)
		if (!((o->signal[i] >= 'A' && o->signal[i] <= 'Z') ||
		      (o->signal[i] >= '0' && o->signal[i] <= '9')))
			return usage_error("--signal takes a name like SIGKILL or a number");
	/* Always a method: the original client kills nothing without one, and
	 * still answers success. */
	buf_printf(&c->payload, "{\"pid\":%ld,\"method\":\"%s\"}", pid,
		   o->signal[0] ? o->signal : "SIGTERM");
	return GO;
}

static int build_service(const struct ctl_opts *o, char *const *arg, int n, struct ctl_cmd *c)
{
	static const char *const acts[][2] = {
		{ "start", "start_service" }, { "stop", "stop_service" },
		{ "restart", "restart_service" }, { "reload", "reload_service" },
		{ "status", "obtain_service_info" },
	};
	struct jw w;
	size_t i;

	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (!strcmp(arg[1], acts[i][0]))
			break;
	if (i == sizeof(acts) / sizeof(acts[0]))
		return usage_error("service actions: start, stop, restart, reload, status");
	c->command = acts[i][1];
	if (strcmp(arg[1], "status"))
		c->show = ctl_show_action;
	jw_init(&w, &c->payload);
	jw_obj(&w);
	jw_kstr(&w, "service_name", arg[2]);
	jw_obj_end(&w);
	return GO;
}

/* word as one word of sh: in single quotes, each ' as '\''. */
static void shell_quote(struct buf *b, const char *word)
{
	buf_putc(b, '\'');
	for (; *word; word++)
		if (*word == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *word);
	buf_putc(b, '\'');
}

/* The words after NAME are joined with spaces into one shell command, as
 * ssh joins its words; with --argv each is quoted first, so that it stays
 * one word (exec web1 --argv -- sh -c 'exit 4' exits 4). */
static int build_exec(const struct ctl_opts *o, char *const *arg, int n, struct ctl_cmd *c)
{
	struct buf cmd;
	struct jw w;
	int i;

	buf_init(&cmd, 0);
	for (i = 1; i < n; i++) {
		if (i > 1)
			buf_putc(&cmd, ' ');
		if (o->argv)
			shell_quote(&cmd, arg[i]);
		else
			buf_puts(&cmd, arg[i]);
	}
	jw_init(&w, &c->payload);
	jw_obj(&w);
	jw_key(&w, "command");
	jw_strn(&w, cmd.p, cmd.len);
	if (o->timeout > 0) {
		jw_key(&w, "timeout");
		jw_double(&w, o->timeout, 3);
	}
	jw_obj_end(&w);
	buf_free(&cmd);
	return GO;
}

/* key=value: a string, or an integer or boolean when it reads as one
 * (not "007": leading zeros keep it a string); key:=JSON: the value as
 * written, checked. */
static int put_field(struct jw *w, const char *arg)
{
	const char *eq = strchr(arg, '='), *v;
	char key[128], *end, err[96];
	int raw;
	long long num;
	struct json j;

	if (!eq || eq == arg) {
		out_printf(&out_stderr, "nestd ctl: '%s' is not key=value\n", arg);
		return -1;
	}
	raw = eq[-1] == ':';
	fmt_snprintf(key, sizeof(key), "%.*s", (int)(eq - arg - raw), arg);
	v = eq + 1;
	jw_key(w, key);
	if (raw) {
		if (json_parse(&j, v, strlen(v), err, sizeof(err)) < 0) {
			out_printf(&out_stderr, "nestd ctl: %s: not JSON: %s\n", key, err);
			return -1;
		}
		json_free(&j);
		jw_raw(w, v, strlen(v));
		return 0;
	}
	num = num_strtoll(v, &end);
	if (*v && !*end && (v[0] != '0' || !v[1]) && strlen(v) < 19)
		jw_int(w, num);
	else if (!strcmp(v, "true") || !strcmp(v, "false"))
		jw_bool(w, v[0] == 't');
	else
		jw_str(w, v);
	return 0;
}

static int build_send(const struct ctl_opts *o, char *const *arg, int n, struct ctl_cmd *c)
{
	struct jw w;
	int i;

	c->command = arg[1];
	if (n == 2)
		return GO;
	jw_init(&w, &c->payload);
	jw_obj(&w);
	for (i = 2; i < n; i++)
		if (put_field(&w, arg[i]) < 0)
			return 2;
	jw_obj_end(&w);
	return GO;
}

/* clients and audit: a GET. */
static int build_get(const struct ctl_opts *o, char *const *arg, int n, struct ctl_cmd *c)
{
	if (!strcmp(o->pos[0], "clients")) {
		fmt_snprintf(c->get, sizeof(c->get), "/api/clients");
		return GO;
	}
	fmt_snprintf(c->get, sizeof(c->get), "/api/audit?limit=%s%s%s%s%s", o->limit[0] ? o->limit :
		 CFG_STR(CFG_AUDIT_LIMIT), o->audit_agent[0] ? "&agent=" : "", o->audit_agent,
		 o->audit_op[0] ? "&operator=" : "", o->audit_op);
	return GO;
}

/* Operands after the subcommand: at least min, at most max (-1: any). */
static const struct ctl_sub {
	const char *name;
	int min, max;
	const char *usage;
	const char *command;     /* NULL: build chooses */
	build_fn build;          /* NULL: no payload */
	ctl_show_fn show;
	enum help_text help;     /* nestd ctl NAME --help, after the usage line */
} subs[] = {
	{ "clients", 0, 0, "clients", NULL, build_get, ctl_show_clients, HELP_CTL_CLIENTS },
	{ "audit", 0, 0, "audit [--agent NAME] [--operator NAME] [--limit N]", NULL, build_get,
	  ctl_show_audit, HELP_CTL_AUDIT },
	{ "ps", 1, 1, "ps NAME [--sort KEY] [--user NAME] [--no-headers]", "obtain_all_process_info",
	  NULL, ctl_show_ps, HELP_CTL_PS },
	{ "services", 1, 1, "services NAME", "list_services", NULL, ctl_show_services, HELP_CTL_SERVICES },
	{ "sysinfo", 1, 1, "sysinfo NAME", "obtain_system_info", NULL, ctl_show_kv, HELP_CTL_SYSINFO },
	{ "proc", 2, 2, "proc NAME PID", "obtain_process_info", build_pid, ctl_show_kv, HELP_CTL_PROC },
	{ "kill", 2, 2, "kill NAME PID [--signal SIG]", "kill_process", build_pid, ctl_show_action, HELP_CTL_KILL },
	{ "pause", 2, 2, "pause NAME PID", "pause_process", build_pid, ctl_show_action, HELP_CTL_PAUSE },
	{ "resume", 2, 2, "resume NAME PID", "resume_process", build_pid, ctl_show_action, HELP_CTL_RESUME },
	{ "service", 3, 3, "service NAME start|stop|restart|reload|status UNIT", NULL,
	  build_service, ctl_show_kv, HELP_CTL_SERVICE },
	{ "exec", 2, -1, "exec NAME [--timeout S] [--argv] -- COMMAND...", "exec_command",
	  build_exec, ctl_show_exec, HELP_CTL_EXEC },
	{ "send", 2, -1, "send NAME COMMAND [key=value|key:=JSON]...", NULL, build_send,
	  ctl_show_kv, HELP_CTL_SEND },
};

#define NSUBS (sizeof(subs) / sizeof(subs[0]))

static const struct ctl_sub *find_sub(const char *name)
{
	size_t i;

	for (i = 0; i < NSUBS; i++)
		if (!strcmp(name, subs[i].name))
			return &subs[i];
	return NULL;
}

/* nestd ctl NAME --help: 1 when NAME is a subcommand and its help went out. */
static int sub_help(const char *name)
{
	const struct ctl_sub *sub = find_sub(name);

	if (!sub)
		return 0;
	out_print("usage: nestd ctl [--server URL] [--token-file FILE] [--json] %s\n\n", sub->usage);
	help_print(sub->help, &out_stdout);
	out_print("\nThe options of every subcommand: nestd ctl --help.\n");
	return 1;
}

static int ctl_prepare(const struct ctl_opts *o, struct ctl_cmd *c)
{
	const struct ctl_sub *sub = find_sub(o->pos[0]);
	int n = o->npos - 1;

	if (!sub) {
		char msg[300];

		fmt_snprintf(msg, sizeof(msg), "unknown subcommand '%.40s' (clients, ps, proc, kill, pause, "
			 "resume, services, service, sysinfo, exec, send, audit)", o->pos[0]);
		return usage_error(msg);
	}
	if (n < sub->min || (sub->max >= 0 && n > sub->max)) {
		char msg[160];

		fmt_snprintf(msg, sizeof(msg), "usage: nestd ctl %s", sub->usage);
		return usage_error(msg);
	}
	if ((o->audit_agent[0] || o->audit_op[0] || o->limit[0]) && strcmp(sub->name, "audit"))
		return usage_error("--agent, --operator and --limit go with audit");
	c->agent = n ? o->pos[1] : NULL;
	c->command = sub->command;
	c->show = sub->show;
	/* How tables come out: the terminal's width and colour, the options. */
	ctl_view_default();
	ctl_view.headers = !o->no_headers;
	ctl_view.sort = o->sort[0] ? o->sort : NULL;
	ctl_view.user = o->user[0] ? o->user : NULL;
	return sub->build ? sub->build(o, o->pos + 1, n, c) : GO;
}

/* ---- run ---- */

/* {"error":msg} as the server writes it, for --json and ctl_show_error. */
static void error_object(struct buf *b, const char *msg, size_t n)
{
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "error");
	jw_strn(&w, msg, n);
	jw_obj_end(&w);
}

/* The server's refusal in plain words on stderr (the HTTP status is not
 * news to a person: the words say it); with --json its error object on
 * stdout too. */
static void refused(const struct ctl_opts *o, int status, const struct buf *resp)
{
	static const char tail[] = "' is not connected";
	struct buf why, out;
	struct json j;
	size_t tl = sizeof(tail) - 1;
	int t;

	buf_init(&why, 0);
	buf_init(&out, 0);
	if (json_parse(&j, resp->p, resp->len, NULL, 0) == 0) {
		t = json_get(&j, 0, "error");
		if (t >= 0)
			json_str(&j, t, &why);
		json_free(&j);
	}
	if (status == 404 && why.len > 7 + tl && !strncmp(why.p, "agent '", 7) &&
	    !strcmp(why.p + why.len - tl, tail))
		buf_printf(&out, "no agent named '%.*s' is connected (nestd ctl clients lists them)",
			   (int)(why.len - 7 - tl), why.p + 7);
	else if (status == 401)
		buf_printf(&out, "the server refused the token: %s", why.len ? why.p : "(no reason given)");
	else if (status == 403)
		buf_printf(&out, "not allowed: %s", why.len ? why.p : "(no reason given)");
	else if (why.len)
		buf_append(&out, why.p, why.len);
	else
		buf_printf(&out, "the server answered HTTP %d without a reason", status);
	buf_reset(&why);
	error_object(&why, out.p ? out.p : "", out.len);
	if (o->json)
		ctl_show_raw(resp->len ? resp : &why);
	ctl_show_error("", why.p, why.len);
	buf_free(&why);
	buf_free(&out);
}

static int ask(const struct ctl_opts *o, const char *method, const char *path,
	       const struct buf *body, int *status, struct buf *resp)
{
	char err[512];

	if (ctl_http(&o->srv, method, path, body ? body->p : NULL, body ? body->len : 0,
		     status, resp, err, sizeof(err)) < 0) {
		if (o->json) {
			struct buf e;

			buf_init(&e, 0);
			error_object(&e, err, strlen(err));
			ctl_show_raw(&e);
			buf_free(&e);
		}
		out_printf(&out_stderr, "nestd ctl: %s\n", err);
		return -1;
	}
	if (*status != 200) {
		refused(o, *status, resp);
		return -1;
	}
	return 0;
}

/* POSTs the command; on success *j holds the reply (the caller frees it)
 * and *p its payload's token.  1 when there is no reply to show. */
static int post(const struct ctl_opts *o, const struct ctl_cmd *c, struct buf *resp,
		struct json *j, int *p)
{
	char path[256], err[128];
	struct buf body;
	struct jw w;
	int status = 0, rc;

	buf_init(&body, 0);
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kstr(&w, "message", c->command);
	if (c->payload.len) {
		jw_key(&w, "payload");
		jw_raw(&w, c->payload.p, c->payload.len);
	}
	jw_obj_end(&w);
	fmt_snprintf(path, sizeof(path), "/api/clients/%s/commands", c->agent);
	rc = ask(o, "POST", path, &body, &status, resp);
	buf_free(&body);
	if (rc < 0)
		return 1;
	if (json_parse(j, resp->p, resp->len, err, sizeof(err)) < 0) {
		out_printf(&out_stderr, "nestd ctl: the server's answer is not JSON: %s\n", err);
		return 1;
	}
	if (!json_str_eq(j, json_get(j, 0, "status"), "command_response")) {
		if (o->json)
			ctl_show_raw(resp);
		ctl_show_error("", resp->p, resp->len);
		json_free(j);
		return 1;
	}
	*p = json_get(j, 0, "payload");
	return 0;
}

/* GET /api/clients or /api/audit: with --json the body goes out as it
 * came, unparsed. */
static int get_and_show(const struct ctl_opts *o, const struct ctl_cmd *c)
{
	struct buf resp;
	struct json j;
	char err[128];
	int status = 0, rc = 1;

	buf_init(&resp, 0);
	if (ask(o, "GET", c->get, NULL, &status, &resp) == 0) {
		if (o->json) {
			ctl_show_raw(&resp);
			rc = 0;
		} else if (json_parse(&j, resp.p, resp.len, err, sizeof(err)) < 0) {
			out_printf(&out_stderr, "nestd ctl: unexpected answer from the server\n");
		} else {
			rc = c->show(&j, 0, 0);
			json_free(&j);
		}
	}
	buf_free(&resp);
	return rc;
}

static int ctl_run(const struct ctl_opts *o, const struct ctl_cmd *c)
{
	struct buf resp;
	struct json j;
	int p, rc;

	signal(SIGPIPE, SIG_IGN);
	if (c->get[0])
		return get_and_show(o, c);
	buf_init(&resp, 0);
	rc = post(o, c, &resp, &j, &p);
	if (rc == 0) {
		if (o->json)
			ctl_show_raw(&resp);
		rc = c->show(&j, p, o->json);
		json_free(&j);
	}
	buf_free(&resp);
	return rc;
}

int ctl_main(int argc, char **argv)
{
	struct ctl_opts o;
	struct ctl_cmd c;
	int rc;

	if ((rc = ctl_parse(argc, argv, &o)) != GO)
		return rc;
	memset(&c, 0, sizeof(c));
	buf_init(&c.payload, 0);
	/* Usage errors first: they are the same with or without a server. */
	rc = ctl_prepare(&o, &c);
	if (rc == GO)
		rc = ctl_validate(&o);
	if (rc == GO)
		rc = ctl_run(&o, &c);
	buf_free(&c.payload);
	memset(o.token, 0, sizeof(o.token));
	return rc;
}
