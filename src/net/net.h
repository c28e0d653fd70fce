/* The network core: I/O threads, each running its own libuv loop, accept
 * connections on SO_REUSEPORT listeners, do TLS, and hand plaintext to a
 * protocol module. Protocol modules never touch libuv or OpenSSL; they see a
 * struct net_conn and the functions below.
 *
 * Threading contract: every net_conn_* function must be called on the
 * connection's I/O thread, except net_conn_post(), net_conn_ref() and
 * net_conn_unref(), which any thread may call while it holds a reference. */
#ifndef OX_NET_H
#define OX_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_conn;
struct net_server;
struct ox_config;

enum net_transport {
	NET_PLAIN,
	NET_TLS, /* implicit TLS: handshake first */
};

/* A protocol module. All callbacks run on the connection's I/O thread and
 * must not block. Only `name`, `open`, `input` and `close` are required. */
struct net_protocol {
	const char *name;
	/* A connection was accepted. Returns the protocol's state for it. */
	void *(*open)(struct net_conn *conn);
	/* Plaintext arrived. Returns how many bytes it consumed; the rest is kept
	 * and offered again, with what arrives next appended. */
	size_t (*input)(struct net_conn *conn, void *state, const char *data, size_t len);
	/* Output went back below the low-water mark after net_conn_output_full()
	 * had been true. */
	void (*writable)(struct net_conn *conn, void *state);
	/* The timer set with net_conn_set_timer() fired. Default: abort. */
	void (*timeout)(struct net_conn *conn, void *state);
	/* The peer closed its sending side. Default: close after output. */
	void (*eof)(struct net_conn *conn, void *state);
	/* The server is draining: finish what is in flight, then close. Default:
	 * close once output is written. */
	void (*drain)(struct net_conn *conn, void *state);
	/* The connection is gone; free the state. No callback follows. */
	void (*close)(struct net_conn *conn, void *state);
};

/* One key of the [listen] section: its protocol and transport. */
struct net_listener_kind {
	const char *config_key; /* "http", "https", "imaps", ... */
	const struct net_protocol *protocol;
	enum net_transport transport;
};

/* Registers a listener kind; `kind` must outlive the process. */
void net_register_listener_kind(const struct net_listener_kind *kind);

/* Registers the net.*, listen.* and tls.* configuration options. The listen
 * keys are the registered listener kinds, so register those first. */
void net_register_options(void);

/* --- server life cycle (main thread) --- */

/* Binds every configured listener and loads TLS material (making a
 * self-signed certificate in the data directory when none is configured).
 * Returns NULL with *error_r naming the listener or file at fault. */
struct net_server *net_server_new(const struct ox_config *cfg, const char *data_dir,
                                  char **error_r);
/* Starts the I/O threads. */
void net_server_start(struct net_server *server);
/* Re-reads settings and certificates. Existing connections keep their TLS
 * session; new ones use the new certificate. Returns 0 or -1 (nothing
 * changed) with *error_r set. */
int net_server_reload(struct net_server *server, const struct ox_config *cfg, char **error_r);
/* Stops accepting, lets protocols finish in-flight work, waits up to
 * net.drain_timeout, aborts what is left and joins the I/O threads. */
void net_server_stop(struct net_server *server);
void net_server_free(struct net_server **server);

/* Each bound listener, for logging: calls fn once per address. */
void net_server_foreach_listener(struct net_server *server,
                                 void (*fn)(const char *kind, const char *address, void *ctx),
                                 void *ctx);
unsigned net_server_connection_count(const struct net_server *server);

/* --- connection (I/O thread) --- */

/* Queues bytes for sending; never blocks. Writes made during one loop
 * iteration go out together. Ignored once the connection is closing. */
void net_conn_write(struct net_conn *conn, const void *data, size_t len);
/* Bytes queued but not yet handed to the kernel. */
size_t net_conn_output_pending(const struct net_conn *conn);
/* True above the high-water mark: stop producing until writable(). */
bool net_conn_output_full(struct net_conn *conn);

/* Stops offering input (and reading from the socket) until resumed; bytes
 * already received are kept. Resuming re-offers them. */
void net_conn_pause_input(struct net_conn *conn);
void net_conn_resume_input(struct net_conn *conn);

/* Closes after queued output is written (TLS: with close_notify). */
void net_conn_close(struct net_conn *conn);
/* The same for a peer that may still be sending (a request body answered
 * before it was read): after the output, the write side is shut down and
 * input is read and dropped until the peer closes or for at most
 * NET_LINGER_MS, so that the peer's TCP stack does not reset the
 * connection and discard the answer (RFC 9112 9.6). */
void net_conn_close_lingering(struct net_conn *conn);
/* Closes now, dropping queued output. */
void net_conn_abort(struct net_conn *conn);
bool net_conn_is_closing(const struct net_conn *conn);

/* (Re)arms the connection's single timer; 0 disarms it. */
void net_conn_set_timer(struct net_conn *conn, uint64_t ms);

bool net_conn_is_tls(const struct net_conn *conn);
/* Upgrades a plaintext connection to TLS (STARTTLS). Call after consuming
 * the command that asked for it and writing the go-ahead reply; the reply
 * is sent in the clear, everything after it encrypted. Returns 0 or -1 when
 * already TLS or no certificate is loaded. */
int net_conn_starttls(struct net_conn *conn);

/* "127.0.0.1:5678" or "[::1]:5678"; valid for the connection's lifetime. */
const char *net_conn_peer(const struct net_conn *conn);

/* Reference counting: a connection's memory lives while references exist,
 * even after it closed. Take one before handing the connection to another
 * thread. The last unref must happen on the I/O thread. */
void net_conn_ref(struct net_conn *conn);
void net_conn_unref(struct net_conn *conn);

/* Runs work(arg) on a worker thread, then done(conn, arg) back on the I/O
 * thread, also when the connection closed meanwhile (check
 * net_conn_is_closing()). Holds a reference throughout. */
void net_conn_queue_work(struct net_conn *conn, void (*work)(void *arg),
                         void (*done)(struct net_conn *conn, void *arg), void *arg);

/* From any thread holding a reference: runs fn(conn, arg) on the I/O thread
 * soon. Holds its own reference until fn has run. */
void net_conn_post(struct net_conn *conn, void (*fn)(struct net_conn *conn, void *arg), void *arg);

/* Timeouts from the configuration, for protocols to arm their timer with. */
uint64_t net_read_timeout_ms(void);
uint64_t net_idle_timeout_ms(void);

/* True once the server started draining. */
bool net_draining(void);

/* Parses "host:port[,host:port...]" for a listen key. Returns the number of
 * addresses, or -1 with *error_r set. For config validation and tests. */
int net_parse_listen(const char *value, char ***addresses_r, char **error_r);

#endif
