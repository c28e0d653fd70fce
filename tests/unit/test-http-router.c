/* Routing by path prefix: the longest match wins whatever the order of
 * registration, and a prefix only matches at a segment boundary. */
#include "http/http.h"

#include <glib.h>

static const struct http_route root = {.prefix = "/"};
static const struct http_route dav = {.prefix = "/dav/"};
static const struct http_route dav_calendars = {.prefix = "/dav/calendars/"};
static const struct http_route healthz = {.prefix = "/healthz"};
static const struct http_route api = {.prefix = "/api/v1"};

static const struct http_route *const all_routes[] = {&root, &dav, &dav_calendars, &healthz, &api};

static void add_in_order(const size_t *order)
{
	http_routes_clear();
	for (size_t i = 0; i < G_N_ELEMENTS(all_routes); i++)
		http_route_add(all_routes[order[i]]);
}

static void expect_route(const char *path, const struct http_route *route)
{
	const struct http_route *found = http_route_find(path);
	if (found != route)
		g_error("'%s' went to '%s', not '%s'", path,
		        found != NULL ? found->prefix : "(none)",
		        route != NULL ? route->prefix : "(none)");
}

static void test_longest_prefix(void)
{
	static const size_t orders[][G_N_ELEMENTS(all_routes)] = {
		{0, 1, 2, 3, 4},
		{4, 3, 2, 1, 0},
		{2, 0, 4, 1, 3},
		{1, 2, 0, 3, 4},
	};
	for (size_t o = 0; o < G_N_ELEMENTS(orders); o++) {
		add_in_order(orders[o]);
		expect_route("/dav/calendars/alice/work/", &dav_calendars);
		expect_route("/dav/calendars/", &dav_calendars);
		expect_route("/dav/calendars", &dav_calendars);
		expect_route("/dav/files/x", &dav);
		expect_route("/api/v1/session", &api);
		expect_route("/index.html", &root);
		expect_route("/", &root);
	}
	http_routes_clear();
}

static void test_segment_boundary(void)
{
	size_t order[] = {0, 1, 2, 3, 4};
	add_in_order(order);
	expect_route("/healthz", &healthz);
	expect_route("/healthz/", &healthz);
	expect_route("/healthz/deep", &healthz);
	expect_route("/healthzz", &root);
	expect_route("/healthz.html", &root);
	expect_route("/api/v10", &root);
	expect_route("/api/v1?x", &root);
	expect_route("/davx", &root);
	expect_route("/dav/calendarsx", &dav);
	http_routes_clear();
}

static void test_trailing_slash(void)
{
	http_routes_clear();
	http_route_add(&dav);
	/* "/dav/" also answers "/dav", the collection without its slash. */
	expect_route("/dav", &dav);
	expect_route("/dav/", &dav);
	expect_route("/da", NULL);
	expect_route("/dav-x", NULL);
	expect_route("", NULL);
	http_routes_clear();
}

static void test_no_routes(void)
{
	http_routes_clear();
	expect_route("/", NULL);
	http_route_add(&healthz);
	expect_route("/", NULL);
	expect_route("/other", NULL);
	expect_route("/healthz", &healthz);
	http_routes_clear();
	expect_route("/healthz", NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http-router/longest-prefix", test_longest_prefix);
	g_test_add_func("/http-router/segment-boundary", test_segment_boundary);
	g_test_add_func("/http-router/trailing-slash", test_trailing_slash);
	g_test_add_func("/http-router/no-routes", test_no_routes);
	return g_test_run();
}
