/* server_cluster.c - the fleet: the NATS link, the JetStream buckets,
 * presence and the one-session-per-agent rule (see server_cluster.h; the
 * rule itself is server_fleet.c's, the routed commands server_remote.c's).
 *
 * Buckets (JetStream key-value, so `nats kv` shows them), under --cluster-prefix P:
 *   P_nodes    one key per server, put every CFG_CLUSTER_HEARTBEAT_MS; the
 *              bucket's max_age drops a dead server's within seconds;
 *              every server subscribes to the puts themselves
 *   P_agents   one key per agent: the claim of the session that holds it
 *              (which server, which run, which session, when); followed by
 *              an ordered push consumer (last value per key, then every
 *              change), so every server holds the whole fleet's presence
 * A claim counts only while its server's heartbeat does: a server that
 * dies loses its claims at once for every view, and the next session of
 * each of its agents, wherever it lands, wins (the later put).
 *
 * Requests to JetStream (stream creation, puts and their acks, the
 * consumer) are publishes with a reply subject on our inbox; a slot table
 * remembers what each answer is for.  Nothing here blocks. */
/* Without libnats (make NATS=0, the static binaries) this is compiled out:
 * server_cluster.c's stubs stand in for the cluster. */
#if NESTD_NATS

#include "server_cluster_int.h"
#include "server_cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "rnd.h"
#include "server_opts.h"
#include "server_peer.h"
#include "server_where.h"
#include "num.h"

/* ---- names ---- */

static const char *prefix(const struct cluster *c)
{
	return c->co->prefix;
}

/* "$KV.P_bucket.key" */
void kv_subject(const struct cluster *c, const char *bucket, const char *key, char *out,
		       size_t n)
{
	fmt_snprintf(out, n, "$KV.%s_%s.%s", prefix(c), bucket, key);
}

static void kv_stream(const struct cluster *c, const char *bucket, char *out, size_t n)
{
	fmt_snprintf(out, n, "KV_%s_%s", prefix(c), bucket);
}

static void new_id(char out[FLEET_ID_LEN + 1])
{
	unsigned char r[FLEET_ID_LEN / 2];
	int i;

	if (rnd_bytes(r, sizeof(r)) < 0)
		memset(r, 0, sizeof(r));
	for (i = 0; i < FLEET_ID_LEN / 2; i++)
		fmt_snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static long long wall_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ---- JetStream: the buckets ---- */

#define NS 1000000000ll

/* A setup round failed: the next one soon (leaders are elected within
 * seconds of a NATS node's loss), later each time it fails again.  Its
 * other requests count for nothing now (js_round). */
static void js_fail(struct cluster *c, const char *why)
{
	char now[sizeof(c->js_why)];
	int64_t wait = CFG_CLUSTER_JS_RETRY_MS;
	int i;

	for (i = 1; i < c->js_tries && wait < CFG_CLUSTER_REOPEN_MS; i++)
		wait *= 2;
	if (wait > CFG_CLUSTER_REOPEN_MS)
		wait = CFG_CLUSTER_REOPEN_MS;
	fmt_snprintf(now, sizeof(now), "JetStream: %s", why);
	if (strcmp(c->js_why, now) != 0)
		log_warn("cluster: JetStream: %s; trying again, at most every %d s", why,
			 CFG_CLUSTER_REOPEN_MS / 1000);
	fmt_copy(c->js_why, sizeof(c->js_why), now);
	c->js = JS_SETUP;
	c->js_round++;
	c->streams_pending = 0;
	c->js_retry_at = loop_now() + wait;
}

/* A stream: a key-value bucket's (kv: the configuration nats.go and
 * nats.c give one: one value per key, deletes as markers, direct gets,
 * refusals rather than losses) or a log's (the oldest entries go first). */
static int stream_create(struct cluster *c, const char *name, const char *subj, long long ttl_s,
			 long long max_bytes, int kv)
{
	char api[160];
	long long dup = ttl_s && ttl_s < 120 ? ttl_s : 120;
	struct pend *p;
	struct buf b;
	struct jw w;
	int rc;

	fmt_snprintf(api, sizeof(api), "$JS.API.STREAM.CREATE.%s", name);
	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "name", name);
	jw_key(&w, "subjects");
	jw_arr(&w);
	jw_str(&w, subj);
	jw_arr_end(&w);
	jw_kstr(&w, "retention", "limits");
	jw_kint(&w, "max_consumers", -1);
	jw_kint(&w, "max_msgs", -1);
	jw_kint(&w, "max_bytes", max_bytes);
	jw_kint(&w, "max_age", ttl_s * NS);
	jw_kint(&w, "max_msgs_per_subject", kv ? 1 : -1);
	jw_kint(&w, "max_msg_size", -1);
	jw_kstr(&w, "storage", "file");
	jw_kstr(&w, "discard", kv ? "new" : "old");
	jw_kint(&w, "num_replicas", c->co->replicas);
	jw_kint(&w, "duplicate_window", dup * NS);
	jw_kbool(&w, "allow_rollup_hdrs", kv);
	jw_kbool(&w, "deny_delete", 1);
	jw_kbool(&w, "allow_direct", kv);
	jw_obj_end(&w);
	rc = js_send(c, api, P_STREAM, NULL, 0, &b, &p);
	if (rc == 0) {
		fmt_snprintf(p->name, sizeof(p->name), "%.64s", name);
		p->wgen = c->js_round;
		p->deadline = loop_now() + js_try_timeout(c->js_tries - 1);
		c->streams_pending++;
	}
	buf_free(&b);
	return rc;
}

static int bucket_create(struct cluster *c, const char *bucket, long long ttl_s)
{
	char name[96], subj[128];

	kv_stream(c, bucket, name, sizeof(name));
	fmt_snprintf(subj, sizeof(subj), "$KV.%s_%s.>", prefix(c), bucket);
	return stream_create(c, name, subj, ttl_s, -1, 1);
}

static void js_setup(struct cluster *c)
{
	char name[96], subj[128];

	c->js = JS_SETUP;
	c->js_retry_at = 0;
	c->streams_pending = 0;
	c->js_round++;
	c->js_tries++;
	audit_stream_name(c, name, sizeof(name));
	fmt_snprintf(subj, sizeof(subj), "%s.audit.>", prefix(c));
	if (bucket_create(c, "nodes", CFG_CLUSTER_NODE_TTL_S) < 0 ||
	    bucket_create(c, "agents", CFG_CLUSTER_CLAIM_TTL_S) < 0 ||
	    bucket_create(c, "tokens", 0) < 0 ||
	    stream_create(c, name, subj, CFG_CLUSTER_AUDIT_AGE_S, CFG_CLUSTER_AUDIT_BYTES, 0) < 0)
		js_fail(c, "cannot send to NATS");
}

static void heartbeat(struct cluster *c);
static void watches_check(struct cluster *c, int64_t now);

static void js_ready(struct cluster *c)
{
	c->js = JS_READY;
	c->js_known = 1;
	c->js_tries = 0;
	c->js_why[0] = '\0';
	heartbeat(c);
	watches_check(c, loop_now());
	c->reconcile = 1;
}

/* The link is up (again).  Buckets this server has seen since it started
 * are there still: asking for them again would wait for every stream to
 * have a leader, and one that lost a NATS node takes seconds to elect
 * one.  The watches go at once; a NATS cluster that lost them (a new
 * one at the same addresses) answers "stream not found", and the
 * buckets are set up then (consumer_answer). */
static void js_link_up(struct cluster *c)
{
	if (!c->js_known) {
		js_setup(c);
		return;
	}
	log_info("cluster: JetStream buckets as before (prefix %s); following them again", prefix(c));
	js_ready(c);
}

static void stream_answer(struct cluster *c, const struct pend *p, const struct nats_msg *m)
{
	struct json j;
	char why[200];
	long long code;

	if (c->js != JS_SETUP || p->wgen != c->js_round)
		return;                       /* an earlier round's */
	if (js_answer(m, &j, NULL, &code, why, sizeof(why)) == 0) {
		json_free(&j);
	} else if (code == 10058) {
		/* There with another configuration (other replicas, an older
		 * nestd): used as it is. */
		log_info("cluster: stream %s exists with another configuration; kept as it is", p->name);
	} else {
		js_fail(c, why);
		return;
	}
	if (--c->streams_pending > 0)
		return;
	log_info("cluster: JetStream buckets ready (prefix %s, %d replicas)", prefix(c), c->co->replicas);
	js_ready(c);
}

/* ---- following a bucket ---- */

static void watch_stop(struct cluster *c, struct watch *w)
{
	char stream[96];

	kv_stream(c, w->bucket, stream, sizeof(stream));
	consumer_drop(c, &w->sub, stream, w->consumer);
	w->asked = w->created = w->synced = 0;
}

/* The bucket's last value of every key, then every change. */
static void watch_start(struct cluster *c, struct watch *w)
{
	char stream[96], filter[128];
	int wid = (int)(w - c->w);
	struct pend *p;

	watch_stop(c, w);
	w->gen++;
	w->tries++;
	w->dseq = 0;
	w->last_rx = loop_now();
	fmt_snprintf(w->deliver, sizeof(w->deliver), "%s.%s.%u", c->winbox, w->bucket, w->gen);
	w->sub = nats_subscribe(c->k, w->deliver, NULL, TAG_WATCH + 2 * wid + (int)(w->gen & 1));
	kv_stream(c, w->bucket, stream, sizeof(stream));
	fmt_snprintf(filter, sizeof(filter), "$KV.%s_%s.>", prefix(c), w->bucket);
	if (w->sub && consumer_create(c, stream, w->deliver, filter, 0, 1, P_CONSUMER, &p) == 0) {
		p->wgen = w->gen;
		p->wid = wid;
		p->deadline = loop_now() + js_try_timeout(w->tries - 1);
		w->asked = 1;
		if (w->on_start)
			w->on_start(c);
	}
}

void watch_again(struct cluster *c, int wid)
{
	if (c->js == JS_READY)
		watch_start(c, &c->w[wid]);
}

static void watch_synced(struct cluster *c, struct watch *w)
{
	if (w->synced)
		return;
	w->synced = w->read_once = 1;
	w->tries = 0;
	w->on_synced(c);
}

static void consumer_answer(struct cluster *c, const struct pend *p, const struct nats_msg *m)
{
	struct watch *w = &c->w[p->wid];
	struct json j;
	char why[200];
	long long code, pending = -1;
	int t;

	if (p->wgen != w->gen)
		return;
	if (js_answer(m, &j, NULL, &code, why, sizeof(why)) < 0) {
		log_warn("cluster: following the %s bucket: %s", w->bucket, why);
		w->asked = 0;                 /* the tick tries again */
		if (code == 10059 && c->js == JS_READY) {  /* stream not found */
			c->js_known = 0;
			js_setup(c);
		}
		return;
	}
	t = json_get(&j, 0, "name");
	if (t < 0 || json_strcpy(&j, t, w->consumer, sizeof(w->consumer)) < 0)
		w->consumer[0] = '\0';
	t = json_get(&j, 0, "num_pending");
	if (t >= 0)
		json_int(&j, t, &pending);
	json_free(&j);
	w->created = 1;
	w->last_rx = loop_now();
	if (pending == 0)
		watch_synced(c, w);
}

/* An idle heartbeat names the last delivery the consumer sent.  Ahead
 * of ours: some were lost on the way (say, sent before our interest had
 * reached that NATS node), so it is read anew.  Equal: all it had is
 * here, and the snapshot is whole even if the delivery that said so
 * never came. */
static void watch_idle(struct cluster *c, struct watch *w, const struct nats_msg *m)
{
	const char *v = m->status == 100 ? nats_msg_header(m, "Nats-Last-Consumer") : NULL;
	unsigned long long last;
	char *end;

	if (!v || !w->created)
		return;
	last = num_strtoull(v, &end);
	if (end == v || *end)
		return;
	if (last > w->dseq) {
		log_warn("cluster: the %s bucket's watch missed %llu deliveries; reading it anew",
			 w->bucket, last - w->dseq);
		watch_start(c, w);
	} else if (last == w->dseq) {
		watch_synced(c, w);
	}
}

static void watch_msg(struct cluster *c, int tag, const struct nats_msg *m)
{
	struct watch *w = &c->w[(tag - TAG_WATCH) / 2];
	char base[128];
	size_t bl;

	if ((tag - TAG_WATCH) % 2 != (int)(w->gen & 1) || !w->asked)
		return;                       /* an earlier watch's */
	w->last_rx = loop_now();
	if (m->status == 100 || !m->js) {
		watch_idle(c, w, m);
		return;
	}
	if (w->dseq && m->js_consumer_seq != w->dseq + 1) {
		log_warn("cluster: the %s bucket's watch skipped a change; reading it anew", w->bucket);
		watch_start(c, w);
		return;
	}
	w->dseq = m->js_consumer_seq;
	bl = (size_t)fmt_snprintf(base, sizeof(base), "$KV.%s_%s.", prefix(c), w->bucket);
	if (strncmp(m->subject, base, bl) == 0 && m->subject[bl])
		w->on_entry(c, m->subject + bl, m->js_stream_seq,
			    nats_msg_header(m, "KV-Operation") != NULL, m);
	if (m->js_pending == 0)
		watch_synced(c, w);
}

/* Each watch: started once JetStream is ready, anew when it went silent. */
static void watches_check(struct cluster *c, int64_t now)
{
	int i;

	for (i = 0; i < W_COUNT; i++) {
		struct watch *w = &c->w[i];

		if (w->asked && now - w->last_rx <= CFG_CLUSTER_WATCH_DEAD_MS)
			continue;
		if (w->asked)
			log_warn("cluster: the %s bucket's watch went silent; following it anew",
				 w->bucket);
		watch_start(c, w);
	}
}

/* The bucket whose reading the fleet's views wait for, or NULL.  The
 * presence must be current.  The token store only once: after a watch
 * is lost, the mirror it filled serves on (as the cache file does while
 * the link is down) until the new watch has read the store again, and
 * a stream without a leader (one that lost a NATS node) cannot hold the
 * listing up meanwhile. */
static const char *watches_unsynced(const struct cluster *c)
{
	if (!c->w[W_AGENTS].synced)
		return c->w[W_AGENTS].bucket;
	if (!c->w[W_TOKENS].read_once)
		return c->w[W_TOKENS].bucket;
	return NULL;
}
_Static_assert(W_COUNT == 2, "a new watch: should the fleet's views wait for it (above)?");

/* ---- the agents bucket ---- */

static void reconcile_all(struct cluster *c, int64_t now);

static void act(struct cluster *c, struct fleet_agent *a, enum fleet_verdict v);

/* Its snapshot is read: what it did not show is gone from the bucket. */
static void agents_synced(struct cluster *c)
{
	struct fleet_agent **v;
	size_t i, n;

	v = fleet_sorted(c->fleet, &n);
	for (i = 0; i < n; i++) {
		if (v[i]->gen == c->w[W_AGENTS].gen || !v[i]->has_claim)
			continue;
		if (v[i]->local)
			act(c, v[i], fleet_on_vanished(v[i]));
		else if (fleet_on_vanished(v[i]) == FLEET_KEEP)
			fleet_tidy(c->fleet, v[i]);
	}
	free(v);
	log_info("cluster: the fleet's presence is read: %zu agents in the bucket", fleet_count(c->fleet));
	c->reconcile = 1;
	if (c->env.agent_seen)
		c->env.agent_seen(c->env.arg, NULL);   /* any of them may have come or gone */
}

/* ---- claims ---- */

static void act(struct cluster *c, struct fleet_agent *a, enum fleet_verdict v);

/* The claim's text: whose session, and what the listings show of it. */
static void claim_json(const struct cluster *c, const struct fleet_agent *a, struct buf *b)
{
	const struct peer *p = a->local;
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_kstr(&w, "node", fleet_node(c->fleet));
	jw_kstr(&w, "boot", c->boot);
	jw_kstr(&w, "sid", a->sid);
	jw_kint(&w, "t", a->t_us);
	jw_kstr(&w, "owner", p->owner);
	jw_kint(&w, "since", p->since);
	jw_kstr(&w, "version", p->version);
	jw_kstr(&w, "hostname", p->hostname);
	jw_kstr(&w, "address", p->c->peer);
	jw_kstr(&w, "services", p->backend);
	jw_kint(&w, "uid", p->uid);
	jw_key(&w, "commands");
	if (p->commands)
		jw_raw(&w, p->commands, strlen(p->commands));
	else
		jw_null(&w);
	jw_obj_end(&w);
}

/* Puts our session's claim: plainly for a new session (the later put
 * wins), with compare-and-set on the key's last sequence otherwise. */
static void claim_put(struct cluster *c, struct fleet_agent *a, int cas)
{
	char subj[160], seq[32];
	struct nats_hdr h = { "Nats-Expected-Last-Subject-Sequence", seq };
	struct pend *p;
	struct buf b;

	if (c->js != JS_READY || !a->local)
		return;
	kv_subject(c, "agents", a->name, subj, sizeof(subj));
	fmt_snprintf(seq, sizeof(seq), "%llu", a->seq);
	buf_init(&b, CFG_MAX_FIRST_MESSAGE * 2);
	claim_json(c, a, &b);
	if (js_send(c, subj, P_CLAIM, &h, cas ? 1 : 0, &b, &p) == 0) {
		fmt_copy(p->name, sizeof(p->name), a->name);
		fmt_copy(p->sid, sizeof(p->sid), a->sid);
		if (a->state != FLEET_HELD)
			a->state = FLEET_PENDING;
		a->put_at = loop_now();
	}
	buf_free(&b);
}

/* Deletes our claim, only if it is still the key's last value. */
static void claim_delete(struct cluster *c, const char *name, unsigned long long rev)
{
	char subj[160], seq[32];
	struct nats_hdr h[2] = { { "KV-Operation", "DEL" },
				 { "Nats-Expected-Last-Subject-Sequence", seq } };

	kv_subject(c, "agents", name, subj, sizeof(subj));
	fmt_snprintf(seq, sizeof(seq), "%llu", rev);
	js_send(c, subj, P_UNCLAIM, h, 2, NULL, NULL);
}

static void claim_answer(struct cluster *c, const struct pend *p, const struct nats_msg *m,
			 int timed_out)
{
	struct fleet_agent *a = fleet_get(c->fleet, p->name);
	unsigned long long seq = 0;
	struct json j;
	char why[200] = "no answer in time";
	long long code = 0;
	int ok = !timed_out && js_answer(m, &j, &seq, &code, why, sizeof(why)) == 0;

	if (ok)
		json_free(&j);
	if (!ok && code != 10071)        /* 10071: wrong last sequence, the CAS lost */
		log_warn("cluster: claim of %s not stored: %s", p->name, why);
	if (!a || !a->local || strcmp(a->sid, p->sid) != 0) {
		/* That session has gone meanwhile: take its claim back out. */
		if (ok && (!a || a->seq <= seq))
			claim_delete(c, p->name, seq);
		return;
	}
	if (!ok)
		c->reconcile = 1;
	act(c, a, fleet_on_ack(a, p->sid, ok, seq));
}

static void act(struct cluster *c, struct fleet_agent *a, enum fleet_verdict v)
{
	char why[160];

	switch (v) {
	case FLEET_KEEP:
		return;
	case FLEET_CLAIM:
		claim_put(c, a, 1);
		return;
	case FLEET_DROP:
		if (!a->local)
			return;
		c->takeovers++;
		fmt_snprintf(why, sizeof(why), "replaced by a newer connection (on server %s)",
			 a->claim.node);
		log_info("%s: a newer session holds it on server %s; dropping this one", a->name,
			 a->claim.node);
		c->env.drop_agent(c->env.arg, a->local, why);   /* comes back: cluster_agent_down */
		return;
	}
}

/* A claim's text into the listing object a remote agent shows as (the
 * shape of server_api.c's for its own), and its owner. */
static int claim_parse(const char *name, const char *data, size_t n, struct fleet_claim *cl,
		       char **info, char owner[TOKEN_OWNER_MAX + 1], long long *uid)
{
	struct json j;
	struct buf b;
	struct jw w;
	char err[64], s[CFG_HOSTNAME_MAX + 1];
	long long since = 0;
	int t, k;

	if (json_parse(&j, data, n, err, sizeof(err)) < 0)
		return -1;
	memset(cl, 0, sizeof(*cl));
	if (json_type(&j, 0) != JSON_OBJECT ||
	    json_strcpy(&j, json_get(&j, 0, "node"), cl->node, sizeof(cl->node)) < 0 ||
	    json_strcpy(&j, json_get(&j, 0, "boot"), cl->boot, sizeof(cl->boot)) < 0 ||
	    json_strcpy(&j, json_get(&j, 0, "sid"), cl->sid, sizeof(cl->sid)) < 0 ||
	    json_int(&j, json_get(&j, 0, "t"), &cl->t_us) < 0) {
		json_free(&j);
		return -1;
	}
	json_int(&j, json_get(&j, 0, "since"), &since);
	if (json_int(&j, json_get(&j, 0, "uid"), uid) < 0)
		*uid = -1;
	if (json_strcpy(&j, json_get(&j, 0, "owner"), owner, TOKEN_OWNER_MAX + 1) < 0)
		owner[0] = '\0';
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "name", name);
	jw_kbool(&w, "online", 1);
	jw_kstr(&w, "owner", owner[0] ? owner : NULL);
	for (k = 0; k < 3; k++) {
		static const char *const keys[] = { "version", "hostname", "address" };

		if (json_strcpy(&j, json_get(&j, 0, keys[k]), s, sizeof(s)) < 0)
			s[0] = '\0';
		jw_kstr(&w, keys[k], s);
	}
	jw_kint(&w, "connected_since", since);
	jw_key(&w, "inflight");
	jw_null(&w);
	if (json_strcpy(&j, json_get(&j, 0, "services"), s, sizeof(s)) < 0)
		s[0] = '\0';
	jw_kstr(&w, "services", s);
	jw_key(&w, "commands");
	t = json_get(&j, 0, "commands");
	if (t >= 0 && json_type(&j, t) == JSON_ARRAY) {
		size_t rl;
		const char *raw = json_raw(&j, t, &rl);

		jw_raw(&w, raw, rl);
	} else {
		jw_null(&w);
	}
	/* as server_api.c says of its own: nothing announced, an original client */
	jw_kstr(&w, "compat", t >= 0 && json_type(&j, t) == JSON_ARRAY ? "nestd" : "original");
	jw_kstr(&w, "server", cl->node);
	jw_obj_end(&w);
	json_free(&j);
	*info = jw_error(&w) ? NULL : buf_steal(&b);
	buf_free(&b);
	return *info ? 0 : -1;
}

/* One delivery of the agents bucket: a key's latest value (or its
 * deletion). */
static void agents_entry(struct cluster *c, const char *name, unsigned long long seq, int del,
			 const struct nats_msg *m)
{
	struct fleet_agent *a;
	struct fleet_claim cl;
	char *info = NULL, owner[TOKEN_OWNER_MAX + 1] = "";
	long long uid = -1;
	enum fleet_verdict v;
	int was;

	if (!del && claim_parse(name, m->data, m->len, &cl, &info, owner, &uid) < 0) {
		log_debug("cluster: agents bucket: unreadable claim for %s", name);
		del = 1;
	}
	a = del ? fleet_get(c->fleet, name) : fleet_add(c->fleet, name);
	if (!a) {
		free(info);
		return;
	}
	was = a->has_claim;
	free(a->info);
	a->info = info;
	fmt_copy(a->owner, sizeof(a->owner), owner);
	a->uid = uid;
	a->gen = c->w[W_AGENTS].gen;
	v = fleet_on_entry(a, seq, del ? NULL : &cl);
	if (a->local) {
		act(c, a, v);
		return;
	}
	/* another server's agent came or went: the faces that show agents
	 * (after a snapshot, once for all: agents_synced) */
	if ((was || a->has_claim) && c->w[W_AGENTS].synced && c->env.agent_seen)
		c->env.agent_seen(c->env.arg, name);
	fleet_tidy(c->fleet, a);
}

/* After the bucket was read anew: each of our sessions against it. */
static void reconcile_all(struct cluster *c, int64_t now)
{
	struct fleet_agent **v;
	size_t i, n;

	c->reconcile = 0;
	v = fleet_sorted(c->fleet, &n);
	for (i = 0; i < n; i++)
		if (v[i]->local)
			act(c, v[i], fleet_reconcile(c->fleet, v[i], now));
	free(v);
}

struct refresh {
	struct cluster *c;
	int64_t now;
	int budget;
};

static void refresh_one(struct fleet_agent *a, void *arg)
{
	struct refresh *r = arg;

	if (r->budget > 0 && a->local && a->state == FLEET_HELD &&
	    r->now - a->put_at >= CFG_CLUSTER_CLAIM_REFRESH_S * 1000ll) {
		claim_put(r->c, a, 1);
		r->budget--;
	}
}

/* ---- the servers: heartbeats ---- */

static void heartbeat(struct cluster *c)
{
	char subj[160];
	struct buf b;
	struct jw w;

	kv_subject(c, "nodes", fleet_node(c->fleet), subj, sizeof(subj));
	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "node", fleet_node(c->fleet));
	jw_kstr(&w, "boot", c->boot);
	jw_kint(&w, "agents", c->env.peers->nagents);
	jw_kint(&w, "started", c->started);
	jw_kstr(&w, "version", NESTD_VERSION);
	jw_kstr(&w, "listen", c->listen);
	jw_obj_end(&w);
	js_send(c, subj, P_HEARTBEAT, NULL, 0, &b, NULL);
	buf_free(&b);
}

static void heartbeat_answer(struct cluster *c, const struct nats_msg *m)
{
	struct json j;
	char why[200];
	long long code;

	if (js_answer(m, &j, NULL, &code, why, sizeof(why)) == 0) {
		json_free(&j);
		c->hb_acked = loop_now();
	}
}

static void node_msg(struct cluster *c, const struct nats_msg *m)
{
	char base[128], node[CFG_CLUSTER_NODE_MAX + 1], boot[FLEET_ID_LEN + 1];
	struct json j;
	long long agents = 0;
	size_t bl = (size_t)fmt_snprintf(base, sizeof(base), "$KV.%s_nodes.", prefix(c));
	int64_t now = loop_now();

	if (strncmp(m->subject, base, bl) != 0 || strlen(m->subject + bl) > CFG_CLUSTER_NODE_MAX)
		return;
	fmt_copy(node, sizeof(node), m->subject + bl);
	if (nats_msg_header(m, "KV-Operation")) {     /* a server leaving */
		fleet_node_seen(c->fleet, node, "", now - CFG_CLUSTER_NODE_DEAD_MS - 1, 0);
		return;
	}
	if (json_parse(&j, m->data, m->len, base, sizeof(base)) < 0)
		return;
	if (json_type(&j, 0) == JSON_OBJECT &&
	    json_strcpy(&j, json_get(&j, 0, "boot"), boot, sizeof(boot)) == 0) {
		json_int(&j, json_get(&j, 0, "agents"), &agents);
		if (strcmp(node, fleet_node(c->fleet)) == 0 && strcmp(boot, c->boot) != 0)
			log_error("cluster: another server also calls itself '%s' (--node)", node);
		else
			fleet_node_seen(c->fleet, node, boot, now, (int)agents);
	}
	json_free(&j);
}

/* ---- the link and what arrives on it ---- */

static void reqs_fail_all(struct cluster *c)
{
	int i;

	for (i = 0; i < c->reqs.n; i++) {
		struct pend *p = &c->reqs.v[i];

		if (p->kind == P_FREE)
			continue;
		if (p->kind == P_CLAIM) {
			struct fleet_agent *a = fleet_get(c->fleet, p->name);

			if (a && a->local && strcmp(a->sid, p->sid) == 0 && a->state == FLEET_PENDING)
				a->state = FLEET_NONE;
		}
		slot_free(&c->reqs, p);
	}
	c->streams_pending = 0;
}

static void on_link(void *arg, enum nats_event ev, const char *detail)
{
	struct cluster *c = arg;
	int i;

	switch (ev) {
	case NATS_EV_UP:
		log_info("cluster: node %s connected to NATS at %s", fleet_node(c->fleet), detail);
		c->link_why[0] = '\0';
		c->up_at = loop_now();
		js_link_up(c);
		break;
	case NATS_EV_DOWN:
		log_warn("cluster: NATS link down (%s); this server serves its own agents only "
			 "until it is back", detail);
		fmt_snprintf(c->link_why, sizeof(c->link_why), "cluster link down: %s", detail);
		c->js = JS_DOWN;
		for (i = 0; i < W_COUNT; i++)
			watch_stop(c, &c->w[i]);
		reqs_fail_all(c);
		remote_link_lost(c, c->link_why);
		auditq_fail_all(c, c->link_why);
		c->reconcile = 1;
		break;
	case NATS_EV_ERROR:
		log_warn("cluster: NATS: %s", detail);
		if (!nats_is_up(c->k))
			fmt_snprintf(c->link_why, sizeof(c->link_why), "cluster link down: %s", detail);
		break;
	}
}

static void req_answer(struct cluster *c, struct pend *p, const struct nats_msg *m)
{
	struct pend copy = *p;           /* the slot is free before anything acts */

	copy.answer.p = NULL;
	copy.request = NULL;
	slot_free(&c->reqs, p);
	switch (copy.kind) {
	case P_STREAM:
		stream_answer(c, &copy, m);
		break;
	case P_CONSUMER:
		consumer_answer(c, &copy, m);
		break;
	case P_CLAIM:
		claim_answer(c, &copy, m, 0);
		break;
	case P_HEARTBEAT:
		heartbeat_answer(c, m);
		break;
	case P_AUDIT_INFO:
	case P_AUDIT_CONSUMER:
		auditq_answer(c, &copy, m);
		break;
	case P_TOKEN:
		c->env.tokens_part->put_answer(c, &copy, m);
		break;
	default:
		break;
	}
}

/* An answer on our inbox: for the request its slot names. */
static void inbox_msg(struct cluster *c, const struct nats_msg *m)
{
	struct slots *t;
	struct pend *p = slot_of(c, m->subject, &t);

	if (!p)
		return;                       /* late: that request is over */
	if (t == &c->cmds)
		remote_answer(c, p, m);
	else
		req_answer(c, p, m);
}

static void on_msg(void *arg, int tag, const struct nats_msg *m)
{
	struct cluster *c = arg;

	switch (tag) {
	case TAG_INBOX:
		inbox_msg(c, m);
		break;
	case TAG_NODES:
		node_msg(c, m);
		break;
	case TAG_COMMAND:
		remote_serve(c, m);
		break;
	default:
		if (tag >= TAG_WATCH && tag < TAG_WATCH + 2 * W_COUNT)
			watch_msg(c, tag, m);
		else if (tag == TAG_AUDIT || tag == TAG_AUDIT + 1)
			auditq_msg(c, tag, m);
		break;
	}
}

/* ---- the heartbeat tick ---- */

static void sweep(struct cluster *c, int64_t now)
{
	int i;

	for (i = 0; i < c->reqs.n; i++) {
		struct pend *p = &c->reqs.v[i], copy;

		if (p->kind == P_FREE || !p->deadline || now < p->deadline)
			continue;
		copy = *p;
		copy.answer.p = NULL;
		copy.request = NULL;
		slot_free(&c->reqs, p);
		if (copy.kind == P_STREAM && c->js == JS_SETUP && copy.wgen == c->js_round) {
			js_fail(c, "no answer in time");
		} else if (copy.kind == P_CONSUMER && copy.wgen == c->w[copy.wid].gen) {
			struct watch *w = &c->w[copy.wid];

			log_info("cluster: following the %s bucket: no answer in %.1f s; asking again",
				 w->bucket, (double)js_try_timeout(w->tries - 1) / 1000);
			w->asked = 0;
		} else if (copy.kind == P_CLAIM) {
			claim_answer(c, &copy, NULL, 1);
		} else if (copy.kind == P_TOKEN) {
			c->env.tokens_part->put_answer(c, &copy, NULL);
		}
	}
}

static void heartbeat_tick(struct loop_src *src, short revents)
{
	struct cluster *c = src->arg;
	int64_t now = loop_now();
	struct refresh r = { c, now, CFG_CLUSTER_REFRESH_BATCH };

	src->deadline = now + CFG_CLUSTER_HEARTBEAT_MS;
	sweep(c, now);
	auditq_tick(c, now);
	if (!nats_is_up(c->k))
		return;
	if (c->js == JS_SETUP && !c->streams_pending && c->js_retry_at && now >= c->js_retry_at)
		js_setup(c);
	if (c->js != JS_READY)
		return;
	heartbeat(c);
	watches_check(c, now);
	/* Our sessions against the bucket, once the other servers have had
	 * a heartbeat's time to be heard. */
	if (c->w[W_AGENTS].synced && c->reconcile && now - c->up_at >= 2 * CFG_CLUSTER_HEARTBEAT_MS)
		reconcile_all(c, now);
	fleet_each(c->fleet, refresh_one, &r);
	c->env.tokens_part->tick(c, now);
}

/* ---- server.c's hooks ---- */

void cluster_agent_up(struct cluster *c, struct peer *p)
{
	struct fleet_agent *a = fleet_add(c->fleet, p->name);
	char subj[160];

	if (!a) {
		log_error("%s: out of memory for the fleet's table", p->name);
		return;
	}
	if (a->sub)
		nats_unsubscribe(c->k, a->sub);
	a->local = p;
	new_id(a->sid);
	a->t_us = wall_us();
	a->state = FLEET_NONE;
	a->rev = 0;
	fmt_snprintf(subj, sizeof(subj), "%s.agent.%s", prefix(c), p->name);
	a->sub = nats_subscribe(c->k, subj, "q", TAG_COMMAND);
	claim_put(c, a, 0);              /* a new session: the later put wins */
}

void cluster_agent_down(struct cluster *c, struct peer *p)
{
	struct fleet_agent *a = fleet_get(c->fleet, p->name);

	if (!a || a->local != p)
		return;
	nats_unsubscribe(c->k, a->sub);
	a->sub = NULL;
	a->local = NULL;
	if (a->state == FLEET_HELD && a->has_claim && strcmp(a->claim.sid, a->sid) == 0 &&
	    a->seq == a->rev)
		claim_delete(c, a->name, a->rev);
	a->state = FLEET_NONE;
	a->sid[0] = '\0';
	/* The record goes when the bucket's deletion comes back (fleet_tidy
	 * there): not now, a caller may be walking the table. */
}

/* ---- views ---- */

struct counting {
	const struct cluster *c;
	int64_t now;
	size_t n;
};

static void count_one(struct fleet_agent *a, void *arg)
{
	struct counting *k = arg;

	if (!a->local && fleet_remote_live(k->c->fleet, a, k->now))
		k->n++;
}

void cluster_status(const struct cluster *c, struct cluster_status *st)
{
	struct counting k = { c, loop_now(), 0 };

	memset(st, 0, sizeof(*st));
	st->node = fleet_node(c->fleet);
	st->link_up = nats_is_up(c->k);
	/* Ready once the other servers have had the time to be heard: a
	 * listing before that would leave their agents out. */
	st->ready = st->link_up && c->js == JS_READY && !watches_unsynced(c) &&
		    k.now - c->up_at >= 2 * CFG_CLUSTER_HEARTBEAT_MS;
	st->nodes = fleet_nodes_alive(c->fleet, k.now);
	fleet_each(c->fleet, count_one, &k);
	st->agents = k.n + (size_t)c->env.peers->nagents;
	if (!st->link_up)
		fmt_snprintf(st->why, sizeof(st->why), "%s", c->link_why[0] ? c->link_why
			 : "cluster link down: connecting to NATS");
	else if (c->js != JS_READY)
		fmt_snprintf(st->why, sizeof(st->why), "%s", c->js_why[0] ? c->js_why
			 : "JetStream: setting up the buckets");
	else if (watches_unsynced(c))
		fmt_snprintf(st->why, sizeof(st->why), "reading the fleet's presence (the %s bucket)",
			     watches_unsynced(c));
	else if (!st->ready)
		fmt_snprintf(st->why, sizeof(st->why), "hearing from the other servers first");
}

int cluster_remote_names(struct cluster *c, char ***names, int *count, char *why, size_t n)
{
	struct cluster_status st;
	struct fleet_agent **v;
	size_t i, k;
	int64_t now = loop_now();
	int m = 0;

	*names = NULL;
	*count = 0;
	cluster_status(c, &st);
	if (!st.ready) {
		fmt_copy(why, n, st.why);
		return -1;
	}
	v = fleet_sorted(c->fleet, &k);
	if (k && (!v || !(*names = malloc(k * sizeof(**names))))) {
		free(v);
		fmt_snprintf(why, n, "out of memory");
		return -1;
	}
	for (i = 0; i < k; i++)
		if (!v[i]->local && v[i]->info && fleet_remote_live(c->fleet, v[i], now)) {
			if (!((*names)[m] = strdup(v[i]->name))) {
				while (m > 0)
					free((*names)[--m]);
				free(*names);
				*names = NULL;
				free(v);
				fmt_snprintf(why, n, "out of memory");
				return -1;
			}
			m++;
		}
	free(v);
	*count = m;
	return 0;
}

const char *cluster_remote_info(const struct cluster *c, const char *name, const char **owner)
{
	const struct fleet_agent *a = fleet_get(c->fleet, name);

	if (!a || a->local || !a->info || !fleet_remote_live(c->fleet, a, loop_now()))
		return NULL;
	*owner = a->owner;
	return a->info;
}

int cluster_agent_card(struct cluster *c, const char *name, struct agent_card *card)
{
	struct fleet_agent *a = fleet_get(c->fleet, name);
	struct cluster_status st;
	struct json j;
	char err[64];
	size_t rl;
	const char *raw;
	int t, listed;

	cluster_status(c, &st);
	if (!st.ready || !a || a->local || !a->info || !fleet_remote_live(c->fleet, a, loop_now()) ||
	    json_parse(&j, a->info, strlen(a->info), err, sizeof(err)) < 0)
		return 0;
	json_strcpy(&j, json_get(&j, 0, "hostname"), card->hostname, sizeof(card->hostname));
	json_int(&j, json_get(&j, 0, "connected_since"), &card->since);
	card->uid = a->uid;
	t = json_get(&j, 0, "commands");
	listed = t >= 0 && json_type(&j, t) == JSON_ARRAY;
	if (listed && (raw = json_raw(&j, t, &rl)) != NULL && (card->commands = malloc(rl + 1))) {
		memcpy(card->commands, raw, rl);
		card->commands[rl] = '\0';
	}
	json_free(&j);
	/* names announced but not kept (no memory): not taken for an original client */
	return !listed || card->commands ? 1 : 0;
}

int cluster_audit_query(struct cluster *c, const char *agent, const char *op, int limit,
			cluster_audit_fn done, void *arg, char *why, size_t n)
{
	struct cluster_status st;

	cluster_status(c, &st);
	if (!st.ready) {
		fmt_snprintf(why, n, "the fleet's audit stream cannot be read now: %s", st.why);
		return -1;
	}
	return auditq_query(c, agent, op, limit, done, arg, why, n);
}

const char *cluster_agent_owner(const struct cluster *c, const char *name)
{
	const struct fleet_agent *a = fleet_get(c->fleet, name);

	return a && !a->local && fleet_remote_live(c->fleet, a, loop_now()) ? a->owner : NULL;
}

void cluster_metrics(const struct cluster *c, struct buf *b)
{
	struct cluster_status st;
	int i;

	cluster_status(c, &st);
	buf_printf(b, "# HELP nestd_cluster_link_up 1 while this server's NATS connection is up.\n"
		   "# TYPE nestd_cluster_link_up gauge\nnestd_cluster_link_up %d\n"
		   "# HELP nestd_cluster_ready 1 while the fleet can be listed and asked.\n"
		   "# TYPE nestd_cluster_ready gauge\nnestd_cluster_ready %d\n"
		   "# HELP nestd_cluster_nodes Servers of the fleet heard lately, this one included.\n"
		   "# TYPE nestd_cluster_nodes gauge\nnestd_cluster_nodes %d\n"
		   "# HELP nestd_cluster_agents Agents of the whole fleet.\n"
		   "# TYPE nestd_cluster_agents gauge\nnestd_cluster_agents %zu\n",
		   st.link_up, st.ready, st.nodes, st.agents);
	buf_printf(b, "# HELP nestd_cluster_routed_total Commands sent to another server, by outcome.\n"
		   "# TYPE nestd_cluster_routed_total counter\n");
	for (i = 0; i < ROUTER_NOUTCOMES; i++)
		if (c->routed[i])
			buf_printf(b, "nestd_cluster_routed_total{outcome=\"%s\"} %llu\n",
				   router_outcome_name((enum router_outcome)i), c->routed[i]);
	buf_printf(b, "# HELP nestd_cluster_served_total Commands other servers sent here.\n"
		   "# TYPE nestd_cluster_served_total counter\nnestd_cluster_served_total %llu\n"
		   "# HELP nestd_cluster_takeovers_total Sessions dropped for a newer one elsewhere.\n"
		   "# TYPE nestd_cluster_takeovers_total counter\nnestd_cluster_takeovers_total %llu\n",
		   c->served_n, c->takeovers);
}

/* ---- start and stop ---- */

static int cluster_link(struct cluster *c, char *err, size_t errlen)
{
	const struct server_cluster_opts *o = c->co;
	static const struct nats_ops ops = { on_link, on_msg };
	char name[128], subj[160];
	struct nats_cfg cfg = {
		.urls = o->urls, .name = name, .creds_file = o->creds, .user_file = o->user_file,
		.token_file = o->token_file, .ca_file = o->ca, .cert_file = o->cert, .key_file = o->key,
	};

	fmt_snprintf(name, sizeof(name), "nestd %s", o->node);
	c->k = nats_open(c->env.loop, &cfg, &ops, c, err, errlen);
	if (!c->k)
		return -1;
	if (nats_new_inbox(c->k, c->inbox, sizeof(c->inbox)) < 0 ||
	    nats_new_inbox(c->k, c->winbox, sizeof(c->winbox)) < 0) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	fmt_snprintf(subj, sizeof(subj), "%s.*", c->inbox);
	c->inbox_sub = nats_subscribe(c->k, subj, NULL, TAG_INBOX);
	fmt_snprintf(subj, sizeof(subj), "%s.server.%s", prefix(c), o->node);
	c->srv_sub = nats_subscribe_polled(c->k, subj, TAG_COMMAND);
	fmt_snprintf(subj, sizeof(subj), "$KV.%s_nodes.*", prefix(c));
	c->nodes_sub = nats_subscribe(c->k, subj, NULL, TAG_NODES);
	if (!c->inbox_sub || !c->srv_sub || !c->nodes_sub) {
		fmt_snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

struct cluster *cluster_open(const struct cluster_env *env, char *err, size_t errlen)
{
	struct cluster *c = calloc(1, sizeof(*c));

	if (!c || !(c->fleet = fleet_new(env->o->node))) {
		free(c);
		fmt_snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->env = *env;
	c->co = env->o;
	fmt_snprintf(c->listen, sizeof(c->listen), "%s", env->listen ? env->listen : "");
	c->env.listen = c->listen;
	c->reqs.free_head = c->cmds.free_head = -1;
	c->started = (long long)time(NULL);
	fmt_snprintf(c->link_why, sizeof(c->link_why), "cluster link down: connecting to NATS");
	new_id(c->boot);
	c->tick.fd = -1;
	c->tick.ready = heartbeat_tick;
	c->tick.arg = c;
	c->tick.deadline = loop_now() + CFG_CLUSTER_HEARTBEAT_MS;
	c->w[W_AGENTS].bucket = "agents";
	c->w[W_AGENTS].on_entry = agents_entry;
	c->w[W_AGENTS].on_synced = agents_synced;
	c->env.tokens_part->watch_init(&c->w[W_TOKENS]);
	c->tick_added = loop_add(c->env.loop, &c->tick) == 0;
	if (!c->tick_added || cluster_link(c, err, errlen) < 0) {
		cluster_close(c);
		return NULL;
	}
	remote_init(c);
	log_info("cluster: node %s (run %s) joining the fleet through %s, prefix %s",
		 c->co->node, c->boot, c->co->urls, prefix(c));
	return c;
}

void cluster_close(struct cluster *c)
{
	char subj[160];
	struct nats_hdr h = { "KV-Operation", "DEL" };
	int i;

	if (!c)
		return;
	router_set_remote(c->env.router, NULL);
	if (c->k) {
		remote_close(c);
		auditq_close(c);
		/* Leaving: the others need not wait for our heartbeat to lapse. */
		kv_subject(c, "nodes", fleet_node(c->fleet), subj, sizeof(subj));
		nats_publish(c->k, subj, NULL, &h, 1, "", 0);
		for (i = 0; i < W_COUNT; i++)
			watch_stop(c, &c->w[i]);
	}
	nats_close(c->k);
	if (c->tick_added)
		loop_del(c->env.loop, &c->tick);
	for (i = 0; i < c->reqs.n; i++)
		buf_free(&c->reqs.v[i].answer);
	for (i = 0; i < c->cmds.n; i++) {
		buf_free(&c->cmds.v[i].answer);
		free(c->cmds.v[i].request);
	}
	free(c->reqs.v);
	free(c->cmds.v);
	token_db_free(&c->building);
	fleet_free(c->fleet);
	free(c);
}

#else /* !NESTD_NATS: no clustering built in; server_opts.c refuses --cluster */

#include <stdio.h>
#include "fmt.h"
#include "server_cluster.h"
#include "token.h"

struct cluster *cluster_open(const struct cluster_env *env, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "--cluster: this nestd was built without NATS");
	return NULL;
}

void cluster_close(struct cluster *c) { }
void cluster_agent_up(struct cluster *c, struct peer *p) { }
void cluster_agent_down(struct cluster *c, struct peer *p) { }
void cluster_status(const struct cluster *c, struct cluster_status *st) { }
const char *cluster_node(const struct cluster *c) { return ""; }
void cluster_metrics(const struct cluster *c, struct buf *b) { }
void cluster_audit_line(void *c, const char *line, size_t n) { }
void cluster_audit_cancel(struct cluster *c, void *arg) { }
const char *cluster_agent_owner(const struct cluster *c, const char *name) { return NULL; }

int cluster_remote_names(struct cluster *c, char ***names, int *count, char *why, size_t n)
{
	*names = NULL;
	*count = 0;
	return 0;
}

const char *cluster_remote_info(const struct cluster *c, const char *name, const char **owner)
{
	return NULL;
}

int cluster_agent_card(struct cluster *c, const char *name, struct agent_card *card)
{
	return 0;
}

int cluster_token_put(struct cluster *c, const struct token_entry *e, int create, char *err,
		      size_t errlen)
{
	fmt_snprintf(err, errlen, "this nestd was built without NATS");
	return -1;
}

int cluster_token_drop(struct cluster *c, const char *name, char *err, size_t errlen)
{
	fmt_snprintf(err, errlen, "this nestd was built without NATS");
	return -1;
}

int cluster_audit_query(struct cluster *c, const char *agent, const char *op, int limit,
			cluster_audit_fn done, void *arg, char *why, size_t n)
{
	fmt_snprintf(why, n, "this nestd was built without NATS");
	return -1;
}

int cluster_load_tokens(const char *cache, struct token_db *db, char *err, size_t errlen)
{
	return token_db_load(cache, db, err, errlen);
}

#endif /* NESTD_NATS */
