/* agent_t.h - helpers shared by the agent tests: run one command message
 * through a real loop until it is answered, take the reply message apart
 * as the server would, and look at our children in /proc.  static inline
 * so that a file using only some of them stays warning-free. */
#ifndef NESTD_AGENT_T_H
#define NESTD_AGENT_T_H

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_cmd.h"
#include "json.h"
#include "loop.h"
#include "proto.h"
#include "t.h"

/* The runner declares the test functions itself (test/unit.c). */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

struct t_reply {
	struct cmd cmd;     /* the record the agent would own */
	int called, ok;     /* ok: command_response; else command_response_error */
	char *payload;      /* the reply's payload, as sent */
	size_t n;
	char err[1024];     /* payload.error of an error reply */
	char msg[1024];     /* the reply's message */
	struct json j;      /* payload parsed when ok */
	int parsed;
};

/* The command set's answered(): the reply message is taken apart here,
 * the way a server reads it. */
static inline void t_answered(struct cmd *cmd, void *arg)
{
	struct t_reply *r = (struct t_reply *)((char *)cmd - offsetof(struct t_reply, cmd));
	struct nest_msg m;
	const char *p;
	char err[128];
	int t;

	r->called++;
	if (!cmd->answered || !cmd->reply.p || proto_parse(&m, cmd->reply.p, cmd->reply.len, err, sizeof(err)) < 0) {
		snprintf(r->err, sizeof(r->err), "not a reply message: %.200s", cmd->reply.p);
		return;
	}
	r->ok = m.status == NS_COMMAND_RESPONSE;
	if (m.t_message >= 0)
		json_strcpy(&m.j, m.t_message, r->msg, sizeof(r->msg));
	if (r->ok && m.t_payload >= 0) {
		p = json_raw(&m.j, m.t_payload, &r->n);
		r->payload = malloc(r->n + 1);
		memcpy(r->payload, p, r->n);
		r->payload[r->n] = '\0';
	} else if (!r->ok && (t = proto_payload_get(&m, "error")) >= 0) {
		json_strcpy(&m.j, t, r->err, sizeof(r->err));
	}
	proto_free(&m);
}

static inline void t_reply_free(struct t_reply *r)
{
	if (r->parsed)
		json_free(&r->j);
	free(r->payload);
	free(r->cmd.id);
	buf_free(&r->cmd.reply);
	memset(r, 0, sizeof(*r));
}

/* Starts msg (a whole command message) without waiting; original: as on
 * a connection in the original's reply shapes. */
static inline void t_start_as(struct agent_cmds *c, const char *msg, struct t_reply *r,
			      int original)
{
	struct nest_msg m;
	char err[128];

	memset(r, 0, sizeof(*r));
	r->cmd.original = original;
	if (proto_parse(&m, msg, strlen(msg), err, sizeof(err)) < 0) {
		fprintf(stderr, "test message does not parse: %s: %s\n", err, msg);
		r->called = -1;
		return;
	}
	agent_cmd_run(c, &r->cmd, &m);
	proto_free(&m);
}

static inline void t_start(struct agent_cmds *c, const char *msg, struct t_reply *r)
{
	t_start_as(c, msg, r, 0);
}

/* Turns the loop until r is answered (or timeout_ms), then parses it. */
static inline int t_wait(struct loop *l, struct t_reply *r, int timeout_ms)
{
	int64_t until = loop_now() + timeout_ms;
	char err[128];

	while (!r->called && loop_now() < until)
		loop_once(l, 20);
	if (r->called == 1 && r->ok && !r->parsed) {
		if (json_parse(&r->j, r->payload, r->n, err, sizeof(err)) < 0)
			fprintf(stderr, "reply is not JSON (%s): %.200s\n", err, r->payload);
		else
			r->parsed = 1;
	}
	return r->called == 1;
}

static inline int t_run_as(struct loop *l, struct agent_cmds *c, const char *msg,
			   struct t_reply *r, int timeout_ms, int original)
{
	t_start_as(c, msg, r, original);
	return t_wait(l, r, timeout_ms);
}

static inline int t_run(struct loop *l, struct agent_cmds *c, const char *msg,
			struct t_reply *r, int timeout_ms)
{
	return t_run_as(l, c, msg, r, timeout_ms, 0);
}

/* Field of the parsed reply's root object, or -1. */
static inline int t_get(struct t_reply *r, const char *key)
{
	return r->parsed ? json_get(&r->j, 0, key) : -1;
}

static inline long long t_int(struct t_reply *r, int obj, const char *key)
{
	long long v = -999;
	int t = r->parsed ? json_get(&r->j, obj, key) : -1;

	if (t < 0 || json_int(&r->j, t, &v) < 0)
		return -999;
	return v;
}

/* Unescaped string field of object obj into out ("" when absent). */
static inline const char *t_str(struct t_reply *r, int obj, const char *key,
				char *out, size_t cap)
{
	int t = r->parsed ? json_get(&r->j, obj, key) : -1;

	out[0] = '\0';
	if (t >= 0 && json_strcpy(&r->j, t, out, cap) < 0)
		out[0] = '\0';
	return out;
}

/* Our children in /proc (all states, or only those in state st). */
static inline int t_children(char st)
{
	char path[300], b[512], *p;
	struct dirent *d;
	int n = 0, ppid;
	char state;
	FILE *f;
	DIR *dir = opendir("/proc");

	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(b, sizeof(b), f) && (p = strrchr(b, ')')) &&
		    sscanf(p + 2, "%c %d", &state, &ppid) == 2 && ppid == getpid() &&
		    (!st || state == st))
			n++;
		fclose(f);
	}
	if (dir)
		closedir(dir);
	return n;
}

/* State letter of pid from /proc, or 0. */
static inline char t_state(int pid)
{
	char path[64], b[512], *p;
	char st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fgets(b, sizeof(b), f) && (p = strrchr(b, ')')))
		st = p[2];
	fclose(f);
	return st;
}

/* Runs the loop for ms milliseconds (lets SIGCHLD reach the reaper). */
static inline void t_spin(struct loop *l, int ms)
{
	int64_t until = loop_now() + ms;

	while (loop_now() < until)
		loop_once(l, 10);
}

#endif
