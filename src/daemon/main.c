/* oxd: loads the configuration, registers every module, binds the
 * listeners, runs the I/O threads, and handles signals on the main thread:
 * SIGTERM/SIGINT drain and stop, SIGHUP reloads configuration and
 * certificates without dropping connections. */
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "daemon/demo.h"
#include "daemon/housekeeping.h"
#include "daemon/modules.h"
#include "http/http.h"
#include "net/net.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

struct daemon {
	struct ox_config *cfg;
	struct net_server *server;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	struct housekeeping *housekeeping;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: oxd [--config FILE] [--data DIR] [--set section.key=value]... "
	             "[--demo] [--version]\n");
}

static void log_listener(const char *kind, const char *address, void *ctx)
{
	ox_log_kv(OX_LOG_INFO, "listening", "proto", kind, "addr", address, NULL);
}

/* Lets one process hold the many sockets of idle keep-alive clients. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void on_stop_signal(uv_signal_t *sig, int signum)
{
	struct daemon *d = sig->data;
	ox_logf(OX_LOG_INFO, "stopping", "signal=%s connections=%u",
	        signum == SIGTERM ? "TERM" : "INT", net_server_connection_count(d->server));
	uv_stop(&d->loop);
}

static void on_reload_signal(uv_signal_t *sig, int signum)
{
	struct daemon *d = sig->data;
	char *error = NULL;
	struct ox_config *cfg =
		ox_config_load(ox_config_path(d->cfg), ox_config_overrides(d->cfg), &error);
	if (cfg == NULL || net_server_reload(d->server, cfg, &error) < 0) {
		/* A broken file must not take a running server down. */
		ox_log_kv(OX_LOG_ERROR, "reload_failed", "error", error, NULL);
		g_free(error);
		ox_config_free(&cfg);
		return;
	}
	ox_modules_configure(cfg);
	housekeeping_reconfigure(d->housekeeping);
	ox_config_free(&d->cfg);
	d->cfg = cfg;
	ox_logf(OX_LOG_INFO, "reloaded", "connections=%u", net_server_connection_count(d->server));
}

/* Opens the store once at start: it must be reachable, and its schema is
 * brought up to date before anything serves. */
static int open_store(const struct ox_config *cfg)
{
	struct ox_error err = {0};
	struct store *store = store_open_configured(cfg, &err);
	if (store == NULL || store_migrate(store, &err) < 0) {
		fprintf(stderr, "oxd: store: %s\n", err.message);
		store_close(&store);
		return -1;
	}
	ox_logf(OX_LOG_INFO, "store_ready", "driver=%s schema=%d", store_driver_name(store),
	        store_schema_latest());
	store_close(&store);
	return 0;
}

static int parse_args(int argc, char **argv, char **config_r, GPtrArray *sets, bool *demo_r)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--version") == 0) {
			printf("oxd %s\n", OX_VERSION);
			exit(0);
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--demo") == 0) {
			*demo_r = true;
		} else if (strcmp(a, "--config") == 0 && next != NULL) {
			*config_r = argv[++i];
		} else if (strcmp(a, "--data") == 0 && next != NULL) {
			g_ptr_array_add(sets, g_strdup_printf("server.data=%s", argv[++i]));
		} else if (strcmp(a, "--set") == 0 && next != NULL) {
			g_ptr_array_add(sets, g_strdup(argv[++i]));
		} else {
			fprintf(stderr, "oxd: unknown or incomplete argument '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	g_ptr_array_add(sets, NULL);
	return 0;
}

static void signal_watch(struct daemon *d, uv_signal_t *sig, uv_signal_cb cb, int signum)
{
	uv_signal_init(&d->loop, sig);
	sig->data = d;
	uv_signal_start(sig, cb, signum);
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	char *config_path = NULL, *error = NULL;
	bool demo = false;
	GPtrArray *sets = g_ptr_array_new_with_free_func(g_free);
	int ret = 1;

	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &config_path, sets, &demo) < 0)
		return 2;
	ox_modules_register();
	d.cfg = ox_config_load(config_path, (const char *const *)sets->pdata, &error);
	if (d.cfg == NULL) {
		fprintf(stderr, "oxd: %s\n", error);
		goto out;
	}
	ox_modules_configure(d.cfg);
	const char *data_dir = ox_config_string(d.cfg, "server", "data");
	if (g_mkdir_with_parents(data_dir, 0750) < 0) {
		fprintf(stderr, "oxd: server.data: cannot create %s: %s\n", data_dir,
		        g_strerror(errno));
		goto out;
	}
	if (open_store(d.cfg) < 0)
		goto out;
	if (demo && demo_seed(d.cfg) < 0)
		goto out;
	raise_fd_limit();
	ox_modules_routes();
	d.server = net_server_new(d.cfg, data_dir, &error);
	if (d.server == NULL) {
		fprintf(stderr, "oxd: %s\n", error);
		goto out;
	}
	uv_loop_init(&d.loop);
	signal_watch(&d, &d.sigterm, on_stop_signal, SIGTERM);
	signal_watch(&d, &d.sigint, on_stop_signal, SIGINT);
	signal_watch(&d, &d.sighup, on_reload_signal, SIGHUP);
	net_server_start(d.server);
	d.housekeeping = housekeeping_start(&d.loop);
	net_server_foreach_listener(d.server, log_listener, NULL);
	ox_log_kv(OX_LOG_INFO, "ready", "version", OX_VERSION, "data", data_dir, NULL);

	uv_run(&d.loop, UV_RUN_DEFAULT);

	/* A collection in progress ends at its next step while requests
	 * drain; the loop's last run below waits for it. */
	housekeeping_stop(&d.housekeeping);
	net_server_stop(d.server);
	ox_log_kv(OX_LOG_INFO, "stopped", NULL);
	uv_close((uv_handle_t *)&d.sigterm, NULL);
	uv_close((uv_handle_t *)&d.sigint, NULL);
	uv_close((uv_handle_t *)&d.sighup, NULL);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	uv_loop_close(&d.loop);
	ret = 0;
out:
	net_server_free(&d.server);
	ox_config_free(&d.cfg);
	g_ptr_array_unref(sets);
	g_free(error);
	return ret;
}
