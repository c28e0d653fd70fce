/* group create, add, remove, list, delete. */
#include "ctl/ctl.h"
#include "directory/directory.h"

static int cmd_group_create(struct ctl *c)
{
	const char *context = ctl_arg(c, "CONTEXT"), *name = ctl_arg(c, "NAME");
	int64_t id;
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	ctl_audit_target(c, "%s/%s", context, name);
	if (group_create(s, context, name, ctl_arg(c, "--name"), &id, &c->err) < 0)
		return ctl_fail(c);
	ctl_printf(c, "group %s created in %s (id %" G_GINT64_FORMAT ")\n", name, context, id);
	return CTL_EXIT_OK;
}

static int change_member(struct ctl *c, bool add)
{
	const char *context = ctl_arg(c, "CONTEXT"), *group = ctl_arg(c, "GROUP");
	const char *login = ctl_arg(c, "LOGIN");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	ctl_audit_target(c, "%s/%s", context, group);
	ctl_audit_detail(c, "member=%s", login);
	int r = add ? group_add_member(s, context, group, login, &c->err)
	            : group_remove_member(s, context, group, login, &c->err);
	if (r < 0)
		return ctl_fail(c);
	ctl_printf(c, "%s %s group %s\n", login, add ? "added to" : "removed from", group);
	return CTL_EXIT_OK;
}

static int cmd_group_add(struct ctl *c)
{
	return change_member(c, true);
}

static int cmd_group_remove(struct ctl *c)
{
	return change_member(c, false);
}

static json_t *members_json(struct ctl_names *names, const int64_t *members)
{
	json_t *a = json_array();
	for (const int64_t *m = members; *m != 0; m++) {
		const char *login = ctl_names_plain(names, *m);
		json_array_append_new(a, json_string(login != NULL ? login : "?"));
	}
	return a;
}

static void print_groups(struct ctl *c, struct group_info **list, struct ctl_names *names)
{
	struct ctl_table *t = ctl_table_new(3);
	ctl_table_add(t, "NAME", "DISPLAY NAME", "MEMBERS");
	for (struct group_info **g = list; *g != NULL; g++) {
		GString *members = g_string_new(NULL);
		for (const int64_t *m = (*g)->members; *m != 0; m++) {
			const char *login = ctl_names_plain(names, *m);
			g_string_append_printf(members, "%s%s", m != (*g)->members ? "," : "",
			                       login != NULL ? login : "?");
		}
		ctl_table_add(t, (*g)->name, (*g)->display_name,
		              members->len > 0 ? members->str : NULL);
		g_string_free(members, TRUE);
	}
	ctl_table_print(c, &t);
}

static int cmd_group_list(struct ctl *c)
{
	const char *context = ctl_arg(c, "CONTEXT");
	struct group_info **list = NULL;
	struct context_info info;
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	int found = context_lookup(s, context, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no context %s", context);
	if (found <= 0)
		return ctl_fail(c);
	context_info_clear(&info);
	struct ctl_names *names = ctl_names_load(c, context);
	if (names == NULL || group_list(s, context, &list, &c->err) < 0) {
		ctl_names_free(&names);
		return ctl_fail(c);
	}
	int r = CTL_EXIT_OK;
	if (ctl_flag(c, "--json")) {
		json_t *out = json_array();
		for (struct group_info **g = list; *g != NULL; g++)
			json_array_append_new(
				out, json_pack("{sI ss ss so}", "id", (json_int_t)(*g)->id, "name",
			                       (*g)->name, "display_name", (*g)->display_name,
			                       "members", members_json(names, (*g)->members)));
		r = ctl_print_json(c, out);
	} else {
		print_groups(c, list, names);
	}
	group_list_free(&list);
	ctl_names_free(&names);
	return r;
}

static int cmd_group_delete(struct ctl *c)
{
	const char *context = ctl_arg(c, "CONTEXT"), *name = ctl_arg(c, "NAME");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	ctl_audit_target(c, "%s/%s", context, name);
	if (group_delete(s, context, name, &c->err) < 0)
		return ctl_fail(c);
	ctl_printf(c, "group %s deleted, with every share naming it\n", name);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_group_commands[] = {
	{"group create", "CONTEXT NAME [--name DISPLAY]", "Create a group in a context.",
         cmd_group_create, CTL_WRITE},
	{"group add", "CONTEXT GROUP LOGIN", "Add a user of the context to a group.", cmd_group_add,
         CTL_WRITE},
	{"group remove", "CONTEXT GROUP LOGIN", "Remove a user from a group.", cmd_group_remove,
         CTL_WRITE},
	{"group list", "CONTEXT [--json]", "List a context's groups with their members.",
         cmd_group_list, 0},
	{"group delete", "CONTEXT NAME", "Delete a group and every share naming it.",
         cmd_group_delete, CTL_WRITE},
	{NULL, NULL, NULL, NULL, 0},
};
