/* The network core end to end with a small line protocol: STARTTLS
 * upgrades a plaintext connection, whatever the client pipelined in the
 * clear after the command is dropped (never taken as if it came over TLS),
 * and an implicit-TLS listener greets after its handshake. */
#include "core/config.h"
#include "core/options.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *toy_open(struct net_conn *c)
{
	net_conn_write(c, "HELLO\r\n", 7);
	return g_new0(int, 1);
}

static size_t toy_input(struct net_conn *c, void *state, const char *data, size_t len)
{
	size_t used = 0;
	while (used < len) {
		const char *nl = memchr(data + used, '\n', len - used);
		if (nl == NULL)
			break;
		size_t n = (size_t)(nl - (data + used)) + 1;
		char line[256];
		g_snprintf(line, sizeof(line), "%.*s", (int)(n > 2 ? n - 2 : 0), data + used);
		used += n;
		if (strcmp(line, "STARTTLS") == 0) {
			net_conn_write(c, "OK go\r\n", 7);
			if (net_conn_starttls(c) < 0)
				net_conn_abort(c);
			/* The protocol may still look at its buffer after the call. */
			volatile char peek = data[0];
			(void)peek;
			return used;
		}
		char out[300];
		int m = g_snprintf(out, sizeof(out), "GOT %s tls=%d\r\n", line, net_conn_is_tls(c));
		net_conn_write(c, out, (size_t)m);
	}
	return used;
}

static void toy_close(struct net_conn *c, void *state)
{
	g_free(state);
}

static const struct net_protocol toy = {
	.name = "toy", .open = toy_open, .input = toy_input, .close = toy_close};
static const struct net_listener_kind plain_kind = {"toy", &toy, NET_PLAIN};
static const struct net_listener_kind tls_kind = {"toys", &toy, NET_TLS};

static int plain_port, tls_port;

static void note_port(const char *kind, const char *address, void *ctx)
{
	int port = atoi(strrchr(address, ':') + 1);
	if (strcmp(kind, "toy") == 0)
		plain_port = port;
	else
		tls_port = port;
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads until `want` is in what arrived (plain socket). */
static void expect_plain(int fd, const char *want)
{
	GString *got = g_string_new(NULL);
	char buf[512];
	while (strstr(got->str, want) == NULL) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			g_error("connection ended before '%s'; got '%s'", want, got->str);
		g_string_append_len(got, buf, n);
	}
	g_string_free(got, TRUE);
}

/* Reads over TLS until `want` arrived; fails if `never` shows up. */
static void expect_tls(SSL *ssl, const char *want, const char *never)
{
	GString *got = g_string_new(NULL);
	char buf[512];
	while (strstr(got->str, want) == NULL) {
		int n = SSL_read(ssl, buf, sizeof(buf));
		if (n <= 0)
			g_error("TLS connection ended before '%s'; got '%s'", want, got->str);
		g_string_append_len(got, buf, n);
	}
	if (never != NULL && strstr(got->str, never) != NULL)
		g_error("'%s' arrived: %s", never, got->str);
	g_string_free(got, TRUE);
}

static SSL *client_handshake(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		g_error("handshake failed");
	return ssl;
}

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* the self-signed test certificate */
	return ctx;
}

static void starttls_drops_injected(const char *first, const char *second)
{
	int fd = connect_to(plain_port);
	expect_plain(fd, "HELLO\r\n");
	g_assert_cmpint(write(fd, first, strlen(first)), ==, (ssize_t)strlen(first));
	if (second != NULL) {
		g_usleep(50000);
		g_assert_cmpint(write(fd, second, strlen(second)), ==, (ssize_t)strlen(second));
	}
	expect_plain(fd, "OK go\r\n");
	SSL_CTX *ctx = client_ctx();
	SSL *ssl = client_handshake(ctx, fd);
	SSL_write(ssl, "PING\r\n", 6);
	expect_tls(ssl, "GOT PING tls=1\r\n", "INJECTED");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

static void test_injection_same_packet(void)
{
	starttls_drops_injected("STARTTLS\r\nINJECTED\r\n", NULL);
}

static void test_injection_after_pipelined_command(void)
{
	/* The command arrives in two reads, behind another command. */
	starttls_drops_injected("NOOP\r\nSTART", "TLS\r\nINJECTED\r\n");
}

static void test_implicit_tls_greets_after_handshake(void)
{
	int fd = connect_to(tls_port);
	SSL_CTX *ctx = client_ctx();
	SSL *ssl = client_handshake(ctx, fd);
	expect_tls(ssl, "HELLO\r\n", NULL);
	SSL_write(ssl, "X\r\n", 3);
	expect_tls(ssl, "GOT X tls=1\r\n", NULL);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ox_core_register_options();
	net_register_listener_kind(&plain_kind);
	net_register_listener_kind(&tls_kind);
	net_register_options();
	char *dir = g_dir_make_tmp("ox-net-XXXXXX", NULL);
	const char *sets[] = {"listen.toy=127.0.0.1:0", "listen.toys=127.0.0.1:0", NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, sets, &error);
	g_assert_nonnull(cfg);
	struct net_server *server = net_server_new(cfg, dir, &error);
	if (server == NULL)
		g_error("server: %s", error);
	net_server_start(server);
	net_server_foreach_listener(server, note_port, NULL);
	g_test_add_func("/net/starttls/injection-same-packet", test_injection_same_packet);
	g_test_add_func("/net/starttls/injection-after-pipelined-command",
	                test_injection_after_pipelined_command);
	g_test_add_func("/net/tls/implicit-greets-after-handshake",
	                test_implicit_tls_greets_after_handshake);
	int r = g_test_run();
	net_server_free(&server);
	ox_config_free(&cfg);
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		g_warning("cannot remove %s", dir);
	g_free(cmd);
	g_free(dir);
	return r;
}
