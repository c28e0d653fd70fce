/* resource create, list. */
#include "ctl/ctl.h"
#include "directory/directory.h"

static int cmd_resource_create(struct ctl *c)
{
	const char *context = ctl_arg(c, "CONTEXT"), *name = ctl_arg(c, "NAME");
	const char *manager = ctl_arg(c, "--manager");
	bool room = !ctl_flag(c, "--equipment");
	/* A managed resource waits for its manager; any other accepts when free. */
	enum resource_booking booking = manager != NULL ? BOOKING_MANAGER : BOOKING_AUTO_ACCEPT;
	int64_t id;
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	ctl_audit_target(c, "%s/%s", context, name);
	ctl_audit_detail(c, "kind=%s booking=%s%s%s", room ? "room" : "equipment",
	                 manager != NULL ? "manager" : "auto-accept",
	                 manager != NULL ? " manager=" : "", manager != NULL ? manager : "");
	if (resource_create(s, context, name, ctl_arg(c, "--name"), room, booking, manager, &id,
	                    &c->err) < 0)
		return ctl_fail(c);
	ctl_printf(c, "%s %s created in %s (id %" G_GINT64_FORMAT ")\n",
	           room ? "room" : "equipment", name, context, id);
	return CTL_EXIT_OK;
}

static const char *booking_name(enum resource_booking b)
{
	return b == BOOKING_MANAGER ? "manager" : "auto-accept";
}

static int cmd_resource_list(struct ctl *c)
{
	const char *context = ctl_arg(c, "CONTEXT");
	struct resource_info **list = NULL;
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	struct ctl_names *names = NULL;
	struct context_info info;
	int found = context_lookup(s, context, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no context %s", context);
	if (found <= 0)
		return ctl_fail(c);
	context_info_clear(&info);
	if ((names = ctl_names_load(c, context)) == NULL ||
	    resource_list(s, context, &list, &c->err) < 0) {
		ctl_names_free(&names);
		return ctl_fail(c);
	}
	int r = CTL_EXIT_OK;
	json_t *out = json_array();
	struct ctl_table *t = ctl_table_new(5);
	ctl_table_add(t, "NAME", "KIND", "ADDRESS", "BOOKING", "MANAGER");
	for (struct resource_info **i = list; *i != NULL; i++) {
		const char *kind = (*i)->is_room ? "room" : "equipment";
		const char *manager =
			(*i)->manager_id != 0 ? ctl_names_plain(names, (*i)->manager_id) : NULL;
		json_array_append_new(
			out, json_pack("{sI ss ss ss ss ss ss?}", "id", (json_int_t)(*i)->id,
		                       "name", (*i)->name, "display_name", (*i)->display_name,
		                       "kind", kind, "address", (*i)->address, "booking",
		                       booking_name((*i)->booking), "manager", manager));
		ctl_table_add(t, (*i)->name, kind, (*i)->address, booking_name((*i)->booking),
		              manager);
	}
	if (ctl_flag(c, "--json")) {
		r = ctl_print_json(c, out);
		ctl_table_free(&t);
	} else {
		json_decref(out);
		ctl_table_print(c, &t);
	}
	resource_list_free(&list);
	ctl_names_free(&names);
	return r;
}

const struct ctl_command ctl_resource_commands[] = {
	{"resource create", "CONTEXT NAME [--name DISPLAY] [--equipment] [--manager LOGIN]",
         "Create a room (or equipment); with --manager bookings wait for the manager, otherwise "
         "they are accepted when free.",
         cmd_resource_create, CTL_WRITE},
	{"resource list", "CONTEXT [--json]", "List a context's rooms and equipment.",
         cmd_resource_list, 0},
	{NULL, NULL, NULL, NULL, 0},
};
