/* server_nats.h - the server's link to a NATS system: one connection of
 * the official C client (libnats), run inside our event loop.
 *
 * The client reads and writes its socket only when our loop says so (its
 * external event-loop hooks, natsOptions_SetEventLoop).  What the client
 * does on its own threads - message delivery, reconnecting, its ping timer
 * - reaches the loop through one queue and an eventfd: the only lock in
 * this code is that queue's.  So every callback below (nats_ops) runs on
 * the loop's thread, like every other source's.  A few hot subscriptions
 * skip the client's threads altogether (nats_subscribe_polled).
 *
 * While the link is down nothing here calls into the client (its
 * reconnecting thread may hold the connection's lock for as long as a
 * connect attempt takes): publishing fails at once, and subscribing and
 * unsubscribing are remembered and done when the link is back.
 *
 * Built without libnats (make NATS=0, the static binaries) nats_open says
 * so and everything else is never reached. */
#ifndef NESTD_SERVER_NATS_H
#define NESTD_SERVER_NATS_H

#include <stddef.h>

struct loop;
struct nats_link;
struct nats_sub;

/* How to reach and log in to the NATS system.  Secrets come from files
 * (never argv); "" means unset. */
struct nats_cfg {
	const char *urls;         /* "nats://h1:4222,nats://h2:4222" (tls:// too) */
	const char *name;         /* the connection's name in the NATS server's views */
	const char *creds_file;   /* a .creds file (user JWT and NKey seed) */
	const char *user_file;    /* one line "user:password" */
	const char *token_file;   /* one line: the NATS token */
	const char *ca_file;      /* TLS: verify the NATS servers against this CA */
	const char *cert_file;    /* TLS: client certificate chain ... */
	const char *key_file;     /* ... and its key */
};

struct nats_hdr {
	const char *key, *val;
};

/* One message as it arrived, valid during the on_msg call. */
struct nats_msg {
	const char *subject;
	const char *reply;        /* NULL when none */
	const char *data;
	size_t len;
	int status;               /* the "Status" header (503 no responders, 100
				   * heartbeat or flow control), 0 when none */
	/* JetStream deliveries (js set): from the reply subject */
	int js;
	unsigned long long js_stream_seq, js_consumer_seq, js_pending;
	void *m_;                 /* private */
};

enum nats_event {
	NATS_EV_UP,               /* connected (again); detail: the server's URL */
	NATS_EV_DOWN,             /* lost; the client reconnects by itself */
	NATS_EV_ERROR,            /* an asynchronous error (permissions, slow consumer) */
};

struct nats_ops {
	void (*on_link)(void *arg, enum nats_event ev, const char *detail);
	/* tag: the subscription's (nats_subscribe) */
	void (*on_msg)(void *arg, int tag, const struct nats_msg *m);
};

#define NATS_MAX_TAGS 16

/* 1 when this binary was built with libnats. */
int  nats_available(void);
/* "libnats 3.4.1" or "" */
const char *nats_version(void);

/* The URLs, credentials and TLS of cfg onto a natsOptions (given as void *
 * so that this header needs no libnats): for token_kv.c's plain
 * connection.  0, or -1 with the reason. */
int  nats_apply_cfg(void *opts, const struct nats_cfg *cfg, char *err, size_t errlen);

/* Starts connecting (in the background when no NATS server answers at
 * once: the link comes up later by itself).  NULL with the reason in err
 * for what retrying cannot fix (bad URL, unreadable credentials). */
struct nats_link *nats_open(struct loop *l, const struct nats_cfg *cfg,
			    const struct nats_ops *ops, void *arg, char *err, size_t errlen);
/* Closes the connection and waits (bounded) for the client's threads. */
void nats_close(struct nats_link *k);
int  nats_is_up(const struct nats_link *k);
/* The NATS servers' max_payload (bytes), 0 while never connected. */
long long nats_max_payload(const struct nats_link *k);
/* A fresh inbox prefix ("_INBOX.<nuid>") into out. */
int  nats_new_inbox(struct nats_link *k, char *out, size_t n);

/* 0, or -1 when the link is down or the client refused (the message is
 * then dropped: nothing is buffered for later). */
int  nats_publish(struct nats_link *k, const char *subject, const char *reply,
		  const struct nats_hdr *h, int nh, const void *data, size_t n);
/* Interest in subject (queue: a queue group, or NULL); its messages come
 * to on_msg with tag (0 <= tag < NATS_MAX_TAGS).  Never NULL but on out of
 * memory; done at once or, while the link is down, when it is back. */
struct nats_sub *nats_subscribe(struct nats_link *k, const char *subject, const char *queue,
				int tag);
/* The same for a hot subject (answers to our requests, commands for this
 * server): its messages are taken on our thread right after each read of
 * the socket, never through the client's delivery thread and the queue,
 * which saves two thread switches per message.  For a few subscriptions
 * only: each is polled after every read. */
struct nats_sub *nats_subscribe_polled(struct nats_link *k, const char *subject, int tag);
void nats_unsubscribe(struct nats_link *k, struct nats_sub *s);
/* A header of m, or NULL. */
const char *nats_msg_header(const struct nats_msg *m, const char *key);

#endif
