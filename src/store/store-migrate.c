/* Applies the numbered migrations of store-schema.c. Each runs in its own
 * transaction together with the row that records it, under a lock that
 * other nodes and oxctl respect, so a crash or a race never leaves a
 * half-applied schema. */
#include "store/store-private.h"
#include "store/store-schema.h"

static const char create_version_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
					   " version INTEGER PRIMARY KEY,"
					   " description TEXT NOT NULL,"
					   " applied BIGINT NOT NULL)";

int store_schema_latest(void)
{
	size_t n;
	const struct store_migration *m = store_migrations(&n);
	return n > 0 ? m[n - 1].version : 0;
}

static int current_version(struct store *store, int *version_r, struct ox_error *err)
{
	struct store_stmt *stmt = store_prepare(
		store, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", err);
	if (stmt == NULL)
		return -1;
	int r = store_step(stmt, err);
	if (r > 0)
		*version_r = (int)store_col_int(stmt, 0);
	store_stmt_done(&stmt);
	return r > 0 ? 0 : -1;
}

int store_schema_version(struct store *store, struct ox_error *err)
{
	int version = 0;
	if (store_exec(store, create_version_table, err) < 0 ||
	    current_version(store, &version, err) < 0)
		return -1;
	return version;
}

static int apply(struct store *store, const struct store_migration *m, struct ox_error *err)
{
	int version;
	if (store_begin(store, err) < 0)
		return -1;
	if (store->driver->lock_migrations(store, err) < 0 ||
	    current_version(store, &version, err) < 0)
		goto fail;
	if (version >= m->version) {
		/* Another process applied it while we waited for the lock. */
		return store_commit(store, err);
	}
	if (store_exec_schema(store, m->sql, err) < 0)
		goto fail;
	struct store_stmt *stmt = store_prepare(
		store,
		"INSERT INTO schema_migrations (version, description, applied) VALUES ($1, $2, $3)",
		err);
	if (stmt == NULL)
		goto fail;
	store_bind_int(stmt, 1, m->version);
	store_bind_text(stmt, 2, m->description);
	store_bind_int(stmt, 3, g_get_real_time() / G_USEC_PER_SEC);
	int r = store_run(stmt, err);
	store_stmt_done(&stmt);
	if (r < 0)
		goto fail;
	return store_commit(store, err);
fail:
	store_rollback(store);
	return -1;
}

int store_migrate(struct store *store, struct ox_error *err)
{
	int version = store_schema_version(store, err);
	if (version < 0)
		return -1;
	if (version > store_schema_latest())
		return ox_error_set(err, OX_ERR_INVALID,
		                    "store: schema version %d is newer than this build knows (%d)",
		                    version, store_schema_latest());
	size_t n;
	const struct store_migration *m = store_migrations(&n);
	for (size_t i = 0; i < n; i++) {
		if (m[i].version > version && apply(store, &m[i], err) < 0)
			return -1;
	}
	return 0;
}
