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
			fmt_snprintf(m->cmds[i].name, sizeof(m->cmds[i].name), "%s", cmd);
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

static int gauges_text(const struct metrics *m, const struct metrics_gauges *g, struct buf *b)
{
	int rc = 0;

	rc |= buf_printf(b, "# HELP nestd_agents_connected Agents currently connected and authenticated.\n"
			 "# TYPE nestd_agents_connected gauge\nnestd_agents_connected %d\n", g->agents);
	rc |= buf_printf(b, "# HELP nestd_connections Open connections of every kind.\n"
			 "# TYPE nestd_connections gauge\nnestd_connections %d\n", g->connections);
	rc |= buf_printf(b, "# HELP nestd_auth_failures_total Failed authentications (agents and operators).\n"
			 "# TYPE nestd_auth_failures_total counter\nnestd_auth_failures_total %llu\n",
			 g->auth_failures);
	rc |= buf_printf(b, "# HELP nestd_tls_resumed_total TLS handshakes that resumed a cached session.\n"
			 "# TYPE nestd_tls_resumed_total counter\nnestd_tls_resumed_total %lu\n"
			 "# HELP nestd_tls_resume_misses_total TLS handshakes that offered a session the cache did not hold.\n"
			 "# TYPE nestd_tls_resume_misses_total counter\nnestd_tls_resume_misses_total %lu\n",
			 g->tls_resumed, g->tls_unknown);
	rc |= buf_printf(b, "# HELP nestd_http_requests_total HTTP requests served.\n"
			 "# TYPE nestd_http_requests_total counter\nnestd_http_requests_total %llu\n",
			 m->http_requests);
	return rc;
}

int metrics_text(const struct metrics *m, const struct metrics_gauges *g, struct buf *b)
{
	unsigned long long cum = 0;
	char le[32];
	int i, r, rc = gauges_text(m, g, b);

	rc |= buf_printf(b, "# HELP nestd_commands_total Commands routed to agents, by command and result.\n"
			 "# TYPE nestd_commands_total counter\n");
	for (i = 0; i <= MAX_CMD_NAMES; i++) {
		if (!m->cmds[i].name[0])
			continue;
		for (r = 0; r < METRICS_NRESULTS; r++)
			rc |= buf_printf(b, "nestd_commands_total{command=\"%s\",result=\"%s\"} %llu\n",
					 m->cmds[i].name, result_name[r], m->cmds[i].n[r]);
	}
	rc |= buf_printf(b, "# HELP nestd_command_duration_seconds Time from an operator's request to its agent's reply.\n"
			 "# TYPE nestd_command_duration_seconds histogram\n");
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
