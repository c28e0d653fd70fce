/* oxctl: administration on the same configuration and store as oxd. */
#include "core/config.h"
#include "daemon/modules.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: oxctl [--config FILE] [--data DIR] [--set section.key=value]... COMMAND\n"
	        "commands:\n"
	        "  version                 print the version\n"
	        "  config check [FILE]     print the effective configuration or its problems\n"
	        "  config reference        print every option as a Markdown table\n");
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
	ox_config_free(&cfg);
	return 0;
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
