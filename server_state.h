/* server_state.h - what the server remembers in its state directory
 * beside the token file: the agents it has seen and their usage history
 * (server_roster.h), the dashboard's sessions (server_session.h).
 *
 * Read at start-up, kept in memory, written back whole (a temp file, then
 * rename: token_file_replace_at) when changed, at most every
 * CFG_STATE_SAVE_MS (the history: CFG_HISTORY_SAVE_MS), and at shutdown.
 * A directory that cannot be used (missing and not creatable, or unsafe
 * as token_dir_check says) is logged once; the server then remembers in
 * memory only.
 *
 * It also takes the history: every --history-interval it sends
 * obtain_system_info, through the router, to each connected agent that
 * announced that command (an agent that announced nothing is never sent
 * it: the original client would exit), unaudited. */
#ifndef NESTD_SERVER_STATE_H
#define NESTD_SERVER_STATE_H

#include <stddef.h>

struct peer;
struct roster;
struct server;
struct sessions;

struct state;

/* Reads the files (a missing one is empty) and starts the timer.  NULL
 * out of memory, err set. */
struct state *state_open(struct server *s, char *err, size_t errlen);
/* Writes what changed and frees it all; after every agent is gone. */
void state_close(struct state *st);

/* An agent was admitted / is gone (server.c). */
void state_agent_up(struct state *st, const struct peer *p);
void state_agent_down(struct state *st, const struct peer *p);

struct roster *state_roster(struct state *st);
struct sessions *state_sessions(struct state *st);
/* The tables changed outside the timer's view (a forget, a login): write
 * them at the next tick rather than at the next interval. */
void state_changed(struct state *st);
/* The history interval in use, ms (0: no history taken). */
long long state_history_ms(const struct state *st);

#endif
