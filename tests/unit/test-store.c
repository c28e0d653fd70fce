/* The store suite: the same cases run on every driver. SQLite always runs;
 * PostgreSQL runs when a server is reachable through the PG* environment
 * (scripts/run-tests starts one with pg_virtualenv) and is skipped with a
 * message otherwise. */
#include "core/error.h"
#include "store/blob.h"
#include "store/store-private.h"
#include "store/store.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utime.h>

struct fixture {
	struct store *store;
	char *dir;
	char *path;
};

static bool pg_available(void)
{
	return g_getenv("PGHOST") != NULL || g_getenv("OX_TEST_PG_DSN") != NULL;
}

static const char *pg_dsn(void)
{
	const char *dsn = g_getenv("OX_TEST_PG_DSN");
	return dsn != NULL ? dsn : "";
}

static void drop_all(struct store *store)
{
	/* Each case starts from an empty database. */
	store_exec(store, "DROP SCHEMA public CASCADE; CREATE SCHEMA public", NULL);
}

static struct store *open_store(struct fixture *f, const char *driver)
{
	struct ox_error err = {0};
	struct store *s =
		store_open(driver, strcmp(driver, "postgres") == 0 ? pg_dsn() : f->path, &err);
	if (s == NULL)
		g_error("open %s: %s", driver, err.message);
	return s;
}

static void setup(struct fixture *f, gconstpointer data)
{
	const char *driver = data;
	struct ox_error err = {0};
	if (strcmp(driver, "postgres") == 0) {
		if (!pg_available())
			return;
		f->store = open_store(f, driver);
		drop_all(f->store);
	} else {
		f->dir = g_dir_make_tmp("ox-store-XXXXXX", NULL);
		f->path = g_build_filename(f->dir, "ox.db", NULL);
		f->store = open_store(f, driver);
		char *blobs = g_build_filename(f->dir, "blobs", NULL);
		blob_set_directory(f->store, blobs);
		g_free(blobs);
	}
	if (store_migrate(f->store, &err) < 0)
		g_error("migrate: %s", err.message);
	if (store_exec_schema(
		    f->store,
		    "CREATE TABLE kv (id @ID@, k TEXT UNIQUE NOT NULL, n BIGINT, b @BLOB@)",
		    &err) < 0)
		g_error("create: %s", err.message);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	if (f->store != NULL) {
		if (strcmp(data, "postgres") == 0)
			drop_all(f->store);
		store_close(&f->store);
	}
	if (f->dir != NULL) {
		char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
		g_assert_cmpint(system(cmd), ==, 0);
		g_free(cmd);
	}
	g_free(f->dir);
	g_free(f->path);
}

#define SKIP_WITHOUT_STORE(f)                                                                      \
	do {                                                                                       \
		if ((f)->store == NULL) {                                                          \
			g_test_skip("no PostgreSQL server (run under pg_virtualenv)");             \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static int64_t insert(struct store *s, const char *k, int64_t n, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "INSERT INTO kv (k, n) VALUES ($1, $2) RETURNING id", err);
	g_assert_nonnull(st);
	store_bind_text(st, 1, k);
	store_bind_int(st, 2, n);
	int64_t id = -1;
	if (store_step(st, err) > 0)
		id = store_col_int(st, 0);
	store_stmt_done(&st);
	return id;
}

static int64_t count_rows(struct store *s)
{
	struct ox_error err = {0};
	struct store_stmt *st = store_prepare(s, "SELECT COUNT(*) FROM kv", &err);
	g_assert_nonnull(st);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	int64_t n = store_col_int(st, 0);
	store_stmt_done(&st);
	return n;
}

static void test_migrate(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	g_assert_cmpint(store_schema_version(f->store, &err), ==, store_schema_latest());
	/* Idempotent. */
	g_assert_cmpint(store_migrate(f->store, &err), ==, 0);
	g_assert_cmpint(store_schema_version(f->store, &err), ==, store_schema_latest());
	/* A second connection sees the same schema. */
	struct store *other = open_store(f, data);
	g_assert_cmpint(store_migrate(other, &err), ==, 0);
	g_assert_cmpint(store_schema_version(other, &err), ==, store_schema_latest());
	store_close(&other);
}

static void test_types_and_params(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	int64_t id = insert(f->store, "alpha", INT64_C(9007199254740993), &err);
	g_assert_cmpint(id, >, 0);
	g_assert_cmpint(insert(f->store, "beta", -5, &err), >, id);

	static const unsigned char blob[] = {0, 1, 2, 0xff, 0, 'x'};
	struct store_stmt *st = store_prepare(f->store, "UPDATE kv SET b = $2 WHERE k = $1", &err);
	store_bind_text(st, 1, "alpha");
	store_bind_blob(st, 2, blob, sizeof(blob));
	g_assert_cmpint(store_run(st, &err), ==, 0);
	g_assert_cmpint(store_changes(st), ==, 1);
	store_stmt_done(&st);

	/* Parameters used out of order and twice. */
	st = store_prepare(
		f->store, "SELECT k, n, b FROM kv WHERE n = $2 OR (k = $1 AND $1 <> '') ORDER BY k",
		&err);
	g_assert_nonnull(st);
	store_bind_text(st, 1, "beta");
	store_bind_int(st, 2, INT64_C(9007199254740993));
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpstr(store_col_text(st, 0), ==, "alpha");
	g_assert_cmpint(store_col_int(st, 1), ==, INT64_C(9007199254740993));
	size_t len = 0;
	const void *b = store_col_blob(st, 2, &len);
	g_assert_cmpmem(b, len, blob, sizeof(blob));
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpstr(store_col_text(st, 0), ==, "beta");
	g_assert_true(store_col_is_null(st, 2));
	g_assert_cmpint(store_step(st, &err), ==, 0);
	store_stmt_done(&st);

	/* The cached statement runs again with new parameters. */
	st = store_prepare(f->store, "SELECT n FROM kv WHERE k = $1", &err);
	store_bind_text(st, 1, "beta");
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpint(store_col_int(st, 0), ==, -5);
	store_stmt_done(&st);
	st = store_prepare(f->store, "SELECT n FROM kv WHERE k = $1", &err);
	store_bind_text(st, 1, "nobody");
	g_assert_cmpint(store_step(st, &err), ==, 0);
	store_stmt_done(&st);
}

static void test_unique_violation(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	g_assert_cmpint(insert(f->store, "dup", 1, &err), >, 0);
	g_assert_cmpint(insert(f->store, "dup", 2, &err), ==, -1);
	g_assert_cmpint(err.code, ==, OX_ERR_EXISTS);
	g_assert_cmpint(count_rows(f->store), ==, 1);
}

static void test_transactions(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	g_assert_cmpint(store_begin(f->store, &err), ==, 0);
	g_assert_true(store_in_transaction(f->store));
	insert(f->store, "t1", 1, &err);
	insert(f->store, "t2", 2, &err);
	store_rollback(f->store);
	g_assert_false(store_in_transaction(f->store));
	g_assert_cmpint(count_rows(f->store), ==, 0);

	g_assert_cmpint(store_begin(f->store, &err), ==, 0);
	insert(f->store, "t1", 1, &err);
	g_assert_cmpint(store_commit(f->store, &err), ==, 0);
	g_assert_cmpint(count_rows(f->store), ==, 1);

	/* A failure inside a transaction: the caller rolls back, nothing of it
	 * remains. */
	g_assert_cmpint(store_begin(f->store, &err), ==, 0);
	g_assert_cmpint(insert(f->store, "t3", 3, &err), >, 0);
	g_assert_cmpint(insert(f->store, "t1", 4, &err), ==, -1);
	store_rollback(f->store);
	g_assert_cmpint(count_rows(f->store), ==, 1);

	/* Committed data is visible to another connection. */
	struct store *other = open_store(f, data);
	g_assert_cmpint(count_rows(other), ==, 1);
	store_close(&other);
}

/* Statements are cached by their text: SQL built at run time may reuse a
 * buffer's address for other text, which must not get the old statement. */
static void test_statement_cache_by_text(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	insert(f->store, "seven", 7, &err);
	char sql[64];
	g_strlcpy(sql, "SELECT n FROM kv WHERE k = $1", sizeof(sql));
	struct store_stmt *st = store_prepare(f->store, sql, &err);
	store_bind_text(st, 1, "seven");
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpint(store_col_int(st, 0), ==, 7);
	store_stmt_done(&st);
	g_strlcpy(sql, "SELECT k FROM kv WHERE n = $1", sizeof(sql));
	st = store_prepare(f->store, sql, &err);
	store_bind_int(st, 1, 7);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpstr(store_col_text(st, 0), ==, "seven");
	store_stmt_done(&st);
}

/* A read scope changes nothing about writes: they commit at once, also
 * when another connection wrote after the scope's first read (inside the
 * scope's snapshot, SQLite would refuse such a write as stale), also
 * while a read of the scope is still stepping (as without a scope, that
 * read's snapshot must then be the newest), and transactions work in it. */
static void test_read_scope(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	struct store *other = open_store(f, data);
	insert(f->store, "r1", 1, &err);
	insert(f->store, "r2", 2, &err);
	g_assert_cmpint(store_read_begin(f->store, &err), ==, 0);
	g_assert_false(store_in_transaction(f->store));
	g_assert_cmpint(count_rows(f->store), ==, 2);
	g_assert_cmpint(insert(other, "o1", 10, &err), >, 0);
	g_assert_cmpint(insert(f->store, "r3", 3, &err), >, 0);
	g_assert_cmpint(count_rows(other), ==, 4);
	g_assert_cmpint(count_rows(f->store), ==, 4);
	store_read_end(f->store);

	g_assert_cmpint(store_read_begin(f->store, &err), ==, 0);
	g_assert_cmpint(insert(other, "o2", 11, &err), >, 0);
	struct store_stmt *st = store_prepare(f->store, "SELECT k FROM kv ORDER BY k", &err);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	struct store_stmt *up =
		store_prepare(f->store, "UPDATE kv SET n = n + 100 WHERE k = $1", &err);
	store_bind_text(up, 1, "r1");
	if (store_run(up, &err) != 0)
		g_error("update: %s", err.message);
	g_assert_cmpint(store_changes(up), ==, 1);
	store_stmt_done(&up);
	while (store_step(st, &err) > 0)
		;
	store_stmt_done(&st);
	g_assert_cmpint(store_begin(f->store, &err), ==, 0);
	g_assert_cmpint(insert(f->store, "r4", 4, &err), >, 0);
	g_assert_cmpint(store_commit(f->store, &err), ==, 0);
	store_read_end(f->store);
	store_read_end(f->store); /* ending twice is harmless */

	st = store_prepare(other, "SELECT COUNT(*) FROM kv WHERE n > 100 OR k = 'r4'", &err);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpint(store_col_int(st, 0), ==, 2);
	store_stmt_done(&st);
	g_assert_cmpint(count_rows(other), ==, 6);
	store_close(&other);
}

static void test_bad_sql(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	g_assert_null(store_prepare(f->store, "SELEKT nonsense", &err));
	g_assert_cmpint(err.code, ==, OX_ERR_INTERNAL);
	g_assert_cmpint(store_exec(f->store, "INSERT INTO nowhere VALUES (1)", &err), ==, -1);
	/* The connection still works. */
	g_assert_cmpint(count_rows(f->store), ==, 0);
}

static void write_blob(struct store *s, const void *data, size_t len, size_t piece, char *hash_r)
{
	struct ox_error err = {0};
	struct blob_writer *w = blob_write_begin(s, &err);
	g_assert_nonnull(w);
	for (size_t off = 0; off < len; off += piece)
		g_assert_cmpint(
			blob_write(w, (const char *)data + off, MIN(piece, len - off), &err), ==,
			0);
	uint64_t size = 0;
	if (blob_write_finish(&w, hash_r, &size, &err) < 0)
		g_error("finish: %s", err.message);
	g_assert_null(w);
	g_assert_cmpuint(size, ==, len);
}

static GByteArray *read_blob(struct store *s, const char *hash)
{
	struct ox_error err = {0};
	struct blob_reader *r = blob_open(s, hash, &err);
	if (r == NULL)
		g_error("open %s: %s", hash, err.message);
	GByteArray *out = g_byte_array_new();
	char buf[7000]; /* not a divisor of the piece size */
	ssize_t n;
	while ((n = blob_read(r, buf, sizeof(buf), &err)) > 0)
		g_byte_array_append(out, (const guint8 *)buf, (guint)n);
	g_assert_cmpint(n, ==, 0);
	blob_close(&r);
	return out;
}

/* Runs the collector; returns how many blobs it deleted. */
static int64_t collect(struct store *s, int64_t grace, struct blob_gc_result *result_r)
{
	struct ox_error err = {0};
	struct blob_gc_result result;
	if (blob_gc(s, grace, NULL, &result, &err) < 0)
		g_error("blob_gc: %s", err.message);
	g_assert_false(result.stopped);
	if (result_r != NULL)
		*result_r = result;
	return result.blobs;
}

static void test_blobs(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	/* Several 1 MiB pieces and a partial one. */
	size_t len = 3 * 1024 * 1024 + 12345;
	guint8 *bytes = g_malloc(len);
	for (size_t i = 0; i < len; i++)
		bytes[i] = (guint8)(i * 7 + i / 4096);
	char hash[BLOB_HASH_LEN + 1], again[BLOB_HASH_LEN + 1];
	write_blob(f->store, bytes, len, 100000, hash);
	char *expect = g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, len);
	g_assert_cmpstr(hash, ==, expect);
	g_free(expect);
	GByteArray *back = read_blob(f->store, hash);
	g_assert_cmpmem(back->data, back->len, bytes, len);
	g_byte_array_unref(back);

	/* The same bytes again: one blob. */
	write_blob(f->store, bytes, len, len, again);
	g_assert_cmpstr(again, ==, hash);
	struct store_stmt *st = store_prepare(f->store, "SELECT COUNT(*) FROM blobs", &err);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpint(store_col_int(st, 0), ==, 1);
	store_stmt_done(&st);

	/* The empty blob. */
	char empty[BLOB_HASH_LEN + 1];
	write_blob(f->store, "", 0, 1, empty);
	back = read_blob(f->store, empty);
	g_assert_cmpuint(back->len, ==, 0);
	g_byte_array_unref(back);

	/* A referenced blob survives collection, an unreferenced one goes. */
	g_assert_cmpint(blob_ref(f->store, hash, +1, &err), ==, 0);
	g_assert_cmpint(collect(f->store, -10, NULL), ==, 1);
	g_assert_cmpint(blob_exists(f->store, hash, NULL, &err), ==, 1);
	g_assert_cmpint(blob_exists(f->store, empty, NULL, &err), ==, 0);
	g_assert_cmpint(blob_ref(f->store, hash, -1, &err), ==, 0);
	g_assert_cmpint(collect(f->store, 3600, NULL), ==, 0); /* within the grace period */
	struct blob_gc_result result;
	g_assert_cmpint(collect(f->store, -10, &result), ==, 1);
	g_assert_cmpint(result.bytes, ==, (int64_t)len);
	g_assert_null(blob_open(f->store, hash, &err));
	g_assert_cmpint(err.code, ==, OX_ERR_NOT_FOUND);
	g_free(bytes);
}

static void test_blob_abort_and_bad_names(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	struct blob_writer *w = blob_write_begin(f->store, &err);
	char big[300000];
	memset(big, 'z', sizeof(big));
	for (int i = 0; i < 5; i++)
		g_assert_cmpint(blob_write(w, big, sizeof(big), &err), ==, 0);
	blob_write_abort(&w);
	g_assert_null(w);
	struct store_stmt *st = store_prepare(f->store, "SELECT COUNT(*) FROM blob_chunks", &err);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	g_assert_cmpint(store_col_int(st, 0), ==, 0);
	store_stmt_done(&st);
	if (f->dir != NULL) {
		char *tmp = g_build_filename(f->dir, "blobs", "tmp", NULL);
		GDir *d = g_dir_open(tmp, 0, NULL);
		g_assert_nonnull(d);
		g_assert_null(g_dir_read_name(d));
		g_dir_close(d);
		g_free(tmp);
	}
	g_assert_null(blob_open(f->store, "../../etc/passwd", &err));
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
	g_assert_null(blob_open(f->store,
	                        "0000000000000000000000000000000000000000000000000000000000000000",
	                        &err));
	g_assert_cmpint(err.code, ==, OX_ERR_NOT_FOUND);
}

static int64_t count_of(struct store *s, const char *sql)
{
	struct ox_error err = {0};
	struct store_stmt *st = store_prepare(s, sql, &err);
	g_assert_nonnull(st);
	g_assert_cmpint(store_step(st, &err), ==, 1);
	int64_t n = store_col_int(st, 0);
	store_stmt_done(&st);
	return n;
}

/* Blobs as if finished `age` seconds ago. */
static void age_blobs(struct store *s, int64_t age)
{
	struct ox_error err = {0};
	char *sql = g_strdup_printf("UPDATE blobs SET created = created - %" G_GINT64_FORMAT, age);
	g_assert_cmpint(store_exec(s, sql, &err), ==, 0);
	g_free(sql);
}

/* The grace period is measured from the latest write of a blob: an
 * unreferenced blob stays until it has passed, also one written again
 * (deduplicated) after its first write aged; a referenced one always
 * stays; more than one transaction's worth of blobs all go, with their
 * bytes counted. */
static void test_blob_gc_grace_and_batches(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	char kept[BLOB_HASH_LEN + 1], again[BLOB_HASH_LEN + 1], hash[BLOB_HASH_LEN + 1];
	write_blob(f->store, "referenced", 10, 10, kept);
	g_assert_cmpint(blob_ref(f->store, kept, +1, &err), ==, 0);
	write_blob(f->store, "written again", 13, 13, again);
	/* 300 blobs of 1 to 300 bytes: more than one batch. */
	char bytes[300];
	memset(bytes, 'x', sizeof(bytes));
	int64_t total = 0;
	for (size_t n = 1; n <= sizeof(bytes); n++) {
		write_blob(f->store, bytes, n, n, hash);
		total += (int64_t)n;
	}
	age_blobs(f->store, 7200);
	/* The same bytes again, as an upload that has not taken its reference
	 * yet: its row is young again. */
	write_blob(f->store, "written again", 13, 13, hash);
	g_assert_cmpstr(hash, ==, again);

	struct blob_gc_result result;
	g_assert_cmpint(collect(f->store, 3600, &result), ==, 300);
	g_assert_cmpint(result.bytes, ==, total);
	g_assert_cmpint(count_of(f->store, "SELECT COUNT(*) FROM blobs"), ==, 2);
	g_assert_cmpint(blob_exists(f->store, kept, NULL, &err), ==, 1);
	g_assert_cmpint(blob_exists(f->store, again, NULL, &err), ==, 1);
	GByteArray *back = read_blob(f->store, again);
	g_assert_cmpmem(back->data, back->len, "written again", 13);
	g_byte_array_unref(back);
	if (f->dir != NULL) {
		/* Only the two files are left (and the temporary directory). */
		char *dir = g_build_filename(f->dir, "blobs", NULL);
		char *cmd = g_strdup_printf("test $(find '%s' -type f | wc -l) -eq 2", dir);
		g_assert_cmpint(system(cmd), ==, 0);
		g_free(cmd);
		g_free(dir);
	} else {
		g_assert_cmpint(count_of(f->store, "SELECT COUNT(DISTINCT hash) FROM blob_chunks"),
		                ==, 2);
	}
	/* A referenced blob stays however old it is. */
	age_blobs(f->store, 7200);
	g_assert_cmpint(collect(f->store, 3600, NULL), ==, 1);
	g_assert_cmpint(blob_exists(f->store, kept, NULL, &err), ==, 1);
	back = read_blob(f->store, kept);
	g_assert_cmpmem(back->data, back->len, "referenced", 10);
	g_byte_array_unref(back);
}

/* Makes every temporary piece or file of unfinished writers look as if
 * it was last written `age` seconds ago. */
static void age_temporaries(struct fixture *f, int64_t age)
{
	struct ox_error err = {0};
	if (f->dir == NULL) {
		char *sql = g_strdup_printf("UPDATE blob_chunks SET hash = 'tmp-%" G_GINT64_FORMAT
		                            "-' || hash WHERE hash LIKE 'tmp-%%'",
		                            g_get_real_time() / G_USEC_PER_SEC - age);
		g_assert_cmpint(store_exec(f->store, sql, &err), ==, 0);
		g_free(sql);
		return;
	}
	char *tmp = g_build_filename(f->dir, "blobs", "tmp", NULL);
	GDir *d = g_dir_open(tmp, 0, NULL);
	g_assert_nonnull(d);
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(tmp, name, NULL);
		struct utimbuf times = {.actime = time(NULL) - age, .modtime = time(NULL) - age};
		g_assert_cmpint(g_utime(path, &times), ==, 0);
		g_free(path);
	}
	g_dir_close(d);
	g_free(tmp);
}

/* An upload in progress: its temporary data stays while it is younger
 * than the grace period, and the blob comes out whole. Once the writer
 * has been silent for longer, its data goes, and finishing fails instead
 * of storing a blob with pieces missing. */
static void test_blob_gc_unfinished_writers(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	size_t piece = 700 * 1024; /* two make more than one 1 MiB database piece */
	guint8 *bytes = g_malloc(piece);
	memset(bytes, 'u', piece);
	struct blob_writer *w = blob_write_begin(f->store, &err);
	g_assert_nonnull(w);
	g_assert_cmpint(blob_write(w, bytes, piece, &err), ==, 0);
	g_assert_cmpint(blob_write(w, bytes, piece, &err), ==, 0);
	struct blob_gc_result result;
	g_assert_cmpint(collect(f->store, 3600, &result), ==, 0);
	g_assert_cmpint(result.temporaries, ==, 0);
	g_assert_cmpint(blob_write(w, bytes, piece, &err), ==, 0);
	char hash[BLOB_HASH_LEN + 1];
	uint64_t size = 0;
	g_assert_cmpint(blob_write_finish(&w, hash, &size, &err), ==, 0);
	g_assert_cmpuint(size, ==, 3 * piece);
	GByteArray *back = read_blob(f->store, hash);
	g_assert_cmpuint(back->len, ==, 3 * piece);
	g_byte_array_unref(back);

	w = blob_write_begin(f->store, &err);
	g_assert_nonnull(w);
	g_assert_cmpint(blob_write(w, bytes, piece, &err), ==, 0);
	g_assert_cmpint(blob_write(w, bytes, piece, &err), ==, 0);
	age_temporaries(f, 7200);
	g_assert_cmpint(collect(f->store, 3600, &result), ==, 0);
	g_assert_cmpint(result.temporaries, ==, 1);
	g_assert_cmpint(blob_write(w, "end", 3, &err), ==, 0);
	g_assert_cmpint(blob_write_finish(&w, hash, &size, &err), ==, -1);
	g_assert_null(w);
	g_assert_cmpint(err.code, ==, OX_ERR_TEMP);
	g_assert_nonnull(strstr(err.message, "grace period"));
	g_assert_cmpint(blob_exists(f->store, hash, NULL, &err), ==, 0);
	g_assert_cmpint(count_of(f->store, "SELECT COUNT(*) FROM blob_chunks WHERE hash LIKE "
	                                   "'tmp-%'"),
	                ==, 0);
	g_free(bytes);
}

/* A run asked to stop ends before its next transaction. */
static void test_blob_gc_stop(struct fixture *f, gconstpointer data)
{
	SKIP_WITHOUT_STORE(f);
	struct ox_error err = {0};
	char hash[BLOB_HASH_LEN + 1];
	write_blob(f->store, "orphan", 6, 6, hash);
	int stop = 1;
	struct blob_gc_result result;
	g_assert_cmpint(blob_gc(f->store, -10, &stop, &result, &err), ==, 0);
	g_assert_true(result.stopped);
	g_assert_cmpint(result.blobs, ==, 0);
	g_assert_cmpint(blob_exists(f->store, hash, NULL, &err), ==, 1);
	stop = 0;
	g_assert_cmpint(blob_gc(f->store, -10, &stop, &result, &err), ==, 0);
	g_assert_false(result.stopped);
	g_assert_cmpint(result.blobs, ==, 1);
}

static void test_unknown_driver(void)
{
	struct ox_error err = {0};
	g_assert_null(store_open("oracle", "", &err));
	g_assert_cmpint(err.code, ==, OX_ERR_INVALID);
	g_assert_nonnull(strstr(err.message, "oracle"));
}

static void add(const char *name, const char *driver, void (*fn)(struct fixture *, gconstpointer))
{
	char *path = g_strdup_printf("/store/%s/%s", driver, name);
	g_test_add(path, struct fixture, driver, setup, fn, teardown);
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	static const char *const drivers[] = {"sqlite", "postgres"};
	for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++) {
		add("migrate", drivers[i], test_migrate);
		add("types-and-params", drivers[i], test_types_and_params);
		add("unique-violation", drivers[i], test_unique_violation);
		add("transactions", drivers[i], test_transactions);
		add("bad-sql", drivers[i], test_bad_sql);
		add("statement-cache-by-text", drivers[i], test_statement_cache_by_text);
		add("read-scope", drivers[i], test_read_scope);
		add("blobs", drivers[i], test_blobs);
		add("blob-abort-and-bad-names", drivers[i], test_blob_abort_and_bad_names);
		add("blob-gc-grace-and-batches", drivers[i], test_blob_gc_grace_and_batches);
		add("blob-gc-unfinished-writers", drivers[i], test_blob_gc_unfinished_writers);
		add("blob-gc-stop", drivers[i], test_blob_gc_stop);
	}
	g_test_add_func("/store/unknown-driver", test_unknown_driver);
	return g_test_run();
}
