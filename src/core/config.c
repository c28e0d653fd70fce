#include "core/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct config_value {
	const struct ox_option *option;
	char *text;
	long long number; /* INT, SIZE, DURATION, BOOL */
	const char *source;
};

struct ox_config {
	char *path;
	char **overrides;
	GHashTable *values; /* "section.key" -> struct config_value */
};

static GPtrArray *option_tables; /* of const struct ox_option[] ranges */
static GHashTable *option_index; /* "section.key" -> const struct ox_option * */

void ox_config_register(const struct ox_option *options, size_t count)
{
	if (option_index == NULL)
		option_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (option_tables == NULL)
		option_tables = g_ptr_array_new();
	for (size_t i = 0; i < count; i++) {
		char *name = g_strdup_printf("%s.%s", options[i].section, options[i].key);
		if (g_hash_table_contains(option_index, name))
			g_error("configuration option %s registered twice", name);
		g_hash_table_insert(option_index, name, (gpointer)&options[i]);
		g_ptr_array_add(option_tables, (gpointer)&options[i]);
	}
}

void ox_config_unregister_all(void)
{
	g_clear_pointer(&option_index, g_hash_table_destroy);
	g_clear_pointer(&option_tables, g_ptr_array_unref);
}

int ox_parse_size(const char *text, long long *bytes_r)
{
	char *end;
	errno = 0;
	long long n = strtoll(text, &end, 10);
	if (errno != 0 || end == text || n < 0)
		return -1;
	long long mul = 1;
	if (g_ascii_strcasecmp(end, "k") == 0 || g_ascii_strcasecmp(end, "kb") == 0 ||
	    g_ascii_strcasecmp(end, "kib") == 0)
		mul = 1024;
	else if (g_ascii_strcasecmp(end, "m") == 0 || g_ascii_strcasecmp(end, "mb") == 0 ||
	         g_ascii_strcasecmp(end, "mib") == 0)
		mul = 1024 * 1024;
	else if (g_ascii_strcasecmp(end, "g") == 0 || g_ascii_strcasecmp(end, "gb") == 0 ||
	         g_ascii_strcasecmp(end, "gib") == 0)
		mul = 1024LL * 1024 * 1024;
	else if (*end != '\0')
		return -1;
	if (n > G_MAXINT64 / mul)
		return -1;
	*bytes_r = n * mul;
	return 0;
}

int ox_parse_duration_ms(const char *text, long long *ms_r)
{
	char *end;
	errno = 0;
	long long n = strtoll(text, &end, 10);
	if (errno != 0 || end == text || n < 0)
		return -1;
	long long mul;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else
		return -1;
	if (n > G_MAXINT64 / mul)
		return -1;
	*ms_r = n * mul;
	return 0;
}

int ox_parse_bool(const char *text, bool *value_r)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	return -1;
}

static void config_value_free(gpointer data)
{
	struct config_value *v = data;
	g_free(v->text);
	g_free(v);
}

/* Parses and checks one value; returns a new config_value or NULL with
 * *error_r set to "section.key: why". */
static struct config_value *value_parse(const struct ox_option *opt, const char *text,
                                        const char *source, char **error_r)
{
	long long number = 0;
	const char *what = NULL;
	bool flag;

	switch (opt->type) {
	case OX_OPT_STRING:
		break;
	case OX_OPT_INT: {
		char *end;
		errno = 0;
		number = strtoll(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0')
			what = "an integer";
		break;
	}
	case OX_OPT_BOOL:
		if (ox_parse_bool(text, &flag) < 0)
			what = "true or false";
		number = flag;
		break;
	case OX_OPT_SIZE:
		if (ox_parse_size(text, &number) < 0)
			what = "a size such as 4096, 64k or 10m";
		break;
	case OX_OPT_DURATION:
		if (ox_parse_duration_ms(text, &number) < 0)
			what = "a duration such as 30, 30s, 500ms or 5m";
		break;
	}
	if (what != NULL) {
		*error_r = g_strdup_printf("%s.%s: invalid value '%s' (expected %s)", opt->section,
		                           opt->key, text, what);
		return NULL;
	}
	if (opt->type != OX_OPT_STRING && opt->type != OX_OPT_BOOL &&
	    (opt->min != 0 || opt->max != 0) && (number < opt->min || number > opt->max)) {
		*error_r = g_strdup_printf("%s.%s: value '%s' out of range", opt->section, opt->key,
		                           text);
		return NULL;
	}
	if (opt->validate != NULL) {
		char *why = NULL;
		if (opt->validate(text, &why) < 0) {
			*error_r = g_strdup_printf("%s.%s: invalid value '%s': %s", opt->section,
			                           opt->key, text, why != NULL ? why : "rejected");
			g_free(why);
			return NULL;
		}
	}
	struct config_value *v = g_new0(struct config_value, 1);
	v->option = opt;
	v->text = g_strdup(text);
	v->number = number;
	v->source = source;
	return v;
}

static int config_set(struct ox_config *cfg, const char *section, const char *key, const char *text,
                      const char *source, char **error_r)
{
	char *name = g_strdup_printf("%s.%s", section, key);
	const struct ox_option *opt =
		option_index != NULL ? g_hash_table_lookup(option_index, name) : NULL;
	if (opt == NULL) {
		*error_r = g_strdup_printf("unknown configuration option %s (%s)", name, source);
		g_free(name);
		return -1;
	}
	struct config_value *v = value_parse(opt, text, source, error_r);
	if (v == NULL) {
		g_free(name);
		return -1;
	}
	g_hash_table_replace(cfg->values, name, v);
	return 0;
}

static int config_load_file(struct ox_config *cfg, const char *path, char **error_r)
{
	GError *gerr = NULL;
	GKeyFile *kf = g_key_file_new();
	int ret = -1;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
		*error_r = g_strdup_printf("%s: %s", path, gerr->message);
		goto out;
	}
	gchar **sections = g_key_file_get_groups(kf, NULL);
	for (gchar **s = sections; *s != NULL; s++) {
		gchar **keys = g_key_file_get_keys(kf, *s, NULL, NULL);
		for (gchar **k = keys; keys != NULL && *k != NULL; k++) {
			/* Raw values: GKeyFile escapes would turn "C:\x" into surprises. */
			gchar *text = g_key_file_get_value(kf, *s, *k, NULL);
			char *why = NULL;
			gchar *stripped = g_strstrip(g_strdup(text));
			int r = config_set(cfg, *s, *k, stripped, "file", &why);
			g_free(stripped);
			g_free(text);
			if (r < 0) {
				*error_r = g_strdup_printf("%s: %s", path, why);
				g_free(why);
				g_strfreev(keys);
				g_strfreev(sections);
				goto out;
			}
		}
		g_strfreev(keys);
	}
	g_strfreev(sections);
	ret = 0;
out:
	g_clear_error(&gerr);
	g_key_file_free(kf);
	return ret;
}

static int config_apply_override(struct ox_config *cfg, const char *item, char **error_r)
{
	const char *eq = strchr(item, '=');
	const char *dot = strchr(item, '.');
	if (eq == NULL || dot == NULL || dot > eq || dot == item || dot + 1 == eq) {
		*error_r = g_strdup_printf("--set %s: expected section.key=value", item);
		return -1;
	}
	char *section = g_strndup(item, (size_t)(dot - item));
	char *key = g_strndup(dot + 1, (size_t)(eq - dot - 1));
	int ret = config_set(cfg, section, key, eq + 1, "--set", error_r);
	g_free(section);
	g_free(key);
	return ret;
}

struct ox_config *ox_config_load(const char *path, const char *const *overrides, char **error_r)
{
	struct ox_config *cfg = g_new0(struct ox_config, 1);
	cfg->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, config_value_free);
	cfg->path = g_strdup(path);
	cfg->overrides = g_strdupv((gchar **)overrides);

	for (guint i = 0; option_tables != NULL && i < option_tables->len; i++) {
		const struct ox_option *opt = g_ptr_array_index(option_tables, i);
		if (config_set(cfg, opt->section, opt->key, opt->default_value, "default",
		               error_r) < 0)
			g_error("bad default for %s.%s: %s", opt->section, opt->key, *error_r);
	}
	if (path != NULL && config_load_file(cfg, path, error_r) < 0)
		goto fail;
	for (size_t i = 0; overrides != NULL && overrides[i] != NULL; i++) {
		if (config_apply_override(cfg, overrides[i], error_r) < 0)
			goto fail;
	}
	return cfg;
fail:
	ox_config_free(&cfg);
	return NULL;
}

void ox_config_free(struct ox_config **cfgp)
{
	struct ox_config *cfg = *cfgp;
	if (cfg == NULL)
		return;
	*cfgp = NULL;
	g_hash_table_destroy(cfg->values);
	g_strfreev(cfg->overrides);
	g_free(cfg->path);
	g_free(cfg);
}

static const struct config_value *lookup(const struct ox_config *cfg, const char *section,
                                         const char *key)
{
	char name[128];
	g_snprintf(name, sizeof(name), "%s.%s", section, key);
	const struct config_value *v = g_hash_table_lookup(cfg->values, name);
	if (v == NULL)
		g_error("configuration option %s is not registered", name);
	return v;
}

const char *ox_config_string(const struct ox_config *cfg, const char *section, const char *key)
{
	return lookup(cfg, section, key)->text;
}

long long ox_config_int(const struct ox_config *cfg, const char *section, const char *key)
{
	const struct config_value *v = lookup(cfg, section, key);
	g_assert(v->option->type != OX_OPT_STRING);
	return v->number;
}

bool ox_config_bool(const struct ox_config *cfg, const char *section, const char *key)
{
	const struct config_value *v = lookup(cfg, section, key);
	g_assert(v->option->type == OX_OPT_BOOL);
	return v->number != 0;
}

const char *ox_config_path(const struct ox_config *cfg)
{
	return cfg->path;
}

const char *const *ox_config_overrides(const struct ox_config *cfg)
{
	return (const char *const *)cfg->overrides;
}

static gint option_compare(gconstpointer a, gconstpointer b)
{
	const struct ox_option *x = *(const struct ox_option *const *)a;
	const struct ox_option *y = *(const struct ox_option *const *)b;
	int c = strcmp(x->section, y->section);
	return c != 0 ? c : strcmp(x->key, y->key);
}

static GPtrArray *sorted_options(void)
{
	GPtrArray *sorted = g_ptr_array_new();
	for (guint i = 0; option_tables != NULL && i < option_tables->len; i++)
		g_ptr_array_add(sorted, g_ptr_array_index(option_tables, i));
	g_ptr_array_sort(sorted, option_compare);
	return sorted;
}

char *ox_config_dump(const struct ox_config *cfg)
{
	GString *out = g_string_new(NULL);
	GPtrArray *sorted = sorted_options();
	const char *section = NULL;
	for (guint i = 0; i < sorted->len; i++) {
		const struct ox_option *opt = g_ptr_array_index(sorted, i);
		if (section == NULL || strcmp(section, opt->section) != 0) {
			g_string_append_printf(out, "%s[%s]\n", section != NULL ? "\n" : "",
			                       opt->section);
			section = opt->section;
		}
		const struct config_value *v = lookup(cfg, opt->section, opt->key);
		g_string_append_printf(out, "%s = %s", opt->key, v->text);
		if (strcmp(v->source, "default") != 0)
			g_string_append_printf(out, "    # from %s", v->source);
		g_string_append_c(out, '\n');
	}
	g_ptr_array_unref(sorted);
	return g_string_free(out, FALSE);
}

char *ox_config_reference(void)
{
	static const char *const type_names[] = {
		[OX_OPT_STRING] = "string",     [OX_OPT_INT] = "integer",
		[OX_OPT_BOOL] = "boolean",      [OX_OPT_SIZE] = "size",
		[OX_OPT_DURATION] = "duration",
	};
	GString *out = g_string_new("| option | type | default | meaning |\n|---|---|---|---|\n");
	GPtrArray *sorted = sorted_options();
	for (guint i = 0; i < sorted->len; i++) {
		const struct ox_option *opt = g_ptr_array_index(sorted, i);
		g_string_append_printf(out, "| `%s.%s` | %s | %s%s%s | %s |\n", opt->section,
		                       opt->key, type_names[opt->type],
		                       *opt->default_value != '\0' ? "`" : "",
		                       *opt->default_value != '\0' ? opt->default_value : "(empty)",
		                       *opt->default_value != '\0' ? "`" : "", opt->doc);
	}
	g_ptr_array_unref(sorted);
	return g_string_free(out, FALSE);
}
