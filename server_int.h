/* server_int.h - what server.c (connections, authentication) and
 * server_api.c (operators, command routing) share. */
#ifndef NESTD_SERVER_INT_H
#define NESTD_SERVER_INT_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "conn.h"
#include "loop.h"
#include "net.h"
#include "proto.h"
#include "token.h"

#define MAX_LISTENERS 16

enum peer_kind {
	PEER_NEW,        /* handshake or authentication in progress */
	PEER_AGENT,      /* authenticated agent */
	PEER_REPLACED,   /* an agent being dropped (replaced, revoked) */
	PEER_HTTP,       /* an operator's HTTP connection */
};

struct pending;      /* a command waiting for its agent's reply (server_api.c) */

struct peer {
	struct server *srv;
	struct conn *c;
	enum peer_kind kind;
	char name[TOKEN_NAME_MAX + 1];
	char version[33];
	char hostname[65];
	char backend[17];
	char *commands;          /* JSON array the agent announced, or NULL */
	long long since;         /* epoch seconds */
	struct peer *prev, *next;
	/* agents: commands in flight, oldest first */
	struct pending *pend_head, *pend_tail;
	int inflight;
	/* operators: the request being answered */
	struct pending *waiting;
};

struct server {
	struct loop *loop;
	struct loop_src ls[MAX_LISTENERS];
	int ls_tls[MAX_LISTENERS];   /* this listener speaks TLS */
	int nls;
	struct tls_ctx *tls;         /* --tls-cert/--tls-key, loaded; or NULL */
	struct net_addr listen[MAX_LISTENERS];
	int nlisten, listen_from_flags;
	char state_dir[4096];
	char tokens_path[4096];
	char audit_path[4096];
	char tls_cert[4096], tls_key[4096];
	char dist_dir[4096];
	char public_url[512];    /* --public-url, no trailing '/'; "" derive */
	char arch[32];           /* this machine's ARCH in download names */
	char self_sha256[65];    /* of /proc/self/exe at start-up; "" unreadable */
	char accept_versions[256];
	long long auth_timeout_ms, command_timeout_ms;
	int ping_ms;
	size_t max_message;
	int ui;

	struct token_db db;
	struct peer *peers;
	int nconn, nagents;
	int stopping;
	int64_t stop_at;
	unsigned long long auth_failures;
	struct buf scratch;
	void *api;               /* server_api.c's state */
};

int  server_version_ok(const char *accept, const char *version);
struct peer *server_find_agent(struct server *s, const char *name);
void server_reject(struct peer *p, const char *msg, int retry_after, unsigned code);
int  server_tls_available(void);

/* server_api.c */
int  server_api_init(struct server *s, char *err, size_t errlen);
void server_api_free(struct server *s);
void server_api_request(struct conn *c, const struct http_req *req, const char *body, size_t n);
void server_agent_reply(struct peer *agent, const struct nest_msg *m, const char *text, size_t n);
void server_agent_gone(struct peer *agent, const char *why);
void server_api_gone(struct peer *op);
void server_peer_timer(struct peer *p);
void server_audit_auth_failure(struct server *s, const char *kind, const char *addr,
			       const char *reason);
void server_audit_agent(struct server *s, const char *event, const struct peer *p,
			const char *why);
/* Seconds an address must wait after too many failed authentications. */
int  server_auth_blocked(struct server *s, const char *peer);
void server_auth_failed(struct server *s, const char *peer);

/* server_web.c: pages and files (UI, install script, binaries); 1 if it
 * answered the request. */
int  server_extra_route(struct server *s, struct conn *c, const struct http_req *req,
			const struct http_span *path);
/* server_install.c: GET /install.sh, /dist/...; server_ui.c: the dashboard.
 * Each returns 1 if it answered. */
int  server_install_route(struct server *s, struct conn *c, const struct http_req *req,
			  const struct http_span *path);
/* --public-url: http(s)://HOST[:PORT][/PATH], kept without a trailing '/'. */
int  server_install_set_public_url(struct server *s, const char *v, char *err, size_t errlen);
/* Start-up: names this machine's ARCH and hashes the server's own binary. */
int  server_install_init(struct server *s, char *err, size_t errlen);
/* install.sh with its two default lines filled in; -1 out of memory. */
int  server_install_script(const char *server_url, const char *base_url, struct buf *out);
/* uname -m to the ARCH of download names ("armv7l" -> "armv7"). */
void server_install_arch(const char *machine, char *out, size_t n);
int  server_ui_route(struct server *s, struct conn *c, const struct http_req *req,
		     const struct http_span *path);

#endif
