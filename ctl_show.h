/* ctl_show.h - how `nestd ctl` shows the server's answers: tables and
 * "key: value" lines for people, the reply object as it came for --json,
 * and the reason of a refusal on stderr.  Every string an agent (or the
 * server) supplies reaches the terminal through ctl_text_put, so none
 * can move the cursor, retitle the window or hide what is printed. */
#ifndef NESTD_CTL_SHOW_H
#define NESTD_CTL_SHOW_H

#include <stddef.h>

#include "buf.h"
#include "ctl_text.h"
#include "json.h"

/* Shows one reply's payload (token p of j; -1: none) and returns the exit
 * status.  as_json: the reply was printed already (ctl_show_raw); only the
 * exit status is left to decide. */
typedef int (*ctl_show_fn)(const struct json *j, int p, int as_json);

int ctl_show_clients(const struct json *j, int p, int as_json);  /* GET /api/clients */
int ctl_show_audit(const struct json *j, int p, int as_json);    /* GET /api/audit */
int ctl_show_ps(const struct json *j, int p, int as_json);
int ctl_show_services(const struct json *j, int p, int as_json);
int ctl_show_kv(const struct json *j, int p, int as_json);
/* kill, pause, resume, service actions: one sentence ("sent SIGTERM to 812"). */
int ctl_show_action(const struct json *j, int p, int as_json);
/* ps --sort KEY (pid, ppid, cpu, rss, mem, start, user, name, state; a
 * leading - turns it round): 0, or -1 for a key that names no column. */
int ctl_show_sort_key(const char *key);
/* exec_command: stdout and stderr apart; the command's exit status, 124
 * for a timeout, 128+9 for a signal. */
int ctl_show_exec(const struct json *j, int p, int as_json);

/* The body as it came, with a final newline. */
void ctl_show_raw(const struct buf *body);
/* "nestd ctl: PREFIX<why>" from the server's {"error":...} or the agent's
 * payload.error. */
void ctl_show_error(const char *prefix, const char *body, size_t n);

#endif
