/* server_web.c - what the server serves besides the API: nothing yet. */
#include "server_int.h"
#include "tls.h"

int server_tls_available(void)
{
	return tls_available();
}

int server_extra_route(struct server *s, struct conn *c, const struct http_req *req,
		       const struct http_span *path)
{
	return 0;
}
