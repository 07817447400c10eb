/* server.h - `nestd server`: the bot's side of the protocol. */
#ifndef NESTD_SERVER_H
#define NESTD_SERVER_H

struct server_opts;

/* Parses the options (server_opts.c), then runs with them. */
int server_main(int argc, char **argv);
/* Serves until SIGTERM/SIGINT; the exit status. */
int server_run(const struct server_opts *o);

#endif
