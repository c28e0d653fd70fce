/* Documents: streamed in and out of blobs, a version per overwrite, copy,
 * move and delete, each change stamped in the folder's change log. */
#include "files/files-private.h"

#include <string.h>

#define FILES_IO_CHUNK (64 * 1024)

int files_blob_read(struct store *s, const char *hash, uint64_t offset, uint64_t length,
                    files_sink_fn *sink, void *ctx, struct ox_error *err)
{
	struct blob_reader *r = blob_open(s, hash, err);
	if (r == NULL)
		return -1;
	char *buf = g_malloc(FILES_IO_CHUNK);
	int ret = 0;
	uint64_t skipped = 0;
	while (length > 0) {
		ssize_t got = blob_read(r, buf, FILES_IO_CHUNK, err);
		if (got <= 0) {
			ret = got < 0 ? -1 : 0;
			break;
		}
		size_t from = 0, avail = (size_t)got;
		/* Blobs have no seek: skip to the range's first byte. */
		if (skipped < offset) {
			uint64_t skip = MIN(offset - skipped, (uint64_t)avail);
			skipped += skip;
			from = (size_t)skip;
			avail -= (size_t)skip;
		}
		size_t take = (size_t)MIN((uint64_t)avail, length);
		if (take > 0 && sink(buf + from, take, ctx) < 0) {
			ret = ox_error_set(err, OX_ERR_TEMP, "the client went away");
			break;
		}
		length -= take;
	}
	g_free(buf);
	blob_close(&r);
	return ret;
}

int files_read(struct store *s, int64_t actor, const struct files_entry *doc, uint64_t offset,
               uint64_t length, files_sink_fn *sink, void *ctx, struct ox_error *err)
{
	if (!doc->exists || doc->document_id == 0)
		return ox_error_set(err, OX_ERR_INVALID, "not a document");
	if (files_doc_check(s, actor, doc, FOLDER_READ_OBJECT, err) < 0)
		return -1;
	return files_blob_read(s, doc->blob_hash, offset, length, sink, ctx, err);
}

/* A body read no further than the room a quota leaves. */
struct bounded_source {
	files_source_fn *src;
	void *ctx;
	int64_t room; /* -1: unlimited */
	int64_t read;
};

/* Writes src into a new blob. Beyond the room the blob is abandoned
 * unfinished, so nothing of it stays. */
static int stream_blob(struct store *s, struct bounded_source *in, char *hash_r, uint64_t *size_r,
                       struct ox_error *err)
{
	struct blob_writer *w = blob_write_begin(s, err);
	if (w == NULL)
		return -1;
	char *buf = g_malloc(FILES_IO_CHUNK);
	int ret = 0;
	for (;;) {
		ssize_t got = in->src(buf, FILES_IO_CHUNK, in->ctx);
		if (got < 0) {
			ret = ox_error_set(err, OX_ERR_INVALID, "the request body ended early");
			break;
		}
		in->read += got;
		if (in->room >= 0 && in->read > in->room) {
			ret = ox_error_set(err, OX_ERR_NO_QUOTA,
			                   FILES_QUOTA_EXCEEDED_TEXT "the content is larger than "
			                                             "the %" G_GINT64_FORMAT
			                                             " bytes the quota leaves",
			                   in->room);
			break;
		}
		if (got == 0)
			break;
		if (blob_write(w, buf, (size_t)got, err) < 0) {
			ret = -1;
			break;
		}
	}
	g_free(buf);
	if (ret < 0) {
		blob_write_abort(&w);
		return -1;
	}
	return blob_write_finish(&w, hash_r, size_r, err);
}

static int insert_document(struct store *s, int64_t folder_id, const char *name, int64_t *id_r,
                           struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "INSERT INTO documents (folder_id, name, version, "
	                                      "created) VALUES ($1, $2, 1, $3) RETURNING id",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, name);
	store_bind_int(st, 3, files_now());
	int r = store_step(st, err);
	if (r > 0)
		*id_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r > 0 ? 0 : -1;
}

/* The permission a PUT needs, checked before the body is read. */
static int put_check(struct store *s, int64_t actor, const struct files_entry *target,
                     struct ox_error *err)
{
	if (target->exists && target->document_id == 0)
		return ox_error_set(err, OX_ERR_CONFLICT, "a collection has that name");
	if (target->exists)
		return files_doc_check(s, actor, target, FOLDER_WRITE_OBJECT, err);
	if (!target->parent_found)
		return ox_error_set(err, OX_ERR_CONFLICT, "the parent collection does not exist");
	if (target->folder_id == 0)
		return ox_error_set(err, OX_ERR_PERM, "the top level holds only collections");
	if (target->name == NULL || !files_name_valid(target->name))
		return ox_error_set(err, OX_ERR_INVALID, "invalid name");
	return folder_check(s, actor, target->folder_id, FOLDER_CREATE_OBJECT, 0, err);
}

/* Whether a document's current version is an empty placeholder: its
 * only version, with no content. A LOCK on an unmapped name makes one
 * (RFC 4918 7.3), and clients that lock before they write (davfs2, file
 * managers) fill it with a PUT right after; kept, it would give each file
 * they create an empty first version. Restoring it would only empty the
 * document, so nothing is lost when the next write replaces it. */
static bool is_placeholder(const struct files_entry *doc)
{
	return doc->exists && doc->version == 1 && doc->size == 0;
}

/* Records the new content under target's name, inside a transaction:
 * the quota is charged first, then the version is added (a new document
 * for a new name) and an empty placeholder it replaces dropped. */
static int put_commit(struct store *s, int64_t actor, struct files_entry *target, const char *hash,
                      uint64_t size, const char *type, bool *created_r, struct ox_error *err)
{
	struct files_entry now = {.owner_id = target->owner_id, .context_id = target->context_id};
	int found = files_doc_load(s, target->folder_id, target->name, &now, err);
	int ret = -1;
	if (found < 0)
		goto out;
	if (found > 0 && files_doc_check(s, actor, &now, FOLDER_WRITE_OBJECT, err) < 0)
		goto out;
	int64_t doc_id = now.document_id, freed = 0;
	int version = found > 0 ? now.version + 1 : 1;
	if ((found > 0 && files_version_prunable(s, doc_id, version, &freed, err) < 0) ||
	    files_charge(s, target->folder_id, (int64_t)size - freed, err) < 0)
		goto out;
	if (found == 0 && insert_document(s, target->folder_id, target->name, &doc_id, err) < 0)
		goto out;
	if (files_version_add(s, doc_id, version, hash, (int64_t)size, type, actor, err) < 0 ||
	    (is_placeholder(&now) && files_version_drop_before(s, doc_id, version, err) < 0) ||
	    change_record(s, target->folder_id, target->name, actor, false, NULL, err) < 0 ||
	    files_doc_load(s, target->folder_id, target->name, target, err) <= 0)
		goto out;
	*created_r = found == 0;
	ret = 0;
out:
	files_entry_clear(&now);
	return ret;
}

/* The room a PUT has: what the quota leaves, plus what an overwrite frees
 * by dropping versions beyond files.max_versions. -1: unlimited. */
static int put_room(struct store *s, const struct files_entry *target, int64_t *room_r,
                    struct ox_error *err)
{
	int64_t freed = 0;
	if (files_room_in_folder(s, target->folder_id, room_r, err) < 0 ||
	    (target->exists &&
	     files_version_prunable(s, target->document_id, target->version + 1, &freed, err) < 0))
		return -1;
	if (*room_r >= 0)
		*room_r += freed;
	return 0;
}

int files_put(struct store *s, int64_t actor, struct files_entry *target, const char *content_type,
              int64_t length, files_source_fn *src, void *ctx, bool *created_r,
              struct ox_error *err)
{
	struct bounded_source in = {src, ctx, -1, 0};
	if (put_check(s, actor, target, err) < 0 || put_room(s, target, &in.room, err) < 0)
		return -1;
	/* RFC 4331 6: refused before the body is read when its size is known. */
	if (length >= 0 && in.room >= 0 && length > in.room)
		return ox_error_set(err, OX_ERR_NO_QUOTA,
		                    FILES_QUOTA_EXCEEDED_TEXT
		                    "%" G_GINT64_FORMAT " bytes do not fit in the %" G_GINT64_FORMAT
		                    " bytes the quota leaves",
		                    length, in.room);
	char hash[BLOB_HASH_LEN + 1];
	uint64_t size;
	if (stream_blob(s, &in, hash, &size, err) < 0)
		return -1;
	const char *type = content_type != NULL ? content_type : files_guess_type(target->name);
	bool own;
	if (files_txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = put_commit(s, actor, target, hash, size, type, created_r, err) == 0;
	return files_txn_end(s, own, ok, err);
}

int files_mkcol(struct store *s, int64_t actor, struct files_entry *target, struct ox_error *err)
{
	if (target->exists)
		return ox_error_set(err, OX_ERR_EXISTS, "the name is taken");
	if (!target->parent_found)
		return ox_error_set(err, OX_ERR_CONFLICT, "the parent collection does not exist");
	if (target->folder_id == 0 && actor != target->owner_id)
		return ox_error_set(err, OX_ERR_PERM, "only the owner adds top-level collections");
	int64_t id;
	if (folder_create(s, actor, target->context_id, target->folder_id, false, FOLDER_FILES,
	                  target->name, &id, err) < 0)
		return -1;
	target->folder_id = id;
	target->exists = true;
	return 0;
}

/* The bytes of every version of one document (doc_id), or of every
 * document in a folder (doc_id 0): what deleting them frees. */
static int stored_bytes(struct store *s, int64_t folder_id, int64_t doc_id, int64_t *bytes_r,
                        struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		doc_id != 0 ? "SELECT COALESCE(SUM(size), 0) FROM document_versions WHERE "
			      "document_id = $1"
			    : "SELECT COALESCE(SUM(v.size), 0) FROM document_versions v JOIN "
			      "documents d ON d.id = v.document_id WHERE d.folder_id = $1",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id != 0 ? doc_id : folder_id);
	int r = store_step(st, err);
	if (r > 0)
		*bytes_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

/* Frees the usage of a document (doc_id) or of a folder's documents
 * (doc_id 0), as the first write of the deleting transaction. */
static int uncharge(struct store *s, int64_t folder_id, int64_t doc_id, struct ox_error *err)
{
	int64_t bytes = 0;
	if (stored_bytes(s, folder_id, doc_id, &bytes, err) < 0)
		return -1;
	return files_charge(s, folder_id, -bytes, err);
}

/* Drops the blob references of a document's versions and the document. */
static int drop_document(struct store *s, int64_t doc_id, int64_t folder_id, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT blob_hash FROM document_versions WHERE document_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id);
	GPtrArray *hashes = g_ptr_array_new_with_free_func(g_free);
	int r;
	while ((r = store_step(st, err)) > 0)
		g_ptr_array_add(hashes, g_strdup(store_col_text(st, 0)));
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i < hashes->len; i++)
		r = blob_ref(s, g_ptr_array_index(hashes, i), -1, err);
	g_ptr_array_free(hashes, TRUE);
	if (r < 0 || files_props_delete(s, folder_id, doc_id, err) < 0)
		return -1;
	st = store_prepare(s, "DELETE FROM documents WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, doc_id);
	r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

/* Before the folder layer deletes a files folder (each of a subtree, and
 * those of a deleted user or context): the rows of its documents cascade
 * away with it, the blob references their versions hold would not. */
static int folder_deleting(struct store *s, int64_t folder_id, enum folder_module module,
                           struct ox_error *err)
{
	if (module != FOLDER_FILES)
		return 0;
	if (uncharge(s, folder_id, 0, err) < 0)
		return -1;
	struct store_stmt *st =
		store_prepare(s, "SELECT id FROM documents WHERE folder_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	int r;
	while ((r = store_step(st, err)) > 0) {
		int64_t id = store_col_int(st, 0);
		g_array_append_val(ids, id);
	}
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i < ids->len; i++)
		r = drop_document(s, g_array_index(ids, int64_t, i), folder_id, err);
	g_array_unref(ids);
	return r;
}

void files_register_hooks(void)
{
	folder_add_deleting_hook(folder_deleting);
}

int files_delete(struct store *s, int64_t actor, const struct files_entry *entry,
                 struct ox_error *err)
{
	if (!entry->exists)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such resource");
	if (entry->document_id == 0 && entry->folder_id == 0)
		return ox_error_set(err, OX_ERR_PERM, "the root cannot be deleted");
	bool own;
	if (entry->document_id != 0) {
		if (files_doc_check(s, actor, entry, FOLDER_DELETE_OBJECT, err) < 0 ||
		    files_txn_begin(s, &own, err) < 0)
			return -1;
		bool ok = uncharge(s, entry->folder_id, entry->document_id, err) == 0 &&
		          drop_document(s, entry->document_id, entry->folder_id, err) == 0 &&
		          change_record(s, entry->folder_id, entry->name, actor, true, NULL, err) ==
		                  0;
		return files_txn_end(s, own, ok, err);
	}
	/* Its documents go through folder_deleting(), for every folder of
	 * the subtree. */
	return folder_delete(s, actor, entry->folder_id, err);
}

static int copy_document(struct store *s, int64_t actor, const struct files_entry *src,
                         struct files_entry *dst, struct ox_error *err)
{
	if (files_doc_check(s, actor, src, FOLDER_READ_OBJECT, err) < 0 ||
	    put_check(s, actor, dst, err) < 0)
		return -1;
	int64_t doc_id;
	/* The copy counts for the destination's owner, who may not be the
	 * source's. */
	if (files_charge(s, dst->folder_id, src->size, err) < 0 ||
	    insert_document(s, dst->folder_id, dst->name, &doc_id, err) < 0 ||
	    files_version_add(s, doc_id, 1, src->blob_hash, src->size, src->content_type, actor,
	                      err) < 0 ||
	    files_props_copy(s, src->folder_id, src->document_id, dst->folder_id, doc_id, err) <
	            0 ||
	    change_record(s, dst->folder_id, dst->name, actor, false, NULL, err) < 0)
		return -1;
	return files_doc_load(s, dst->folder_id, dst->name, dst, err) > 0 ? 0 : -1;
}

static int copy_tree(struct store *s, int64_t actor, const struct files_entry *src,
                     struct files_entry *dst, bool recursive, int depth, struct ox_error *err);

struct copy_members {
	struct store *s;
	int64_t actor;
	int64_t dst_folder;
	const struct files_entry *dst_parent;
	int depth;
	struct ox_error *err;
};

static int copy_member(const struct files_entry *member, void *ctx)
{
	struct copy_members *c = ctx;
	struct files_entry dst = {
		.owner_id = c->dst_parent->owner_id,
		.context_id = c->dst_parent->context_id,
		.folder_id = c->dst_folder,
		.parent_found = true,
		.name = g_strdup(member->name),
	};
	int r = copy_tree(c->s, c->actor, member, &dst, true, c->depth + 1, c->err);
	files_entry_clear(&dst);
	return r;
}

static int copy_tree(struct store *s, int64_t actor, const struct files_entry *src,
                     struct files_entry *dst, bool recursive, int depth, struct ox_error *err)
{
	if (depth > FILES_DEPTH_MAX)
		return ox_error_set(err, OX_ERR_INVALID, "the folder tree is too deep");
	if (src->document_id != 0)
		return copy_document(s, actor, src, dst, err);
	if (files_mkcol(s, actor, dst, err) < 0 ||
	    files_props_copy(s, src->folder_id, 0, dst->folder_id, 0, err) < 0)
		return -1;
	if (!recursive)
		return 0;
	struct copy_members c = {s, actor, dst->folder_id, dst, depth, err};
	/* Listing the source after the copy was made: a copy into the source's
	 * own subtree is refused by the caller, so it never lists itself. */
	return files_list(s, actor, src, copy_member, &c, err);
}

int files_copy(struct store *s, int64_t actor, const struct files_entry *src,
               struct files_entry *dst, bool recursive, struct ox_error *err)
{
	if (!src->exists)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such resource");
	if (src->document_id == 0 && src->folder_id == 0)
		return ox_error_set(err, OX_ERR_PERM, "the root cannot be copied");
	if (dst->exists)
		return ox_error_set(err, OX_ERR_EXISTS, "the destination exists");
	bool own;
	if (files_txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = copy_tree(s, actor, src, dst, recursive, 0, err) == 0;
	return files_txn_end(s, own, ok, err);
}

static int move_document(struct store *s, int64_t actor, const struct files_entry *src,
                         struct files_entry *dst, struct ox_error *err)
{
	if (files_doc_check(s, actor, src, FOLDER_DELETE_OBJECT, err) < 0 ||
	    put_check(s, actor, dst, err) < 0)
		return -1;
	static const char *const sql[] = {
		"UPDATE documents SET folder_id = $2, name = $3 WHERE id = $1",
		"UPDATE dead_properties SET folder_id = $2 WHERE document_id = $1",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(sql); i++) {
		struct store_stmt *st = store_prepare(s, sql[i], err);
		if (st == NULL)
			return -1;
		store_bind_int(st, 1, src->document_id);
		store_bind_int(st, 2, dst->folder_id);
		if (i == 0)
			store_bind_text(st, 3, dst->name);
		int r = store_run(st, err);
		store_stmt_done(&st);
		if (r < 0)
			return -1;
	}
	if (change_record(s, src->folder_id, src->name, actor, true, NULL, err) < 0 ||
	    change_record(s, dst->folder_id, dst->name, actor, false, NULL, err) < 0)
		return -1;
	return files_doc_load(s, dst->folder_id, dst->name, dst, err) > 0 ? 0 : -1;
}

/* Moves and renames a folder; which goes first depends on where the other
 * name is free, since sibling names are unique at every step. */
static int move_folder(struct store *s, int64_t actor, const struct files_entry *src,
                       struct files_entry *dst, struct ox_error *err)
{
	if (!dst->parent_found)
		return ox_error_set(err, OX_ERR_CONFLICT, "the parent collection does not exist");
	if (dst->folder_id == 0 && actor != dst->owner_id)
		return ox_error_set(err, OX_ERR_PERM, "only the owner adds top-level collections");
	bool renamed = strcmp(src->name, dst->name) != 0;
	int64_t parent = dst->folder_id;
	struct folder_info info;
	int found = folder_get(s, actor, src->folder_id, &info, err);
	if (found <= 0)
		return found == 0 ? ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder") : -1;
	bool same_parent = info.parent_id == parent;
	folder_info_clear(&info);
	int r = 0;
	if (renamed)
		r = folder_rename(s, actor, src->folder_id, dst->name, err);
	if (r == 0 && !same_parent)
		r = folder_move(s, actor, src->folder_id, parent, err);
	if (r < 0)
		return -1;
	dst->folder_id = src->folder_id;
	dst->exists = true;
	return 0;
}

int files_move(struct store *s, int64_t actor, const struct files_entry *src,
               struct files_entry *dst, struct ox_error *err)
{
	if (!src->exists)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such resource");
	if (src->document_id == 0 && src->folder_id == 0)
		return ox_error_set(err, OX_ERR_PERM, "the root cannot be moved");
	if (dst->exists)
		return ox_error_set(err, OX_ERR_EXISTS, "the destination exists");
	if (src->owner_id != dst->owner_id)
		return ox_error_set(err, OX_ERR_PERM, "a move stays within its owner's tree");
	if (dst->name == NULL || !files_name_valid(dst->name))
		return ox_error_set(err, OX_ERR_INVALID, "invalid name");
	bool own;
	if (files_txn_begin(s, &own, err) < 0)
		return -1;
	bool ok = (src->document_id != 0 ? move_document(s, actor, src, dst, err)
	                                 : move_folder(s, actor, src, dst, err)) == 0;
	return files_txn_end(s, own, ok, err);
}
