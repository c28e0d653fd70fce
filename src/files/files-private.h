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

#endif
