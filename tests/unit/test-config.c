/* Configuration: defaults, file, --set overrides, typed values, errors that
 * name the option at fault. */
#include "core/config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static const struct ox_option test_options[] = {
	{"alpha", "name", OX_OPT_STRING, "default-name", 0, 0, NULL, "A string."},
	{"alpha", "count", OX_OPT_INT, "3", 1, 10, NULL, "An integer from 1 to 10."},
	{"alpha", "enabled", OX_OPT_BOOL, "false", 0, 0, NULL, "A flag."},
	{"beta", "size", OX_OPT_SIZE, "16k", 0, 0, NULL, "A size."},
	{"beta", "timeout", OX_OPT_DURATION, "30s", 0, 0, NULL, "A duration."},
};

static void setup(void)
{
	ox_config_unregister_all();
	ox_config_register(test_options, G_N_ELEMENTS(test_options));
}

static char *write_file(const char *text)
{
	char *path = NULL;
	int fd = g_file_open_tmp("ox-config-XXXXXX.ini", &path, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	close(fd);
	return path;
}

static void test_defaults(void)
{
	setup();
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(NULL, NULL, &error);
	g_assert_nonnull(cfg);
	g_assert_cmpstr(ox_config_string(cfg, "alpha", "name"), ==, "default-name");
	g_assert_cmpint(ox_config_int(cfg, "alpha", "count"), ==, 3);
	g_assert_false(ox_config_bool(cfg, "alpha", "enabled"));
	g_assert_cmpint(ox_config_int(cfg, "beta", "size"), ==, 16384);
	g_assert_cmpint(ox_config_int(cfg, "beta", "timeout"), ==, 30000);
	ox_config_free(&cfg);
	g_assert_null(cfg);
}

static void test_file_and_overrides(void)
{
	setup();
	char *path = write_file("[alpha]\nname = from file\ncount = 5\n[beta]\nsize = 2m\n");
	const char *sets[] = {"alpha.count=7", "beta.timeout=250ms", NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(path, sets, &error);
	g_assert_null(error);
	g_assert_nonnull(cfg);
	g_assert_cmpstr(ox_config_string(cfg, "alpha", "name"), ==, "from file");
	g_assert_cmpint(ox_config_int(cfg, "alpha", "count"), ==, 7);
	g_assert_cmpint(ox_config_int(cfg, "beta", "size"), ==, 2 * 1024 * 1024);
	g_assert_cmpint(ox_config_int(cfg, "beta", "timeout"), ==, 250);
	char *dump = ox_config_dump(cfg);
	g_assert_nonnull(strstr(dump, "count = 7    # from --set"));
	g_assert_nonnull(strstr(dump, "name = from file    # from file"));
	g_free(dump);
	ox_config_free(&cfg);
	g_unlink(path);
	g_free(path);
}

static void expect_error(const char *file_text, const char *set, const char *needle)
{
	setup();
	char *path = file_text != NULL ? write_file(file_text) : NULL;
	const char *sets[] = {set, NULL};
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(path, sets, &error);
	g_assert_null(cfg);
	g_assert_nonnull(error);
	if (strstr(error, needle) == NULL)
		g_error("error '%s' does not mention '%s'", error, needle);
	g_free(error);
	if (path != NULL) {
		g_unlink(path);
		g_free(path);
	}
}

static void test_errors(void)
{
	expect_error("[alpha]\nnope = 1\n", NULL, "alpha.nope");
	expect_error("[gamma]\nname = x\n", NULL, "gamma.name");
	expect_error("[alpha]\ncount = many\n", NULL, "alpha.count");
	expect_error("[alpha]\ncount = 11\n", NULL, "out of range");
	expect_error("[alpha\n", NULL, "ox-config-");
	expect_error(NULL, "alpha.enabled=perhaps", "alpha.enabled");
	expect_error(NULL, "beta.size=12q", "beta.size");
	expect_error(NULL, "beta.timeout=soon", "beta.timeout");
	expect_error(NULL, "noequals", "section.key=value");
	expect_error(NULL, "alpha.missing=1", "alpha.missing");
}

static void test_unreadable_file(void)
{
	setup();
	char *error = NULL;
	struct ox_config *cfg = ox_config_load("/nonexistent/ox.ini", NULL, &error);
	g_assert_null(cfg);
	g_assert_nonnull(strstr(error, "/nonexistent/ox.ini"));
	g_free(error);
}

static void test_parsers(void)
{
	long long v;
	g_assert_cmpint(ox_parse_size("0", &v), ==, 0);
	g_assert_cmpint(v, ==, 0);
	g_assert_cmpint(ox_parse_size("1G", &v), ==, 0);
	g_assert_cmpint(v, ==, 1024LL * 1024 * 1024);
	g_assert_cmpint(ox_parse_size("-1", &v), ==, -1);
	g_assert_cmpint(ox_parse_size("99999999999999999999k", &v), ==, -1);
	g_assert_cmpint(ox_parse_duration_ms("2m", &v), ==, 0);
	g_assert_cmpint(v, ==, 120000);
	g_assert_cmpint(ox_parse_duration_ms("1h", &v), ==, 0);
	g_assert_cmpint(v, ==, 3600000);
	g_assert_cmpint(ox_parse_duration_ms("5x", &v), ==, -1);
	bool b;
	g_assert_cmpint(ox_parse_bool("Yes", &b), ==, 0);
	g_assert_true(b);
	g_assert_cmpint(ox_parse_bool("off", &b), ==, 0);
	g_assert_false(b);
	g_assert_cmpint(ox_parse_bool("2", &b), ==, -1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/file-and-overrides", test_file_and_overrides);
	g_test_add_func("/config/errors", test_errors);
	g_test_add_func("/config/unreadable-file", test_unreadable_file);
	g_test_add_func("/config/parsers", test_parsers);
	return g_test_run();
}
