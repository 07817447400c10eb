/* server_web.c - what the server serves besides the API: the dashboard
 * (server_ui.c) and the installer with its binaries (server_install.c). */
#include "server_int.h"
#include "tls.h"

int server_tls_available(void)
{
	return tls_available();
}

int server_extra_route(struct server *s, struct conn *c, const struct http_req *req,
		       const struct http_span *path)
{
	if (server_install_route(s, c, req, path))
		return 1;
	return server_ui_route(s, c, req, path);
}
