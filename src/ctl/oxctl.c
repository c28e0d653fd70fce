/* oxctl: administration on the same configuration and store as oxd. This
 * file finds the command in the tables, parses its arguments from its
 * synopsis and runs it; the commands live in ctl-*.c. */
#include "ctl/ctl.h"
#include "daemon/modules.h"

#include <stdarg.h>
#include <string.h>

static const struct ctl_command *const tables[] = {
	ctl_config_commands,   ctl_context_commands, ctl_user_commands,         ctl_group_commands,
	ctl_resource_commands, ctl_folder_commands,  ctl_app_password_commands, ctl_audit_commands,
	ctl_ldap_commands,     ctl_import_commands,  ctl_calendar_commands,     ctl_file_commands,
};

static const char global_usage[] =
	"usage: oxctl [--config FILE] [--data DIR] [--set section.key=value]... COMMAND [ARG]...\n";

static const char exit_codes[] =
	"exit codes:\n"
	"  0 success            1 configuration problem  2 usage error\n"
	"  3 invalid input      4 not found              5 already exists (or conflicts)\n"
	"  6 permission denied  7 store failure or busy (try again)\n"
	"  8 quota or limit reached\n"
	"errors are one line on stderr: \"oxctl: <message>\"\n";

static void help(FILE *out)
{
	fputs(global_usage, out);
	fputs("\ncommands:\n", out);
	for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
		for (const struct ctl_command *cmd = tables[t]; cmd->words != NULL; cmd++)
			fprintf(out, "  %s%s%s\n      %s\n", cmd->words,
			        *cmd->synopsis != '\0' ? " " : "", cmd->synopsis, cmd->summary);
	}
	fputc('\n', out);
	fputs(exit_codes, out);
}

/* How many leading args spell the command's words; 0 when they do not. */
static int words_match(const char *words, int argc, char **argv)
{
	gchar **w = g_strsplit(words, " ", -1);
	int n = (int)g_strv_length(w), i = 0;
	while (i < n && i < argc && strcmp(w[i], argv[i]) == 0)
		i++;
	g_strfreev(w);
	return i == n ? n : 0;
}

static const struct ctl_command *find_command(int argc, char **argv, int *used_r)
{
	const struct ctl_command *best = NULL;
	*used_r = 0;
	for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
		for (const struct ctl_command *cmd = tables[t]; cmd->words != NULL; cmd++) {
			int n = words_match(cmd->words, argc, argv);
			if (n > *used_r) {
				best = cmd;
				*used_r = n;
			}
		}
	}
	return best;
}

/* Names the unknown command and lists those that share its first word. */
static int unknown_command(int argc, char **argv)
{
	if (argc == 0) {
		fputs(global_usage, stderr);
		fputs("oxctl --help lists the commands\n", stderr);
		return CTL_EXIT_USAGE;
	}
	int related = 0;
	for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
		for (const struct ctl_command *cmd = tables[t]; cmd->words != NULL; cmd++) {
			size_t len = strlen(argv[0]);
			if (strncmp(cmd->words, argv[0], len) != 0 || cmd->words[len] != ' ')
				continue;
			if (related++ == 0 && argc == 1)
				fprintf(stderr, "oxctl: incomplete command '%s'\n", argv[0]);
			else if (related == 1)
				fprintf(stderr, "oxctl: unknown command '%s %s'\n", argv[0],
				        argv[1]);
			ctl_print_usage(cmd, stderr);
		}
	}
	if (related == 0) {
		fprintf(stderr, "oxctl: unknown command '%s'\n", argv[0]);
		fputs(global_usage, stderr);
	}
	return CTL_EXIT_USAGE;
}

/* Turns the synopsis into argument slots (see struct ctl_command). */
static void parse_synopsis(struct ctl *c)
{
	gchar **tok = g_strsplit(c->cmd->synopsis, " ", -1);
	for (int i = 0; tok[i] != NULL; i++) {
		char *t = tok[i];
		if (*t == '\0')
			continue;
		g_assert(c->nargs < CTL_MAX_ARGS);
		struct ctl_arg *a = &c->args[c->nargs++];
		bool optional = *t == '[';
		t += optional;
		size_t len = strlen(t);
		bool closed = len > 0 && t[len - 1] == ']';
		if (closed)
			t[len - 1] = '\0';
		a->name = g_intern_string(t);
		a->option = t[0] == '-';
		a->required = !optional;
		const char *next = tok[i + 1];
		bool has_value = a->option && next != NULL &&
		                 (optional ? !closed : next[0] != '-' && next[0] != '[');
		if (has_value) {
			char *v = tok[++i];
			size_t vlen = strlen(v);
			if (vlen > 0 && v[vlen - 1] == ']')
				v[vlen - 1] = '\0';
			a->metavar = g_intern_string(v);
		}
	}
	g_strfreev(tok);
}

static int usage_error(const struct ctl *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int usage_error(const struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "oxctl: %s\n", msg);
	ctl_print_usage(c->cmd, stderr);
	g_free(msg);
	return CTL_EXIT_USAGE;
}

static struct ctl_arg *find_option(struct ctl *c, const char *name, size_t len)
{
	for (int i = 0; i < c->nargs; i++) {
		if (c->args[i].option && strlen(c->args[i].name) == len &&
		    strncmp(c->args[i].name, name, len) == 0)
			return &c->args[i];
	}
	return NULL;
}

static struct ctl_arg *nth_positional(struct ctl *c, int n)
{
	for (int i = 0; i < c->nargs; i++) {
		if (!c->args[i].option && n-- == 0)
			return &c->args[i];
	}
	return NULL;
}

static int take_option(struct ctl *c, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	struct ctl_arg *a = find_option(c, arg, len);
	if (a == NULL)
		return usage_error(c, "unknown option '%.*s'", (int)len, arg);
	if (a->metavar == NULL) {
		if (eq != NULL)
			return usage_error(c, "%s takes no value", a->name);
		a->value = "";
	} else if (eq != NULL) {
		a->value = eq + 1;
	} else if (*i + 1 < argc) {
		a->value = argv[++*i];
	} else {
		return usage_error(c, "%s needs a value (%s)", a->name, a->metavar);
	}
	return 0;
}

static int parse_args(struct ctl *c, int argc, char **argv)
{
	bool options_done = false;
	int npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
		} else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			int r = take_option(c, argc, argv, &i);
			if (r != 0)
				return r;
		} else {
			struct ctl_arg *a = nth_positional(c, npos++);
			if (a == NULL)
				return usage_error(c, "unexpected argument '%s'", arg);
			a->value = arg;
		}
	}
	for (int i = 0; i < c->nargs; i++) {
		const struct ctl_arg *a = &c->args[i];
		if (a->required && a->value == NULL)
			return usage_error(c, "missing %s%s%s", a->name, a->metavar ? " " : "",
			                   a->metavar ? a->metavar : "");
	}
	return 0;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

static int run(struct ctl *c, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "help") == 0) {
		help(stdout);
		return CTL_EXIT_OK;
	}
	int used;
	c->cmd = find_command(argc, argv, &used);
	if (c->cmd == NULL)
		return unknown_command(argc, argv);
	parse_synopsis(c);
	argc -= used;
	argv += used;
	if (wants_help(argc, argv)) {
		ctl_print_usage(c->cmd, stdout);
		printf("  %s\n", c->cmd->summary);
		return CTL_EXIT_OK;
	}
	int r = parse_args(c, argc, argv);
	if (r != 0)
		return r;
	return ctl_finish(c, c->cmd->run(c));
}

int main(int argc, char **argv)
{
	struct ctl c = {0};
	GPtrArray *sets = g_ptr_array_new_with_free_func(g_free);
	int i = 1, ret = CTL_EXIT_USAGE;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--config") == 0 && next != NULL)
			c.config_path = argv[++i];
		else if (strcmp(argv[i], "--data") == 0 && next != NULL)
			g_ptr_array_add(sets, g_strdup_printf("server.data=%s", argv[++i]));
		else if (strcmp(argv[i], "--set") == 0 && next != NULL)
			g_ptr_array_add(sets, g_strdup(argv[++i]));
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help(stdout);
			ret = CTL_EXIT_OK;
			goto out;
		} else {
			fprintf(stderr, "oxctl: unknown or incomplete option '%s'\n", argv[i]);
			fputs(global_usage, stderr);
			goto out;
		}
	}
	g_ptr_array_add(sets, NULL);
	ox_modules_register();
	c.sets = (const char *const *)sets->pdata;
	c.out = g_string_new(NULL);
	ret = run(&c, argc - i, argv + i);
	g_string_free(c.out, TRUE);
out:
	g_ptr_array_unref(sets);
	return ret;
}
