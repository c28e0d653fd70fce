/* Options of the HTTP server, its listener kinds and its settings. */
#include "core/config.h"
#include "http/http-private.h"
#include "net/net.h"

#include <http_parser.h>

static const struct ox_option http_options[] = {
	{"http", "max_header_size", OX_OPT_SIZE, "16k", 256, 1024 * 1024, NULL,
         "Request header section limit; larger requests get 431."},
	{"http", "max_headers", OX_OPT_INT, "100", 1, 10000, NULL,
         "Request header lines limit; more get 431."},
	{"http", "max_url_size", OX_OPT_SIZE, "8k", 64, 1024 * 1024, NULL,
         "Request-target limit; longer ones get 414."},
	{"http", "max_body_size", OX_OPT_SIZE, "1g", 0, 1LL << 50, NULL,
         "Request body limit; larger bodies get 413."},
	{"http", "web_root", OX_OPT_STRING, "web", 0, 0, NULL,
         "Directory of the browser app's static files, served under /."},
	{"http", "gzip", OX_OPT_BOOL, "true", 0, 0, NULL,
         "Compress text responses when the client accepts gzip."},
	{"http", "test_routes", OX_OPT_BOOL, "false", 0, 0, NULL,
         "Serve the /_test/ routes used by the test suites. Never in production."},
	{"log", "access", OX_OPT_BOOL, "true", 0, 0, NULL, "Log one line per HTTP request."},
};

static const struct net_listener_kind http_kind = {"http", &http_protocol, NET_PLAIN};
static const struct net_listener_kind https_kind = {"https", &http_protocol, NET_TLS};

void http_register(void)
{
	net_register_listener_kind(&http_kind);
	net_register_listener_kind(&https_kind);
	ox_config_register(http_options, G_N_ELEMENTS(http_options));
}

static const struct http_settings *current;
static GPtrArray *retired;
static struct http_settings defaults = {
	.limits = {8192, 16384, 100, 1LL << 30},
	.web_root = "web",
	.gzip = true,
	.access_log = true,
};

const struct http_settings *http_settings(void)
{
	const struct http_settings *s = g_atomic_pointer_get(&current);
	return s != NULL ? s : &defaults;
}

static void settings_free(gpointer data)
{
	struct http_settings *s = data;
	g_free(s->web_root);
	g_free(s);
}

void http_configure(const struct ox_config *cfg)
{
	struct http_settings *s = g_new0(struct http_settings, 1);
	s->limits.max_target = (size_t)ox_config_int(cfg, "http", "max_url_size");
	s->limits.max_header_bytes = (size_t)ox_config_int(cfg, "http", "max_header_size");
	s->limits.max_headers = (size_t)ox_config_int(cfg, "http", "max_headers");
	s->limits.max_body = (uint64_t)ox_config_int(cfg, "http", "max_body_size");
	s->web_root = g_canonicalize_filename(ox_config_string(cfg, "http", "web_root"), NULL);
	s->gzip = ox_config_bool(cfg, "http", "gzip");
	s->access_log = ox_config_bool(cfg, "log", "access");
	s->test_routes = ox_config_bool(cfg, "http", "test_routes");
	/* http-parser has its own (global) cap on the head; keep it above ours
	 * so that ours decides, with the right status. */
	http_parser_set_max_header_size(
		(uint32_t)(s->limits.max_header_bytes + s->limits.max_target + 4096));
	if (retired == NULL)
		retired = g_ptr_array_new_with_free_func(settings_free);
	/* Readers on other threads may still hold the old snapshot: keep it. */
	g_ptr_array_add(retired, s);
	g_atomic_pointer_set(&current, s);
}

void http_builtin_routes(void)
{
	http_health_register();
	http_static_register();
	http_api_session_register();
	http_api_feed_register();
	http_api_files_register();
	if (http_settings()->test_routes)
		http_test_routes_register();
}
