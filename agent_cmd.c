/* agent_cmd.c - the agent's command set behind agent_cmd.h: a command's
 * name read once, the --allow/--deny policy, the payload read through
 * proto's typed readers, and every reply, success or error, built in the
 * command's own record by proto's one reply builder.
 *
 * Reading commands (processes, system) answer before agent_cmd_run
 * returns.  exec_command and the service commands run a child through
 * agent_exec and answer from the loop when it is done; the record holds
 * the child, so agent_cmd_forget can stop it when the connection that
 * asked is gone.  Nothing here keeps a list of commands: the agent does. */
#include "agent_cmd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "agent_exec.h"
#include "agent_proc.h"
#include "agent_sys.h"
#include "agent_usage.h"
#include "config.h"
#include "fmt.h"
#include "log.h"

enum { G_READ = 1, G_PROCESS = 2, G_SERVICE = 4, G_EXEC = 8 };

static void run_read(struct agent_cmds *c, struct cmd *cmd);
static void run_signal(struct agent_cmds *c, struct cmd *cmd);
static void run_service(struct agent_cmds *c, struct cmd *cmd);
static void run_exec(struct agent_cmds *c, struct cmd *cmd);
static void run_nest(struct agent_cmds *c, struct cmd *cmd);

static const struct {
	const char *name;
	unsigned group;
	void (*run)(struct agent_cmds *c, struct cmd *cmd);
	enum svc_op op;              /* service commands only */
} cmd_tab[CMD_COUNT] = {
	[CMD_ALL_PROC] = { "obtain_all_process_info", G_READ, run_read, 0 },
	[CMD_PROC_INFO] = { "obtain_process_info", G_READ, run_read, 0 },
	[CMD_LIST_SVC] = { "list_services", G_READ, run_service, SVC_OP_LIST },
	[CMD_SVC_INFO] = { "obtain_service_info", G_READ, run_service, SVC_OP_INFO },
	[CMD_SYS_INFO] = { "obtain_system_info", G_READ, run_read, 0 },
	[CMD_KILL] = { "kill_process", G_PROCESS, run_signal, 0 },
	[CMD_PAUSE] = { "pause_process", G_PROCESS, run_signal, 0 },
	[CMD_RESUME] = { "resume_process", G_PROCESS, run_signal, 0 },
	[CMD_START_SVC] = { "start_service", G_SERVICE, run_service, SVC_OP_START },
	[CMD_STOP_SVC] = { "stop_service", G_SERVICE, run_service, SVC_OP_STOP },
	[CMD_RESTART_SVC] = { "restart_service", G_SERVICE, run_service, SVC_OP_RESTART },
	[CMD_RELOAD_SVC] = { "reload_service", G_SERVICE, run_service, SVC_OP_RELOAD },
	[CMD_EXEC] = { "exec_command", G_EXEC, run_exec, 0 },
	[CMD_USAGE] = { "obtain_user_usages", G_READ, run_nest, 0 },
	[CMD_GET_PORT] = { "get_port", G_READ, run_nest, 0 },
};

static const struct {
	const char *name;
	unsigned groups;
} group_tab[] = {
	{ "read", G_READ }, { "process", G_PROCESS }, { "service", G_SERVICE },
	{ "exec", G_EXEC }, { "all", G_READ | G_PROCESS | G_SERVICE | G_EXEC },
};

#define ALL_CMDS ((1u << CMD_COUNT) - 1)

struct agent_cmds {
	struct loop *l;
	agent_answered_fn answered;
	void *arg;
	unsigned allowed;            /* bit per enum cmd_kind */
	unsigned exec_timeout_s;
	size_t max_output;
	int max_exec;
	int nexec, nsvc;             /* children running: exec_command's, service tools' */
	struct svc svc;
	struct proc_ctx *proc;
	struct exec_mgr *exec;
	const char *cgroup, *proc_root;   /* obtain_user_usages' (--cgroup, --proc-root) */
	/* OpenRC actions in the original's shape: answered at once, the tool
	 * left to finish; its outcome is logged from here */
	struct detached {
		struct agent_cmds *c;
		int used;
		enum svc_op op;
		char unit[SVC_UNIT_MAX];
	} detached[CFG_MAX_SVC_RUNNING];
};

/* ---- policy ---- */

/* The commands one word of a --allow/--deny list names: a group's, or
 * the one command of that name; 0 for a word that names neither. */
static unsigned policy_word(const char *p, size_t n)
{
	unsigned groups = 0, mask = 0;
	size_t i;

	for (i = 0; i < sizeof(group_tab) / sizeof(group_tab[0]); i++)
		if (strlen(group_tab[i].name) == n && !memcmp(group_tab[i].name, p, n))
			groups = group_tab[i].groups;
	for (i = 0; i < CMD_COUNT; i++)
		if ((groups & cmd_tab[i].group) ||
		    (strlen(cmd_tab[i].name) == n && !memcmp(cmd_tab[i].name, p, n)))
			mask |= 1u << i;
	return mask;
}

/* Adds the commands a comma list names to *mask; -1 with err on an
 * unknown name. */
static int policy_parse(const char *list, const char *flag, unsigned *mask,
			char *err, size_t errlen)
{
	const char *p = list, *e;
	unsigned m;
	size_t n;

	for (;; p = e + 1) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(e - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && !(m = policy_word(p, n))) {
			fmt_snprintf(err, errlen, "%s: unknown command or group '%.*s' "
				 "(groups: read, process, service, exec, all)",
				 flag, (int)(n > 64 ? 64 : n), p);
			return -1;
		}
		if (n)
			*mask |= m;
		if (!*e)
			return 0;
	}
}

/* ---- replies ---- */

static size_t id_len(const struct cmd *cmd)
{
	return cmd->id ? strlen(cmd->id) : 0;
}

/* Empties cmd's reply (dropping any earlier attempt) and keeps its
 * memory: the record may be a recycled one, its buffer already the size
 * replies take. */
static void reply_reset(struct cmd *cmd)
{
	cmd->reply.max = CFG_MAX_AGENT_MESSAGE;
	buf_reset(&cmd->reply);
}

/* Opens cmd's success reply; the handler writes the payload with w and
 * ends with reply_end. */
static void reply_begin(struct cmd *cmd, struct jw *w)
{
	reply_reset(cmd);
	proto_reply_begin(w, &cmd->reply, cmd->name, cmd->id, id_len(cmd));
}

/* Hands the finished reply to the agent; cmd may be gone afterwards. */
static void deliver(struct agent_cmds *c, struct cmd *cmd)
{
	cmd->msg = NULL;
	cmd->answered = 1;
	c->answered(cmd, c->arg);
}

/* The error reply, replacing whatever part of a success reply was built. */
static void fail(struct agent_cmds *c, struct cmd *cmd, const char *why)
{
	int rc;

	reply_reset(cmd);
	/* The original client put the text in message, its bot read
	 * payload.error: that shape carries both. */
	if (cmd->original)
		rc = proto_reply_error_text(&cmd->reply, cmd->id, id_len(cmd), why);
	else
		rc = proto_reply_error(&cmd->reply, cmd->name, cmd->id, id_len(cmd), why);
	if (rc < 0)
		log_error("out of memory: the reply to %s is lost", cmd->name);
	deliver(c, cmd);
}

/* The success reply w holds, or an error when it passed the limit. */
static void reply_end(struct agent_cmds *c, struct cmd *cmd, struct jw *w)
{
	if (proto_reply_end(w) < 0)
		fail(c, cmd, "reply too large");
	else
		deliver(c, cmd);
}

/* ---- children ---- */

static int *running(struct agent_cmds *c, const struct cmd *cmd)
{
	return cmd->kind == CMD_EXEC ? &c->nexec : &c->nsvc;
}

/* Runs argv as cmd's child; done gets cmd back.  0, or -1 with err. */
static int child_start(struct agent_cmds *c, struct cmd *cmd, char *const argv[],
		       unsigned timeout_ms, size_t max_output, exec_done_fn done,
		       char *err, size_t errlen)
{
	cmd->child = exec_start(c->exec, argv, timeout_ms, max_output, done, cmd, err, errlen);
	if (!cmd->child)
		return -1;
	cmd->set = c;
	cmd->msg = NULL;             /* the child has what it needs */
	++*running(c, cmd);
	return 0;
}

/* The child ended or is given up: the record lets go of it. */
static struct agent_cmds *child_end(struct cmd *cmd)
{
	struct agent_cmds *c = cmd->set;

	--*running(c, cmd);
	cmd->child = NULL;
	cmd->set = NULL;
	return c;
}

/* An answer due before the child is done no longer is. */
static void answer_disarm(struct agent_cmds *c, struct cmd *cmd)
{
	if (cmd->answer_armed)
		loop_del(c->l, &cmd->answer_by);
	cmd->answer_armed = 0;
}

/* Keeps the first and the last keep/2 bytes of p[0..n) around a marker. */
static void keep_ends(struct buf *dst, const char *p, size_t n, size_t keep)
{
	buf_reset(dst);
	if (n <= keep) {
		buf_append(dst, p, n);
		return;
	}
	buf_append(dst, p, keep / 2);
	buf_printf(dst, "\n[... %zu bytes left out so the reply fits ...]\n", n - keep);
	buf_append(dst, p + n - keep / 2, keep / 2);
}

/* exec_command's whole reply into cmd; 0, or -1 when it passed the limit. */
static int exec_write(struct cmd *cmd, const struct exec_result *r, const char *out,
		      size_t outn, const char *err, size_t errn, int truncated)
{
	char tmp[32];
	struct jw w;

	reply_begin(cmd, &w);
	jw_obj(&w);
	jw_key(&w, "exit_code");
	if (r->signal)
		jw_null(&w);
	else
		jw_int(&w, r->exit_code);
	jw_key(&w, "signal");
	if (r->signal)
		jw_str(&w, proc_signal_name(r->signal, tmp, sizeof(tmp)));
	else
		jw_null(&w);
	jw_key(&w, "stdout");
	jw_strn(&w, out, outn);
	jw_key(&w, "stderr");
	jw_strn(&w, err, errn);
	jw_kbool(&w, "timed_out", r->timed_out);
	jw_kbool(&w, "truncated", truncated);
	jw_key(&w, "total_bytes");
	jw_obj(&w);
	jw_key(&w, "stdout");
	jw_uint(&w, r->total_out);
	jw_key(&w, "stderr");
	jw_uint(&w, r->total_err);
	jw_obj_end(&w);
	jw_kint(&w, "duration_ms", r->duration_ms);
	jw_obj_end(&w);
	return proto_reply_end(&w);
}

static void exec_done(void *arg, struct exec_result *r)
{
	struct cmd *cmd = arg;
	struct agent_cmds *c = child_end(cmd);
	struct buf o, e;
	size_t keep;
	int rc;

	rc = exec_write(cmd, r, r->out.p, r->out.len, r->err.p, r->err.len, r->truncated);
	/* Escaping can grow output sixfold (control bytes become \u00XX): when
	 * the reply would pass the message limit, keep less of each stream's
	 * head and tail rather than lose it all. */
	buf_init(&o, 0);
	buf_init(&e, 0);
	keep = (r->out.len > r->err.len ? r->out.len : r->err.len) / 2;
	while (rc < 0 && keep >= 1024) {
		keep_ends(&o, r->out.p, r->out.len, keep);
		keep_ends(&e, r->err.p, r->err.len, keep);
		rc = exec_write(cmd, r, o.p ? o.p : "", o.len, e.p ? e.p : "", e.len, 1);
		keep /= 2;
	}
	buf_free(&o);
	buf_free(&e);
	if (rc < 0)
		fail(c, cmd, "reply too large");
	else
		deliver(c, cmd);
}

/* How a service command runs for cmd: the shape it answers in, and
 * whether an action is only queued (the original's way, with systemd). */
static unsigned svc_flags(const struct agent_cmds *c, const struct cmd *cmd)
{
	unsigned f = cmd->original ? SVC_ORIGINAL : 0;

	if (cmd->original && c->svc.backend != SVC_OPENRC)
		f |= SVC_NO_BLOCK;
	return f;
}

static void svc_done(void *arg, struct exec_result *r)
{
	struct cmd *cmd = arg;
	struct agent_cmds *c = child_end(cmd);
	enum svc_op op = cmd_tab[cmd->kind].op;
	char err[1024];
	struct jw w;

	answer_disarm(c, cmd);
	reply_begin(cmd, &w);
	if (svc_reply(&c->svc, op, cmd->unit, svc_flags(c, cmd), r, &w, err, sizeof(err)) == 0) {
		reply_end(c, cmd, &w);
		return;
	}
	if (op <= SVC_OP_RELOAD)
		log_msg(LOG_LVL_WARN, "%s %s failed: %s", svc_op_name(op), cmd->unit, err);
	fail(c, cmd, err);
}

/* ---- the commands ---- */

/* kill_process's "method": a signal name or number, SIGTERM when absent. */
static int payload_signal(const struct nest_msg *m, int *sig, char *err, size_t errlen)
{
	char name[32];
	long long v;

	*sig = SIGTERM;
	if (!proto_payload_has(m, "method"))
		return 0;
	if (proto_payload_string(m, "method", name, sizeof(name), NULL, NULL, 0) == 0 &&
	    (*sig = proc_signal_parse(name)) > 0)
		return 0;
	if (proto_payload_int(m, "method", 1, SIGRTMAX, &v, NULL, 0) == 0) {
		*sig = (int)v;
		return 0;
	}
	fmt_snprintf(err, errlen, "payload.method must be a signal name (SIGTERM, SIGKILL, ...) "
		 "or number");
	return -1;
}

/* "service_name", checked, into cmd->unit as the backend names it. */
static int payload_service(struct agent_cmds *c, struct cmd *cmd, char *err, size_t errlen)
{
	char name[CFG_SERVICE_NAME_MAX + 1];
	size_t n;
	int rc;

	rc = proto_payload_string(cmd->msg, "service_name", name, sizeof(name), &n, err, errlen);
	if (rc == PROTO_E_LONG)
		n = sizeof(name);    /* svc_name_check says how long a name may be */
	else if (rc < 0)
		return -1;
	if (svc_name_check(name, n, err, errlen) < 0)
		return -1;
	svc_unit(&c->svc, name, cmd->unit, sizeof(cmd->unit));
	return 0;
}

/* exec_command's "command" into text[CFG_EXEC_COMMAND_MAX + 1] and its
 * "timeout" (at most the agent's cap) into *tmo. */
static int payload_exec(const struct nest_msg *m, char *text, double *tmo, unsigned cap_s,
			char *err, size_t errlen)
{
	size_t n;

	if (proto_payload_string(m, "command", text, CFG_EXEC_COMMAND_MAX + 1, &n,
				 err, errlen) < 0)
		return -1;
	if (!n || strlen(text) != n) {
		fmt_snprintf(err, errlen, n ? "payload.command must not contain NUL characters"
					: "payload.command must not be empty");
		return -1;
	}
	if (proto_payload_seconds(m, "timeout", tmo, err, errlen) < 0)
		return -1;
	if (*tmo > cap_s)
		*tmo = cap_s;
	return 0;
}

static void run_exec(struct agent_cmds *c, struct cmd *cmd)
{
	char err[256], *text = malloc(CFG_EXEC_COMMAND_MAX + 1);
	char *argv[4] = { "/bin/sh", "-c", text, NULL };
	double tmo = c->exec_timeout_s;
	int rc = -1;

	if (!text) {
		fmt_snprintf(err, sizeof(err), "out of memory");
	} else if (payload_exec(cmd->msg, text, &tmo, c->exec_timeout_s, err, sizeof(err)) == 0) {
		if (c->nexec >= c->max_exec)
			fmt_snprintf(err, sizeof(err), "busy: %d commands already running", c->nexec);
		else    /* at least 1 ms: 0 would mean no deadline at all */
			rc = child_start(c, cmd, argv,
					 tmo * 1000 < 1 ? 1 : (unsigned)(tmo * 1000 + 0.5),
					 c->max_output, exec_done, err, sizeof(err));
	}
	free(text);
	if (rc < 0)
		fail(c, cmd, err);
}

/* A detached OpenRC action ended: only the log hears how. */
static void detached_done(void *arg, struct exec_result *r)
{
	struct detached *d = arg;
	char err[512];
	struct buf b;
	struct jw w;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	if (svc_reply(&d->c->svc, d->op, d->unit, SVC_ORIGINAL, r, &w, err, sizeof(err)) == 0)
		log_msg(LOG_LVL_INFO, "%s %s: done", svc_op_name(d->op), d->unit);
	else
		log_msg(LOG_LVL_WARN, "%s %s failed: %s", svc_op_name(d->op), d->unit, err);
	buf_free(&b);
	d->used = 0;
}

/* rc-service has no --no-block: in the original's shape, where the answer
 * is due within its server's second, an action still running after
 * CFG_SVC_ORIG_ANSWER_MS is answered "queued" and the tool left to finish,
 * its outcome logged.  One done by then answers with its own result, so a
 * script that does not exist is still refused in rc-service's words. */
static void answer_due(struct loop_src *src, short revents)
{
	struct cmd *cmd = src->arg;
	struct agent_cmds *c = cmd->set;
	enum svc_op op = cmd_tab[cmd->kind].op;
	struct detached *d = NULL;
	struct jw w;
	int i;

	if (!src->deadline || loop_now() < src->deadline)
		return;
	answer_disarm(c, cmd);
	for (i = 0; i < CFG_MAX_SVC_RUNNING && !d; i++)
		if (!c->detached[i].used)
			d = &c->detached[i];
	if (!d)
		return;          /* every slot taken: this one waits for its tool */
	d->used = 1;
	d->c = c;
	d->op = op;
	fmt_snprintf(d->unit, sizeof(d->unit), "%s", cmd->unit);
	exec_detach(cmd->child, detached_done, d);
	child_end(cmd);
	log_msg(LOG_LVL_INFO, "%s %s: still running, answered as queued", svc_op_name(op),
		cmd->unit);
	reply_begin(cmd, &w);
	svc_write_action(&w, cmd->unit, op, 1);
	reply_end(c, cmd, &w);
}

static void answer_arm(struct agent_cmds *c, struct cmd *cmd)
{
	memset(&cmd->answer_by, 0, sizeof(cmd->answer_by));
	cmd->answer_by.fd = -1;
	cmd->answer_by.ready = answer_due;
	cmd->answer_by.arg = cmd;
	cmd->answer_by.deadline = loop_now() + CFG_SVC_ORIG_ANSWER_MS;
	cmd->answer_armed = loop_add(c->l, &cmd->answer_by) == 0;
}

/* How long the tool may take: an action waits at most what the server
 * said it waits (cmd->svc_wait_ms), and never past --exec-timeout. */
static unsigned svc_timeout_ms(const struct agent_cmds *c, const struct cmd *cmd,
			       enum svc_op op)
{
	unsigned ms = c->exec_timeout_s * 1000;

	if (op <= SVC_OP_RELOAD && cmd->svc_wait_ms && cmd->svc_wait_ms < ms)
		ms = cmd->svc_wait_ms;
	return ms;
}

static void run_service(struct agent_cmds *c, struct cmd *cmd)
{
	enum svc_op op = cmd_tab[cmd->kind].op;
	const char *argv[SVC_ARGV_MAX];
	char err[SVC_UNIT_MAX + 128];

	cmd->unit[0] = '\0';
	if ((cmd->kind != CMD_LIST_SVC && payload_service(c, cmd, err, sizeof(err)) < 0) ||
	    svc_argv(&c->svc, op, cmd->unit, svc_flags(c, cmd), argv, err, sizeof(err)) < 0) {
		fail(c, cmd, err);
		return;
	}
	/* A flood of list_services must not become a flood of systemctl. */
	if (c->nsvc >= CFG_MAX_SVC_RUNNING) {
		fmt_snprintf(err, sizeof(err), "busy: %d service commands already running",
			 CFG_MAX_SVC_RUNNING);
		fail(c, cmd, err);
		return;
	}
	if (op <= SVC_OP_RELOAD)
		log_msg(LOG_LVL_INFO, "%s %s", svc_op_name(op), cmd->unit);
	if (child_start(c, cmd, (char *const *)argv, svc_timeout_ms(c, cmd, op),
			CFG_SVC_MAX_OUTPUT, svc_done, err, sizeof(err)) < 0)
		fail(c, cmd, err);
	else if (op <= SVC_OP_RELOAD && cmd->original && c->svc.backend == SVC_OPENRC)
		answer_arm(c, cmd);
}

/* obtain_user_usages and get_port: the reply, with `nest`'s text (or
 * NULL: nestd's own). */
static void nest_answer(struct agent_cmds *c, struct cmd *cmd, const char *text, size_t n)
{
	struct usage_opts uo = { c->cgroup, c->proc_root, cmd->original };
	char err[512];
	struct jw w;
	int rc;

	reply_begin(cmd, &w);
	if (cmd->kind == CMD_USAGE)
		rc = usage_write(&uo, text, n, &w, err, sizeof(err));
	else
		rc = usage_write_port(cmd->original, text, n, &w, err, sizeof(err));
	if (rc < 0)
		fail(c, cmd, err);
	else
		reply_end(c, cmd, &w);
}

static void nest_done(void *arg, struct exec_result *r)
{
	struct cmd *cmd = arg;
	struct agent_cmds *c = child_end(cmd);
	char why[256];

	if (!r->timed_out && !r->signal && r->exit_code == 0 && r->out.len) {
		nest_answer(c, cmd, r->out.p, r->out.len);
		return;
	}
	svc_tool_error("nest", r, why, sizeof(why));
	log_msg(LOG_LVL_WARN, "nest %s: %s; answering with nestd's own figures",
		cmd->kind == CMD_USAGE ? "resources" : "get_port", why);
	nest_answer(c, cmd, NULL, 0);
}

/* Hack Club Nest's own tool when it is installed, as the original did;
 * else (or when it is busy, fails or is slow) nestd's own answer. */
static void run_nest(struct agent_cmds *c, struct cmd *cmd)
{
	char *argv[3] = { "nest", cmd->kind == CMD_USAGE ? "resources" : "get_port", NULL };
	char err[256];

	if (c->nsvc < CFG_MAX_SVC_RUNNING &&
	    child_start(c, cmd, argv, CFG_NEST_TOOL_TIMEOUT_MS, CFG_NEST_MAX_OUTPUT, nest_done,
			err, sizeof(err)) == 0)
		return;
	nest_answer(c, cmd, NULL, 0);
}

static void run_signal(struct agent_cmds *c, struct cmd *cmd)
{
	char err[256], tmp[32];
	int pid, sig;
	struct jw w;

	if (proto_payload_pid(cmd->msg, &pid, err, sizeof(err)) < 0 ||
	    (cmd->kind == CMD_KILL && payload_signal(cmd->msg, &sig, err, sizeof(err)) < 0)) {
		fail(c, cmd, err);
		return;
	}
	if (cmd->kind != CMD_KILL)
		sig = cmd->kind == CMD_PAUSE ? SIGSTOP : SIGCONT;
	if (proc_signal(c->proc, pid, sig, err, sizeof(err)) < 0) {
		fail(c, cmd, err);
		return;
	}
	log_msg(LOG_LVL_INFO, "sent %s to pid %d", proc_signal_name(sig, tmp, sizeof(tmp)), pid);
	reply_begin(cmd, &w);
	jw_obj(&w);
	jw_kint(&w, "pid", pid);
	if (cmd->kind == CMD_KILL)
		jw_kstr(&w, "signal", tmp);
	jw_obj_end(&w);
	reply_end(c, cmd, &w);
}

static void run_read(struct agent_cmds *c, struct cmd *cmd)
{
	char err[256];
	struct jw w;
	int pid, rc;

	if (cmd->kind == CMD_PROC_INFO &&
	    proto_payload_pid(cmd->msg, &pid, err, sizeof(err)) < 0) {
		fail(c, cmd, err);
		return;
	}
	reply_begin(cmd, &w);
	if (cmd->kind == CMD_ALL_PROC && cmd->original)
		rc = proc_list_brief(c->proc, &w, err, sizeof(err));
	else if (cmd->kind == CMD_ALL_PROC)
		rc = proc_list(c->proc, &w, err, sizeof(err));
	else if (cmd->kind == CMD_PROC_INFO)
		rc = proc_info(c->proc, pid, &w, err, sizeof(err));
	else
		rc = sys_info(&w, err, sizeof(err));
	if (rc < 0)
		fail(c, cmd, err);
	else
		reply_end(c, cmd, &w);
}

/* ---- the interface ---- */

/* Reads the command's name, once: into cmd->name (what the reply says,
 * "response_NAME") and cmd->kind.  NULL, or why it is no command here. */
static const char *identify(struct cmd *cmd, const struct nest_msg *m, char *err,
			    size_t errlen)
{
	const char *raw;
	size_t n;
	int k;

	cmd->kind = CMD_NONE;
	if (proto_message(m, cmd->name, sizeof(cmd->name)) < 0 || !cmd->name[0]) {
		/* Still answered, in order, so the server's queue stays right. */
		fmt_snprintf(cmd->name, sizeof(cmd->name), "unknown");
		raw = proto_message_raw(m, &n);
		if (!raw)
			return "command without a message";
		/* empty, longer than any command we know, or holding a NUL */
		fmt_snprintf(err, errlen, "unknown command: %.*s", (int)(n > 64 ? 64 : n), raw);
		return err;
	}
	for (k = 0; k < CMD_COUNT; k++) {
		if (!strcmp(cmd->name, cmd_tab[k].name)) {
			cmd->kind = (enum cmd_kind)k;
			return NULL;
		}
	}
	fmt_snprintf(err, errlen, "unknown command: %s", cmd->name);
	return err;
}

void agent_cmd_run(struct agent_cmds *c, struct cmd *cmd, const struct nest_msg *m)
{
	char err[128];
	const char *why = identify(cmd, m, err, sizeof(err));

	if (!why && !(c->allowed & (1u << cmd->kind))) {
		log_msg(LOG_LVL_WARN, "refused %s: not allowed on this agent (--allow/--deny)",
			cmd->name);
		fmt_snprintf(err, sizeof(err), "command not allowed on this agent: %s", cmd->name);
		why = err;
	}
	if (why) {
		fail(c, cmd, why);
		return;
	}
	cmd->msg = m;
	cmd_tab[cmd->kind].run(c, cmd);
}

void agent_cmd_forget(struct agent_cmds *c, struct cmd *cmd)
{
	struct exec_child *child = cmd->child;

	answer_disarm(c, cmd);
	if (!child)
		return;
	child_end(cmd);
	exec_cancel(c->exec, child);
}

static void on_sigchld(int sig, void *arg)
{
	struct agent_cmds *c = arg;

	exec_mgr_reap(c->exec);
}

static const int sigchld[] = { SIGCHLD };

/* The parts of cfg that need checking, into c. */
static int cmds_config(struct agent_cmds *c, const struct agent_cfg *cfg, char *err,
		       size_t errlen)
{
	unsigned allow = ALL_CMDS, deny = 0;

	if (cfg->services < SVC_AUTO || cfg->services > SVC_NONE) {
		fmt_snprintf(err, errlen, "--services: unknown backend");
		return -1;
	}
	if (cfg->allow) {
		allow = 0;
		if (policy_parse(cfg->allow, "--allow", &allow, err, errlen) < 0)
			return -1;
	}
	if (cfg->deny && policy_parse(cfg->deny, "--deny", &deny, err, errlen) < 0)
		return -1;
	c->allowed = allow & ~deny;
	c->exec_timeout_s = cfg->exec_timeout_s ? cfg->exec_timeout_s : CFG_EXEC_TIMEOUT_S;
	c->max_output = cfg->max_output ? cfg->max_output : CFG_MAX_OUTPUT;
	c->max_exec = cfg->max_exec > 0 ? cfg->max_exec : CFG_MAX_EXEC;
	return 0;
}

struct agent_cmds *agent_cmd_init(struct loop *l, const struct agent_cfg *cfg,
				  agent_answered_fn answered, void *arg,
				  char *err, size_t errlen)
{
	struct agent_cmds *c = calloc(1, sizeof(*c));

	if (!c) {
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cmds_config(c, cfg, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->l = l;
	c->answered = answered;
	c->arg = arg;
	c->cgroup = cfg->cgroup;
	c->proc_root = cfg->proc_root;
	svc_init(&c->svc, cfg);
	c->proc = proc_new(err, errlen);
	c->exec = exec_mgr_new(l);
	if (!c->proc || !c->exec ||
	    (cfg->proc_root && proc_set_root(c->proc, cfg->proc_root, err, errlen) < 0)) {
		if (c->proc && !c->exec)
			fmt_snprintf(err, errlen, "out of memory");
		agent_cmd_free(c);
		return NULL;
	}
	/* Commands that daemonize leave orphans; as the subreaper the agent
	 * inherits and reaps them instead of leaving zombies to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (loop_signals(l, sigchld, 1, on_sigchld, c) < 0) {
		fmt_snprintf(err, errlen, "cannot watch SIGCHLD");
		agent_cmd_free(c);
		return NULL;
	}
	return c;
}

void agent_cmd_describe(const struct agent_cmds *c, struct buf *commands_json,
			const char **backend)
{
	struct jw w;
	int i;

	jw_init(&w, commands_json);
	jw_arr(&w);
	for (i = 0; i < CMD_COUNT; i++)
		if (c->allowed & (1u << i))
			jw_str(&w, cmd_tab[i].name);
	jw_arr_end(&w);
	if (backend)
		*backend = svc_backend_name(c->svc.backend);
}

void agent_cmd_free(struct agent_cmds *c)
{
	if (!c)
		return;
	loop_signals_del(c->l, sigchld, 1, on_sigchld, c);
	exec_mgr_free(c->exec);
	proc_free(c->proc);
	free(c);
}
