/* Configuration: one INI file read through GKeyFile, overridden by
 * `--set section.key=value`. Every option is declared once, in a table
 * registered by the layer that owns it; the parser, the validation, the
 * effective-configuration dump and the reference page all come from those
 * tables. Unknown sections or keys are errors that name them. */
#ifndef OX_CORE_CONFIG_H
#define OX_CORE_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

enum ox_option_type {
	OX_OPT_STRING,
	OX_OPT_INT,
	OX_OPT_BOOL,
	OX_OPT_SIZE,     /* bytes; accepts k, m, g suffixes (powers of 1024) */
	OX_OPT_DURATION, /* milliseconds; accepts ms, s, m, h; bare number = seconds */
};

struct ox_option {
	const char *section;
	const char *key;
	enum ox_option_type type;
	const char *default_value; /* in the same text form as the file */
	long long min, max;        /* numeric types; both 0 = unbounded */
	/* Optional extra check of the text value; on failure returns -1 and sets
	 * *error_r to a newly allocated message (without the option's name). */
	int (*validate)(const char *value, char **error_r);
	const char *doc;
};

struct ox_config;

/* Makes a table of options known; the table must outlive the process.
 * Registering the same section.key twice is a programming error (abort). */
void ox_config_register(const struct ox_option *options, size_t count);

/* Forgets every registered table (for tests). */
void ox_config_unregister_all(void);

/* Loads `path` (NULL: defaults only) and applies `overrides`, a
 * NULL-terminated array of "section.key=value" (may be NULL). On error
 * returns NULL and sets *error_r to a message naming the file, line or
 * option at fault. */
struct ox_config *ox_config_load(const char *path, const char *const *overrides, char **error_r);

void ox_config_free(struct ox_config **cfg);

/* Typed accessors. Asking for an unregistered option or the wrong type is a
 * programming error (abort), not a runtime condition. */
const char *ox_config_string(const struct ox_config *cfg, const char *section, const char *key);
long long ox_config_int(const struct ox_config *cfg, const char *section, const char *key);
bool ox_config_bool(const struct ox_config *cfg, const char *section, const char *key);

/* Path of the file the configuration came from, or NULL. */
const char *ox_config_path(const struct ox_config *cfg);
/* The overrides it was loaded with, for a reload that must keep them. */
const char *const *ox_config_overrides(const struct ox_config *cfg);

/* The effective configuration as INI text, each value annotated with where
 * it came from (default, file, --set). Caller frees. */
char *ox_config_dump(const struct ox_config *cfg);

/* A Markdown reference of every registered option. Caller frees. */
char *ox_config_reference(void);

/* Value parsers shared with callers that take sizes or durations elsewhere.
 * Return 0 or -1. */
int ox_parse_size(const char *text, long long *bytes_r);
int ox_parse_duration_ms(const char *text, long long *ms_r);
int ox_parse_bool(const char *text, bool *value_r);

#endif
