/* The change log: one row per object ever in a folder, stamped with the
 * modseq of its last create, update or delete. DAV sync tokens, IMAP
 * CONDSTORE/QRESYNC and JMAP states are all read from here. */
#include "folder/folder-private.h"

#include <string.h>

#define OBJECT_NAME_MAX 1024

int change_record(struct store *s, int64_t folder_id, const char *object, int64_t actor,
                  bool deleted, int64_t *modseq_r, struct ox_error *err)
{
	struct folder_row row;
	if (object == NULL || *object == '\0' || strlen(object) > OBJECT_NAME_MAX)
		return ox_error_set(err, OX_ERR_INVALID, "an object name is 1 to %d bytes",
		                    OBJECT_NAME_MAX);
	int found = folder_row(s, folder_id, &row, err);
	if (found == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
	if (found <= 0)
		return -1;
	bool own;
	if (folder_txn_begin(s, &own, err) < 0)
		return -1;
	int64_t modseq = 0;
	bool ok = modseq_next(s, row.account_id, &modseq, err) == 0;
	if (ok) {
		/* The creator is kept from the first record: "own" means the
		 * object's creator, not its last editor. */
		struct store_stmt *st = store_prepare(
			s,
			"INSERT INTO changes (folder_id, object, modseq, created_by, deleted) "
			"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (folder_id, object) DO UPDATE SET "
			"modseq = $3, deleted = $5, created_by = CASE WHEN changes.deleted = 1 "
			"THEN $4 ELSE changes.created_by END",
			err);
		ok = st != NULL;
		if (ok) {
			store_bind_int(st, 1, folder_id);
			store_bind_text(st, 2, object);
			store_bind_int(st, 3, modseq);
			if (actor != FOLDER_SYSTEM_ACTOR)
				store_bind_int(st, 4, actor);
			else
				store_bind_null(st, 4);
			store_bind_int(st, 5, deleted ? 1 : 0);
			ok = store_run(st, err) == 0;
			store_stmt_done(&st);
		}
	}
	if (folder_txn_end(s, own, ok, err) < 0)
		return -1;
	if (modseq_r != NULL)
		*modseq_r = modseq;
	return 0;
}

int changes_since(struct store *s, int64_t folder_id, int64_t since, change_fn *fn, void *ctx,
                  int64_t *current_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT object, modseq, deleted FROM changes WHERE "
	                                      "folder_id = $1 AND modseq > $2 ORDER BY modseq",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_int(st, 2, since);
	int64_t newest = since;
	int r;
	while ((r = store_step(st, err)) > 0) {
		int64_t modseq = store_col_int(st, 1);
		newest = MAX(newest, modseq);
		if (fn(store_col_text(st, 0), modseq, store_col_int(st, 2) != 0, ctx) < 0) {
			r = ox_error_set(err, OX_ERR_INTERNAL, "change listing stopped");
			break;
		}
	}
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	if (current_r != NULL) {
		/* The folder's own modseq counts too (renames, shares). */
		st = store_prepare(
			s,
			"SELECT MAX(m) FROM (SELECT MAX(modseq) AS m FROM changes WHERE "
			"folder_id = $1 UNION ALL SELECT modseq FROM folders WHERE id = $1) t",
			err);
		if (st == NULL)
			return -1;
		store_bind_int(st, 1, folder_id);
		r = store_step(st, err);
		*current_r = r > 0 && !store_col_is_null(st, 0) ? store_col_int(st, 0) : newest;
		store_stmt_done(&st);
	}
	return r < 0 ? -1 : 0;
}

int change_object_creator(struct store *s, int64_t folder_id, const char *object,
                          int64_t *creator_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT COALESCE(created_by, 0) FROM changes WHERE "
	                                      "folder_id = $1 AND object = $2 AND deleted = 0",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, object);
	int r = store_step(st, err);
	if (r > 0)
		*creator_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r;
}
