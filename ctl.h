/* ctl.h - `nestd ctl`: the operator's command line over the HTTP API. */
#ifndef NESTD_CTL_H
#define NESTD_CTL_H

int ctl_main(int argc, char **argv);

#endif
