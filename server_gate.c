/* server_gate.c - failed authentications: charged, then logged or
 * summarised (see server_gate.h).  The summaries have one timer, a
 * descriptor-less source of the loop armed at the earliest one due, so a
 * source that stops failing still gets its last line. */
#include "server_gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "log.h"
#include "loop.h"
#include "server_audit.h"

struct gate {
	struct loop *loop;
	struct admit *admit;
	struct audit_log *audit;
	struct loop_src timer;
	int armed;
};

static void arm(struct gate *g)
{
	int64_t due = admit_summary_due(g->admit);

	if (!due) {
		if (g->armed)
			loop_del(g->loop, &g->timer);
		g->armed = 0;
		return;
	}
	g->timer.deadline = due;
	if (!g->armed)
		g->armed = loop_add(g->loop, &g->timer) == 0;
	else
		loop_touch(g->loop, &g->timer);
}

static void summaries(struct loop_src *src, short revents)
{
	struct gate *g = src->arg;
	struct admit_summary sum;

	while (admit_summary_next(g->admit, loop_now(), &sum)) {
		log_warn("%u more failed authentications from %s in the last %d s (over its budget:"
			 " answered slowly, not logged one by one)", sum.count, sum.source, sum.seconds);
		audit_auth_summary(g->audit, sum.source, sum.count, sum.seconds);
	}
	arm(g);
}

struct gate *gate_new(struct loop *l, struct admit *a, struct audit_log *audit)
{
	struct gate *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->loop = l;
	g->admit = a;
	g->audit = audit;
	g->timer.fd = -1;
	g->timer.ready = summaries;
	g->timer.arg = g;
	g->timer.flags = LOOP_TOUCH;
	return g;
}

void gate_free(struct gate *g)
{
	if (!g)
		return;
	if (g->armed)
		loop_del(g->loop, &g->timer);
	free(g);
}

void gate_failed(struct gate *g, const char *kind, const char *peer, const char *source,
		 const char *why, const char *detail, struct admit_verdict *v)
{
	char own[ADMIT_SOURCE_MAX], via[ADMIT_SOURCE_MAX + 16] = "";
	int forwarded;

	admit_failed(g->admit, source, loop_now(), v);
	if (!v->log) {
		arm(g);
		return;
	}
	admit_source(peer, own);
	forwarded = strcmp(own, source) != 0;
	if (forwarded)
		fmt_snprintf(via, sizeof(via), " (for %s)", source);
	log_warn("%sauthentication failed from %s%s: %s%s%s%s%s%s", strcmp(kind, "agent") ? "operator " : "",
		 peer, via, why, detail ? ": " : "", detail ? detail : "",
		 v->spent ? "; the budget of " : "", v->spent ? source : "",
		 v->spent ? " is spent: its next failures are answered slowly and summarised" : "");
	audit_auth_failure(g->audit, kind, peer, forwarded ? source : NULL, why);
}
