/* TLS through OpenSSL memory BIOs: ciphertext from libuv goes into the read
 * BIO, plaintext comes out of SSL_read; plaintext in goes through SSL_write
 * and the write BIO's ciphertext is queued on the socket. */
#include "core/config.h"
#include "core/log.h"
#include "net/net-private.h"

#include <errno.h>
#include <openssl/err.h>
#include <sys/stat.h>

static GMutex ctx_lock;
static SSL_CTX *current_ctx; /* guarded by ctx_lock */

char *net_tls_error_string(void)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	if (e == 0)
		return g_strdup("unknown TLS error");
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return g_strdup(buf);
}

static bool any_tls_listener(const struct ox_config *cfg)
{
	GPtrArray *kinds = net_listener_kinds();
	for (guint i = 0; i < kinds->len; i++) {
		const struct net_listener_kind *kind = g_ptr_array_index(kinds, i);
		const char *value = ox_config_string(cfg, "listen", kind->config_key);
		if (kind->transport == NET_TLS && *value != '\0')
			return true;
	}
	return false;
}

static SSL_CTX *ctx_new(const char *cert, const char *key, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Idle TLS connections give their buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		char *why = net_tls_error_string();
		*error_r = g_strdup_printf("tls.certificate: cannot load %s: %s", cert, why);
		g_free(why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		char *why = net_tls_error_string();
		*error_r = g_strdup_printf("tls.key: cannot load %s: %s", key, why);
		g_free(why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = g_strdup_printf("tls.key: %s does not match certificate %s", key, cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int net_tls_load(const struct ox_config *cfg, const char *data_dir, char **error_r)
{
	const char *cert = ox_config_string(cfg, "tls", "certificate");
	const char *key = ox_config_string(cfg, "tls", "key");
	char *gen_cert = NULL, *gen_key = NULL;
	int ret = -1;

	if (*cert == '\0' && *key == '\0') {
		/* STARTTLS listeners need a certificate too; make one only when
		 * something will use it. */
		if (!any_tls_listener(cfg)) {
			ret = 0;
			goto out;
		}
		char *dir = g_build_filename(data_dir, "tls", NULL);
		gen_cert = g_build_filename(dir, "cert.pem", NULL);
		gen_key = g_build_filename(dir, "key.pem", NULL);
		if (!g_file_test(gen_cert, G_FILE_TEST_EXISTS)) {
			if (g_mkdir_with_parents(dir, 0700) < 0) {
				*error_r = g_strdup_printf("cannot create %s: %s", dir,
				                           g_strerror(errno));
				g_free(dir);
				goto out;
			}
			if (net_tls_make_self_signed(gen_cert, gen_key, error_r) < 0) {
				g_free(dir);
				goto out;
			}
			ox_log_kv(OX_LOG_INFO, "tls_certificate_created", "path", gen_cert, NULL);
		}
		g_free(dir);
		cert = gen_cert;
		key = gen_key;
	} else if (*cert == '\0' || *key == '\0') {
		*error_r = g_strdup("tls.certificate and tls.key must be set together");
		goto out;
	}
	SSL_CTX *ctx = ctx_new(cert, key, error_r);
	if (ctx == NULL)
		goto out;
	g_mutex_lock(&ctx_lock);
	SSL_CTX *old = current_ctx;
	current_ctx = ctx;
	g_mutex_unlock(&ctx_lock);
	if (old != NULL)
		SSL_CTX_free(old); /* sessions hold their own reference */
	ret = 0;
out:
	g_free(gen_cert);
	g_free(gen_key);
	return ret;
}

void net_tls_free_all(void)
{
	g_mutex_lock(&ctx_lock);
	SSL_CTX *old = current_ctx;
	current_ctx = NULL;
	g_mutex_unlock(&ctx_lock);
	if (old != NULL)
		SSL_CTX_free(old);
}

SSL *net_tls_new_session(void)
{
	g_mutex_lock(&ctx_lock);
	SSL *ssl = current_ctx != NULL ? SSL_new(current_ctx) : NULL;
	g_mutex_unlock(&ctx_lock);
	if (ssl == NULL)
		return NULL;
	BIO *rbio = BIO_new(BIO_s_mem());
	BIO *wbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(rbio, -1);
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_accept_state(ssl);
	return ssl;
}

/* Moves ciphertext the session produced onto the socket's queue. */
static void drain_wbio(struct net_conn *conn)
{
	BIO *wbio = SSL_get_wbio(conn->ssl);
	char buf[16 * 1024];
	int n;
	while ((n = BIO_read(wbio, buf, sizeof(buf))) > 0)
		net_conn_write_raw(conn, buf, (size_t)n);
}

static int write_plain(struct net_conn *conn, const void *data, size_t len)
{
	while (len > 0) {
		int n = SSL_write(conn->ssl, data, (int)MIN(len, (size_t)G_MAXINT));
		if (n <= 0) {
			int err = SSL_get_error(conn->ssl, n);
			drain_wbio(conn);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
				/* Handshake not finished: keep the rest for later. */
				if (conn->tls_pending == NULL)
					conn->tls_pending = g_byte_array_new();
				g_byte_array_append(conn->tls_pending, data, (guint)len);
				return 1;
			}
			ERR_clear_error();
			return -1;
		}
		data = (const char *)data + n;
		len -= (size_t)n;
	}
	drain_wbio(conn);
	return 0;
}

int net_tls_write(struct net_conn *conn, const void *data, size_t len)
{
	if (!SSL_is_init_finished(conn->ssl) || conn->tls_pending != NULL) {
		if (conn->tls_pending == NULL)
			conn->tls_pending = g_byte_array_new();
		g_byte_array_append(conn->tls_pending, data, (guint)len);
		return 0;
	}
	return write_plain(conn, data, len) < 0 ? -1 : 0;
}

static int flush_pending_plaintext(struct net_conn *conn)
{
	if (conn->tls_pending == NULL || !SSL_is_init_finished(conn->ssl))
		return 0;
	GByteArray *pending = conn->tls_pending;
	conn->tls_pending = NULL;
	int r = write_plain(conn, pending->data, pending->len);
	g_byte_array_unref(pending);
	return r < 0 ? -1 : 0;
}

int net_tls_input(struct net_conn *conn, const char *data, size_t len)
{
	BIO *rbio = SSL_get_rbio(conn->ssl);
	if (BIO_write(rbio, data, (int)len) != (int)len)
		return -1;
	for (;;) {
		if (conn->closing || conn->ssl == NULL)
			return 0;
		int n = SSL_read(conn->ssl, conn->thread->tls_buffer,
		                 sizeof(conn->thread->tls_buffer));
		if (n > 0) {
			if (flush_pending_plaintext(conn) < 0)
				return -1;
			net_conn_deliver(conn, conn->thread->tls_buffer, (size_t)n);
			continue;
		}
		int err = SSL_get_error(conn->ssl, n);
		drain_wbio(conn);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return flush_pending_plaintext(conn);
		if (err == SSL_ERROR_ZERO_RETURN) {
			/* close_notify from the peer: an EOF, so the protocol
			 * still answers what it received. */
			net_conn_eof(conn);
			return 0;
		}
		if (ox_log_enabled(OX_LOG_DEBUG)) {
			char *why = net_tls_error_string();
			ox_log_kv(OX_LOG_DEBUG, "tls_failed", "peer", net_conn_peer(conn), "error",
			          why, NULL);
			g_free(why);
		}
		ERR_clear_error();
		return -1;
	}
}

void net_tls_shutdown(struct net_conn *conn)
{
	if (SSL_is_init_finished(conn->ssl)) {
		flush_pending_plaintext(conn);
		SSL_shutdown(conn->ssl);
		drain_wbio(conn);
	}
	ERR_clear_error();
}
