#ifndef OX_FOLDER_PRIVATE_H
#define OX_FOLDER_PRIVATE_H

#include "core/error.h"
#include "folder/folder.h"
#include "store/store.h"

#include <glib.h>

/* Next modseq of an account (one statement: safe under concurrency). */
int modseq_next(struct store *s, int64_t account_id, int64_t *modseq_r, struct ox_error *err);
/* A folder's raw row: 1, 0, -1. */
struct folder_row {
	int64_t id, context_id, parent_id, owner_id, account_id;
	enum folder_module module;
};
int folder_row(struct store *s, int64_t folder_id, struct folder_row *row_r, struct ox_error *err);
/* Adds p to acc level by level: a user's rights are the union of their
 * entry and their groups' entries. */
void folder_perm_union(struct folder_perm *acc, const struct folder_perm *p);
int folder_txn_begin(struct store *s, bool *own_r, struct ox_error *err);
int folder_txn_end(struct store *s, bool own, bool ok, struct ox_error *err);
bool folder_name_valid(const char *name);

#endif
