/* Connections: reading, input buffering, the write queue with back-pressure,
 * the timer, closing, and hand-offs to worker threads. */
#include "core/log.h"
#include "net/net-private.h"

#include <string.h>

static void conn_close_handles(struct net_conn *conn);
static void on_timer(uv_timer_t *timer);
static void conn_output_done_close(struct net_conn *conn);
static void compute_peer(struct net_conn *conn);
static void conn_start_reading(struct net_conn *conn);

struct net_conn *net_conn_new(struct net_thread *thread, const struct net_listener_kind *kind)
{
	struct net_conn *conn = g_new0(struct net_conn, 1);
	conn->thread = thread;
	conn->protocol = kind->protocol;
	conn->refcount = 1;
	uv_tcp_init(&thread->loop, &conn->tcp);
	uv_timer_init(&thread->loop, &conn->timer);
	conn->tcp.data = conn;
	conn->timer.data = conn;
	conn->handles_open = 2;
	if (kind->transport == NET_TLS)
		conn->ssl = net_tls_new_session();

	conn->next = thread->conns;
	if (thread->conns != NULL)
		thread->conns->prev = conn;
	thread->conns = conn;
	thread->nconns++;
	g_atomic_int_inc(&thread->server->nconns);
	return conn;
}

void net_conn_accepted(struct net_thread *thread, const struct net_listener_kind *kind,
                       uv_tcp_t *listener)
{
	struct net_conn *conn = net_conn_new(thread, kind);
	if (uv_accept((uv_stream_t *)listener, (uv_stream_t *)&conn->tcp) < 0) {
		conn_close_handles(conn);
		return;
	}
	unsigned limit = net_settings()->max_connections;
	if ((unsigned)g_atomic_int_get(&thread->server->nconns) > limit) {
		ox_logf(OX_LOG_WARN, "connection_refused", "reason=max_connections limit=%u",
		        limit);
		conn_close_handles(conn);
		return;
	}
	if (kind->transport == NET_TLS && conn->ssl == NULL) {
		conn_close_handles(conn);
		return;
	}
	net_conn_start(conn);
}

void net_conn_start(struct net_conn *conn)
{
	uv_tcp_nodelay(&conn->tcp, 1);
	compute_peer(conn);
	conn->state = conn->protocol->open(conn);
	if (!conn->closing)
		conn_start_reading(conn);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct net_conn *conn = handle->data;
	/* One buffer per thread: read callbacks never overlap on a loop, and
	 * whatever the protocol leaves unconsumed is copied out before return.
	 * This keeps an idle connection free of any read buffer. */
	buf->base = conn->thread->read_buffer;
	buf->len = sizeof(conn->thread->read_buffer);
}

void net_conn_eof(struct net_conn *conn)
{
	conn->eof = true;
	if (conn->reading) {
		uv_read_stop((uv_stream_t *)&conn->tcp);
		conn->reading = false;
	}
	if (conn->protocol->eof != NULL)
		conn->protocol->eof(conn, conn->state);
	else
		net_conn_close(conn);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct net_conn *conn = stream->data;
	if (nread == 0 || conn->closing)
		return;
	if (nread < 0) {
		if (nread == UV_EOF)
			net_conn_eof(conn);
		else
			net_conn_abort(conn);
		return;
	}
	if (conn->ssl != NULL) {
		/* Closed, not aborted: OpenSSL's alert should reach the peer. */
		if (net_tls_input(conn, buf->base, (size_t)nread) < 0)
			net_conn_close(conn);
		return;
	}
	net_conn_deliver(conn, buf->base, (size_t)nread);
}

static void conn_start_reading(struct net_conn *conn)
{
	if (conn->reading || conn->closing || conn->eof)
		return;
	if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0)
		conn->reading = true;
}

static void conn_stop_reading(struct net_conn *conn)
{
	if (!conn->reading)
		return;
	uv_read_stop((uv_stream_t *)&conn->tcp);
	conn->reading = false;
}

/* Offers the buffered input to the protocol until it stops consuming,
 * pauses, or the connection closes. */
static void conn_offer_input(struct net_conn *conn)
{
	conn->in_input = true;
	while (conn->input != NULL && conn->input->len > 0 && !conn->paused && !conn->closing) {
		size_t len = conn->input->len;
		size_t used = conn->protocol->input(conn, conn->state,
		                                    (const char *)conn->input->data, len);
		if (conn->tls_starting) {
			conn->tls_starting = false;
			g_clear_pointer(&conn->input, g_byte_array_unref);
		}
		if (conn->input == NULL)
			break;
		if (used > 0)
			g_byte_array_remove_range(conn->input, 0, (guint)used);
		if (used == 0 || conn->input->len == len)
			break;
	}
	conn->in_input = false;
	if (conn->input != NULL && conn->input->len == 0)
		g_clear_pointer(&conn->input, g_byte_array_unref);
}

void net_conn_deliver(struct net_conn *conn, const char *data, size_t len)
{
	if (conn->closing || len == 0)
		return;
	if (conn->input == NULL && !conn->paused && !conn->in_input) {
		/* Fast path: hand the read buffer over without copying it. */
		conn->in_input = true;
		size_t used = conn->protocol->input(conn, conn->state, data, len);
		conn->in_input = false;
		if (conn->tls_starting) {
			conn->tls_starting = false; /* the rest was plaintext: dropped */
			return;
		}
		if (used >= len || conn->closing)
			return;
		data += used;
		len -= used;
		/* Unconsumed without a pause means "need more": keep it. */
		conn->input = g_byte_array_sized_new((guint)len);
		g_byte_array_append(conn->input, (const guint8 *)data, (guint)len);
		return;
	}
	if (conn->input == NULL)
		conn->input = g_byte_array_sized_new((guint)len);
	g_byte_array_append(conn->input, (const guint8 *)data, (guint)len);
	if (!conn->paused && !conn->in_input)
		conn_offer_input(conn);
}

void net_conn_pause_input(struct net_conn *conn)
{
	conn->paused = true;
	conn_stop_reading(conn);
}

void net_conn_resume_input(struct net_conn *conn)
{
	if (!conn->paused || conn->closing)
		return;
	conn->paused = false;
	if (!conn->in_input)
		conn_offer_input(conn);
	if (!conn->paused)
		conn_start_reading(conn);
}

/* --- output --- */

static void flush_list_add(struct net_conn *conn)
{
	if (conn->in_flush_list)
		return;
	conn->in_flush_list = true;
	conn->flush_next = conn->thread->flush_list;
	conn->thread->flush_list = conn;
	net_conn_ref(conn);
}

static GByteArray *output_buffer_new(struct net_thread *thread, size_t len)
{
	if (thread->nspare_outputs > 0 && len <= NET_SPARE_OUTPUT_MAX)
		return thread->spare_outputs[--thread->nspare_outputs];
	return g_byte_array_sized_new((guint)MAX(len, 4096));
}

/* Frees a buffer whose bytes are sent, or keeps it for the next response.
 * Only for buffers that were only appended to: their allocation is then at
 * most twice their length. */
static void output_buffer_done(struct net_thread *thread, GByteArray *out)
{
	if (out->len <= NET_SPARE_OUTPUT_MAX && thread->nspare_outputs < NET_SPARE_OUTPUTS) {
		g_byte_array_set_size(out, 0);
		thread->spare_outputs[thread->nspare_outputs++] = out;
		return;
	}
	g_byte_array_unref(out);
}

void net_thread_free_spare_outputs(struct net_thread *thread)
{
	while (thread->nspare_outputs > 0)
		g_byte_array_unref(thread->spare_outputs[--thread->nspare_outputs]);
}

void net_conn_write_raw(struct net_conn *conn, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (conn->output == NULL)
		conn->output = output_buffer_new(conn->thread, len);
	g_byte_array_append(conn->output, data, (guint)len);
	flush_list_add(conn);
}

void net_conn_write(struct net_conn *conn, const void *data, size_t len)
{
	if (conn->closing || conn->close_after_output)
		return;
	if (conn->ssl != NULL) {
		if (net_tls_write(conn, data, len) < 0)
			net_conn_abort(conn);
		return;
	}
	net_conn_write_raw(conn, data, len);
}

size_t net_conn_output_pending(const struct net_conn *conn)
{
	return (conn->output != NULL ? conn->output->len : 0) +
	       (conn->in_flight != NULL ? conn->in_flight->len : 0);
}

bool net_conn_output_full(struct net_conn *conn)
{
	if (net_conn_output_pending(conn) < NET_OUTPUT_HIGH_WATER)
		return false;
	conn->output_was_full = true;
	return true;
}

static void conn_flush(struct net_conn *conn);

static void after_output_progress(struct net_conn *conn)
{
	if (conn->closing)
		return;
	if (net_conn_output_pending(conn) == 0 && conn->close_after_output) {
		conn_output_done_close(conn);
		return;
	}
	if (conn->output_was_full && net_conn_output_pending(conn) < NET_OUTPUT_LOW_WATER) {
		conn->output_was_full = false;
		if (conn->protocol->writable != NULL)
			conn->protocol->writable(conn, conn->state);
	}
}

static void on_write(uv_write_t *req, int status)
{
	struct net_conn *conn = req->data;
	g_clear_pointer(&conn->in_flight, g_byte_array_unref);
	if (status < 0) {
		net_conn_abort(conn);
	} else if (!conn->closing) {
		if (conn->output != NULL)
			conn_flush(conn);
		after_output_progress(conn);
	}
	net_conn_unref(conn);
}

static void conn_flush(struct net_conn *conn)
{
	if (conn->closing || conn->in_flight != NULL || conn->output == NULL)
		return;
	GByteArray *out = conn->output;
	conn->output = NULL;
	uv_buf_t buf = uv_buf_init((char *)out->data, out->len);
	/* Most responses fit the socket buffer: try once without a request. */
	int n = uv_try_write((uv_stream_t *)&conn->tcp, &buf, 1);
	if (n == (int)out->len) {
		output_buffer_done(conn->thread, out);
		after_output_progress(conn);
		return;
	}
	if (n > 0)
		g_byte_array_remove_range(out, 0, (guint)n);
	else if (n < 0 && n != UV_EAGAIN) {
		g_byte_array_unref(out);
		net_conn_abort(conn);
		return;
	}
	conn->in_flight = out;
	buf = uv_buf_init((char *)out->data, out->len);
	conn->write_req.data = conn;
	net_conn_ref(conn);
	if (uv_write(&conn->write_req, (uv_stream_t *)&conn->tcp, &buf, 1, on_write) < 0) {
		g_clear_pointer(&conn->in_flight, g_byte_array_unref);
		net_conn_unref(conn);
		net_conn_abort(conn);
	}
}

/* Runs after each poll: sends what callbacks wrote in this iteration. */
void net_thread_flush(uv_check_t *check)
{
	struct net_thread *thread = check->data;
	while (thread->flush_list != NULL) {
		struct net_conn *conn = thread->flush_list;
		thread->flush_list = conn->flush_next;
		conn->flush_next = NULL;
		conn->in_flush_list = false;
		conn_flush(conn);
		if (!conn->closing && conn->close_after_output &&
		    net_conn_output_pending(conn) == 0)
			conn_output_done_close(conn);
		net_conn_unref(conn);
	}
}

/* --- closing --- */

static void on_handle_closed(uv_handle_t *handle)
{
	struct net_conn *conn = handle->data;
	if (--conn->handles_open > 0)
		return;
	struct net_thread *thread = conn->thread;
	if (conn->protocol != NULL && conn->state != NULL && conn->protocol->close != NULL)
		conn->protocol->close(conn, conn->state);
	conn->state = NULL;
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		thread->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	conn->prev = conn->next = NULL;
	thread->nconns--;
	g_atomic_int_dec_and_test(&thread->server->nconns);
	net_conn_unref(conn);
	if (thread->draining && thread->nconns == 0)
		uv_stop(&thread->loop);
}

static void conn_close_handles(struct net_conn *conn)
{
	if (conn->closing)
		return;
	conn->closing = true;
	conn_stop_reading(conn);
	uv_close((uv_handle_t *)&conn->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&conn->timer, on_handle_closed);
}

/* Lingering (net_conn_close_lingering): at most this long, and this many
 * bytes dropped, before the close. */
#define NET_LINGER_MAX_BYTES (4u << 20)

static void on_linger_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct net_conn *conn = stream->data;
	if (conn->closing)
		return;
	if (nread < 0) { /* the peer closed (or reset): done */
		conn_close_handles(conn);
		return;
	}
	conn->lingered += (size_t)nread;
	if (conn->lingered > NET_LINGER_MAX_BYTES)
		conn_close_handles(conn);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	net_conn_unref(req->data);
}

/* The output is out and the connection is to close. */
static void conn_output_done_close(struct net_conn *conn)
{
	if (conn->lingering)
		return; /* the peer's close, the byte cap or the timer ends it */
	if (!conn->linger || conn->eof) {
		conn_close_handles(conn);
		return;
	}
	conn->lingering = true;
	conn->shutdown_req.data = conn;
	net_conn_ref(conn);
	if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->tcp, on_shutdown) != 0) {
		net_conn_unref(conn);
		conn_close_handles(conn);
		return;
	}
	if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_linger_read) != 0) {
		conn_close_handles(conn);
		return;
	}
	conn->reading = true;
	uv_timer_start(&conn->timer, on_timer, NET_LINGER_MS, 0);
}

void net_conn_close_lingering(struct net_conn *conn)
{
	if (conn->closing || conn->close_after_output)
		return;
	conn->linger = true;
	net_conn_close(conn);
}

void net_conn_close(struct net_conn *conn)
{
	if (conn->closing || conn->close_after_output)
		return;
	if (conn->ssl != NULL)
		net_tls_shutdown(conn);
	conn->close_after_output = true;
	conn_stop_reading(conn);
	if (net_conn_output_pending(conn) == 0) {
		conn_output_done_close(conn);
		return;
	}
	/* The flusher closes once the output is out; a peer that stops
	 * reading gets net.read_timeout, then the connection is cut. */
	uv_timer_start(&conn->timer, on_timer, net_settings()->read_timeout_ms, 0);
}

void net_conn_abort(struct net_conn *conn)
{
	conn_close_handles(conn);
}

bool net_conn_is_closing(const struct net_conn *conn)
{
	return conn->closing || conn->close_after_output;
}

void net_conn_ref(struct net_conn *conn)
{
	g_atomic_int_inc(&conn->refcount);
}

void net_conn_unref(struct net_conn *conn)
{
	if (!g_atomic_int_dec_and_test(&conn->refcount))
		return;
	g_assert(conn->handles_open == 0);
	if (conn->ssl != NULL)
		SSL_free(conn->ssl);
	if (conn->input != NULL)
		g_byte_array_unref(conn->input);
	if (conn->output != NULL)
		g_byte_array_unref(conn->output);
	if (conn->tls_pending != NULL)
		g_byte_array_unref(conn->tls_pending);
	g_free(conn->peer);
	g_free(conn);
}

/* --- timer --- */

static void on_timer(uv_timer_t *timer)
{
	struct net_conn *conn = timer->data;
	if (conn->closing)
		return;
	if (conn->close_after_output) {
		net_conn_abort(conn); /* the close deadline, or the lingering, passed */
		return;
	}
	if (conn->protocol->timeout != NULL)
		conn->protocol->timeout(conn, conn->state);
	else
		net_conn_abort(conn);
	/* Timers run before the poll and the flusher only after it: send what
	 * the timeout wrote (a 408, a TLS close_notify) now, or it would wait,
	 * and the connection stay open, until some other event on this loop. */
	net_thread_flush(&conn->thread->flusher);
}

void net_conn_set_timer(struct net_conn *conn, uint64_t ms)
{
	if (conn->closing || conn->close_after_output)
		return; /* a closing connection keeps its close deadline */
	if (ms == 0)
		uv_timer_stop(&conn->timer);
	else
		uv_timer_start(&conn->timer, on_timer, ms, 0);
}

/* --- misc --- */

bool net_conn_is_tls(const struct net_conn *conn)
{
	return conn->ssl != NULL;
}

int net_conn_starttls(struct net_conn *conn)
{
	if (conn->ssl != NULL)
		return -1;
	conn->ssl = net_tls_new_session();
	if (conn->ssl == NULL)
		return -1;
	/* Whatever arrived in the clear after the command was sent before the
	 * client could know the answer: it is dropped, never taken as if it
	 * had come over TLS (the STARTTLS injection of CVE-2011-0411). Inside
	 * the input callback the buffer is still the protocol's, so the drop
	 * happens when the callback returns. */
	if (conn->in_input)
		conn->tls_starting = true;
	else
		g_clear_pointer(&conn->input, g_byte_array_unref);
	return 0;
}

/* Computed once on the I/O thread at accept: workers read it, and the
 * socket may be gone by then. */
static void compute_peer(struct net_conn *conn)
{
	{
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		char host[64] = "?";
		unsigned port = 0;
		if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &len) == 0) {
			if (ss.ss_family == AF_INET6) {
				uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
				port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
				conn->peer = g_strdup_printf("[%s]:%u", host, port);
			} else {
				uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
				port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
				conn->peer = g_strdup_printf("%s:%u", host, port);
			}
		} else {
			conn->peer = g_strdup("?");
		}
	}
}

const char *net_conn_peer(const struct net_conn *conn)
{
	return conn->peer != NULL ? conn->peer : "?";
}

/* --- posts from workers (the pool itself is net-worker.c) --- */

void net_conn_post(struct net_conn *conn, void (*fn)(struct net_conn *conn, void *arg), void *arg)
{
	struct net_thread *thread = conn->thread;
	struct net_post post = {conn, fn, arg};
	net_conn_ref(conn);
	g_mutex_lock(&thread->post_lock);
	g_array_append_val(thread->posts, post);
	g_mutex_unlock(&thread->post_lock);
	uv_async_send(&thread->wakeup);
}

/* --- drain --- */

void net_thread_drain_conns(struct net_thread *thread)
{
	struct net_conn *next;
	for (struct net_conn *conn = thread->conns; conn != NULL; conn = next) {
		next = conn->next;
		if (conn->closing)
			continue;
		if (conn->protocol->drain != NULL)
			conn->protocol->drain(conn, conn->state);
		else
			net_conn_close(conn);
	}
}
