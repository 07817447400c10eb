/* server.h - `nestd server`: the bot's side of the protocol. */
#ifndef NESTD_SERVER_H
#define NESTD_SERVER_H

int server_main(int argc, char **argv);

#endif
