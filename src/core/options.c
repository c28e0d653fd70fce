/* Options of the core: where data lives and how much is logged. */
#include "core/options.h"
#include "core/config.h"
#include "core/log.h"

static int validate_level(const char *value, char **error_r)
{
	enum ox_log_level level;
	if (ox_log_level_parse(value, &level) == 0)
		return 0;
	*error_r = g_strdup("expected debug, info, warn or error");
	return -1;
}

static const struct ox_option core_options[] = {
	{"server", "data", OX_OPT_STRING, "data", 0, 0, NULL,
         "Data directory (store, blobs, generated certificate); --data sets it too."},
	{"log", "level", OX_OPT_STRING, "info", 0, 0, validate_level,
         "Least severe level logged: debug, info, warn or error."},
};

void ox_core_register_options(void)
{
	ox_config_register(core_options, G_N_ELEMENTS(core_options));
}

void ox_core_configure(const struct ox_config *cfg)
{
	enum ox_log_level level = OX_LOG_INFO;
	ox_log_level_parse(ox_config_string(cfg, "log", "level"), &level);
	ox_log_set_level(level);
}
