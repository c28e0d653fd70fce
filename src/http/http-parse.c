#include "http/http-parse.h"

#include <http_parser.h>
#include <string.h>

/* RFC 9110 5.6.2: the longest method we accept; real ones are far shorter. */
#define MAX_METHOD_LENGTH 32

struct http_parse {
	http_parser parser;
	struct http_parse_limits limits;
	const struct http_parse_handler *handler;
	void *ctx;

	struct http_request_head *head; /* being built */
	GString *target;
	GString *field;
	GString *value;
	size_t header_bytes;
	size_t fields; /* header and trailer lines so far */
	uint64_t body_bytes;
	int status;

	bool at_start; /* next byte begins a request line */
	bool started;  /* some of a request was seen */
	bool headers_done;
	bool have_field; /* a field name is pending a value */
	bool in_value;
	bool message_done;
	bool failed;
	/* Paused after a chunk delimiter: its last bytes must be this (the
	 * tail of "\r\n"; 0 when nothing is to be checked). */
	size_t check_crlf;
	char last_byte; /* the last byte http-parser consumed */
};

void http_parse_fail(struct http_parse *p, int status)
{
	if (p->status == 0)
		p->status = status;
}

static bool is_tchar(unsigned char c)
{
	/* RFC 9110 5.6.2 token characters. strchr() also finds the string's
	 * terminator: NUL must not pass, or "GET\0X" would read as GET. */
	return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* http-parser knows a fixed list of methods; others are fed to it as GET
 * (framing does not depend on the method) and keep their real name here. */
static bool parser_knows_method(const char *method)
{
	for (int i = 0;; i++) {
		const char *name = http_method_str((enum http_method)i);
		if (strcmp(name, "<unknown>") == 0)
			return false;
		if (strcmp(name, method) == 0)
			return true;
	}
}

static struct http_parse *parser_of(http_parser *hp)
{
	return hp->data;
}

static int add_header_bytes(struct http_parse *p, size_t n)
{
	p->header_bytes += n;
	if (p->header_bytes > p->limits.max_header_bytes) {
		http_parse_fail(p, 431);
		return -1;
	}
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	struct http_parse *p = parser_of(hp);
	if (p->target->len + len > p->limits.max_target) {
		http_parse_fail(p, 414);
		return -1;
	}
	g_string_append_len(p->target, at, (gssize)len);
	return 0;
}

static void finish_header(struct http_parse *p)
{
	if (!p->have_field)
		return;
	if (!p->headers_done) {
		struct http_header h = {g_string_free(p->field, FALSE),
		                        g_strchomp(g_string_free(p->value, FALSE))};
		g_array_append_val(p->head->headers, h);
		p->field = g_string_new(NULL);
		p->value = g_string_new(NULL);
	} else {
		/* Trailer fields of a chunked body: counted, not kept. */
		g_string_truncate(p->field, 0);
		g_string_truncate(p->value, 0);
	}
	p->have_field = false;
	p->in_value = false;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct http_parse *p = parser_of(hp);
	if (p->in_value)
		finish_header(p);
	if (!p->have_field) {
		/* Counted here, not from the head: trailers arrive after the head
		 * was handed out. */
		if (p->fields >= p->limits.max_headers) {
			http_parse_fail(p, 431);
			return -1;
		}
		p->fields++;
		p->have_field = true;
	}
	if (add_header_bytes(p, len) < 0)
		return -1;
	/* Not built strict, http-parser lets spaces into field names. RFC 9112
	 * 5.1 wants a 400: it still frames by "Content-Length : 5", which the
	 * head would not show. */
	for (size_t i = 0; i < len; i++) {
		if (!is_tchar((unsigned char)at[i])) {
			http_parse_fail(p, 400);
			return -1;
		}
	}
	g_string_append_len(p->field, at, (gssize)len);
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct http_parse *p = parser_of(hp);
	p->in_value = true;
	if (add_header_bytes(p, len) < 0)
		return -1;
	g_string_append_len(p->value, at, (gssize)len);
	return 0;
}

static int check_head(struct http_parse *p, struct http_request_head *head)
{
	if (head->version_major != 1) {
		http_parse_fail(p, 505);
		return -1;
	}
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1. */
	unsigned hosts = http_request_head_count(head, "Host");
	if (hosts > 1 || (hosts == 0 && head->version_minor >= 1)) {
		http_parse_fail(p, 400);
		return -1;
	}
	if (strcmp(head->method, "CONNECT") == 0) {
		http_parse_fail(p, 501);
		return -1;
	}
	/* RFC 9112 6.1: chunked is the one coding decoded here; with another
	 * before it ("gzip, chunked") the body would reach the handler still
	 * encoded. */
	if (head->chunked && (http_request_head_count(head, "Transfer-Encoding") != 1 ||
	                      g_ascii_strcasecmp(http_request_head_get(head, "Transfer-Encoding"),
	                                         "chunked") != 0)) {
		http_parse_fail(p, 501);
		return -1;
	}
	const char *expect = http_request_head_get(head, "Expect");
	if (expect != NULL) {
		if (g_ascii_strcasecmp(expect, "100-continue") != 0) {
			http_parse_fail(p, 417);
			return -1;
		}
		head->expect_continue = true;
	}
	if (head->has_content_length && head->content_length > p->limits.max_body) {
		http_parse_fail(p, 413);
		return -1;
	}
	return 0;
}

static int on_headers_complete(http_parser *hp)
{
	struct http_parse *p = parser_of(hp);
	finish_header(p);
	p->headers_done = true;
	struct http_request_head *head = p->head;
	head->target = g_string_free(p->target, FALSE);
	p->target = g_string_new(NULL);
	head->version_major = hp->http_major;
	head->version_minor = hp->http_minor;
	head->keep_alive = http_should_keep_alive(hp) != 0;
	head->chunked = (hp->flags & F_CHUNKED) != 0;
	head->has_content_length = http_request_head_get(head, "Content-Length") != NULL;
	head->content_length = head->has_content_length ? hp->content_length : 0;
	if (check_head(p, head) < 0)
		return -1;
	p->head = NULL;
	if (p->handler->head(p->ctx, head) < 0) {
		http_parse_fail(p, 400);
		return -1;
	}
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct http_parse *p = parser_of(hp);
	p->body_bytes += len;
	if (p->body_bytes > p->limits.max_body) {
		http_parse_fail(p, 413);
		return -1;
	}
	if (p->handler->body(p->ctx, at, len) < 0) {
		http_parse_fail(p, 400);
		return -1;
	}
	return 0;
}

/* http-parser is not built strict: it takes any byte for the LF that ends
 * a chunk-size line and any two for the CRLF after chunk data. Pause at
 * each so that feed checks them; a lax framing would let a client hide a
 * request from a stricter proxy in front (request smuggling). */
static int on_chunk_header(http_parser *hp)
{
	struct http_parse *p = parser_of(hp);
	p->check_crlf = 1;
	http_parser_pause(hp, 1);
	return 0;
}

static int on_chunk_complete(http_parser *hp)
{
	struct http_parse *p = parser_of(hp);
	if (hp->flags & F_TRAILING)
		return 0; /* the end of the trailers, not of chunk data */
	p->check_crlf = 2;
	http_parser_pause(hp, 1);
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	struct http_parse *p = parser_of(hp);
	finish_header(p);
	p->message_done = true;
	if (p->handler->complete(p->ctx) < 0) {
		http_parse_fail(p, 400);
		return -1;
	}
	/* Stop here: a pipelined request waits until this one is answered. */
	http_parser_pause(hp, 1);
	return 0;
}

static void reset_message(struct http_parse *p)
{
	if (p->head != NULL)
		http_request_head_free(p->head);
	p->head = g_new0(struct http_request_head, 1);
	p->head->headers = g_array_new(FALSE, FALSE, sizeof(struct http_header));
	g_string_truncate(p->target, 0);
	g_string_truncate(p->field, 0);
	g_string_truncate(p->value, 0);
	p->header_bytes = 0;
	p->fields = 0;
	p->body_bytes = 0;
	p->at_start = true;
	p->started = false;
	p->headers_done = false;
	p->have_field = false;
	p->in_value = false;
	p->message_done = false;
	p->check_crlf = 0;
	http_parser_init(&p->parser, HTTP_REQUEST);
	p->parser.data = p;
}

/* Constant, so I/O threads starting at once never see it half-filled. */
static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_chunk_header = on_chunk_header,
	.on_chunk_complete = on_chunk_complete,
	.on_message_complete = on_message_complete,
};

struct http_parse *http_parse_new(const struct http_parse_limits *limits,
                                  const struct http_parse_handler *handler, void *ctx)
{
	struct http_parse *p = g_new0(struct http_parse, 1);
	p->limits = *limits;
	p->handler = handler;
	p->ctx = ctx;
	p->target = g_string_new(NULL);
	p->field = g_string_new(NULL);
	p->value = g_string_new(NULL);
	reset_message(p);
	return p;
}

void http_parse_free(struct http_parse **pp)
{
	struct http_parse *p = *pp;
	if (p == NULL)
		return;
	*pp = NULL;
	if (p->head != NULL)
		http_request_head_free(p->head);
	g_string_free(p->target, TRUE);
	g_string_free(p->field, TRUE);
	g_string_free(p->value, TRUE);
	g_free(p);
}

void http_parse_next(struct http_parse *p)
{
	reset_message(p);
}

bool http_parse_in_message(const struct http_parse *p)
{
	return p->headers_done && !p->message_done;
}

bool http_parse_started(const struct http_parse *p)
{
	return p->started && !p->message_done;
}

static int parser_status(struct http_parse *p)
{
	if (p->status != 0)
		return p->status;
	enum http_errno err = HTTP_PARSER_ERRNO(&p->parser);
	/* http-parser's cap counts the request line too, and it may be reached
	 * before on_url() sees an overlong target: without a header line yet,
	 * the target is what is too long. */
	if (err == HPE_HEADER_OVERFLOW)
		return p->fields == 0 && !p->headers_done ? 414 : 431;
	if (err == HPE_INVALID_VERSION)
		return 505;
	return 400;
}

/* Checks "request-target SP HTTP/D.D [CR]" (RFC 9112 3): a target of
 * visible ASCII only, one space, a well-formed version. No form of
 * request-target has a fragment (RFC 9112 3.2, RFC 3986 3.5 keeps '#' out
 * of paths and queries): a client that sends one meant something else,
 * and a DELETE of "coll/#x" must not remove "coll/". */
static int check_request_line(struct http_parse *p, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	static const char version[] = " HTTP/";
	size_t vlen = sizeof(version) - 1;
	if (len < vlen + 3 + 1 || memcmp(line + len - vlen - 3, version, vlen) != 0 ||
	    !g_ascii_isdigit(line[len - 3]) || line[len - 2] != '.' ||
	    !g_ascii_isdigit(line[len - 1])) {
		http_parse_fail(p, 400);
		return -1;
	}
	size_t target_len = len - vlen - 3;
	if (target_len > p->limits.max_target) {
		http_parse_fail(p, 414);
		return -1;
	}
	for (size_t k = 0; k < target_len; k++) {
		unsigned char c = (unsigned char)line[k];
		if (c <= 0x20 || c >= 0x7f || c == '#') {
			http_parse_fail(p, 400);
			return -1;
		}
	}
	return 0;
}

/* Reads the method at the start of a request. Returns bytes of input used
 * (leading blank lines and the method), 0 when more input is needed, -1 on
 * a malformed method. */
static ssize_t take_method(struct http_parse *p, const char *data, size_t len, bool *known_r)
{
	size_t skip = 0;
	/* RFC 9112 2.2: ignore empty lines before a request line. */
	while (skip < len && (data[skip] == '\r' || data[skip] == '\n'))
		skip++;
	size_t i = skip;
	while (i < len && i - skip <= MAX_METHOD_LENGTH && is_tchar((unsigned char)data[i]))
		i++;
	if (i - skip > MAX_METHOD_LENGTH) {
		http_parse_fail(p, 501);
		return -1;
	}
	if (i == len) {
		/* The method is not complete yet, but a request has begun: the
		 * read timeout applies to it, not the idle one. */
		p->started = i > skip;
		return (ssize_t)skip;
	}
	if (i == skip || data[i] != ' ') {
		http_parse_fail(p, 400);
		return -1;
	}
	/* The whole request line first: http-parser, built lenient, takes
	 * "HTTX/1.1" for a version and spaces inside the target. */
	p->started = true;
	const char *nl = memchr(data + i, '\n', len - i);
	if (nl == NULL) {
		if (len - i > p->limits.max_target + 16) {
			http_parse_fail(p, 414);
			return -1;
		}
		return (ssize_t)skip; /* wait for the rest of the line */
	}
	if (check_request_line(p, data + i + 1, (size_t)(nl - (data + i + 1))) < 0)
		return -1;
	p->head->method = g_strndup(data + skip, i - skip);
	p->at_start = false;
	*known_r = parser_knows_method(p->head->method);
	/* A known method is fed to http-parser as it is. */
	return *known_r ? (ssize_t)skip : (ssize_t)i;
}

ssize_t http_parse_feed(struct http_parse *p, const char *data, size_t len, int *status_r)
{
	size_t used = 0;
	if (p->failed) {
		*status_r = parser_status(p);
		return -1;
	}
	if (p->message_done)
		return 0;
	if (p->at_start) {
		bool known = false;
		ssize_t n = take_method(p, data, len, &known);
		if (n < 0)
			goto fail;
		if (p->at_start)
			return n; /* blank lines only, or an incomplete method */
		if (!known && http_parser_execute(&p->parser, &settings, "GET", 3) != 3)
			goto fail;
		used = (size_t)n;
	}
	if (used == len)
		return (ssize_t)used; /* a zero length would mean EOF to http-parser */
	while (used < len) {
		const char *at = data + used;
		char before = p->last_byte;
		size_t n = http_parser_execute(&p->parser, &settings, at, len - used);
		used += n;
		if (n > 0)
			p->last_byte = at[n - 1];
		if (p->check_crlf == 0)
			break;
		/* Paused just after the last byte of a chunk delimiter. */
		bool ok = n > 0 && at[n - 1] == '\n';
		if (p->check_crlf == 2)
			ok = ok && (n >= 2 ? at[n - 2] : before) == '\r';
		p->check_crlf = 0;
		if (!ok) {
			http_parse_fail(p, 400);
			goto fail;
		}
		http_parser_pause(&p->parser, 0);
	}
	enum http_errno err = HTTP_PARSER_ERRNO(&p->parser);
	if (err == HPE_PAUSED || (err == HPE_OK && p->status == 0))
		return (ssize_t)used;
fail:
	p->failed = true;
	*status_r = parser_status(p);
	return -1;
}

void http_request_head_free(struct http_request_head *head)
{
	if (head == NULL)
		return;
	for (guint i = 0; head->headers != NULL && i < head->headers->len; i++) {
		struct http_header *h = &g_array_index(head->headers, struct http_header, i);
		g_free(h->name);
		g_free(h->value);
	}
	if (head->headers != NULL)
		g_array_unref(head->headers);
	g_free(head->method);
	g_free(head->target);
	g_free(head);
}

const char *http_request_head_get(const struct http_request_head *head, const char *name)
{
	for (guint i = 0; i < head->headers->len; i++) {
		const struct http_header *h = &g_array_index(head->headers, struct http_header, i);
		if (g_ascii_strcasecmp(h->name, name) == 0)
			return h->value;
	}
	return NULL;
}

unsigned http_request_head_count(const struct http_request_head *head, const char *name)
{
	unsigned n = 0;
	for (guint i = 0; i < head->headers->len; i++) {
		const struct http_header *h = &g_array_index(head->headers, struct http_header, i);
		if (g_ascii_strcasecmp(h->name, name) == 0)
			n++;
	}
	return n;
}
