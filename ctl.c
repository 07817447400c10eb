/* ctl.c - `nestd ctl`: the operator's command line.  A thin client of the
 * server's HTTP API (server_api.c): every subcommand is one request, and
 * what it prints is either a table for people or, with --json, the agent's
 * reply object exactly as the server returned it.
 *
 * The HTTP side is deliberately small: one request per connection
 * ("Connection: close"), Content-Length bodies, poll-bounded waits. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "loop.h"
#include "net.h"
#include "token.h"
#include "tls.h"

enum { O_SERVER = 1, O_TOKEN_FILE, O_CONFIG, O_JSON, O_SIGNAL, O_TIMEOUT, O_WAIT,
       O_CA_FILE, O_PIN, O_INSECURE };

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
	{ NULL, 0, 0, 0 },
};

static const char ctl_usage[] =
	"usage: nestd ctl [--server URL] [--token-file FILE] [--json] SUBCOMMAND ...\n"
	"\n"
	"  clients                          connected agents\n"
	"  ps NAME                          processes of an agent\n"
	"  proc NAME PID                    one process in detail\n"
	"  kill NAME PID [--signal SIG]     signal a process (SIGTERM by default)\n"
	"  pause NAME PID | resume NAME PID stop or continue a process\n"
	"  services NAME                    services of an agent\n"
	"  service NAME start|stop|restart|reload|status UNIT\n"
	"  sysinfo NAME                     host, load, memory and disk\n"
	"  exec NAME [--timeout S] -- COMMAND...\n"
	"                                   run a shell command; prints its output and\n"
	"                                   exits with its exit status\n"
	"  send NAME COMMAND [key=value|key:=JSON]...\n"
	"                                   any command, with payload fields\n"
	"\n"
	"  --server URL      http://HOST:PORT, https://..., or unix:PATH (or $NESTD_SERVER;\n"
	"                    default http://" CFG_DEFAULT_LISTEN ")\n"
	"  --token-file FILE operator token (or $NESTD_TOKEN_FILE, or $NESTD_TOKEN)\n"
	"  --json            print the agent's reply object instead of a table\n"
	"  --wait S          how long to wait for an answer (default 600)\n"
	"Exit status: 0 ok, 1 the command failed, 2 usage error; exec: the command's.\n";

struct ctl {
	char server[1100];
	struct net_url url;
	char token[TOKEN_LEN + 8];
	char token_err[300];
	int json;
	char signal[32];
	double timeout;          /* exec_command's own timeout, 0: agent default */
	long long wait_ms;
	struct tls_client_opts tls;
	char ca_file[1024], pin[CFG_TLS_MAX_PINS * 60];
};

static int ctl_set(void *ctx, int id, const char *v, int from_file, char *err, size_t errlen)
{
	struct ctl *c = ctx;
	long long ms;

	switch (id) {
	case O_SERVER: snprintf(c->server, sizeof(c->server), "%s", v); return 0;
	case O_TOKEN_FILE:
		c->token[0] = '\0';
		c->token_err[0] = '\0';
		if (token_read_file(v, c->token, sizeof(c->token), c->token_err,
				    sizeof(c->token_err)) < 0)
			c->token[0] = '\0';
		return 0;
	case O_CONFIG: return 0;
	case O_JSON: c->json = 1; return 0;
	case O_SIGNAL: snprintf(c->signal, sizeof(c->signal), "%s", v); return 0;
	case O_TIMEOUT:
	case O_WAIT:
		if (cfg_parse_seconds(v, &ms) < 0 || ms <= 0) {
			snprintf(err, errlen, "bad number of seconds '%s'", v);
			return -1;
		}
		if (id == O_TIMEOUT)
			c->timeout = (double)ms / 1000.0;
		else
			c->wait_ms = ms;
		return 0;
	case O_CA_FILE: snprintf(c->ca_file, sizeof(c->ca_file), "%s", v); return 0;
	case O_PIN: snprintf(c->pin, sizeof(c->pin), "%s", v); return 0;
	case O_INSECURE: c->tls.insecure = 1; return 0;
	}
	return -1;
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "nestd ctl: %s\nTry 'nestd ctl --help'.\n", msg);
	return 2;
}

/* ---- HTTP ---- */

static int wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd p = { fd, ev, 0 };
	int64_t left = deadline - loop_now();
	int r;

	if (left <= 0)
		return 0;
	do
		r = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
	while (r < 0 && errno == EINTR);
	return r;
}

/* One request; fills *status and resp (the body).  -1 with a message on
 * stderr when the server cannot be reached or answers nonsense. */
static int request(struct ctl *c, const char *method, const char *path, const char *body,
		   size_t bodylen, int *status, struct buf *resp)
{
	char err[256];
	struct buf out, in;
	struct tls_conn *t = NULL;
	int64_t deadline = loop_now() + c->wait_ms;
	int fd, rc = -1, head = 0;
	long long cl = -1;
	struct http_resp hr;

	fd = net_connect(&c->url, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "nestd ctl: %s\n", err);
		return -1;
	}
	if (wait_fd(fd, POLLOUT, loop_now() + 10000) <= 0 ||
	    net_connect_result(fd, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd ctl: cannot connect to %s: %s\n", c->server,
			err[0] ? err : "timed out");
		close(fd);
		return -1;
	}
	if (c->url.tls) {
		t = tls_client_new(&c->tls, c->url.host, err, sizeof(err));
		if (!t) {
			fprintf(stderr, "nestd ctl: %s\n", err);
			close(fd);
			return -1;
		}
	}
	buf_init(&out, 0);
	buf_init(&in, 64u << 20);
	buf_printf(&out, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nestd-ctl/%s\r\n"
		   "Connection: close\r\nAccept: application/json\r\n",
		   method, path, c->url.scheme == URL_UNIX ? "localhost" : c->url.host, NESTD_VERSION);
	if (c->token[0])
		buf_printf(&out, "Authorization: Bearer %s\r\n", c->token);
	if (body)
		buf_printf(&out, "Content-Type: application/json\r\nContent-Length: %zu\r\n", bodylen);
	buf_puts(&out, "\r\n");
	if (body)
		buf_append(&out, body, bodylen);
	if (tls_io_all(t, fd, out.p, out.len, deadline, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd ctl: sending to %s: %s\n", c->server, err);
		goto done;
	}
	for (;;) {
		char chunk[65536];
		ssize_t r;

		if (head > 0 && cl >= 0 && in.len >= (size_t)head + (size_t)cl)
			break;
		r = tls_io_read(t, fd, chunk, sizeof(chunk), deadline, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "nestd ctl: reading from %s: %s\n", c->server, err);
			goto done;
		}
		if (r == 0)
			break;
		if (buf_append(&in, chunk, (size_t)r) < 0) {
			fprintf(stderr, "nestd ctl: answer too large\n");
			goto done;
		}
		if (!head) {
			head = http_parse_response(in.p, in.len, &hr);
			if (head < 0) {
				fprintf(stderr, "nestd ctl: %s did not answer in HTTP\n", c->server);
				goto done;
			}
			if (head > 0)
				cl = http_content_length(hr.h, hr.nh);
		}
	}
	if (head <= 0) {
		fprintf(stderr, "nestd ctl: %s closed the connection without an answer\n", c->server);
		goto done;
	}
	if (cl < 0)
		cl = (long long)(in.len - (size_t)head);
	if (in.len < (size_t)head + (size_t)cl) {
		fprintf(stderr, "nestd ctl: the answer from %s was cut short\n", c->server);
		goto done;
	}
	*status = hr.status;
	buf_append(resp, in.p + head, (size_t)cl);
	rc = 0;
done:
	memset(out.p, 0, out.len);
	buf_free(&out);
	buf_free(&in);
	tls_client_free(t);
	close(fd);
	return rc;
}

/* Prints the server's {"error":...} or the agent's payload.error. */
static void print_error(const char *prefix, const char *body, size_t n)
{
	struct json j;
	char err[64];
	struct buf msg;
	int t;

	buf_init(&msg, 0);
	if (json_parse(&j, body, n, err, sizeof(err)) == 0) {
		t = json_get(&j, 0, "error");
		if (t < 0) {
			int p = json_get(&j, 0, "payload");

			if (p >= 0)
				t = json_get(&j, p, "error");
		}
		if (t >= 0)
			json_str(&j, t, &msg);
		json_free(&j);
	}
	fprintf(stderr, "nestd ctl: %s%s\n", prefix, msg.len ? msg.p : "(no reason given)");
	buf_free(&msg);
}

/* POST a command; on success leaves the reply's JSON in *j (caller frees)
 * and the payload's token index in *payload.  Returns the exit status. */
static int command(struct ctl *c, const char *agent, const char *cmd, const char *payload,
		   struct buf *resp, struct json *j, int *ptok)
{
	char path[256];
	struct buf body;
	struct jw w;
	int status = 0, t;
	char err[128];

	buf_init(&body, 0);
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kstr(&w, "message", cmd);
	if (payload) {
		jw_key(&w, "payload");
		jw_raw(&w, payload, strlen(payload));
	}
	jw_obj_end(&w);
	snprintf(path, sizeof(path), "/api/clients/%s/commands", agent);
	if (request(c, "POST", path, body.p, body.len, &status, resp) < 0) {
		buf_free(&body);
		return 1;
	}
	buf_free(&body);
	if (status != 200) {
		char pre[96];

		snprintf(pre, sizeof(pre), "%d: ", status);
		print_error(pre, resp->p, resp->len);
		return 1;
	}
	if (json_parse(j, resp->p, resp->len, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd ctl: the server's answer is not JSON: %s\n", err);
		return 1;
	}
	t = json_get(j, 0, "status");
	if (!json_str_eq(j, t, "command_response")) {
		if (c->json) {
			fwrite(resp->p, 1, resp->len, stdout);
			putchar('\n');
		}
		print_error("", resp->p, resp->len);
		json_free(j);
		return 1;
	}
	*ptok = json_get(j, 0, "payload");
	return 0;
}

/* ---- output helpers ---- */

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

static int print_json_reply(struct buf *resp)
{
	fwrite(resp->p, 1, resp->len, stdout);
	if (!resp->len || resp->p[resp->len - 1] != '\n')
		putchar('\n');
	return 0;
}

/* ---- subcommands ---- */

static int sub_clients(struct ctl *c)
{
	struct buf resp;
	struct json j;
	int status = 0, i, n, e, rc = 1;
	char err[128];

	buf_init(&resp, 0);
	if (request(c, "GET", "/api/clients", NULL, 0, &status, &resp) < 0)
		goto out;
	if (status != 200) {
		char pre[32];

		snprintf(pre, sizeof(pre), "%d: ", status);
		print_error(pre, resp.p, resp.len);
		goto out;
	}
	if (c->json) {
		rc = print_json_reply(&resp);
		goto out;
	}
	if (json_parse(&j, resp.p, resp.len, err, sizeof(err)) < 0 || json_type(&j, 0) != JSON_ARRAY) {
		fprintf(stderr, "nestd ctl: unexpected answer from the server\n");
		goto out;
	}
	n = json_count(&j, 0);
	printf("%-20s %-10s %-20s %-24s %-19s %s\n", "NAME", "VERSION", "HOST", "ADDRESS",
	       "CONNECTED", "INFLIGHT");
	for (i = 0, e = 1; i < n; i++, e = json_next(&j, e)) {
		char name[80], ver[40], host[80], addr[80], since[40];

		str_of(&j, json_get(&j, e, "name"), name, sizeof(name));
		str_of(&j, json_get(&j, e, "version"), ver, sizeof(ver));
		str_of(&j, json_get(&j, e, "hostname"), host, sizeof(host));
		str_of(&j, json_get(&j, e, "address"), addr, sizeof(addr));
		when(int_of(&j, json_get(&j, e, "connected_since")), since, sizeof(since));
		safe_print(name, 20);
		putchar(' ');
		safe_print(ver, 10);
		putchar(' ');
		safe_print(host, 20);
		printf(" %-24s %-19s %lld\n", addr, since, int_of(&j, json_get(&j, e, "inflight")));
	}
	if (n == 0)
		fprintf(stderr, "(no agents connected)\n");
	json_free(&j);
	rc = 0;
out:
	buf_free(&resp);
	return rc;
}

/* A command's reply shown by a function of its own: run() asks the server,
 * prints the reply as it came with --json, and hands the payload to show(),
 * whose return value is the exit status. */
typedef int (*show_fn)(const struct ctl *c, const struct json *j, int payload);

static int run(struct ctl *c, const char *agent, const char *cmd, const char *payload,
	       show_fn show)
{
	struct buf resp;
	struct json j;
	int p, rc;

	buf_init(&resp, 0);
	rc = command(c, agent, cmd, payload, &resp, &j, &p);
	if (rc == 0) {
		if (c->json)
			print_json_reply(&resp);
		rc = show(c, &j, p);
		json_free(&j);
	}
	buf_free(&resp);
	return rc;
}

static int show_ps(const struct ctl *c, const struct json *j, int p)
{
	int i, n, e;

	if (c->json)
		return 0;
	n = json_count(j, p);
	printf("%7s %7s %-12s %-12s %8s %6s %-19s %s\n", "PID", "PPID", "USER", "STATE",
	       "RSS", "CPU%", "STARTED", "COMMAND");
	/* json_next walks the array in one pass (json_elem would rescan). */
	for (i = 0, e = p + 1; i < n; i++, e = json_next(j, e)) {
		char user[64], state[24], rss[16], start[40], cmd[4096], name[256];
		double cpu = 0;
		int cu;

		str_of(j, json_get(j, e, "user"), user, sizeof(user));
		str_of(j, json_get(j, e, "state"), state, sizeof(state));
		str_of(j, json_get(j, e, "cmdline"), cmd, sizeof(cmd));
		str_of(j, json_get(j, e, "name"), name, sizeof(name));
		human_bytes(int_of(j, json_get(j, e, "rss")), rss, sizeof(rss));
		when(int_of(j, json_get(j, e, "started")), start, sizeof(start));
		cu = json_get(j, e, "cpu_usage");
		if (cu >= 0)
			json_num(j, cu, &cpu);
		printf("%7lld %7lld ", int_of(j, json_get(j, e, "pid")),
		       int_of(j, json_get(j, e, "ppid")));
		safe_print(user, 12);
		putchar(' ');
		printf("%-12s %8s %6.1f %-19s ", state, rss, cpu, start);
		if (cmd[0]) {
			safe_print(cmd, 0);
		} else {
			putchar('[');
			safe_print(name, 0);
			putchar(']');
		}
		putchar('\n');
	}
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
		} else {
			str_of(j, v, val, sizeof(val));
			printf("%-22s ", full);
			safe_print(val, 0);
			putchar('\n');
		}
		k = json_next(j, v);
	}
}

static int show_kv(const struct ctl *c, const struct json *j, int p)
{
	char v[4096];

	if (c->json || p < 0)
		return 0;
	if (json_type(j, p) == JSON_OBJECT) {
		print_kv(j, p, "");
		return 0;
	}
	str_of(j, p, v, sizeof(v));
	safe_print(v, 0);
	putchar('\n');
	return 0;
}

static int show_services(const struct ctl *c, const struct json *j, int p)
{
	int i, n, e;

	if (c->json)
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

/* Output as it was (stdout and stderr apart); the exit status is the
 * command's, 124 for a timeout, 128+9 for a signal. */
static int show_exec(const struct ctl *c, const struct json *j, int p)
{
	struct buf out;
	long long code = 1;
	int t, b = 0;

	if (!c->json) {
		buf_init(&out, 0);
		t = json_get(j, p, "stdout");
		if (t >= 0 && json_str(j, t, &out) == 0) {
			fwrite(out.p ? out.p : "", 1, out.len, stdout);
			fflush(stdout);
		}
		buf_reset(&out);
		t = json_get(j, p, "stderr");
		if (t >= 0 && json_str(j, t, &out) == 0)
			fwrite(out.p ? out.p : "", 1, out.len, stderr);
		buf_free(&out);
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
	if (t >= 0 && json_bool(j, t, &b) == 0 && b && !c->json)
		fprintf(stderr, "nestd ctl: output truncated (kept the head and the tail)\n");
	return (int)(code & 255);
}

static int sub_exec(struct ctl *c, const char *agent, int argc, char **argv)
{
	struct buf cmd, payload;
	struct jw w;
	int i, rc;

	buf_init(&cmd, 0);
	for (i = 0; i < argc; i++) {
		if (i)
			buf_putc(&cmd, ' ');
		buf_puts(&cmd, argv[i]);
	}
	buf_init(&payload, 0);
	jw_init(&w, &payload);
	jw_obj(&w);
	jw_key(&w, "command");
	jw_strn(&w, cmd.p, cmd.len);
	if (c->timeout > 0) {
		jw_key(&w, "timeout");
		jw_double(&w, c->timeout, 3);
	}
	jw_obj_end(&w);
	rc = run(c, agent, "exec_command", payload.p, show_exec);
	buf_free(&cmd);
	buf_free(&payload);
	return rc;
}

/* key=value -> string (or number/bool when it looks like one);
 * key:=JSON -> raw JSON. */
static int build_payload(int argc, char **argv, struct buf *b)
{
	struct jw w;
	int i;

	jw_init(&w, b);
	jw_obj(&w);
	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '='), key[128];
		const char *v;
		int raw = 0;

		if (!eq || eq == argv[i]) {
			fprintf(stderr, "nestd ctl: '%s' is not key=value\n", argv[i]);
			return -1;
		}
		if (eq[-1] == ':') {
			raw = 1;
			snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i] - 1), argv[i]);
		} else {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		}
		v = eq + 1;
		jw_key(&w, key);
		if (raw) {
			struct json j;
			char err[96];

			if (json_parse(&j, v, strlen(v), err, sizeof(err)) < 0) {
				fprintf(stderr, "nestd ctl: %s: not JSON: %s\n", key, err);
				return -1;
			}
			json_free(&j);
			jw_raw(&w, v, strlen(v));
		} else {
			char *end;
			long long n = strtoll(v, &end, 10);

			if (*v && !*end && (v[0] != '0' || !v[1]) && strlen(v) < 19)
				jw_int(&w, n);
			else if (!strcmp(v, "true") || !strcmp(v, "false"))
				jw_bool(&w, v[0] == 't');
			else
				jw_str(&w, v);
		}
	}
	jw_obj_end(&w);
	return 0;
}

const char *ctl_build_features(void)
{
	return tls_available() ? "TLS: yes (BearSSL)" : "TLS: no";
}

static int need(int npos, int want, const char *what)
{
	if (npos != want) {
		char msg[160];

		snprintf(msg, sizeof(msg), "usage: nestd ctl %s", what);
		return usage_error(msg);
	}
	return 0;
}

static int valid_pid(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 10;
}

int ctl_main(int argc, char **argv)
{
	struct ctl c;
	char err[512], *pos[256], payload[256];
	const char *cfgpath, *env, *sub;
	int npos, help, i, r;

	memset(&c, 0, sizeof(c));
	c.wait_ms = 600000;
	if ((env = getenv("NESTD_SERVER")) && *env)
		snprintf(c.server, sizeof(c.server), "%s", env);
	if ((env = getenv("NESTD_TOKEN_FILE")) && *env)
		ctl_set(&c, O_TOKEN_FILE, env, 0, err, sizeof(err));
	if ((env = getenv("NESTD_TOKEN")) && *env)
		snprintf(c.token, sizeof(c.token), "%s", env);
	cfgpath = cfg_find_config(argc - 1, argv + 1);
	if (cfgpath && cfg_load_file(cfgpath, ctl_opts, ctl_set, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "nestd ctl: %s\n", err);
		return 2;
	}
	if (cfg_parse_args(argc - 1, argv + 1, ctl_opts, ctl_set, &c, pos, 200, &npos, &help,
			   err, sizeof(err)) < 0)
		return usage_error(err);
	if (help || npos == 0) {
		fputs(ctl_usage, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (!c.server[0])
		snprintf(c.server, sizeof(c.server), "http://%s", CFG_DEFAULT_LISTEN);
	if (net_parse_url(c.server, &c.url, err, sizeof(err)) < 0)
		return usage_error(err);
	if (c.url.tls && !tls_available()) {
		fprintf(stderr, "nestd ctl: https:// needs TLS, which this nestd was built without\n");
		return 2;
	}
	c.tls.ca_file = c.ca_file[0] ? c.ca_file : NULL;
	c.tls.pin = c.pin[0] ? c.pin : NULL;
	if (!c.token[0] && strcmp(pos[0], "help")) {
		fprintf(stderr, "nestd ctl: %s\n", c.token_err[0] ? c.token_err :
			"no operator token: use --token-file FILE, $NESTD_TOKEN_FILE or $NESTD_TOKEN");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sub = pos[0];
	if (!strcmp(sub, "clients"))
		return (r = need(npos, 1, "clients")) ? r : sub_clients(&c);
	if (!strcmp(sub, "ps"))
		return (r = need(npos, 2, "ps NAME")) ? r : run(&c, pos[1], "obtain_all_process_info", NULL, show_ps);
	if (!strcmp(sub, "services"))
		return (r = need(npos, 2, "services NAME")) ? r : run(&c, pos[1], "list_services", NULL, show_services);
	if (!strcmp(sub, "sysinfo"))
		return (r = need(npos, 2, "sysinfo NAME")) ? r : run(&c, pos[1], "obtain_system_info", NULL, show_kv);
	if (!strcmp(sub, "proc") || !strcmp(sub, "kill") || !strcmp(sub, "pause") ||
	    !strcmp(sub, "resume")) {
		const char *cmd = !strcmp(sub, "proc") ? "obtain_process_info" :
				  !strcmp(sub, "kill") ? "kill_process" :
				  !strcmp(sub, "pause") ? "pause_process" : "resume_process";

		if ((r = need(npos, 3, "proc|kill|pause|resume NAME PID")))
			return r;
		if (!valid_pid(pos[2]))
			return usage_error("PID must be a positive integer");
		if (!strcmp(sub, "kill") && c.signal[0]) {
			for (i = 0; c.signal[i]; i++)
				if (!((c.signal[i] >= 'A' && c.signal[i] <= 'Z') ||
				      (c.signal[i] >= '0' && c.signal[i] <= '9')))
					return usage_error("--signal takes a name like SIGKILL or a number");
			snprintf(payload, sizeof(payload), "{\"pid\":%s,\"method\":\"%s\"}", pos[2], c.signal);
		} else {
			snprintf(payload, sizeof(payload), "{\"pid\":%s}", pos[2]);
		}
		return run(&c, pos[1], cmd, payload, show_kv);
	}
	if (!strcmp(sub, "service")) {
		static const char *const acts[][2] = {
			{ "start", "start_service" }, { "stop", "stop_service" },
			{ "restart", "restart_service" }, { "reload", "reload_service" },
			{ "status", "obtain_service_info" },
		};
		struct buf b;
		struct jw w;

		if ((r = need(npos, 4, "service NAME start|stop|restart|reload|status UNIT")))
			return r;
		for (i = 0; i < 5; i++)
			if (!strcmp(pos[2], acts[i][0]))
				break;
		if (i == 5)
			return usage_error("service actions: start, stop, restart, reload, status");
		buf_init(&b, 0);
		jw_init(&w, &b);
		jw_obj(&w);
		jw_kstr(&w, "service_name", pos[3]);
		jw_obj_end(&w);
		r = run(&c, pos[1], acts[i][1], b.p, show_kv);
		buf_free(&b);
		return r;
	}
	if (!strcmp(sub, "exec")) {
		if (npos < 3)
			return usage_error("usage: nestd ctl exec NAME [--timeout S] -- COMMAND...");
		return sub_exec(&c, pos[1], npos - 2, pos + 2);
	}
	if (!strcmp(sub, "send")) {
		struct buf b;

		if (npos < 3)
			return usage_error("usage: nestd ctl send NAME COMMAND [key=value|key:=JSON]...");
		buf_init(&b, 0);
		if (build_payload(npos - 3, pos + 3, &b) < 0) {
			buf_free(&b);
			return 2;
		}
		r = run(&c, pos[1], pos[2], npos > 3 ? b.p : NULL, show_kv);
		buf_free(&b);
		return r;
	}
	return usage_error("unknown subcommand");
}
