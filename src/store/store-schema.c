/* The schema as numbered migrations. Never edit a migration that has been
 * released: add the next one. SQL must run on both drivers; @ID@ and @BLOB@
 * become each driver's auto-assigned key and binary types. */
#include "store/store-schema.h"

#include <glib.h>

static const struct store_migration migrations[] = {
	{1, "content-addressed blobs",
         "CREATE TABLE blobs ("
         " hash TEXT PRIMARY KEY," /* SHA-256, lower-case hex */
         " size BIGINT NOT NULL,"
         " refcount BIGINT NOT NULL DEFAULT 0,"
         " created BIGINT NOT NULL);"
         /* Blob bodies when they live in the database (PostgreSQL), in pieces
          * so none is ever read or written whole. */
         "CREATE TABLE blob_chunks ("
         " hash TEXT NOT NULL,"
         " seq INTEGER NOT NULL,"
         " data @BLOB@ NOT NULL,"
         " PRIMARY KEY (hash, seq));"},
};

const struct store_migration *store_migrations(size_t *count_r)
{
	*count_r = G_N_ELEMENTS(migrations);
	return migrations;
}
