/* Dead properties: whatever a client stores on a resource, kept as the
 * property element's XML text. A folder's own properties have document
 * id 0. */
#include "files/files-private.h"

#include <string.h>

#define FILES_PROP_VALUE_MAX (64 * 1024)
#define FILES_PROP_NAME_MAX 1024

/* Reading properties needs what reading the resource needs; changing them
 * needs write access to a document, or admin on a collection (WebDAV's
 * write-properties privilege maps to admin). */
static int props_check(struct store *s, int64_t actor, const struct files_entry *e, bool write,
                       struct ox_error *err)
{
	if (!e->exists)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such resource");
	if (e->document_id != 0)
		return files_doc_check(s, actor, e,
		                       write ? FOLDER_WRITE_OBJECT : FOLDER_READ_OBJECT, err);
	if (e->folder_id == 0)
		return write ? ox_error_set(err, OX_ERR_PERM, "the root has no properties to set")
		             : 0;
	return folder_check(s, actor, e->folder_id, write ? FOLDER_ADMIN : FOLDER_SEE, 0, err);
}

int files_props_list(struct store *s, int64_t actor, const struct files_entry *entry,
                     files_prop_fn *fn, void *ctx, struct ox_error *err)
{
	if (props_check(s, actor, entry, false, err) < 0)
		return -1;
	if (entry->folder_id == 0)
		return 0;
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT namespace, name, value FROM dead_properties "
	                                      "WHERE folder_id = $1 AND document_id = $2 ORDER BY "
	                                      "namespace, name",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, entry->folder_id);
	store_bind_int(st, 2, entry->document_id);
	int r;
	while ((r = store_step(st, err)) > 0) {
		if (fn(store_col_text(st, 0), store_col_text(st, 1), store_col_text(st, 2), ctx) <
		    0)
			break;
	}
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

static int apply_op(struct store *s, const struct files_entry *e, const struct files_prop_op *op,
                    struct ox_error *err)
{
	if (strlen(op->name) == 0 || strlen(op->name) > FILES_PROP_NAME_MAX ||
	    strlen(op->ns) > FILES_PROP_NAME_MAX)
		return ox_error_set(err, OX_ERR_INVALID, "invalid property name");
	if (op->value != NULL && strlen(op->value) > FILES_PROP_VALUE_MAX)
		return ox_error_set(err, OX_ERR_LIMIT, "property value too large");
	const char *sql =
		op->value != NULL
			? "INSERT INTO dead_properties (folder_id, document_id, namespace, "
			  "name, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
			  "(folder_id, document_id, namespace, name) DO UPDATE SET "
			  "value = $5"
			: "DELETE FROM dead_properties WHERE folder_id = $1 AND "
			  "document_id = $2 AND namespace = $3 AND name = $4";
	struct store_stmt *st = store_prepare(s, sql, err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, e->folder_id);
	store_bind_int(st, 2, e->document_id);
	store_bind_text(st, 3, op->ns);
	store_bind_text(st, 4, op->name);
	if (op->value != NULL)
		store_bind_text(st, 5, op->value);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

int files_props_patch(struct store *s, int64_t actor, const struct files_entry *entry,
                      const struct files_prop_op *ops, size_t n, struct ox_error *err)
{
	if (props_check(s, actor, entry, true, err) < 0)
		return -1;
	bool own;
	if (files_txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++)
		ok = apply_op(s, entry, &ops[i], err) == 0;
	if (ok && entry->document_id != 0)
		ok = change_record(s, entry->folder_id, entry->name, actor, false, NULL, err) == 0;
	return files_txn_end(s, own, ok, err);
}

int files_props_copy(struct store *s, int64_t from_folder, int64_t from_doc, int64_t to_folder,
                     int64_t to_doc, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"INSERT INTO dead_properties (folder_id, document_id, namespace, name, value) "
		"SELECT $3, $4, namespace, name, value FROM dead_properties WHERE folder_id = $1 "
		"AND "
		"document_id = $2 ON CONFLICT (folder_id, document_id, namespace, name) DO NOTHING",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, from_folder);
	store_bind_int(st, 2, from_doc);
	store_bind_int(st, 3, to_folder);
	store_bind_int(st, 4, to_doc);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

int files_props_delete(struct store *s, int64_t folder_id, int64_t doc_id, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "DELETE FROM dead_properties WHERE folder_id = $1 AND document_id = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_int(st, 2, doc_id);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}
