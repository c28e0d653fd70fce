/* Routes for the test suites only, registered when http.test_routes is on:
 * they exercise request-body streaming, response streaming and slow
 * handlers through the real server, with nothing mocked.
 *   POST /_test/echo         streams the request body back (chunked)
 *   POST /_test/sink         reads the body; answers "<bytes> <sha256>"
 *   GET  /_test/stream?N     streams N bytes of a repeating pattern
 *   GET  /_test/sleep?MS     answers after MS milliseconds */
#include "http/http-private.h"

#include <stdlib.h>

#define TEST_CHUNK (64 * 1024)

static void echo_handler(struct http_exchange *ex, void *data)
{
	char *buf = g_malloc(TEST_CHUNK);
	ssize_t n;
	http_response_status(ex, 200);
	http_response_header(ex, "Content-Type", "application/octet-stream");
	while ((n = http_request_read_body(ex, buf, TEST_CHUNK)) > 0) {
		if (http_response_write(ex, buf, (size_t)n) < 0)
			break;
	}
	http_response_finish(ex);
	g_free(buf);
}

static void sink_handler(struct http_exchange *ex, void *data)
{
	char *buf = g_malloc(TEST_CHUNK);
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	guint64 total = 0;
	ssize_t n;
	while ((n = http_request_read_body(ex, buf, TEST_CHUNK)) > 0) {
		g_checksum_update(sum, (const guchar *)buf, (gssize)n);
		total += (guint64)n;
	}
	if (n < 0) {
		http_reply_status(ex, 400, "body incomplete\n");
	} else {
		char *text = g_strdup_printf("%" G_GUINT64_FORMAT " %s\n", total,
		                             g_checksum_get_string(sum));
		http_reply(ex, 200, "text/plain; charset=utf-8", text, strlen(text));
		g_free(text);
	}
	g_checksum_free(sum);
	g_free(buf);
}

static void stream_handler(struct http_exchange *ex, void *data)
{
	const char *q = http_request_query(ex);
	guint64 left = q != NULL ? g_ascii_strtoull(q, NULL, 10) : 0;
	char *buf = g_malloc(TEST_CHUNK);
	for (size_t i = 0; i < TEST_CHUNK; i++)
		buf[i] = (char)('a' + i % 26);
	http_response_status(ex, 200);
	http_response_header(ex, "Content-Type", "application/octet-stream");
	while (left > 0) {
		size_t n = (size_t)MIN(left, (guint64)TEST_CHUNK);
		if (http_response_write(ex, buf, n) < 0)
			break;
		left -= n;
	}
	http_response_finish(ex);
	g_free(buf);
}

static void sleep_handler(struct http_exchange *ex, void *data)
{
	const char *q = http_request_query(ex);
	guint64 ms = q != NULL ? g_ascii_strtoull(q, NULL, 10) : 0;
	g_usleep((gulong)MIN(ms, 60000) * 1000);
	http_reply(ex, 200, "text/plain; charset=utf-8", "slept\n", 6);
}

static const char *const post_methods[] = {"POST", "PUT", NULL};
static const char *const get_methods[] = {"GET", "HEAD", NULL};

static const struct http_route test_routes[] = {
	{.prefix = "/_test/echo", .methods = post_methods, .handler = echo_handler},
	{.prefix = "/_test/sink", .methods = post_methods, .handler = sink_handler},
	{.prefix = "/_test/stream", .methods = get_methods, .handler = stream_handler},
	{.prefix = "/_test/sleep", .methods = get_methods, .handler = sleep_handler},
};

void http_test_routes_register(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(test_routes); i++)
		http_route_add(&test_routes[i]);
}
