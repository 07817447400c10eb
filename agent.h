/* agent.h - `nestd agent`: the protocol's client.  agent_main reads the
 * options into a const record (agent_opts.c), then runs with it (agent.c):
 * it dials the server, authenticates and answers commands (agent_cmd.h)
 * until SIGTERM, or the first connection's end with --once.  It returns
 * the exit status: 0, 1 at run time, 2 for a usage error. */
#ifndef NESTD_AGENT_H
#define NESTD_AGENT_H

int agent_main(int argc, char **argv);

#endif
