/* One request and its response, shared between the I/O thread that frames
 * it and the worker that runs its handler. Bytes cross between them through
 * two bounded buffers under the exchange's lock: the request body one way,
 * the framed response the other. */
#include "core/log.h"
#include "http/http-private.h"
#include "net/net.h"

#include <http_parser.h>
#include <string.h>

struct http_exchange *http_exchange_new(struct http_conn *hc, struct net_conn *conn,
                                        struct http_request_head *head)
{
	struct http_exchange *ex = g_new0(struct http_exchange, 1);
	ex->refcount = 1;
	ex->hc = hc;
	ex->conn = conn;
	net_conn_ref(conn);
	ex->head = head;
	ex->is_head = strcmp(head->method, "HEAD") == 0;
	ex->tls = net_conn_is_tls(conn);
	ex->started_us = g_get_monotonic_time();
	g_mutex_init(&ex->lock);
	g_cond_init(&ex->cond);
	ex->body_in = g_byte_array_new();
	ex->headers = g_string_sized_new(256); /* what most responses need */
	ex->pending = g_byte_array_new();
	ex->out = g_byte_array_new();
	return ex;
}

void http_exchange_ref(struct http_exchange *ex)
{
	g_atomic_int_inc(&ex->refcount);
}

void http_exchange_unref(struct http_exchange *ex)
{
	if (!g_atomic_int_dec_and_test(&ex->refcount))
		return;
	net_conn_unref(ex->conn);
	http_request_head_free(ex->head);
	g_free(ex->path);
	g_free(ex->query);
	g_byte_array_unref(ex->body_in);
	g_string_free(ex->headers, TRUE);
	g_byte_array_unref(ex->pending);
	g_byte_array_unref(ex->out);
	g_mutex_clear(&ex->lock);
	g_cond_clear(&ex->cond);
	g_free(ex);
}

/* Under the lock. GLib's broadcast is a futex syscall even with nobody
 * waiting, and an exchange answered on the I/O thread never has a waiter:
 * wake only when someone waits. */
static void wake(struct http_exchange *ex)
{
	if (ex->waiters > 0)
		g_cond_broadcast(&ex->cond);
}

void http_exchange_abort(struct http_exchange *ex)
{
	g_mutex_lock(&ex->lock);
	ex->aborted = true;
	wake(ex);
	g_mutex_unlock(&ex->lock);
}

/* --- request side --- */

const char *http_request_method(const struct http_exchange *ex)
{
	return ex->head->method;
}

const char *http_request_target(const struct http_exchange *ex)
{
	return ex->head->target;
}

const char *http_request_path(const struct http_exchange *ex)
{
	return ex->path;
}

const char *http_request_query(const struct http_exchange *ex)
{
	return ex->query;
}

const char *http_request_header(const struct http_exchange *ex, const char *name)
{
	return http_request_head_get(ex->head, name);
}

const struct http_request_head *http_request_head(const struct http_exchange *ex)
{
	return ex->head;
}

bool http_request_is_head(const struct http_exchange *ex)
{
	return ex->is_head;
}

bool http_request_is_tls(const struct http_exchange *ex)
{
	return ex->tls;
}

const char *http_request_peer(const struct http_exchange *ex)
{
	return net_conn_peer(ex->conn);
}

bool http_exchange_add_body(struct http_exchange *ex, const char *data, size_t len)
{
	g_mutex_lock(&ex->lock);
	g_byte_array_append(ex->body_in, (const guint8 *)data, (guint)len);
	wake(ex);
	bool pause = ex->body_in->len > HTTP_BODY_PIPE_HIGH;
	if (pause)
		ex->body_paused = true;
	g_mutex_unlock(&ex->lock);
	return pause;
}

void http_exchange_body_done(struct http_exchange *ex)
{
	g_mutex_lock(&ex->lock);
	ex->body_complete = true;
	wake(ex);
	g_mutex_unlock(&ex->lock);
}

ssize_t http_request_read_body(struct http_exchange *ex, void *buf, size_t len)
{
	ssize_t n = -1;
	gint64 deadline = g_get_monotonic_time() + (gint64)net_read_timeout_ms() * 1000;
	g_mutex_lock(&ex->lock);
	while (ex->body_in->len == 0 && !ex->body_complete && !ex->aborted) {
		if (!ex->on_worker)
			goto out; /* the I/O thread never waits */
		ex->waiters++;
		bool woken = g_cond_wait_until(&ex->cond, &ex->lock, deadline);
		ex->waiters--;
		if (!woken)
			goto out;
	}
	if (ex->aborted)
		goto out;
	n = (ssize_t)MIN(len, (size_t)ex->body_in->len);
	if (n == 0)
		goto out; /* the end; an empty array's data may be NULL */
	memcpy(buf, ex->body_in->data, (size_t)n);
	g_byte_array_remove_range(ex->body_in, 0, (guint)n);
	if (ex->body_paused && ex->body_in->len < HTTP_BODY_PIPE_LOW) {
		ex->body_paused = false;
		http_exchange_ref(ex);
		net_conn_post(ex->conn, http_conn_resume_body, ex);
	}
out:
	g_mutex_unlock(&ex->lock);
	return n;
}

/* --- response side --- */

const char *http_status_reason(int status)
{
	const char *s = http_status_str((enum http_status)status);
	return strcmp(s, "<unknown>") == 0 ? "Unknown" : s;
}

void http_response_status(struct http_exchange *ex, int status)
{
	ex->status = status;
}

void http_response_header(struct http_exchange *ex, const char *name, const char *value)
{
	/* One resize and plain copies: this runs for every header of every
	 * response. */
	size_t name_len = strlen(name), value_len = strlen(value);
	gsize at = ex->headers->len;
	g_string_set_size(ex->headers, at + name_len + 2 + value_len + 2);
	char *p = ex->headers->str + at;
	memcpy(p, name, name_len);
	p += name_len;
	*p++ = ':';
	*p++ = ' ';
	/* Header injection guard: a value never carries a line break. */
	for (size_t i = 0; i < value_len; i++)
		*p++ = (value[i] == '\r' || value[i] == '\n') ? ' ' : value[i];
	*p++ = '\r';
	*p++ = '\n';
}

void http_response_content_length(struct http_exchange *ex, uint64_t length)
{
	ex->has_length = true;
	ex->length = length;
}

bool http_response_started(const struct http_exchange *ex)
{
	return ex->status != 0;
}

static bool status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

/* Copies bytes at *p and moves it past them. */
static void put(char **p, const char *data, size_t len)
{
	memcpy(*p, data, len);
	*p += len;
}

static void put_str(char **p, const char *text)
{
	put(p, text, strlen(text));
}

static void put_uint(char **p, uint64_t value)
{
	char buf[24];
	char *end = buf + sizeof(buf), *digits = end;
	do {
		*--digits = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	put(p, digits, (size_t)(end - digits));
}

/* The fixed text commit() may write: status line and Date/Server lines
 * without their values, Content-Length, Transfer-Encoding, Connection and
 * the blank line, with room for two numbers of up to 20 digits. */
#define COMMIT_FIXED_MAX 192

/* Decides framing and writes the status line and headers into `out`.
 * Called under the lock, once. `final` says the handler already finished,
 * so a buffered body has a known length. The head is written in place
 * into `out`, sized once for it and a small body, without printf: this
 * runs for every response. */
static void commit(struct http_exchange *ex, bool final)
{
	const struct http_request_head *head = ex->head;
	bool http10 = head->version_minor == 0;
	if (ex->status == 0)
		ex->status = 500;
	ex->close_after =
		ex->close_after || !head->keep_alive || !ex->body_complete || net_draining();
	bool has_body = status_has_body(ex->status);
	if (has_body && !ex->has_length) {
		if (final) {
			ex->has_length = true;
			ex->length = ex->body_bytes;
		} else if (!http10) {
			ex->chunked = true;
		} else {
			ex->close_after = true; /* HTTP/1.0: the end of the body is the close */
		}
	}
	const char *reason = http_status_reason(ex->status);
	const char *date = http_date_now();
	size_t head_max = COMMIT_FIXED_MAX + strlen(reason) + strlen(date) + ex->headers->len;
	size_t body = 0;
	if (has_body && ex->has_length && !ex->is_head && ex->length <= HTTP_OUT_COMMIT_SIZE)
		body = (size_t)ex->length;
	GByteArray *out = ex->out;
	guint used = out->len;
	g_byte_array_set_size(out, (guint)(used + head_max + body));
	char *start = (char *)out->data + used, *p = start;
	put_str(&p, "HTTP/1.1 ");
	put_uint(&p, (uint64_t)ex->status);
	put_str(&p, " ");
	put_str(&p, reason);
	put_str(&p, "\r\nDate: ");
	put_str(&p, date);
	put_str(&p, "\r\nServer: OX\r\n");
	put(&p, ex->headers->str, ex->headers->len);
	if (has_body && ex->has_length) {
		put_str(&p, "Content-Length: ");
		put_uint(&p, ex->length);
		put_str(&p, "\r\n");
	}
	if (ex->chunked)
		put_str(&p, "Transfer-Encoding: chunked\r\n");
	if (ex->close_after)
		put_str(&p, "Connection: close\r\n");
	else if (http10)
		put_str(&p, "Connection: keep-alive\r\n");
	put_str(&p, "\r\n");
	g_assert((size_t)(p - start) <= head_max);
	g_byte_array_set_size(out, used + (guint)(p - start));
	ex->committed = true;
}

static void append_framed(struct http_exchange *ex, const void *data, size_t len)
{
	if (len == 0 || ex->is_head || !status_has_body(ex->status))
		return;
	if (ex->chunked) {
		char size[24];
		int n = g_snprintf(size, sizeof(size), "%zx\r\n", len);
		g_byte_array_append(ex->out, (const guint8 *)size, (guint)n);
		g_byte_array_append(ex->out, data, (guint)len);
		g_byte_array_append(ex->out, (const guint8 *)"\r\n", 2);
	} else {
		g_byte_array_append(ex->out, data, (guint)len);
	}
}

/* Hands the output to the I/O thread and, on a worker, waits while too
 * much is queued. Under the lock. Returns -1 when the client is gone. */
static int hand_over(struct http_exchange *ex)
{
	if (!ex->on_worker)
		return ex->aborted ? -1 : 0;
	if (ex->out->len > 0 && !ex->flush_posted) {
		ex->flush_posted = true;
		http_exchange_ref(ex);
		net_conn_post(ex->conn, http_conn_flush, ex);
	}
	while (ex->out->len > HTTP_OUT_PIPE_HIGH && !ex->aborted) {
		ex->waiters++;
		g_cond_wait(&ex->cond, &ex->lock);
		ex->waiters--;
	}
	return ex->aborted ? -1 : 0;
}

int http_response_write(struct http_exchange *ex, const void *data, size_t len)
{
	int ret = 0;
	g_mutex_lock(&ex->lock);
	if (ex->aborted || ex->finished) {
		ret = -1;
		goto out;
	}
	if (ex->status == 0)
		ex->status = 200;
	if (ex->has_length && !ex->is_head && ex->body_bytes + len > ex->length) {
		/* More than declared would be read as the next response: send
		 * what was declared, then close. */
		ox_logf(OX_LOG_WARN, "response_length_exceeded", "declared=%" G_GUINT64_FORMAT,
		        ex->length);
		len = (size_t)(ex->length - MIN(ex->length, ex->body_bytes));
		ex->close_after = true;
	}
	ex->body_bytes += len;
	if (!ex->committed && ex->has_length && ex->pending->len == 0) {
		/* The framing is known: no need to hold the bytes back. */
		commit(ex, false);
		append_framed(ex, data, len);
	} else if (!ex->committed) {
		if (!ex->is_head)
			g_byte_array_append(ex->pending, data, (guint)len);
		if (ex->pending->len < HTTP_OUT_COMMIT_SIZE && !ex->has_length)
			goto out;
		commit(ex, false);
		append_framed(ex, ex->pending->data, ex->pending->len);
		g_byte_array_set_size(ex->pending, 0);
	} else {
		append_framed(ex, data, len);
	}
	if (ex->out->len > HTTP_OUT_COMMIT_SIZE)
		ret = hand_over(ex);
out:
	g_mutex_unlock(&ex->lock);
	return ret;
}

void http_response_finish(struct http_exchange *ex)
{
	g_mutex_lock(&ex->lock);
	if (ex->finished) {
		g_mutex_unlock(&ex->lock);
		return;
	}
	if (!ex->committed) {
		commit(ex, true);
		append_framed(ex, ex->pending->data, ex->pending->len);
		g_byte_array_set_size(ex->pending, 0);
	}
	if (ex->chunked && !ex->is_head)
		g_byte_array_append(ex->out, (const guint8 *)"0\r\n\r\n", 5);
	if (ex->has_length && !ex->is_head && status_has_body(ex->status) &&
	    ex->body_bytes != ex->length) {
		/* The declared length was wrong: the framing is broken, so the
		 * connection cannot be reused. */
		ox_logf(OX_LOG_WARN, "response_length_mismatch",
		        "declared=%" G_GUINT64_FORMAT " written=%" G_GUINT64_FORMAT, ex->length,
		        ex->body_bytes);
		ex->close_after = true;
	}
	ex->finished = true;
	g_mutex_unlock(&ex->lock);
}

bool http_exchange_flush(struct http_exchange *ex)
{
	bool all = true;
	g_mutex_lock(&ex->lock);
	ex->flush_posted = false;
	if (ex->aborted || ex->hc == NULL) {
		g_byte_array_set_size(ex->out, 0);
	} else if (ex->out->len > 0) {
		if (net_conn_output_full(ex->conn)) {
			all = false;
		} else {
			net_conn_write(ex->conn, ex->out->data, ex->out->len);
			ex->sent_bytes += ex->out->len;
			g_byte_array_set_size(ex->out, 0);
			wake(ex);
		}
	}
	g_mutex_unlock(&ex->lock);
	return all;
}

void http_reply(struct http_exchange *ex, int status, const char *content_type, const void *body,
                size_t len)
{
	http_response_status(ex, status);
	if (content_type != NULL)
		http_response_header(ex, "Content-Type", content_type);
	http_response_content_length(ex, len);
	http_response_write(ex, body, len);
	http_response_finish(ex);
}

void http_reply_status(struct http_exchange *ex, int status, const char *text)
{
	char buf[128];
	if (text == NULL) {
		g_snprintf(buf, sizeof(buf), "%d %s\n", status, http_status_reason(status));
		text = buf;
	}
	http_reply(ex, status, "text/plain; charset=utf-8", text,
	           status_has_body(status) ? strlen(text) : 0);
}

/* --- target --- */

static int split_origin(const char *path, char **path_r, char **query_r);

int http_target_split(const char *target, char **path_r, char **query_r)
{
	/* RFC 9112 3.2: origin-form only (absolute-form from proxies is
	 * accepted by taking its path). */
	const char *path = target;
	char *rooted = NULL;
	if (g_ascii_strncasecmp(target, "http://", 7) == 0 ||
	    g_ascii_strncasecmp(target, "https://", 8) == 0) {
		/* The authority ends at the first '/', '?' or '#' (RFC 3986 3.2);
		 * an empty path is "/" (RFC 9112 3.2.1). */
		const char *authority = strstr(target, "//") + 2;
		const char *end = authority + strcspn(authority, "/?#");
		path = *end == '/' ? end : (rooted = g_strconcat("/", end, NULL));
	}
	if (path[0] != '/')
		return -1;
	int ret = split_origin(path, path_r, query_r);
	g_free(rooted);
	return ret;
}

static int split_origin(const char *path, char **path_r, char **query_r)
{
	/* A fragment ends everything; a '?' inside it is no query. */
	const char *hash = strchr(path, '#');
	size_t before_hash = hash != NULL ? (size_t)(hash - path) : strlen(path);
	const char *q = memchr(path, '?', before_hash);
	size_t path_len = q != NULL ? (size_t)(q - path) : before_hash;
	char *decoded;
	if (memchr(path, '%', path_len) == NULL) {
		decoded = g_strndup(path, path_len); /* the common case: nothing to decode */
	} else {
		char *raw = g_strndup(path, path_len);
		decoded = g_uri_unescape_string(raw, NULL);
		g_free(raw);
	}
	/* Undecodable escapes or an embedded NUL are refused. */
	if (decoded == NULL || strlen(decoded) == 0)
		return (g_free(decoded), -1);
	*path_r = decoded;
	*query_r = NULL;
	if (q != NULL)
		*query_r = g_strndup(q + 1, before_hash - (size_t)(q + 1 - path));
	return 0;
}
