/* Paths in a user's files tree: the root lists the owner's top-level files
 * folders as the actor sees them (a shared folder whose parent the actor
 * cannot see shows there too); below it folders and documents by name. */
#include "directory/directory.h"
#include "files/files-private.h"

#include <string.h>

int64_t files_now(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

int files_txn_begin(struct store *s, bool *own_r, struct ox_error *err)
{
	*own_r = !store_in_transaction(s);
	return *own_r ? store_begin(s, err) : 0;
}

int files_txn_end(struct store *s, bool own, bool ok, struct ox_error *err)
{
	if (!own)
		return ok ? 0 : -1;
	if (!ok) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s, err);
}

bool files_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > FILES_NAME_MAX || !g_utf8_validate(name, (gssize)len, NULL) ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/')
			return false;
	}
	return true;
}

void files_entry_clear(struct files_entry *e)
{
	g_free(e->name);
	g_free(e->content_type);
	memset(e, 0, sizeof(*e));
}

int files_tree_owner(struct store *s, const char *login, int64_t *owner_r, struct ox_error *err)
{
	struct user_info info;
	int r = user_lookup(s, login, &info, err);
	if (r > 0) {
		*owner_r = info.id;
		user_info_clear(&info);
	}
	return r;
}

int files_doc_load(struct store *s, int64_t folder_id, const char *name, struct files_entry *e,
                   struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"SELECT d.id, d.version, d.created, v.blob_hash, v.size, v.content_type, v.created "
		"FROM documents d JOIN document_versions v ON v.document_id = d.id AND "
		"v.version = d.version WHERE d.folder_id = $1 AND d.name = $2",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, name);
	int r = store_step(st, err);
	if (r > 0) {
		e->folder_id = folder_id;
		e->document_id = store_col_int(st, 0);
		e->version = (int)store_col_int(st, 1);
		e->created = store_col_int(st, 2);
		g_strlcpy(e->blob_hash, store_col_text(st, 3), sizeof(e->blob_hash));
		e->size = store_col_int(st, 4);
		g_free(e->content_type);
		e->content_type = g_strdup(store_col_text(st, 5));
		e->modified = store_col_int(st, 6);
		e->exists = true;
		if (e->name != name) {
			g_free(e->name);
			e->name = g_strdup(name);
		}
	}
	store_stmt_done(&st);
	return r;
}

int64_t files_doc_creator(struct store *s, const struct files_entry *doc)
{
	int64_t creator = 0;
	if (change_object_creator(s, doc->folder_id, doc->name, &creator, NULL) <= 0)
		return 0;
	return creator;
}

int files_doc_check(struct store *s, int64_t actor, const struct files_entry *doc,
                    enum folder_action action, struct ox_error *err)
{
	return folder_check(s, actor, doc->folder_id, action, files_doc_creator(s, doc), err);
}

static bool is_visible(struct folder_info **list, int64_t id)
{
	for (struct folder_info **f = list; *f != NULL; f++) {
		if ((*f)->id == id)
			return true;
	}
	return false;
}

/* Whether f is a member of collection parent (0: the root) in owner's
 * tree as the listing shows it. */
static bool is_member(struct folder_info **list, const struct folder_info *f, int64_t owner,
                      int64_t parent)
{
	if (f->owner_id != owner)
		return false;
	if (parent != 0)
		return f->parent_id == parent;
	return f->parent_id == 0 || !is_visible(list, f->parent_id);
}

static const struct folder_info *child_folder(struct folder_info **list, int64_t owner,
                                              int64_t parent, const char *name)
{
	for (struct folder_info **f = list; *f != NULL; f++) {
		if (is_member(list, *f, owner, parent) && strcmp((*f)->name, name) == 0)
			return *f;
	}
	return NULL;
}

static int owner_context(struct store *s, int64_t owner, int64_t *context_r, struct ox_error *err)
{
	struct user_info info;
	int r = user_lookup_id(s, owner, &info, err);
	if (r == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such user");
	if (r < 0)
		return -1;
	*context_r = info.context_id;
	user_info_clear(&info);
	return 0;
}

/* Dates a collection (RFC 4918 15.1, 15.7) with its folder's creation:
 * the folder layer records no time for a folder's later changes (they
 * are counted in modseqs, which are not times), so its creation is also
 * its last modification. folder_info does not carry the time, hence the
 * read of the folder's row here. The root, which is no folder, has no
 * dates. */
static int collection_dates(struct store *s, struct files_entry *e, struct ox_error *err)
{
	if (e->folder_id == 0)
		return 0;
	struct store_stmt *st = store_prepare(s, "SELECT created FROM folders WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, e->folder_id);
	int r = store_step(st, err);
	if (r > 0)
		e->created = e->modified = store_col_int(st, 0);
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

/* Resolves the last segment inside collection `parent`. */
static int resolve_last(struct store *s, int64_t actor, struct folder_info **list,
                        struct files_entry *e, int64_t parent, const char *name,
                        struct ox_error *err)
{
	e->folder_id = parent;
	e->parent_found = true;
	e->name = g_strdup(name);
	const struct folder_info *f = child_folder(list, e->owner_id, parent, name);
	if (f != NULL) {
		e->folder_id = f->id;
		e->exists = true;
		return collection_dates(s, e, err) < 0 ? -1 : 1;
	}
	if (parent == 0)
		return 0;
	int r = files_doc_load(s, parent, name, e, err);
	if (r <= 0)
		return r;
	/* A document the actor may not read is not there for them. */
	struct ox_error ignored;
	if (files_doc_check(s, actor, e, FOLDER_READ_OBJECT, &ignored) < 0) {
		int64_t keep_owner = e->owner_id, keep_context = e->context_id;
		files_entry_clear(e);
		e->owner_id = keep_owner;
		e->context_id = keep_context;
		e->folder_id = parent;
		e->parent_found = true;
		e->name = g_strdup(name);
		return 0;
	}
	return 1;
}

int files_resolve(struct store *s, int64_t actor, int64_t owner, const char *const *segs, size_t n,
                  struct files_entry *entry_r, struct ox_error *err)
{
	memset(entry_r, 0, sizeof(*entry_r));
	entry_r->owner_id = owner;
	if (n > FILES_DEPTH_MAX)
		return ox_error_set(err, OX_ERR_INVALID, "the path is too deep");
	if (owner_context(s, owner, &entry_r->context_id, err) < 0)
		return -1;
	if (n == 0) {
		entry_r->exists = true;
		return 1;
	}
	struct folder_info **list = NULL;
	if (folder_list(s, actor, FOLDER_FILES, &list, err) < 0)
		return -1;
	int64_t parent = 0;
	int r = 0;
	size_t i;
	for (i = 0; i + 1 < n; i++) {
		const struct folder_info *f = child_folder(list, owner, parent, segs[i]);
		if (f == NULL)
			break;
		parent = f->id;
	}
	if (i + 1 == n) {
		r = resolve_last(s, actor, list, entry_r, parent, segs[n - 1], err);
	} else {
		entry_r->name = g_strdup(segs[n - 1]);
		entry_r->folder_id = 0;
	}
	folder_list_free(&list);
	return r;
}

static int list_documents(struct store *s, int64_t actor, const struct folder_info *folder,
                          files_entry_fn *fn, void *ctx, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"SELECT d.id, d.name, d.version, d.created, v.blob_hash, v.size, v.content_type, "
		"v.created FROM documents d JOIN document_versions v ON v.document_id = d.id AND "
		"v.version = d.version WHERE d.folder_id = $1 ORDER BY d.name",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder->id);
	GPtrArray *docs = g_ptr_array_new();
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct files_entry *e = g_new0(struct files_entry, 1);
		e->owner_id = folder->owner_id;
		e->context_id = folder->context_id;
		e->folder_id = folder->id;
		e->exists = true;
		e->document_id = store_col_int(st, 0);
		e->name = g_strdup(store_col_text(st, 1));
		e->version = (int)store_col_int(st, 2);
		e->created = store_col_int(st, 3);
		g_strlcpy(e->blob_hash, store_col_text(st, 4), sizeof(e->blob_hash));
		e->size = store_col_int(st, 5);
		e->content_type = g_strdup(store_col_text(st, 6));
		e->modified = store_col_int(st, 7);
		g_ptr_array_add(docs, e);
	}
	store_stmt_done(&st);
	/* Readers of their own objects only see those they created. */
	bool all = folder_rights_allow(&folder->rights, FOLDER_READ_OBJECT, false);
	for (guint i = 0; r == 0 && i < docs->len; i++) {
		struct files_entry *e = g_ptr_array_index(docs, i);
		if (all || (folder_rights_allow(&folder->rights, FOLDER_READ_OBJECT, true) &&
		            files_doc_creator(s, e) == actor))
			r = fn(e, ctx);
	}
	for (guint i = 0; i < docs->len; i++) {
		files_entry_clear(g_ptr_array_index(docs, i));
		g_free(g_ptr_array_index(docs, i));
	}
	g_ptr_array_free(docs, TRUE);
	return r < 0 ? -1 : 0;
}

int files_list(struct store *s, int64_t actor, const struct files_entry *coll, files_entry_fn *fn,
               void *ctx, struct ox_error *err)
{
	if (!files_entry_is_collection(coll))
		return ox_error_set(err, OX_ERR_INVALID, "not a collection");
	struct folder_info **list = NULL;
	if (folder_list(s, actor, FOLDER_FILES, &list, err) < 0)
		return -1;
	int r = 0;
	const struct folder_info *self = NULL;
	for (struct folder_info **f = list; r == 0 && *f != NULL; f++) {
		if ((*f)->id == coll->folder_id)
			self = *f;
		if (!is_member(list, *f, coll->owner_id, coll->folder_id))
			continue;
		struct files_entry e = {
			.owner_id = coll->owner_id,
			.context_id = coll->context_id,
			.folder_id = (*f)->id,
			.exists = true,
			.name = (*f)->name,
		};
		r = collection_dates(s, &e, err);
		if (r == 0)
			r = fn(&e, ctx);
	}
	if (r == 0 && self != NULL)
		r = list_documents(s, actor, self, fn, ctx, err);
	folder_list_free(&list);
	return r < 0 ? -1 : 0;
}

/* Paths longer than the deepest tree of the longest names are not paths. */
#define FILES_PATH_MAX ((FILES_DEPTH_MAX + 1) * (FILES_NAME_MAX + 1))

int files_resolve_path(struct store *s, int64_t actor, const char *path,
                       struct files_entry *entry_r, struct ox_error *err)
{
	memset(entry_r, 0, sizeof(*entry_r));
	if (strlen(path) > FILES_PATH_MAX || !g_utf8_validate(path, -1, NULL))
		return ox_error_set(err, OX_ERR_INVALID, "malformed path");
	gchar **parts = g_strsplit(path, "/", -1);
	GPtrArray *segs = g_ptr_array_new();
	int r = 0;
	for (gchar **p = parts; r == 0 && *p != NULL; p++) {
		if (**p == '\0')
			continue;
		if (strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0 || strlen(*p) > FILES_NAME_MAX ||
		    segs->len > FILES_DEPTH_MAX)
			r = ox_error_set(err, OX_ERR_INVALID, "malformed path");
		g_ptr_array_add(segs, *p);
	}
	if (r == 0 && segs->len == 0)
		r = ox_error_set(err, OX_ERR_INVALID, "the path names no user's tree");
	int64_t owner = 0;
	if (r == 0)
		r = files_tree_owner(s, g_ptr_array_index(segs, 0), &owner, err);
	if (r > 0)
		r = files_resolve(s, actor, owner, (const char *const *)segs->pdata + 1,
		                  segs->len - 1, entry_r, err);
	g_ptr_array_free(segs, TRUE);
	g_strfreev(parts);
	return r;
}
