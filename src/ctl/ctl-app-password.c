/* app-password add, list, revoke: passwords for clients (IMAP, DAV) that
 * cannot do the browser login, each revocable on its own. */
#include "ctl/ctl.h"
#include "directory/auth.h"

#include <string.h>

static int cmd_app_password_add(struct ctl *c)
{
	const char *login = ctl_arg(c, "LOGIN"), *label = ctl_arg(c, "LABEL");
	char password[AUTH_APP_PASSWORD_LEN + 1];
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	ctl_audit_detail(c, "label=%s", label);
	if (app_password_add(s, login, label, password, &c->err) < 0)
		return ctl_fail(c);
	/* The only time it is shown: the store keeps a hash. */
	ctl_printf(c, "%s\n", password);
	explicit_bzero(password, sizeof(password));
	return CTL_EXIT_OK;
}

static int cmd_app_password_list(struct ctl *c)
{
	struct app_password_info *list = NULL;
	int count = 0;
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (app_password_list(s, ctl_arg(c, "LOGIN"), &list, &count, &c->err) < 0)
		return ctl_fail(c);
	json_t *out = json_array();
	struct ctl_table *t = ctl_table_new(3);
	ctl_table_add(t, "LABEL", "CREATED", "LAST USED");
	for (int i = 0; i < count; i++) {
		char *created = ctl_format_time(list[i].created);
		char *used = ctl_format_time(list[i].last_used);
		json_array_append_new(out, json_pack("{ss ss ss?}", "label", list[i].label,
		                                     "created", created, "last_used", used));
		ctl_table_add(t, list[i].label, created, used != NULL ? used : "never");
		g_free(created);
		g_free(used);
	}
	app_password_list_free(&list, count);
	return ctl_print_list(c, out, &t);
}

static int cmd_app_password_revoke(struct ctl *c)
{
	const char *login = ctl_arg(c, "LOGIN"), *label = ctl_arg(c, "LABEL");
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	ctl_audit_detail(c, "label=%s", label);
	if (app_password_revoke(s, login, label, &c->err) < 0)
		return ctl_fail(c);
	ctl_printf(c, "app password '%s' of %s revoked\n", label, login);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_app_password_commands[] = {
	{"app-password add", "LOGIN LABEL",
         "Make an app password for a client; it is printed once and never again.",
         cmd_app_password_add, CTL_WRITE},
	{"app-password list", "LOGIN [--json]", "List a user's app passwords (labels, use).",
         cmd_app_password_list, 0},
	{"app-password revoke", "LOGIN LABEL", "Revoke one app password.", cmd_app_password_revoke,
         CTL_WRITE},
	{NULL, NULL, NULL, NULL, 0},
};
