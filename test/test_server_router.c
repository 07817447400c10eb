/* test_server_router.c - the command router with agent records and no
 * sockets: what it sends, how replies find their commands (by id, else
 * the oldest of the name it gives, else the oldest), orphans, refusals, the
 * agent going, the server stopping, a deadline passing, and
 * what it leaves in the metrics and the audit log (server_router.c).  The
 * agents' "connection" is a recorder of what the router sends. */
#include <stdlib.h>
#include <unistd.h>
#include "../loop.h"
#include "../proto.h"
#include "../server_audit.h"
#include "../server_metrics.h"
#include "../server_peer.h"
#include "../server_router.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static char sent[4096];
static int nsent, send_fails;

static int record_send(struct peer *agent, const char *text, size_t n)
{
	if (send_fails)
		return -1;
	snprintf(sent, sizeof(sent), "%.*s", (int)n, text);
	nsent++;
	return 0;
}

/* One asker's view of its command. */
struct asker {
	int told;
	enum router_outcome o;
	char text[512];
};

static int record_done(void *arg, enum router_outcome o, const char *text, size_t n)
{
	struct asker *a = arg;

	a->told++;
	a->o = o;
	snprintf(a->text, sizeof(a->text), "%.*s", (int)n, text);
	CHECK(text[n] == '\0');
	return 600 + (int)o;    /* goes to the audit log as the status */
}

struct world {
	struct loop *loop;
	struct peers peers;
	struct peer agent[3];
	struct metrics *metrics;
	struct audit_log *audit;
	struct router *r;
	char audit_path[64];
};

static int world_open(struct world *w, long long timeout_ms)
{
	static const char *const names[3] = { "web1", "web2", "db1" };
	char err[256];
	int i, fd;

	memset(w, 0, sizeof(*w));
	snprintf(w->audit_path, sizeof(w->audit_path), "/tmp/nestd-router-audit.XXXXXX");
	fd = mkstemp(w->audit_path);
	if (fd >= 0)
		close(fd);
	w->loop = loop_new();
	w->metrics = metrics_new();
	w->audit = fd >= 0 ? audit_open(w->audit_path, err, sizeof(err)) : NULL;
	for (i = 0; i < 3; i++) {
		snprintf(w->agent[i].name, sizeof(w->agent[i].name), "%s", names[i]);
		w->agent[i].kind = PEER_AGENT;
		/* what these agents announce: the router sends nothing else */
		w->agent[i].commands = strdup("[\"ping\",\"exec_command\",\"list_processes\","
					      "\"kill_process\",\"pause_process\","
					      "\"obtain_process_info\"]");
		peers_add(&w->peers, &w->agent[i]);
	}
	w->r = router_new(&(struct router_env){
		.loop = w->loop, .peers = &w->peers, .audit = w->audit, .metrics = w->metrics,
		.timeout_ms = timeout_ms, .send = record_send,
	});
	nsent = send_fails = 0;
	return w->loop && w->metrics && w->audit && w->r ? 0 : -1;
}

/* The audit log's text, whole (NUL-terminated, malloc'd). */
static char *audit_text(const struct world *w)
{
	FILE *f = fopen(w->audit_path, "r");
	char *p = calloc(1, 65536);

	if (f && p)
		p[fread(p, 1, 65535, f)] = '\0';
	if (f)
		fclose(f);
	return p;
}

static void world_close(struct world *w)
{
	int i;

	for (i = 0; i < 3; i++) {
		router_agent_gone(w->r, &w->agent[i], "test over");
		if (w->agent[i].pprev)   /* the last one out frees the name index */
			peers_unlink(&w->peers, &w->agent[i]);
		free(w->agent[i].commands);
	}
	router_free(w->r);
	audit_close(w->audit);
	metrics_free(w->metrics);
	loop_free(w->loop);
	unlink(w->audit_path);
}

/* The agent sends text; -1 if it is no message. */
static int agent_says(struct world *w, int i, const char *text)
{
	struct nest_msg m;
	char err[128];

	if (proto_parse(&m, text, strlen(text), err, sizeof(err)) < 0)
		return -1;
	router_agent_reply(w->r, &w->agent[i], &m, text, strlen(text));
	proto_free(&m);
	return 0;
}

static struct router_cmd *post(struct world *w, const char *agent, const char *cmd,
			       const char *payload, struct asker *a, enum router_outcome *err)
{
	struct router_req q = {
		.agent = agent, .command = cmd, .payload = payload,
		.payload_len = payload ? strlen(payload) : 0, .who = "alice", .from = "127.0.0.1:5000",
	};

	return router_post(w->r, &q, record_done, a, err);
}

void test_server_router_send(void)
{
	struct world w;
	struct asker a = { 0 }, b = { 0 };
	enum router_outcome err = ROUTER_OK;
	struct nest_msg m;
	char e[128];

	CHECK(world_open(&w, 30000) == 0);
	CHECK(post(&w, "nobody", "ping", NULL, &a, &err) == NULL && err == ROUTER_NOT_CONNECTED);
	CHECK(nsent == 0);
	CHECK(post(&w, "web1", "ping", NULL, &a, &err) != NULL);
	CHECK_STR(sent, "{\"status\":\"command\",\"message\":\"ping\",\"id\":\"c1\"}");
	CHECK(post(&w, "web1", "exec_command", "{\"command\": \"ls\"}", &b, &err) != NULL);
	CHECK(proto_parse(&m, sent, strlen(sent), e, sizeof(e)) == 0);
	CHECK(m.status == NS_COMMAND && proto_message_is(&m, "exec_command"));
	CHECK(json_str_eq(&m.j, m.t_id, "c2"));
	CHECK(json_str_eq(&m.j, proto_payload_get(&m, "command"), "ls"));
	proto_free(&m);
	CHECK(w.agent[0].inflight == 2 && w.agent[1].inflight == 0);
	/* The connection will not take it: nothing queued, nothing told. */
	send_fails = 1;
	CHECK(post(&w, "web1", "ping", NULL, &a, &err) == NULL && err == ROUTER_SEND_FAILED);
	CHECK(w.agent[0].inflight == 2 && a.told == 0);
	send_fails = 0;
	/* An agent being dropped is no longer found. */
	peers_set_kind(&w.peers, &w.agent[2], PEER_REPLACED);
	CHECK(post(&w, "db1", "ping", NULL, &a, &err) == NULL && err == ROUTER_NOT_CONNECTED);
	peers_set_kind(&w.peers, &w.agent[2], PEER_AGENT);
	world_close(&w);
	CHECK(a.told == 1 && a.o == ROUTER_AGENT_GONE);
	CHECK_STR(a.text, "agent disconnected before answering (test over)");
	CHECK(b.told == 1 && b.o == ROUTER_AGENT_GONE);
}

/* A server never sends an agent a command it did not announce; one that
 * announced nothing (the original client) gets the original's commands
 * only.  Nothing is sent or queued for a refusal, and its words name the
 * agent and the command. */
void test_server_router_not_offered(void)
{
	struct world w;
	struct asker a = { 0 };
	enum router_outcome err = ROUTER_OK;
	struct router_req q = { .agent = "web2", .command = "obtain_system_info" };
	char why[300];

	CHECK(world_open(&w, 30000) == 0);
	CHECK(post(&w, "web1", "obtain_system_info", NULL, &a, &err) == NULL &&
	      err == ROUTER_NOT_OFFERED);
	CHECK(nsent == 0 && w.agent[0].inflight == 0);
	q.agent = "web1";
	router_refusal(w.r, &q, err, why, sizeof(why));
	CHECK_STR(why, "agent 'web1' does not offer obtain_system_info: not supported by this "
		  "agent (not among the commands it announced)");
	/* "pin" is a prefix of nothing announced; "ping" is announced */
	CHECK(post(&w, "web1", "pin", NULL, &a, &err) == NULL && err == ROUTER_NOT_OFFERED);
	/* web2 turns out to be an original client: it announced nothing */
	free(w.agent[1].commands);
	w.agent[1].commands = NULL;
	CHECK(post(&w, "web2", "ping", NULL, &a, &err) == NULL && err == ROUTER_NOT_OFFERED);
	CHECK(post(&w, "web2", "exec_command", "{}", &a, &err) == NULL && err == ROUTER_NOT_OFFERED);
	q.agent = "web2";
	q.command = "exec_command";
	router_refusal(w.r, &q, err, why, sizeof(why));
	CHECK_STR(why, "agent 'web2' is an original client: exec_command is not supported by "
		  "this agent (original client)");
	CHECK(nsent == 0);
	/* ... and every command of the original's */
	CHECK(post(&w, "web2", "obtain_user_usages", NULL, &a, &err) != NULL);
	CHECK(post(&w, "web2", "get_port", NULL, &a, &err) != NULL);
	CHECK(post(&w, "web2", "kill_process", "{\"pid\":2,\"method\":\"SIGTERM\"}", &a, &err) != NULL);
	CHECK(post(&w, "web2", "reload_service", NULL, &a, &err) != NULL);
	CHECK(nsent == 4 && w.agent[1].inflight == 4);
	q.agent = "gone";
	router_refusal(w.r, &q, ROUTER_NOT_CONNECTED, why, sizeof(why));
	CHECK_STR(why, "agent 'gone' is not connected");
	world_close(&w);
}

void test_server_router_replies(void)
{
	static const char r2[] = "{\"status\":\"command_response\",\"message\":\"response_ping\","
				 "\"id\":\"c2\",\"payload\":{\"pong\":2}}";
	static const char bare[] = "{\"status\":\"command_response_error\",\"message\":"
				   "\"response_ping\",\"payload\":{\"error\":\"no\"}}";
	struct world w;
	struct asker a[4];
	enum router_outcome err;
	int i;

	memset(a, 0, sizeof(a));
	CHECK(world_open(&w, 30000) == 0);
	for (i = 0; i < 4; i++)
		CHECK(post(&w, "web1", "ping", NULL, &a[i], &err) != NULL);
	/* By id, whatever its place in the queue. */
	CHECK(agent_says(&w, 0, r2) == 0);
	CHECK(a[1].told == 1 && a[1].o == ROUTER_OK);
	CHECK_STR(a[1].text, r2);
	CHECK(a[0].told == 0 && w.agent[0].inflight == 3);
	/* Without an id: the oldest; an error reply is still an answer. */
	CHECK(agent_says(&w, 0, bare) == 0);
	CHECK(a[0].told == 1 && a[0].o == ROUTER_ERROR);
	CHECK_STR(a[0].text, bare);
	/* An id nobody has, or a reply of another agent: dropped. */
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"id\":\"c99\"}") == 0);
	CHECK(agent_says(&w, 1, "{\"status\":\"command_response\"}") == 0);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"id\":\"c2\"}") == 0);
	CHECK(a[2].told == 0 && a[3].told == 0 && w.agent[0].inflight == 2);
	/* An orphan keeps its place: the next id-less reply is its own. */
	router_cancel(w.agent[0].cmd_head);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":\"response_ping\"}") == 0);
	CHECK(a[2].told == 0 && a[3].told == 0 && w.agent[0].inflight == 1);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":\"response_ping\"}") == 0);
	CHECK(a[3].told == 1 && a[3].o == ROUTER_OK && w.agent[0].inflight == 0);
	CHECK(w.agent[0].cmd_head == NULL && w.agent[0].cmd_tail == NULL);
	world_close(&w);
	for (i = 0; i < 4; i++)
		CHECK(a[i].told == (i == 2 ? 0 : 1));
}

void test_server_router_busy(void)
{
	struct world w;
	struct asker *a = calloc(CFG_MAX_INFLIGHT + 1, sizeof(*a));
	enum router_outcome err = ROUTER_OK;
	int i, posted = 0, told = 0;

	CHECK(a != NULL && world_open(&w, 30000) == 0);
	if (!a)
		return;
	for (i = 0; i < CFG_MAX_INFLIGHT; i++)
		posted += post(&w, "web2", "ping", NULL, &a[i], &err) != NULL;
	CHECK(posted == CFG_MAX_INFLIGHT && w.agent[1].inflight == CFG_MAX_INFLIGHT);
	CHECK(post(&w, "web2", "ping", NULL, &a[i], &err) == NULL && err == ROUTER_BUSY);
	/* Another agent is not held up by this one's queue. */
	CHECK(post(&w, "web1", "ping", NULL, &a[i], &err) != NULL);
	router_agent_gone(w.r, &w.agent[1], "busy test");
	CHECK(w.agent[1].inflight == 0 && w.agent[1].cmd_head == NULL);
	for (i = 0; i < CFG_MAX_INFLIGHT; i++)
		told += a[i].told == 1 && a[i].o == ROUTER_AGENT_GONE;
	CHECK(told == CFG_MAX_INFLIGHT);
	world_close(&w);
	free(a);
}

void test_server_router_timeout(void)
{
	struct world w;
	struct asker a = { 0 }, b = { 0 };
	enum router_outcome err;
	char *log;
	int rounds;

	CHECK(world_open(&w, 1) == 0);
	CHECK(post(&w, "db1", "ping", NULL, &a, &err) != NULL);
	/* The loop runs the deadline; bounded, and nothing asserts how long. */
	for (rounds = 0; !a.told && rounds < 200; rounds++)
		loop_once(w.loop, 100);
	CHECK(a.told == 1 && a.o == ROUTER_TIMEOUT);
	CHECK_STR(a.text, "agent 'db1' did not answer ping in time");
	/* Still queued: a late reply finds it and no one is told twice. */
	CHECK(w.agent[2].inflight == 1);
	CHECK(agent_says(&w, 2, "{\"status\":\"command_response\",\"message\":\"response_ping\"}") == 0);
	CHECK(a.told == 1 && w.agent[2].inflight == 0);
	/* Cancelled: no deadline runs for it. */
	CHECK(post(&w, "db1", "ping", NULL, &b, &err) != NULL);
	router_cancel(w.agent[2].cmd_head);
	for (rounds = 0; rounds < 3; rounds++)
		loop_once(w.loop, 20);
	CHECK(b.told == 0 && w.agent[2].inflight == 1);
	log = audit_text(&w);
	CHECK(log && strstr(log, "\"id\":\"c1\",\"payload\":null,\"outcome\":\"timeout\",\"http_status\":602,"
			  "\"error\":\"agent 'db1' did not answer ping in time\""));
	CHECK(log && strstr(log, "\"id\":\"c1\",\"payload\":null,\"outcome\":\"late_ok\",\"http_status\":0,"));
	free(log);
	world_close(&w);
	CHECK(b.told == 0);     /* an orphan's agent going tells no one */
}

void test_server_router_records(void)
{
	struct world w;
	struct asker a = { 0 }, b = { 0 }, c = { 0 };
	struct metrics_gauges g = { 0, 0, 0, 0, 0 };
	enum router_outcome err;
	struct buf mt;
	char *log;

	CHECK(world_open(&w, 30000) == 0);
	CHECK(post(&w, "web1", "ping", "{\"x\":1}", &a, &err) != NULL);
	CHECK(post(&w, "web1", "ping", NULL, &b, &err) != NULL);
	CHECK(post(&w, "web1", "list_processes", NULL, &c, &err) != NULL);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"id\":\"c1\"}") == 0);
	router_cancel(w.agent[0].cmd_head);           /* c2's asker goes */
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response_error\",\"id\":\"c2\"}") == 0);
	router_agent_gone(w.r, &w.agent[0], "replaced by a newer connection");
	CHECK(c.told == 1 && c.o == ROUTER_AGENT_GONE);

	buf_init(&mt, 0);
	CHECK(metrics_text(w.metrics, &g, &mt) == 0);
	CHECK(mt.p && strstr(mt.p, "nestd_commands_total{command=\"ping\",result=\"ok\"} 1\n"));
	CHECK(mt.p && strstr(mt.p, "nestd_commands_total{command=\"ping\",result=\"error\"} 1\n"));
	CHECK(mt.p && strstr(mt.p, "nestd_commands_total{command=\"list_processes\",result=\"agent_gone\"} 1\n"));
	CHECK(mt.p && strstr(mt.p, "nestd_command_duration_seconds_count 2\n"));
	buf_free(&mt);

	log = audit_text(&w);
	CHECK(log != NULL);
	if (log) {
		CHECK(strstr(log, "\"event\":\"command\",\"operator\":\"alice\",\"address\":\"127.0.0.1:5000\","
			     "\"agent\":\"web1\",\"command\":\"ping\",\"id\":\"c1\",\"payload\":{\"x\":1},"
			     "\"outcome\":\"ok\",\"http_status\":600,") != NULL);
		CHECK(strstr(log, "\"id\":\"c2\",\"payload\":null,\"outcome\":\"late_error\",\"http_status\":0,"
			     "\"error\":\"operator no longer waiting\"") != NULL);
		CHECK(strstr(log, "\"id\":\"c3\",\"payload\":null,\"outcome\":\"agent_gone\",\"http_status\":603,"
			     "\"error\":\"replaced by a newer connection\"") != NULL);
	}
	free(log);
	world_close(&w);
}

/* ---- the remote way (the cluster's): commands for agents not here ---- */

/* Builds with NATS only; the others have no remote way: an agent not here
 * is not connected, whatever the request. */
#if NESTD_NATS
static struct {
	int posts, forgets, fail;
	struct router_cmd *cmd;
	long long wait_ms;
	char agent[64];
} remote;

static int remote_post(void *arg, struct router_cmd *cmd, const struct router_req *q,
		       long long wait_ms, enum router_outcome *err, char *why, size_t wl)
{
	remote.posts++;
	if (remote.fail) {
		*err = ROUTER_CLUSTER_DOWN;
		snprintf(why, wl, "cluster link down: test");
		return -1;
	}
	remote.cmd = cmd;
	remote.wait_ms = wait_ms;
	snprintf(remote.agent, sizeof(remote.agent), "%s", q->agent);
	return 0;
}

static void remote_forget(void *arg, struct router_cmd *cmd)
{
	remote.forgets++;
	CHECK(cmd == remote.cmd);
	remote.cmd = NULL;
}
#endif

void test_server_router_remote(void)
{
#if NESTD_NATS
	struct world w;
	struct router_remote rr = { remote_post, remote_forget, NULL };
	struct router_cmd *cmd;
	struct asker a = { 0 }, here = { 0 };
	enum router_outcome err;
	struct router_req q = { .agent = "web9", .command = "obtain_system_info", .who = "alice",
				.from = "B/127.0.0.1:1", .here_only = 1 };

	if (world_open(&w, 2000) < 0) {
		CHECK(0);
		return;
	}
	memset(&remote, 0, sizeof(remote));
	CHECK(!post(&w, "web9", "obtain_system_info", NULL, &a, &err) && err == ROUTER_NOT_CONNECTED);
	router_set_remote(w.r, &rr);
	/* Here: the agent here, never the remote way. */
	CHECK(post(&w, "web1", "ping", NULL, &here, &err) && remote.posts == 0);
	agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":\"response_ping\"}");
	CHECK(here.told == 1 && here.o == ROUTER_OK);
	/* Not here: the remote way, with the command's deadline. */
	cmd = post(&w, "web9", "obtain_system_info", NULL, &a, &err);
	CHECK(cmd && remote.posts == 1 && remote.cmd == cmd && remote.wait_ms == 2000);
	CHECK_STR(router_cmd_agent(cmd), "web9");
	router_remote_done(cmd, ROUTER_OK, "{\"status\":\"command_response\"}",
			   strlen("{\"status\":\"command_response\"}"));
	CHECK(a.told == 1 && a.o == ROUTER_OK && strstr(a.text, "command_response"));
	/* Refused on the way: nothing queued, the reason for the face. */
	remote.fail = 1;
	CHECK(!post(&w, "web9", "obtain_system_info", NULL, &a, &err) && err == ROUTER_CLUSTER_DOWN);
	{
		char why[200];
		struct router_req rq = { .agent = "web9", .command = "obtain_system_info" };

		router_refusal(w.r, &rq, ROUTER_CLUSTER_DOWN, why, sizeof(why));
		CHECK(strstr(why, "cluster link down") != NULL);
	}
	remote.fail = 0;
	/* Another server routed it here: only a local agent will do. */
	CHECK(!router_post(w.r, &q, record_done, &a, &err) && err == ROUTER_NOT_CONNECTED);
	CHECK(remote.posts == 2);
	/* The asker goes: the remote way forgets it. */
	cmd = post(&w, "web9", "list_services", NULL, &a, &err);
	router_cancel(cmd);
	CHECK(remote.forgets == 1 && remote.cmd == NULL);
	/* The deadline (the holder's plus the margin): 504 for the asker, forgotten. */
	a.told = 0;
	cmd = post(&w, "web9", "list_services", NULL, &a, &err);
	while (a.told == 0 && remote.forgets < 2)
		loop_once(w.loop, 100);
	CHECK(a.told == 1 && a.o == ROUTER_TIMEOUT && strstr(a.text, "nor its server"));
	CHECK(remote.forgets == 2);
	router_set_remote(w.r, NULL);
	world_close(&w);
#else
	struct world w;
	struct asker a = { 0 };
	enum router_outcome err;
	char why[200];
	struct router_req q = { .agent = "web9", .command = "obtain_system_info" };

	if (world_open(&w, 2000) < 0) {
		CHECK(0);
		return;
	}
	CHECK(!post(&w, "web9", "obtain_system_info", NULL, &a, &err) && err == ROUTER_NOT_CONNECTED);
	router_refusal(w.r, &q, err, why, sizeof(why));
	CHECK_STR(why, "agent 'web9' is not connected");
	CHECK(a.told == 0);
	world_close(&w);
#endif
}

void test_server_router_outcome_names(void)
{
	int i;

	for (i = 0; i < ROUTER_NOUTCOMES; i++) {
		const char *n = router_outcome_name((enum router_outcome)i);

		CHECK(strcmp(n, "unknown") != 0);
		CHECK(router_outcome_parse(n) == (enum router_outcome)i);
	}
	CHECK(router_outcome_parse("nonsense") == ROUTER_NOUTCOMES);
	CHECK_STR(router_outcome_name(ROUTER_NOUTCOMES), "unknown");
}

void test_server_router_idless_by_name(void)
{
	struct world w;
	struct asker a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	enum router_outcome err;
	char *log;

	CHECK(world_open(&w, 30000) == 0);
	CHECK(post(&w, "web1", "kill_process", "{\"pid\":7}", &a, &err) != NULL);
	CHECK(post(&w, "web1", "obtain_process_info", NULL, &b, &err) != NULL);
	CHECK(post(&w, "web1", "kill_process", "{\"pid\":8}", &c, &err) != NULL);
	/* The agent skips the first and answers the second without an id:
	 * the reply goes to the command it names, not to the oldest. */
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":"
			 "\"response_obtain_process_info\",\"payload\":{}}") == 0);
	CHECK(b.told == 1 && b.o == ROUTER_OK && a.told == 0 && c.told == 0);
	/* A name with nothing of it waiting: dropped, nobody told. */
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":"
			 "\"response_list_services\"}") == 0);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":"
			 "\"response_obtain_process_info\"}") == 0);
	CHECK(a.told == 0 && c.told == 0 && w.agent[0].inflight == 2);
	/* Of two of a name, the oldest. */
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response_error\",\"message\":"
			 "\"response_kill_process\",\"payload\":{\"error\":\"x\"}}") == 0);
	CHECK(a.told == 1 && a.o == ROUTER_ERROR && c.told == 0);
	/* Free text (the reference client's) names no command: the oldest of
	 * all, as before names were matched. */
	CHECK(post(&w, "web1", "pause_process", NULL, &d, &err) != NULL);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":"
			 "\"You're a killer now...\"}") == 0);
	CHECK(c.told == 1 && c.o == ROUTER_OK && d.told == 0);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":\"response_\"}") == 0);
	CHECK(d.told == 1 && w.agent[0].inflight == 0);
	log = audit_text(&w);
	CHECK(log && strstr(log, "\"command\":\"kill_process\",\"id\":\"c1\",\"payload\":{\"pid\":7},"
			  "\"outcome\":\"error\""));
	free(log);
	world_close(&w);
}

void test_server_router_stop(void)
{
	struct world w;
	struct asker a = { 0 }, b = { 0 };
	enum router_outcome err;
	char *log;

	CHECK(world_open(&w, 30000) == 0);
	CHECK(post(&w, "web1", "ping", NULL, &a, &err) != NULL);
	CHECK(post(&w, "db1", "ping", NULL, &b, &err) != NULL);
	router_cancel(w.agent[2].cmd_head);         /* b's asker went already */
	router_stop(w.r, "server shutting down");
	CHECK(a.told == 1 && a.o == ROUTER_SHUTDOWN);
	CHECK_STR(a.text, "server shutting down");
	CHECK(b.told == 0);
	/* Still queued: a late reply is no second answer. */
	CHECK(w.agent[0].inflight == 1);
	CHECK(agent_says(&w, 0, "{\"status\":\"command_response\",\"message\":\"response_ping\"}") == 0);
	CHECK(a.told == 1 && w.agent[0].inflight == 0);
	log = audit_text(&w);
	CHECK(log && strstr(log, "\"id\":\"c1\",\"payload\":null,\"outcome\":\"shutdown\",\"http_status\":604,"
			  "\"error\":\"server shutting down\""));
	free(log);
	world_close(&w);
}
