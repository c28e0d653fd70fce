/* oxctl: administration on the same configuration and store as oxd. */
#include "core/config.h"
#include "daemon/modules.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: oxctl [--config FILE] [--data DIR] [--set section.key=value]... COMMAND\n"
	        "commands:\n"
	        "  version                 print the version\n"
	        "  config check [FILE]     print the effective configuration or its problems\n"
	        "  config reference        print every option as a Markdown table\n");
}

/* Problems a valid file can still have: files it names that oxd will not
 * be able to read. Returns how many it printed. */
static int config_problems(const struct ox_config *cfg)
{
	static const struct {
		const char *section, *key;
		bool directory;
	} paths[] = {
		{"tls", "certificate", false},
		{"tls", "key", false},
		{"http", "web_root", true},
	};
	int problems = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
		const char *value = ox_config_string(cfg, paths[i].section, paths[i].key);
		if (*value == '\0')
			continue;
		bool ok = paths[i].directory ? g_file_test(value, G_FILE_TEST_IS_DIR)
		                             : access(value, R_OK) == 0;
		if (!ok) {
			fprintf(stderr, "problem: %s.%s: cannot read %s '%s'\n", paths[i].section,
			        paths[i].key, paths[i].directory ? "directory" : "file", value);
			problems++;
		}
	}
	return problems;
}

static int cmd_config_check(const char *path, const char *const *sets)
{
	char *error = NULL;
	struct ox_config *cfg = ox_config_load(path, sets, &error);
	if (cfg == NULL) {
		fprintf(stderr, "oxctl: %s\n", error);
		g_free(error);
		return 1;
	}
	char *dump = ox_config_dump(cfg);
	fputs(dump, stdout);
	g_free(dump);
	int problems = config_problems(cfg);
	ox_config_free(&cfg);
	return problems > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	GPtrArray *sets = g_ptr_array_new_with_free_func(g_free);
	int i = 1, ret = 2;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--config") == 0 && next != NULL)
			config_path = argv[++i];
		else if (strcmp(argv[i], "--data") == 0 && next != NULL)
			g_ptr_array_add(sets, g_strdup_printf("server.data=%s", argv[++i]));
		else if (strcmp(argv[i], "--set") == 0 && next != NULL)
			g_ptr_array_add(sets, g_strdup(argv[++i]));
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			ret = 0;
			goto out;
		} else {
			fprintf(stderr, "oxctl: unknown or incomplete option '%s'\n", argv[i]);
			goto out;
		}
	}
	g_ptr_array_add(sets, NULL);
	ox_modules_register();
	const char *const *set_list = (const char *const *)sets->pdata;
	int rest = argc - i;
	char **args = argv + i;
	if (rest == 1 && strcmp(args[0], "version") == 0) {
		printf("oxctl %s\n", OX_VERSION);
		ret = 0;
	} else if (rest >= 2 && rest <= 3 && strcmp(args[0], "config") == 0 &&
	           strcmp(args[1], "check") == 0) {
		ret = cmd_config_check(rest == 3 ? args[2] : config_path, set_list);
	} else if (rest == 2 && strcmp(args[0], "config") == 0 &&
	           strcmp(args[1], "reference") == 0) {
		char *ref = ox_config_reference();
		fputs(ref, stdout);
		g_free(ref);
		ret = 0;
	} else {
		if (rest > 0)
			fprintf(stderr, "oxctl: unknown command '%s'\n", args[0]);
		usage(stderr);
	}
out:
	g_ptr_array_unref(sets);
	return ret;
}
