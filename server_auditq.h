/* server_auditq.h - the fleet's audit stream (server_auditq.c): what the
 * rest of the server calls; cluster_audit_query is server_cluster.h's. */
#ifndef NESTD_SERVER_AUDITQ_H
#define NESTD_SERVER_AUDITQ_H

#include <stddef.h>
#include "server_cluster_env.h"

struct cluster;

/* The audit log's tap (audit_set_tap, server_audit.h): each line into the
 * fleet's stream PREFIX_audit, on the subject P.audit.NODE.AGENT.OPERATOR. */
void cluster_audit_line(void *c, const char *line, size_t n);
/* The query of arg (cluster_audit_query) is dropped, its done never called. */
void cluster_audit_cancel(struct cluster *c, void *arg);

#endif
