/* For store drivers only: the vtable every driver implements. */
#ifndef OX_STORE_PRIVATE_H
#define OX_STORE_PRIVATE_H

#include "core/error.h"
#include "store/store.h"

#include <glib.h>

enum store_value_type {
	STORE_NULL,
	STORE_INT,
	STORE_TEXT,
	STORE_BLOB,
};

struct store_value {
	enum store_value_type type;
	int64_t i;
	GBytes *bytes; /* text (with its NUL) or blob */
};

struct store_driver {
	const char *name;
	/* MUST return a struct store whose first member is `struct store`'s
	 * base fields (see below), or NULL with err set. */
	struct store *(*open)(const char *target, struct ox_error *err);
	void (*close)(struct store *store);
	int (*exec)(struct store *store, const char *sql, struct ox_error *err);
	/* MAY be NULL: the connection is always usable (embedded). */
	bool (*connected)(struct store *store);
	/* MUST return a statement embedding struct store_stmt first. */
	struct store_stmt *(*prepare)(struct store *store, const char *sql, struct ox_error *err);
	void (*stmt_free)(struct store_stmt *stmt);
	/* MUST run the statement with stmt->params on the first call after a
	 * reset, then move through its rows. */
	int (*step)(struct store_stmt *stmt, struct ox_error *err);
	/* MUST forget the current result; parameters are cleared by the caller. */
	void (*reset)(struct store_stmt *stmt);
	int64_t (*changes)(struct store_stmt *stmt);
	int (*col_count)(struct store_stmt *stmt);
	bool (*col_is_null)(struct store_stmt *stmt, int col);
	int64_t (*col_int)(struct store_stmt *stmt, int col);
	const char *(*col_text)(struct store_stmt *stmt, int col);
	const void *(*col_blob)(struct store_stmt *stmt, int col, size_t *len_r);
	/* MAY be NULL, all three: read scopes (store_read_begin()). read_end
	 * MUST end the snapshot whatever happened inside it; stmt_writes
	 * says whether a statement may change the database. */
	int (*read_begin)(struct store *store, struct ox_error *err);
	void (*read_end)(struct store *store);
	bool (*stmt_writes)(struct store_stmt *stmt);
	/* Serialises migrations across processes until the transaction ends.
	 * Called inside a transaction. */
	int (*lock_migrations)(struct store *store, struct ox_error *err);
	/* The schema macros: "@ID@" (auto-assigned 64-bit primary key) and
	 * "@BLOB@" (binary column). */
	const char *id_type;
	const char *blob_type;
	/* Blob bodies live in the database (blob_chunks) rather than in files. */
	bool blobs_in_database;
};

struct store {
	const struct store_driver *driver;
	GHashTable *stmts; /* SQL text -> struct store_stmt * */
	/* Address of the SQL text a caller passed -> struct store_stmt *: a
	 * hit is confirmed by comparing the text, which is much cheaper than
	 * hashing it, and callers pass the same literal every time. */
	GHashTable *stmts_by_address;
	bool in_transaction;
	bool in_read_scope;
	char *blob_dir; /* blob files, for drivers that keep them outside */
};

struct store_stmt {
	struct store *store;
	char *sql;
	GArray *params; /* of struct store_value, index n-1 for $n */
	bool running;   /* executed since the last reset */
};

extern const struct store_driver store_driver_sqlite;
extern const struct store_driver store_driver_pgsql;

/* Common parts for drivers. */
void store_base_init(struct store *store, const struct store_driver *driver);
void store_stmt_base_init(struct store_stmt *stmt, struct store *store, const char *sql);
void store_stmt_base_free(struct store_stmt *stmt);
int store_exec_schema(struct store *store, const char *sql, struct ox_error *err);

#endif
