/* libFuzzer target for HTTP/1.1 request framing (http-parse.c) and the
 * request-target split done before routing.
 *
 * Input: byte 0 says how many of the following bytes (0-7) are piece sizes;
 * the rest is what a client sends on one connection. The stream is parsed
 * twice: whole, and in pieces of those sizes (1-256 bytes, cycling; one
 * byte at a time when there are none). Both runs must tell the same story
 * (but see same_story()), since framing must not depend on how TCP splits
 * a stream. Each piece is fed from its own heap copy, freed after the feed,
 * so that ASan catches a read past a piece or a pointer kept into one. */
#include "http/http-parse.h"
#include "http/http-private.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small, so that inputs reach every limit. */
static const struct http_parse_limits limits = {
	.max_target = 256,
	.max_header_bytes = 1024,
	.max_headers = 16,
	.max_body = 4096,
};

struct run {
	struct http_parse *parser;
	GString *story; /* what the handler saw, in order */
	GString *body;  /* of the current message */
	uint64_t content_length;
	bool has_content_length;
	bool complete; /* since the last http_parse_next() */
	bool failed;
	int status;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-http-request: %s\n%s\n", what, detail != NULL ? detail : "");
	abort();
}

static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!g_ascii_isalnum(*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	}
	return true;
}

static void check_target_split(const char *target)
{
	char *path = NULL;
	char *query = NULL;
	if (http_target_split(target, &path, &query) < 0) {
		if (path != NULL || query != NULL)
			die("a refused target set an output", target);
		return;
	}
	if (path == NULL || path[0] != '/')
		die("a split path does not start with '/'", target);
	if (query != NULL && strchr(query, '#') != NULL)
		die("a split query holds a fragment", target);
	g_free(path);
	g_free(query);
}

static void check_head(const struct http_request_head *head)
{
	if (!is_token(head->method) || strlen(head->method) > 32)
		die("bad method in a head", head->method);
	if (strlen(head->target) > limits.max_target)
		die("target over the limit", head->target);
	if (head->version_major != 1)
		die("a head with a version other than 1.x", head->target);
	if (head->headers->len > limits.max_headers)
		die("more header lines than the limit", head->target);
	if (head->chunked && head->has_content_length)
		die("both chunked and Content-Length", head->target);
	if (head->has_content_length && head->content_length > limits.max_body)
		die("Content-Length over the limit", head->target);
	unsigned hosts = http_request_head_count(head, "Host");
	if (hosts > 1 || (hosts == 0 && head->version_minor >= 1))
		die("Host rule broken", head->target);
	if (strcmp(head->method, "CONNECT") == 0)
		die("CONNECT passed", head->target);
	for (guint i = 0; i < head->headers->len; i++) {
		const struct http_header *h = &g_array_index(head->headers, struct http_header, i);
		if (!is_token(h->name))
			die("a header name that is not a token", h->name);
		if (strpbrk(h->value, "\r\n") != NULL)
			die("line break in a header value", h->value);
	}
}

static int on_head(void *ctx, struct http_request_head *head)
{
	struct run *r = ctx;
	check_head(head);
	check_target_split(head->target);
	g_string_append_printf(r->story, "head %s %s %u.%u ka=%d chunked=%d", head->method,
	                       head->target, head->version_major, head->version_minor,
	                       head->keep_alive, head->chunked);
	if (head->has_content_length)
		g_string_append_printf(r->story, " length=%" G_GUINT64_FORMAT,
		                       head->content_length);
	g_string_append_printf(r->story, " continue=%d\n", head->expect_continue);
	for (guint i = 0; i < head->headers->len; i++) {
		const struct http_header *h = &g_array_index(head->headers, struct http_header, i);
		g_string_append_printf(r->story, " %s: %s\n", h->name, h->value);
	}
	r->has_content_length = head->has_content_length;
	r->content_length = head->content_length;
	http_request_head_free(head);
	return 0;
}

static int on_body(void *ctx, const char *data, size_t len)
{
	struct run *r = ctx;
	if (len == 0)
		die("empty body piece", NULL);
	g_string_append_len(r->body, data, (gssize)len);
	if (r->body->len > limits.max_body)
		die("body over the limit reached the handler", NULL);
	return 0;
}

static int on_complete(void *ctx)
{
	struct run *r = ctx;
	if (r->has_content_length && r->body->len != r->content_length)
		die("body length differs from Content-Length", r->story->str);
	/* Body pieces are joined: where a body splits depends on the reads. */
	g_string_append_printf(r->story, "body %zu: ", r->body->len);
	g_string_append_len(r->story, r->body->str, (gssize)r->body->len);
	g_string_append(r->story, "\nend\n");
	g_string_truncate(r->body, 0);
	r->has_content_length = false;
	r->complete = true;
	return 0;
}

static const struct http_parse_handler handler = {
	.head = on_head,
	.body = on_body,
	.complete = on_complete,
};

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->parser = http_parse_new(&limits, &handler, r);
	r->story = g_string_new(NULL);
	r->body = g_string_new(NULL);
}

static void check_status(struct run *r, int status)
{
	static const int allowed[] = {400, 413, 414, 417, 431, 501, 505};
	bool known = false;
	for (size_t i = 0; i < G_N_ELEMENTS(allowed); i++)
		known = known || status == allowed[i];
	if (!known)
		die("unexpected error status", r->story->str);
	/* After an error the parser stays failed, with the same status. */
	int again = 0;
	if (http_parse_feed(r->parser, "GET / HTTP/1.1\r\n", 16, &again) != -1 || again != status)
		die("a failed parser took more input", r->story->str);
	g_string_append_printf(r->story, "error %d\n", status);
	r->failed = true;
}

/* Feeds data[*used, avail) until the parser wants more. With `copy`, each
 * feed gets an exact-size heap copy. */
static void run_feed(struct run *r, const char *data, size_t *used, size_t avail, bool copy)
{
	while (!r->failed) {
		size_t len = avail - *used;
		if (len == 0 && !r->complete)
			return;
		char *buf = copy && len > 0 ? g_memdup2(data + *used, len) : NULL;
		int status = 0;
		ssize_t n =
			http_parse_feed(r->parser, buf != NULL ? buf : data + *used, len, &status);
		g_free(buf);
		if (n < 0) {
			check_status(r, status);
			return;
		}
		if ((size_t)n > len)
			die("feed used more than it was given", r->story->str);
		*used += (size_t)n;
		if (r->complete) {
			r->complete = false;
			http_parse_next(r->parser);
			continue;
		}
		if (n == 0 || *used == avail)
			return;
	}
}

static char *run_finish(struct run *r, size_t used, size_t len)
{
	if (!r->failed && (http_parse_started(r->parser) || used < len))
		g_string_append(r->story, "incomplete\n");
	http_parse_free(&r->parser);
	g_string_free(r->body, TRUE);
	return g_string_free(r->story, FALSE);
}

static char *parse_whole(const char *data, size_t len)
{
	struct run r;
	run_init(&r);
	size_t used = 0;
	run_feed(&r, data, &used, len, false);
	return run_finish(&r, used, len);
}

static char *parse_in_pieces(const uint8_t *sizes, size_t n_sizes, const char *data, size_t len)
{
	struct run r;
	run_init(&r);
	size_t used = 0;
	size_t avail = 0;
	for (size_t i = 0; !r.failed && avail < len; i++) {
		size_t piece = n_sizes == 0 ? 1 : (size_t)sizes[i % n_sizes] + 1;
		avail = MIN(avail + piece, len);
		run_feed(&r, data, &used, avail, true);
	}
	return run_finish(&r, used, len);
}

/* The status when the story ends in an error, else 0; *at_r is where the
 * error line starts. */
static int last_error(const char *story, size_t *at_r)
{
	size_t len = strlen(story);
	if (len < 2 || story[len - 1] != '\n')
		return 0;
	size_t at = len - 1;
	while (at > 0 && story[at - 1] != '\n')
		at--;
	if (strncmp(story + at, "error ", 6) != 0)
		return 0;
	*at_r = at;
	return atoi(story + at + 6);
}

/* Our size limits are checked when http-parser hands over a token, at its
 * end or at the end of a read, so in small pieces they fire sooner. A
 * request both too large and malformed further on may thus get 413, 414 or
 * 431 in pieces and 400 whole: either refusal is right, and the story
 * before it must still be the same. */
static bool same_story(const char *whole, const char *pieces)
{
	if (strcmp(whole, pieces) == 0)
		return true;
	size_t at_whole = 0;
	size_t at_pieces = 0;
	int status_whole = last_error(whole, &at_whole);
	int status_pieces = last_error(pieces, &at_pieces);
	return status_whole == 400 &&
	       (status_pieces == 413 || status_pieces == 414 || status_pieces == 431) &&
	       at_whole == at_pieces && strncmp(whole, pieces, at_whole) == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* As http_configure() sets it: above our own limits, so that ours
	 * decide the status. */
	http_parser_set_max_header_size(
		(uint32_t)(limits.max_header_bytes + limits.max_target + 4096));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t n_sizes = MIN((size_t)(data[0] & 7), size - 1);
	const uint8_t *sizes = data + 1;
	const char *stream = (const char *)data + 1 + n_sizes;
	size_t len = size - 1 - n_sizes;

	char *whole = parse_whole(stream, len);
	char *pieces = parse_in_pieces(sizes, n_sizes, stream, len);
	if (!same_story(whole, pieces)) {
		fprintf(stderr, "--- whole:\n%.4000s\n--- in pieces:\n%.4000s\n", whole, pieces);
		die("the result depends on how the input was split", NULL);
	}
	g_free(pieces);
	g_free(whole);

	/* Targets http-parser would refuse never reach the split above. */
	char *text = g_strndup(stream, len);
	check_target_split(text);
	g_free(text);
	return 0;
}
