/* The store.* options and opening the configured store. */
#include "core/config.h"
#include "core/error.h"
#include "store/blob.h"
#include "store/store.h"

#include <string.h>

static int validate_driver(const char *value, char **error_r)
{
	if (strcmp(value, "sqlite") == 0 || strcmp(value, "postgres") == 0)
		return 0;
	*error_r = g_strdup("expected sqlite or postgres");
	return -1;
}

static const struct ox_option store_options[] = {
	{"store", "driver", OX_OPT_STRING, "sqlite", 0, 0, validate_driver,
         "sqlite (embedded, DATA/ox.db and DATA/blobs/) or postgres (everything, blobs too, in "
         "PostgreSQL)."},
	{"store", "dsn", OX_OPT_STRING, "", 0, 0, NULL,
         "PostgreSQL connection string (libpq); empty uses the PG* environment variables."},
};

void store_register_options(void)
{
	ox_config_register(store_options, G_N_ELEMENTS(store_options));
}

struct store *store_open_configured(const struct ox_config *cfg, struct ox_error *err)
{
	const char *driver = ox_config_string(cfg, "store", "driver");
	const char *data_dir = ox_config_string(cfg, "server", "data");
	if (strcmp(driver, "postgres") == 0)
		return store_open(driver, ox_config_string(cfg, "store", "dsn"), err);
	char *path = g_build_filename(data_dir, "ox.db", NULL);
	struct store *store = store_open(driver, path, err);
	g_free(path);
	if (store != NULL) {
		char *blobs = g_build_filename(data_dir, "blobs", NULL);
		blob_set_directory(store, blobs);
		g_free(blobs);
	}
	return store;
}
