/* context create, list, delete. */
#include "ctl/ctl.h"
#include "directory/directory.h"

static int cmd_context_create(struct ctl *c)
{
	int64_t quota = 0, id;
	const char *quota_text = ctl_arg(c, "--quota");
	if (quota_text != NULL && ctl_parse_size(c, quota_text, &quota) < 0)
		return ctl_fail(c);
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	const char *name = ctl_arg(c, "NAME"), *domain = ctl_arg(c, "--domain");
	if (context_create(s, name, domain, quota, &id, &c->err) < 0)
		return ctl_fail(c);
	ctl_audit_detail(c, "domain=%s quota=%" G_GINT64_FORMAT, domain, quota);
	ctl_printf(c, "context %s created (id %" G_GINT64_FORMAT ")\n", name, id);
	return CTL_EXIT_OK;
}

static json_t *context_json(const struct context_info *info)
{
	json_t *domains = json_array();
	for (char **d = info->domains; *d != NULL; d++)
		json_array_append_new(domains, json_string(*d));
	return json_pack("{sI ss so sI}", "id", (json_int_t)info->id, "name", info->name, "domains",
	                 domains, "quota_bytes", (json_int_t)info->quota_bytes);
}

static int cmd_context_list(struct ctl *c)
{
	struct context_info **list = NULL;
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (context_list(s, &list, &c->err) < 0)
		return ctl_fail(c);
	if (ctl_flag(c, "--json")) {
		json_t *out = json_array();
		for (struct context_info **i = list; *i != NULL; i++)
			json_array_append_new(out, context_json(*i));
		context_list_free(&list);
		return ctl_print_json(c, out);
	}
	struct ctl_table *t = ctl_table_new(4);
	ctl_table_add(t, "ID", "NAME", "DOMAINS", "QUOTA");
	for (struct context_info **i = list; *i != NULL; i++) {
		char *id = g_strdup_printf("%" G_GINT64_FORMAT, (*i)->id);
		char *domains = g_strjoinv(",", (*i)->domains);
		char *quota = ctl_format_quota((*i)->quota_bytes);
		ctl_table_add(t, id, (*i)->name, domains, quota);
		g_free(id);
		g_free(domains);
		g_free(quota);
	}
	ctl_table_print(c, &t);
	context_list_free(&list);
	return CTL_EXIT_OK;
}

static int cmd_context_delete(struct ctl *c)
{
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	const char *name = ctl_arg(c, "NAME");
	if (context_delete(s, name, &c->err) < 0)
		return ctl_fail(c);
	ctl_printf(c, "context %s deleted, with its users, groups, resources and folders\n", name);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_context_commands[] = {
	{"context create", "NAME --domain DOMAIN [--quota SIZE]",
         "Create a context (tenant) with its first mail domain; --quota 0 is unlimited.",
         cmd_context_create, CTL_WRITE},
	{"context list", "[--json]", "List the contexts.", cmd_context_list, 0},
	{"context delete", "NAME", "Delete a context and everything in it.", cmd_context_delete,
         CTL_WRITE},
	{NULL, NULL, NULL, NULL, 0},
};
