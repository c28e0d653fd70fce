/* One store connection per worker thread, opened on first use and closed
 * when the thread ends: each worker owns its connection (DESIGN.md,
 * "Concurrency"), so no connection is ever shared between threads. */
#include "core/config.h"
#include "core/error.h"
#include "store/blob.h"
#include "store/store-private.h"
#include "store/store.h"

#include <string.h>

static GMutex settings_lock;
static char *thread_driver;
static char *thread_target;
static char *thread_blob_dir;

static void close_thread_store(gpointer data)
{
	struct store *s = data;
	store_close(&s);
}

static GPrivate thread_store = G_PRIVATE_INIT(close_thread_store);

void store_thread_configure(const struct ox_config *cfg)
{
	const char *driver = ox_config_string(cfg, "store", "driver");
	const char *data_dir = ox_config_string(cfg, "server", "data");
	g_mutex_lock(&settings_lock);
	g_free(thread_driver);
	g_free(thread_target);
	g_free(thread_blob_dir);
	thread_driver = g_strdup(driver);
	if (strcmp(driver, "postgres") == 0) {
		thread_target = g_strdup(ox_config_string(cfg, "store", "dsn"));
		thread_blob_dir = NULL;
	} else {
		thread_target = g_build_filename(data_dir, "ox.db", NULL);
		thread_blob_dir = g_build_filename(data_dir, "blobs", NULL);
	}
	g_mutex_unlock(&settings_lock);
}

struct store *store_thread_get(struct ox_error *err)
{
	struct store *s = g_private_get(&thread_store);
	if (s != NULL && (s->driver->connected == NULL || s->driver->connected(s)))
		return s;
	/* A lost server connection: open a new one (the old one closes). */
	if (s != NULL)
		g_private_replace(&thread_store, NULL);
	g_mutex_lock(&settings_lock);
	char *driver = g_strdup(thread_driver);
	char *target = g_strdup(thread_target);
	char *blob_dir = g_strdup(thread_blob_dir);
	g_mutex_unlock(&settings_lock);
	if (driver == NULL) {
		ox_error_set(err, OX_ERR_INTERNAL, "store: not configured");
	} else {
		s = store_open(driver, target, err);
		if (s != NULL && blob_dir != NULL)
			blob_set_directory(s, blob_dir);
		if (s != NULL)
			g_private_set(&thread_store, s);
	}
	g_free(driver);
	g_free(target);
	g_free(blob_dir);
	return s;
}

void store_thread_discard(void)
{
	/* After a lost connection: the next get opens a fresh one. */
	g_private_replace(&thread_store, NULL);
}
