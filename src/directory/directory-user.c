/* Users: creation with their primary address and default folders, lookup,
 * passwords, addresses, deletion with everything they own. */
#include "directory/auth.h"
#include "directory/directory-private.h"

#include <string.h>

#define PASSWORD_MAX 1024

int user_id_by_login(struct store *s, const char *login, int64_t *id_r, struct ox_error *err)
{
	char *lower = g_ascii_strdown(login, -1);
	int r = dir_query_int(s, "SELECT principal_id FROM users WHERE login = $1", id_r, err, "s",
	                      lower);
	g_free(lower);
	return r;
}

static bool locale_valid(const char *locale)
{
	size_t len = strlen(locale);
	if (len < 2 || len > 16)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isalnum(locale[i]) && locale[i] != '-' && locale[i] != '_')
			return false;
	}
	return true;
}

static bool time_zone_valid(const char *tz)
{
	GTimeZone *zone = g_time_zone_new_identifier(tz);
	if (zone == NULL)
		return false;
	g_time_zone_unref(zone);
	return true;
}

static int check_password(const char *password, struct ox_error *err)
{
	if (password == NULL || *password == '\0')
		return ox_error_set(err, OX_ERR_INVALID, "the password must not be empty");
	if (strlen(password) > PASSWORD_MAX)
		return ox_error_set(err, OX_ERR_INVALID, "the password is longer than %d bytes",
		                    PASSWORD_MAX);
	return 0;
}

static int check_spec(const struct user_create *spec, char **login_r, struct ox_error *err)
{
	char *login = address_normalize(spec->login != NULL ? spec->login : "");
	if (login == NULL)
		return ox_error_set(err, OX_ERR_INVALID, "'%s' is not a valid login (local@domain)",
		                    spec->login != NULL ? spec->login : "");
	if (spec->display_name == NULL || !display_name_valid(spec->display_name))
		goto bad_name;
	if (spec->password != NULL && check_password(spec->password, err) < 0)
		goto fail;
	if (spec->password == NULL && spec->ldap_dn == NULL) {
		ox_error_set(err, OX_ERR_INVALID, "a user needs a password (or an LDAP entry)");
		goto fail;
	}
	if (spec->time_zone != NULL && !time_zone_valid(spec->time_zone)) {
		ox_error_set(err, OX_ERR_INVALID, "unknown time zone '%s'", spec->time_zone);
		goto fail;
	}
	if (spec->locale != NULL && !locale_valid(spec->locale)) {
		ox_error_set(err, OX_ERR_INVALID, "'%s' is not a locale such as en or de_DE",
		             spec->locale);
		goto fail;
	}
	if (spec->quota_bytes < 0) {
		ox_error_set(err, OX_ERR_INVALID, "quota must not be negative");
		goto fail;
	}
	*login_r = login;
	return 0;
bad_name:
	ox_error_set(err, OX_ERR_INVALID, "a display name is 1 to 256 printable characters");
fail:
	g_free(login);
	return -1;
}

static int insert_user(struct store *s, const struct user_create *spec, const char *login,
                       int64_t context_id, const char *hash, int64_t *id_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"INSERT INTO principals (context_id, kind, name, display_name, created) "
		"VALUES ($1, $2, $3, $4, $5) RETURNING id",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, context_id);
	store_bind_int(st, 2, PRINCIPAL_USER);
	store_bind_text(st, 3, login);
	store_bind_text(st, 4, spec->display_name);
	store_bind_int(st, 5, now_seconds());
	int r = store_step(st, err);
	if (r > 0)
		*id_r = store_col_int(st, 0);
	store_stmt_done(&st);
	if (r <= 0)
		return -1;
	st = store_prepare(s,
	                   "INSERT INTO users (principal_id, login, password_hash, time_zone, "
	                   "locale, quota_bytes, ldap_dn) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	                   err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, *id_r);
	store_bind_text(st, 2, login);
	store_bind_text(st, 3, hash);
	store_bind_text(st, 4, spec->time_zone != NULL ? spec->time_zone : "UTC");
	store_bind_text(st, 5, spec->locale != NULL ? spec->locale : "en");
	store_bind_int(st, 6, spec->quota_bytes);
	store_bind_text(st, 7, spec->ldap_dn);
	r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

int user_create(struct store *s, const struct user_create *spec, int64_t *id_r,
                struct ox_error *err)
{
	char *login = NULL, *hash = NULL;
	int64_t context_id = 0, id = 0;
	bool own = false, ok = false;
	if (check_spec(spec, &login, err) < 0)
		return -1;
	if (spec->password != NULL && (hash = auth_hash_password(spec->password)) == NULL) {
		ox_error_set(err, OX_ERR_TEMP, "cannot hash the password (out of memory)");
		goto out;
	}
	if (txn_begin(s, &own, err) < 0)
		goto out;
	int found = context_id_by_domain(s, strchr(login, '@') + 1, &context_id, err);
	if (found == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no context has the mail domain %s",
		             strchr(login, '@') + 1);
	int64_t taken = 0;
	if (found > 0 &&
	    dir_query_int(s, "SELECT COUNT(*) FROM addresses WHERE address = $1", &taken, err, "s",
	                  login) > 0 &&
	    taken > 0) {
		ox_error_set(err, OX_ERR_EXISTS, "%s is already in use", login);
		found = -1;
	}
	ok = found > 0 && insert_user(s, spec, login, context_id, hash, &id, err) == 0 &&
	     dir_exec(
		     s,
		     "INSERT INTO addresses (address, principal_id, is_primary) VALUES ($1, $2, 1)",
		     NULL, err, "si", login, id) == 0 &&
	     run_user_created_hook(s, context_id, id, err) == 0;
	if (!ok && err != NULL && err->code == OX_ERR_EXISTS && found > 0)
		ox_error_set(err, OX_ERR_EXISTS, "user %s already exists", login);
	if (txn_end(s, own, ok, err) < 0)
		ok = false;
	own = false;
out:
	if (own)
		store_rollback(s);
	if (ok && id_r != NULL)
		*id_r = id;
	g_free(login);
	g_free(hash);
	return ok ? 0 : -1;
}

static const char user_columns[] =
	"SELECT p.id, p.context_id, u.login, p.display_name, u.time_zone, u.locale, p.enabled, "
	"u.quota_bytes, u.ldap_dn FROM principals p JOIN users u ON u.principal_id = p.id ";

static void read_user(struct store_stmt *st, struct user_info *info)
{
	info->id = store_col_int(st, 0);
	info->context_id = store_col_int(st, 1);
	info->login = g_strdup(store_col_text(st, 2));
	info->display_name = g_strdup(store_col_text(st, 3));
	info->time_zone = g_strdup(store_col_text(st, 4));
	info->locale = g_strdup(store_col_text(st, 5));
	info->enabled = store_col_int(st, 6) != 0;
	info->quota_bytes = store_col_int(st, 7);
	info->ldap_dn = g_strdup(store_col_text(st, 8));
}

static int fill_addresses(struct store *s, struct user_info *info, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s,
	                      "SELECT address FROM addresses WHERE principal_id = $1 "
	                      "ORDER BY is_primary DESC, address",
	                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, info->id);
	GPtrArray *list = g_ptr_array_new();
	int r;
	while ((r = store_step(st, err)) > 0)
		g_ptr_array_add(list, g_strdup(store_col_text(st, 0)));
	store_stmt_done(&st);
	g_ptr_array_add(list, NULL);
	info->addresses = (char **)g_ptr_array_free(list, FALSE);
	return r;
}

static int lookup_where(struct store *s, const char *where, const char *text, int64_t id,
                        struct user_info *info_r, struct ox_error *err)
{
	memset(info_r, 0, sizeof(*info_r));
	char *sql = g_strconcat(user_columns, where, NULL);
	struct store_stmt *st = store_prepare(s, sql, err);
	g_free(sql);
	if (st == NULL)
		return -1;
	if (text != NULL)
		store_bind_text(st, 1, text);
	else
		store_bind_int(st, 1, id);
	int r = store_step(st, err);
	if (r > 0)
		read_user(st, info_r);
	store_stmt_done(&st);
	if (r > 0 && fill_addresses(s, info_r, err) < 0) {
		user_info_clear(info_r);
		return -1;
	}
	return r;
}

int user_lookup(struct store *s, const char *login, struct user_info *info_r, struct ox_error *err)
{
	char *lower = g_ascii_strdown(login, -1);
	int r = lookup_where(s, "WHERE u.login = $1", lower, 0, info_r, err);
	g_free(lower);
	return r;
}

int user_lookup_id(struct store *s, int64_t id, struct user_info *info_r, struct ox_error *err)
{
	return lookup_where(s, "WHERE p.id = $1", NULL, id, info_r, err);
}

/* Every user a prepared and bound query of user_columns selects, with
 * their addresses, as a NULL-terminated list (user_list_free()); takes
 * the statement. 0, or -1 with *list_r NULL. */
static int collect_users(struct store *s, struct store_stmt *st, struct user_info ***list_r,
                         struct ox_error *err)
{
	GPtrArray *list = g_ptr_array_new();
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct user_info *info = g_new0(struct user_info, 1);
		read_user(st, info);
		g_ptr_array_add(list, info);
	}
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i < list->len; i++)
		r = fill_addresses(s, g_ptr_array_index(list, i), err);
	g_ptr_array_add(list, NULL);
	*list_r = (struct user_info **)g_ptr_array_free(list, FALSE);
	if (r < 0)
		user_list_free(list_r);
	return r;
}

int user_list(struct store *s, const char *context, struct user_info ***list_r,
              struct ox_error *err)
{
	char *sql = g_strconcat(user_columns,
	                        context != NULL ? "JOIN contexts c ON c.id = p.context_id "
	                                          "WHERE c.name = $1 ORDER BY u.login"
	                                        : "ORDER BY u.login",
	                        NULL);
	struct store_stmt *st = store_prepare(s, sql, err);
	g_free(sql);
	if (st == NULL)
		return -1;
	if (context != NULL)
		store_bind_text(st, 1, context);
	return collect_users(s, st, list_r, err);
}

/* A LIKE pattern for a search term: the text in ASCII lower case with
 * the pattern's own characters escaped. */
static char *search_pattern(const struct user_search_term *t)
{
	GString *p = g_string_new(t->match == USER_MATCH_CONTAINS ? "%" : "");
	for (const char *c = t->text; *c != '\0'; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			g_string_append_c(p, '\\');
		g_string_append_c(p, g_ascii_tolower(*c));
	}
	if (t->match != USER_MATCH_EQUALS)
		g_string_append_c(p, '%');
	return g_string_free(p, FALSE);
}

int user_search(struct store *s, int64_t context_id, const struct user_search_term *terms, size_t n,
                bool match_all, int limit, struct user_info ***list_r, struct ox_error *err)
{
	*list_r = NULL;
	if (n == 0 || n > USER_SEARCH_TERMS_MAX || limit <= 0)
		return ox_error_set(err, OX_ERR_INVALID, "a search has 1 to %d terms",
		                    USER_SEARCH_TERMS_MAX);
	/* Parameters: $1 context, $2 limit, then one pattern per term. */
	GString *sql = g_string_new(user_columns);
	g_string_append(sql, "WHERE p.context_id = $1 AND p.enabled = 1 AND (");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_string_append(sql, match_all ? " AND " : " OR ");
		enum user_search_field f = terms[i].field;
		g_string_append_c(sql, '(');
		if (f == USER_SEARCH_NAME || f == USER_SEARCH_NAME_OR_ADDRESS)
			g_string_append_printf(sql, "lower(p.display_name) LIKE $%zu ESCAPE '\\'",
			                       i + 3);
		if (f == USER_SEARCH_NAME_OR_ADDRESS)
			g_string_append(sql, " OR ");
		if (f == USER_SEARCH_ADDRESS || f == USER_SEARCH_NAME_OR_ADDRESS)
			g_string_append_printf(sql,
			                       "EXISTS (SELECT 1 FROM addresses a WHERE "
			                       "a.principal_id = p.id AND lower(a.address) LIKE "
			                       "$%zu ESCAPE '\\')",
			                       i + 3);
		g_string_append_c(sql, ')');
	}
	g_string_append(sql, ") ORDER BY u.login LIMIT $2");
	struct store_stmt *st = store_prepare(s, sql->str, err);
	g_string_free(sql, TRUE);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, context_id);
	store_bind_int(st, 2, limit);
	for (size_t i = 0; i < n; i++) {
		char *pattern = search_pattern(&terms[i]);
		store_bind_text(st, (int)i + 3, pattern);
		g_free(pattern);
	}
	return collect_users(s, st, list_r, err);
}

static int require_user(struct store *s, const char *login, int64_t *id_r, struct ox_error *err)
{
	int r = user_id_by_login(s, login, id_r, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no user %s", login);
	return r > 0 ? 0 : -1;
}

int user_set_password(struct store *s, const char *login, const char *password,
                      struct ox_error *err)
{
	int64_t id;
	if (check_password(password, err) < 0 || require_user(s, login, &id, err) < 0)
		return -1;
	char *hash = auth_hash_password(password);
	if (hash == NULL)
		return ox_error_set(err, OX_ERR_TEMP, "cannot hash the password (out of memory)");
	bool own;
	if (txn_begin(s, &own, err) < 0) {
		g_free(hash);
		return -1;
	}
	/* A new password ends the sessions made with the old one: it is
	 * usually set because the old one leaked. */
	bool ok = dir_exec(s, "UPDATE users SET password_hash = $1 WHERE principal_id = $2", NULL,
	                   err, "si", hash, id) == 0 &&
	          session_revoke_all(s, id, err) == 0;
	g_free(hash);
	return txn_end(s, own, ok, err);
}

int user_set_enabled(struct store *s, const char *login, bool enabled, struct ox_error *err)
{
	int64_t id;
	if (require_user(s, login, &id, err) < 0)
		return -1;
	bool own;
	if (txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = dir_exec(s, "UPDATE principals SET enabled = $1 WHERE id = $2", NULL, err, "ii",
	                   (int64_t)enabled, id) == 0;
	/* A disabled user loses its sessions at once. */
	if (ok && !enabled)
		ok = session_revoke_all(s, id, err) == 0;
	return txn_end(s, own, ok, err);
}

int user_add_address(struct store *s, const char *login, const char *address, struct ox_error *err)
{
	int64_t id, context_id, user_context;
	char *addr = address_normalize(address);
	int r = -1;
	if (addr == NULL) {
		ox_error_set(err, OX_ERR_INVALID, "'%s' is not a valid address", address);
		goto out;
	}
	if (require_user(s, login, &id, err) < 0)
		goto out;
	int found = context_id_by_domain(s, strchr(addr, '@') + 1, &context_id, err);
	if (found < 0)
		goto out;
	if (dir_query_int(s, "SELECT context_id FROM principals WHERE id = $1", &user_context, err,
	                  "i", id) <= 0)
		goto out;
	if (found == 0 || context_id != user_context) {
		ox_error_set(err, OX_ERR_INVALID, "%s is not a mail domain of the user's context",
		             strchr(addr, '@') + 1);
		goto out;
	}
	r = dir_exec(s, "INSERT INTO addresses (address, principal_id) VALUES ($1, $2)", NULL, err,
	             "si", addr, id);
	if (r < 0 && err != NULL && err->code == OX_ERR_EXISTS)
		ox_error_set(err, OX_ERR_EXISTS, "%s is already in use", addr);
out:
	g_free(addr);
	return r;
}

int user_delete(struct store *s, const char *login, struct ox_error *err)
{
	int64_t id;
	bool own;
	if (txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = require_user(s, login, &id, err) == 0 &&
	          run_principal_deleted_hook(s, id, err) == 0;
	char *lower = g_ascii_strdown(login, -1);
	char *subject = g_strdup_printf("user:%s", lower);
	ok = ok && dir_exec(s, "DELETE FROM auth_failures WHERE subject = $1", NULL, err, "s",
	                    subject) == 0;
	ok = ok && dir_exec(s, "DELETE FROM principals WHERE id = $1", NULL, err, "i", id) == 0;
	g_free(subject);
	g_free(lower);
	return txn_end(s, own, ok, err);
}

void user_info_clear(struct user_info *info)
{
	g_free(info->login);
	g_free(info->display_name);
	g_strfreev(info->addresses);
	g_free(info->time_zone);
	g_free(info->locale);
	g_free(info->ldap_dn);
	memset(info, 0, sizeof(*info));
}

void user_list_free(struct user_info ***listp)
{
	struct user_info **list = *listp;
	if (list == NULL)
		return;
	*listp = NULL;
	for (struct user_info **i = list; *i != NULL; i++) {
		user_info_clear(*i);
		g_free(*i);
	}
	g_free(list);
}
