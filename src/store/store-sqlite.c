/* SQLite driver: the embedded default. WAL so readers never wait for the
 * writer, a busy timeout so concurrent writers queue instead of failing,
 * and BEGIN IMMEDIATE so a transaction takes the write lock up front rather
 * than failing halfway when it upgrades. */
#include "store/store-private.h"

#include <sqlite3.h>
#include <string.h>

#define SQLITE_BUSY_TIMEOUT_MS 10000

struct sqlite_store {
	struct store base;
	sqlite3 *db;
};

struct sqlite_stmt {
	struct store_stmt base;
	sqlite3_stmt *stmt;
	/* SQLite's index of $n at [n-1], 0 when the SQL does not use it:
	 * found once at prepare time rather than by name at each run. */
	int *param_index;
	int nparam_index;
	int64_t changes;
	bool done;
};

static sqlite3 *db_of(struct store *store)
{
	return ((struct sqlite_store *)store)->db;
}

static int fail(sqlite3 *db, int rc, struct ox_error *err, const char *what)
{
	enum ox_error_code code = OX_ERR_INTERNAL;
	int primary = rc & 0xff;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		code = OX_ERR_EXISTS;
	else if (primary == SQLITE_CONSTRAINT)
		code = OX_ERR_CONFLICT;
	else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		code = OX_ERR_TEMP;
	return ox_error_set(err, code, "sqlite: %s: %s", what,
	                    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static struct store *sqlite_open(const char *target, struct ox_error *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(target, &db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		ox_error_set(err, OX_ERR_INTERNAL, "sqlite: cannot open %s: %s", target,
		             db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, SQLITE_BUSY_TIMEOUT_MS);
	char *msg = NULL;
	rc = sqlite3_exec(db,
	                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	                  "PRAGMA foreign_keys=ON;",
	                  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		ox_error_set(err, OX_ERR_INTERNAL, "sqlite: cannot set up %s: %s", target,
		             msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	struct sqlite_store *s = g_new0(struct sqlite_store, 1);
	store_base_init(&s->base, &store_driver_sqlite);
	s->db = db;
	return &s->base;
}

static void sqlite_close(struct store *store)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	sqlite3_close_v2(s->db);
	g_free(s);
}

static int sqlite_exec(struct store *store, const char *sql, struct ox_error *err)
{
	/* Writers take the lock at BEGIN (see the top of the file). */
	if (strcmp(sql, "BEGIN") == 0)
		sql = "BEGIN IMMEDIATE";
	int rc = sqlite3_exec(db_of(store), sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(db_of(store), rc, err, "exec");
}

/* Our parameters are $1..$999 (store_bind_*); SQLite numbers its named
 * parameters in order of first appearance. */
static void index_params(struct sqlite_stmt *st)
{
	int count = sqlite3_bind_parameter_count(st->stmt);
	for (int idx = 1; idx <= count; idx++) {
		const char *name = sqlite3_bind_parameter_name(st->stmt, idx);
		if (name == NULL || name[0] != '$' || !g_ascii_isdigit(name[1]))
			continue;
		guint64 n = 0;
		if (!g_ascii_string_to_unsigned(name + 1, 10, 1, 999, &n, NULL))
			continue;
		if ((int)n > st->nparam_index) {
			st->param_index = g_renew(int, st->param_index, n);
			memset(st->param_index + st->nparam_index, 0,
			       (n - (guint64)st->nparam_index) * sizeof(int));
			st->nparam_index = (int)n;
		}
		st->param_index[n - 1] = idx;
	}
}

static struct store_stmt *sqlite_prepare(struct store *store, const char *sql, struct ox_error *err)
{
	sqlite3_stmt *raw = NULL;
	int rc = sqlite3_prepare_v3(db_of(store), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL);
	if (rc != SQLITE_OK) {
		fail(db_of(store), rc, err, "prepare");
		return NULL;
	}
	struct sqlite_stmt *st = g_new0(struct sqlite_stmt, 1);
	store_stmt_base_init(&st->base, store, sql);
	st->stmt = raw;
	index_params(st);
	return &st->base;
}

static void sqlite_stmt_free(struct store_stmt *stmt)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)stmt;
	sqlite3_finalize(st->stmt);
	g_free(st->param_index);
	store_stmt_base_free(stmt);
	g_free(st);
}

/* Binds $n by name, so SQL may use its parameters in any order. The
 * statement comes reset with its bindings cleared (sqlite_reset()). */
static int bind_params(struct sqlite_stmt *st)
{
	for (guint i = 0; i < st->base.params->len && (int)i < st->nparam_index; i++) {
		const struct store_value *v =
			&g_array_index(st->base.params, struct store_value, i);
		int idx = st->param_index[i];
		if (idx == 0)
			continue;
		int rc = SQLITE_OK;
		gsize len = 0;
		const void *data = v->bytes != NULL ? g_bytes_get_data(v->bytes, &len) : NULL;
		switch (v->type) {
		case STORE_NULL:
			rc = sqlite3_bind_null(st->stmt, idx);
			break;
		case STORE_INT:
			rc = sqlite3_bind_int64(st->stmt, idx, v->i);
			break;
		case STORE_TEXT:
			rc = sqlite3_bind_text(st->stmt, idx, data, (int)len - 1, SQLITE_STATIC);
			break;
		case STORE_BLOB:
			rc = sqlite3_bind_blob64(st->stmt, idx, data != NULL ? data : "", len,
			                         SQLITE_STATIC);
			break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int sqlite_step(struct store_stmt *stmt, struct ox_error *err)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)stmt;
	if (st->done)
		return 0;
	if (!stmt->running) {
		int rc = bind_params(st);
		if (rc != SQLITE_OK)
			return fail(db_of(stmt->store), rc, err, "bind");
	}
	int rc = sqlite3_step(st->stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		st->changes = sqlite3_changes64(db_of(stmt->store));
		st->done = true;
		return 0;
	}
	fail(db_of(stmt->store), rc, err, "step");
	sqlite3_reset(st->stmt);
	return -1;
}

static void sqlite_reset(struct store_stmt *stmt)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)stmt;
	sqlite3_reset(st->stmt);
	sqlite3_clear_bindings(st->stmt);
	st->done = false;
}

static int64_t sqlite_changes(struct store_stmt *stmt)
{
	return ((struct sqlite_stmt *)stmt)->changes;
}

static int sqlite_col_count(struct store_stmt *stmt)
{
	return sqlite3_column_count(((struct sqlite_stmt *)stmt)->stmt);
}

static bool sqlite_col_is_null(struct store_stmt *stmt, int col)
{
	return sqlite3_column_type(((struct sqlite_stmt *)stmt)->stmt, col) == SQLITE_NULL;
}

static int64_t sqlite_col_int(struct store_stmt *stmt, int col)
{
	return sqlite3_column_int64(((struct sqlite_stmt *)stmt)->stmt, col);
}

static const char *sqlite_col_text(struct store_stmt *stmt, int col)
{
	return (const char *)sqlite3_column_text(((struct sqlite_stmt *)stmt)->stmt, col);
}

static const void *sqlite_col_blob(struct store_stmt *stmt, int col, size_t *len_r)
{
	sqlite3_stmt *raw = ((struct sqlite_stmt *)stmt)->stmt;
	const void *data = sqlite3_column_blob(raw, col);
	*len_r = (size_t)sqlite3_column_bytes(raw, col);
	return data;
}

/* A plain (deferred) BEGIN takes no lock until the first read, which then
 * holds its snapshot until the end; sqlite_exec() would make "BEGIN" an
 * immediate (writing) one. */
static int sqlite_read_begin(struct store *store, struct ox_error *err)
{
	int rc = sqlite3_exec(db_of(store), "BEGIN DEFERRED", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(db_of(store), rc, err, "read scope");
}

static void sqlite_read_end(struct store *store)
{
	/* Nothing was written: if the commit fails, rolling back loses
	 * nothing. */
	if (sqlite3_exec(db_of(store), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(db_of(store), "ROLLBACK", NULL, NULL, NULL);
}

static bool sqlite_stmt_writes(struct store_stmt *stmt)
{
	return !sqlite3_stmt_readonly(((struct sqlite_stmt *)stmt)->stmt);
}

static int sqlite_lock_migrations(struct store *store, struct ox_error *err)
{
	return 0; /* BEGIN IMMEDIATE already holds the database's write lock */
}

const struct store_driver store_driver_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.prepare = sqlite_prepare,
	.stmt_free = sqlite_stmt_free,
	.step = sqlite_step,
	.reset = sqlite_reset,
	.changes = sqlite_changes,
	.col_count = sqlite_col_count,
	.col_is_null = sqlite_col_is_null,
	.col_int = sqlite_col_int,
	.col_text = sqlite_col_text,
	.col_blob = sqlite_col_blob,
	.read_begin = sqlite_read_begin,
	.read_end = sqlite_read_end,
	.stmt_writes = sqlite_stmt_writes,
	.lock_migrations = sqlite_lock_migrations,
	.id_type = "INTEGER PRIMARY KEY",
	.blob_type = "BLOB",
};
