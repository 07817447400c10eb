/* server_nats.c - libnats inside our event loop (see server_nats.h).
 *
 * The client's external event-loop hooks (natsOptions_SetEventLoop) give
 * us four calls: attach a socket, start or stop polling it for reading,
 * for writing, detach.  They come from our own thread (publishing,
 * reading) and from the client's (its reconnecting thread attaches the new
 * socket, its ping timer asks to write).  Messages are delivered on the
 * client's delivery thread (one pool thread for every subscription:
 * natsOptions_UseGlobalMessageDelivery), and its connection events on yet
 * another.  Everything that does not arrive on our thread goes into one
 * queue, under the only mutex here, and an eventfd wakes the loop; the
 * loop then applies the socket changes first, in order, and hands the
 * messages and events up.
 *
 * We poll a dup() of the client's socket, not the socket itself: the
 * client closes its descriptor when a connection drops, possibly on
 * another thread, and the number may be reused at once by an agent's
 * connection; a descriptor of our own stays ours until we close it. */
#include "server_nats.h"

#if NESTD_NATS

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nats/nats.h>

#include "config.h"
#include "fmt.h"
#include "log.h"
#include "loop.h"
#include "token.h"
#include "num.h"

enum hev_kind { HEV_ATTACH, HEV_READ, HEV_WRITE, HEV_DETACH, HEV_MSG, HEV_STATE };
enum hev_state { ST_CONNECTED, ST_DISCONNECTED, ST_RECONNECTED, ST_CLOSED, ST_ERROR };

/* One thing that happened on another thread, for the loop. */
struct hev {
	struct hev *next;
	enum hev_kind kind;
	int fd, on, tag;
	enum hev_state st;
	natsStatus err;
	natsMsg *msg;
};

/* A subscription's closure: lives as long as the link, so a message the
 * client delivers after we unsubscribed still finds it. */
struct tagc {
	struct nats_link *k;
	int tag;
};

struct nats_sub {
	struct nats_sub *next, **pprev;
	natsSubscription *s;          /* NULL until done (the link was down) */
	char *subject, *queue;
	int tag;
	int polled;                   /* a synchronous subscription we drain */
};

#define MAX_POLLED 4

struct nats_link {
	struct loop *loop;
	struct nats_ops ops;
	void *arg;
	natsOptions *opts;
	natsConnection *nc;
	pthread_t loop_thread;
	/* the hand-off from the client's threads */
	pthread_mutex_t mu;
	struct hev *head, *tail;
	int pending_sock;             /* socket changes in the queue */
	int dead;                     /* closing: the queue takes nothing more */
	struct loop_src wake;         /* the eventfd */
	/* the socket, polled as the client asks */
	struct loop_src sock;         /* fd: our dup, -1 when none */
	int rd, wr;
	int up, closing;
	int lost;                     /* went down inside a client call: tell later */
	int announce;                 /* connected in nats_open: tell from the loop */
	struct loop_src reopen;       /* the connection closed for good: a new one */
	struct nats_sub *subs;        /* every subscription we hold */
	struct nats_sub *doomed;      /* unsubscribed while the link was down */
	struct nats_sub *polled[MAX_POLLED];
	int npolled;
	struct tagc tags[NATS_MAX_TAGS];
};

int nats_available(void)
{
	return 1;
}

const char *nats_version(void)
{
	return "libnats " NATS_VERSION_STRING;
}

/* ---- the hand-off ---- */

/* Any thread.  Once the link is closing, what comes is dropped here, on
 * the client's own thread while the client is still alive. */
static void handoff(struct nats_link *k, struct hev *e)
{
	int was_empty;
	uint64_t one = 1;

	pthread_mutex_lock(&k->mu);
	if (k->dead) {
		pthread_mutex_unlock(&k->mu);
		if (e->kind == HEV_MSG)
			natsMsg_Destroy(e->msg);
		free(e);
		return;
	}
	was_empty = !k->head;
	if (k->tail)
		k->tail->next = e;
	else
		k->head = e;
	k->tail = e;
	if (e->kind <= HEV_DETACH)
		k->pending_sock++;
	pthread_mutex_unlock(&k->mu);
	if (was_empty && write(k->wake.fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the loop is woken anyway */
	}
}

static int on_loop_thread(const struct nats_link *k)
{
	return pthread_equal(pthread_self(), k->loop_thread);
}

/* ---- the socket, as the client asks for it (loop thread) ---- */

static void sock_release(struct nats_link *k)
{
	if (k->sock.fd < 0)
		return;
	loop_del(k->loop, &k->sock);
	close(k->sock.fd);
	k->sock.fd = -1;
	k->rd = k->wr = 0;
}

static void sock_apply(struct nats_link *k, const struct hev *e)
{
	switch (e->kind) {
	case HEV_ATTACH:
		sock_release(k);
		k->sock.fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 3);
		if (k->sock.fd < 0) {
			log_error("cluster: cannot poll the NATS socket: %s", strerror(errno));
			return;
		}
		k->rd = 1;
		k->wr = 0;
		if (loop_add(k->loop, &k->sock) < 0) {
			close(k->sock.fd);
			k->sock.fd = -1;
		}
		return;
	case HEV_READ:
		k->rd = e->on;
		if (!e->on) {          /* the client stops reading: the connection is gone */
			sock_release(k);
			/* No more calls into the client from now on; the news goes
			 * up from the wake source, outside the client's call. */
			if (k->up) {
				k->up = 0;
				k->lost = 1;
				loop_defer(k->loop, &k->wake);
			}
		}
		return;
	case HEV_WRITE:
		k->wr = e->on;
		if (e->on && k->sock.fd >= 0)
			loop_defer(k->loop, &k->sock);   /* out before this round's wait */
		return;
	default:
		sock_release(k);
		return;
	}
}

/* The client's event-loop hooks: any thread, always under the client's
 * connection lock, so two never run at once.  On our thread, with no
 * change of another thread still queued, they take effect at once. */
static natsStatus sock_op(struct nats_link *k, enum hev_kind kind, int fd, int on)
{
	struct hev e0 = { .kind = kind, .fd = fd, .on = on }, *e;
	int direct = 0;

	if (on_loop_thread(k)) {
		pthread_mutex_lock(&k->mu);
		direct = k->pending_sock == 0;
		pthread_mutex_unlock(&k->mu);
	}
	if (direct) {
		sock_apply(k, &e0);
		return NATS_OK;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return NATS_NO_MEMORY;
	*e = e0;
	e->next = NULL;
	handoff(k, e);
	return NATS_OK;
}

static natsStatus ev_attach(void **user, void *loop, natsConnection *nc, natsSock fd)
{
	*user = loop;
	return sock_op(loop, HEV_ATTACH, (int)fd, 1);
}

static natsStatus ev_read(void *user, bool add)
{
	return sock_op(user, HEV_READ, -1, add);
}

static natsStatus ev_write(void *user, bool add)
{
	return sock_op(user, HEV_WRITE, -1, add);
}

static natsStatus ev_detach(void *user)
{
	return sock_op(user, HEV_DETACH, -1, 0);
}

static short sock_want(struct loop_src *src)
{
	struct nats_link *k = src->arg;

	return (short)((k->rd ? POLLIN : 0) | (k->wr ? POLLOUT : 0));
}

static void deliver(struct nats_link *k, int tag, natsMsg *msg);

/* What the last reads left in the polled subscriptions. */
static void poll_subs(struct nats_link *k)
{
	natsMsg *m;
	int i;

	for (i = 0; i < k->npolled; i++) {
		struct nats_sub *s = k->polled[i];

		while (s->s && k->up && natsSubscription_NextMsg(&m, s->s, 0) == NATS_OK)
			deliver(k, s->tag, m);
	}
}

static void sock_ready(struct loop_src *src, short revents)
{
	struct nats_link *k = src->arg;
	int i, avail;

	/* The client reads one buffer per call: read on while bytes wait,
	 * a bounded number of times so other sources get their turn. */
	if (revents & (POLLIN | POLLERR | POLLHUP))
		for (i = 0; i < 16 && k->sock.fd >= 0; i++) {
			natsConnection_ProcessReadEvent(k->nc);
			if (k->sock.fd < 0 || ioctl(k->sock.fd, FIONREAD, &avail) < 0 || avail <= 0)
				break;
		}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		poll_subs(k);
	if ((revents & POLLOUT) && k->sock.fd >= 0 && k->wr)
		natsConnection_ProcessWriteEvent(k->nc);
}

/* ---- messages and connection events (client threads) ---- */

static void on_client_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	struct tagc *t = closure;
	struct hev *e = calloc(1, sizeof(*e));

	if (!e) {
		natsMsg_Destroy(msg);
		return;
	}
	e->kind = HEV_MSG;
	e->tag = t->tag;
	e->msg = msg;
	handoff(t->k, e);
}

static void post_state(struct nats_link *k, enum hev_state st, natsStatus err)
{
	struct hev *e = calloc(1, sizeof(*e));

	if (!e)
		return;
	e->kind = HEV_STATE;
	e->st = st;
	e->err = err;
	handoff(k, e);
}

static void on_connected(natsConnection *nc, void *k)    { post_state(k, ST_CONNECTED, NATS_OK); }
static void on_disconnected(natsConnection *nc, void *k) { post_state(k, ST_DISCONNECTED, NATS_OK); }
static void on_reconnected(natsConnection *nc, void *k)  { post_state(k, ST_RECONNECTED, NATS_OK); }
static void on_closed(natsConnection *nc, void *k)       { post_state(k, ST_CLOSED, NATS_OK); }

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *k)
{
	post_state(k, ST_ERROR, err);
}

/* ---- subscriptions (loop thread) ---- */

static void sub_do(struct nats_link *k, struct nats_sub *s)
{
	natsStatus st;

	if (s->polled)
		st = natsConnection_SubscribeSync(&s->s, k->nc, s->subject);
	else if (s->queue)
		st = natsConnection_QueueSubscribe(&s->s, k->nc, s->subject, s->queue,
						   on_client_msg, &k->tags[s->tag]);
	else
		st = natsConnection_Subscribe(&s->s, k->nc, s->subject, on_client_msg,
					      &k->tags[s->tag]);
	if (st != NATS_OK) {
		s->s = NULL;
		log_warn("cluster: subscribing to %s: %s", s->subject, natsStatus_GetText(st));
	}
}

static void sub_free(struct nats_sub *s)
{
	free(s->subject);
	free(s->queue);
	free(s);
}

/* The link is back: what was asked for meanwhile is done now. */
static void subs_catch_up(struct nats_link *k)
{
	struct nats_sub *s;

	while ((s = k->doomed)) {
		k->doomed = s->next;
		natsSubscription_Unsubscribe(s->s);
		natsSubscription_Destroy(s->s);
		sub_free(s);
	}
	for (s = k->subs; s; s = s->next)
		if (!s->s)
			sub_do(k, s);
}

struct nats_sub *nats_subscribe(struct nats_link *k, const char *subject, const char *queue,
				int tag)
{
	struct nats_sub *s = calloc(1, sizeof(*s));

	if (!s || !(s->subject = strdup(subject)) || (queue && !(s->queue = strdup(queue)))) {
		if (s)
			sub_free(s);
		return NULL;
	}
	s->tag = tag >= 0 && tag < NATS_MAX_TAGS ? tag : 0;
	s->next = k->subs;
	if (s->next)
		s->next->pprev = &s->next;
	s->pprev = &k->subs;
	k->subs = s;
	if (k->up)
		sub_do(k, s);
	return s;
}

struct nats_sub *nats_subscribe_polled(struct nats_link *k, const char *subject, int tag)
{
	struct nats_sub *s;

	if (k->npolled == MAX_POLLED)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->subject = strdup(subject))) {
		free(s);
		return NULL;
	}
	s->tag = tag >= 0 && tag < NATS_MAX_TAGS ? tag : 0;
	s->polled = 1;
	s->next = k->subs;
	if (s->next)
		s->next->pprev = &s->next;
	s->pprev = &k->subs;
	k->subs = s;
	k->polled[k->npolled++] = s;
	if (k->up)
		sub_do(k, s);
	return s;
}

void nats_unsubscribe(struct nats_link *k, struct nats_sub *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < k->npolled; i++)
		if (k->polled[i] == s)
			k->polled[i] = k->polled[--k->npolled];
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	if (s->s && !k->up) {          /* the client is busy reconnecting: later */
		s->next = k->doomed;
		k->doomed = s;
		return;
	}
	if (s->s) {
		natsSubscription_Unsubscribe(s->s);
		natsSubscription_Destroy(s->s);
	}
	sub_free(s);
}

/* ---- the link's state (loop thread, never inside a client call) ---- */

static void set_up(struct nats_link *k, int up, const char *detail)
{
	char url[256] = "";

	if (k->up == up)
		return;
	k->up = up;
	if (up) {
		if (natsConnection_GetConnectedUrl(k->nc, url, sizeof(url)) != NATS_OK)
			fmt_snprintf(url, sizeof(url), "?");
		subs_catch_up(k);
		detail = url;
	}
	k->ops.on_link(k->arg, up ? NATS_EV_UP : NATS_EV_DOWN, detail);
}

/* Every subscription's client object belongs to the old connection. */
static void subs_forget(struct nats_link *k)
{
	struct nats_sub *s;

	while ((s = k->doomed)) {
		k->doomed = s->next;
		natsSubscription_Destroy(s->s);
		sub_free(s);
	}
	for (s = k->subs; s; s = s->next) {
		if (s->s)
			natsSubscription_Destroy(s->s);
		s->s = NULL;
	}
}

static void on_state(struct nats_link *k, enum hev_state st, natsStatus err)
{
	char why[160];

	switch (st) {
	case ST_CONNECTED:
	case ST_RECONNECTED:
		set_up(k, 1, NULL);
		break;
	case ST_DISCONNECTED:
		set_up(k, 0, "disconnected from NATS");
		break;
	case ST_CLOSED:
		set_up(k, 0, "NATS connection closed");
		if (!k->closing && !k->reopen.deadline) {
			const char *last = NULL;

			/* Why it closed (an authorization violation, a TLS failure): the
			 * client's own words, which name no secret. */
			if (k->nc && natsConnection_GetLastError(k->nc, &last) != NATS_OK && last && *last) {
				fmt_copy(why, sizeof(why), last);
				k->ops.on_link(k->arg, NATS_EV_ERROR, why);
			}
			k->reopen.deadline = loop_now() + CFG_CLUSTER_REOPEN_MS;
			loop_touch(k->loop, &k->reopen);
			log_warn("cluster: the NATS connection closed; a new one in %d ms",
				 CFG_CLUSTER_REOPEN_MS);
		}
		break;
	case ST_ERROR:
		fmt_copy(why, sizeof(why), natsStatus_GetText(err));
		k->ops.on_link(k->arg, NATS_EV_ERROR, why);
		break;
	}
}

static void deliver(struct nats_link *k, int tag, natsMsg *msg)
{
	struct nats_msg v = { 0 };
	const char *st = NULL;
	jsMsgMetaData *md = NULL;

	v.subject = natsMsg_GetSubject(msg);
	v.reply = natsMsg_GetReply(msg);
	v.data = natsMsg_GetData(msg);
	v.len = (size_t)natsMsg_GetDataLength(msg);
	v.m_ = msg;
	if (natsMsgHeader_Get(msg, "Status", &st) == NATS_OK && st)
		v.status = num_atoi(st);
	if (v.reply && strncmp(v.reply, "$JS.ACK.", 8) == 0 &&
	    natsMsg_GetMetaData(&md, msg) == NATS_OK) {
		v.js = 1;
		v.js_stream_seq = md->Sequence.Stream;
		v.js_consumer_seq = md->Sequence.Consumer;
		v.js_pending = md->NumPending;
		jsMsgMetaData_Destroy(md);
	}
	k->ops.on_msg(k->arg, tag, &v);
	natsMsg_Destroy(msg);
}

/* The eventfd: everything the client's threads queued, socket changes
 * first (in the order they were asked), then messages and events. */
static void wake_ready(struct loop_src *src, short revents)
{
	struct nats_link *k = src->arg;
	struct hev *list, *e, *next;
	uint64_t n;

	if (read(k->wake.fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("cluster: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&k->mu);
	list = k->head;
	k->head = k->tail = NULL;
	k->pending_sock = 0;
	pthread_mutex_unlock(&k->mu);
	for (e = list; e; e = e->next)
		if (e->kind <= HEV_DETACH)
			sock_apply(k, e);
	if (k->lost) {
		k->lost = 0;
		k->ops.on_link(k->arg, NATS_EV_DOWN, "connection to NATS lost");
	}
	if (k->announce) {
		k->announce = 0;
		set_up(k, 1, NULL);
	}
	for (e = list; e; e = next) {
		next = e->next;
		if (e->kind == HEV_MSG && k->closing)
			natsMsg_Destroy(e->msg);
		else if (e->kind == HEV_MSG)
			deliver(k, e->tag, e->msg);
		else if (e->kind == HEV_STATE)
			on_state(k, e->st, e->err);
		free(e);
	}
}

/* ---- options and connecting ---- */

/* A secret file: ours alone to read. */
static int secret_file_ok(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fmt_snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (st.st_mode & 077) {
		fmt_snprintf(err, errlen, "%s %s is readable by others (chmod 600 it)", what, path);
		return -1;
	}
	return 0;
}

static int set_servers(natsOptions *o, const char *urls, char *err, size_t errlen)
{
	char copy[CFG_CLUSTER_URLS_MAX + 1], *save = NULL, *t;
	const char *list[CFG_CLUSTER_URLS_N];
	int n = 0;

	fmt_copy(copy, sizeof(copy), urls);
	for (t = strtok_r(copy, ",", &save); t && n < CFG_CLUSTER_URLS_N; t = strtok_r(NULL, ",", &save))
		list[n++] = t;
	if (n == 0 || natsOptions_SetServers(o, list, n) != NATS_OK) {
		fmt_snprintf(err, errlen, "--cluster '%s': %s", urls, nats_GetLastError(NULL));
		return -1;
	}
	return 0;
}

/* User and password, a token or a .creds file; TLS with a CA. */
static int set_auth(natsOptions *o, const struct nats_cfg *c, char *err, size_t errlen)
{
	char line[1024], *colon;
	natsStatus st = NATS_OK;

	if (c->user_file[0]) {
		if (token_read_file(c->user_file, line, sizeof(line), err, errlen) < 0)
			return -1;
		colon = strchr(line, ':');
		if (!colon) {
			fmt_snprintf(err, errlen, "%s: expected one line user:password", c->user_file);
			return -1;
		}
		*colon = '\0';
		st = natsOptions_SetUserInfo(o, line, colon + 1);
		memset(line, 0, sizeof(line));
	}
	if (st == NATS_OK && c->token_file[0]) {
		if (token_read_file(c->token_file, line, sizeof(line), err, errlen) < 0)
			return -1;
		st = natsOptions_SetToken(o, line);
		memset(line, 0, sizeof(line));
	}
	if (st == NATS_OK && c->creds_file[0]) {
		if (secret_file_ok("--cluster-creds", c->creds_file, err, errlen) < 0)
			return -1;
		st = natsOptions_SetUserCredentialsFromFiles(o, c->creds_file, NULL);
	}
	if (st == NATS_OK && c->ca_file[0]) {
		st = natsOptions_SetSecure(o, true);
		if (st == NATS_OK)
			st = natsOptions_LoadCATrustedCertificates(o, c->ca_file);
	}
	if (st == NATS_OK && c->cert_file[0])
		st = natsOptions_LoadCertificatesChain(o, c->cert_file, c->key_file);
	if (st != NATS_OK) {
		fmt_snprintf(err, errlen, "NATS credentials or TLS files: %s", nats_GetLastError(NULL));
		return -1;
	}
	return 0;
}

int nats_apply_cfg(void *opts, const struct nats_cfg *c, char *err, size_t errlen)
{
	if (set_servers(opts, c->urls, err, errlen) < 0 || set_auth(opts, c, err, errlen) < 0)
		return -1;
	return 0;
}

static int set_options(struct nats_link *k, const struct nats_cfg *c, char *err, size_t errlen)
{
	natsOptions *o = k->opts;
	natsStatus st;

	if (nats_apply_cfg(o, c, err, errlen) < 0)
		return -1;
	st = natsOptions_SetName(o, c->name);
	if (st == NATS_OK)
		st = natsOptions_SetEventLoop(o, k, ev_attach, ev_read, ev_write, ev_detach);
	if (st == NATS_OK)
		st = natsOptions_UseGlobalMessageDelivery(o, true);
	if (st == NATS_OK)
		st = natsOptions_SetSendAsap(o, true);          /* no flusher thread */
	if (st == NATS_OK)
		st = natsOptions_SetNoRandomize(o, true);       /* the first URL first: the local node */
	if (st == NATS_OK)
		st = natsOptions_SetMaxReconnect(o, -1);        /* forever */
	if (st == NATS_OK)
		st = natsOptions_SetReconnectWait(o, CFG_CLUSTER_RECONNECT_MS);
	if (st == NATS_OK)
		st = natsOptions_SetReconnectJitter(o, CFG_CLUSTER_RECONNECT_MS / 2,
						    CFG_CLUSTER_RECONNECT_MS);
	if (st == NATS_OK)
		st = natsOptions_SetTimeout(o, CFG_CLUSTER_CONNECT_TIMEOUT_MS);
	if (st == NATS_OK)
		st = natsOptions_SetPingInterval(o, CFG_CLUSTER_PING_MS);
	if (st == NATS_OK)
		st = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, k);
	if (st == NATS_OK)
		st = natsOptions_SetDisconnectedCB(o, on_disconnected, k);
	if (st == NATS_OK)
		st = natsOptions_SetReconnectedCB(o, on_reconnected, k);
	if (st == NATS_OK)
		st = natsOptions_SetClosedCB(o, on_closed, k);
	if (st == NATS_OK)
		st = natsOptions_SetErrorHandler(o, on_async_error, k);
	if (st != NATS_OK) {
		fmt_snprintf(err, errlen, "NATS options: %s", nats_GetLastError(NULL));
		return -1;
	}
	return 0;
}

/* Connects now if a NATS server answers, else in the background.  The
 * news goes up from the loop, once the caller has its link in hand. */
static void link_connect(struct nats_link *k)
{
	natsStatus st = natsConnection_Connect(&k->nc, k->opts);
	uint64_t one = 1;

	if (st == NATS_OK) {
		k->announce = 1;
		if (write(k->wake.fd, &one, sizeof(one)) < 0) {
			/* the counter is full: the loop is woken anyway */
		}
	} else if (st == NATS_NOT_YET_CONNECTED) {
		log_warn("cluster: NATS not reached yet; connecting in the background");
	} else {
		log_error("cluster: cannot connect to NATS: %s", natsStatus_GetText(st));
		k->nc = NULL;
		k->reopen.deadline = loop_now() + CFG_CLUSTER_REOPEN_MS;
		loop_touch(k->loop, &k->reopen);
	}
}

static void reopen_ready(struct loop_src *src, short revents)
{
	struct nats_link *k = src->arg;

	k->reopen.deadline = 0;
	if (k->closing)
		return;
	subs_forget(k);
	sock_release(k);
	if (k->nc)
		natsConnection_Destroy(k->nc);
	k->nc = NULL;
	link_connect(k);
}

static int link_sources(struct nats_link *k)
{
	k->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	k->wake.ready = wake_ready;
	k->wake.arg = k;
	k->sock.fd = -1;
	k->sock.want = sock_want;
	k->sock.ready = sock_ready;
	k->sock.arg = k;
	k->reopen.fd = -1;
	k->reopen.ready = reopen_ready;
	k->reopen.arg = k;
	if (k->wake.fd < 0)
		return -1;
	if (loop_add(k->loop, &k->wake) < 0 || loop_add(k->loop, &k->reopen) < 0)
		return -1;
	return 0;
}

struct nats_link *nats_open(struct loop *l, const struct nats_cfg *cfg,
			    const struct nats_ops *ops, void *arg, char *err, size_t errlen)
{
	struct nats_link *k = calloc(1, sizeof(*k));
	int i;

	if (!k || nats_Open(-1) != NATS_OK) {
		fmt_snprintf(err, errlen, "cannot start the NATS client");
		free(k);
		return NULL;
	}
	k->loop = l;
	k->ops = *ops;
	k->arg = arg;
	k->loop_thread = pthread_self();
	pthread_mutex_init(&k->mu, NULL);
	for (i = 0; i < NATS_MAX_TAGS; i++) {
		k->tags[i].k = k;
		k->tags[i].tag = i;
	}
	nats_SetMessageDeliveryPoolSize(1);
	if (link_sources(k) < 0 || natsOptions_Create(&k->opts) != NATS_OK) {
		fmt_snprintf(err, errlen, "out of memory");
		nats_close(k);
		return NULL;
	}
	if (set_options(k, cfg, err, errlen) < 0) {
		nats_close(k);
		return NULL;
	}
	link_connect(k);
	return k;
}

void nats_close(struct nats_link *k)
{
	struct nats_sub *s;
	struct hev *e, *list;

	if (!k)
		return;
	/* What the last round queued (a server leaving says so) goes out
	 * first: the loop will not run again. */
	if (k->up && k->sock.fd >= 0 && k->wr)
		natsConnection_ProcessWriteEvent(k->nc);
	k->closing = 1;
	while ((s = k->subs)) {
		k->subs = s->next;
		if (s->s)
			natsSubscription_Destroy(s->s);
		sub_free(s);
	}
	subs_forget(k);
	if (k->nc)
		natsConnection_Destroy(k->nc);       /* detaches: our socket goes */
	if (k->opts)
		natsOptions_Destroy(k->opts);
	/* What is queued goes while the client is alive (a message is the
	 * client's to free); what its threads still hand over, handoff drops. */
	pthread_mutex_lock(&k->mu);
	k->dead = 1;
	list = k->head;
	k->head = k->tail = NULL;
	pthread_mutex_unlock(&k->mu);
	while ((e = list)) {
		list = e->next;
		if (e->kind == HEV_MSG)
			natsMsg_Destroy(e->msg);
		free(e);
	}
	nats_CloseAndWait(CFG_CLUSTER_CLOSE_WAIT_MS);   /* no client thread runs after this */
	sock_release(k);
	if (k->wake.fd >= 0) {
		loop_del(k->loop, &k->wake);
		close(k->wake.fd);
	}
	loop_del(k->loop, &k->reopen);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

int nats_is_up(const struct nats_link *k)
{
	return k && k->up;
}

long long nats_max_payload(const struct nats_link *k)
{
	return k->up ? (long long)natsConnection_GetMaxPayload(k->nc) : 0;
}

int nats_new_inbox(struct nats_link *k, char *out, size_t n)
{
	natsInbox *in = NULL;
	int rc = -1;

	if (natsInbox_Create(&in) == NATS_OK && strlen(in) < n) {
		fmt_copy(out, n, in);
		rc = 0;
	}
	natsInbox_Destroy(in);
	return rc;
}

int nats_publish(struct nats_link *k, const char *subject, const char *reply,
		 const struct nats_hdr *h, int nh, const void *data, size_t n)
{
	natsMsg *m = NULL;
	natsStatus st;
	int i;

	if (!k->up)
		return -1;
	if (nh == 0 && reply) {
		st = natsConnection_PublishRequest(k->nc, subject, reply, data, (int)n);
	} else if (nh == 0) {
		st = natsConnection_Publish(k->nc, subject, data, (int)n);
	} else {
		st = natsMsg_Create(&m, subject, reply, data, (int)n);
		for (i = 0; st == NATS_OK && i < nh; i++)
			st = natsMsgHeader_Set(m, h[i].key, h[i].val);
		if (st == NATS_OK)
			st = natsConnection_PublishMsg(k->nc, m);
		natsMsg_Destroy(m);
	}
	if (st != NATS_OK) {
		log_debug("cluster: publish to %s: %s", subject, natsStatus_GetText(st));
		return -1;
	}
	return 0;
}

const char *nats_msg_header(const struct nats_msg *m, const char *key)
{
	const char *v = NULL;

	if (natsMsgHeader_Get(m->m_, key, &v) != NATS_OK)
		return NULL;
	return v;
}

#else /* !NESTD_NATS: built without libnats */

#include <stdio.h>

#include "fmt.h"

int nats_available(void)
{
	return 0;
}

const char *nats_version(void)
{
	return "";
}

struct nats_link *nats_open(struct loop *l, const struct nats_cfg *cfg,
			    const struct nats_ops *ops, void *arg, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "--cluster: this nestd was built without NATS "
		 "(make NATS=1 with libnats-dev installed)");
	return NULL;
}

void nats_close(struct nats_link *k) { }
int  nats_apply_cfg(void *opts, const struct nats_cfg *c, char *err, size_t errlen) { return -1; }
int  nats_is_up(const struct nats_link *k) { return 0; }
long long nats_max_payload(const struct nats_link *k) { return 0; }
int  nats_new_inbox(struct nats_link *k, char *out, size_t n) { return -1; }

int nats_publish(struct nats_link *k, const char *subject, const char *reply,
		 const struct nats_hdr *h, int nh, const void *data, size_t n)
{
	return -1;
}

struct nats_sub *nats_subscribe(struct nats_link *k, const char *subject, const char *queue,
				int tag)
{
	return NULL;
}

void nats_unsubscribe(struct nats_link *k, struct nats_sub *s) { }
const char *nats_msg_header(const struct nats_msg *m, const char *key) { return NULL; }

#endif
