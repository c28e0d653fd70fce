/* WebDAV locks on names in a user's files tree, in the store so that every
 * node and oxctl see the same locks. The DAV engine decides what they
 * mean; this file keeps them and decides who may take or drop one. */
#include "files/files-private.h"

#include <string.h>

#define FILES_LOCKS_MAX 1000

static char *tree_key(int64_t owner)
{
	return g_strdup_printf("files/%" G_GINT64_FORMAT, owner);
}

void files_lock_clear(struct files_lock *lock)
{
	g_free(lock->token);
	g_free(lock->path);
	g_free(lock->owner);
	memset(lock, 0, sizeof(*lock));
}

void files_locks_free(struct files_lock **locks, size_t n)
{
	if (*locks == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		files_lock_clear(&(*locks)[i]);
	g_free(*locks);
	*locks = NULL;
}

int files_locks(struct store *s, int64_t owner, struct files_lock **locks_r, size_t *n_r,
                struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT token, path, depth, exclusive, owner, "
	                                      "principal_id, timeout, expires FROM dav_locks "
	                                      "WHERE tree = $1 AND expires > $2",
	                                      err);
	if (st == NULL)
		return -1;
	char *tree = tree_key(owner);
	store_bind_text(st, 1, tree);
	store_bind_int(st, 2, files_now());
	g_free(tree);
	GArray *locks = g_array_new(FALSE, TRUE, sizeof(struct files_lock));
	int r;
	while ((r = store_step(st, err)) > 0 && locks->len < FILES_LOCKS_MAX) {
		struct files_lock l = {
			.token = g_strdup(store_col_text(st, 0)),
			.path = g_strdup(store_col_text(st, 1)),
			.depth = (int)store_col_int(st, 2),
			.exclusive = store_col_int(st, 3) != 0,
			.owner = g_strdup(store_col_text(st, 4)),
			.principal_id = store_col_int(st, 5),
			.timeout = store_col_int(st, 6),
			.expires = store_col_int(st, 7),
		};
		g_array_append_val(locks, l);
	}
	store_stmt_done(&st);
	*n_r = locks->len;
	*locks_r = (struct files_lock *)g_array_free(locks, FALSE);
	if (r < 0)
		files_locks_free(locks_r, *n_r);
	return r < 0 ? -1 : 0;
}

/* Locking a name needs what changing it needs. */
static int lock_check(struct store *s, int64_t actor, const struct files_entry *e,
                      struct ox_error *err)
{
	if (e->exists && e->document_id != 0)
		return files_doc_check(s, actor, e, FOLDER_WRITE_OBJECT, err);
	int64_t folder = e->folder_id;
	if (!e->exists && !e->parent_found)
		return ox_error_set(err, OX_ERR_CONFLICT, "the parent collection does not exist");
	if (folder == 0)
		return actor == e->owner_id ? 0
		                            : ox_error_set(err, OX_ERR_PERM,
		                                           "only the owner locks the top level");
	return folder_check(s, actor, folder, FOLDER_CREATE_OBJECT, 0, err);
}

/* Removes expired locks so the table does not grow with abandoned ones. */
static int purge_expired(struct store *s, const char *tree, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "DELETE FROM dav_locks WHERE tree = $1 AND expires <= $2", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, tree);
	store_bind_int(st, 2, files_now());
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

int files_lock_create(struct store *s, int64_t actor, const struct files_entry *entry,
                      struct files_lock *lock, struct ox_error *err)
{
	if (lock_check(s, actor, entry, err) < 0)
		return -1;
	char *tree = tree_key(entry->owner_id);
	int r = purge_expired(s, tree, err);
	struct store_stmt *st =
		r < 0 ? NULL
		      : store_prepare(
				s,
				"INSERT INTO dav_locks (token, tree, path, depth, exclusive, "
				"owner, principal_id, timeout, expires) VALUES ($1, $2, $3, $4, "
				"$5, $6, $7, $8, $9)",
				err);
	if (st == NULL) {
		g_free(tree);
		return -1;
	}
	char *uuid = g_uuid_string_random();
	g_free(lock->token);
	lock->token = g_strconcat("opaquelocktoken:", uuid, NULL);
	g_free(uuid);
	lock->principal_id = actor;
	lock->expires = files_now() + lock->timeout;
	store_bind_text(st, 1, lock->token);
	store_bind_text(st, 2, tree);
	store_bind_text(st, 3, lock->path);
	store_bind_int(st, 4, lock->depth);
	store_bind_int(st, 5, lock->exclusive ? 1 : 0);
	store_bind_text(st, 6, lock->owner);
	store_bind_int(st, 7, actor);
	store_bind_int(st, 8, lock->timeout);
	store_bind_int(st, 9, lock->expires);
	r = store_run(st, err);
	store_stmt_done(&st);
	g_free(tree);
	return r;
}

int files_lock_refresh(struct store *s, int64_t owner, const char *token, int64_t timeout,
                       struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "UPDATE dav_locks SET timeout = $3, expires = $4 "
	                                      "WHERE token = $1 AND tree = $2 AND expires > $5",
	                                      err);
	if (st == NULL)
		return -1;
	char *tree = tree_key(owner);
	int64_t now = files_now();
	store_bind_text(st, 1, token);
	store_bind_text(st, 2, tree);
	store_bind_int(st, 3, timeout);
	store_bind_int(st, 4, now + timeout);
	store_bind_int(st, 5, now);
	int r = store_run(st, err);
	int64_t changed = store_changes(st);
	store_stmt_done(&st);
	g_free(tree);
	if (r == 0 && changed == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such lock");
	return r;
}

int files_lock_remove(struct store *s, int64_t actor, int64_t owner, const char *token,
                      struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT principal_id FROM dav_locks WHERE token = $1 AND tree = $2", err);
	if (st == NULL)
		return -1;
	char *tree = tree_key(owner);
	store_bind_text(st, 1, token);
	store_bind_text(st, 2, tree);
	int r = store_step(st, err);
	int64_t holder = r > 0 ? store_col_int(st, 0) : 0;
	store_stmt_done(&st);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no such lock");
	else if (r > 0 && holder != actor && actor != FOLDER_SYSTEM_ACTOR)
		ox_error_set(err, OX_ERR_PERM, "the lock belongs to someone else");
	if (r <= 0 || (holder != actor && actor != FOLDER_SYSTEM_ACTOR)) {
		g_free(tree);
		return -1;
	}
	st = store_prepare(s, "DELETE FROM dav_locks WHERE token = $1 AND tree = $2", err);
	r = st != NULL ? 0 : -1;
	if (st != NULL) {
		store_bind_text(st, 1, token);
		store_bind_text(st, 2, tree);
		r = store_run(st, err);
		store_stmt_done(&st);
	}
	g_free(tree);
	return r;
}

int files_locks_drop(struct store *s, int64_t owner, const char *path, struct ox_error *err)
{
	struct files_lock *locks = NULL;
	size_t n = 0;
	if (files_locks(s, owner, &locks, &n, err) < 0)
		return -1;
	size_t plen = strlen(path);
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *p = locks[i].path;
		bool below = plen == 0 ||
		             (strncmp(p, path, plen) == 0 && (p[plen] == '\0' || p[plen] == '/'));
		if (below)
			r = files_lock_remove(s, FOLDER_SYSTEM_ACTOR, owner, locks[i].token, err);
	}
	files_locks_free(&locks, n);
	return r;
}
