/* Resources: rooms and equipment that take part in meetings, each with a
 * booking policy and an address in the context's first mail domain. */
#include "directory/directory-private.h"

#include <string.h>

static int first_domain(struct store *s, int64_t context_id, char **domain_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT domain FROM mail_domains WHERE context_id = $1 ORDER BY domain", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, context_id);
	int r = store_step(st, err);
	if (r > 0)
		*domain_r = g_strdup(store_col_text(st, 0));
	store_stmt_done(&st);
	return r > 0 ? 0 : -1;
}

int resource_create(struct store *s, const char *context, const char *name,
                    const char *display_name, bool is_room, enum resource_booking booking,
                    const char *manager_login, int64_t *id_r, struct ox_error *err)
{
	int64_t context_id, manager = 0, id = 0;
	char *domain = NULL, *address = NULL;
	if (!name_valid(name))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "'%s' is not a valid resource name (a-z, 0-9, '.', '_', '-')",
		                    name);
	if (display_name == NULL)
		display_name = name;
	if (!display_name_valid(display_name))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a display name is 1 to 256 printable characters");
	if (booking == BOOKING_MANAGER && manager_login == NULL)
		return ox_error_set(err, OX_ERR_INVALID, "a managed resource needs a manager");
	int r = context_id_by_name(s, context, &context_id, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no context %s", context);
	if (r <= 0)
		return -1;
	if (manager_login != NULL) {
		r = user_id_by_login(s, manager_login, &manager, err);
		if (r == 0)
			ox_error_set(err, OX_ERR_NOT_FOUND, "no user %s", manager_login);
		if (r <= 0)
			return -1;
	}
	bool own;
	if (txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = first_domain(s, context_id, &domain, err) == 0;
	if (ok)
		address = g_strdup_printf("%s@%s", name, domain);
	ok = ok &&
	     dir_query_int(s,
	                   "INSERT INTO principals (context_id, kind, name, display_name, created) "
	                   "VALUES ($1, $2, $3, $4, $5) RETURNING id",
	                   &id, err, "iissi", context_id, (int64_t)PRINCIPAL_RESOURCE, name,
	                   display_name, now_seconds()) > 0;
	ok = ok && dir_exec(s,
	                    "INSERT INTO resources (principal_id, is_room, booking, manager_id) "
	                    "VALUES ($1, $2, $3, $4)",
	                    NULL, err, manager != 0 ? "iiii" : "iiin", id, (int64_t)is_room,
	                    (int64_t)booking, manager) == 0;
	ok = ok && dir_exec(s,
	                    "INSERT INTO addresses (address, principal_id, is_primary) "
	                    "VALUES ($1, $2, 1)",
	                    NULL, err, "si", address, id) == 0;
	if (!ok && err != NULL && err->code == OX_ERR_EXISTS)
		ox_error_set(err, OX_ERR_EXISTS, "resource %s (or its address %s) already exists",
		             name, address != NULL ? address : "");
	g_free(domain);
	g_free(address);
	if (txn_end(s, own, ok, err) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

static const char resource_columns[] =
	"SELECT p.id, p.context_id, p.name, p.display_name, r.is_room, r.booking, "
	"COALESCE(r.manager_id, 0), (SELECT address FROM addresses a WHERE a.principal_id = p.id "
	"AND a.is_primary = 1) FROM principals p JOIN resources r ON r.principal_id = p.id "
	"JOIN contexts c ON c.id = p.context_id WHERE c.name = $1 ";

static void read_resource(struct store_stmt *st, struct resource_info *info)
{
	info->id = store_col_int(st, 0);
	info->context_id = store_col_int(st, 1);
	info->name = g_strdup(store_col_text(st, 2));
	info->display_name = g_strdup(store_col_text(st, 3));
	info->is_room = store_col_int(st, 4) != 0;
	info->booking = (enum resource_booking)store_col_int(st, 5);
	info->manager_id = store_col_int(st, 6);
	info->address = g_strdup(store_col_text(st, 7));
}

int resource_lookup(struct store *s, const char *context, const char *name,
                    struct resource_info *info_r, struct ox_error *err)
{
	memset(info_r, 0, sizeof(*info_r));
	char *sql = g_strconcat(resource_columns, "AND p.name = $2", NULL);
	struct store_stmt *st = store_prepare(s, sql, err);
	g_free(sql);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, context);
	store_bind_text(st, 2, name);
	int r = store_step(st, err);
	if (r > 0)
		read_resource(st, info_r);
	store_stmt_done(&st);
	return r;
}

int resource_list(struct store *s, const char *context, struct resource_info ***list_r,
                  struct ox_error *err)
{
	char *sql = g_strconcat(resource_columns, "ORDER BY p.name", NULL);
	struct store_stmt *st = store_prepare(s, sql, err);
	g_free(sql);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, context);
	GPtrArray *list = g_ptr_array_new();
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct resource_info *info = g_new0(struct resource_info, 1);
		read_resource(st, info);
		g_ptr_array_add(list, info);
	}
	store_stmt_done(&st);
	g_ptr_array_add(list, NULL);
	*list_r = (struct resource_info **)g_ptr_array_free(list, FALSE);
	if (r < 0)
		resource_list_free(list_r);
	return r;
}

int resource_delete(struct store *s, const char *context, const char *name, struct ox_error *err)
{
	struct resource_info info;
	int r = resource_lookup(s, context, name, &info, err);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no resource %s in context %s", name, context);
	if (r <= 0)
		return -1;
	int64_t id = info.id;
	resource_info_clear(&info);
	bool own;
	if (txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = run_principal_deleted_hook(s, id, err) == 0 &&
	          dir_exec(s, "DELETE FROM principals WHERE id = $1", NULL, err, "i", id) == 0;
	return txn_end(s, own, ok, err);
}

void resource_info_clear(struct resource_info *info)
{
	g_free(info->name);
	g_free(info->display_name);
	g_free(info->address);
	memset(info, 0, sizeof(*info));
}

void resource_list_free(struct resource_info ***listp)
{
	struct resource_info **list = *listp;
	if (list == NULL)
		return;
	*listp = NULL;
	for (struct resource_info **i = list; *i != NULL; i++) {
		resource_info_clear(*i);
		g_free(*i);
	}
	g_free(list);
}
