/* Options of the network core and the published settings snapshot. */
#include "core/config.h"
#include "net/net-private.h"

#include <string.h>

static int validate_listen(const char *value, char **error_r)
{
	char **addresses = NULL;
	int n = net_parse_listen(value, &addresses, error_r);
	g_strfreev(addresses);
	return n < 0 ? -1 : 0;
}

static const struct ox_option net_options[] = {
	{"net", "io_threads", OX_OPT_INT, "0", 0, 256, NULL,
         "I/O threads, each with its own event loop; 0 means one per CPU core."},
	{"net", "workers", OX_OPT_INT, "16", 1, 1024, NULL,
         "Worker threads that run commands (may block on storage), at most; they start "
         "as load needs them. Read at start only."},
	{"net", "max_connections", OX_OPT_INT, "20000", 1, 1000000, NULL,
         "Connections held at once over all listeners; more are closed on accept."},
	{"net", "read_timeout", OX_OPT_DURATION, "30s", 1, 24LL * 3600 * 1000, NULL,
         "A started command (such as an HTTP request) must be complete within this time."},
	{"net", "idle_timeout", OX_OPT_DURATION, "75s", 1, 24LL * 3600 * 1000, NULL,
         "An idle connection between commands is closed after this time."},
	{"net", "drain_timeout", OX_OPT_DURATION, "30s", 0, 3600LL * 1000, NULL,
         "On SIGTERM, in-flight work may finish within this time before connections are cut."},
	{"tls", "certificate", OX_OPT_STRING, "", 0, 0, NULL,
         "PEM certificate chain; empty: a self-signed one made in DATA/tls/ on first start."},
	{"tls", "key", OX_OPT_STRING, "", 0, 0, NULL, "PEM private key of the certificate."},
};

/* Listen keys are made from the registered listener kinds. */
static GArray *listen_options;

void net_register_options(void)
{
	ox_config_register(net_options, G_N_ELEMENTS(net_options));
	GPtrArray *kinds = net_listener_kinds();
	if (listen_options != NULL)
		g_array_free(listen_options, TRUE);
	listen_options = g_array_new(FALSE, TRUE, sizeof(struct ox_option));
	for (guint i = 0; i < kinds->len; i++) {
		const struct net_listener_kind *kind = g_ptr_array_index(kinds, i);
		struct ox_option opt = {
			.section = "listen",
			.key = kind->config_key,
			.type = OX_OPT_STRING,
			.default_value = "",
			.validate = validate_listen,
			.doc = kind->transport == NET_TLS
		                       ? "Addresses (host:port, comma-separated) for implicit TLS."
		                       : "Addresses (host:port, comma-separated); empty: none.",
		};
		if (strcmp(kind->config_key, "http") == 0)
			opt.default_value = "127.0.0.1:8080";
		else if (strcmp(kind->config_key, "https") == 0)
			opt.default_value = "127.0.0.1:8443";
		g_array_append_val(listen_options, opt);
	}
	/* The array is never freed again while registered: the table must
	 * outlive the process, as ox_config_register() requires. */
	ox_config_register((const struct ox_option *)listen_options->data, listen_options->len);
}

static const struct net_settings *current_settings;
static GPtrArray *old_settings;
static const struct net_settings default_settings = {
	.max_connections = 20000,
	.read_timeout_ms = 30000,
	.idle_timeout_ms = 75000,
	.drain_timeout_ms = 30000,
};

const struct net_settings *net_settings(void)
{
	const struct net_settings *s = g_atomic_pointer_get(&current_settings);
	return s != NULL ? s : &default_settings;
}

void net_settings_publish(const struct ox_config *cfg)
{
	struct net_settings *s = g_new0(struct net_settings, 1);
	s->max_connections = (unsigned)ox_config_int(cfg, "net", "max_connections");
	s->read_timeout_ms = (uint64_t)ox_config_int(cfg, "net", "read_timeout");
	s->idle_timeout_ms = (uint64_t)ox_config_int(cfg, "net", "idle_timeout");
	s->drain_timeout_ms = (uint64_t)ox_config_int(cfg, "net", "drain_timeout");
	if (old_settings == NULL)
		old_settings = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(old_settings, s);
	g_atomic_pointer_set(&current_settings, s);
}

void net_settings_free_all(void)
{
	g_atomic_pointer_set(&current_settings, NULL);
	g_clear_pointer(&old_settings, g_ptr_array_unref);
}

uint64_t net_read_timeout_ms(void)
{
	return net_settings()->read_timeout_ms;
}

uint64_t net_idle_timeout_ms(void)
{
	return net_settings()->idle_timeout_ms;
}
