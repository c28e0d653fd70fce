/* version, config check, config reference: no store involved. */
#include "core/config.h"
#include "ctl/ctl.h"

#include <unistd.h>

static int cmd_version(struct ctl *c)
{
	ctl_printf(c, "oxctl %s\n", OX_VERSION);
	return CTL_EXIT_OK;
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

static int cmd_config_check(struct ctl *c)
{
	const char *file = ctl_arg(c, "FILE");
	if (file != NULL)
		c->config_path = file;
	struct ox_config *cfg = ctl_config(c);
	if (cfg == NULL)
		return CTL_EXIT_CONFIG;
	char *dump = ox_config_dump(cfg);
	ctl_printf(c, "%s", dump);
	g_free(dump);
	return config_problems(cfg) > 0 ? CTL_EXIT_CONFIG : CTL_EXIT_OK;
}

static int cmd_config_reference(struct ctl *c)
{
	char *ref = ox_config_reference();
	ctl_printf(c, "%s", ref);
	g_free(ref);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_config_commands[] = {
	{"version", "", "Print the version.", cmd_version, 0},
	{"config check", "[FILE]", "Print the effective configuration, or its problems.",
         cmd_config_check, 0},
	{"config reference", "", "Print every option as a Markdown table.", cmd_config_reference,
         0},
	{NULL, NULL, NULL, NULL, 0},
};
