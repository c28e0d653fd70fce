/* HTTP/1.1 request framing. Each input is fed whole, one byte at a time and
 * in odd-sized pieces, keeping unconsumed bytes for the next read as
 * net-conn does, and must give the same transcript of heads, bodies and
 * errors every time: framing must not depend on how TCP splits a stream.
 * Also the request-target split done before routing. */
#include "http/http-parse.h"
#include "http/http-private.h"

#include <http_parser.h>
#include <string.h>

static const struct http_parse_limits test_limits = {
	.max_target = 256,
	.max_header_bytes = 1024,
	.max_headers = 10,
	.max_body = 4096,
};
/* http-parser's own cap on a head, set as http_configure() does. */
#define PARSER_HEAD_CAP (1024 + 256 + 4096)

struct recorder {
	GString *log;
	GString *body;
	bool complete;   /* a message ended since the last http_parse_next() */
	int head_result; /* what the callbacks return */
	int body_result;
};

static int record_head(void *ctx, struct http_request_head *head)
{
	struct recorder *r = ctx;
	g_string_append_printf(r->log, "%s %s %u.%u %s", head->method, head->target,
	                       head->version_major, head->version_minor,
	                       head->keep_alive ? "keep-alive" : "close");
	if (head->chunked)
		g_string_append(r->log, " chunked");
	if (head->has_content_length)
		g_string_append_printf(r->log, " length=%" G_GUINT64_FORMAT, head->content_length);
	if (head->expect_continue)
		g_string_append(r->log, " continue");
	g_string_append_c(r->log, '\n');
	for (guint i = 0; i < head->headers->len; i++) {
		const struct http_header *h = &g_array_index(head->headers, struct http_header, i);
		g_string_append_printf(r->log, "  %s: %s\n", h->name, h->value);
	}
	http_request_head_free(head);
	return r->head_result;
}

static int record_body(void *ctx, const char *data, size_t len)
{
	struct recorder *r = ctx;
	g_assert_cmpuint(len, >, 0);
	g_string_append_len(r->body, data, (gssize)len);
	return r->body_result;
}

static int record_complete(void *ctx)
{
	struct recorder *r = ctx;
	if (r->body->len > 0)
		g_string_append_printf(r->log, "body: %s\n", r->body->str);
	g_string_append(r->log, "end\n");
	g_string_truncate(r->body, 0);
	r->complete = true;
	return 0;
}

static const struct http_parse_handler recorder_handler = {
	.head = record_head,
	.body = record_body,
	.complete = record_complete,
};

/* Feeds what is pending until the parser wants more input. Returns false
 * after a framing error. */
static bool drain(struct http_parse *p, struct recorder *r, GString *pending)
{
	for (;;) {
		int status = 0;
		ssize_t n = http_parse_feed(p, pending->str, pending->len, &status);
		if (n < 0) {
			g_string_append_printf(r->log, "error %d\n", status);
			return false;
		}
		g_assert_cmpuint((size_t)n, <=, pending->len);
		g_string_erase(pending, 0, n);
		if (r->complete) {
			r->complete = false;
			http_parse_next(p);
			continue;
		}
		if (n == 0 || pending->len == 0)
			return true;
	}
}

/* The transcript of `input` delivered `step` bytes per read (0: at once). */
static char *transcript_with(const struct http_parse_limits *limits, const char *input, size_t len,
                             size_t step, int head_result, int body_result)
{
	struct recorder r = {g_string_new(NULL), g_string_new(NULL), false, head_result,
	                     body_result};
	struct http_parse *p = http_parse_new(limits, &recorder_handler, &r);
	GString *pending = g_string_new(NULL);
	size_t offered = 0;
	bool ok = true;
	while (ok && offered < len) {
		size_t n = step == 0 ? len : MIN(step, len - offered);
		g_string_append_len(pending, input + offered, (gssize)n);
		offered += n;
		ok = drain(p, &r, pending);
	}
	if (ok && (http_parse_started(p) || pending->len > 0))
		g_string_append(r.log, "incomplete\n");
	g_string_free(pending, TRUE);
	g_string_free(r.body, TRUE);
	http_parse_free(&p);
	g_assert_null(p);
	return g_string_free(r.log, FALSE);
}

static const size_t steps[] = {0, 1, 2, 3, 7, 64};

static void check_len(const struct http_parse_limits *limits, const char *input, size_t len,
                      const char *expected)
{
	for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
		char *got = transcript_with(limits, input, len, steps[i], 0, 0);
		if (strcmp(got, expected) != 0)
			g_error("fed in pieces of %zu:\n--- got:\n%s--- expected:\n%s", steps[i],
			        got, expected);
		g_free(got);
	}
}

static void check(const char *input, const char *expected)
{
	check_len(&test_limits, input, strlen(input), expected);
}

#define HOST "Host: h\r\n"
/* For inputs holding NUL bytes. */
#define CHECK_BYTES(input, expected) check_len(&test_limits, input, sizeof(input) - 1, expected)

static void test_simple_get(void)
{
	check("GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n",
	      "GET /index.html?x=1 1.1 keep-alive\n  Host: example.com\n  User-Agent: t/1\nend\n");
	/* Not yet complete: nothing is reported, whatever the split. */
	check("GET / HTTP/1.1\r\nHost: h\r\n", "incomplete\n");
	check("GE", "incomplete\n");
}

static void test_header_values(void)
{
	/* Surrounding whitespace is not part of a value; an empty value is
	 * kept; a folded line (obs-fold) joins its value. */
	check("GET / HTTP/1.1\r\nHost:   h  \r\nX-Empty:\r\nX-Tab:\tv 1\t\r\n"
	      "X-Fold: a\r\n b\r\n\r\n",
	      "GET / 1.1 keep-alive\n  Host: h\n  X-Empty: \n  X-Tab: v 1\n  X-Fold: a b\nend\n");
}

static void test_pipelined(void)
{
	check("GET /a HTTP/1.1\r\n" HOST "\r\nHEAD /b HTTP/1.1\r\n" HOST "\r\n"
	      "DELETE /c HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n",
	      "GET /a 1.1 keep-alive\n  Host: h\nend\n"
	      "HEAD /b 1.1 keep-alive\n  Host: h\nend\n"
	      "DELETE /c 1.1 close\n  Host: h\n  Connection: close\nend\n");
	/* The second request is cut short. */
	check("GET /a HTTP/1.1\r\n" HOST "\r\nGET /b HTTP/1.1\r\n",
	      "GET /a 1.1 keep-alive\n  Host: h\nend\nincomplete\n");
}

static void test_stops_after_message(void)
{
	const char *input = "POST /a HTTP/1.1\r\n" HOST "Content-Length: 2\r\n\r\nhi"
			    "GET /b HTTP/1.1\r\n" HOST "\r\n";
	size_t first = strlen("POST /a HTTP/1.1\r\n" HOST "Content-Length: 2\r\n\r\nhi");
	struct recorder r = {g_string_new(NULL), g_string_new(NULL), false, 0, 0};
	struct http_parse *p = http_parse_new(&test_limits, &recorder_handler, &r);
	int status = 0;
	g_assert_false(http_parse_started(p));
	ssize_t n = http_parse_feed(p, input, strlen(input), &status);
	g_assert_cmpint(n, ==, (ssize_t)first);
	g_assert_true(r.complete);
	g_assert_false(http_parse_in_message(p));
	g_assert_false(http_parse_started(p));
	/* The next request waits until the caller is ready for it. */
	n = http_parse_feed(p, input + first, strlen(input) - first, &status);
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpstr(r.log->str, ==,
	                "POST /a 1.1 keep-alive length=2\n  Host: h\n"
	                "  Content-Length: 2\nbody: hi\nend\n");
	http_parse_next(p);
	r.complete = false;
	n = http_parse_feed(p, input + first, strlen(input) - first, &status);
	g_assert_cmpint(n, ==, (ssize_t)(strlen(input) - first));
	g_assert_true(r.complete);
	g_assert_true(g_str_has_suffix(r.log->str, "end\nGET /b 1.1 keep-alive\n  Host: h\nend\n"));
	http_parse_free(&p);
	g_string_free(r.log, TRUE);
	g_string_free(r.body, TRUE);
}

static void test_message_state(void)
{
	struct recorder r = {g_string_new(NULL), g_string_new(NULL), false, 0, 0};
	struct http_parse *p = http_parse_new(&test_limits, &recorder_handler, &r);
	int status = 0;
	const char *head = "PUT /f HTTP/1.1\r\n" HOST "Content-Length: 4\r\n\r\n";
	/* A partial request line is left unconsumed until its end arrives, but
	 * the request has begun (the read timeout applies). */
	g_assert_cmpint(http_parse_feed(p, "PUT /f", 6, &status), ==, 0);
	g_assert_true(http_parse_started(p));
	g_assert_false(http_parse_in_message(p));
	g_assert_cmpint(http_parse_feed(p, head, strlen(head), &status), ==, (ssize_t)strlen(head));
	g_assert_true(http_parse_in_message(p));
	g_assert_cmpint(http_parse_feed(p, "ab", 2, &status), ==, 2);
	g_assert_true(http_parse_in_message(p));
	g_assert_cmpint(http_parse_feed(p, "cd", 2, &status), ==, 2);
	g_assert_false(http_parse_in_message(p));
	g_assert_false(http_parse_started(p));
	g_assert_true(g_str_has_suffix(r.log->str, "body: abcd\nend\n"));
	http_parse_free(&p);
	g_string_free(r.log, TRUE);
	g_string_free(r.body, TRUE);
}

static void test_content_length(void)
{
	check("POST /form HTTP/1.1\r\n" HOST "Content-Length: 11\r\n\r\nhello world"
	      "POST /empty HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n",
	      "POST /form 1.1 keep-alive length=11\n  Host: h\n  Content-Length: 11\n"
	      "body: hello world\nend\n"
	      "POST /empty 1.1 keep-alive length=0\n  Host: h\n  Content-Length: 0\nend\n");
	check("PUT /f HTTP/1.1\r\n" HOST "Content-Length: 10\r\n\r\nshort",
	      "PUT /f 1.1 keep-alive length=10\n  Host: h\n  Content-Length: 10\nincomplete\n");
	/* The body's bytes are not parsed as a request. */
	check("POST / HTTP/1.1\r\n" HOST "Content-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	      "POST / 1.1 keep-alive length=18\n  Host: h\n  Content-Length: 18\n"
	      "body: GET / HTTP/1.1\r\n\r\n\nend\n");
}

static void test_chunked(void)
{
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	      "5;name=value\r\nhello\r\n"
	      "6;quoted=\"a b\";flag\r\n world\r\n"
	      "a\r\n0123456789\r\n"
	      "0\r\n\r\n",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "body: hello world0123456789\nend\n");
	/* Trailer fields are read and dropped; the next request follows. */
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	      "3\r\nabc\r\n0\r\nX-Checksum: 900150983cd24fb0\r\nX-Other: d\r\n\r\n"
	      "GET /next HTTP/1.1\r\n" HOST "\r\n",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "body: abc\nend\n"
	      "GET /next 1.1 keep-alive\n  Host: h\nend\n");
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n3\r\nab",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "incomplete\n");
	/* The CRLFs around chunk data are exact: another byte in their place
	 * could hide a request from a proxy that reads them strictly. */
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	      "5\r\nhelloXY0\r\n\r\n",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "error 400\n");
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	      "5\r\nhello\n0\r\n\r\n",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "error 400\n");
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	      "5\rXhello\r\n0\r\n\r\n",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "error 400\n");
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "error 400\n");
	check("POST /up HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	      "fffffffffffffffffff\r\n",
	      "POST /up 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "error 400\n");
}

/* "X-0: v\r\nX-1: v\r\n..." as sent, or as the transcript shows them. */
static char *numbered_headers(const char *name, int times, bool in_transcript)
{
	GString *s = g_string_new(NULL);
	for (int i = 0; i < times; i++) {
		if (in_transcript)
			g_string_append_printf(s, "  %s-%d: v\n", name, i);
		else
			g_string_append_printf(s, "%s-%d: v\r\n", name, i);
	}
	return g_string_free(s, FALSE);
}

static void check_printf(const char *expected, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void check_printf(const char *expected, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	char *input = g_strdup_vprintf(format, ap);
	va_end(ap);
	check(input, expected);
	g_free(input);
}

static void test_limit_target(void)
{
	char *longest = g_strnfill(test_limits.max_target - 1, 'a');
	char *expected = g_strdup_printf("GET /%s 1.1 keep-alive\n  Host: h\nend\n", longest);
	check_printf(expected, "GET /%s HTTP/1.1\r\n" HOST "\r\n", longest);
	check_printf("error 414\n", "GET /%sb HTTP/1.1\r\n" HOST "\r\n", longest);
	g_free(expected);
	g_free(longest);
}

static void test_limit_target_past_parser_cap(void)
{
	/* http-parser counts the request line against its cap and, when it
	 * all comes in one read, reaches the cap before handing us the
	 * target: the status must still be ours. */
	char *path = g_strnfill(PARSER_HEAD_CAP + 100, 'a');
	check_printf("error 414\n", "GET /%s HTTP/1.1\r\n" HOST "\r\n", path);
	g_free(path);
	/* Past the cap in a header, it is 431 either way. */
	char *value = g_strnfill(PARSER_HEAD_CAP + 100, 'v');
	check_printf("error 431\n", "GET / HTTP/1.1\r\n" HOST "X: %s\r\n\r\n", value);
	g_free(value);
}

static void test_limit_headers(void)
{
	/* Names and values together, as sent. */
	char *value = g_strnfill(
		test_limits.max_header_bytes - strlen("Host") - strlen("h") - strlen("X"), 'v');
	char *expected = g_strdup_printf("GET / 1.1 keep-alive\n  Host: h\n  X: %s\nend\n", value);
	check_printf(expected, "GET / HTTP/1.1\r\n" HOST "X: %s\r\n\r\n", value);
	check_printf("error 431\n", "GET / HTTP/1.1\r\n" HOST "X: %sv\r\n\r\n", value);
	check_printf("error 431\n", "GET / HTTP/1.1\r\n" HOST "XY: %s\r\n\r\n", value);
	g_free(expected);
	g_free(value);

	char *nine = numbered_headers("X", (int)test_limits.max_headers - 1, false);
	char *ten = numbered_headers("X", (int)test_limits.max_headers, false);
	char *nine_expected = numbered_headers("X", (int)test_limits.max_headers - 1, true);
	expected = g_strdup_printf("GET / 1.1 keep-alive\n  Host: h\n%send\n", nine_expected);
	check_printf(expected, "GET / HTTP/1.1\r\n" HOST "%s\r\n", nine);
	check_printf("error 431\n", "GET / HTTP/1.1\r\n" HOST "%s\r\n", ten);
	g_free(expected);
	g_free(nine_expected);
	g_free(ten);
	g_free(nine);
}

static void test_limit_trailers(void)
{
	/* Trailers count against the same budget as the head. */
	char *value = g_strnfill(test_limits.max_header_bytes, 'v');
	check_printf("POST / 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	             "error 431\n",
	             "POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	             "0\r\nX-T: %s\r\n\r\n",
	             value);
	g_free(value);
	char *many = numbered_headers("T", 200, false);
	check_printf("POST / 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	             "error 431\n",
	             "POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n0\r\n%s\r\n",
	             many);
	g_free(many);
}

static void test_limit_body(void)
{
	char *body = g_strnfill(test_limits.max_body, 'b');
	char *expected = g_strdup_printf("PUT / 1.1 keep-alive length=4096\n  Host: h\n"
	                                 "  Content-Length: 4096\nbody: %s\nend\n",
	                                 body);
	check_printf(expected, "PUT / HTTP/1.1\r\n" HOST "Content-Length: 4096\r\n\r\n%s", body);
	g_free(expected);
	/* Refused from the head, before any body byte. */
	check("PUT / HTTP/1.1\r\n" HOST "Content-Length: 4097\r\n\r\n", "error 413\n");
	check("PUT / HTTP/1.1\r\n" HOST "Content-Length: 99999999999999\r\n\r\n", "error 413\n");
	/* A chunked body only shows its size as it comes. */
	check_printf("PUT / 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	             "error 413\n",
	             "PUT / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	             "1000\r\n%s\r\n1\r\nb\r\n0\r\n\r\n",
	             body);
	g_free(body);
}

static void test_extension_methods(void)
{
	check("FOOBAR /x HTTP/1.1\r\n" HOST "\r\n", "FOOBAR /x 1.1 keep-alive\n  Host: h\nend\n");
	/* Methods are case-sensitive: "get" is not GET. */
	check("get / HTTP/1.1\r\n" HOST "\r\n", "get / 1.1 keep-alive\n  Host: h\nend\n");
	/* Framing is the same whatever the method. */
	check("X-Custom_1.0 /x HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"
	      "2\r\nok\r\n0\r\n\r\n"
	      "PRI* /y HTTP/1.1\r\n" HOST "Content-Length: 2\r\n\r\nhi",
	      "X-Custom_1.0 /x 1.1 keep-alive chunked\n  Host: h\n  Transfer-Encoding: chunked\n"
	      "body: ok\nend\n"
	      "PRI* /y 1.1 keep-alive length=2\n  Host: h\n  Content-Length: 2\nbody: hi\nend\n");
	/* RFC 9110 5.6.2 tokens of up to 32 characters. */
	char *longest = g_strnfill(32, 'M');
	char *expected = g_strdup_printf("%s / 1.1 keep-alive\n  Host: h\nend\n", longest);
	check_printf(expected, "%s / HTTP/1.1\r\n" HOST "\r\n", longest);
	check_printf("error 501\n", "%sM / HTTP/1.1\r\n" HOST "\r\n", longest);
	g_free(expected);
	g_free(longest);
	check("GET\t/ HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	/* NUL is no token character; these were once read as methods "" and
	 * "GET" (the first found by fuzz-http-request). */
	CHECK_BYTES("\0\0#ST /upload HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	CHECK_BYTES("GET\0X / HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	check("G(ET / HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	check(" GET / HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	/* A fragment is never part of a request-target (RFC 9112 3.2). */
	check("DELETE /dav/files/a/coll/#frag HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	check("GET /x?q=1#f HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	check("GET /x%23y HTTP/1.1\r\n" HOST "\r\n", "GET /x%23y 1.1 keep-alive\n  Host: h\nend\n");
}

static void test_webdav_methods(void)
{
	static const char *const methods[] = {
		"OPTIONS",
		"PROPFIND",
		"PROPPATCH",
		"MKCOL",
		"COPY",
		"MOVE",
		"LOCK",
		"UNLOCK",
		"REPORT",
		"SEARCH",
		"ACL",
		"MKCALENDAR",
		"BIND",
		"UNBIND",
		"REBIND",
		"PATCH",
		"TRACE",
		"MERGE",
		"CHECKOUT",
		"NOTIFY",
		"SUBSCRIBE",
		"ORDERPATCH",
		"MKWORKSPACE",
		"UPDATEREDIRECTREF",
		"VERSION-CONTROL",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
		char *expected = g_strdup_printf("%s /dav/ 1.1 keep-alive length=7\n  Host: h\n"
		                                 "  Content-Length: 7\nbody: <x-ml/>\nend\n",
		                                 methods[i]);
		check_printf(expected,
		             "%s /dav/ HTTP/1.1\r\n" HOST "Content-Length: 7\r\n\r\n<x-ml/>",
		             methods[i]);
		g_free(expected);
	}
}

static void test_keep_alive(void)
{
	check("GET / HTTP/1.0\r\n\r\n", "GET / 1.0 close\nend\n");
	check("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	      "GET / 1.0 keep-alive\n  Connection: keep-alive\nend\n");
	check("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n" HOST "\r\n",
	      "GET / 1.0 keep-alive\n  Connection: Keep-Alive\n  Host: h\nend\n");
	check("GET / HTTP/1.1\r\n" HOST "\r\n", "GET / 1.1 keep-alive\n  Host: h\nend\n");
	check("GET / HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n",
	      "GET / 1.1 close\n  Host: h\n  Connection: close\nend\n");
	check("GET / HTTP/1.1\r\n" HOST "Connection: Close\r\n\r\n",
	      "GET / 1.1 close\n  Host: h\n  Connection: Close\nend\n");
}

static void test_host(void)
{
	check("GET / HTTP/1.1\r\n\r\n", "error 400\n");
	check("GET / HTTP/1.1\r\n" HOST "Host: other\r\n\r\n", "error 400\n");
	check("GET / HTTP/1.0\r\n" HOST "host: other\r\n\r\n", "error 400\n");
	/* An empty Host is still one Host (RFC 9112 3.2). */
	check("GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET / 1.1 keep-alive\n  Host: \nend\n");
}

static void test_versions(void)
{
	check("GET / HTTP/2.0\r\n" HOST "\r\n", "error 505\n");
	check("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "error 505\n");
	check("GET / HTTP/0.9\r\n\r\n", "error 505\n");
	/* RFC 9112 2.3: one digit a side; anything else is not a version. */
	check("GET / HTTP/11.1\r\n" HOST "\r\n", "error 400\n");
	check("GET / HTTX/1.1\r\n" HOST "\r\n", "error 400\n");
	check("GET /a b HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	check("GET /\x80 HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	check("GET / HTTP/1.1\r\n" HOST "\r\n", "GET / 1.1 keep-alive\n  Host: h\nend\n");
}

static void test_connect(void)
{
	check("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "error 501\n");
}

static void test_expect(void)
{
	check("PUT /f HTTP/1.1\r\n" HOST "Expect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
	      "PUT /f 1.1 keep-alive length=1 continue\n  Host: h\n  Expect: 100-continue\n"
	      "  Content-Length: 1\nbody: x\nend\n");
	check("PUT /f HTTP/1.1\r\n" HOST "Expect: 100-Continue\r\nContent-Length: 0\r\n\r\n",
	      "PUT /f 1.1 keep-alive length=0 continue\n  Host: h\n  Expect: 100-Continue\n"
	      "  Content-Length: 0\nend\n");
	check("PUT /f HTTP/1.1\r\n" HOST "Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx",
	      "error 417\n");
}

static void test_framing_conflicts(void)
{
	/* RFC 9112 6.1: both is a smuggling attempt. */
	check("POST / HTTP/1.1\r\n" HOST "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "0\r\n\r\n",
	      "error 400\n");
	check("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
	      "0\r\n\r\n",
	      "error 400\n");
	check("POST / HTTP/1.1\r\n" HOST "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	      "error 400\n");
	check("POST / HTTP/1.1\r\n" HOST "Content-Length: 3x\r\n\r\nabc", "error 400\n");
	check("POST / HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n", "error 400\n");
	/* Only chunked is decoded here: a body still gzipped under it would
	 * reach the handler as if plain. */
	check("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	      "error 501\n");
	check("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	      "error 501\n");
	/* A request body is chunked or has a length; nothing else frames it.
	 * http-parser says so only after the head, which is harmless: with no
	 * body framing known, the caller has not started on the request. */
	check("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\nabc",
	      "POST / 1.1 keep-alive\n  Host: h\n  Transfer-Encoding: gzip\nerror 400\n");
}

static void test_garbage(void)
{
	check("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "error 400\n");
	check("GET / HTTP/1.1\r\nHost h\r\n\r\n", "error 400\n");
	check("GET\r\n\r\n", "error 400\n");
	check("GET / FTP/1.1\r\n" HOST "\r\n", "error 400\n");
	check("GET /a b HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	/* RFC 9112 5.1; http-parser would frame by the second one. */
	check("GET / HTTP/1.1\r\nBad Name: v\r\n" HOST "\r\n", "error 400\n");
	check("POST / HTTP/1.1\r\n" HOST "Content-Length : 3\r\n\r\nabc", "error 400\n");
	check("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n",
	      "error 400\n");
	check("GET / HTTP/1.1\r\n" HOST "X: a\x01z\r\n\r\n", "error 400\n");
	/* NUL can hide the rest of a string from code that reads it as C text. */
	CHECK_BYTES("GET /a\0b HTTP/1.1\r\n" HOST "\r\n", "error 400\n");
	CHECK_BYTES("GET / HTTP/1.1\r\nX: a\0b\r\n" HOST "\r\n", "error 400\n");
	CHECK_BYTES("GET / HTTP/1.1\r\nX\0: ab\r\n" HOST "\r\n", "error 400\n");
}

static void test_leading_empty_lines(void)
{
	check("\r\n\r\n\nGET / HTTP/1.1\r\n" HOST "\r\n", "GET / 1.1 keep-alive\n  Host: h\nend\n");
	/* Some clients send a stray CRLF after a body. */
	check("POST / HTTP/1.1\r\n" HOST "Content-Length: 1\r\n\r\nx\r\n"
	      "GET /2 HTTP/1.1\r\n" HOST "\r\n\r\n",
	      "POST / 1.1 keep-alive length=1\n  Host: h\n  Content-Length: 1\nbody: x\nend\n"
	      "GET /2 1.1 keep-alive\n  Host: h\nend\n");
	check("\r\n\r\n", "");
}

static void test_callback_refusal(void)
{
	const char *input = "POST / HTTP/1.1\r\n" HOST "Content-Length: 2\r\n\r\nhi";
	char *got = transcript_with(&test_limits, input, strlen(input), 0, -1, 0);
	g_assert_cmpstr(
		got, ==,
		"POST / 1.1 keep-alive length=2\n  Host: h\n  Content-Length: 2\nerror 400\n");
	g_free(got);
	got = transcript_with(&test_limits, input, strlen(input), 1, 0, -1);
	g_assert_cmpstr(
		got, ==,
		"POST / 1.1 keep-alive length=2\n  Host: h\n  Content-Length: 2\nerror 400\n");
	g_free(got);
}

static void test_error_sticks(void)
{
	struct recorder r = {g_string_new(NULL), g_string_new(NULL), false, 0, 0};
	struct http_parse *p = http_parse_new(&test_limits, &recorder_handler, &r);
	int status = 0;
	const char *bad = "GET / HTTP/2.0\r\n" HOST "\r\n";
	g_assert_cmpint(http_parse_feed(p, bad, strlen(bad), &status), ==, -1);
	g_assert_cmpint(status, ==, 505);
	status = 0;
	const char *good = "GET / HTTP/1.1\r\n" HOST "\r\n";
	g_assert_cmpint(http_parse_feed(p, good, strlen(good), &status), ==, -1);
	g_assert_cmpint(status, ==, 505);
	g_assert_cmpstr(r.log->str, ==, "");
	http_parse_free(&p);
	g_string_free(r.log, TRUE);
	g_string_free(r.body, TRUE);
}

static void test_head_lookup(void)
{
	struct http_request_head head = {
		.headers = g_array_new(FALSE, FALSE, sizeof(struct http_header))};
	struct http_header h[] = {{"Accept", "a"}, {"X-Dup", "1"}, {"x-dup", "2"}};
	g_array_append_vals(head.headers, h, G_N_ELEMENTS(h));
	g_assert_cmpstr(http_request_head_get(&head, "ACCEPT"), ==, "a");
	g_assert_cmpstr(http_request_head_get(&head, "X-Dup"), ==, "1");
	g_assert_null(http_request_head_get(&head, "Accept-Encoding"));
	g_assert_cmpuint(http_request_head_count(&head, "x-DUP"), ==, 2);
	g_assert_cmpuint(http_request_head_count(&head, "Host"), ==, 0);
	g_array_unref(head.headers);
}

/* --- request-target split --- */

static void expect_split(const char *target, const char *path, const char *query)
{
	char *path_r = NULL;
	char *query_r = (char *)"unset";
	if (http_target_split(target, &path_r, &query_r) != 0)
		g_error("'%s' was refused", target);
	g_assert_cmpstr(path_r, ==, path);
	g_assert_cmpstr(query_r, ==, query);
	g_free(path_r);
	g_free(query_r);
}

static void expect_split_refused(const char *target)
{
	char *path_r = NULL;
	char *query_r = NULL;
	if (http_target_split(target, &path_r, &query_r) != -1)
		g_error("'%s' was accepted as '%s'", target, path_r);
	g_assert_null(path_r);
	g_assert_null(query_r);
}

static void test_target_split(void)
{
	expect_split("/", "/", NULL);
	expect_split("/a/b.html", "/a/b.html", NULL);
	expect_split("/a%20b/%C3%A9t%c3%a9", "/a b/\xc3\xa9t\xc3\xa9", NULL);
	/* The query stays raw: its decoding depends on who reads it. */
	expect_split("/search?q=a%20b&x=1", "/search", "q=a%20b&x=1");
	expect_split("/p?", "/p", "");
	expect_split("/p?a?b", "/p", "a?b");
	/* '?' decoded from the path is part of the path. */
	expect_split("/what%3F?x", "/what?", "x");
	expect_split("/doc#section", "/doc", NULL);
	expect_split("/doc?x=1#section", "/doc", "x=1");
}

static void test_target_absolute_form(void)
{
	expect_split("http://example.com/a%2Fb?x", "/a/b", "x");
	expect_split("HTTPS://example.com:8443/dav/", "/dav/", NULL);
	expect_split("http://example.com", "/", NULL);
	expect_split("http://user@example.com/p", "/p", NULL);
	expect_split("http://h?a=/b", "/", "a=/b");
	expect_split("http://h#x/y", "/", NULL);
	expect_split("/a#f?x", "/a", NULL);
	expect_split("/a?q#f?x", "/a", "q");
}

static void test_target_refused(void)
{
	expect_split_refused("");
	expect_split_refused("*");
	expect_split_refused("a/b");
	expect_split_refused("example.com:443");
	expect_split_refused("ftp://example.com/x");
	expect_split_refused("/a%00b");
	expect_split_refused("/a%00");
	expect_split_refused("/a%zz");
	expect_split_refused("/a%2");
	expect_split_refused("/a%");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	http_parser_set_max_header_size(PARSER_HEAD_CAP);
	g_test_add_func("/http-parse/simple-get", test_simple_get);
	g_test_add_func("/http-parse/header-values", test_header_values);
	g_test_add_func("/http-parse/pipelined", test_pipelined);
	g_test_add_func("/http-parse/stops-after-message", test_stops_after_message);
	g_test_add_func("/http-parse/message-state", test_message_state);
	g_test_add_func("/http-parse/content-length", test_content_length);
	g_test_add_func("/http-parse/chunked", test_chunked);
	g_test_add_func("/http-parse/limit-target", test_limit_target);
	g_test_add_func("/http-parse/limit-target-past-parser-cap",
	                test_limit_target_past_parser_cap);
	g_test_add_func("/http-parse/limit-headers", test_limit_headers);
	g_test_add_func("/http-parse/limit-trailers", test_limit_trailers);
	g_test_add_func("/http-parse/limit-body", test_limit_body);
	g_test_add_func("/http-parse/extension-methods", test_extension_methods);
	g_test_add_func("/http-parse/webdav-methods", test_webdav_methods);
	g_test_add_func("/http-parse/keep-alive", test_keep_alive);
	g_test_add_func("/http-parse/host", test_host);
	g_test_add_func("/http-parse/versions", test_versions);
	g_test_add_func("/http-parse/connect", test_connect);
	g_test_add_func("/http-parse/expect", test_expect);
	g_test_add_func("/http-parse/framing-conflicts", test_framing_conflicts);
	g_test_add_func("/http-parse/garbage", test_garbage);
	g_test_add_func("/http-parse/leading-empty-lines", test_leading_empty_lines);
	g_test_add_func("/http-parse/callback-refusal", test_callback_refusal);
	g_test_add_func("/http-parse/error-sticks", test_error_sticks);
	g_test_add_func("/http-parse/head-lookup", test_head_lookup);
	g_test_add_func("/target-split/origin-form", test_target_split);
	g_test_add_func("/target-split/absolute-form", test_target_absolute_form);
	g_test_add_func("/target-split/refused", test_target_refused);
	return g_test_run();
}
