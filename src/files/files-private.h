#ifndef OX_FILES_PRIVATE_H
#define OX_FILES_PRIVATE_H

#include "core/error.h"
#include "files/files.h"
#include "folder/folder.h"
#include "store/store.h"

#include <glib.h>

/* One transaction per call unless the caller has one open. */
int files_txn_begin(struct store *s, bool *own_r, struct ox_error *err);
int files_txn_end(struct store *s, bool own, bool ok, struct ox_error *err);
/* 1 with the document row of (folder, name) filled into e, 0, -1. */
int files_doc_load(struct store *s, int64_t folder_id, const char *name, struct files_entry *e,
                   struct ox_error *err);
/* The creator of a document, 0 when unknown. */
int64_t files_doc_creator(struct store *s, const struct files_entry *doc);
/* The actor's rights check on a document (folder_check with "own"). */
int files_doc_check(struct store *s, int64_t actor, const struct files_entry *doc,
                    enum folder_action action, struct ox_error *err);
bool files_name_valid(const char *name);
/* Copies the dead properties of one resource to another. */
int files_props_copy(struct store *s, int64_t from_folder, int64_t from_doc, int64_t to_folder,
                     int64_t to_doc, struct ox_error *err);
int files_props_delete(struct store *s, int64_t folder_id, int64_t doc_id, struct ox_error *err);
int64_t files_now(void);
/* Streams bytes [offset, offset + length) of a blob to sink. */
int files_blob_read(struct store *s, const char *hash, uint64_t offset, uint64_t length,
                    files_sink_fn *sink, void *ctx, struct ox_error *err);

/* --- quotas (files-quota.c) --- */
/* How the message of a refusal for a quota starts (files_quota_exceeded). */
#define FILES_QUOTA_EXCEEDED_TEXT "quota exceeded: "
/* Adds delta bytes to the usage of the folder's owner (none for a public
 * folder) and context; growth that would exceed either quota fails with
 * OX_ERR_NO_QUOTA, and the caller rolls back. Inside a transaction, as
 * its first write (see the lock order in files-quota.c). */
int files_charge(struct store *s, int64_t folder_id, int64_t delta, struct ox_error *err);
/* The bytes a folder's account may still add; -1: unlimited. Without a
 * lock: for refusing early, files_charge() decides. */
int files_room_in_folder(struct store *s, int64_t folder_id, int64_t *room_r, struct ox_error *err);
/* files.max_versions; 0: every version is kept. */
int files_max_versions(void);

/* --- versions (files-version.c) --- */
/* Bytes of the versions of a document that go when version `newest` is
 * added (files.max_versions), 0 when none do. */
int files_version_prunable(struct store *s, int64_t doc_id, int newest, int64_t *bytes_r,
                           struct ox_error *err);
/* Makes `version` (new content: hash, size, type) the document's current
 * one: inserts it with its blob reference, points the document at it and
 * drops the versions beyond files.max_versions. The caller charged for
 * it first (size minus files_version_prunable()). */
int files_version_add(struct store *s, int64_t doc_id, int version, const char *hash, int64_t size,
                      const char *content_type, int64_t actor, struct ox_error *err);
/* Drops a document's versions before `first` with their blob
 * references; the caller uncharged their bytes. */
int files_version_drop_before(struct store *s, int64_t doc_id, int first, struct ox_error *err);

#endif
