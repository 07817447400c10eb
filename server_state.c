/* server_state.c - the state directory's other files and the history
 * sampler (see server_state.h).  One timer, once a second: samples the
 * agents that are due, ends expired sessions, writes what changed when
 * its time has come.  Files are opened through the directory's descriptor
 * (token_dir_open: a directory others could write to is refused, as for
 * the token file) and never through a symlink. */
#include "server_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "server_int.h"
#include "server_peer.h"
#include "server_roster.h"
#include "server_router.h"
#include "server_session.h"
#include "token_file.h"

#define TICK_MS 1000

struct state {
	struct server *s;
	struct roster roster;
	struct sessions sessions;
	struct loop_src timer;
	int timer_on;
	long long history_ms;
	int64_t save_at, history_save_at;    /* loop_now() when the next write may go */
	int64_t saved_at;                    /* the last write */
	int warned;                          /* the directory's trouble, logged once */
};

/* A sample in flight: the agent it is for, by name (it may go meanwhile). */
struct sample_req {
	struct state *st;
	char name[TOKEN_NAME_MAX + 1];
};

static long long now_s(void)
{
	return (long long)time(NULL);
}

/* ---- files ---- */

/* The state directory, created (0700) when missing, checked; -1 after
 * logging why (once). */
static int dir_open(struct state *st)
{
	const char *dir = st->s->o->state_dir;
	char err[600];
	int dfd = token_dir_open(dir, 1, err, sizeof(err));

	if (dfd < 0 && errno == ENOENT && mkdir(dir, 0700) == 0)
		dfd = token_dir_open(dir, 1, err, sizeof(err));
	if (dfd < 0 && !st->warned) {
		log_warn("state directory: %s; the agents seen, their history and the dashboard's "
			 "sessions are kept in memory only", err);
		st->warned = 1;
	}
	return dfd;
}

/* The file name in dfd into b (bounded): 0; 1 missing; -1 unreadable. */
static int read_file(int dfd, const char *name, struct buf *b)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat sb;
	ssize_t r;

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)CFG_STATE_FILE_MAX ||
	    buf_reserve(b, (size_t)sb.st_size + 1) < 0) {
		close(fd);
		return -1;
	}
	while ((r = read(fd, b->p + b->len, b->cap - b->len)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			b->len += (size_t)r;
	close(fd);
	if (r < 0)
		return -1;
	b->p[b->len] = '\0';
	return 0;
}

enum which { F_AGENTS, F_HISTORY, F_SESSIONS };

static const char *const file_names[] = { CFG_AGENTS_FILE, CFG_HISTORY_FILE, CFG_SESSIONS_FILE };

static void load_one(struct state *st, int dfd, enum which w)
{
	const char *name = file_names[w];
	struct buf b;
	int rc, bad = 0;

	buf_init(&b, CFG_STATE_FILE_MAX + 1);
	rc = read_file(dfd, name, &b);
	if (rc < 0)
		log_warn("state directory: cannot read %s/%s: %s; starting without it",
			 st->s->o->state_dir, name, errno ? strerror(errno) : "too large");
	else if (rc == 0 && w == F_AGENTS)
		bad = roster_parse(&st->roster, b.p, b.len);
	else if (rc == 0 && w == F_HISTORY)
		bad = roster_history_parse(&st->roster, b.p, b.len);
	else if (rc == 0)
		bad = sessions_parse(&st->sessions, b.p, b.len, now_s());
	if (bad)
		log_warn("state directory: %d lines of %s/%s did not read and were dropped", bad,
			 st->s->o->state_dir, name);
	buf_free(&b);
}

static void load_all(struct state *st)
{
	int dfd = dir_open(st);

	if (dfd < 0)
		return;
	load_one(st, dfd, F_AGENTS);
	load_one(st, dfd, F_HISTORY);     /* after the agents: samples of known agents only */
	load_one(st, dfd, F_SESSIONS);
	close(dfd);
	log_info("state directory %s: %d agents remembered, %d with a history, %d sessions",
		 st->s->o->state_dir, st->roster.n, st->roster.nhist, st->sessions.n);
}

/* Writes one file whole; 0, or -1 (logged, the table stays dirty). */
static int save_one(struct state *st, int dfd, enum which w)
{
	struct buf b;
	int rc;

	buf_init(&b, CFG_STATE_FILE_MAX);
	rc = w == F_AGENTS ? roster_format(&st->roster, &b) :
	     w == F_HISTORY ? roster_history_format(&st->roster, &b) :
	     sessions_format(&st->sessions, &b);
	if (rc == 0 && token_file_replace_at(dfd, file_names[w], b.p ? b.p : "", b.len) < 0) {
		log_warn("state directory: cannot write %s/%s: %s (the old one stays)",
			 st->s->o->state_dir, file_names[w], strerror(errno));
		rc = -1;
	} else if (rc < 0) {
		log_warn("state directory: %s would pass %u bytes; not written", file_names[w],
			 CFG_STATE_FILE_MAX);
	}
	buf_free(&b);
	return rc;
}

/* Writes the dirty tables (the history only when its time has come, or
 * at the end). */
static void save_dirty(struct state *st, int history_too)
{
	int dfd;

	if (!st->roster.dirty && !st->sessions.dirty && !(history_too && st->roster.hist_dirty))
		return;
	if ((dfd = dir_open(st)) < 0)
		return;
	if (st->roster.dirty && save_one(st, dfd, F_AGENTS) == 0)
		st->roster.dirty = 0;
	if (st->sessions.dirty && save_one(st, dfd, F_SESSIONS) == 0)
		st->sessions.dirty = 0;
	if (history_too && st->roster.hist_dirty && save_one(st, dfd, F_HISTORY) == 0)
		st->roster.hist_dirty = 0;
	close(dfd);
}

/* ---- the history sampler ---- */

/* The router's answer to a sample: a reply's payload into the history. */
static int sample_done(void *arg, enum router_outcome o, const char *text, size_t n)
{
	struct sample_req *q = arg;
	struct roster_agent *a = roster_find(&q->st->roster, q->name);
	struct roster_sample smp;
	struct nest_msg m;

	if (a)
		a->sampling = 0;
	if (a && o == ROUTER_OK && proto_parse(&m, text, n, NULL, 0) == 0) {
		if (roster_sample_parse(a, &m.j, m.t_payload, now_s(), &smp) == 0 &&
		    roster_add_sample(&q->st->roster, a, &smp) < 0)
			log_debug("%s: no room for another history (%d agents have one)", q->name,
				  CFG_HISTORY_AGENTS_MAX);
		proto_free(&m);
	} else if (a && o != ROUTER_AGENT_GONE) {
		log_debug("%s: usage sample failed: %.*s", q->name, (int)(n > 200 ? 200 : n), text);
	}
	free(q);
	return 0;
}

static void sample(struct state *st, struct roster_agent *a)
{
	struct sample_req *q = calloc(1, sizeof(*q));
	struct router_req req = {
		.agent = a->name, .command = "obtain_system_info", .who = "nestd",
		.from = "history", .quiet = 1,
		.here_only = 1,   /* this server's own agents: one that moved is sampled there */
	};
	enum router_outcome err;

	if (!q)
		return;
	q->st = st;
	fmt_copy(q->name, sizeof(q->name), a->name);
	if (router_post(st->s->router, &req, sample_done, q, &err)) {
		a->sampling = 1;
	} else {
		log_debug("%s: usage sample not sent (%d)", a->name, (int)err);
		free(q);
	}
}

/* Each connected agent that is due and announced obtain_system_info. */
static void sample_due(struct state *st, int64_t now)
{
	struct peer *p;

	if (!st->history_ms)
		return;
	for (p = peers_next_agent(st->s->peers.head); p; p = peers_next_agent(p->next)) {
		struct roster_agent *a = roster_find(&st->roster, p->name);

		if (!a || a->sampling || now < a->next_sample_ms ||
		    !peer_offers(p, "obtain_system_info"))
			continue;
		a->next_sample_ms = now + st->history_ms;
		sample(st, a);
	}
}

/* ---- the timer ---- */

static void tick(struct loop_src *src, short revents)
{
	struct state *st = src->arg;
	int64_t now = loop_now();

	sample_due(st, now);
	sessions_expire(&st->sessions, now_s());
	if (now >= st->save_at) {
		int hist = now >= st->history_save_at;

		roster_touch(&st->roster, now_s());
		save_dirty(st, hist);
		st->saved_at = now;
		st->save_at = now + CFG_STATE_SAVE_MS;
		if (hist)
			st->history_save_at = now + CFG_HISTORY_SAVE_MS;
	}
	src->deadline = now + TICK_MS;
}

struct state *state_open(struct server *s, char *err, size_t errlen)
{
	struct state *st = calloc(1, sizeof(*st));

	if (!st) {
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->s = s;
	st->history_ms = s->o->history_ms;
	roster_init(&st->roster);
	sessions_init(&st->sessions);
	load_all(st);
	st->save_at = loop_now() + CFG_STATE_SAVE_MS;
	st->history_save_at = loop_now() + CFG_HISTORY_SAVE_MS;
	st->timer.fd = -1;
	st->timer.ready = tick;
	st->timer.arg = st;
	st->timer.deadline = loop_now() + TICK_MS;
	if (loop_add(s->loop, &st->timer) < 0) {
		state_close(st);
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->timer_on = 1;
	return st;
}

void state_close(struct state *st)
{
	if (!st)
		return;
	if (st->timer_on)
		loop_del(st->s->loop, &st->timer);
	roster_touch(&st->roster, now_s());
	save_dirty(st, 1);
	roster_free(&st->roster);
	sessions_free(&st->sessions);
	free(st);
}

void state_agent_up(struct state *st, const struct peer *p)
{
	struct roster_info in = {
		.name = p->name, .owner = p->owner, .version = p->version, .hostname = p->hostname,
		.backend = p->backend, .commands = p->commands,
	};
	struct roster_agent *a = roster_seen(&st->roster, &in, now_s());

	if (!a) {
		log_warn("%s: not remembered: %d agents are remembered already, all online",
			 p->name, st->roster.n);
		return;
	}
	a->next_sample_ms = loop_now() + CFG_HISTORY_FIRST_MS;
	state_changed(st);
}

void state_agent_down(struct state *st, const struct peer *p)
{
	roster_left(&st->roster, p->name, now_s());
	state_changed(st);
}

struct roster *state_roster(struct state *st)
{
	return &st->roster;
}

struct sessions *state_sessions(struct state *st)
{
	return &st->sessions;
}

/* Soon, but at most one write every CFG_STATE_QUICK_MS: a thousand
 * agents reconnecting at once do not cost a thousand writes. */
void state_changed(struct state *st)
{
	int64_t soon = st->saved_at + CFG_STATE_QUICK_MS;

	if (soon < st->save_at)
		st->save_at = soon;
}

long long state_history_ms(const struct state *st)
{
	return st->history_ms;
}
