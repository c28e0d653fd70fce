/* Listener kinds, address parsing and SO_REUSEPORT binding. Every I/O thread
 * gets its own socket on each address so the kernel spreads connections
 * over the threads without a shared accept lock. */
#include "core/config.h"
#include "core/log.h"
#include "net/net-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096

static GPtrArray *listener_kinds;

void net_register_listener_kind(const struct net_listener_kind *kind)
{
	if (listener_kinds == NULL)
		listener_kinds = g_ptr_array_new();
	g_ptr_array_add(listener_kinds, (gpointer)kind);
}

GPtrArray *net_listener_kinds(void)
{
	if (listener_kinds == NULL)
		listener_kinds = g_ptr_array_new();
	return listener_kinds;
}

/* Splits "host:port" / "[v6]:port" into a socket address. */
static int parse_address(const char *text, struct sockaddr_storage *ss, char **error_r)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host))
			goto bad;
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		port_text = end + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon == NULL || (size_t)(colon - text) >= sizeof(host) || colon == text)
			goto bad;
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
		port_text = colon + 1;
	}
	char *end;
	errno = 0;
	long port = strtol(port_text, &end, 10);
	if (errno != 0 || end == port_text || *end != '\0' || port < 0 || port > 65535)
		goto bad;
	if (strcmp(host, "*") == 0)
		strcpy(host, "0.0.0.0");
	else if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	} else {
		goto bad;
	}
	return 0;
bad:
	*error_r = g_strdup_printf("'%s' is not host:port with a numeric address", text);
	return -1;
}

int net_parse_listen(const char *value, char ***addresses_r, char **error_r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	gchar **items = g_strsplit(value, ",", -1);
	int ret = -1;
	for (gchar **item = items; *item != NULL; item++) {
		gchar *text = g_strstrip(g_strdup(*item));
		struct sockaddr_storage ss;
		if (*text == '\0') {
			g_free(text);
			continue;
		}
		if (parse_address(text, &ss, error_r) < 0) {
			g_free(text);
			goto out;
		}
		g_ptr_array_add(out, text);
	}
	ret = (int)out->len;
	g_ptr_array_add(out, NULL);
	*addresses_r = (char **)g_ptr_array_free(out, FALSE);
	out = NULL;
out:
	g_strfreev(items);
	if (out != NULL)
		g_ptr_array_unref(out);
	return ret;
}

static void format_address(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		g_snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		g_snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	}
}

static socklen_t address_length(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Binds one listening socket; returns the fd or -1 with errno set. */
static int bind_socket(const struct sockaddr_storage *ss, bool reuseport)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, address_length(ss)) < 0 ||
	    (reuseport && listen(fd, LISTEN_BACKLOG) < 0)) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Binds one address once per I/O thread. SO_REUSEPORT lets a second
 * process of the same user join our port silently, so a probe without it
 * first finds a port someone else holds. */
static int bind_address(struct net_server *server, const struct net_listener_kind *kind,
                        const char *text, char **error_r)
{
	struct sockaddr_storage ss;
	if (parse_address(text, &ss, error_r) < 0)
		return -1;
	bool any_port = ((struct sockaddr_in *)&ss)->sin_port == 0;
	if (!any_port) {
		int probe = bind_socket(&ss, false);
		if (probe < 0) {
			*error_r = g_strdup_printf("listen.%s: cannot bind %s: %s",
			                           kind->config_key, text, g_strerror(errno));
			return -1;
		}
		close(probe);
	}
	struct net_bound *bound = g_new0(struct net_bound, 1);
	bound->kind = kind;
	bound->fds = g_new(int, server->nthreads);
	for (unsigned i = 0; i < server->nthreads; i++)
		bound->fds[i] = -1;
	g_ptr_array_add(server->bound, bound);
	for (unsigned i = 0; i < server->nthreads; i++) {
		int fd = bind_socket(&ss, true);
		if (fd < 0) {
			*error_r = g_strdup_printf("listen.%s: cannot bind %s: %s",
			                           kind->config_key, text, g_strerror(errno));
			return -1;
		}
		bound->fds[i] = fd;
		if (i == 0) {
			/* Port 0: every thread must share the port the kernel chose. */
			socklen_t len = sizeof(ss);
			getsockname(fd, (struct sockaddr *)&ss, &len);
			char buf[INET6_ADDRSTRLEN + 16];
			format_address(&ss, buf, sizeof(buf));
			bound->address = g_strdup(buf);
		}
	}
	return 0;
}

int net_bind_all(struct net_server *server, const struct ox_config *cfg, char **error_r)
{
	GPtrArray *kinds = net_listener_kinds();
	for (guint i = 0; i < kinds->len; i++) {
		const struct net_listener_kind *kind = g_ptr_array_index(kinds, i);
		char **addresses = NULL;
		if (net_parse_listen(ox_config_string(cfg, "listen", kind->config_key), &addresses,
		                     error_r) < 0)
			return -1;
		for (char **a = addresses; *a != NULL; a++) {
			if (bind_address(server, kind, *a, error_r) < 0) {
				g_strfreev(addresses);
				return -1;
			}
		}
		g_strfreev(addresses);
	}
	return 0;
}

static void on_connection(uv_stream_t *stream, int status)
{
	struct net_listener *listener = stream->data;
	if (status < 0) {
		ox_logf(OX_LOG_WARN, "accept_failed", "error=%s", uv_strerror(status));
		return;
	}
	net_conn_accepted(listener->thread, listener->kind, &listener->tcp);
}

void net_listeners_start(struct net_thread *thread)
{
	struct net_server *server = thread->server;
	for (guint i = 0; i < server->bound->len; i++) {
		struct net_bound *bound = g_ptr_array_index(server->bound, i);
		struct net_listener *listener = g_new0(struct net_listener, 1);
		listener->thread = thread;
		listener->kind = bound->kind;
		listener->fd = bound->fds[thread->index];
		bound->fds[thread->index] = -1; /* the handle owns it now */
		uv_tcp_init(&thread->loop, &listener->tcp);
		listener->tcp.data = listener;
		int r = uv_tcp_open(&listener->tcp, listener->fd);
		if (r == 0)
			r = uv_listen((uv_stream_t *)&listener->tcp, LISTEN_BACKLOG, on_connection);
		if (r < 0)
			ox_logf(OX_LOG_ERROR, "listen_failed", "address=%s error=%s",
			        bound->address, uv_strerror(r));
		g_ptr_array_add(thread->listeners, listener);
	}
}

static void on_listener_closed(uv_handle_t *handle)
{
	g_free(handle->data);
}

void net_listeners_close(struct net_thread *thread)
{
	for (guint i = 0; i < thread->listeners->len; i++) {
		struct net_listener *listener = g_ptr_array_index(thread->listeners, i);
		uv_close((uv_handle_t *)&listener->tcp, on_listener_closed);
	}
	g_ptr_array_set_size(thread->listeners, 0);
}
