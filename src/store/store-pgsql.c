/* PostgreSQL driver (libpq): statements are prepared once per connection on
 * the server; parameters go as text, blobs as binary; results come as text
 * (bytea in its hex form, decoded on access). */
#include "store/store-private.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* Any constant works; it only has to be the same for every node. */
#define MIGRATION_LOCK_KEY 0x4f58000001LL

struct pg_store {
	struct store base;
	PGconn *conn;
	unsigned next_stmt_id;
};

struct pg_stmt {
	struct store_stmt base;
	char name[24];
	PGresult *result;
	int row; /* current row, -1 before the first */
	int rows;
	GPtrArray *decoded; /* bytea values decoded for this row */
};

static PGconn *conn_of(struct store *store)
{
	return ((struct pg_store *)store)->conn;
}

static int fail_result(PGconn *conn, PGresult *res, struct ox_error *err, const char *what)
{
	enum ox_error_code code = OX_ERR_INTERNAL;
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "23505") == 0)
		code = OX_ERR_EXISTS;
	else if (state != NULL && strncmp(state, "23", 2) == 0)
		code = OX_ERR_CONFLICT;
	else if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	                           strcmp(state, "55P03") == 0))
		code = OX_ERR_TEMP;
	else if (PQstatus(conn) != CONNECTION_OK)
		code = OX_ERR_TEMP;
	const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	char *trimmed = g_strchomp(g_strdup(msg != NULL && *msg != '\0' ? msg : "failed"));
	ox_error_set(err, code, "postgres: %s: %s", what, trimmed);
	g_free(trimmed);
	return -1;
}

static bool result_ok(PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static struct store *pg_open(const char *target, struct ox_error *err)
{
	PGconn *conn = PQconnectdb(target != NULL ? target : "");
	if (PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message spans lines; the start-up error is one line. */
		char *msg = g_strstrip(g_strdelimit(g_strdup(PQerrorMessage(conn)), "\n\t", ' '));
		ox_error_set(err, OX_ERR_TEMP, "postgres: cannot connect: %s", msg);
		g_free(msg);
		PQfinish(conn);
		return NULL;
	}
	PGresult *res = PQexec(conn, "SET client_min_messages = warning");
	PQclear(res);
	struct pg_store *s = g_new0(struct pg_store, 1);
	store_base_init(&s->base, &store_driver_pgsql);
	s->conn = conn;
	return &s->base;
}

static void pg_close(struct store *store)
{
	struct pg_store *s = (struct pg_store *)store;
	PQfinish(s->conn);
	g_free(s);
}

static bool pg_connected(struct store *store)
{
	return PQstatus(conn_of(store)) == CONNECTION_OK;
}

static int pg_exec(struct store *store, const char *sql, struct ox_error *err)
{
	PGresult *res = PQexec(conn_of(store), sql);
	int r = result_ok(res) ? 0 : fail_result(conn_of(store), res, err, "exec");
	PQclear(res);
	return r;
}

static struct store_stmt *pg_prepare(struct store *store, const char *sql, struct ox_error *err)
{
	struct pg_store *s = (struct pg_store *)store;
	struct pg_stmt *st = g_new0(struct pg_stmt, 1);
	g_snprintf(st->name, sizeof(st->name), "ox%u", ++s->next_stmt_id);
	PGresult *res = PQprepare(s->conn, st->name, sql, 0, NULL);
	if (!result_ok(res)) {
		fail_result(s->conn, res, err, "prepare");
		PQclear(res);
		g_free(st);
		return NULL;
	}
	PQclear(res);
	store_stmt_base_init(&st->base, store, sql);
	st->row = -1;
	st->decoded = g_ptr_array_new_with_free_func(PQfreemem);
	return &st->base;
}

static void pg_reset(struct store_stmt *stmt)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	if (st->result != NULL)
		PQclear(st->result);
	st->result = NULL;
	st->row = -1;
	st->rows = 0;
	g_ptr_array_set_size(st->decoded, 0);
}

static void pg_stmt_free(struct store_stmt *stmt)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	pg_reset(stmt);
	g_ptr_array_unref(st->decoded);
	store_stmt_base_free(stmt);
	g_free(st);
}

static int pg_execute(struct pg_stmt *st, struct ox_error *err)
{
	guint n = st->base.params->len;
	const char **values = g_new0(const char *, n + 1);
	int *lengths = g_new0(int, n + 1);
	int *formats = g_new0(int, n + 1);
	char **numbers = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++) {
		const struct store_value *v =
			&g_array_index(st->base.params, struct store_value, i);
		gsize len = 0;
		switch (v->type) {
		case STORE_NULL:
			break;
		case STORE_INT:
			numbers[i] = g_strdup_printf("%" G_GINT64_FORMAT, v->i);
			values[i] = numbers[i];
			break;
		case STORE_TEXT:
			values[i] = g_bytes_get_data(v->bytes, NULL);
			break;
		case STORE_BLOB:
			values[i] = g_bytes_get_data(v->bytes, &len);
			if (values[i] == NULL)
				values[i] = "";
			lengths[i] = (int)len;
			formats[i] = 1;
			break;
		}
	}
	PGconn *conn = conn_of(st->base.store);
	st->result = PQexecPrepared(conn, st->name, (int)n, values, lengths, formats, 0);
	int r = 0;
	if (!result_ok(st->result)) {
		r = fail_result(conn, st->result, err, "query");
		PQclear(st->result);
		st->result = NULL;
	} else {
		st->rows = PQntuples(st->result);
	}
	for (guint i = 0; i < n; i++)
		g_free(numbers[i]);
	g_free(numbers);
	g_free(values);
	g_free(lengths);
	g_free(formats);
	return r;
}

static int pg_step(struct store_stmt *stmt, struct ox_error *err)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	if (!stmt->running && pg_execute(st, err) < 0)
		return -1;
	if (st->result == NULL)
		return 0;
	g_ptr_array_set_size(st->decoded, 0);
	if (st->row + 1 >= st->rows) {
		st->row = st->rows;
		return 0;
	}
	st->row++;
	return 1;
}

static int64_t pg_changes(struct store_stmt *stmt)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	const char *n = st->result != NULL ? PQcmdTuples(st->result) : "";
	return *n != '\0' ? g_ascii_strtoll(n, NULL, 10) : 0;
}

static int pg_col_count(struct store_stmt *stmt)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	return st->result != NULL ? PQnfields(st->result) : 0;
}

static bool pg_col_is_null(struct store_stmt *stmt, int col)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	return PQgetisnull(st->result, st->row, col) != 0;
}

static int64_t pg_col_int(struct store_stmt *stmt, int col)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	const char *v = PQgetvalue(st->result, st->row, col);
	/* Booleans come as t/f; numbers as decimal text. */
	if (strcmp(v, "t") == 0)
		return 1;
	return g_ascii_strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct store_stmt *stmt, int col)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	if (PQgetisnull(st->result, st->row, col))
		return NULL;
	return PQgetvalue(st->result, st->row, col);
}

static const void *pg_col_blob(struct store_stmt *stmt, int col, size_t *len_r)
{
	struct pg_stmt *st = (struct pg_stmt *)stmt;
	*len_r = 0;
	if (PQgetisnull(st->result, st->row, col))
		return NULL;
	const char *text = PQgetvalue(st->result, st->row, col);
	unsigned char *data = PQunescapeBytea((const unsigned char *)text, len_r);
	if (data != NULL)
		g_ptr_array_add(st->decoded, data);
	return data;
}

static int pg_lock_migrations(struct store *store, struct ox_error *err)
{
	char sql[64];
	g_snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", MIGRATION_LOCK_KEY);
	return pg_exec(store, sql, err);
}

const struct store_driver store_driver_pgsql = {
	.name = "postgres",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.connected = pg_connected,
	.prepare = pg_prepare,
	.stmt_free = pg_stmt_free,
	.step = pg_step,
	.reset = pg_reset,
	.changes = pg_changes,
	.col_count = pg_col_count,
	.col_is_null = pg_col_is_null,
	.col_int = pg_col_int,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.lock_migrations = pg_lock_migrations,
	.id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.blob_type = "BYTEA",
	.blobs_in_database = true,
};
