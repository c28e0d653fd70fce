/* Shared by the directory's files. */
#ifndef OX_DIRECTORY_PRIVATE_H
#define OX_DIRECTORY_PRIVATE_H

#include "core/error.h"
#include "directory/directory.h"
#include "store/store.h"

#include <glib.h>

/* Begins a transaction unless the caller already has one; *own_r says
 * whether txn_end() must finish it. */
int txn_begin(struct store *s, bool *own_r, struct ox_error *err);
/* Commits (ok) or rolls back an own transaction; returns ok ? 0 : -1, or
 * -1 when the commit fails. */
int txn_end(struct store *s, bool own, bool ok, struct ox_error *err);

int64_t now_seconds(void);

/* Runs a statement with the given parameters (text or int, by format
 * letters: 's' text, 'i' int64, 'n' NULL), expecting no rows. Returns 0
 * or -1; *changes_r (may be NULL) receives the changed row count. */
int dir_exec(struct store *s, const char *sql, int64_t *changes_r, struct ox_error *err,
             const char *types, ...);
/* Same, returning the first column of the first row as an integer:
 * 1 found, 0 no row, -1 error. */
int dir_query_int(struct store *s, const char *sql, int64_t *value_r, struct ox_error *err,
                  const char *types, ...);
/* Reads the row read_row() takes from the statement into `row`. */
typedef void dir_row_reader(struct store_stmt *st, void *row);
/* Same, handing the first row to read_row: 1 found, 0 no row, -1 error. */
int dir_query_row(struct store *s, const char *sql, dir_row_reader *read_row, void *row,
                  struct ox_error *err, const char *types, ...);

/* The context a domain belongs to: 1, 0, -1. */
int context_id_by_domain(struct store *s, const char *domain, int64_t *id_r, struct ox_error *err);
int context_id_by_name(struct store *s, const char *name, int64_t *id_r, struct ox_error *err);
/* Principal id of a user login: 1, 0, -1. */
int user_id_by_login(struct store *s, const char *login, int64_t *id_r, struct ox_error *err);

bool display_name_valid(const char *name);

/* Seconds a session lives after its last use (auth.session_lifetime). */
int64_t auth_session_lifetime(void);

int run_user_created_hook(struct store *s, int64_t context_id, int64_t user_id,
                          struct ox_error *err);
int run_principal_deleted_hook(struct store *s, int64_t principal_id, struct ox_error *err);
int run_context_deleted_hook(struct store *s, int64_t context_id, struct ox_error *err);

#endif
