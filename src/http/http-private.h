/* Internals of the HTTP server shared by its files. */
#ifndef OX_HTTP_PRIVATE_H
#define OX_HTTP_PRIVATE_H

#include "http/http-parse.h"
#include "http/http.h"

#include <glib.h>

/* Request bodies up to this size are received whole before the handler
 * runs; larger ones stream to it. */
#define HTTP_BODY_BUFFER_MAX (64 * 1024)
/* Body bytes that restart net.read_timeout: a body must arrive at no less
 * than this much per timeout (16 KiB per 30 s by default, 550 B/s). */
#define HTTP_BODY_PROGRESS_MIN (16 * 1024)
/* Streamed body bytes waiting for the handler: reading stops above. */
#define HTTP_BODY_PIPE_HIGH (256 * 1024)
#define HTTP_BODY_PIPE_LOW (64 * 1024)
/* Response bytes waiting for the I/O thread: the handler waits above. A
 * response that ends below the commit size gets a Content-Length. */
#define HTTP_OUT_COMMIT_SIZE (64 * 1024)
#define HTTP_OUT_PIPE_HIGH (256 * 1024)
#define HTTP_OUT_PIPE_LOW (64 * 1024)

struct http_settings {
	struct http_parse_limits limits;
	char *web_root;
	bool gzip;
	bool access_log;
	bool test_routes;
};

const struct http_settings *http_settings(void);

struct http_conn;
struct net_conn;

struct http_exchange {
	gint refcount;
	struct http_conn *hc;  /* I/O thread only; NULL once the connection is gone */
	struct net_conn *conn; /* referenced for the exchange's lifetime */
	struct http_request_head *head;
	char *path;
	char *query;
	const struct http_route *route;
	bool is_head;
	bool tls;
	bool dispatched;  /* I/O thread: routed (and answered or sent to a worker) */
	bool worker_done; /* I/O thread: the handler returned */
	gint64 started_us;

	GMutex lock; /* guards everything below */
	GCond cond;
	unsigned waiters; /* threads waiting on cond */
	GByteArray *body_in;
	bool body_complete;
	bool body_paused;
	bool aborted; /* the client is gone: stop */

	int status;
	GString *headers; /* "Name: value\r\n" lines added by the handler */
	bool has_length;
	uint64_t length;
	GByteArray *pending; /* body before the framing is decided */
	GByteArray *out;     /* framed bytes for the I/O thread */
	bool committed;
	bool chunked;
	bool close_after;
	bool finished;
	bool flush_posted;
	bool on_worker;
	uint64_t body_bytes; /* body bytes the handler wrote */
	uint64_t sent_bytes; /* bytes handed to the connection */
};

struct http_exchange *http_exchange_new(struct http_conn *hc, struct net_conn *conn,
                                        struct http_request_head *head);
void http_exchange_ref(struct http_exchange *ex);
/* On the I/O thread only. */
void http_exchange_unref(struct http_exchange *ex);
/* Moves framed output to the connection, honouring back-pressure; I/O
 * thread only. Returns true when everything queued was moved. */
bool http_exchange_flush(struct http_exchange *ex);
/* The client went away: wake a waiting handler and make it stop. */
void http_exchange_abort(struct http_exchange *ex);
/* Adds received body bytes (I/O thread). Returns true when the handler
 * lags far enough behind that reading should pause. */
bool http_exchange_add_body(struct http_exchange *ex, const char *data, size_t len);
void http_exchange_body_done(struct http_exchange *ex);

/* Splits the target into a decoded path and query; -1 if malformed. */
int http_target_split(const char *target, char **path_r, char **query_r);

/* Called by the exchange (I/O thread) when the body reader drained the
 * pipe after reading had paused. */
void http_conn_resume_body(struct net_conn *conn, void *arg);
/* Called by the exchange (I/O thread) to push output. */
void http_conn_flush(struct net_conn *conn, void *arg);

/* Date header value for now, cached per second per thread. */
const char *http_date_now(void);
/* Formats / parses IMF-fixdate (RFC 9110 5.6.7). */
void http_date_format(gint64 unix_seconds, char buf[32]);
int http_date_parse(const char *text, gint64 *unix_seconds_r);

/* Route registration of the built-in handlers. */
void http_health_register(void);
void http_static_register(void);
void http_test_routes_register(void);
void http_api_session_register(void);
void http_api_feed_register(void);
void http_api_files_register(void);

#endif
