/* Driver dispatch, the per-connection statement cache, parameters and
 * transactions: what every driver shares. */
#include "store/store-private.h"

#include <string.h>

static const struct store_driver *const drivers[] = {
	&store_driver_sqlite,
	&store_driver_pgsql,
};

struct store *store_open(const char *driver, const char *target, struct ox_error *err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++) {
		if (strcmp(drivers[i]->name, driver) == 0)
			return drivers[i]->open(target, err);
	}
	ox_error_set(err, OX_ERR_INVALID, "store.driver: unknown driver '%s' (sqlite, postgres)",
	             driver);
	return NULL;
}

static void stmt_free(gpointer data)
{
	struct store_stmt *stmt = data;
	stmt->store->driver->stmt_free(stmt);
}

void store_base_init(struct store *store, const struct store_driver *driver)
{
	store->driver = driver;
	store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, stmt_free);
	store->stmts_by_address = g_hash_table_new(g_direct_hash, g_direct_equal);
}

void store_close(struct store **storep)
{
	struct store *store = *storep;
	if (store == NULL)
		return;
	*storep = NULL;
	store_read_end(store);
	if (store->in_transaction)
		store_rollback(store);
	g_hash_table_destroy(store->stmts_by_address);
	g_hash_table_destroy(store->stmts);
	g_free(store->blob_dir);
	store->driver->close(store);
}

const char *store_driver_name(const struct store *store)
{
	return store->driver->name;
}

static void value_clear(gpointer data)
{
	struct store_value *v = data;
	if (v->bytes != NULL)
		g_bytes_unref(v->bytes);
	memset(v, 0, sizeof(*v));
}

void store_stmt_base_init(struct store_stmt *stmt, struct store *store, const char *sql)
{
	stmt->store = store;
	stmt->sql = g_strdup(sql);
	stmt->params = g_array_new(FALSE, TRUE, sizeof(struct store_value));
	g_array_set_clear_func(stmt->params, value_clear);
}

void store_stmt_base_free(struct store_stmt *stmt)
{
	g_array_unref(stmt->params);
	g_free(stmt->sql);
}

struct store_stmt *store_prepare(struct store *store, const char *sql, struct ox_error *err)
{
	/* The address may since hold other text (SQL built at run time and
	 * freed): only a statement of the same text counts. */
	struct store_stmt *stmt = g_hash_table_lookup(store->stmts_by_address, sql);
	if (stmt != NULL && strcmp(stmt->sql, sql) == 0)
		return stmt;
	stmt = g_hash_table_lookup(store->stmts, sql);
	if (stmt == NULL) {
		stmt = store->driver->prepare(store, sql, err);
		if (stmt == NULL)
			return NULL;
		g_hash_table_insert(store->stmts, stmt->sql, stmt);
	}
	/* Addresses of run-time text come and go: bounded by starting over. */
	if (g_hash_table_size(store->stmts_by_address) > 2 * g_hash_table_size(store->stmts) + 64)
		g_hash_table_remove_all(store->stmts_by_address);
	g_hash_table_insert(store->stmts_by_address, (gpointer)sql, stmt);
	return stmt;
}

void store_stmt_done(struct store_stmt **stmtp)
{
	struct store_stmt *stmt = *stmtp;
	if (stmt == NULL)
		return;
	*stmtp = NULL;
	stmt->store->driver->reset(stmt);
	g_array_set_size(stmt->params, 0);
	stmt->running = false;
}

static struct store_value *param(struct store_stmt *stmt, int n)
{
	g_assert(n >= 1 && n <= 999);
	if ((guint)n > stmt->params->len)
		g_array_set_size(stmt->params, (guint)n);
	struct store_value *v = &g_array_index(stmt->params, struct store_value, n - 1);
	value_clear(v);
	return v;
}

void store_bind_int(struct store_stmt *stmt, int n, int64_t value)
{
	struct store_value *v = param(stmt, n);
	v->type = STORE_INT;
	v->i = value;
}

void store_bind_text(struct store_stmt *stmt, int n, const char *value)
{
	struct store_value *v = param(stmt, n);
	if (value == NULL)
		return;
	v->type = STORE_TEXT;
	v->bytes = g_bytes_new(value, strlen(value) + 1);
}

void store_bind_blob(struct store_stmt *stmt, int n, const void *data, size_t len)
{
	struct store_value *v = param(stmt, n);
	v->type = STORE_BLOB;
	v->bytes = g_bytes_new(data, len);
}

void store_bind_null(struct store_stmt *stmt, int n)
{
	param(stmt, n);
}

int store_step(struct store_stmt *stmt, struct ox_error *err)
{
	/* A write runs on its own, as it would without the scope: inside the
	 * scope's snapshot it could fail as stale instead of waiting for the
	 * write lock. */
	if (stmt->store->in_read_scope && !stmt->running && stmt->store->driver->stmt_writes(stmt))
		store_read_end(stmt->store);
	int r = stmt->store->driver->step(stmt, err);
	stmt->running = true;
	return r;
}

int store_run(struct store_stmt *stmt, struct ox_error *err)
{
	int r;
	while ((r = store_step(stmt, err)) > 0)
		;
	return r;
}

int64_t store_changes(struct store_stmt *stmt)
{
	return stmt->store->driver->changes(stmt);
}

int store_col_count(struct store_stmt *stmt)
{
	return stmt->store->driver->col_count(stmt);
}

bool store_col_is_null(struct store_stmt *stmt, int col)
{
	return stmt->store->driver->col_is_null(stmt, col);
}

int64_t store_col_int(struct store_stmt *stmt, int col)
{
	return stmt->store->driver->col_int(stmt, col);
}

const char *store_col_text(struct store_stmt *stmt, int col)
{
	return stmt->store->driver->col_text(stmt, col);
}

const void *store_col_blob(struct store_stmt *stmt, int col, size_t *len_r)
{
	return stmt->store->driver->col_blob(stmt, col, len_r);
}

int store_exec(struct store *store, const char *sql, struct ox_error *err)
{
	store_read_end(store);
	return store->driver->exec(store, sql, err);
}

int store_exec_schema(struct store *store, const char *sql, struct ox_error *err)
{
	GString *s = g_string_new(sql);
	g_string_replace(s, "@ID@", store->driver->id_type, 0);
	g_string_replace(s, "@BLOB@", store->driver->blob_type, 0);
	int r = store_exec(store, s->str, err);
	g_string_free(s, TRUE);
	return r;
}

int store_begin(struct store *store, struct ox_error *err)
{
	g_assert(!store->in_transaction);
	if (store_exec(store, "BEGIN", err) < 0)
		return -1;
	store->in_transaction = true;
	return 0;
}

int store_commit(struct store *store, struct ox_error *err)
{
	g_assert(store->in_transaction);
	int r = store_exec(store, "COMMIT", err);
	if (r < 0)
		store_rollback(store);
	store->in_transaction = false;
	return r;
}

void store_rollback(struct store *store)
{
	if (!store->in_transaction)
		return;
	store_exec(store, "ROLLBACK", NULL);
	store->in_transaction = false;
}

bool store_in_transaction(const struct store *store)
{
	return store->in_transaction;
}

int store_read_begin(struct store *store, struct ox_error *err)
{
	if (store->driver->read_begin == NULL || store->in_transaction || store->in_read_scope)
		return 0;
	if (store->driver->read_begin(store, err) < 0)
		return -1;
	store->in_read_scope = true;
	return 0;
}

void store_read_end(struct store *store)
{
	if (!store->in_read_scope)
		return;
	store->in_read_scope = false;
	store->driver->read_end(store);
}
