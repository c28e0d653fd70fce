/* Content-addressed blobs (see blob.h for the contract).
 *
 * Finishing a blob and collecting garbage both decide in one transaction
 * whether the bytes are new: finishing first touches the blobs row
 * (UPDATE created = now; an INSERT when there is none), and the collector
 * deletes only rows that are unreferenced and older than the grace period.
 * Row locks (PostgreSQL) or the database write lock (SQLite, BEGIN
 * IMMEDIATE) order the two, so a blob being re-written is never collected
 * under the writer. */
#include "core/error.h"
#include "store/blob.h"
#include "store/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define BLOB_CHUNK_SIZE (1024 * 1024)
#define BLOB_TMP_NAME_SIZE 64
/* Blobs deleted per transaction of the collector: writers wait for one
 * batch at most. */
#define BLOB_GC_BATCH 256

struct blob_writer {
	struct store *store;
	GChecksum *sum;
	uint64_t size;
	/* files */
	int fd;
	char *tmp_path;
	/* database */
	char tmp_name[BLOB_TMP_NAME_SIZE];
	int64_t tmp_time; /* the time in tmp_name */
	GByteArray *chunk;
	int seq; /* pieces stored under tmp_name */
};

struct blob_reader {
	struct store *store;
	char hash[BLOB_HASH_LEN + 1];
	int fd;
	/* database: the current piece and where we are in it */
	GBytes *chunk;
	size_t offset;
	int seq;
	bool eof;
};

void blob_set_directory(struct store *store, const char *dir)
{
	g_free(store->blob_dir);
	store->blob_dir = g_strdup(dir);
}

static bool valid_hash(const char *hash)
{
	if (strlen(hash) != BLOB_HASH_LEN)
		return false;
	for (const char *p = hash; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
			return false;
	}
	return true;
}

static char *blob_path(struct store *store, const char *hash)
{
	char sub[3] = {hash[0], hash[1], '\0'};
	return g_build_filename(store->blob_dir, sub, hash, NULL);
}

static int sys_fail(struct ox_error *err, const char *what, const char *path)
{
	return ox_error_set(err,
	                    errno == ENOSPC || errno == EDQUOT ? OX_ERR_NO_QUOTA : OX_ERR_INTERNAL,
	                    "blob: %s %s: %s", what, path, g_strerror(errno));
}

static int run1(struct store *store, const char *sql, const char *a, int64_t b, int64_t *changes_r,
                struct ox_error *err)
{
	struct store_stmt *st = store_prepare(store, sql, err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, a);
	store_bind_int(st, 2, b);
	int r = store_run(st, err);
	if (changes_r != NULL)
		*changes_r = store_changes(st);
	store_stmt_done(&st);
	return r;
}

static int run_hash(struct store *store, const char *sql, const char *hash, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(store, sql, err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, hash);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

static int64_t now_seconds(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* A temporary name that the collector can recognise by age: the time in
 * it is that of the writer's latest progress, give or take
 * BLOB_TMP_REFRESH_SECONDS. */
static void make_tmp_name(char out[BLOB_TMP_NAME_SIZE], int64_t now)
{
	g_snprintf(out, BLOB_TMP_NAME_SIZE, "tmp-%" G_GINT64_FORMAT "-%08x%08x", now,
	           g_random_int(), g_random_int());
}

struct blob_writer *blob_write_begin(struct store *store, struct ox_error *err)
{
	struct blob_writer *w = g_new0(struct blob_writer, 1);
	w->store = store;
	w->sum = g_checksum_new(G_CHECKSUM_SHA256);
	w->fd = -1;
	if (store->driver->blobs_in_database) {
		w->tmp_time = now_seconds();
		make_tmp_name(w->tmp_name, w->tmp_time);
		w->chunk = g_byte_array_sized_new(BLOB_CHUNK_SIZE);
		return w;
	}
	if (store->blob_dir == NULL) {
		ox_error_set(err, OX_ERR_INTERNAL, "blob: no blob directory set");
		goto fail;
	}
	char *tmp_dir = g_build_filename(store->blob_dir, "tmp", NULL);
	if (g_mkdir_with_parents(tmp_dir, 0750) < 0) {
		sys_fail(err, "cannot create", tmp_dir);
		g_free(tmp_dir);
		goto fail;
	}
	w->tmp_path = g_build_filename(tmp_dir, "blob-XXXXXX", NULL);
	g_free(tmp_dir);
	w->fd = g_mkstemp_full(w->tmp_path, O_WRONLY | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		sys_fail(err, "cannot create", w->tmp_path);
		goto fail;
	}
	return w;
fail:
	blob_write_abort(&w);
	return NULL;
}

static int flush_chunk(struct blob_writer *w, struct ox_error *err)
{
	if (w->chunk->len == 0)
		return 0;
	struct store_stmt *st = store_prepare(
		w->store, "INSERT INTO blob_chunks (hash, seq, data) VALUES ($1, $2, $3)", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, w->tmp_name);
	store_bind_int(st, 2, w->seq++);
	store_bind_blob(st, 3, w->chunk->data, w->chunk->len);
	int r = store_run(st, err);
	store_stmt_done(&st);
	g_byte_array_set_size(w->chunk, 0);
	return r;
}

/* Moves the pieces stored so far from the temporary name to `to`: 1 all
 * w->seq of them moved, 0 fewer (the collector took some, the others
 * are under `to` now), -1 error (none moved). */
static int move_chunks(struct blob_writer *w, const char *to, struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(w->store, "UPDATE blob_chunks SET hash = $1 WHERE hash = $2", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, to);
	store_bind_text(st, 2, w->tmp_name);
	int r = store_run(st, err);
	int64_t changes = store_changes(st);
	store_stmt_done(&st);
	return r < 0 ? -1 : changes == w->seq ? 1 : 0;
}

/* A blob whose temporary data (a piece, the file) is gone must not be
 * finished: it would lack bytes. */
static int temporary_lost(struct ox_error *err)
{
	return ox_error_set(err, OX_ERR_TEMP,
	                    "blob: the temporary data of an unfinished blob was collected: its "
	                    "writer paused for longer than the collector's grace period");
}

/* Database blobs: an upload may last longer than the collector's grace
 * period, so a writer that is making progress moves its pieces to a name
 * with the current time now and then (see blob_gc()). */
static int refresh_tmp_name(struct blob_writer *w, struct ox_error *err)
{
	int64_t now = now_seconds();
	if (now - w->tmp_time < BLOB_TMP_REFRESH_SECONDS)
		return 0;
	char fresh[BLOB_TMP_NAME_SIZE];
	make_tmp_name(fresh, now);
	int moved = w->seq > 0 ? move_chunks(w, fresh, err) : 1;
	if (moved < 0)
		return -1; /* still under the old name, where blob_write_abort() looks */
	g_strlcpy(w->tmp_name, fresh, sizeof(w->tmp_name));
	w->tmp_time = now;
	return moved > 0 ? 0 : temporary_lost(err);
}

int blob_write(struct blob_writer *w, const void *data, size_t len, struct ox_error *err)
{
	if (w->chunk != NULL && refresh_tmp_name(w, err) < 0)
		return -1;
	g_checksum_update(w->sum, data, (gssize)len);
	w->size += len;
	if (w->chunk == NULL) {
		const char *p = data;
		while (len > 0) {
			ssize_t n = write(w->fd, p, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return sys_fail(err, "cannot write", w->tmp_path);
			p += n;
			len -= (size_t)n;
		}
		return 0;
	}
	const char *p = data;
	while (len > 0) {
		size_t room = BLOB_CHUNK_SIZE - w->chunk->len;
		size_t n = MIN(room, len);
		g_byte_array_append(w->chunk, (const guint8 *)p, (guint)n);
		p += n;
		len -= n;
		if (w->chunk->len == BLOB_CHUNK_SIZE && flush_chunk(w, err) < 0)
			return -1;
	}
	return 0;
}

/* Touches or creates the blobs row. Returns 1 when the bytes are new (the
 * caller must put its content in place), 0 when they were there, -1. */
static int claim_row(struct store *store, const char *hash, uint64_t size, struct ox_error *err)
{
	int64_t now = g_get_real_time() / G_USEC_PER_SEC, changes = 0;
	if (run1(store, "UPDATE blobs SET created = $2 WHERE hash = $1", hash, now, &changes, err) <
	    0)
		return -1;
	if (changes > 0)
		return 0;
	/* ON CONFLICT: a concurrent writer of the same bytes may have won; a
	 * plain INSERT would abort the whole transaction on PostgreSQL. */
	struct store_stmt *st =
		store_prepare(store,
	                      "INSERT INTO blobs (hash, size, refcount, created) "
	                      "VALUES ($1, $2, 0, $3) ON CONFLICT (hash) DO NOTHING",
	                      err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, hash);
	store_bind_int(st, 2, (int64_t)size);
	store_bind_int(st, 3, now);
	int r = store_run(st, err);
	changes = store_changes(st);
	store_stmt_done(&st);
	return r < 0 ? -1 : changes > 0 ? 1 : 0;
}

static int place_file(struct blob_writer *w, const char *hash, bool is_new, struct ox_error *err)
{
	char *path = blob_path(w->store, hash);
	if (!is_new && g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_free(path);
		return 0; /* deduplicated: the temporary file goes in free_writer() */
	}
	char *dir = g_path_get_dirname(path);
	int r = -1;
	if (g_mkdir_with_parents(dir, 0750) < 0) {
		sys_fail(err, "cannot create", dir);
		goto out;
	}
	if (rename(w->tmp_path, path) < 0) {
		if (errno == ENOENT)
			temporary_lost(err); /* the collector took the temporary file */
		else
			sys_fail(err, "cannot rename into", path);
		goto out;
	}
	g_clear_pointer(&w->tmp_path, g_free);
	/* The rename is durable once its directory is. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	g_free(dir);
	g_free(path);
	return r;
}

static int place_chunks(struct blob_writer *w, const char *hash, bool is_new, struct ox_error *err)
{
	if (!is_new)
		return run_hash(w->store, "DELETE FROM blob_chunks WHERE hash = $1", w->tmp_name,
		                err);
	int moved = move_chunks(w, hash, err);
	return moved > 0 ? 0 : moved < 0 ? -1 : temporary_lost(err);
}

static void free_writer(struct blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path != NULL) {
		g_unlink(w->tmp_path);
		g_free(w->tmp_path);
	}
	if (w->chunk != NULL)
		g_byte_array_unref(w->chunk);
	g_checksum_free(w->sum);
	g_free(w);
}

int blob_write_finish(struct blob_writer **wp, char *hash_r, uint64_t *size_r, struct ox_error *err)
{
	struct blob_writer *w = *wp;
	*wp = NULL;
	bool own_txn = false;
	int r = -1;
	if (w->chunk != NULL) {
		if (flush_chunk(w, err) < 0)
			goto out;
	} else if (fsync(w->fd) < 0 || close(w->fd) < 0) {
		w->fd = -1;
		sys_fail(err, "cannot sync", w->tmp_path);
		goto out;
	} else {
		w->fd = -1;
	}
	g_strlcpy(hash_r, g_checksum_get_string(w->sum), BLOB_HASH_LEN + 1);
	if (!store_in_transaction(w->store)) {
		if (store_begin(w->store, err) < 0)
			goto out;
		own_txn = true;
	}
	int is_new = claim_row(w->store, hash_r, w->size, err);
	if (is_new < 0)
		goto out;
	if (w->chunk != NULL ? place_chunks(w, hash_r, is_new, err) < 0
	                     : place_file(w, hash_r, is_new, err) < 0)
		goto out;
	if (own_txn) {
		own_txn = false;
		if (store_commit(w->store, err) < 0)
			goto out;
	}
	if (size_r != NULL)
		*size_r = w->size;
	r = 0;
out:
	if (own_txn)
		store_rollback(w->store);
	if (r < 0 && w->chunk != NULL && !store_in_transaction(w->store))
		run_hash(w->store, "DELETE FROM blob_chunks WHERE hash = $1", w->tmp_name, NULL);
	free_writer(w);
	return r;
}

void blob_write_abort(struct blob_writer **wp)
{
	struct blob_writer *w = *wp;
	if (w == NULL)
		return;
	*wp = NULL;
	if (w->chunk != NULL && w->seq > 0)
		run_hash(w->store, "DELETE FROM blob_chunks WHERE hash = $1", w->tmp_name, NULL);
	free_writer(w);
}

int blob_ref(struct store *store, const char *hash, int delta, struct ox_error *err)
{
	int64_t changes = 0;
	if (run1(store, "UPDATE blobs SET refcount = refcount + $2 WHERE hash = $1", hash, delta,
	         &changes, err) < 0)
		return -1;
	if (changes == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "blob %s not found", hash);
	return 0;
}

int blob_exists(struct store *store, const char *hash, uint64_t *size_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(store, "SELECT size FROM blobs WHERE hash = $1", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, hash);
	int r = store_step(st, err);
	if (r > 0 && size_r != NULL)
		*size_r = (uint64_t)store_col_int(st, 0);
	store_stmt_done(&st);
	return r;
}

struct blob_reader *blob_open(struct store *store, const char *hash, struct ox_error *err)
{
	if (!valid_hash(hash)) {
		ox_error_set(err, OX_ERR_INVALID, "blob: '%s' is not a blob name", hash);
		return NULL;
	}
	int found = blob_exists(store, hash, NULL, err);
	if (found == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "blob %s not found", hash);
	if (found <= 0)
		return NULL;
	/* Reading may stream for as long as the client takes: no read
	 * snapshot is held meanwhile (store_read_begin()). */
	store_read_end(store);
	struct blob_reader *r = g_new0(struct blob_reader, 1);
	r->store = store;
	r->fd = -1;
	g_strlcpy(r->hash, hash, sizeof(r->hash));
	if (!store->driver->blobs_in_database) {
		char *path = blob_path(store, hash);
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			sys_fail(err, "cannot open", path);
			g_free(path);
			g_free(r);
			return NULL;
		}
		g_free(path);
	}
	return r;
}

static int next_chunk(struct blob_reader *r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		r->store, "SELECT data FROM blob_chunks WHERE hash = $1 AND seq = $2", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, r->hash);
	store_bind_int(st, 2, r->seq);
	int found = store_step(st, err);
	if (found > 0) {
		size_t len = 0;
		const void *data = store_col_blob(st, 0, &len);
		g_clear_pointer(&r->chunk, g_bytes_unref);
		r->chunk = g_bytes_new(data, len);
		r->offset = 0;
		r->seq++;
	} else if (found == 0) {
		r->eof = true;
	}
	store_stmt_done(&st);
	return found < 0 ? -1 : 0;
}

ssize_t blob_read(struct blob_reader *r, void *buf, size_t len, struct ox_error *err)
{
	if (r->fd >= 0) {
		ssize_t n;
		do
			n = read(r->fd, buf, len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			sys_fail(err, "cannot read blob", r->hash);
		return n;
	}
	while (!r->eof && (r->chunk == NULL || r->offset == g_bytes_get_size(r->chunk))) {
		if (next_chunk(r, err) < 0)
			return -1;
	}
	if (r->eof)
		return 0;
	size_t n = MIN(len, g_bytes_get_size(r->chunk) - r->offset);
	memcpy(buf, (const char *)g_bytes_get_data(r->chunk, NULL) + r->offset, n);
	r->offset += n;
	return (ssize_t)n;
}

void blob_close(struct blob_reader **rp)
{
	struct blob_reader *r = *rp;
	if (r == NULL)
		return;
	*rp = NULL;
	if (r->fd >= 0)
		close(r->fd);
	if (r->chunk != NULL)
		g_bytes_unref(r->chunk);
	g_free(r);
}

/* Temporary files of writers that wrote nothing since `cutoff` (each
 * write updates a file's mtime): they died, or stalled beyond any read
 * timeout. Returns how many went. */
static int64_t remove_stale_files(struct store *store, int64_t cutoff)
{
	char *tmp_dir = g_build_filename(store->blob_dir, "tmp", NULL);
	GDir *dir = g_dir_open(tmp_dir, 0, NULL);
	const char *name;
	int64_t removed = 0;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		char *path = g_build_filename(tmp_dir, name, NULL);
		GStatBuf st;
		if (g_stat(path, &st) == 0 && st.st_mtime < cutoff && g_unlink(path) == 0)
			removed++;
		g_free(path);
	}
	if (dir != NULL)
		g_dir_close(dir);
	g_free(tmp_dir);
	return removed;
}

/* Pieces of database writers whose name (see make_tmp_name()) is older
 * than `cutoff`. Returns how many went, or -1. */
static int64_t remove_stale_chunks(struct store *store, int64_t cutoff, struct ox_error *err)
{
	char prefix[48];
	g_snprintf(prefix, sizeof(prefix), "tmp-%" G_GINT64_FORMAT "-", cutoff);
	struct store_stmt *st = store_prepare(
		store, "DELETE FROM blob_chunks WHERE hash LIKE 'tmp-%' AND hash < $1", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, prefix);
	int r = store_run(st, err);
	int64_t removed = store_changes(st);
	store_stmt_done(&st);
	return r < 0 ? -1 : removed;
}

/* The content of a blob whose row goes in the current transaction. */
static int remove_content(struct store *store, const char *hash, struct ox_error *err)
{
	if (store->driver->blobs_in_database)
		return run_hash(store, "DELETE FROM blob_chunks WHERE hash = $1", hash, err);
	/* Under the write lock, so no writer claims the bytes again meanwhile;
	 * should the commit fail after this, a writer of the same bytes finds
	 * the row without its file and puts its own in place (place_file()). */
	char *path = blob_path(store, hash);
	if (g_unlink(path) < 0 && errno != ENOENT) {
		sys_fail(err, "cannot remove", path);
		g_free(path);
		return -1;
	}
	g_free(path);
	return 0;
}

/* One transaction: up to BLOB_GC_BATCH unreferenced blobs last touched
 * before `cutoff`, rows and content. Returns how many went, or -1. */
static int gc_batch(struct store *store, int64_t cutoff, struct blob_gc_result *result,
                    struct ox_error *err)
{
	GPtrArray *doomed = g_ptr_array_new_with_free_func(g_free);
	int64_t bytes = 0;
	int r = -1;
	if (store_begin(store, err) < 0)
		goto out;
	/* The conditions are repeated outside the sub-select: PostgreSQL
	 * checks them again on a row a writer touched meanwhile (claim_row()),
	 * which then stays. */
	struct store_stmt *st = store_prepare(
		store,
		"DELETE FROM blobs WHERE hash IN (SELECT hash FROM blobs WHERE refcount <= 0 AND "
		"created < $1 LIMIT $2) AND refcount <= 0 AND created < $1 RETURNING hash, size",
		err);
	if (st == NULL)
		goto fail;
	store_bind_int(st, 1, cutoff);
	store_bind_int(st, 2, BLOB_GC_BATCH);
	while ((r = store_step(st, err)) > 0) {
		g_ptr_array_add(doomed, g_strdup(store_col_text(st, 0)));
		bytes += store_col_int(st, 1);
	}
	store_stmt_done(&st);
	if (r < 0)
		goto fail;
	for (guint i = 0; i < doomed->len; i++) {
		if (remove_content(store, g_ptr_array_index(doomed, i), err) < 0)
			goto fail;
	}
	if (store_commit(store, err) < 0) {
		r = -1;
		goto out;
	}
	result->blobs += doomed->len;
	result->bytes += bytes;
	r = (int)doomed->len;
	goto out;
fail:
	r = -1;
	store_rollback(store);
out:
	g_ptr_array_unref(doomed);
	return r;
}

int blob_gc(struct store *store, int64_t grace_seconds, const int *stop,
            struct blob_gc_result *result_r, struct ox_error *err)
{
	memset(result_r, 0, sizeof(*result_r));
	int64_t cutoff = now_seconds() - grace_seconds;
	int n;
	do {
		if (stop != NULL && g_atomic_int_get(stop)) {
			result_r->stopped = true;
			return 0;
		}
		n = gc_batch(store, cutoff, result_r, err);
	} while (n > 0);
	if (n < 0)
		return -1;
	int64_t removed = store->driver->blobs_in_database ? remove_stale_chunks(store, cutoff, err)
	                                                   : remove_stale_files(store, cutoff);
	if (removed < 0)
		return -1;
	result_r->temporaries = removed;
	return 0;
}
