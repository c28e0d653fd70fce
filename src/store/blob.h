/* Blobs: immutable byte strings named by their SHA-256, written once,
 * shared by everything that holds the same bytes, streamed in and out so a
 * 1 GiB blob never sits whole in memory.
 *
 * With SQLite they are files under the blob directory (DATA/blobs), written
 * to a temporary file, fsynced and renamed into place. With PostgreSQL they
 * live in the database in 1 MiB pieces, so nodes need no shared file
 * system. The blobs table counts references; blob_gc() removes blobs
 * nobody references. */
#ifndef OX_STORE_BLOB_H
#define OX_STORE_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BLOB_HASH_LEN 64 /* lower-case hex SHA-256 */

struct ox_error;
struct store;
struct blob_writer;
struct blob_reader;

/* Where the SQLite driver keeps blob files; must be set before blobs are
 * used with it (PostgreSQL ignores it). */
void blob_set_directory(struct store *store, const char *dir);

/* Starts a new blob. Returns NULL with err set. */
struct blob_writer *blob_write_begin(struct store *store, struct ox_error *err);
int blob_write(struct blob_writer *w, const void *data, size_t len, struct ox_error *err);
/* Completes the blob and frees the writer. hash_r receives the name
 * (BLOB_HASH_LEN + 1 bytes). The blob exists from now on, with no
 * reference yet: take one with blob_ref() in the same transaction as the
 * row that points to it. Identical bytes written twice are stored once. */
int blob_write_finish(struct blob_writer **w, char *hash_r, uint64_t *size_r, struct ox_error *err);
/* Discards a blob being written and frees the writer. */
void blob_write_abort(struct blob_writer **w);

/* Adds delta (+1 / -1) to a blob's reference count. */
int blob_ref(struct store *store, const char *hash, int delta, struct ox_error *err);
/* 1 exists (size in *size_r), 0 not, -1 error. */
int blob_exists(struct store *store, const char *hash, uint64_t *size_r, struct ox_error *err);

struct blob_reader *blob_open(struct store *store, const char *hash, struct ox_error *err);
/* Returns bytes read, 0 at the end, -1 on error. */
ssize_t blob_read(struct blob_reader *r, void *buf, size_t len, struct ox_error *err);
void blob_close(struct blob_reader **r);

/* A database writer (PostgreSQL) moves its pieces to a name with the
 * current time at least this often while it makes progress, so that the
 * collector can tell it from one that died. */
#define BLOB_TMP_REFRESH_SECONDS 60

/* What one blob_gc() run removed. */
struct blob_gc_result {
	int64_t blobs;       /* unreferenced blobs */
	int64_t bytes;       /* their size */
	int64_t temporaries; /* leftovers of writers: files (SQLite), pieces (PostgreSQL) */
	bool stopped;        /* *stop was set before the end */
};

/* Deletes the unreferenced blobs whose row was last touched (written, or
 * written again) more than grace_seconds ago, and the temporary data of
 * writers that have made no progress for that long (they died, or stalled
 * beyond any read timeout). So the grace must exceed both the time between
 * blob_write_finish() and the blob_ref() that follows, and the longest
 * pause between two blob_write() calls plus BLOB_TMP_REFRESH_SECONDS; a
 * writer whose temporary data was taken fails rather than finish a
 * damaged blob. Works in short transactions of a bounded number of blobs,
 * so writers never wait long; `stop` (NULL: never) is read between them,
 * and once it is non-zero the run ends early with result_r->stopped.
 * Returns 0 with result_r filled, or -1 (result_r counts what earlier
 * transactions removed). Several collectors may run at once (nodes on
 * one PostgreSQL). */
int blob_gc(struct store *store, int64_t grace_seconds, const int *stop,
            struct blob_gc_result *result_r, struct ox_error *err);

#endif
