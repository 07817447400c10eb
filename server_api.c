/* server_api.c - operators' side of the server (placeholder until the HTTP
 * API lands): logs what agents answer. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "server_int.h"

int server_api_init(struct server *s, char *err, size_t errlen)
{
	return 0;
}

void server_api_free(struct server *s)
{
}

void server_api_request(struct conn *c, const struct http_req *req, const char *body, size_t n)
{
	static const char msg[] = "{\"error\":\"not found\"}\n";

	conn_http_respond(c, 404, "application/json", NULL, msg, sizeof(msg) - 1);
}

void server_agent_reply(struct peer *agent, const struct nest_msg *m, const char *text, size_t n)
{
	char what[96] = "";

	if (m->t_message >= 0)
		json_strcpy(&m->j, m->t_message, what, sizeof(what));
	log_info("%s: %s %s (%zu bytes)", agent->name, proto_status_name(m->status), what, n);
}

void server_agent_gone(struct peer *agent, const char *why)
{
	agent->srv->nagents--;
}

void server_api_gone(struct peer *op)
{
}

void server_peer_timer(struct peer *p)
{
}

int server_tls_available(void)
{
	return 0;
}
