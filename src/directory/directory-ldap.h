/* LDAP as an optional source of authentication (simple bind as the user's
 * entry) and of users (listing, and a sync into the local directory).
 * Off while ldap.uri is empty. Every call opens its own connection, so the
 * functions may run on several worker threads at once; each connection,
 * bind and search is bounded by ldap.timeout. docs/internals/ldap.md has
 * the whole picture. */
#ifndef OX_DIRECTORY_LDAP_H
#define OX_DIRECTORY_LDAP_H

#include <stdbool.h>

struct ox_config;
struct ox_error;
struct store;

/* Most entries ldap_list_users() reports; a directory larger than this is
 * cut there (with a warning) rather than held in memory unbounded. */
#define LDAP_MAX_USERS 100000

/* Registers the ldap.* options. */
void ldap_register_options(void);
/* Applies them; safe to call again (SIGHUP) while other threads use LDAP. */
void ldap_configure(const struct ox_config *cfg);
/* Whether ldap.uri is set. */
bool ldap_enabled(void);

/* Checks a login and password: finds the one entry that ldap.user_filter
 * matches for `login` (with the service account of ldap.bind_dn, or
 * anonymously) and binds as it with `password`. Returns 1 when the
 * password is right and sets *dn_r (may be NULL; caller frees with
 * g_free) to the entry's DN; 0 for an unknown user, a wrong or empty
 * password, a login that matches several entries, or when LDAP is off;
 * -1 with err set when the server cannot answer: OX_ERR_TEMP when it is
 * unreachable, busy or too slow, OX_ERR_INTERNAL when it refuses the
 * service account or the configured filter. */
int ldap_authenticate(const char *login, const char *password, char **dn_r, struct ox_error *err);

/* One user as listed. Every string is valid UTF-8 without NUL bytes and
 * only valid during the callback. display_name may be NULL; mail is
 * NULL-terminated and may be empty. */
struct ldap_user {
	const char *dn, *login, *display_name;
	const char *const *mail;
};

/* Calls fn for each entry under ldap.base_dn that ldap.list_filter matches
 * and that has a login attribute, at most LDAP_MAX_USERS times. fn returns
 * 0 to go on; any other value stops the listing and becomes the return
 * value. Returns 0 when every entry was seen, -1 with err set (as for
 * ldap_authenticate) when the server fails, also midway; err is left to
 * the callback when it stops with -1. */
int ldap_list_users(int (*fn)(const struct ldap_user *u, void *ctx), void *ctx,
                    struct ox_error *err);

/* Makes local users of the LDAP users whose login (an address) is in the
 * domain of some context: new ones are created without a password and
 * with their DN, existing LDAP users get the current display name. Local
 * users that LDAP did not create, and logins of no known domain, are left
 * alone (counted in the log line the sync writes). Sets the numbers
 * created and updated (either pointer may be NULL). Returns 0 or -1 with
 * err set; users done before a failure stay done. */
int ldap_sync_users(struct store *s, int *created_r, int *updated_r, struct ox_error *err);

/* RFC 4515 escaping of an assertion value: '*', '(', ')', '\' and control
 * bytes become \XX. Caller frees. */
char *ldap_filter_escape(const char *value);
/* `filter_template` with each "%s" replaced by the escaped `value`; nothing else
 * in the template is interpreted. Caller frees. */
char *ldap_filter_build(const char *filter_template, const char *value);

#endif
