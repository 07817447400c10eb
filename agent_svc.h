/* agent_svc.h - service backends: systemd (systemctl), the user's own
 * systemd instance (systemctl --user, what the reference bot managed),
 * OpenRC (rc-service, rc-status) and none.
 *
 * Pure text in, text out: this module builds the argv a backend's tool
 * needs and turns the tool's output into a reply; agent_cmd.c runs the
 * tool through agent_exec.  Names are checked here and always travel as
 * one argv element, never through a shell. */
#ifndef NESTD_AGENT_SVC_H
#define NESTD_AGENT_SVC_H

#include <stddef.h>
#include "agent_cfg.h"
#include "agent_exec.h"
#include "config.h"
#include "json.h"

#define SVC_ARGV_MAX 16
#define SVC_UNIT_MAX (CFG_SERVICE_NAME_MAX + sizeof(".service"))

enum svc_op { SVC_OP_START, SVC_OP_STOP, SVC_OP_RESTART, SVC_OP_RELOAD,
	      SVC_OP_LIST, SVC_OP_INFO };

struct svc {
	enum svc_backend backend;
	const char *systemctl, *rc_service, *rc_status;
	/* OpenRC's scripts and its state (RC_SVCDIR); NULL: the defaults */
	const char *rc_initd, *rc_svcdir;
};

/* How a command is run and answered (docs/PROTOCOL.md, "Two reply
 * shapes"), or'ed. */
#define SVC_ORIGINAL 1u      /* the original's shapes: bare names in the list;
			      * "" and 0 for what is not there, and the uptime
			      * SVC_ORIG_NO_UPTIME */
#define SVC_NO_BLOCK 2u      /* actions: queued (systemctl --no-block), not waited for */
#define SVC_ORIG_NO_UPTIME "Unable to calculate :("

/* Picks the backend (SVC_AUTO resolved by looking at the machine). */
void svc_init(struct svc *s, const struct agent_cfg *cfg);
const char *svc_backend_name(enum svc_backend b);
const char *svc_op_name(enum svc_op op);   /* "start", ..., "list", "show" */

/* letters, digits, ":_.@-\", no leading '-', 1..CFG_SERVICE_NAME_MAX
 * bytes.  0, or -1 with err. */
int svc_name_check(const char *name, size_t len, char *err, size_t errlen);
/* The name as the backend wants it: systemd gets ".service" appended when
 * the name has no unit suffix. */
void svc_unit(const struct svc *s, const char *name, char *out, size_t cap);
/* argv for op into argv[SVC_ARGV_MAX] (NULL-terminated); 0, or -1 with err
 * (the none backend). */
int svc_argv(const struct svc *s, enum svc_op op, const char *unit, unsigned flags,
	     const char **argv, char *err, size_t errlen);
/* The tool finished: the reply payload into w, or -1 with err (the tool's
 * own message when it failed). */
int svc_reply(const struct svc *s, enum svc_op op, const char *unit, unsigned flags,
	      const struct exec_result *r, struct jw *w, char *err, size_t errlen);
/* Why a tool failed: its own words (stderr, else stdout), else its fate
 * ("TOOL timed out", "... exit status N"). */
void svc_tool_error(const char *tool, const struct exec_result *r, char *err, size_t errlen);
/* An action's success payload: {"service_name","action","result"}, the
 * result "queued" or "done". */
void svc_write_action(struct jw *w, const char *unit, enum svc_op op, int queued);

/* Parsers, exposed for the tests.  svc_parse_units takes list-units'
 * JSON (-o json) or its table, with or without the header;
 * svc_parse_unit_names gives the original's bare names. */
int  svc_parse_units(const char *text, size_t n, struct jw *w);
int  svc_parse_unit_names(const char *text, size_t n, struct jw *w);
/* flags: SVC_ORIGINAL or 0. */
int  svc_parse_show(const char *text, size_t n, const char *unit, unsigned flags,
		    long long now_real_us, long long now_mono_us, struct jw *w, char *err,
		    size_t errlen);
/* initd: where the scripts are, for the descriptions (NULL: none);
 * brief: bare names. */
int  svc_parse_rc_list(const char *text, size_t n, const char *initd, int brief,
		       struct jw *w);
/* The value of an openrc-run script's description= line into out; its
 * length, or -1 when there is none. */
int  svc_rc_description(const char *script, size_t n, char *out, size_t cap);
/* systemd's relative form: "2h ago", "1 day 3h ago", "5min 2s ago"... */
void svc_format_ago(char *out, size_t n, long long usec);

#endif
