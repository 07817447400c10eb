/* server_metrics.c - counters by command and result, a histogram of reply
 * times, and their Prometheus text (see server_metrics.h). */
#include "server_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

#define NBUCKETS 16
static const double bucket_le[NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120,
};

/* A bucket's bound as %g spells it ("0.0005", "2.5", "120"): fixed with
 * four decimals, the trailing zeros and point dropped (fmt.c has no %g;
 * every bound above is >= 0.0001 and has at most four decimals). */
static const char *le_text(double v, char *out, size_t n)
{
	size_t k = (size_t)fmt_snprintf(out, n, "%.4f", v);

	while (k > 1 && out[k - 1] == '0')
		out[--k] = '\0';
	if (k > 1 && out[k - 1] == '.')
		out[--k] = '\0';
	return out;
}

static const char *const result_name[METRICS_NRESULTS] = { "ok", "error", "timeout", "agent_gone" };

#define MAX_CMD_NAMES 64

struct metrics {
	struct {
		char name[40];
		unsigned long long n[METRICS_NRESULTS];
	} cmds[MAX_CMD_NAMES + 1];        /* the last one: "other" */
	int ncmds;
	unsigned long long hist[NBUCKETS + 1];
	double hist_sum;
	unsigned long long hist_count;
	unsigned long long http_requests;
};

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
	free(m);
}

void metrics_http_request(struct metrics *m)
{
	m->http_requests++;
}

void metrics_command(struct metrics *m, const char *cmd, enum metrics_result r, double secs)
{
	int i, b;

	for (i = 0; i < m->ncmds; i++)
		if (strcmp(m->cmds[i].name, cmd) == 0)
			break;
	if (i == m->ncmds) {
		if (m->ncmds < MAX_CMD_NAMES) {
			fmt_copy(m->cmds[i].name, sizeof(m->cmds[i].name), cmd);
			m->ncmds++;
		} else {
			i = MAX_CMD_NAMES;
			fmt_snprintf(m->cmds[i].name, sizeof(m->cmds[i].name), "other");
		}
	}
	m->cmds[i].n[r]++;
	if (r != METRICS_OK && r != METRICS_ERROR)
		return;
	for (b = 0; b < NBUCKETS && secs > bucket_le[b]; b++)
		;
	m->hist[b]++;
	m->hist_sum += secs;
	m->hist_count++;
}

/* A metric's "# HELP" and "# TYPE" lines, its name written once here. */
static int head(struct buf *b, const char *name, const char *type, const char *help)
{
	return buf_printf(b, "# HELP nestd_%s %s\n# TYPE nestd_%s %s\n", name, help, name, type);
}

/* A metric of one sample: its head and its value. */
static int one(struct buf *b, const char *name, const char *type, const char *help,
	       unsigned long long v)
{
	return head(b, name, type, help) | buf_printf(b, "nestd_%s %llu\n", name, v);
}

static int gauges_text(const struct metrics *m, const struct metrics_gauges *g, struct buf *b)
{
	return one(b, "agents_connected", "gauge", "Agents currently connected and authenticated.",
		   (unsigned long long)g->agents) |
	       one(b, "connections", "gauge", "Open connections of every kind.",
		   (unsigned long long)g->connections) |
	       one(b, "auth_failures_total", "counter", "Failed authentications (agents and operators).",
		   g->auth_failures) |
	       one(b, "tls_resumed_total", "counter", "TLS handshakes that resumed a cached session.",
		   g->tls_resumed) |
	       one(b, "tls_resume_misses_total", "counter",
		   "TLS handshakes that offered a session the cache did not hold.", g->tls_unknown) |
	       one(b, "http_requests_total", "counter", "HTTP requests served.", m->http_requests);
}

int metrics_text(const struct metrics *m, const struct metrics_gauges *g, struct buf *b)
{
	unsigned long long cum = 0;
	char le[32];
	int i, r, rc = gauges_text(m, g, b);

	rc |= head(b, "commands_total", "counter", "Commands routed to agents, by command and result.");
	for (i = 0; i <= MAX_CMD_NAMES; i++) {
		if (!m->cmds[i].name[0])
			continue;
		for (r = 0; r < METRICS_NRESULTS; r++)
			rc |= buf_printf(b, "nestd_commands_total{command=\"%s\",result=\"%s\"} %llu\n",
					 m->cmds[i].name, result_name[r], m->cmds[i].n[r]);
	}
	rc |= head(b, "command_duration_seconds", "histogram",
		   "Time from an operator's request to its agent's reply.");
	for (i = 0; i < NBUCKETS; i++) {
		cum += m->hist[i];
		rc |= buf_printf(b, "nestd_command_duration_seconds_bucket{le=\"%s\"} %llu\n",
				 le_text(bucket_le[i], le, sizeof(le)), cum);
	}
	cum += m->hist[NBUCKETS];
	rc |= buf_printf(b, "nestd_command_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	rc |= buf_printf(b, "nestd_command_duration_seconds_sum %.6f\nnestd_command_duration_seconds_count %llu\n",
			 m->hist_sum, m->hist_count);
	return rc < 0 ? -1 : 0;
}
