/* GET /healthz: 200 once the server accepts requests, 503 while draining,
 * so a load balancer takes a stopping node out of rotation. */
#include "http/http-private.h"
#include "net/net.h"

static bool health_inline(struct http_exchange *ex, void *data)
{
	if (net_draining())
		http_reply(ex, 503, "text/plain; charset=utf-8", "draining\n", 9);
	else
		http_reply(ex, 200, "text/plain; charset=utf-8", "ok\n", 3);
	return true;
}

static void health_handler(struct http_exchange *ex, void *data)
{
	health_inline(ex, data);
}

static const char *const health_methods[] = {"GET", "HEAD", NULL};

static const struct http_route health_route = {
	.prefix = "/healthz",
	.methods = health_methods,
	.try_inline = health_inline,
	.handler = health_handler,
};

void http_health_register(void)
{
	http_route_add(&health_route);
}
