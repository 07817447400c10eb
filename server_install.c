/* server_install.c - GET /install.sh and the binaries it downloads. */
#include "server_int.h"

int server_install_route(struct server *s, struct conn *c, const struct http_req *req,
			 const struct http_span *path)
{
	return 0;
}
