/* Routes by path prefix; the longest match wins, so registration order never
 * matters. A prefix matches at a segment boundary: "/healthz" matches
 * "/healthz" and "/healthz/x" but not "/healthzz"; "/dav/" also matches
 * "/dav". */
#include "http/http-private.h"

#include <string.h>

static GPtrArray *routes;

void http_route_add(const struct http_route *route)
{
	if (routes == NULL)
		routes = g_ptr_array_new();
	g_ptr_array_add(routes, (gpointer)route);
}

void http_routes_clear(void)
{
	g_clear_pointer(&routes, g_ptr_array_unref);
}

static bool prefix_matches(const char *prefix, size_t plen, const char *path)
{
	if (strncmp(path, prefix, plen) == 0)
		return prefix[plen - 1] == '/' || path[plen] == '\0' || path[plen] == '/';
	/* "/dav/" matches "/dav" */
	return prefix[plen - 1] == '/' && strncmp(path, prefix, plen - 1) == 0 &&
	       path[plen - 1] == '\0';
}

const struct http_route *http_route_find(const char *path)
{
	const struct http_route *best = NULL;
	size_t best_len = 0;
	for (guint i = 0; routes != NULL && i < routes->len; i++) {
		const struct http_route *route = g_ptr_array_index(routes, i);
		size_t plen = strlen(route->prefix);
		if (plen > best_len && prefix_matches(route->prefix, plen, path)) {
			best = route;
			best_len = plen;
		}
	}
	return best;
}
