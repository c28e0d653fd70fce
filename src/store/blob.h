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

/* Deletes unreferenced blobs created more than `grace_seconds` ago (the
 * grace covers a writer that finished but has not taken its reference).
 * Returns how many were deleted, or -1. */
int64_t blob_gc(struct store *store, int64_t grace_seconds, struct ox_error *err);

#endif
