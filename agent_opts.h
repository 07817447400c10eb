/* agent_opts.h - `nestd agent`'s options: the config file, the command
 * line and the environment, parsed and checked into one record before
 * anything runs (dropbear's cli-runopts.c: parse, validate, then run).
 * agent.c runs with a const struct agent_opts and copies none of it; the
 * record owns its strings, so nothing points into the config file's line
 * buffer or into the environment. */
#ifndef NESTD_AGENT_OPTS_H
#define NESTD_AGENT_OPTS_H

#include <stddef.h>
#include "agent_cfg.h"
#include "config.h"
#include "net.h"

/* Which reply shapes the agent answers in (docs/PROTOCOL.md, "Two reply
 * shapes"): auto takes nestd's only from a server that says it is nestd. */
enum agent_compat { COMPAT_AUTO, COMPAT_ORIGINAL, COMPAT_NESTD };

struct agent_opts {
	const char *server;            /* --server (repeatable) or $NESTD_SERVER, as
					* given; several URLs separated by commas */
	struct net_url url;            /* the first, parsed: ws://, wss:// or unix: */
	char *servers[CFG_AGENT_SERVERS_MAX];          /* each URL's text ... */
	struct net_url urls[CFG_AGENT_SERVERS_MAX];    /* ... parsed */
	int nservers;
	int server_src;                /* private: where server came from */
	char token[TOKEN_LEN + 8];     /* form and checksum checked */
	char hostname[CFG_HOSTNAME_MAX + 1];            /* --hostname, else the machine's name */
	const char *ca_file, *pin;     /* wss:// verification; NULL: defaults */
	int insecure;
	long long reconnect_min_ms, reconnect_max_ms;
	int ping_ms;
	int once;                      /* exit when the first connection ends */
	enum agent_compat compat;      /* --compat */
	char version[CFG_VERSION_MAX + 1];              /* --protocol-version, announced */
	struct agent_cfg cmd;          /* the command set's share */
};

enum {
	AGENT_OPTS_RUN = 0,            /* run with the options */
	AGENT_OPTS_HELP = 1,           /* --help: print agent_opts_usage */
	AGENT_OPTS_BAD = -1,           /* exit 2 with the reason */
	AGENT_OPTS_USAGE = -2,         /* exit 2 with the reason and a pointer to --help */
};

/* Fills o from the config file (--config), then argv[1..argc) over it,
 * then the environment for what neither gave (NESTD_SERVER, NESTD_TOKEN,
 * CLIENT_TOKEN, NESTD_TOKEN_FILE), then what the original client would
 * have used (~/.env.nest-management-bot's CLIENT_TOKEN; its WS_URL when
 * DEV=true, else the original's Unix socket), and checks the whole; the
 * token variables are then wiped in place and unset (exec_env_scrub), so
 * that no child sees them, not even in /proc/PPID/environ.  --log-level is
 * the process's, not the agent's: it takes effect at once.  One of the
 * AGENT_OPTS_* codes, the reason in err for the negative ones.  Call
 * agent_opts_free afterwards in every case. */
int  agent_opts_parse(struct agent_opts *o, int argc, char **argv, char *err, size_t errlen);
/* Frees the strings o owns and wipes the token. */
void agent_opts_free(struct agent_opts *o);

extern const char agent_opts_usage[];

#endif
