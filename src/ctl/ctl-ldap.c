/* ldap sync: makes local users of the LDAP directory's people, so that they
 * exist (folders, shares, addresses) before their first login. */
#include "ctl/ctl.h"
#include "directory/directory-ldap.h"

static int cmd_ldap_sync(struct ctl *c)
{
	struct store *s = ctl_store(c);
	if (s == NULL)
		return ctl_exit_code(c);
	if (!ldap_enabled())
		return ctl_error(c, OX_ERR_INVALID, "LDAP is not configured (ldap.uri is empty)");
	int created = 0, updated = 0;
	if (ldap_sync_users(s, &created, &updated, &c->err) < 0)
		return ctl_fail(c);
	ctl_audit_detail(c, "created=%d updated=%d", created, updated);
	if (ctl_flag(c, "--json")) {
		return ctl_print_json(c,
		                      json_pack("{si si}", "created", created, "updated", updated));
	}
	ctl_printf(c, "%d users created, %d updated\n", created, updated);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_ldap_commands[] = {
	{"ldap sync", "[--json]",
         "Create local users for the LDAP directory's people and update their names.",
         cmd_ldap_sync, CTL_WRITE},
	{NULL, NULL, NULL, NULL, 0},
};
