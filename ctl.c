/* ctl.c - placeholder until the operator API lands. */
#include <stdio.h>
#include "ctl.h"

const char *ctl_build_features(void)
{
	return "TLS: no";
}

int ctl_main(int argc, char **argv)
{
	fprintf(stderr, "nestd ctl: not available yet\n");
	return 1;
}
