/* The folder tree: create, rename, move, delete, list, and the default
 * folders of every new user. */
#include "directory/directory.h"
#include "folder/folder-private.h"

#include <string.h>

#define FOLDER_NAME_MAX 255
#define FOLDER_DEPTH_MAX 64

static const char *const module_names[] = {
	[FOLDER_MAIL] = "mail",   [FOLDER_CALENDAR] = "calendar", [FOLDER_CONTACTS] = "contacts",
	[FOLDER_TASKS] = "tasks", [FOLDER_FILES] = "files",
};

const char *folder_module_name(enum folder_module m)
{
	return m >= FOLDER_MAIL && m <= FOLDER_FILES ? module_names[m] : "?";
}

int folder_module_parse(const char *name, enum folder_module *m_r)
{
	for (int m = FOLDER_MAIL; m <= FOLDER_FILES; m++) {
		if (strcmp(name, module_names[m]) == 0) {
			*m_r = (enum folder_module)m;
			return 0;
		}
	}
	return -1;
}

int folder_txn_begin(struct store *s, bool *own_r, struct ox_error *err)
{
	*own_r = !store_in_transaction(s);
	return *own_r ? store_begin(s, err) : 0;
}

int folder_txn_end(struct store *s, bool own, bool ok, struct ox_error *err)
{
	if (!own)
		return ok ? 0 : -1;
	if (!ok) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s, err);
}

#define FOLDER_HOOKS_MAX 8

static folder_deleting_hook *deleting_hooks[FOLDER_HOOKS_MAX];
static size_t n_deleting_hooks;

void folder_add_deleting_hook(folder_deleting_hook *hook)
{
	for (size_t i = 0; i < n_deleting_hooks; i++) {
		if (deleting_hooks[i] == hook)
			return;
	}
	if (n_deleting_hooks == FOLDER_HOOKS_MAX)
		g_error("folder_add_deleting_hook: more than %d hooks", FOLDER_HOOKS_MAX);
	deleting_hooks[n_deleting_hooks++] = hook;
}

static int run_deleting_hooks(struct store *s, int64_t folder_id, enum folder_module module,
                              struct ox_error *err)
{
	for (size_t i = 0; i < n_deleting_hooks; i++) {
		if (deleting_hooks[i](s, folder_id, module, err) < 0)
			return -1;
	}
	return 0;
}

/* Runs the deleting hooks for every folder a query of one id parameter
 * selects (id, module), before a statement deletes them wholesale. */
static int run_deleting_hooks_where(struct store *s, const char *sql, int64_t id,
                                    struct ox_error *err)
{
	if (n_deleting_hooks == 0)
		return 0;
	struct store_stmt *st = store_prepare(s, sql, err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, id);
	struct doomed {
		int64_t id;
		enum folder_module module;
	};
	GArray *rows = g_array_new(FALSE, FALSE, sizeof(struct doomed));
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct doomed d = {store_col_int(st, 0), (enum folder_module)store_col_int(st, 1)};
		g_array_append_val(rows, d);
	}
	store_stmt_done(&st);
	/* After the statement is done: a hook may use the store. */
	for (guint i = 0; r == 0 && i < rows->len; i++) {
		const struct doomed *d = &g_array_index(rows, struct doomed, i);
		r = run_deleting_hooks(s, d->id, d->module, err);
	}
	g_array_unref(rows);
	return r;
}

bool folder_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > FOLDER_NAME_MAX || !g_utf8_validate(name, (gssize)len, NULL) ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	/* '/' separates path segments in every protocol that shows the tree. */
	for (const char *p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/')
			return false;
	}
	return true;
}

int modseq_next(struct store *s, int64_t account_id, int64_t *modseq_r, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s,
	                      "INSERT INTO modseqs (account_id, modseq) VALUES ($1, 1) "
	                      "ON CONFLICT (account_id) DO UPDATE SET "
	                      "modseq = modseqs.modseq + 1 RETURNING modseq",
	                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, account_id);
	int r = store_step(st, err);
	if (r > 0)
		*modseq_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r > 0 ? 0 : -1;
}

int folder_row(struct store *s, int64_t folder_id, struct folder_row *row_r, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s,
	                      "SELECT id, context_id, COALESCE(parent_id, 0), "
	                      "COALESCE(owner_id, 0), account_id, module FROM folders "
	                      "WHERE id = $1",
	                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	if (r > 0) {
		row_r->id = store_col_int(st, 0);
		row_r->context_id = store_col_int(st, 1);
		row_r->parent_id = store_col_int(st, 2);
		row_r->owner_id = store_col_int(st, 3);
		row_r->account_id = store_col_int(st, 4);
		row_r->module = (enum folder_module)store_col_int(st, 5);
	}
	store_stmt_done(&st);
	return r;
}

static int insert_folder(struct store *s, int64_t context_id, int64_t parent_id, int64_t owner_id,
                         int64_t account_id, enum folder_module module, const char *name,
                         const char *role, int64_t creator, int64_t *id_r, struct ox_error *err)
{
	int64_t modseq;
	if (modseq_next(s, account_id, &modseq, err) < 0)
		return -1;
	struct store_stmt *st = store_prepare(
		s,
		"INSERT INTO folders (context_id, parent_id, owner_id, account_id, module, name, "
		"role, "
		"created_by, created, modseq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
		"RETURNING id",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, context_id);
	if (parent_id != 0)
		store_bind_int(st, 2, parent_id);
	else
		store_bind_null(st, 2);
	if (owner_id != 0)
		store_bind_int(st, 3, owner_id);
	else
		store_bind_null(st, 3);
	store_bind_int(st, 4, account_id);
	store_bind_int(st, 5, module);
	store_bind_text(st, 6, name);
	store_bind_text(st, 7, role);
	if (creator != 0)
		store_bind_int(st, 8, creator);
	else
		store_bind_null(st, 8);
	store_bind_int(st, 9, g_get_real_time() / G_USEC_PER_SEC);
	store_bind_int(st, 10, modseq);
	int r = store_step(st, err);
	if (r > 0)
		*id_r = store_col_int(st, 0);
	store_stmt_done(&st);
	if (r < 0 && err != NULL && err->code == OX_ERR_EXISTS)
		ox_error_set(err, OX_ERR_EXISTS, "a folder named '%s' already exists there", name);
	return r > 0 ? 0 : -1;
}

/* 0 with the principal's context (0 for an unknown principal), or -1. */
static int principal_context(struct store *s, int64_t principal, int64_t *context_r,
                             struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "SELECT context_id FROM principals WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, principal);
	int r = store_step(st, err);
	*context_r = r > 0 ? store_col_int(st, 0) : 0;
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

int folder_create(struct store *s, int64_t actor, int64_t context_id, int64_t parent_id,
                  bool public_tree, enum folder_module module, const char *name, int64_t *id_r,
                  struct ox_error *err)
{
	if (!folder_name_valid(name))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a folder name is 1 to 255 characters without '/' or controls");
	if (module < FOLDER_MAIL || module > FOLDER_FILES)
		return ox_error_set(err, OX_ERR_INVALID, "unknown folder module");
	int64_t owner = 0, account = -context_id;
	if (parent_id != 0) {
		struct folder_row parent;
		int found = folder_row(s, parent_id, &parent, err);
		if (found == 0)
			ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
		if (found <= 0 ||
		    folder_check(s, actor, parent_id, FOLDER_CREATE_SUBFOLDER, 0, err) < 0)
			return -1;
		if (parent.module != module)
			return ox_error_set(
				err, OX_ERR_INVALID, "a %s folder cannot hold a %s folder",
				folder_module_name(parent.module), folder_module_name(module));
		context_id = parent.context_id;
		owner = parent.owner_id;
		account = parent.account_id;
	} else if (!public_tree) {
		if (actor == FOLDER_SYSTEM_ACTOR)
			return ox_error_set(err, OX_ERR_INVALID, "a private folder needs an owner");
		/* In another context the folder could be shared with that
		 * context's users: a tenant boundary. */
		int64_t actor_context = 0;
		if (principal_context(s, actor, &actor_context, err) < 0)
			return -1;
		if (actor_context != context_id)
			return ox_error_set(err, OX_ERR_INVALID,
			                    "a private folder lies in its owner's context");
		owner = actor;
		account = actor;
	} else if (actor != FOLDER_SYSTEM_ACTOR) {
		return ox_error_set(err, OX_ERR_PERM,
		                    "only an administrator creates public folders");
	}
	bool own;
	if (folder_txn_begin(s, &own, err) < 0)
		return -1;
	int64_t id = 0;
	bool ok = insert_folder(s, context_id, parent_id, owner, account, module, name, NULL, actor,
	                        &id, err) == 0;
	/* The creator of a folder in someone else's tree administers it. */
	if (ok && actor != FOLDER_SYSTEM_ACTOR && actor != owner) {
		struct folder_perm admin = {PERM_FOLDER_ALL, PERM_OBJECTS_ADMIN, PERM_OBJECTS_ADMIN,
		                            PERM_OBJECTS_ADMIN, true};
		ok = folder_set_permission(s, FOLDER_SYSTEM_ACTOR, id, actor, &admin, err) == 0;
	}
	if (folder_txn_end(s, own, ok, err) < 0)
		return -1;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

static int stamp(struct store *s, int64_t folder_id, int64_t account_id, struct ox_error *err)
{
	int64_t modseq;
	if (modseq_next(s, account_id, &modseq, err) < 0)
		return -1;
	struct store_stmt *st =
		store_prepare(s, "UPDATE folders SET modseq = $2 WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_int(st, 2, modseq);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

static int require_admin(struct store *s, int64_t actor, int64_t folder_id, struct folder_row *row,
                         struct ox_error *err)
{
	int found = folder_row(s, folder_id, row, err);
	if (found == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
	if (found <= 0)
		return -1;
	return folder_check(s, actor, folder_id, FOLDER_ADMIN, 0, err);
}

int folder_rename(struct store *s, int64_t actor, int64_t folder_id, const char *name,
                  struct ox_error *err)
{
	struct folder_row row;
	if (!folder_name_valid(name))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a folder name is 1 to 255 characters without '/' or controls");
	if (require_admin(s, actor, folder_id, &row, err) < 0)
		return -1;
	bool own;
	if (folder_txn_begin(s, &own, err) < 0)
		return -1;
	struct store_stmt *st = store_prepare(s, "UPDATE folders SET name = $2 WHERE id = $1", err);
	bool ok = st != NULL;
	if (ok) {
		store_bind_int(st, 1, folder_id);
		store_bind_text(st, 2, name);
		ok = store_run(st, err) == 0;
		store_stmt_done(&st);
		if (!ok && err != NULL && err->code == OX_ERR_EXISTS)
			ox_error_set(err, OX_ERR_EXISTS, "a folder named '%s' already exists there",
			             name);
	}
	ok = ok && stamp(s, folder_id, row.account_id, err) == 0;
	return folder_txn_end(s, own, ok, err);
}

int folder_move(struct store *s, int64_t actor, int64_t folder_id, int64_t new_parent_id,
                struct ox_error *err)
{
	struct folder_row row, parent = {0};
	if (require_admin(s, actor, folder_id, &row, err) < 0)
		return -1;
	/* The top of a tree is as folder_create() has it: the owner's for a
	 * private tree, the system's for the public one. */
	if (new_parent_id == 0 && actor != FOLDER_SYSTEM_ACTOR && actor != row.owner_id)
		return ox_error_set(err, OX_ERR_PERM, "only the owner moves a folder to the top");
	if (new_parent_id != 0) {
		int found = folder_row(s, new_parent_id, &parent, err);
		if (found == 0)
			ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
		if (found <= 0 ||
		    folder_check(s, actor, new_parent_id, FOLDER_CREATE_SUBFOLDER, 0, err) < 0)
			return -1;
		if (parent.module != row.module || parent.owner_id != row.owner_id ||
		    parent.context_id != row.context_id)
			return ox_error_set(err, OX_ERR_INVALID,
			                    "a folder moves only within its own tree and module");
		/* Walk up from the new parent: meeting the folder means a cycle. */
		int64_t at = new_parent_id;
		for (int depth = 0; at != 0; depth++) {
			if (at == folder_id)
				return ox_error_set(err, OX_ERR_INVALID,
				                    "a folder cannot move into its own subtree");
			if (depth > FOLDER_DEPTH_MAX)
				return ox_error_set(err, OX_ERR_INVALID,
				                    "the folder tree is too deep");
			struct folder_row up;
			if (folder_row(s, at, &up, err) <= 0)
				return -1;
			at = up.parent_id;
		}
	}
	bool own;
	if (folder_txn_begin(s, &own, err) < 0)
		return -1;
	struct store_stmt *st =
		store_prepare(s, "UPDATE folders SET parent_id = $2 WHERE id = $1", err);
	bool ok = st != NULL;
	if (ok) {
		store_bind_int(st, 1, folder_id);
		if (new_parent_id != 0)
			store_bind_int(st, 2, new_parent_id);
		else
			store_bind_null(st, 2);
		ok = store_run(st, err) == 0;
		store_stmt_done(&st);
		if (!ok && err != NULL && err->code == OX_ERR_EXISTS)
			ox_error_set(err, OX_ERR_EXISTS,
			             "a folder of that name already exists there");
	}
	ok = ok && stamp(s, folder_id, row.account_id, err) == 0;
	return folder_txn_end(s, own, ok, err);
}

/* Ids of a folder and everything below it, parents first. */
static GArray *subtree(struct store *s, int64_t folder_id, struct ox_error *err)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g_array_append_val(ids, folder_id);
	for (guint i = 0; i < ids->len; i++) {
		struct store_stmt *st =
			store_prepare(s, "SELECT id FROM folders WHERE parent_id = $1", err);
		if (st == NULL)
			goto fail;
		store_bind_int(st, 1, g_array_index(ids, int64_t, i));
		int r;
		while ((r = store_step(st, err)) > 0) {
			int64_t id = store_col_int(st, 0);
			g_array_append_val(ids, id);
		}
		store_stmt_done(&st);
		if (r < 0)
			goto fail;
	}
	return ids;
fail:
	g_array_unref(ids);
	return NULL;
}

static int delete_tree(struct store *s, int64_t folder_id, int64_t account_id, struct ox_error *err)
{
	GArray *ids = subtree(s, folder_id, err);
	if (ids == NULL)
		return -1;
	int r = 0;
	for (guint i = 0; r == 0 && i < ids->len; i++) {
		int64_t id = g_array_index(ids, int64_t, i), modseq;
		struct folder_row row;
		r = folder_row(s, id, &row, err) > 0 ? 0 : -1;
		r = r == 0 ? run_deleting_hooks(s, id, row.module, err) : -1;
		r = r == 0 ? modseq_next(s, account_id, &modseq, err) : -1;
		if (r < 0)
			break;
		struct store_stmt *st = store_prepare(
			s,
			"INSERT INTO folder_tombstones (id, account_id, parent_id, modseq) "
			"VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET modseq = $4",
			err);
		if (st == NULL) {
			r = -1;
			break;
		}
		store_bind_int(st, 1, id);
		store_bind_int(st, 2, account_id);
		store_bind_int(st, 3, row.parent_id);
		store_bind_int(st, 4, modseq);
		r = store_run(st, err);
		store_stmt_done(&st);
	}
	if (r == 0) {
		/* ON DELETE CASCADE takes subfolders, permissions and changes. */
		struct store_stmt *st = store_prepare(s, "DELETE FROM folders WHERE id = $1", err);
		r = st != NULL ? 0 : -1;
		if (r == 0) {
			store_bind_int(st, 1, folder_id);
			r = store_run(st, err);
			store_stmt_done(&st);
		}
	}
	g_array_unref(ids);
	return r;
}

int folder_delete(struct store *s, int64_t actor, int64_t folder_id, struct ox_error *err)
{
	struct folder_row row;
	if (require_admin(s, actor, folder_id, &row, err) < 0)
		return -1;
	bool own;
	if (folder_txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = delete_tree(s, folder_id, row.account_id, err) == 0;
	return folder_txn_end(s, own, ok, err);
}

/* --- reading --- */

static const char folder_columns[] =
	"SELECT id, context_id, COALESCE(parent_id, 0), COALESCE(owner_id, 0), module, name, role, "
	"modseq FROM folders ";

static struct folder_info *read_folder(struct store_stmt *st)
{
	struct folder_info *info = g_new0(struct folder_info, 1);
	info->id = store_col_int(st, 0);
	info->context_id = store_col_int(st, 1);
	info->parent_id = store_col_int(st, 2);
	info->owner_id = store_col_int(st, 3);
	info->module = (enum folder_module)store_col_int(st, 4);
	info->name = g_strdup(store_col_text(st, 5));
	info->role = g_strdup(store_col_text(st, 6));
	info->modseq = store_col_int(st, 7);
	return info;
}

int folder_get(struct store *s, int64_t viewer, int64_t folder_id, struct folder_info *info_r,
               struct ox_error *err)
{
	memset(info_r, 0, sizeof(*info_r));
	char *sql = g_strconcat(folder_columns, "WHERE id = $1", NULL);
	struct store_stmt *st = store_prepare(s, sql, err);
	g_free(sql);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	struct folder_info *info = r > 0 ? read_folder(st) : NULL;
	store_stmt_done(&st);
	if (info == NULL)
		return r;
	if (folder_rights(s, viewer, folder_id, &info->rights, err) < 0) {
		folder_info_clear(info);
		g_free(info);
		return -1;
	}
	if (!folder_rights_allow(&info->rights, FOLDER_SEE, false)) {
		folder_info_clear(info);
		g_free(info);
		return 0;
	}
	info->shared = info->owner_id != 0 && info->owner_id != viewer;
	*info_r = *info;
	g_free(info);
	return 1;
}

/* Ends a folder of folder_list(): kept when the viewer may see it. */
static void list_add(GPtrArray *visible, struct folder_info *info, int64_t viewer)
{
	if (info == NULL)
		return;
	if (folder_rights_allow(&info->rights, FOLDER_SEE, false)) {
		info->shared = info->owner_id != 0 && info->owner_id != viewer;
		g_ptr_array_add(visible, info);
	} else {
		folder_info_clear(info);
		g_free(info);
	}
}

int folder_list(struct store *s, int64_t viewer, enum folder_module module,
                struct folder_info ***list_r, struct ox_error *err)
{
	/* Candidates: the viewer's own folders, and folders with a permission
	 * naming the viewer or one of its groups (each found through an index,
	 * however many folders the context holds), with one row per such entry
	 * so that the rights come from the same query (as folder_rights()
	 * computes them) rather than from one query per folder. The id last
	 * keeps a folder's rows together. */
	struct store_stmt *st = store_prepare(
		s,
		"WITH ent (id) AS (SELECT CAST($1 AS BIGINT) UNION ALL "
		"SELECT group_id FROM group_members WHERE member_id = $1) "
		"SELECT f.id, f.context_id, COALESCE(f.parent_id, 0), COALESCE(f.owner_id, 0), "
		"f.module, f.name, f.role, f.modseq, p.bits FROM folders f "
		"LEFT JOIN permissions p ON p.folder_id = f.id "
		"AND p.entity_id IN (SELECT id FROM ent) "
		"WHERE f.id IN (SELECT id FROM folders WHERE owner_id = $1 UNION "
		"SELECT folder_id FROM permissions WHERE entity_id IN (SELECT id FROM ent)) "
		"AND ($2 = 0 OR f.module = $2) "
		"ORDER BY COALESCE(f.owner_id, 0) <> $1, f.owner_id, f.module, f.parent_id, "
		"f.name, f.id",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, viewer);
	store_bind_int(st, 2, module);
	GPtrArray *visible = g_ptr_array_new();
	struct folder_info *info = NULL;
	int r;
	while ((r = store_step(st, err)) > 0) {
		if (info == NULL || info->id != store_col_int(st, 0)) {
			list_add(visible, info, viewer);
			info = read_folder(st);
			if (info->owner_id == viewer)
				info->rights = (struct folder_perm){
					PERM_FOLDER_ALL, PERM_OBJECTS_ADMIN, PERM_OBJECTS_ADMIN,
					PERM_OBJECTS_ADMIN, true};
		}
		if (!store_col_is_null(st, 8)) {
			struct folder_perm p;
			folder_perm_unpack((uint32_t)store_col_int(st, 8), &p);
			folder_perm_union(&info->rights, &p);
		}
	}
	store_stmt_done(&st);
	list_add(visible, info, viewer);
	g_ptr_array_add(visible, NULL);
	*list_r = (struct folder_info **)g_ptr_array_free(visible, FALSE);
	if (r < 0)
		folder_list_free(list_r);
	return r;
}

int folder_by_role(struct store *s, int64_t owner, const char *role, int64_t *id_r,
                   struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "SELECT id FROM folders WHERE owner_id = $1 AND role = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, owner);
	store_bind_text(st, 2, role);
	int r = store_step(st, err);
	if (r > 0)
		*id_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r;
}

/* Whether the owner has a top-level folder of that name: 1, 0, -1. */
static int top_level_name_taken(struct store *s, int64_t owner, const char *name,
                                struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT 1 FROM folders WHERE owner_id = $1 AND "
	                                      "parent_id IS NULL AND name = $2",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, owner);
	store_bind_text(st, 2, name);
	int r = store_step(st, err);
	store_stmt_done(&st);
	return r;
}

int folder_by_role_or_create(struct store *s, int64_t owner, enum folder_module module,
                             const char *role, const char *name, int64_t *id_r,
                             struct ox_error *err)
{
	int r = folder_by_role(s, owner, role, id_r, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	int64_t context_id;
	if (principal_context(s, owner, &context_id, err) < 0)
		return -1;
	if (context_id == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such principal");
	bool own = !store_in_transaction(s);
	if (own && store_begin(s, err) < 0)
		return -1;
	/* A failed INSERT would spoil a PostgreSQL transaction: find a free
	 * name first. */
	char *free_name = NULL;
	for (int i = 1; r == 0 && free_name == NULL && i <= 20; i++) {
		char *try = i == 1 ? g_strdup(name) : g_strdup_printf("%s (%d)", name, i);
		r = top_level_name_taken(s, owner, try, err);
		if (r == 0)
			free_name = try;
		else
			g_free(try);
	}
	r = free_name == NULL
	            ? (r < 0 ? -1 : ox_error_set(err, OX_ERR_EXISTS, "no free folder name"))
	            : insert_folder(s, context_id, 0, owner, owner, module, free_name, role, owner,
	                            id_r, err);
	g_free(free_name);
	if (!own)
		return r;
	if (r < 0 || store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

void folder_info_clear(struct folder_info *info)
{
	g_free(info->name);
	g_free(info->role);
	memset(info, 0, sizeof(*info));
}

void folder_list_free(struct folder_info ***listp)
{
	struct folder_info **list = *listp;
	if (list == NULL)
		return;
	*listp = NULL;
	for (struct folder_info **i = list; *i != NULL; i++) {
		folder_info_clear(*i);
		g_free(*i);
	}
	g_free(list);
}

/* --- hooks --- */

static const struct {
	enum folder_module module;
	const char *name;
	const char *role;
} default_folders[] = {
	{FOLDER_MAIL, "Inbox", "inbox"},
	{FOLDER_MAIL, "Sent", "sent"},
	{FOLDER_MAIL, "Drafts", "drafts"},
	{FOLDER_MAIL, "Trash", "trash"},
	{FOLDER_MAIL, "Junk", "junk"},
	{FOLDER_MAIL, "Archive", "archive"},
	{FOLDER_CALENDAR, "Calendar", "calendar"},
	{FOLDER_CONTACTS, "Contacts", "contacts"},
	{FOLDER_TASKS, "Tasks", "tasks"},
	{FOLDER_FILES, "Documents", "documents"},
};

static int create_defaults(struct store *s, int64_t context_id, int64_t user_id,
                           struct ox_error *err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(default_folders); i++) {
		int64_t id;
		if (insert_folder(s, context_id, 0, user_id, user_id, default_folders[i].module,
		                  default_folders[i].name, default_folders[i].role, user_id, &id,
		                  err) < 0)
			return -1;
	}
	return 0;
}

static int principal_gone(struct store *s, int64_t principal_id, struct ox_error *err)
{
	if (run_deleting_hooks_where(s, "SELECT id, module FROM folders WHERE owner_id = $1",
	                             principal_id, err) < 0)
		return -1;
	static const char *const cleanup[] = {
		/* Their folders (subfolders, permissions, changes cascade). */
		"DELETE FROM folders WHERE owner_id = $1",
		/* Every share that names them. */
		"DELETE FROM permissions WHERE entity_id = $1",
		"DELETE FROM folder_tombstones WHERE account_id = $1",
		"DELETE FROM modseqs WHERE account_id = $1",
		/* What they created in others' folders stays, without their id. */
		"UPDATE changes SET created_by = NULL WHERE created_by = $1",
		"UPDATE folders SET created_by = NULL WHERE created_by = $1",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cleanup); i++) {
		struct store_stmt *st = store_prepare(s, cleanup[i], err);
		if (st == NULL)
			return -1;
		store_bind_int(st, 1, principal_id);
		int r = store_run(st, err);
		store_stmt_done(&st);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* The context's public folders go with its row (ON DELETE CASCADE), after
 * the hooks have seen them. */
static int context_gone(struct store *s, int64_t context_id, struct ox_error *err)
{
	return run_deleting_hooks_where(
		s, "SELECT id, module FROM folders WHERE context_id = $1 AND owner_id IS NULL",
		context_id, err);
}

void folder_register_hooks(void)
{
	directory_set_user_created_hook(create_defaults);
	directory_set_principal_deleted_hook(principal_gone);
	directory_set_context_deleted_hook(context_gone);
}
