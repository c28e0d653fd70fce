/* Internals of the network core, shared by its files only. */
#ifndef OX_NET_PRIVATE_H
#define OX_NET_PRIVATE_H

#include "net/net.h"

#include <glib.h>
#include <openssl/ssl.h>
#include <uv.h>

#define NET_READ_BUFFER_SIZE (64 * 1024)
/* Output above this makes net_conn_output_full() true; writable() fires
 * once it falls below the low-water mark. */
#define NET_OUTPUT_HIGH_WATER (256 * 1024)
#define NET_OUTPUT_LOW_WATER (64 * 1024)
/* net_conn_close_lingering: how long input is drained before the close. */
#define NET_LINGER_MS 2000
/* Emptied output buffers each I/O thread keeps for reuse, and the largest
 * content it keeps one for (its allocation is at most twice that). */
#define NET_SPARE_OUTPUTS 16
#define NET_SPARE_OUTPUT_MAX (8 * 1024)

struct net_settings {
	unsigned max_connections;
	uint64_t read_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t drain_timeout_ms;
};

struct net_thread;

struct net_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct net_thread *thread;
	const struct net_protocol *protocol;
	void *state;
	SSL *ssl; /* NULL on plaintext connections */

	GByteArray *input;       /* received, not yet consumed; NULL when empty */
	GByteArray *output;      /* queued, not yet given to uv_write; NULL when empty */
	GByteArray *tls_pending; /* plaintext written before the handshake ended */
	GByteArray *in_flight;   /* buffer of the uv_write in progress */
	uv_write_t write_req;

	struct net_conn *prev, *next; /* the thread's connection list */
	struct net_conn *flush_next;  /* the thread's list of connections to flush */
	char *peer;
	gint refcount;
	unsigned handles_open;

	bool in_flush_list : 1;
	bool paused : 1;
	bool reading : 1;
	bool in_input : 1;
	bool close_after_output : 1;
	bool closing : 1; /* uv_close issued or about to be */
	bool output_was_full : 1;
	bool eof : 1;
	bool tls_starting : 1; /* STARTTLS during input: drop the rest */
	bool linger : 1;       /* after the output: half-close, drain input */
	bool lingering : 1;    /* draining input before the close */
	uv_shutdown_t shutdown_req;
	size_t lingered; /* bytes dropped while lingering */
};

struct net_listener {
	struct net_thread *thread;
	const struct net_listener_kind *kind;
	uv_tcp_t tcp;
	int fd;
};

struct net_post {
	struct net_conn *conn;
	void (*fn)(struct net_conn *conn, void *arg);
	void *arg;
};

struct net_thread {
	struct net_server *server;
	unsigned index;
	GThread *thread;
	uv_loop_t loop;
	uv_async_t wakeup;
	uv_check_t flusher;
	uv_timer_t drain_timer;
	GPtrArray *listeners; /* of struct net_listener * */
	struct net_conn *conns;
	struct net_conn *flush_list;
	unsigned nconns;
	char read_buffer[NET_READ_BUFFER_SIZE];
	char tls_buffer[NET_READ_BUFFER_SIZE];
	/* Recycled output buffers: a response per request would otherwise
	 * malloc and free a buffer each time, and glibc answers that churn
	 * at the top of a thread's heap with madvise() and page faults. */
	GByteArray *spare_outputs[NET_SPARE_OUTPUTS];
	unsigned nspare_outputs;

	/* Jobs of this thread's connections on a worker; while there are any,
	 * jobs_alive (an async handle nobody sends to) is referenced so that
	 * the loop does not end before they come back. */
	unsigned jobs_in_flight;
	uv_async_t jobs_alive;

	GMutex post_lock; /* guards posts, drain_requested */
	GArray *posts;    /* of struct net_post */
	bool drain_requested;
	bool draining;
};

struct net_bound {
	const struct net_listener_kind *kind;
	char *address; /* as bound, with the real port */
	int *fds;      /* one per I/O thread */
};

struct net_server {
	unsigned nthreads;
	unsigned workers; /* net.workers, read at start */
	struct net_thread **threads;
	GPtrArray *bound; /* of struct net_bound * */
	gint nconns;
	char *data_dir;
};

/* Settings: an immutable snapshot swapped on reload (old ones are kept
 * until exit, so a reader never sees freed memory). */
const struct net_settings *net_settings(void);
void net_settings_publish(const struct ox_config *cfg);
void net_settings_free_all(void);

/* Listeners (net-listener.c). */
GPtrArray *net_listener_kinds(void);
int net_bind_all(struct net_server *server, const struct ox_config *cfg, char **error_r);
void net_listeners_start(struct net_thread *thread);
void net_listeners_close(struct net_thread *thread);

/* Connections (net-conn.c). */
void net_conn_accepted(struct net_thread *thread, const struct net_listener_kind *kind,
                       uv_tcp_t *client_owner);
struct net_conn *net_conn_new(struct net_thread *thread, const struct net_listener_kind *kind);
void net_conn_start(struct net_conn *conn);
void net_thread_flush(uv_check_t *check);
void net_thread_free_spare_outputs(struct net_thread *thread);
void net_thread_drain_conns(struct net_thread *thread);

/* The worker pool (net-worker.c): threads start on demand, up to max;
 * the most recently idle one runs the next task, in submission order
 * when all are busy. run(arg) runs on a worker, then after(arg) (may be
 * NULL) on the same thread once it is back in the pool, so that what
 * after() announces finds the worker free. Stop the pool only after
 * every I/O thread has ended: it runs what is still waiting, then joins
 * the threads. */
void net_workers_start(unsigned max);
void net_workers_stop(void);
void net_workers_submit(void (*run)(void *arg), void (*after)(void *arg), void *arg);

/* TLS (net-tls.c). */
int net_tls_load(const struct ox_config *cfg, const char *data_dir, char **error_r);
/* A new server-side SSL bound to the current context, or NULL if none. */
SSL *net_tls_new_session(void);
void net_tls_free_all(void);
/* Feeds ciphertext in, drains plaintext to deliver and ciphertext out.
 * Returns -1 when the session failed (the caller aborts). */
int net_tls_input(struct net_conn *conn, const char *data, size_t len);
int net_tls_write(struct net_conn *conn, const void *data, size_t len);
void net_tls_shutdown(struct net_conn *conn);

/* Self-signed certificate (net-tls-cert.c). */
int net_tls_make_self_signed(const char *cert_path, const char *key_path, char **error_r);

/* The peer finished sending (TCP FIN or TLS close_notify). */
void net_conn_eof(struct net_conn *conn);
/* Delivers plaintext to the protocol (net-conn.c), used by TLS. */
void net_conn_deliver(struct net_conn *conn, const char *data, size_t len);
/* Queues raw (already encrypted when TLS) bytes. */
void net_conn_write_raw(struct net_conn *conn, const void *data, size_t len);

/* Pipe-free helper: last OpenSSL error as text. */
char *net_tls_error_string(void);

#endif
