/* server_ui.c - the web dashboard, embedded in the binary. */
#include "server_int.h"

int server_ui_route(struct server *s, struct conn *c, const struct http_req *req,
		    const struct http_span *path)
{
	return 0;
}
