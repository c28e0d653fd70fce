/* The store: SQL behind one interface with two drivers, SQLite (embedded,
 * the default) and PostgreSQL (several nodes on one database). Services use
 * it; protocols never do.
 *
 * SQL is written once for both drivers: parameters are $1..$N (bound by
 * number, in any order of appearance), and the schema uses the few macros
 * of store_exec_schema(). A struct store is one connection: use it from one
 * thread at a time (each worker owns one). */
#ifndef OX_STORE_H
#define OX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ox_config;
struct ox_error;
struct store;
struct store_stmt;

/* Opens a connection. driver: "sqlite" (target: a database file path) or
 * "postgres" (target: a libpq connection string; empty uses the PG*
 * environment). Returns NULL with err set. */
struct store *store_open(const char *driver, const char *target, struct ox_error *err);
void store_close(struct store **store);

/* Registers store.driver and store.dsn. */
void store_register_options(void);
/* Opens the store the configuration names (SQLite: DATA/ox.db with blobs
 * in DATA/blobs). */
struct store *store_open_configured(const struct ox_config *cfg, struct ox_error *err);
const char *store_driver_name(const struct store *store);

/* The calling thread's own connection to the configured store, opened on
 * first use and closed when the thread exits. For worker threads. */
void store_thread_configure(const struct ox_config *cfg);
struct store *store_thread_get(struct ox_error *err);
/* Drops the thread's connection (after it failed); the next get reopens. */
void store_thread_discard(void);

/* Brings the schema to the newest version, one transaction per migration,
 * safe against other processes migrating at the same time. */
int store_migrate(struct store *store, struct ox_error *err);
/* The schema version applied, 0 for none, -1 on error. */
int store_schema_version(struct store *store, struct ox_error *err);
/* The newest schema version this build knows. */
int store_schema_latest(void);

/* Transactions. Nested begin is a programming error. A failed statement
 * inside a transaction leaves it to be rolled back by the caller. */
int store_begin(struct store *store, struct ox_error *err);
int store_commit(struct store *store, struct ox_error *err);
void store_rollback(struct store *store);
bool store_in_transaction(const struct store *store);

/* A read scope: the statements that follow outside a transaction share one
 * read snapshot until store_read_end(), instead of each taking and
 * releasing the database's locks (with SQLite, several fcntl() calls per
 * statement; a DAV request runs a dozen small reads). The scope ends by
 * itself before anything that writes (a writing statement, store_begin(),
 * store_exec()) and before a blob is opened for reading (it may stream for
 * long, and a held snapshot keeps the SQLite log from being recycled), so
 * writes behave exactly as without it. A no-op where the driver has no use
 * for it (PostgreSQL) or inside a transaction. 0 or -1 (then no scope). */
int store_read_begin(struct store *store, struct ox_error *err);
void store_read_end(struct store *store);

/* Runs SQL without parameters or results (may hold several statements). */
int store_exec(struct store *store, const char *sql, struct ox_error *err);

/* Prepares (or takes from the connection's cache) a statement. The result
 * belongs to the store: call store_stmt_done() when finished with it; it
 * is reset and kept for the next store_prepare() of the same SQL. */
struct store_stmt *store_prepare(struct store *store, const char *sql, struct ox_error *err);
void store_stmt_done(struct store_stmt **stmt);

/* Binds parameter $n (1-based). Text and blob values are copied. */
void store_bind_int(struct store_stmt *stmt, int n, int64_t value);
void store_bind_text(struct store_stmt *stmt, int n, const char *value); /* NULL binds NULL */
void store_bind_blob(struct store_stmt *stmt, int n, const void *data, size_t len);
void store_bind_null(struct store_stmt *stmt, int n);

/* Runs the statement or moves to its next row: 1 a row is ready, 0 done,
 * -1 error (err set; unique violations are OX_ERR_EXISTS, lock timeouts
 * OX_ERR_TEMP). */
int store_step(struct store_stmt *stmt, struct ox_error *err);
/* Runs a statement that returns no row of interest. */
int store_run(struct store_stmt *stmt, struct ox_error *err);
/* Rows changed by the last INSERT/UPDATE/DELETE run. */
int64_t store_changes(struct store_stmt *stmt);

/* Columns of the current row (0-based). Pointers stay valid until the next
 * step, done or close. */
int store_col_count(struct store_stmt *stmt);
bool store_col_is_null(struct store_stmt *stmt, int col);
int64_t store_col_int(struct store_stmt *stmt, int col);
const char *store_col_text(struct store_stmt *stmt, int col); /* NULL for NULL */
const void *store_col_blob(struct store_stmt *stmt, int col, size_t *len_r);

#endif
