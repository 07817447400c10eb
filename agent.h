/* agent.h - `nestd agent`: the protocol's client. */
#ifndef NESTD_AGENT_H
#define NESTD_AGENT_H

int agent_main(int argc, char **argv);

#endif
