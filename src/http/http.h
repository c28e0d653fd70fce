/* The HTTP/1.1 server as handlers see it: an exchange (one request and its
 * response), and the route table that picks a handler by path prefix.
 *
 * Handlers run on a worker thread and may block (storage, request body,
 * slow clients); their response streams to the client through a bounded
 * buffer, so a handler may write any amount. A route may also offer a
 * try_inline function that runs on the I/O thread and answers without
 * blocking when it can (cached static files, /healthz). */
#ifndef OX_HTTP_H
#define OX_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct http_exchange;
struct http_request_head;
struct net_protocol;
struct ox_config;

/* Worker-side handler; it should answer with http_reply*() or the
 * http_response_*() calls. One that returns without answering gets a 500. */
typedef void http_handler_fn(struct http_exchange *ex, void *data);
/* I/O-thread fast path: answers and returns true, or returns false to have
 * the request go to `handler` on a worker. Must not block. */
typedef bool http_inline_fn(struct http_exchange *ex, void *data);

struct http_route {
	const char *prefix;         /* "/dav/" matches "/dav/x"; "/healthz" matches itself */
	const char *const *methods; /* NULL-terminated; NULL means any method */
	http_inline_fn *try_inline; /* optional */
	http_handler_fn *handler;
	void *data;
	/* The path below the prefix is a credential (a feed's token): the
	 * access log writes the prefix alone. */
	bool secret_path;
};

/* Adds a route; `route` must outlive the server. The longest matching
 * prefix wins, whatever the order of registration. */
void http_route_add(const struct http_route *route);
void http_routes_clear(void);
/* For the router and tests: the route for a path, or NULL. */
const struct http_route *http_route_find(const char *path);

/* Registers the http.* options and the http/https listener kinds. */
void http_register(void);
/* Applies http.* settings (at start and on reload). */
void http_configure(const struct ox_config *cfg);
extern const struct net_protocol http_protocol;
/* Registers /healthz and the static files of the browser app under /. */
void http_builtin_routes(void);

/* --- request (any thread) --- */
const char *http_request_method(const struct http_exchange *ex);
const char *http_request_target(const struct http_exchange *ex);
/* Percent-decoded path without the query; never NULL. */
const char *http_request_path(const struct http_exchange *ex);
/* Raw query string after '?', or NULL. */
const char *http_request_query(const struct http_exchange *ex);
const char *http_request_header(const struct http_exchange *ex, const char *name);
const struct http_request_head *http_request_head(const struct http_exchange *ex);
bool http_request_is_head(const struct http_exchange *ex);
bool http_request_is_tls(const struct http_exchange *ex);
const char *http_request_peer(const struct http_exchange *ex);
/* Reads request body: returns bytes read, 0 at its end, -1 when the client
 * went away or stalled past net.read_timeout. Blocks on a worker. */
ssize_t http_request_read_body(struct http_exchange *ex, void *buf, size_t len);

/* --- response (the thread running the handler) --- */
void http_response_status(struct http_exchange *ex, int status);
/* Adds a header line; the server adds Date, Server, framing and
 * Connection itself. */
void http_response_header(struct http_exchange *ex, const char *name, const char *value);
/* Declares the body length (needed for HEAD without body, and to stream a
 * large body without chunked encoding). */
void http_response_content_length(struct http_exchange *ex, uint64_t length);
/* Appends body bytes; for HEAD they are counted and dropped. Returns 0, or
 * -1 once the client is gone (stop producing). May block on a worker while
 * the client is slower than the handler. */
int http_response_write(struct http_exchange *ex, const void *data, size_t len);
void http_response_finish(struct http_exchange *ex);
bool http_response_started(const struct http_exchange *ex);

/* A whole response in one call. */
void http_reply(struct http_exchange *ex, int status, const char *content_type, const void *body,
                size_t len);
/* A short text/plain response: "<status> <reason>\n" or `text`. */
void http_reply_status(struct http_exchange *ex, int status, const char *text);

/* Parses a Range header against a representation of `size` bytes: 1 with
 * the one range [*first_r, *last_r], 0 when the header is to be ignored
 * (absent, malformed, several ranges: a full 200 answers), -1 when it
 * cannot be satisfied (416). */
int http_parse_range(const char *header, uint64_t size, uint64_t *first_r, uint64_t *last_r);

/* Whether an If-Match or If-None-Match list names `etag` ("*" names
 * any; NULL names none). If-None-Match compares weakly (RFC 9110 13.1.2:
 * weak), If-Match strongly (13.1.1). */
bool http_etag_listed(const char *list, const char *etag, bool weak);

/* "Not Found" for 404 and so on; "Unknown" for codes it does not know. */
const char *http_status_reason(int status);

#endif
