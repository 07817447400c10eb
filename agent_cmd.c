/* agent_cmd.c - the agent's command set behind agent_cmd.h: dispatch by
 * command name, the --allow/--deny policy and payload validation.
 *
 * Reading commands (processes, system) answer before agent_cmd_run
 * returns.  exec_command and the service commands run a child through
 * agent_exec and answer from the loop when it is done; their job records
 * live here so that agent_cmd_forget can drop them when the connection
 * that asked is gone. */
#include "agent_cmd.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "agent_exec.h"
#include "agent_proc.h"
#include "agent_svc.h"
#include "agent_sys.h"
#include "config.h"
#include "log.h"

/* Room left for the envelope agent.c wraps around a payload. */
#define REPLY_MAX (CFG_MAX_AGENT_MESSAGE - 4096)

enum cmd_id {
	C_ALL_PROC, C_PROC_INFO, C_LIST_SVC, C_SVC_INFO, C_SYS_INFO,
	C_KILL, C_PAUSE, C_RESUME,
	C_START_SVC, C_STOP_SVC, C_RESTART_SVC, C_RELOAD_SVC,
	C_EXEC, C_COUNT
};

enum { G_READ = 1, G_PROCESS = 2, G_SERVICE = 4, G_EXEC = 8 };

static const struct {
	const char *name;
	unsigned group;
} cmd_tab[C_COUNT] = {
	[C_ALL_PROC] = { "obtain_all_process_info", G_READ },
	[C_PROC_INFO] = { "obtain_process_info", G_READ },
	[C_LIST_SVC] = { "list_services", G_READ },
	[C_SVC_INFO] = { "obtain_service_info", G_READ },
	[C_SYS_INFO] = { "obtain_system_info", G_READ },
	[C_KILL] = { "kill_process", G_PROCESS },
	[C_PAUSE] = { "pause_process", G_PROCESS },
	[C_RESUME] = { "resume_process", G_PROCESS },
	[C_START_SVC] = { "start_service", G_SERVICE },
	[C_STOP_SVC] = { "stop_service", G_SERVICE },
	[C_RESTART_SVC] = { "restart_service", G_SERVICE },
	[C_RELOAD_SVC] = { "reload_service", G_SERVICE },
	[C_EXEC] = { "exec_command", G_EXEC },
};

static const struct {
	const char *name;
	unsigned groups;
} group_tab[] = {
	{ "read", G_READ }, { "process", G_PROCESS }, { "service", G_SERVICE },
	{ "exec", G_EXEC }, { "all", G_READ | G_PROCESS | G_SERVICE | G_EXEC },
};

#define ALL_CMDS ((1u << C_COUNT) - 1)

/* A command waiting for a child. */
struct cmd_job {
	struct agent_cmds *c;
	struct cmd_job *next;
	void *job;
	agent_done_fn done;
	enum cmd_id id;
	enum svc_op op;
	struct exec_child *child;
	char unit[SVC_UNIT_MAX];
};

struct agent_cmds {
	struct loop *l;
	unsigned allowed;            /* bit per enum cmd_id */
	unsigned exec_timeout_s;
	size_t max_output;
	int max_exec;
	char *paths[3];              /* owned copies of cfg's tool paths */
	struct svc svc;
	struct proc_ctx *proc;
	struct exec_mgr *exec;
	struct cmd_job *jobs;
};

/* ---- policy ---- */

/* Adds the commands a comma list names to *mask; -1 with err on an
 * unknown name. */
static int policy_parse(const char *list, const char *flag, unsigned *mask,
			char *err, size_t errlen)
{
	const char *p = list, *e;
	size_t n, i;
	unsigned g;

	for (;; p = e + 1) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(e - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			g = 0;
			for (i = 0; i < sizeof(group_tab) / sizeof(group_tab[0]); i++)
				if (strlen(group_tab[i].name) == n && !memcmp(group_tab[i].name, p, n))
					g = group_tab[i].groups;
			for (i = 0; i < C_COUNT; i++)
				if ((g & cmd_tab[i].group) ||
				    (strlen(cmd_tab[i].name) == n && !memcmp(cmd_tab[i].name, p, n)))
					*mask |= 1u << i;
			if (!g) {
				for (i = 0; i < C_COUNT; i++)
					if (strlen(cmd_tab[i].name) == n &&
					    !memcmp(cmd_tab[i].name, p, n))
						break;
				if (i == C_COUNT) {
					snprintf(err, errlen, "%s: unknown command or group '%.*s' "
						 "(groups: read, process, service, exec, all)",
						 flag, (int)(n > 64 ? 64 : n), p);
					return -1;
				}
			}
		}
		if (!*e)
			return 0;
	}
}

/* ---- replies ---- */

static void reply_sync(struct jw *w, struct buf *b, int rc, const char *err,
		       void *job, agent_done_fn done)
{
	if (rc == 0 && jw_error(w)) {
		rc = -1;
		err = "reply too large";
	}
	if (rc == 0)
		done(job, 1, b->p, b->len, NULL);
	else
		done(job, 0, NULL, 0, err);
}

static struct cmd_job *job_new(struct agent_cmds *c, enum cmd_id id, void *job,
			       agent_done_fn done)
{
	struct cmd_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->c = c;
	j->id = id;
	j->job = job;
	j->done = done;
	j->next = c->jobs;
	c->jobs = j;
	return j;
}

static void job_unlink(struct cmd_job *j)
{
	struct cmd_job **pp;

	for (pp = &j->c->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

/* Jobs in flight: exec_command ones (exec = 1) or service tools. */
static int job_count(const struct agent_cmds *c, int exec)
{
	const struct cmd_job *j;
	int n = 0;

	for (j = c->jobs; j; j = j->next)
		n += (j->id == C_EXEC) == exec;
	return n;
}

/* ---- payload fields ---- */

static int payload_pid(const struct nest_msg *m, int *pid, char *err, size_t errlen)
{
	long long v;
	int t = proto_payload_get(m, "pid");

	if (t < 0 || json_int(&m->j, t, &v) < 0 || v < 1 || v > INT_MAX) {
		snprintf(err, errlen, "payload.pid must be a positive integer");
		return -1;
	}
	*pid = (int)v;
	return 0;
}

static int payload_signal(const struct nest_msg *m, int *sig, char *err, size_t errlen)
{
	char name[32];
	long long v;
	int t = proto_payload_get(m, "method");

	*sig = SIGTERM;
	if (t < 0 || json_type(&m->j, t) == JSON_NULL)
		return 0;
	if (json_type(&m->j, t) == JSON_STRING &&
	    json_strcpy(&m->j, t, name, sizeof(name)) == 0 &&
	    (*sig = proc_signal_parse(name)) > 0)
		return 0;
	if (json_int(&m->j, t, &v) == 0 && v >= 1 && v <= SIGRTMAX) {
		*sig = (int)v;
		return 0;
	}
	snprintf(err, errlen, "payload.method must be a signal name (SIGTERM, SIGKILL, ...) "
		 "or number");
	return -1;
}

static int payload_service(struct agent_cmds *c, const struct nest_msg *m, char *unit,
			   char *err, size_t errlen)
{
	char name[CFG_SERVICE_NAME_MAX + 1];
	int t = proto_payload_get(m, "service_name");

	if (t < 0 || json_type(&m->j, t) != JSON_STRING) {
		snprintf(err, errlen, "payload.service_name must be a string");
		return -1;
	}
	if (json_strcpy(&m->j, t, name, sizeof(name)) < 0) {
		snprintf(err, errlen, "invalid service name: must be 1 to %d bytes",
			 CFG_SERVICE_NAME_MAX);
		return -1;
	}
	if (svc_name_check(name, strlen(name), err, errlen) < 0)
		return -1;
	svc_unit(&c->svc, name, unit, SVC_UNIT_MAX);
	return 0;
}

/* ---- children ---- */

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

static void exec_write(struct jw *w, const struct exec_result *r, const char *out, size_t outn,
		       const char *err, size_t errn, int truncated)
{
	char tmp[32];

	jw_obj(w);
	jw_key(w, "exit_code");
	if (r->signal)
		jw_null(w);
	else
		jw_int(w, r->exit_code);
	jw_key(w, "signal");
	if (r->signal)
		jw_str(w, proc_signal_name(r->signal, tmp, sizeof(tmp)));
	else
		jw_null(w);
	jw_key(w, "stdout");
	jw_strn(w, out, outn);
	jw_key(w, "stderr");
	jw_strn(w, err, errn);
	jw_kbool(w, "timed_out", r->timed_out);
	jw_kbool(w, "truncated", truncated);
	jw_key(w, "total_bytes");
	jw_obj(w);
	jw_key(w, "stdout");
	jw_uint(w, r->total_out);
	jw_key(w, "stderr");
	jw_uint(w, r->total_err);
	jw_obj_end(w);
	jw_kint(w, "duration_ms", r->duration_ms);
	jw_obj_end(w);
}

static void exec_reply(void *arg, struct exec_result *r)
{
	struct cmd_job *j = arg;
	struct buf b, o, e;
	struct jw w;
	size_t keep;

	job_unlink(j);
	buf_init(&b, REPLY_MAX);
	jw_init(&w, &b);
	exec_write(&w, r, r->out.p, r->out.len, r->err.p, r->err.len, r->truncated);
	/* Escaping can grow output sixfold (control bytes become \u00XX): when
	 * the reply would pass the message limit, keep less of each stream's
	 * head and tail rather than lose it all. */
	buf_init(&o, 0);
	buf_init(&e, 0);
	keep = (r->out.len > r->err.len ? r->out.len : r->err.len) / 2;
	while (jw_error(&w) && keep >= 1024) {
		keep_ends(&o, r->out.p, r->out.len, keep);
		keep_ends(&e, r->err.p, r->err.len, keep);
		buf_reset(&b);
		jw_init(&w, &b);
		exec_write(&w, r, o.p ? o.p : "", o.len, e.p ? e.p : "", e.len, 1);
		keep /= 2;
	}
	buf_free(&o);
	buf_free(&e);
	reply_sync(&w, &b, 0, NULL, j->job, j->done);
	buf_free(&b);
	free(j);
}

static void svc_done(void *arg, struct exec_result *r)
{
	struct cmd_job *j = arg;
	char err[1024];
	struct buf b;
	struct jw w;
	int rc;

	job_unlink(j);
	buf_init(&b, REPLY_MAX);
	jw_init(&w, &b);
	rc = svc_reply(&j->c->svc, j->op, j->unit, r, &w, err, sizeof(err));
	if (rc < 0 && j->op <= SVC_OP_RELOAD)
		log_msg(LOG_LVL_WARN, "%s %s failed: %s", svc_op_name(j->op), j->unit, err);
	reply_sync(&w, &b, rc, err, j->job, j->done);
	buf_free(&b);
	free(j);
}

static void run_exec(struct agent_cmds *c, const struct nest_msg *m, void *job,
		     agent_done_fn done)
{
	char err[256];
	char *argv[4];
	struct cmd_job *j;
	struct buf cmd;
	double tmo = c->exec_timeout_s;
	int t, n;

	buf_init(&cmd, CFG_EXEC_COMMAND_MAX + 1);
	t = proto_payload_get(m, "command");
	if (t < 0 || json_type(&m->j, t) != JSON_STRING) {
		done(job, 0, NULL, 0, "payload.command must be a string");
		return;
	}
	if (json_str(&m->j, t, &cmd) < 0 || cmd.len > CFG_EXEC_COMMAND_MAX) {
		snprintf(err, sizeof(err), "payload.command must be at most %u bytes",
			 CFG_EXEC_COMMAND_MAX);
		done(job, 0, NULL, 0, err);
		buf_free(&cmd);
		return;
	}
	if (!cmd.len || strlen(cmd.p) != cmd.len) {
		done(job, 0, NULL, 0, cmd.len ? "payload.command must not contain NUL characters"
					      : "payload.command must not be empty");
		buf_free(&cmd);
		return;
	}
	t = proto_payload_get(m, "timeout");
	if (t >= 0 && json_type(&m->j, t) != JSON_NULL) {
		if (json_num(&m->j, t, &tmo) < 0 || !isfinite(tmo) || tmo <= 0) {
			done(job, 0, NULL, 0, "payload.timeout must be a positive number of seconds");
			buf_free(&cmd);
			return;
		}
		if (tmo > c->exec_timeout_s)
			tmo = c->exec_timeout_s;
	}
	n = job_count(c, 1);
	if (n >= c->max_exec) {
		snprintf(err, sizeof(err), "busy: %d commands already running", n);
		done(job, 0, NULL, 0, err);
		buf_free(&cmd);
		return;
	}
	j = job_new(c, C_EXEC, job, done);
	if (!j) {
		done(job, 0, NULL, 0, "out of memory");
		buf_free(&cmd);
		return;
	}
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = cmd.p;
	argv[3] = NULL;
	/* at least 1 ms: 0 would mean no deadline at all */
	j->child = exec_start(c->exec, argv, tmo * 1000 < 1 ? 1 : (unsigned)(tmo * 1000 + 0.5),
			      c->max_output, exec_reply, j, err, sizeof(err));
	buf_free(&cmd);
	if (!j->child) {
		job_unlink(j);
		free(j);
		done(job, 0, NULL, 0, err);
	}
}

static void run_service(struct agent_cmds *c, enum cmd_id id, const struct nest_msg *m,
			void *job, agent_done_fn done)
{
	static const enum svc_op ops[C_COUNT] = {
		[C_LIST_SVC] = SVC_OP_LIST, [C_SVC_INFO] = SVC_OP_INFO,
		[C_START_SVC] = SVC_OP_START, [C_STOP_SVC] = SVC_OP_STOP,
		[C_RESTART_SVC] = SVC_OP_RESTART, [C_RELOAD_SVC] = SVC_OP_RELOAD,
	};
	const char *argv[SVC_ARGV_MAX];
	char unit[SVC_UNIT_MAX] = "", err[256];
	struct cmd_job *j;

	if (id != C_LIST_SVC && payload_service(c, m, unit, err, sizeof(err)) < 0) {
		done(job, 0, NULL, 0, err);
		return;
	}
	if (svc_argv(&c->svc, ops[id], unit, argv, err, sizeof(err)) < 0) {
		done(job, 0, NULL, 0, err);
		return;
	}
	/* A flood of list_services must not become a flood of systemctl. */
	if (job_count(c, 0) >= CFG_MAX_SVC_RUNNING) {
		snprintf(err, sizeof(err), "busy: %d service commands already running",
			 CFG_MAX_SVC_RUNNING);
		done(job, 0, NULL, 0, err);
		return;
	}
	j = job_new(c, id, job, done);
	if (!j) {
		done(job, 0, NULL, 0, "out of memory");
		return;
	}
	j->op = ops[id];
	memcpy(j->unit, unit, sizeof(unit));
	if (ops[id] <= SVC_OP_RELOAD)
		log_msg(LOG_LVL_INFO, "%s %s", svc_op_name(ops[id]), unit);
	j->child = exec_start(c->exec, (char *const *)argv, c->exec_timeout_s * 1000,
			      CFG_SVC_MAX_OUTPUT, svc_done, j, err, sizeof(err));
	if (!j->child) {
		job_unlink(j);
		free(j);
		done(job, 0, NULL, 0, err);
	}
}

static void run_signal(struct agent_cmds *c, enum cmd_id id, const struct nest_msg *m,
		       void *job, agent_done_fn done)
{
	char err[256], tmp[32];
	int pid, sig;
	struct buf b;
	struct jw w;

	if (payload_pid(m, &pid, err, sizeof(err)) < 0 ||
	    (id == C_KILL && payload_signal(m, &sig, err, sizeof(err)) < 0)) {
		done(job, 0, NULL, 0, err);
		return;
	}
	if (id != C_KILL)
		sig = id == C_PAUSE ? SIGSTOP : SIGCONT;
	if (proc_signal(c->proc, pid, sig, err, sizeof(err)) < 0) {
		done(job, 0, NULL, 0, err);
		return;
	}
	log_msg(LOG_LVL_INFO, "sent %s to pid %d", proc_signal_name(sig, tmp, sizeof(tmp)), pid);
	buf_init(&b, 256);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kint(&w, "pid", pid);
	if (id == C_KILL)
		jw_kstr(&w, "signal", tmp);
	jw_obj_end(&w);
	reply_sync(&w, &b, 0, NULL, job, done);
	buf_free(&b);
}

static void run_read(struct agent_cmds *c, enum cmd_id id, const struct nest_msg *m,
		     void *job, agent_done_fn done)
{
	char err[256];
	struct buf b;
	struct jw w;
	int pid, rc;

	if (id == C_PROC_INFO && payload_pid(m, &pid, err, sizeof(err)) < 0) {
		done(job, 0, NULL, 0, err);
		return;
	}
	buf_init(&b, REPLY_MAX);
	jw_init(&w, &b);
	if (id == C_ALL_PROC)
		rc = proc_list(c->proc, &w, err, sizeof(err));
	else if (id == C_PROC_INFO)
		rc = proc_info(c->proc, pid, &w, err, sizeof(err));
	else
		rc = sys_info(&w, err, sizeof(err));
	reply_sync(&w, &b, rc, err, job, done);
	buf_free(&b);
}

/* ---- the interface ---- */

void agent_cmd_run(struct agent_cmds *c, const struct nest_msg *m, void *job,
		   agent_done_fn done)
{
	char name[64], err[128];
	int id;

	if (m->t_message < 0) {
		done(job, 0, NULL, 0, "missing command name (message)");
		return;
	}
	if (json_strcpy(&m->j, m->t_message, name, sizeof(name)) < 0) {
		/* longer than any command we know (or holding a NUL) */
		size_t n = 0;
		const char *raw = json_raw(&m->j, m->t_message, &n);

		snprintf(err, sizeof(err), "unknown command: %.*s", (int)(n > 64 ? 64 : n), raw);
		done(job, 0, NULL, 0, err);
		return;
	}
	for (id = 0; id < C_COUNT; id++)
		if (!strcmp(name, cmd_tab[id].name))
			break;
	if (id == C_COUNT) {
		snprintf(err, sizeof(err), "unknown command: %s", name);
		done(job, 0, NULL, 0, err);
		return;
	}
	if (!(c->allowed & (1u << id))) {
		log_msg(LOG_LVL_WARN, "refused %s: not allowed on this agent (--allow/--deny)", name);
		snprintf(err, sizeof(err), "command not allowed on this agent: %s", name);
		done(job, 0, NULL, 0, err);
		return;
	}
	switch (id) {
	case C_ALL_PROC:
	case C_PROC_INFO:
	case C_SYS_INFO:
		run_read(c, (enum cmd_id)id, m, job, done);
		break;
	case C_KILL:
	case C_PAUSE:
	case C_RESUME:
		run_signal(c, (enum cmd_id)id, m, job, done);
		break;
	case C_EXEC:
		run_exec(c, m, job, done);
		break;
	default:
		run_service(c, (enum cmd_id)id, m, job, done);
		break;
	}
}

void agent_cmd_sigchld(struct agent_cmds *c)
{
	exec_mgr_reap(c->exec);
}

/* The loop cannot forget a signal callback, so it reaches the live
 * instance through this pointer, cleared by agent_cmd_free. */
static struct agent_cmds *sig_owner;

static void on_signal(int sig, void *arg)
{
	(void)arg;
	if (sig == SIGCHLD && sig_owner)
		agent_cmd_sigchld(sig_owner);
}

struct agent_cmds *agent_cmd_init(struct loop *l, const struct agent_cfg *cfg,
				  char *err, size_t errlen)
{
	static const int sigs[] = { SIGCHLD };
	struct agent_cmds *c;
	struct agent_cfg tmp;
	unsigned allow = ALL_CMDS, deny = 0;

	if (cfg->services < SVC_AUTO || cfg->services > SVC_NONE) {
		snprintf(err, errlen, "--services: unknown backend");
		return NULL;
	}
	if (cfg->allow) {
		allow = 0;
		if (policy_parse(cfg->allow, "--allow", &allow, err, errlen) < 0)
			return NULL;
	}
	if (cfg->deny && policy_parse(cfg->deny, "--deny", &deny, err, errlen) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->l = l;
	c->allowed = allow & ~deny;
	c->exec_timeout_s = cfg->exec_timeout_s ? cfg->exec_timeout_s : CFG_EXEC_TIMEOUT_S;
	c->max_output = cfg->max_output ? cfg->max_output : CFG_MAX_OUTPUT;
	c->max_exec = cfg->max_exec > 0 ? cfg->max_exec : CFG_MAX_EXEC;
	tmp = *cfg;
	tmp.systemctl = cfg->systemctl ? (c->paths[0] = strdup(cfg->systemctl)) : NULL;
	tmp.rc_service = cfg->rc_service ? (c->paths[1] = strdup(cfg->rc_service)) : NULL;
	tmp.rc_status = cfg->rc_status ? (c->paths[2] = strdup(cfg->rc_status)) : NULL;
	svc_init(&c->svc, &tmp);
	c->proc = proc_new(err, errlen);
	c->exec = exec_mgr_new(l);
	if (!c->proc || !c->exec) {
		if (c->proc)
			snprintf(err, errlen, "out of memory");
		agent_cmd_free(c);
		return NULL;
	}
	/* Commands that daemonize leave orphans; as the subreaper the agent
	 * inherits and reaps them instead of leaving zombies to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sig_owner = c;
	if (loop_signals(l, sigs, 1, on_signal, NULL) < 0) {
		snprintf(err, errlen, "cannot watch SIGCHLD");
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
	for (i = 0; i < C_COUNT; i++)
		if (c->allowed & (1u << i))
			jw_str(&w, cmd_tab[i].name);
	jw_arr_end(&w);
	if (backend)
		*backend = svc_backend_name(c->svc.backend);
}

void agent_cmd_forget(struct agent_cmds *c, void *job)
{
	struct cmd_job **pp = &c->jobs, *j;

	while ((j = *pp)) {
		if (j->job != job) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		if (j->child)
			exec_cancel(c->exec, j->child);
		free(j);
	}
}

void agent_cmd_free(struct agent_cmds *c)
{
	struct cmd_job *j;
	int i;

	if (!c)
		return;
	if (sig_owner == c)
		sig_owner = NULL;
	exec_mgr_free(c->exec);
	while ((j = c->jobs)) {
		c->jobs = j->next;
		free(j);
	}
	proc_free(c->proc);
	for (i = 0; i < 3; i++)
		free(c->paths[i]);
	free(c);
}
