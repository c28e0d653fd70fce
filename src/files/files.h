/* Files (InfoStore): documents in folders of module FOLDER_FILES, each a
 * list of versions pointing at blobs, with dead properties and WebDAV
 * locks. Collections are the folders themselves.
 *
 * A user's tree is addressed by path segments below its root, the virtual
 * collection that holds the owner's top-level files folders (as the actor
 * sees them). Every function decides access with folder_check() for the
 * actor; "own" objects are those whose change-log record names the actor
 * as creator. Errors: OX_ERR_NOT_FOUND (also for what the actor may not
 * see), OX_ERR_PERM, OX_ERR_EXISTS, OX_ERR_CONFLICT (no parent, a name
 * taken by the other kind), OX_ERR_INVALID, OX_ERR_NO_QUOTA (a write
 * would exceed a quota), OX_ERR_TEMP, OX_ERR_INTERNAL.
 *
 * Quotas: every version of a document (the current one and the older
 * ones) counts its size against the quota of the user whose private
 * tree holds it (users.quota_bytes) and against its context's
 * (contexts.quota_bytes); 0 is unlimited. A blob shared by several
 * versions or documents counts once for each, as the user sees sizes.
 * The counts are kept in the transaction of each change (files-quota.c).
 * Writes that would exceed a quota fail with OX_ERR_NO_QUOTA and change
 * nothing; deleting frees the bytes of every version at once. */
#ifndef OX_FILES_H
#define OX_FILES_H

#include "store/blob.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ox_error;
struct store;

#define FILES_NAME_MAX 255
#define FILES_DEPTH_MAX 64

/* What a path names. An unmapped path (files_resolve() answered 0) keeps
 * its parent collection in folder_id when parent_found. */
struct files_entry {
	int64_t owner_id;    /* whose tree */
	int64_t context_id;  /* the owner's context */
	int64_t folder_id;   /* collection: itself (0: the root); document: its folder */
	int64_t document_id; /* 0: a collection */
	bool exists;
	bool parent_found; /* for unmapped paths: the parent is a collection */
	char *name;        /* last segment; NULL for the root */
	int64_t size;
	char *content_type;
	char blob_hash[BLOB_HASH_LEN + 1];
	int version;
	/* Unix seconds. A document: its creation and its current version's;
	 * a collection: its folder's creation in both; the root: 0. */
	int64_t created;
	int64_t modified;
};

void files_entry_clear(struct files_entry *e);
static inline bool files_entry_is_collection(const struct files_entry *e)
{
	return e->exists && e->document_id == 0;
}

/* The tree of a login: 1 with the owner's principal id, 0 no such user. */
int files_tree_owner(struct store *s, const char *login, int64_t *owner_r, struct ox_error *err);

/* Resolves segments below the root of owner's tree as the actor sees it:
 * 1 found, 0 not (entry describes the unmapped name and its parent), -1. */
int files_resolve(struct store *s, int64_t actor, int64_t owner, const char *const *segs, size_t n,
                  struct files_entry *entry_r, struct ox_error *err);

/* Calls fn for each member of a collection the actor may see (folders,
 * then readable documents); fn returns 0 to go on, -1 to stop. The entry
 * passed to fn is only valid during the call. */
typedef int files_entry_fn(const struct files_entry *member, void *ctx);
int files_list(struct store *s, int64_t actor, const struct files_entry *coll, files_entry_fn *fn,
               void *ctx, struct ox_error *err);

/* Streams `length` bytes of a document's content from `offset` to sink
 * (which returns 0, or -1 to stop: the client went away). */
typedef int files_sink_fn(const void *data, size_t len, void *ctx);
int files_read(struct store *s, int64_t actor, const struct files_entry *doc, uint64_t offset,
               uint64_t length, files_sink_fn *sink, void *ctx, struct ox_error *err);

/* Creates or overwrites a document at `target` (unmapped with a parent,
 * or an existing document) from src, which returns bytes read, 0 at the
 * end, -1 on failure (the client went away). Each overwrite keeps the old
 * content as a version. content_type NULL: guessed from the name. On
 * success target describes the new state and *created_r says whether the
 * name was new. The permission is checked before src is read, and so is
 * the quota when `length` (the size announced, -1 when unknown) is over
 * the room left; src is read no further than the room left, so a body
 * over quota leaves neither a document nor a blob. */
typedef ssize_t files_source_fn(void *buf, size_t len, void *ctx);
int files_put(struct store *s, int64_t actor, struct files_entry *target, const char *content_type,
              int64_t length, files_source_fn *src, void *ctx, bool *created_r,
              struct ox_error *err);

/* Creates a collection at an unmapped target with a parent. */
int files_mkcol(struct store *s, int64_t actor, struct files_entry *target, struct ox_error *err);

/* Deletes a document (all versions) or a collection with everything in
 * it. The root cannot be deleted. */
int files_delete(struct store *s, int64_t actor, const struct files_entry *entry,
                 struct ox_error *err);

/* Copies src to the unmapped dst (with a parent); a collection with its
 * members when `recursive`, else the empty collection and its
 * properties. The copy of a document shares the blob of src's current
 * version. */
int files_copy(struct store *s, int64_t actor, const struct files_entry *src,
               struct files_entry *dst, bool recursive, struct ox_error *err);
/* Moves (and renames) src to the unmapped dst within the same owner's
 * tree. */
int files_move(struct store *s, int64_t actor, const struct files_entry *src,
               struct files_entry *dst, struct ox_error *err);

/* Resolves a path "/OWNER/seg/seg" (OWNER a login; empty segments are
 * skipped) as files_resolve() does: 1 found, 0 not (no such owner
 * either), -1 (OX_ERR_INVALID for a malformed path). */
int files_resolve_path(struct store *s, int64_t actor, const char *path,
                       struct files_entry *entry_r, struct ox_error *err);

/* The quoted strong ETag of content with this blob hash (128 bits of it:
 * short enough for clients that bound the If headers they build). */
#define FILES_ETAG_SIZE 35
void files_etag(const char *blob_hash, char out[FILES_ETAG_SIZE]);

/* --- versions: every overwrite keeps the old content --- */
struct files_version {
	int version;
	int64_t size;
	char blob_hash[BLOB_HASH_LEN + 1];
	char *content_type;
	int64_t created;    /* unix seconds */
	int64_t created_by; /* principal id, 0 when unknown (the system) */
	bool current;
};
void files_version_clear(struct files_version *v);
/* Versions of a document the actor may read, newest first; fn returns 0
 * to go on, -1 to stop. The version passed is valid during the call. */
typedef int files_version_fn(const struct files_version *v, void *ctx);
int files_versions(struct store *s, int64_t actor, const struct files_entry *doc,
                   files_version_fn *fn, void *ctx, struct ox_error *err);
/* One version: 1 found, 0 no such version (never kept, or pruned), -1. */
int files_version_get(struct store *s, int64_t actor, const struct files_entry *doc, int version,
                      struct files_version *v_r, struct ox_error *err);
/* Streams the content of v (from files_version_get() of doc) as
 * files_read() streams the current one. */
int files_version_read(struct store *s, int64_t actor, const struct files_entry *doc,
                       const struct files_version *v, uint64_t offset, uint64_t length,
                       files_sink_fn *sink, void *ctx, struct ox_error *err);
/* Makes the content of `version` the document's content again as a new
 * version (nothing is lost: the versions in between stay). Needs write
 * access; counts against the quota like a PUT of that content. On
 * success doc describes the new state. OX_ERR_NOT_FOUND for a version
 * that is not kept. */
int files_restore(struct store *s, int64_t actor, struct files_entry *doc, int version,
                  struct ox_error *err);

/* Registers files.max_versions, files.blob_gc_interval and
 * files.blob_gc_grace. */
void files_register_options(void);
/* Applies files.* settings (at start and on reload). */
struct ox_config;
void files_configure(const struct ox_config *cfg);

/* --- garbage collection (files-gc.c) --- */
/* files.blob_gc_interval in seconds; 0: oxd never collects by itself. */
int64_t files_gc_interval_seconds(void);
/* files.blob_gc_grace in seconds (at least 1). */
int64_t files_gc_grace_seconds(void);
/* Deletes the blobs no document version references any more (those of
 * deleted documents and pruned versions, of writes refused at commit)
 * and the leftovers of uploads that died, once files.blob_gc_grace has
 * passed since they were last written, so that an upload in progress is
 * never collected. In short transactions of its own (none may be open);
 * `stop` as for blob_gc(). Safe while other connections and processes
 * write, and beside other collectors. 0 with result_r filled, or -1. */
int files_gc(struct store *s, const int *stop, struct blob_gc_result *result_r,
             struct ox_error *err);

/* --- quotas --- */
struct files_usage {
	int64_t user_bytes, user_quota;       /* quota 0: unlimited */
	int64_t context_bytes, context_quota; /* the same for the whole context */
};
/* A user's usage and quotas: 1, 0 no such user, -1. */
int files_usage_of_user(struct store *s, int64_t user_id, struct files_usage *usage_r,
                        struct ox_error *err);
/* Sets a user's quota (0: unlimited) and reads their usage after it into
 * usage_r, in the caller's transaction or one of its own: 1, 0 no such
 * user, -1. A quota below the usage is allowed: nothing is deleted, and
 * writes that add bytes are refused (OX_ERR_NO_QUOTA) until deletions
 * bring the usage under it. The column is the directory's
 * (users.quota_bytes); only the files service counts against it. */
int files_set_user_quota(struct store *s, int64_t user_id, int64_t quota_bytes,
                         struct files_usage *usage_r, struct ox_error *err);
/* The bytes that may still be added under both quotas; -1: unlimited. */
int64_t files_usage_room(const struct files_usage *usage);
/* Whether err is a write refused for a quota (rather than, with the same
 * code, a full disk). */
bool files_quota_exceeded(const struct ox_error *err);

/* --- dead properties (values are the property element as XML text) --- */
typedef int files_prop_fn(const char *ns, const char *name, const char *value, void *ctx);
int files_props_list(struct store *s, int64_t actor, const struct files_entry *entry,
                     files_prop_fn *fn, void *ctx, struct ox_error *err);
struct files_prop_op {
	const char *ns; /* "" for no namespace */
	const char *name;
	const char *value; /* NULL removes */
};
/* Applies every operation, in order, or none. */
int files_props_patch(struct store *s, int64_t actor, const struct files_entry *entry,
                      const struct files_prop_op *ops, size_t n, struct ox_error *err);

/* --- locks: on names in a tree, kept in the store for every node --- */
struct files_lock {
	char *token; /* "opaquelocktoken:<uuid>" */
	char *path;  /* segments joined by '/', "" for the root */
	int depth;   /* 0, or -1 for infinity */
	bool exclusive;
	char *owner; /* the client's DAV:owner element as XML text, or NULL */
	int64_t principal_id;
	int64_t timeout; /* seconds */
	int64_t expires; /* unix seconds */
};
void files_lock_clear(struct files_lock *lock);
/* The unexpired locks of owner's tree, any order. Caller frees with
 * files_locks_free(). */
int files_locks(struct store *s, int64_t owner, struct files_lock **locks_r, size_t *n_r,
                struct ox_error *err);
void files_locks_free(struct files_lock **locks, size_t n);
/* Takes a new lock on entry's path; the actor needs write access to an
 * existing document, create access to an unmapped name, or to see a
 * collection. The token is made here. */
int files_lock_create(struct store *s, int64_t actor, const struct files_entry *entry,
                      struct files_lock *lock, struct ox_error *err);
int files_lock_refresh(struct store *s, int64_t owner, const char *token, int64_t timeout,
                       struct ox_error *err);
/* Removes a lock; only its creator may. */
int files_lock_remove(struct store *s, int64_t actor, int64_t owner, const char *token,
                      struct ox_error *err);
/* Drops the locks on a path and below it (the resource went away). */
int files_locks_drop(struct store *s, int64_t owner, const char *path, struct ox_error *err);

/* The MIME type for a file name by its extension, never NULL. */
const char *files_guess_type(const char *name);

/* Makes the files service take part in folder deletion, however a folder
 * goes (DAV, oxctl, a deleted user or context): its documents' blob
 * references are released in the deleting transaction. Called once at
 * start, before any thread uses the store. */
void files_register_hooks(void);

#endif
