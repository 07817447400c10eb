/* server_metrics.h - the counters behind GET /metrics and their text in
 * the Prometheus exposition format (version 0.0.4).  Pure: the callers
 * count and give the gauges; nothing here reads a clock or the peers. */
#ifndef NESTD_SERVER_METRICS_H
#define NESTD_SERVER_METRICS_H

#include "buf.h"

enum metrics_result { METRICS_OK, METRICS_ERROR, METRICS_TIMEOUT, METRICS_AGENT_GONE,
		      METRICS_NRESULTS };

struct metrics;

/* What the server knows at the moment of the request. */
struct metrics_gauges {
	int agents;                       /* connected and authenticated */
	int connections;                  /* open connections of every kind */
	unsigned long long auth_failures; /* since start-up */
	unsigned long tls_resumed;        /* TLS handshakes that resumed a session */
	unsigned long tls_unknown;        /* ...that offered one the cache did not have */
};

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* One command's end.  seconds: from the request to the agent's reply;
 * only replies (METRICS_OK, METRICS_ERROR) go into the histogram.  Past
 * 64 command names the rest count as "other". */
void metrics_command(struct metrics *m, const char *command, enum metrics_result r,
		     double seconds);
void metrics_http_request(struct metrics *m);
/* Appends every metric; -1 when out's bound is hit. */
int  metrics_text(const struct metrics *m, const struct metrics_gauges *g, struct buf *out);

#endif
