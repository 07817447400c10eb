/* test_server_metrics.c - the Prometheus text of GET /metrics: every line
 * a comment or "name[{labels}] value", the gauges as given, counters by
 * command and result, a cumulative histogram of reply times only, and
 * names past the 64th counted as "other" (server_metrics.c). */
#include <stdlib.h>
#include "../server_metrics.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* 1 if text holds line as one whole line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

/* Every line: "# HELP name text", "# TYPE name kind", or a sample
 * "name[{k="v",...}] number"; the text ends with a newline. */
static int well_formed(const char *t)
{
	while (*t) {
		const char *nl = strchr(t, '\n'), *p = t;

		if (!nl)
			return 0;
		if (!strncmp(t, "# HELP nestd_", 13) || !strncmp(t, "# TYPE nestd_", 13)) {
			t = nl + 1;
			continue;
		}
		if (strncmp(p, "nestd_", 6))
			return 0;
		while (p < nl && ((*p >= 'a' && *p <= 'z') || *p == '_'))
			p++;
		if (*p == '{') {
			p = memchr(p, '}', (size_t)(nl - p));
			if (!p)
				return 0;
			p++;
		}
		if (*p++ != ' ' || p == nl)
			return 0;
		for (; p < nl; p++)
			if (!strchr("0123456789.e+-", *p))
				return 0;
		t = nl + 1;
	}
	return 1;
}

void test_server_metrics_text(void)
{
	struct metrics *m = metrics_new();
	struct metrics_gauges g = { 2, 5, 7, 0, 0 };
	struct buf b;

	CHECK(m != NULL);
	if (!m)
		return;
	metrics_http_request(m);
	metrics_http_request(m);
	metrics_command(m, "ping", METRICS_OK, 0.002);
	metrics_command(m, "ping", METRICS_ERROR, 0.0004);
	metrics_command(m, "exec_command", METRICS_TIMEOUT, 31);
	metrics_command(m, "exec_command", METRICS_AGENT_GONE, 1);
	buf_init(&b, 0);
	CHECK(metrics_text(m, &g, &b) == 0);
	CHECK(b.p && well_formed(b.p));
	if (!b.p)
		return;
	CHECK(has_line(b.p, "# TYPE nestd_agents_connected gauge"));
	CHECK(has_line(b.p, "nestd_agents_connected 2"));
	CHECK(has_line(b.p, "nestd_connections 5"));
	CHECK(has_line(b.p, "nestd_auth_failures_total 7"));
	CHECK(has_line(b.p, "nestd_http_requests_total 2"));
	CHECK(has_line(b.p, "# TYPE nestd_commands_total counter"));
	CHECK(has_line(b.p, "nestd_commands_total{command=\"ping\",result=\"ok\"} 1"));
	CHECK(has_line(b.p, "nestd_commands_total{command=\"ping\",result=\"error\"} 1"));
	CHECK(has_line(b.p, "nestd_commands_total{command=\"ping\",result=\"timeout\"} 0"));
	CHECK(has_line(b.p, "nestd_commands_total{command=\"exec_command\",result=\"timeout\"} 1"));
	CHECK(has_line(b.p, "nestd_commands_total{command=\"exec_command\",result=\"agent_gone\"} 1"));
	/* Only the two replies are timed; the buckets are cumulative. */
	CHECK(has_line(b.p, "# TYPE nestd_command_duration_seconds histogram"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_bucket{le=\"0.0005\"} 1"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_bucket{le=\"0.001\"} 1"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_bucket{le=\"0.0025\"} 2"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_bucket{le=\"120\"} 2"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_bucket{le=\"+Inf\"} 2"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_sum 0.002400"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_count 2"));
	buf_free(&b);
	metrics_free(m);
}

void test_server_metrics_other(void)
{
	struct metrics *m = metrics_new();
	struct metrics_gauges g = { 0, 0, 0, 0, 0 };
	struct buf b;
	char name[16];
	int i;

	CHECK(m != NULL);
	if (!m)
		return;
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "cmd%d", i);
		metrics_command(m, name, METRICS_OK, 200);   /* past the last bucket */
	}
	metrics_command(m, "cmd0", METRICS_OK, 0.1);
	metrics_command(m, "cmd64", METRICS_OK, 0.1);
	metrics_command(m, "cmd65", METRICS_ERROR, 0.1);
	buf_init(&b, 0);
	CHECK(metrics_text(m, &g, &b) == 0);
	CHECK(b.p && well_formed(b.p));
	if (!b.p)
		return;
	CHECK(has_line(b.p, "nestd_commands_total{command=\"cmd0\",result=\"ok\"} 2"));
	CHECK(has_line(b.p, "nestd_commands_total{command=\"cmd63\",result=\"ok\"} 1"));
	CHECK(strstr(b.p, "command=\"cmd64\"") == NULL);
	CHECK(has_line(b.p, "nestd_commands_total{command=\"other\",result=\"ok\"} 1"));
	CHECK(has_line(b.p, "nestd_commands_total{command=\"other\",result=\"error\"} 1"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_bucket{le=\"120\"} 3"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_bucket{le=\"+Inf\"} 67"));
	CHECK(has_line(b.p, "nestd_command_duration_seconds_count 67"));
	/* A bound too small: -1, so the caller knows the page is cut short. */
	buf_free(&b);
	buf_init(&b, 100);
	CHECK(metrics_text(m, &g, &b) == -1);
	buf_free(&b);
	metrics_free(m);
}
