/* Versions of documents: every write adds one (a PUT, a restore), each
 * holding a reference on its blob; the document points at its current
 * one. Older versions are listed, read and restored here, and dropped
 * beyond files.max_versions when a new one is added. */
#include "files/files-private.h"

#include <string.h>

void files_version_clear(struct files_version *v)
{
	g_free(v->content_type);
	memset(v, 0, sizeof(*v));
}

void files_etag(const char *blob_hash, char out[FILES_ETAG_SIZE])
{
	g_snprintf(out, FILES_ETAG_SIZE, "\"%.32s\"", blob_hash);
}

static int insert_version(struct store *s, int64_t doc_id, int version, const char *hash,
                          int64_t size, const char *content_type, int64_t actor,
                          struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s,
	                      "INSERT INTO document_versions (document_id, version, blob_hash, "
	                      "size, content_type, created_by, created) VALUES ($1, $2, $3, $4, "
	                      "$5, $6, $7)",
	                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id);
	store_bind_int(st, 2, version);
	store_bind_text(st, 3, hash);
	store_bind_int(st, 4, size);
	store_bind_text(st, 5, content_type);
	if (actor != FOLDER_SYSTEM_ACTOR)
		store_bind_int(st, 6, actor);
	else
		store_bind_null(st, 6);
	store_bind_int(st, 7, files_now());
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r < 0 ? -1 : blob_ref(s, hash, 1, err);
}

static int set_version(struct store *s, int64_t doc_id, int version, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "UPDATE documents SET version = $2 WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id);
	store_bind_int(st, 2, version);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

/* The oldest version number that stays when `newest` is current: 0
 * keeps all. */
static int first_kept(int newest)
{
	int keep = files_max_versions();
	return keep > 0 && newest > keep ? newest - keep + 1 : 0;
}

int files_version_prunable(struct store *s, int64_t doc_id, int newest, int64_t *bytes_r,
                           struct ox_error *err)
{
	*bytes_r = 0;
	int first = first_kept(newest);
	if (first == 0)
		return 0;
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT COALESCE(SUM(size), 0) FROM "
	                                      "document_versions WHERE document_id = $1 AND "
	                                      "version < $2",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id);
	store_bind_int(st, 2, first);
	int r = store_step(st, err);
	if (r > 0)
		*bytes_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

int files_version_drop_before(struct store *s, int64_t doc_id, int first, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "DELETE FROM document_versions WHERE document_id = "
	                                      "$1 AND version < $2 RETURNING blob_hash",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id);
	store_bind_int(st, 2, first);
	GPtrArray *hashes = g_ptr_array_new_with_free_func(g_free);
	int r;
	while ((r = store_step(st, err)) > 0)
		g_ptr_array_add(hashes, g_strdup(store_col_text(st, 0)));
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i < hashes->len; i++)
		r = blob_ref(s, g_ptr_array_index(hashes, i), -1, err);
	g_ptr_array_free(hashes, TRUE);
	return r;
}

int files_version_add(struct store *s, int64_t doc_id, int version, const char *hash, int64_t size,
                      const char *content_type, int64_t actor, struct ox_error *err)
{
	int first = first_kept(version);
	if (insert_version(s, doc_id, version, hash, size, content_type, actor, err) < 0 ||
	    set_version(s, doc_id, version, err) < 0)
		return -1;
	return first > 0 ? files_version_drop_before(s, doc_id, first, err) : 0;
}

static const char version_columns[] =
	"SELECT v.version, v.size, v.blob_hash, v.content_type, v.created, "
	"COALESCE(v.created_by, 0), d.version FROM document_versions v JOIN documents d ON "
	"d.id = v.document_id WHERE v.document_id = $1 ";

static void read_version(struct store_stmt *st, struct files_version *v)
{
	v->version = (int)store_col_int(st, 0);
	v->size = store_col_int(st, 1);
	g_strlcpy(v->blob_hash, store_col_text(st, 2), sizeof(v->blob_hash));
	v->content_type = g_strdup(store_col_text(st, 3));
	v->created = store_col_int(st, 4);
	v->created_by = store_col_int(st, 5);
	v->current = store_col_int(st, 6) == v->version;
}

static int doc_readable(struct store *s, int64_t actor, const struct files_entry *doc,
                        struct ox_error *err)
{
	if (!doc->exists || doc->document_id == 0)
		return ox_error_set(err, OX_ERR_INVALID, "not a document");
	return files_doc_check(s, actor, doc, FOLDER_READ_OBJECT, err);
}

int files_versions(struct store *s, int64_t actor, const struct files_entry *doc,
                   files_version_fn *fn, void *ctx, struct ox_error *err)
{
	if (doc_readable(s, actor, doc, err) < 0)
		return -1;
	char *sql = g_strconcat(version_columns, "ORDER BY v.version DESC", NULL);
	struct store_stmt *st = store_prepare(s, sql, err);
	g_free(sql);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc->document_id);
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct files_version v = {0};
		read_version(st, &v);
		int stop = fn(&v, ctx);
		files_version_clear(&v);
		if (stop < 0)
			break;
	}
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

/* One version without a permission check: 1, 0, -1. */
static int load_version(struct store *s, int64_t doc_id, int version, struct files_version *v_r,
                        struct ox_error *err)
{
	memset(v_r, 0, sizeof(*v_r));
	char *sql = g_strconcat(version_columns, "AND v.version = $2", NULL);
	struct store_stmt *st = store_prepare(s, sql, err);
	g_free(sql);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id);
	store_bind_int(st, 2, version);
	int r = store_step(st, err);
	if (r > 0)
		read_version(st, v_r);
	store_stmt_done(&st);
	return r;
}

int files_version_get(struct store *s, int64_t actor, const struct files_entry *doc, int version,
                      struct files_version *v_r, struct ox_error *err)
{
	memset(v_r, 0, sizeof(*v_r));
	if (doc_readable(s, actor, doc, err) < 0)
		return -1;
	return load_version(s, doc->document_id, version, v_r, err);
}

int files_version_read(struct store *s, int64_t actor, const struct files_entry *doc,
                       const struct files_version *v, uint64_t offset, uint64_t length,
                       files_sink_fn *sink, void *ctx, struct ox_error *err)
{
	if (doc_readable(s, actor, doc, err) < 0)
		return -1;
	return files_blob_read(s, v->blob_hash, offset, length, sink, ctx, err);
}

/* Records the restore inside a transaction: the document as it is now
 * gets the old version's content as its next version. */
static int restore_commit(struct store *s, int64_t actor, struct files_entry *doc, int version,
                          struct ox_error *err)
{
	struct files_entry now = {.owner_id = doc->owner_id, .context_id = doc->context_id};
	struct files_version old = {0};
	int ret = -1;
	int found = files_doc_load(s, doc->folder_id, doc->name, &now, err);
	if (found == 0 || (found > 0 && now.document_id != doc->document_id))
		ox_error_set(err, OX_ERR_NOT_FOUND, "the document was removed meanwhile");
	if (found <= 0 || now.document_id != doc->document_id)
		goto out;
	found = load_version(s, now.document_id, version, &old, err);
	if (found == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "the document has no version %d", version);
	if (found <= 0)
		goto out;
	int newest = now.version + 1;
	int64_t freed = 0;
	if (files_version_prunable(s, now.document_id, newest, &freed, err) < 0 ||
	    files_charge(s, now.folder_id, old.size - freed, err) < 0 ||
	    files_version_add(s, now.document_id, newest, old.blob_hash, old.size, old.content_type,
	                      actor, err) < 0 ||
	    change_record(s, now.folder_id, now.name, actor, false, NULL, err) < 0 ||
	    files_doc_load(s, now.folder_id, now.name, doc, err) <= 0)
		goto out;
	ret = 0;
out:
	files_version_clear(&old);
	files_entry_clear(&now);
	return ret;
}

int files_restore(struct store *s, int64_t actor, struct files_entry *doc, int version,
                  struct ox_error *err)
{
	if (!doc->exists || doc->document_id == 0)
		return ox_error_set(err, OX_ERR_INVALID, "not a document");
	if (version < 1)
		return ox_error_set(err, OX_ERR_INVALID, "versions are numbered from 1");
	if (files_doc_check(s, actor, doc, FOLDER_WRITE_OBJECT, err) < 0)
		return -1;
	bool own;
	if (files_txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = restore_commit(s, actor, doc, version, err) == 0;
	return files_txn_end(s, own, ok, err);
}
