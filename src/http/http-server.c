/* The HTTP/1.1 protocol module: frames requests off a connection, runs one
 * exchange at a time (pipelined requests wait, in order), and writes the
 * response back with keep-alive, timeouts and limits. */
#include "core/log.h"
#include "http/http-private.h"
#include "net/net.h"

#include <string.h>

struct http_conn {
	struct net_conn *conn;
	struct http_parse *parser;
	struct http_exchange *ex; /* the exchange in flight, or NULL */
	unsigned requests;
	bool in_feed;          /* inside http_parse_feed(): callbacks are running */
	bool paused_body;      /* reading paused: the handler lags on the body */
	size_t body_since_arm; /* body bytes since the read timer last started */
	bool paused_exchange;  /* reading paused: one exchange at a time */
	bool draining;
	bool peer_eof;
	bool failed;
};

static void exchange_run(struct http_conn *hc, struct http_exchange *ex);
static void exchange_done(struct http_conn *hc);

static void arm_idle(struct http_conn *hc)
{
	net_conn_set_timer(hc->conn, net_idle_timeout_ms());
}

static void arm_read(struct http_conn *hc)
{
	hc->body_since_arm = 0;
	net_conn_set_timer(hc->conn, net_read_timeout_ms());
}

/* Answers a request that failed before a handler ran, and closes. */
static void reply_error_and_close(struct http_conn *hc, int status)
{
	char body[96];
	int n = g_snprintf(body, sizeof(body), "%d %s\n", status, http_status_reason(status));
	char head[256];
	int m = g_snprintf(head, sizeof(head),
	                   "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: OX\r\nContent-Type: text/plain; "
	                   "charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
	                   status, http_status_reason(status), http_date_now(), n);
	net_conn_write(hc->conn, head, (size_t)m);
	net_conn_write(hc->conn, body, (size_t)n);
	ox_logf(OX_LOG_INFO, "http_error", "status=%d", status);
	hc->failed = true;
	/* The rest of the request may still be on its way. */
	net_conn_close_lingering(hc->conn);
}

static void update_pause(struct http_conn *hc)
{
	if (hc->paused_body || hc->paused_exchange)
		net_conn_pause_input(hc->conn);
	else
		net_conn_resume_input(hc->conn);
}

/* --- parser callbacks --- */

static int on_head(void *ctx, struct http_request_head *head)
{
	struct http_conn *hc = ctx;
	struct http_exchange *ex = http_exchange_new(hc, hc->conn, head);
	hc->ex = ex;
	hc->requests++;
	if (strcmp(head->target, "*") == 0 && strcmp(head->method, "OPTIONS") == 0) {
		/* RFC 9112 3.2.4: asterisk-form, answered by the router. */
		ex->path = g_strdup("*");
	} else if (http_target_split(head->target, &ex->path, &ex->query) < 0) {
		http_parse_fail(hc->parser, 400);
		return -1;
	}
	/* RFC 9110 10.1.1: never to an HTTP/1.0 client. */
	if (head->expect_continue && head->version_minor >= 1 &&
	    http_route_find(ex->path) != NULL) {
		/* RFC 9110 10.1.1: the client waits for this before the body. */
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		net_conn_write(hc->conn, cont, sizeof(cont) - 1);
	}
	/* A large or unknown-length body streams to a handler already running. */
	if (head->chunked || head->content_length > HTTP_BODY_BUFFER_MAX)
		exchange_run(hc, ex);
	/* The body's clock starts with the head; on_body restarts it by the
	 * piece. */
	if ((head->chunked || head->content_length > 0) && hc->ex == ex &&
	    !net_conn_is_closing(hc->conn))
		arm_read(hc);
	return 0;
}

static int on_body(void *ctx, const char *data, size_t len)
{
	struct http_conn *hc = ctx;
	if (hc->ex == NULL)
		return 0; /* answered early; the rest is discarded */
	if (http_exchange_add_body(hc->ex, data, len) && !hc->paused_body) {
		hc->paused_body = true;
		update_pause(hc);
		/* The handler is the slow one now: no clock until it resumes. */
		net_conn_set_timer(hc->conn, 0);
		return 0;
	}
	/* Progress restarts the clock only by the piece: a client trickling
	 * a byte now and then would hold a worker waiting on its body for
	 * as long as it likes. */
	hc->body_since_arm += len;
	if (hc->body_since_arm >= HTTP_BODY_PROGRESS_MIN)
		arm_read(hc);
	return 0;
}

static int on_complete(void *ctx)
{
	struct http_conn *hc = ctx;
	struct http_exchange *ex = hc->ex;
	if (ex == NULL)
		return 0;
	http_exchange_body_done(ex);
	if (!ex->dispatched)
		exchange_run(hc, ex);
	else if (ex->on_worker && !net_conn_output_full(hc->conn))
		net_conn_set_timer(hc->conn, 0); /* the body is in; the handler works */
	/* (with output stalled, the write timeout armed by the flush stays) */
	return 0;
}

static const struct http_parse_handler parse_handler = {
	.head = on_head,
	.body = on_body,
	.complete = on_complete,
};

/* --- running an exchange --- */

static void append_allow(GString *allow, const struct http_route *route)
{
	if (route->methods == NULL) {
		g_string_append(allow, "*");
		return;
	}
	for (const char *const *m = route->methods; *m != NULL; m++)
		g_string_append_printf(allow, "%s%s", allow->len > 0 ? ", " : "", *m);
	g_string_append(allow, ", OPTIONS");
}

static bool method_allowed(const struct http_route *route, const char *method)
{
	if (route->methods == NULL)
		return true;
	for (const char *const *m = route->methods; *m != NULL; m++) {
		if (strcmp(*m, method) == 0)
			return true;
	}
	return false;
}

/* Answers what the router itself can answer: 404, 405, OPTIONS. */
static bool route_or_reply(struct http_exchange *ex)
{
	const char *method = http_request_method(ex);
	if (strcmp(ex->head->target, "*") == 0 && strcmp(method, "OPTIONS") == 0) {
		http_response_status(ex, 204);
		http_response_header(ex, "Allow", "OPTIONS, GET, HEAD, POST, PUT, DELETE");
		http_response_finish(ex);
		return false;
	}
	ex->route = http_route_find(ex->path);
	if (ex->route == NULL) {
		http_reply_status(ex, 404, NULL);
		return false;
	}
	if (method_allowed(ex->route, method))
		return true;
	GString *allow = g_string_new(NULL);
	append_allow(allow, ex->route);
	if (strcmp(method, "OPTIONS") == 0) {
		http_response_status(ex, 204);
		http_response_header(ex, "Allow", allow->str);
		http_response_finish(ex);
	} else {
		http_response_status(ex, 405);
		http_response_header(ex, "Allow", allow->str);
		http_reply_status(ex, 405, NULL);
	}
	g_string_free(allow, TRUE);
	return false;
}

static void work_run(void *arg)
{
	struct http_exchange *ex = arg;
	ex->route->handler(ex, ex->route->data);
	if (!ex->finished) {
		if (!ex->committed && ex->status == 0)
			http_reply_status(ex, 500, NULL);
		else
			http_response_finish(ex);
	}
}

static void work_done(struct net_conn *conn, void *arg)
{
	struct http_exchange *ex = arg;
	struct http_conn *hc = ex->hc;
	ex->worker_done = true;
	if (hc != NULL && hc->ex == ex && !net_conn_is_closing(conn)) {
		if (http_exchange_flush(ex))
			exchange_done(hc);
		else
			arm_read(hc); /* writable() finishes it once the client reads */
	}
	http_exchange_unref(ex);
}

static void exchange_run(struct http_conn *hc, struct http_exchange *ex)
{
	ex->dispatched = true;
	net_conn_set_timer(hc->conn, 0);
	if (!route_or_reply(ex)) {
		if (!hc->in_feed && http_exchange_flush(ex))
			exchange_done(hc);
		return;
	}
	if (ex->route->try_inline != NULL && ex->body_complete &&
	    ex->route->try_inline(ex, ex->route->data)) {
		http_response_finish(ex);
		if (!hc->in_feed && http_exchange_flush(ex))
			exchange_done(hc);
		return;
	}
	g_mutex_lock(&ex->lock);
	ex->on_worker = true;
	g_mutex_unlock(&ex->lock);
	http_exchange_ref(ex);
	net_conn_queue_work(hc->conn, work_run, work_done, ex);
}

static void log_access(struct http_exchange *ex)
{
	if (!http_settings()->access_log || !ox_log_enabled(OX_LOG_INFO))
		return;
	char target[512] = "";
	/* A token in the path is a password: log where it went, not what it is. */
	if (ex->route != NULL && ex->route->secret_path)
		g_snprintf(target, sizeof(target), "%s...", ex->route->prefix);
	else
		ox_log_append_value(target, 0, sizeof(target), ex->head->target);
	char method[48] = "";
	ox_log_append_value(method, 0, sizeof(method), ex->head->method);
	double ms = (double)(g_get_monotonic_time() - ex->started_us) / 1000.0;
	ox_logf(OX_LOG_INFO, "access",
	        "peer=%s method=%s target=%s status=%d bytes=%" G_GUINT64_FORMAT " ms=%.3f",
	        net_conn_peer(ex->conn), method, target, ex->status, ex->body_bytes, ms);
}

/* The exchange's response is fully queued on the connection. */
static void exchange_done(struct http_conn *hc)
{
	struct http_exchange *ex = hc->ex;
	log_access(ex);
	bool close = ex->close_after || hc->draining;
	bool message_done = ex->body_complete;
	ex->hc = NULL;
	hc->ex = NULL;
	http_exchange_unref(ex);
	if (!message_done) {
		/* Answered before its body was read (413, 401, an error): the
		 * client may still be sending it. */
		net_conn_close_lingering(hc->conn);
		return;
	}
	if (close) {
		net_conn_close(hc->conn);
		return;
	}
	if (hc->in_feed)
		return; /* the input loop continues with the next request */
	http_parse_next(hc->parser);
	hc->paused_exchange = false;
	arm_idle(hc);
	update_pause(hc);
	/* A client that half-closed after pipelining still gets every answer:
	 * resuming processed what it sent; close once nothing is left. */
	if (hc->peer_eof && hc->ex == NULL)
		net_conn_close(hc->conn);
}

void http_conn_resume_body(struct net_conn *conn, void *arg)
{
	struct http_exchange *ex = arg;
	struct http_conn *hc = ex->hc;
	if (hc != NULL && hc->ex == ex && hc->paused_body && !net_conn_is_closing(conn)) {
		hc->paused_body = false;
		update_pause(hc);
		arm_read(hc); /* the wait was the handler's, not the client's */
	}
	http_exchange_unref(ex);
}

void http_conn_flush(struct net_conn *conn, void *arg)
{
	struct http_exchange *ex = arg;
	struct http_conn *hc = ex->hc;
	if (hc != NULL && hc->ex == ex && !net_conn_is_closing(conn)) {
		if (!http_exchange_flush(ex))
			arm_read(hc); /* the client must keep reading */
	}
	http_exchange_unref(ex);
}

/* --- protocol callbacks --- */

static void *http_open(struct net_conn *conn)
{
	struct http_conn *hc = g_new0(struct http_conn, 1);
	hc->conn = conn;
	hc->parser = http_parse_new(&http_settings()->limits, &parse_handler, hc);
	arm_idle(hc);
	return hc;
}

static size_t http_input(struct net_conn *conn, void *state, const char *data, size_t len)
{
	struct http_conn *hc = state;
	size_t used = 0;
	while (used < len && !hc->failed && !net_conn_is_closing(conn)) {
		if (hc->ex != NULL && hc->ex->body_complete) {
			/* One exchange at a time: the next request waits. */
			hc->paused_exchange = true;
			update_pause(hc);
			break;
		}
		bool was_started = http_parse_started(hc->parser);
		int status = 0;
		hc->in_feed = true;
		ssize_t n = http_parse_feed(hc->parser, data + used, len - used, &status);
		hc->in_feed = false;
		if (n < 0) {
			bool answered = false;
			if (hc->ex != NULL) {
				/* A response already partly sent cannot be replaced by
				 * the error; one only queued (an early answer, or none
				 * yet from a handler still reading) is dropped for it. */
				answered = hc->ex->sent_bytes > 0;
				http_exchange_abort(hc->ex);
				hc->ex->hc = NULL;
				http_exchange_unref(hc->ex);
				hc->ex = NULL;
			}
			if (answered)
				net_conn_abort(conn);
			else
				reply_error_and_close(hc, status);
			return len;
		}
		used += (size_t)n;
		if (!was_started && http_parse_started(hc->parser) && hc->ex == NULL)
			arm_read(hc); /* a request began: it must complete in time */
		if (hc->ex != NULL && hc->ex->dispatched && !hc->ex->on_worker) {
			/* Answered inline during the feed: finish it now. */
			if (http_exchange_flush(hc->ex))
				exchange_done(hc);
			else
				arm_read(hc); /* the client must read what is queued */
		}
		if (hc->ex == NULL && !http_parse_started(hc->parser) &&
		    !net_conn_is_closing(conn)) {
			/* Between requests. */
			http_parse_next(hc->parser);
			arm_idle(hc);
		}
		if (n == 0)
			break;
	}
	return used;
}

static void http_writable(struct net_conn *conn, void *state)
{
	struct http_conn *hc = state;
	struct http_exchange *ex = hc->ex;
	if (ex == NULL)
		return;
	if (!http_exchange_flush(ex)) {
		arm_read(hc);
		return;
	}
	g_mutex_lock(&ex->lock);
	bool finished = ex->finished && ex->out->len == 0;
	g_mutex_unlock(&ex->lock);
	if (finished && (!ex->on_worker || ex->worker_done))
		exchange_done(hc);
	else
		net_conn_set_timer(conn, 0);
}

static void http_timeout(struct net_conn *conn, void *state)
{
	struct http_conn *hc = state;
	if (hc->ex != NULL && hc->ex->on_worker) {
		/* The client stopped reading the response. */
		ox_logf(OX_LOG_INFO, "http_write_timeout", "requests=%u", hc->requests);
		net_conn_abort(conn);
	} else if (http_parse_started(hc->parser) || hc->ex != NULL) {
		reply_error_and_close(hc, 408);
	} else {
		net_conn_close(conn); /* idle keep-alive */
	}
}

static void http_eof(struct net_conn *conn, void *state)
{
	struct http_conn *hc = state;
	hc->peer_eof = true;
	/* A complete request still gets its answer; exchange_done() closes. */
	if (hc->ex == NULL || !hc->ex->body_complete)
		net_conn_close(conn);
}

static void http_drain(struct net_conn *conn, void *state)
{
	struct http_conn *hc = state;
	hc->draining = true;
	if (hc->ex == NULL && !http_parse_started(hc->parser))
		net_conn_close(conn);
}

static void http_close(struct net_conn *conn, void *state)
{
	struct http_conn *hc = state;
	if (hc->ex != NULL) {
		http_exchange_abort(hc->ex);
		hc->ex->hc = NULL;
		http_exchange_unref(hc->ex);
	}
	http_parse_free(&hc->parser);
	g_free(hc);
}

const struct net_protocol http_protocol = {
	.name = "http",
	.open = http_open,
	.input = http_input,
	.writable = http_writable,
	.timeout = http_timeout,
	.eof = http_eof,
	.drain = http_drain,
	.close = http_close,
};
