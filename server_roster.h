/* server_roster.h - every agent the server has seen, online or not, and a
 * short history of each one's usage: what keeps an agent listed (grey,
 * "offline since 07:24") after it went away, and the dashboard's charts
 * drawn after a reload.
 *
 * A table in memory, sorted by name, bounded (CFG_ROSTER_MAX agents,
 * CFG_HISTORY_SAMPLES samples for each of at most CFG_HISTORY_AGENTS_MAX of
 * them), and its two texts: the agents file (one JSON object a line) and
 * the history file (one sample a line).  No I/O: server_state.c reads and
 * writes the files, server.c says who came and went.
 *
 * The agents file, one line per agent:
 *   {"name":N,"owner":O|null,"hostname":H,"version":V,"services":S,
 *    "commands":[...]|null,"first_seen":EPOCH,"last_seen":EPOCH}
 * The history file, one line per sample, oldest first for each agent:
 *   NAME EPOCH CPU LOAD1 LOAD5 LOAD15 MEM_USED MEM_TOTAL DISK_USED DISK_TOTAL UPTIME
 * with "-" for a value the sample does not have.  Lines that do not read
 * are skipped (and counted): both files are the server's memory, not
 * anybody's configuration, and losing one line must not lose the rest. */
#ifndef NESTD_SERVER_ROSTER_H
#define NESTD_SERVER_ROSTER_H

#include <stddef.h>
#include "buf.h"
#include "config.h"

struct json;

/* One look at an agent's usage (obtain_system_info). */
struct roster_sample {
	long long t;                 /* epoch seconds */
	double cpu;                  /* percent of all cores since the last sample; < 0 unknown */
	double load[3];              /* < 0 unknown */
	long long mem_used, mem_total, disk_used, disk_total;   /* bytes; < 0 unknown */
	long long uptime;            /* seconds; < 0 unknown */
};

struct roster_agent {
	char name[TOKEN_NAME_MAX + 1];
	char owner[TOKEN_OWNER_MAX + 1];     /* its token's, when last seen ("" none) */
	char version[CFG_VERSION_MAX + 1];
	char hostname[CFG_HOSTNAME_MAX + 1];
	char backend[CFG_BACKEND_NAME_MAX + 1];
	char *commands;                      /* the JSON array it announced, or NULL */
	long long first_seen, last_seen;     /* epoch; last_seen: now while online */
	int online;
	/* its history: a ring of hcap samples, hn of them in use from hfirst */
	struct roster_sample *hist;
	int hn, hfirst;
	/* the sampler's (server_state.c): CPU counters of the last sample
	 * (busy < 0: none), the next sample's time, one sample in flight */
	double cpu_busy, cpu_total;
	long long next_sample_ms;
	int sampling;
};

struct roster {
	struct roster_agent **a;     /* sorted by name */
	int n, cap;
	int nhist;                   /* agents with a history ring */
	int dirty, hist_dirty;       /* a file needs writing */
};

/* What an agent told about itself at authentication. */
struct roster_info {
	const char *name, *owner, *version, *hostname, *backend;
	const char *commands;        /* JSON array text, or NULL */
};

void roster_init(struct roster *r);
void roster_free(struct roster *r);
struct roster_agent *roster_find(const struct roster *r, const char *name);
/* The agent connected: added (the offline agent seen longest ago makes
 * room when the table is full) or brought up to date, online.  NULL when
 * it cannot be remembered (out of memory, or every one is online). */
struct roster_agent *roster_seen(struct roster *r, const struct roster_info *in, long long now);
/* The agent went: offline, last seen now. */
void roster_left(struct roster *r, const char *name, long long now);
/* Online agents' last_seen = now (before a save: a crash then loses at
 * most one save interval). */
void roster_touch(struct roster *r, long long now);
/* Forgets an offline agent and its history: 0; -1 unknown; -2 online. */
int  roster_forget(struct roster *r, const char *name);

/* The agent's i-th sample, oldest first (0 <= i < a->hn). */
const struct roster_sample *roster_sample_at(const struct roster_agent *a, int i);
/* Appends s to a's history (the oldest goes when full).  0, or -1 when no
 * ring could be had (out of memory, or CFG_HISTORY_AGENTS_MAX reached). */
int  roster_add_sample(struct roster *r, struct roster_agent *a, const struct roster_sample *s);
/* An obtain_system_info reply's payload (token p of j) as a sample taken
 * at now; CPU % from the agent's cpu.times against a's last counters,
 * which it then replaces.  0, or -1 when p is not such an object. */
int  roster_sample_parse(struct roster_agent *a, const struct json *j, int p, long long now,
			 struct roster_sample *s);

/* The files' texts.  format: 0, or -1 when out's bound is hit.  parse:
 * the lines that read, added to r; the number of lines skipped. */
int  roster_format(const struct roster *r, struct buf *out);
int  roster_parse(struct roster *r, const char *text, size_t n);
int  roster_history_format(const struct roster *r, struct buf *out);
int  roster_history_parse(struct roster *r, const char *text, size_t n);

#endif
