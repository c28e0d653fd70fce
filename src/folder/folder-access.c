/* The one place that decides access: effective rights of a user on a
 * folder, and the permission entries behind them. */
#include "directory/directory.h"
#include "folder/folder-private.h"

#include <string.h>

void folder_perm_union(struct folder_perm *acc, const struct folder_perm *p)
{
	acc->folder = MAX(acc->folder, p->folder);
	acc->read = MAX(acc->read, p->read);
	acc->write = MAX(acc->write, p->write);
	acc->del = MAX(acc->del, p->del);
	acc->admin = acc->admin || p->admin;
}

/* Field by field: memcmp() would also compare padding, which nobody sets. */
static bool perm_equal(const struct folder_perm *a, const struct folder_perm *b)
{
	return a->folder == b->folder && a->read == b->read && a->write == b->write &&
	       a->del == b->del && a->admin == b->admin;
}

int folder_rights(struct store *s, int64_t user, int64_t folder_id, struct folder_perm *rights_r,
                  struct ox_error *err)
{
	static const struct folder_perm all = {PERM_FOLDER_ALL, PERM_OBJECTS_ADMIN,
	                                       PERM_OBJECTS_ADMIN, PERM_OBJECTS_ADMIN, true};
	memset(rights_r, 0, sizeof(*rights_r));
	if (user == FOLDER_SYSTEM_ACTOR) {
		*rights_r = all;
		return 0;
	}
	/* One query: the owner flag and the entries of the user and of every
	 * group the user belongs to. */
	struct store_stmt *st = store_prepare(
		s,
		"SELECT COALESCE(f.owner_id, 0) = $2, p.bits FROM folders f "
		"LEFT JOIN permissions p ON p.folder_id = f.id AND (p.entity_id = $2 OR "
		"p.entity_id IN (SELECT group_id FROM group_members WHERE member_id = $2)) "
		"WHERE f.id = $1",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_int(st, 2, user);
	int r;
	while ((r = store_step(st, err)) > 0) {
		if (store_col_int(st, 0) != 0) {
			*rights_r = all;
			continue;
		}
		if (!store_col_is_null(st, 1)) {
			struct folder_perm p;
			folder_perm_unpack((uint32_t)store_col_int(st, 1), &p);
			folder_perm_union(rights_r, &p);
		}
	}
	store_stmt_done(&st);
	return r;
}

int folder_check(struct store *s, int64_t user, int64_t folder_id, enum folder_action action,
                 int64_t object_creator, struct ox_error *err)
{
	struct folder_perm rights;
	if (folder_rights(s, user, folder_id, &rights, err) < 0)
		return -1;
	if (!folder_rights_allow(&rights, FOLDER_SEE, false))
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
	bool own = object_creator != 0 && object_creator == user;
	if (!folder_rights_allow(&rights, action, own))
		return ox_error_set(err, OX_ERR_PERM, "permission denied");
	return 0;
}

int folder_set_permission(struct store *s, int64_t actor, int64_t folder_id, int64_t entity_id,
                          const struct folder_perm *perm, struct ox_error *err)
{
	struct folder_row row;
	int found = folder_row(s, folder_id, &row, err);
	if (found == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
	if (found <= 0 || folder_check(s, actor, folder_id, FOLDER_ADMIN, 0, err) < 0)
		return -1;
	uint32_t bits = folder_perm_pack(perm);
	struct folder_perm check;
	folder_perm_unpack(bits, &check);
	if (!perm_equal(&check, perm) || folder_perm_parse(folder_perm_format(perm), &check) < 0)
		return ox_error_set(err, OX_ERR_INVALID, "not a valid permission level");
	struct store_stmt *st =
		store_prepare(s, "SELECT context_id, kind FROM principals WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, entity_id);
	int r = store_step(st, err);
	int64_t context = r > 0 ? store_col_int(st, 0) : 0;
	int64_t kind = r > 0 ? store_col_int(st, 1) : 0;
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	if (r == 0 || context != row.context_id || kind == PRINCIPAL_RESOURCE)
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a permission names a user or group of the folder's context");
	if (entity_id == row.owner_id)
		return ox_error_set(err, OX_ERR_INVALID, "the owner always holds every right");
	bool own;
	if (folder_txn_begin(s, &own, err) < 0)
		return -1;
	bool ok;
	if (bits == 0) {
		st = store_prepare(
			s, "DELETE FROM permissions WHERE folder_id = $1 AND entity_id = $2", err);
		ok = st != NULL;
		if (ok) {
			store_bind_int(st, 1, folder_id);
			store_bind_int(st, 2, entity_id);
		}
	} else {
		st = store_prepare(
			s,
			"INSERT INTO permissions (folder_id, entity_id, bits) VALUES ($1, $2, "
			"$3) ON CONFLICT (folder_id, entity_id) DO UPDATE SET bits = $3",
			err);
		ok = st != NULL;
		if (ok) {
			store_bind_int(st, 1, folder_id);
			store_bind_int(st, 2, entity_id);
			store_bind_int(st, 3, bits);
		}
	}
	ok = ok && store_run(st, err) == 0;
	store_stmt_done(&st);
	/* Clients learn of a changed share through the folder's modseq. */
	int64_t modseq;
	ok = ok && modseq_next(s, row.account_id, &modseq, err) == 0;
	if (ok) {
		st = store_prepare(s, "UPDATE folders SET modseq = $2 WHERE id = $1", err);
		ok = st != NULL;
		if (ok) {
			store_bind_int(st, 1, folder_id);
			store_bind_int(st, 2, modseq);
			ok = store_run(st, err) == 0;
			store_stmt_done(&st);
		}
	}
	return folder_txn_end(s, own, ok, err);
}

int folder_permissions(struct store *s, int64_t folder_id, struct folder_permission_entry **list_r,
                       int *count_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"SELECT entity_id, bits FROM permissions WHERE folder_id = $1 ORDER BY entity_id",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	GArray *list = g_array_new(FALSE, TRUE, sizeof(struct folder_permission_entry));
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct folder_permission_entry e = {.entity_id = store_col_int(st, 0)};
		folder_perm_unpack((uint32_t)store_col_int(st, 1), &e.perm);
		g_array_append_val(list, e);
	}
	store_stmt_done(&st);
	*count_r = (int)list->len;
	*list_r = (struct folder_permission_entry *)g_array_free(list, FALSE);
	return r;
}
