/* Quotas of the files service: the bytes every document version holds,
 * counted for the user whose private tree holds it and for its context,
 * in two counter tables changed in the transaction of each write
 * (files_charge) so that a quota check reads two rows instead of summing
 * every version of a tree. The quotas themselves are the directory's
 * (users.quota_bytes, contexts.quota_bytes; 0 is unlimited).
 *
 * Lock order (PostgreSQL row locks): a transaction charges before it
 * writes anything else, the context's row before the user's. Every
 * writer of a context meets first at the context's row, so two writers
 * never wait on each other in opposite orders; the price is that the
 * short transactions that record writes of one context take turns (the
 * content itself is streamed into its blob before). */
#include "core/config.h"
#include "files/files-private.h"

#include <string.h>

/* files.* settings, read with g_atomic_int_get from any thread */
static int max_versions;
static int blob_gc_interval_s, blob_gc_grace_s;

#define WEEK_MS (7LL * 24 * 3600 * 1000)

static const struct ox_option files_options[] = {
	{"files", "max_versions", OX_OPT_INT, "0", 0, 1000000, NULL,
         "Versions kept of each document, the current one included; the oldest go at its next "
         "write. 0 keeps every version."},
	{"files", "blob_gc_interval", OX_OPT_DURATION, "1h", 0, WEEK_MS, NULL,
         "How often oxd deletes the stored contents no document version holds any more "
         "(deleted documents, pruned versions, refused uploads); 0: never (oxctl file gc "
         "still does)."},
	{"files", "blob_gc_grace", OX_OPT_DURATION, "1h", 1000, WEEK_MS, NULL,
         "Unreferenced contents and the temporary data of unfinished uploads are deleted only "
         "this long after they were last written; keep it well above net.read_timeout plus a "
         "minute, so that a slow upload is never collected."},
};

void files_register_options(void)
{
	ox_config_register(files_options, G_N_ELEMENTS(files_options));
}

/* Durations are kept in whole seconds: the collector compares them with
 * timestamps in seconds. A grace is rounded up, never down. */
void files_configure(const struct ox_config *cfg)
{
	g_atomic_int_set(&max_versions, (int)ox_config_int(cfg, "files", "max_versions"));
	g_atomic_int_set(&blob_gc_interval_s,
	                 (int)((ox_config_int(cfg, "files", "blob_gc_interval") + 999) / 1000));
	g_atomic_int_set(&blob_gc_grace_s,
	                 (int)((ox_config_int(cfg, "files", "blob_gc_grace") + 999) / 1000));
}

int64_t files_gc_interval_seconds(void)
{
	return g_atomic_int_get(&blob_gc_interval_s);
}

int64_t files_gc_grace_seconds(void)
{
	return g_atomic_int_get(&blob_gc_grace_s);
}

int files_max_versions(void)
{
	return g_atomic_int_get(&max_versions);
}

bool files_quota_exceeded(const struct ox_error *err)
{
	return err->code == OX_ERR_NO_QUOTA &&
	       g_str_has_prefix(err->message, FILES_QUOTA_EXCEEDED_TEXT);
}

/* Whose counters a folder's documents change: its owner (0 for a public
 * folder) and its context. */
static int folder_account(struct store *s, int64_t folder_id, int64_t *owner_r, int64_t *context_r,
                          struct ox_error *err)
{
	struct folder_info info;
	int r = folder_get(s, FOLDER_SYSTEM_ACTOR, folder_id, &info, err);
	if (r == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such folder");
	if (r < 0)
		return -1;
	*owner_r = info.owner_id;
	*context_r = info.context_id;
	folder_info_clear(&info);
	return 0;
}

/* Adds delta to one counter row (made on first use); *bytes_r gets the
 * new count. */
static int add_bytes(struct store *s, const char *sql, int64_t id, int64_t delta, int64_t *bytes_r,
                     struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s, sql, err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, id);
	store_bind_int(st, 2, delta);
	int r = store_step(st, err);
	if (r > 0)
		*bytes_r = store_col_int(st, 0);
	store_stmt_done(&st);
	return r > 0 ? 0 : r < 0 ? -1 : ox_error_set(err, OX_ERR_INTERNAL, "usage row not written");
}

/* The quotas of a context and of a user in it (0: none, also for owner 0). */
static int read_quotas(struct store *s, int64_t context_id, int64_t owner, int64_t *context_quota_r,
                       int64_t *user_quota_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"SELECT c.quota_bytes, COALESCE((SELECT u.quota_bytes FROM users u WHERE "
		"u.principal_id = $2), 0) FROM contexts c WHERE c.id = $1",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, context_id);
	store_bind_int(st, 2, owner);
	int r = store_step(st, err);
	if (r > 0) {
		*context_quota_r = store_col_int(st, 0);
		*user_quota_r = store_col_int(st, 1);
	}
	store_stmt_done(&st);
	return r > 0 ? 0 : r < 0 ? -1 : ox_error_set(err, OX_ERR_NOT_FOUND, "no such context");
}

int files_charge(struct store *s, int64_t folder_id, int64_t delta, struct ox_error *err)
{
	if (delta == 0)
		return 0;
	int64_t owner = 0, context = 0, context_bytes = 0, user_bytes = 0;
	if (folder_account(s, folder_id, &owner, &context, err) < 0 ||
	    add_bytes(s,
	              "INSERT INTO files_context_usage (context_id, bytes) VALUES ($1, $2) "
	              "ON CONFLICT (context_id) DO UPDATE SET bytes = "
	              "files_context_usage.bytes + excluded.bytes RETURNING bytes",
	              context, delta, &context_bytes, err) < 0)
		return -1;
	if (owner != 0 && add_bytes(s,
	                            "INSERT INTO files_user_usage (user_id, bytes) VALUES ($1, $2) "
	                            "ON CONFLICT (user_id) DO UPDATE SET bytes = "
	                            "files_user_usage.bytes + excluded.bytes RETURNING bytes",
	                            owner, delta, &user_bytes, err) < 0)
		return -1;
	/* Freeing space is never refused, even above a lowered quota. */
	if (delta < 0)
		return 0;
	int64_t context_quota = 0, user_quota = 0;
	if (read_quotas(s, context, owner, &context_quota, &user_quota, err) < 0)
		return -1;
	/* The counts already include delta: the caller's transaction is
	 * rolled back on this error, and the counts with it. */
	if (user_quota > 0 && user_bytes > user_quota)
		return ox_error_set(err, OX_ERR_NO_QUOTA,
		                    FILES_QUOTA_EXCEEDED_TEXT
		                    "%" G_GINT64_FORMAT " bytes more than the "
		                    "user's quota of %" G_GINT64_FORMAT " bytes allows",
		                    user_bytes - user_quota, user_quota);
	if (context_quota > 0 && context_bytes > context_quota)
		return ox_error_set(err, OX_ERR_NO_QUOTA,
		                    FILES_QUOTA_EXCEEDED_TEXT
		                    "%" G_GINT64_FORMAT " bytes more than the "
		                    "context's quota of %" G_GINT64_FORMAT " bytes allows",
		                    context_bytes - context_quota, context_quota);
	return 0;
}

int files_usage_of_user(struct store *s, int64_t user_id, struct files_usage *usage_r,
                        struct ox_error *err)
{
	memset(usage_r, 0, sizeof(*usage_r));
	struct store_stmt *st = store_prepare(
		s,
		"SELECT u.quota_bytes, c.quota_bytes, COALESCE(uu.bytes, 0), COALESCE(cu.bytes, 0) "
		"FROM users u JOIN principals p ON p.id = u.principal_id "
		"JOIN contexts c ON c.id = p.context_id "
		"LEFT JOIN files_user_usage uu ON uu.user_id = u.principal_id "
		"LEFT JOIN files_context_usage cu ON cu.context_id = c.id "
		"WHERE u.principal_id = $1",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, user_id);
	int r = store_step(st, err);
	if (r > 0) {
		usage_r->user_quota = store_col_int(st, 0);
		usage_r->context_quota = store_col_int(st, 1);
		usage_r->user_bytes = store_col_int(st, 2);
		usage_r->context_bytes = store_col_int(st, 3);
	}
	store_stmt_done(&st);
	return r;
}

static int usage_of_context(struct store *s, int64_t context_id, struct files_usage *usage_r,
                            struct ox_error *err)
{
	memset(usage_r, 0, sizeof(*usage_r));
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT c.quota_bytes, COALESCE(cu.bytes, 0) FROM "
	                                      "contexts c LEFT JOIN files_context_usage cu ON "
	                                      "cu.context_id = c.id WHERE c.id = $1",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, context_id);
	int r = store_step(st, err);
	if (r > 0) {
		usage_r->context_quota = store_col_int(st, 0);
		usage_r->context_bytes = store_col_int(st, 1);
	}
	store_stmt_done(&st);
	return r;
}

int64_t files_usage_room(const struct files_usage *usage)
{
	int64_t room = -1;
	if (usage->user_quota > 0)
		room = MAX(0, usage->user_quota - usage->user_bytes);
	if (usage->context_quota > 0) {
		int64_t left = MAX(0, usage->context_quota - usage->context_bytes);
		room = room < 0 ? left : MIN(room, left);
	}
	return room;
}

int files_room_in_folder(struct store *s, int64_t folder_id, int64_t *room_r, struct ox_error *err)
{
	int64_t owner = 0, context = 0;
	struct files_usage usage;
	if (folder_account(s, folder_id, &owner, &context, err) < 0)
		return -1;
	int r = owner != 0 ? files_usage_of_user(s, owner, &usage, err)
	                   : usage_of_context(s, context, &usage, err);
	if (r == 0)
		return ox_error_set(err, OX_ERR_NOT_FOUND, "the folder's owner is gone");
	if (r < 0)
		return -1;
	*room_r = files_usage_room(&usage);
	return 0;
}

/* 1 set, 0 no such user, -1. */
static int update_user_quota(struct store *s, int64_t user_id, int64_t quota_bytes,
                             struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "UPDATE users SET quota_bytes = $2 WHERE principal_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, user_id);
	store_bind_int(st, 2, quota_bytes);
	int r = store_run(st, err);
	int64_t changes = store_changes(st);
	store_stmt_done(&st);
	return r < 0 ? -1 : changes > 0 ? 1 : 0;
}

int files_set_user_quota(struct store *s, int64_t user_id, int64_t quota_bytes,
                         struct files_usage *usage_r, struct ox_error *err)
{
	memset(usage_r, 0, sizeof(*usage_r));
	if (quota_bytes < 0)
		return ox_error_set(err, OX_ERR_INVALID, "quota must not be negative");
	bool own;
	if (files_txn_begin(s, &own, err) < 0)
		return -1;
	int found = update_user_quota(s, user_id, quota_bytes, err);
	if (found > 0) {
		int read = files_usage_of_user(s, user_id, usage_r, err);
		if (read == 0)
			ox_error_set(err, OX_ERR_INTERNAL, "the user went while the quota was set");
		if (read <= 0)
			found = -1;
	}
	/* Nothing to keep unless it was set. */
	if (files_txn_end(s, own, found > 0, err) < 0)
		return found == 0 ? 0 : -1;
	return found;
}
