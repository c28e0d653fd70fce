/* HTTP/1.1 request framing: the one wrapper around http-parser. Pure: no I/O,
 * no allocation beyond the request head it hands out, usable by the server,
 * the tests and the fuzz target alike.
 *
 * Feed bytes with http_parse_feed(); the callbacks fire for the head, each
 * piece of (de-chunked) body, and the end of the message. After the end the
 * parser stops, so a pipelined next request stays unconsumed until
 * http_parse_next() is called. */
#ifndef OX_HTTP_PARSE_H
#define OX_HTTP_PARSE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_header {
	char *name;
	char *value;
};

struct http_request_head {
	char *method; /* as sent; any token (extension methods included) */
	char *target; /* request-target as sent */
	unsigned version_major, version_minor;
	GArray *headers; /* of struct http_header, in order */
	bool keep_alive;
	bool chunked;
	bool has_content_length;
	uint64_t content_length;
	bool expect_continue;
};

struct http_parse_limits {
	size_t max_target;       /* request-target bytes: 414 beyond */
	size_t max_header_bytes; /* all header lines together: 431 beyond */
	size_t max_headers;      /* number of header lines: 431 beyond */
	uint64_t max_body;       /* body bytes: 413 beyond */
};

struct http_parse_handler {
	/* The head is complete; ownership passes to the callee. Return 0 to go
	 * on, -1 to stop (the feed returns -1 with the status set by
	 * http_parse_fail()). */
	int (*head)(void *ctx, struct http_request_head *head);
	/* A piece of body; data points into the fed buffer. */
	int (*body)(void *ctx, const char *data, size_t len);
	/* The message ended. */
	int (*complete)(void *ctx);
};

struct http_parse;

struct http_parse *http_parse_new(const struct http_parse_limits *limits,
                                  const struct http_parse_handler *handler, void *ctx);
void http_parse_free(struct http_parse **p);

/* Consumes bytes. Returns how many were used (fewer than len after a
 * message ended; see http_parse_next()), or -1 on a framing error, with the
 * HTTP status to answer in *status_r (400, 413, 414, 431, 501, 505). After
 * an error the parser is unusable: the connection must close. */
ssize_t http_parse_feed(struct http_parse *p, const char *data, size_t len, int *status_r);

/* After complete(): get ready for the next request on the connection. */
void http_parse_next(struct http_parse *p);

/* True between a head and the end of its message. */
bool http_parse_in_message(const struct http_parse *p);
/* True once any byte of a request was seen and it is not complete. */
bool http_parse_started(const struct http_parse *p);

/* Callbacks may call this to stop feeding with a given status. */
void http_parse_fail(struct http_parse *p, int status);

void http_request_head_free(struct http_request_head *head);
/* Case-insensitive lookup; returns the first value or NULL. */
const char *http_request_head_get(const struct http_request_head *head, const char *name);
/* Number of header lines with that name. */
unsigned http_request_head_count(const struct http_request_head *head, const char *name);

#endif
