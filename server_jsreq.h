/* server_jsreq.h - JetStream requests and the cluster's names
 * (server_jsreq.c): what the rest of the server calls. */
#ifndef NESTD_SERVER_JSREQ_H
#define NESTD_SERVER_JSREQ_H

struct cluster;

/* This server's node name in the fleet. */
const char *cluster_node(const struct cluster *c);

#endif
