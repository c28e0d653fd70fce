/* Groups and their members, and the lookup of any principal by address. */
#include "directory/directory-private.h"

#include <string.h>

static int require_context(struct store *s, const char *context, int64_t *id_r,
                           struct ox_error *err)
{
	int r = context_id_by_name(s, context, id_r, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no context %s", context);
	return r > 0 ? 0 : -1;
}

static int group_id(struct store *s, int64_t context_id, const char *name, int64_t *id_r,
                    struct ox_error *err)
{
	int r = dir_query_int(s,
	                      "SELECT id FROM principals WHERE context_id = $1 AND kind = $2 "
	                      "AND name = $3",
	                      id_r, err, "iis", context_id, (int64_t)PRINCIPAL_GROUP, name);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no group %s", name);
	return r > 0 ? 0 : -1;
}

int group_create(struct store *s, const char *context, const char *name, const char *display_name,
                 int64_t *id_r, struct ox_error *err)
{
	int64_t context_id;
	if (!name_valid(name))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "'%s' is not a valid group name (a-z, 0-9, '.', '_', '-')",
		                    name);
	if (display_name == NULL)
		display_name = name;
	if (!display_name_valid(display_name))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a display name is 1 to 256 printable characters");
	if (require_context(s, context, &context_id, err) < 0)
		return -1;
	int64_t id = 0;
	int r = dir_query_int(
		s,
		"INSERT INTO principals (context_id, kind, name, display_name, created) "
		"VALUES ($1, $2, $3, $4, $5) RETURNING id",
		&id, err, "iissi", context_id, (int64_t)PRINCIPAL_GROUP, name, display_name,
		now_seconds());
	if (r < 0 && err != NULL && err->code == OX_ERR_EXISTS)
		ox_error_set(err, OX_ERR_EXISTS, "group %s already exists", name);
	if (r > 0 && id_r != NULL)
		*id_r = id;
	return r > 0 ? 0 : -1;
}

static int member_ids(struct store *s, const char *context, const char *group, const char *login,
                      int64_t *group_r, int64_t *user_r, struct ox_error *err)
{
	int64_t context_id, user_context;
	if (require_context(s, context, &context_id, err) < 0 ||
	    group_id(s, context_id, group, group_r, err) < 0)
		return -1;
	int r = user_id_by_login(s, login, user_r, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no user %s", login);
	if (r <= 0)
		return -1;
	if (dir_query_int(s, "SELECT context_id FROM principals WHERE id = $1", &user_context, err,
	                  "i", *user_r) <= 0)
		return -1;
	if (user_context != context_id)
		return ox_error_set(err, OX_ERR_INVALID, "user %s is not in context %s", login,
		                    context);
	return 0;
}

int group_add_member(struct store *s, const char *context, const char *group, const char *login,
                     struct ox_error *err)
{
	int64_t gid, uid;
	if (member_ids(s, context, group, login, &gid, &uid, err) < 0)
		return -1;
	int r = dir_exec(s, "INSERT INTO group_members (group_id, member_id) VALUES ($1, $2)", NULL,
	                 err, "ii", gid, uid);
	if (r < 0 && err != NULL && err->code == OX_ERR_EXISTS)
		ox_error_set(err, OX_ERR_EXISTS, "%s is already a member of %s", login, group);
	return r;
}

int group_remove_member(struct store *s, const char *context, const char *group, const char *login,
                        struct ox_error *err)
{
	int64_t gid, uid, changes = 0;
	if (member_ids(s, context, group, login, &gid, &uid, err) < 0)
		return -1;
	if (dir_exec(s, "DELETE FROM group_members WHERE group_id = $1 AND member_id = $2",
	             &changes, err, "ii", gid, uid) < 0)
		return -1;
	if (changes == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "%s is not a member of %s", login,
		                    group);
	return 0;
}

static int fill_members(struct store *s, struct group_info *info, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT member_id FROM group_members WHERE group_id = $1 ORDER BY member_id",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, info->id);
	GArray *ids = g_array_new(TRUE, TRUE, sizeof(int64_t));
	int r;
	while ((r = store_step(st, err)) > 0) {
		int64_t id = store_col_int(st, 0);
		g_array_append_val(ids, id);
	}
	store_stmt_done(&st);
	info->members = (int64_t *)g_array_free(ids, FALSE);
	return r;
}

#define GROUP_COLUMNS "SELECT p.id, p.context_id, p.name, p.display_name FROM principals p "
#define GROUP_IN_CONTEXT "JOIN contexts c ON c.id = p.context_id WHERE c.name = $1 AND p.kind = $2 "

static void read_group(struct store_stmt *st, void *row)
{
	struct group_info *info = row;
	info->id = store_col_int(st, 0);
	info->context_id = store_col_int(st, 1);
	info->name = g_strdup(store_col_text(st, 2));
	info->display_name = g_strdup(store_col_text(st, 3));
}

/* Completes a look-up that found (r > 0) a group with its members;
 * returns r, or -1 with info cleared. */
static int lookup_members(struct store *s, int r, struct group_info *info, struct ox_error *err)
{
	if (r > 0 && fill_members(s, info, err) < 0) {
		group_info_clear(info);
		return -1;
	}
	return r;
}

int group_lookup(struct store *s, const char *context, const char *name, struct group_info *info_r,
                 struct ox_error *err)
{
	memset(info_r, 0, sizeof(*info_r));
	int r = dir_query_row(s, GROUP_COLUMNS GROUP_IN_CONTEXT "AND p.name = $3", read_group,
	                      info_r, err, "sis", context, (int64_t)PRINCIPAL_GROUP, name);
	return lookup_members(s, r, info_r, err);
}

int group_lookup_id(struct store *s, int64_t id, struct group_info *info_r, struct ox_error *err)
{
	memset(info_r, 0, sizeof(*info_r));
	int r = dir_query_row(s, GROUP_COLUMNS "WHERE p.id = $1 AND p.kind = $2", read_group,
	                      info_r, err, "ii", id, (int64_t)PRINCIPAL_GROUP);
	return lookup_members(s, r, info_r, err);
}

int group_list(struct store *s, const char *context, struct group_info ***list_r,
               struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, GROUP_COLUMNS GROUP_IN_CONTEXT "ORDER BY p.name", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, context);
	store_bind_int(st, 2, PRINCIPAL_GROUP);
	GPtrArray *list = g_ptr_array_new();
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct group_info *info = g_new0(struct group_info, 1);
		read_group(st, info);
		g_ptr_array_add(list, info);
	}
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i < list->len; i++)
		r = fill_members(s, g_ptr_array_index(list, i), err);
	g_ptr_array_add(list, NULL);
	*list_r = (struct group_info **)g_ptr_array_free(list, FALSE);
	if (r < 0)
		group_list_free(list_r);
	return r;
}

int group_delete(struct store *s, const char *context, const char *name, struct ox_error *err)
{
	int64_t context_id, id;
	if (require_context(s, context, &context_id, err) < 0 ||
	    group_id(s, context_id, name, &id, err) < 0)
		return -1;
	bool own;
	if (txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = run_principal_deleted_hook(s, id, err) == 0 &&
	          dir_exec(s, "DELETE FROM principals WHERE id = $1", NULL, err, "i", id) == 0;
	return txn_end(s, own, ok, err);
}

int64_t *user_group_ids(struct store *s, int64_t user_id, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "SELECT group_id FROM group_members WHERE member_id = $1", err);
	if (st == NULL)
		return NULL;
	store_bind_int(st, 1, user_id);
	GArray *ids = g_array_new(TRUE, TRUE, sizeof(int64_t));
	int r;
	while ((r = store_step(st, err)) > 0) {
		int64_t id = store_col_int(st, 0);
		g_array_append_val(ids, id);
	}
	store_stmt_done(&st);
	if (r < 0) {
		g_array_unref(ids);
		return NULL;
	}
	return (int64_t *)g_array_free(ids, FALSE);
}

void group_info_clear(struct group_info *info)
{
	g_free(info->name);
	g_free(info->display_name);
	g_free(info->members);
	memset(info, 0, sizeof(*info));
}

void group_list_free(struct group_info ***listp)
{
	struct group_info **list = *listp;
	if (list == NULL)
		return;
	*listp = NULL;
	for (struct group_info **i = list; *i != NULL; i++) {
		group_info_clear(*i);
		g_free(*i);
	}
	g_free(list);
}

int group_addresses(struct store *s, const struct group_info *group, char ***addresses_r,
                    struct ox_error *err)
{
	*addresses_r = NULL;
	struct context_info ctx;
	int r = context_lookup_id(s, group->context_id, &ctx, err);
	if (r < 0)
		return -1;
	GPtrArray *out = g_ptr_array_new();
	for (char **d = r > 0 ? ctx.domains : NULL; r >= 0 && d != NULL && *d != NULL; d++) {
		char *address = g_strdup_printf("%s@%s", group->name, *d);
		int64_t holder = 0;
		r = principal_by_address(s, address, &holder, NULL, err);
		if (r == 0 || (r > 0 && holder == group->id))
			g_ptr_array_add(out, address);
		else
			g_free(address);
	}
	context_info_clear(&ctx);
	g_ptr_array_add(out, NULL);
	char **list = (char **)g_ptr_array_free(out, FALSE);
	if (r < 0) {
		g_strfreev(list);
		return -1;
	}
	*addresses_r = list;
	return 0;
}

int principal_by_address(struct store *s, const char *address, int64_t *id_r,
                         enum principal_kind *kind_r, struct ox_error *err)
{
	char *addr = address_normalize(address);
	if (addr == NULL)
		return 0;
	struct store_stmt *st =
		store_prepare(s,
	                      "SELECT p.id, p.kind FROM addresses a JOIN principals p "
	                      "ON p.id = a.principal_id WHERE a.address = $1",
	                      err);
	int r = -1;
	if (st != NULL) {
		store_bind_text(st, 1, addr);
		r = store_step(st, err);
		if (r > 0) {
			*id_r = store_col_int(st, 0);
			if (kind_r != NULL)
				*kind_r = (enum principal_kind)store_col_int(st, 1);
		}
		store_stmt_done(&st);
	}
	g_free(addr);
	return r;
}
