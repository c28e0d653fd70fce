/* user create, list, show, set, passwd, disable, enable, delete, alias
 * add, scheduling. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "files/files.h"
#include "pim/pim.h"

#include <string.h>

/* A quota: a size, or "none" (as 0) for unlimited. */
static int parse_quota(struct ctl *c, const char *text, int64_t *bytes_r)
{
	if (g_ascii_strcasecmp(text, "none") == 0) {
		*bytes_r = 0;
		return 0;
	}
	return ctl_parse_size(c, text, bytes_r);
}

static int cmd_user_create(struct ctl *c)
{
	struct user_create spec = {
		.login = ctl_arg(c, "LOGIN@DOMAIN"),
		.display_name = ctl_arg(c, "--name"),
		.time_zone = ctl_arg(c, "--time-zone"),
		.locale = ctl_arg(c, "--locale"),
	};
	const char *quota = ctl_arg(c, "--quota");
	char *password = NULL;
	int64_t id;
	if ((quota != NULL && parse_quota(c, quota, &spec.quota_bytes) < 0) ||
	    ctl_read_password(c, &password) < 0)
		return ctl_fail(c);
	spec.password = password;
	struct store *s = ctl_store(c);
	int r = s == NULL ? ctl_exit_code(c) : CTL_EXIT_OK;
	if (s != NULL && user_create(s, &spec, &id, &c->err) < 0)
		r = ctl_fail(c);
	ctl_password_free(&password);
	if (r != CTL_EXIT_OK)
		return r;
	ctl_printf(c, "user %s created (id %" G_GINT64_FORMAT ") with default folders\n",
	           spec.login, id);
	return CTL_EXIT_OK;
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *user_json(const struct user_info *u, const char *context)
{
	return json_pack("{sI ss ss? ss so ss ss sb sI so}", "id", (json_int_t)u->id, "login",
	                 u->login, "context", context, "display_name", u->display_name, "addresses",
	                 strv_json(u->addresses), "time_zone", u->time_zone, "locale", u->locale,
	                 "enabled", u->enabled, "quota_bytes", (json_int_t)u->quota_bytes,
	                 "ldap_dn", ctl_json_string(u->ldap_dn));
}

/* id -> context name, for listing users of every context. */
static GHashTable *context_names(struct ctl *c)
{
	struct context_info **list = NULL;
	if (context_list(c->store, &list, &c->err) < 0)
		return NULL;
	GHashTable *names = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	for (struct context_info **i = list; *i != NULL; i++)
		g_hash_table_insert(names, g_memdup2(&(*i)->id, sizeof((*i)->id)),
		                    g_strdup((*i)->name));
	context_list_free(&list);
	return names;
}

static int require_context(struct ctl *c, const char *name)
{
	struct context_info info;
	int found = context_lookup(c->store, name, &info, &c->err);
	if (found > 0)
		context_info_clear(&info);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no context %s", name);
	return found > 0 ? 0 : -1;
}

static void print_users(struct ctl *c, struct user_info **list, GHashTable *contexts)
{
	struct ctl_table *t = ctl_table_new(5);
	ctl_table_add(t, "LOGIN", "NAME", "CONTEXT", "ENABLED", "QUOTA");
	for (struct user_info **u = list; *u != NULL; u++) {
		char *quota = ctl_format_quota((*u)->quota_bytes);
		ctl_table_add(t, (*u)->login, (*u)->display_name,
		              (const char *)g_hash_table_lookup(contexts, &(*u)->context_id),
		              (*u)->enabled ? "yes" : "no", quota);
		g_free(quota);
	}
	ctl_table_print(c, &t);
}

static int cmd_user_list(struct ctl *c)
{
	const char *context = ctl_arg(c, "--context");
	struct user_info **list = NULL;
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (context != NULL && require_context(c, context) < 0)
		return ctl_fail(c);
	GHashTable *contexts = context_names(c);
	if (contexts == NULL || user_list(s, context, &list, &c->err) < 0) {
		if (contexts != NULL)
			g_hash_table_unref(contexts);
		return ctl_fail(c);
	}
	int r = CTL_EXIT_OK;
	if (ctl_flag(c, "--json")) {
		json_t *out = json_array();
		for (struct user_info **u = list; *u != NULL; u++)
			json_array_append_new(
				out,
				user_json(*u, g_hash_table_lookup(contexts, &(*u)->context_id)));
		r = ctl_print_json(c, out);
	} else {
		print_users(c, list, contexts);
	}
	user_list_free(&list);
	g_hash_table_unref(contexts);
	return r;
}

static json_t *group_names(struct ctl *c, const struct user_info *u, const char *context)
{
	int64_t *ids = user_group_ids(c->store, u->id, &c->err);
	struct ctl_names *names = ids != NULL ? ctl_names_load(c, context) : NULL;
	json_t *groups = NULL;
	if (names != NULL) {
		groups = json_array();
		for (int64_t *g = ids; *g != 0; g++) {
			const char *name = ctl_names_plain(names, *g);
			json_array_append_new(groups, json_string(name != NULL ? name : "?"));
		}
	}
	ctl_names_free(&names);
	g_free(ids);
	return groups;
}

static void print_user(struct ctl *c, json_t *u)
{
	static const char *const fields[] = {
		"login",  "display_name", "context",     "addresses", "groups", "time_zone",
		"locale", "enabled",      "quota_bytes", "ldap_dn",   "id",     "used_bytes",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		json_t *v = json_object_get(u, fields[i]);
		char *text = NULL;
		if (json_is_array(v)) {
			GString *s = g_string_new(NULL);
			for (size_t k = 0; k < json_array_size(v); k++)
				g_string_append_printf(s, "%s%s", k > 0 ? ", " : "",
				                       json_string_value(json_array_get(v, k)));
			text = g_string_free(s, FALSE);
		} else if (json_is_null(v)) {
			continue;
		} else if (strcmp(fields[i], "quota_bytes") == 0) {
			text = ctl_format_quota(json_integer_value(v));
		} else if (strcmp(fields[i], "used_bytes") == 0) {
			text = g_format_size_full((guint64)json_integer_value(v),
			                          G_FORMAT_SIZE_IEC_UNITS |
			                                  G_FORMAT_SIZE_LONG_FORMAT);
		} else {
			text = json_is_string(v)    ? g_strdup(json_string_value(v))
			       : json_is_boolean(v) ? g_strdup(json_is_true(v) ? "yes" : "no")
			                            : json_dumps(v, JSON_ENCODE_ANY);
		}
		ctl_printf(c, "%-13s %s\n", fields[i], text);
		g_free(text);
	}
}

static int cmd_user_show(struct ctl *c)
{
	struct user_info info;
	const char *login = ctl_arg(c, "LOGIN");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	int found = user_lookup(s, login, &info, &c->err);
	if (found == 0)
		ox_error_set(&c->err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (found <= 0)
		return ctl_fail(c);
	char *context = ctl_context_name(c, info.context_id);
	/* What their files hold against the quota (every version counts). */
	struct files_usage usage = {0};
	json_t *groups = context != NULL && files_usage_of_user(s, info.id, &usage, &c->err) >= 0
	                         ? group_names(c, &info, context)
	                         : NULL;
	json_t *u = groups != NULL ? user_json(&info, context) : NULL;
	int r = u != NULL ? CTL_EXIT_OK : ctl_fail(c);
	if (u != NULL) {
		json_object_set_new(u, "groups", groups);
		json_object_set_new(u, "used_bytes", json_integer(usage.user_bytes));
		if (ctl_flag(c, "--json"))
			r = ctl_print_json(c, json_incref(u));
		else
			print_user(c, u);
		json_decref(u);
	}
	g_free(context);
	user_info_clear(&info);
	return r;
}

/* What a new quota means for the user's files, said at once: below the
 * usage nothing is deleted, and writes are refused until it fits. */
static void print_quota_set(struct ctl *c, const char *login, const struct files_usage *usage)
{
	if (usage->user_quota == 0) {
		ctl_printf(c, "%s has no quota now (%" G_GINT64_FORMAT " bytes in use)\n", login,
		           usage->user_bytes);
		return;
	}
	char *quota = ctl_format_quota(usage->user_quota);
	ctl_printf(c,
	           "quota of %s set to %s (%" G_GINT64_FORMAT " bytes); %" G_GINT64_FORMAT
	           " bytes in use\n",
	           login, quota, usage->user_quota, usage->user_bytes);
	if (usage->user_bytes > usage->user_quota)
		ctl_printf(c,
		           "that is below what is in use: nothing is deleted, but writes are "
		           "refused (HTTP 507) until %" G_GINT64_FORMAT " bytes are freed\n",
		           usage->user_bytes - usage->user_quota);
	g_free(quota);
}

static int cmd_user_set(struct ctl *c)
{
	const char *login = ctl_arg(c, "LOGIN");
	int64_t quota = 0;
	if (parse_quota(c, ctl_arg(c, "--quota"), &quota) < 0)
		return ctl_fail(c);
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	struct user_info info;
	int found = user_lookup(s, login, &info, &c->err);
	if (found <= 0)
		return found < 0 ? ctl_fail(c)
		                 : ctl_error(c, OX_ERR_NOT_FOUND, "no user %s", login);
	struct files_usage usage;
	found = files_set_user_quota(s, info.id, quota, &usage, &c->err);
	user_info_clear(&info);
	if (found <= 0)
		return found < 0 ? ctl_fail(c)
		                 : ctl_error(c, OX_ERR_NOT_FOUND, "no user %s", login);
	ctl_audit_detail(c, "quota_bytes=%" G_GINT64_FORMAT " used_bytes=%" G_GINT64_FORMAT, quota,
	                 usage.user_bytes);
	print_quota_set(c, login, &usage);
	return CTL_EXIT_OK;
}

static int cmd_user_passwd(struct ctl *c)
{
	char *password = NULL;
	const char *login = ctl_arg(c, "LOGIN");
	if (ctl_read_password(c, &password) < 0)
		return ctl_fail(c);
	struct store *s = ctl_store(c);
	int r = s == NULL ? ctl_exit_code(c) : CTL_EXIT_OK;
	if (s != NULL && user_set_password(s, login, password, &c->err) < 0)
		r = ctl_fail(c);
	ctl_password_free(&password);
	if (r == CTL_EXIT_OK)
		ctl_printf(c, "password of %s changed\n", login);
	return r;
}

static int set_enabled(struct ctl *c, bool enabled)
{
	const char *login = ctl_arg(c, "LOGIN");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (user_set_enabled(s, login, enabled, &c->err) < 0)
		return ctl_fail(c);
	ctl_printf(c, "user %s %s\n", login,
	           enabled ? "enabled" : "disabled (and logged out everywhere)");
	return CTL_EXIT_OK;
}

static int cmd_user_disable(struct ctl *c)
{
	return set_enabled(c, false);
}

static int cmd_user_enable(struct ctl *c)
{
	return set_enabled(c, true);
}

static int cmd_user_delete(struct ctl *c)
{
	const char *login = ctl_arg(c, "LOGIN");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (user_delete(s, login, &c->err) < 0)
		return ctl_fail(c);
	ctl_printf(c, "user %s deleted, with their folders and every share naming them\n", login);
	return CTL_EXIT_OK;
}

static int cmd_user_alias_add(struct ctl *c)
{
	const char *login = ctl_arg(c, "LOGIN"), *address = ctl_arg(c, "ADDRESS");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (user_add_address(s, login, address, &c->err) < 0)
		return ctl_fail(c);
	ctl_audit_detail(c, "address=%s", address);
	ctl_printf(c, "%s now also receives mail for %s\n", login, address);
	return CTL_EXIT_OK;
}

/* RFC 6638: invitations always reach the schedule inbox; this decides
 * whether they also appear in the default calendar at once. */
static int cmd_user_scheduling(struct ctl *c)
{
	const char *login = ctl_arg(c, "LOGIN"), *value = ctl_arg(c, "--auto-add");
	bool on = g_ascii_strcasecmp(value, "yes") == 0;
	if (!on && g_ascii_strcasecmp(value, "no") != 0)
		return ctl_error(c, OX_ERR_INVALID, "--auto-add takes yes or no");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	struct user_info info;
	int found = user_lookup(s, login, &info, &c->err);
	if (found <= 0)
		return found < 0 ? ctl_fail(c)
		                 : ctl_error(c, OX_ERR_NOT_FOUND, "no such user: %s", login);
	int r = pim_schedule_set_auto_add(s, info.id, on, &c->err);
	user_info_clear(&info);
	if (r < 0)
		return ctl_fail(c);
	ctl_audit_detail(c, "auto_add=%s", on ? "yes" : "no");
	ctl_printf(c, "invitations to %s %s\n", login,
	           on ? "also go into their calendar" : "wait in their inbox");
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_user_commands[] = {
	{"user create",
         "LOGIN@DOMAIN --name DISPLAY --password-stdin [--time-zone TZ] [--locale LOCALE] "
         "[--quota SIZE]",
         "Create a user in the context of the login's domain, with default folders; the "
         "password is the first line of stdin.",
         cmd_user_create, CTL_WRITE},
	{"user list", "[--context NAME] [--json]", "List the users (of one context).",
         cmd_user_list, 0},
	{"user show", "LOGIN [--json]", "Show a user with addresses and groups.", cmd_user_show, 0},
	{"user set", "LOGIN --quota SIZE|none",
         "Change a user's quota (none or 0: unlimited); one below their usage is allowed, and "
         "writes are then refused until enough is deleted.",
         cmd_user_set, CTL_WRITE},
	{"user passwd", "LOGIN --password-stdin", "Set a user's password from stdin's first line.",
         cmd_user_passwd, CTL_WRITE},
	{"user disable", "LOGIN", "Stop a user from logging in and end their sessions.",
         cmd_user_disable, CTL_WRITE},
	{"user enable", "LOGIN", "Let a disabled user log in again.", cmd_user_enable, CTL_WRITE},
	{"user delete", "LOGIN", "Delete a user, their folders and every share naming them.",
         cmd_user_delete, CTL_WRITE},
	{"user scheduling", "LOGIN --auto-add yes|no",
         "Whether invitations also go into the user's default calendar (always into their "
         "schedule inbox).",
         cmd_user_scheduling, CTL_WRITE},
	{"user alias add", "LOGIN ADDRESS",
         "Give a user another address in a mail domain of their context.", cmd_user_alias_add,
         CTL_WRITE},
	{NULL, NULL, NULL, NULL, 0},
};
