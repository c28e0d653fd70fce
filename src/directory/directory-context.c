/* Contexts (tenants) and their mail domains. */
#include "directory/directory-private.h"

#include <string.h>

int context_id_by_name(struct store *s, const char *name, int64_t *id_r, struct ox_error *err)
{
	return dir_query_int(s, "SELECT id FROM contexts WHERE name = $1", id_r, err, "s", name);
}

int context_id_by_domain(struct store *s, const char *domain, int64_t *id_r, struct ox_error *err)
{
	return dir_query_int(s, "SELECT context_id FROM mail_domains WHERE domain = $1", id_r, err,
	                     "s", domain);
}

static int add_domain(struct store *s, int64_t context_id, const char *domain, struct ox_error *err)
{
	char *lower = g_ascii_strdown(domain, -1);
	int r = -1;
	if (!domain_valid(lower)) {
		ox_error_set(err, OX_ERR_INVALID, "'%s' is not a valid mail domain", domain);
		goto out;
	}
	r = dir_exec(s, "INSERT INTO mail_domains (domain, context_id) VALUES ($1, $2)", NULL, err,
	             "si", lower, context_id);
	if (r < 0 && err != NULL && err->code == OX_ERR_EXISTS)
		ox_error_set(err, OX_ERR_EXISTS, "mail domain %s already belongs to a context",
		             lower);
out:
	g_free(lower);
	return r;
}

int context_create(struct store *s, const char *name, const char *domain, int64_t quota_bytes,
                   int64_t *id_r, struct ox_error *err)
{
	if (!name_valid(name))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "'%s' is not a valid context name (a-z, 0-9, '.', '_', '-')",
		                    name);
	if (quota_bytes < 0)
		return ox_error_set(err, OX_ERR_INVALID, "quota must not be negative");
	bool own;
	if (txn_begin(s, &own, err) < 0)
		return -1;
	int64_t id = 0;
	struct store_stmt *st = store_prepare(s,
	                                      "INSERT INTO contexts (name, quota_bytes, created) "
	                                      "VALUES ($1, $2, $3) RETURNING id",
	                                      err);
	bool ok = st != NULL;
	if (ok) {
		store_bind_text(st, 1, name);
		store_bind_int(st, 2, quota_bytes);
		store_bind_int(st, 3, now_seconds());
		ok = store_step(st, err) > 0;
		if (ok)
			id = store_col_int(st, 0);
		store_stmt_done(&st);
		if (!ok && err != NULL && err->code == OX_ERR_EXISTS)
			ox_error_set(err, OX_ERR_EXISTS, "context %s already exists", name);
	}
	ok = ok && add_domain(s, id, domain, err) == 0;
	if (txn_end(s, own, ok, err) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

int context_add_domain(struct store *s, int64_t context_id, const char *domain,
                       struct ox_error *err)
{
	return add_domain(s, context_id, domain, err);
}

int context_delete(struct store *s, const char *name, struct ox_error *err)
{
	int64_t id;
	bool own;
	if (txn_begin(s, &own, err) < 0)
		return -1;
	int found = context_id_by_name(s, name, &id, err);
	if (found == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no context %s", name);
	bool ok = found > 0;
	if (ok) {
		/* Principals one by one so that every hook runs (folders, blobs). */
		struct store_stmt *st =
			store_prepare(s, "SELECT id FROM principals WHERE context_id = $1", err);
		GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
		ok = st != NULL;
		if (ok) {
			store_bind_int(st, 1, id);
			int r;
			while ((r = store_step(st, err)) > 0) {
				int64_t pid = store_col_int(st, 0);
				g_array_append_val(ids, pid);
			}
			store_stmt_done(&st);
			ok = r == 0;
		}
		for (guint i = 0; ok && i < ids->len; i++)
			ok = run_principal_deleted_hook(s, g_array_index(ids, int64_t, i), err) ==
			     0;
		g_array_unref(ids);
	}
	ok = ok && run_context_deleted_hook(s, id, err) == 0;
	ok = ok &&
	     dir_exec(s, "DELETE FROM modseqs WHERE account_id = $1", NULL, err, "i", -id) == 0;
	ok = ok && dir_exec(s, "DELETE FROM contexts WHERE id = $1", NULL, err, "i", id) == 0;
	return txn_end(s, own, ok, err);
}

static int fill_domains(struct store *s, struct context_info *info, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT domain FROM mail_domains WHERE context_id = $1 ORDER BY domain", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, info->id);
	GPtrArray *domains = g_ptr_array_new();
	int r;
	while ((r = store_step(st, err)) > 0)
		g_ptr_array_add(domains, g_strdup(store_col_text(st, 0)));
	store_stmt_done(&st);
	g_ptr_array_add(domains, NULL);
	info->domains = (char **)g_ptr_array_free(domains, FALSE);
	return r;
}

#define CONTEXT_COLUMNS "SELECT id, name, quota_bytes FROM contexts "

static void read_context(struct store_stmt *st, void *row)
{
	struct context_info *info = row;
	info->id = store_col_int(st, 0);
	info->name = g_strdup(store_col_text(st, 1));
	info->quota_bytes = store_col_int(st, 2);
}

/* Completes a look-up that found (r > 0) a context with its domains;
 * returns r, or -1 with info cleared. */
static int lookup_domains(struct store *s, int r, struct context_info *info, struct ox_error *err)
{
	if (r > 0 && fill_domains(s, info, err) < 0) {
		context_info_clear(info);
		return -1;
	}
	return r;
}

int context_lookup(struct store *s, const char *name, struct context_info *info_r,
                   struct ox_error *err)
{
	memset(info_r, 0, sizeof(*info_r));
	int r = dir_query_row(s, CONTEXT_COLUMNS "WHERE name = $1", read_context, info_r, err, "s",
	                      name);
	return lookup_domains(s, r, info_r, err);
}

int context_lookup_id(struct store *s, int64_t id, struct context_info *info_r,
                      struct ox_error *err)
{
	memset(info_r, 0, sizeof(*info_r));
	int r = dir_query_row(s, CONTEXT_COLUMNS "WHERE id = $1", read_context, info_r, err, "i",
	                      id);
	return lookup_domains(s, r, info_r, err);
}

int context_list(struct store *s, struct context_info ***list_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s, CONTEXT_COLUMNS "ORDER BY name", err);
	if (st == NULL)
		return -1;
	GPtrArray *list = g_ptr_array_new();
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct context_info *info = g_new0(struct context_info, 1);
		read_context(st, info);
		g_ptr_array_add(list, info);
	}
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i < list->len; i++)
		r = fill_domains(s, g_ptr_array_index(list, i), err);
	g_ptr_array_add(list, NULL);
	*list_r = (struct context_info **)g_ptr_array_free(list, FALSE);
	if (r < 0)
		context_list_free(list_r);
	return r;
}

void context_info_clear(struct context_info *info)
{
	g_free(info->name);
	g_strfreev(info->domains);
	memset(info, 0, sizeof(*info));
}

void context_list_free(struct context_info ***listp)
{
	struct context_info **list = *listp;
	if (list == NULL)
		return;
	*listp = NULL;
	for (struct context_info **i = list; *i != NULL; i++) {
		context_info_clear(*i);
		g_free(*i);
	}
	g_free(list);
}
