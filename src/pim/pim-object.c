/* Calendar objects: iCalendar text with its index in `calendar_objects`,
 * one object per UID per calendar. The change log names an object by its
 * resource name, so "own" rights follow whoever created that name. */
#include "core/error.h"
#include "pim/pim-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

#define OBJECT_COLUMNS                                                                             \
	"id, folder_id, name, uid, component, etag, size, created, modified, schedule_tag"
#define DATA_COLUMN 10 /* after OBJECT_COLUMNS */

void pim_object_clear(struct pim_object *obj)
{
	g_free(obj->name);
	g_free(obj->uid);
	memset(obj, 0, sizeof(*obj));
}

static void read_object(struct store_stmt *st, struct pim_object *obj)
{
	obj->id = store_col_int(st, 0);
	obj->folder_id = store_col_int(st, 1);
	obj->name = g_strdup(store_col_text(st, 2));
	obj->uid = g_strdup(store_col_text(st, 3));
	obj->component = (enum pim_component)store_col_int(st, 4);
	g_strlcpy(obj->etag, store_col_text(st, 5), sizeof(obj->etag));
	obj->size = store_col_int(st, 6);
	obj->created = store_col_int(st, 7);
	obj->modified = store_col_int(st, 8);
	const char *tag = store_col_text(st, 9);
	g_strlcpy(obj->schedule_tag, tag != NULL ? tag : "", sizeof(obj->schedule_tag));
}

static int64_t now(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* Whether the actor may read objects: 1 all, 0 only their own, -1 none
 * (err set). */
static int read_scope(struct store *s, int64_t actor, int64_t folder_id, struct ox_error *err)
{
	struct folder_perm rights;
	if (folder_rights(s, actor, folder_id, &rights, err) < 0)
		return -1;
	if (!folder_rights_allow(&rights, FOLDER_SEE, false))
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such calendar");
	if (folder_check(s, actor, folder_id, FOLDER_READ_OBJECT, 0, err) == 0)
		return 1;
	if (folder_rights_allow(&rights, FOLDER_READ_OBJECT, true))
		return 0;
	return -1;
}

static bool readable(struct store *s, int64_t actor, int64_t folder_id, int scope, const char *name)
{
	int64_t creator = 0;
	struct ox_error err;
	return scope > 0 ||
	       (change_object_creator(s, folder_id, name, &creator, &err) > 0 && creator == actor);
}

static int load(struct store *s, int64_t folder_id, const char *name, struct pim_object *obj,
                struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT " OBJECT_COLUMNS " FROM calendar_objects "
	                                      "WHERE folder_id = $1 AND name = $2",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, name);
	int r = store_step(st, err);
	if (r > 0)
		read_object(st, obj);
	store_stmt_done(&st);
	return r;
}

int pim_object_find(struct store *s, int64_t actor, const struct pim_calendar *cal,
                    const char *name, struct pim_object *obj_r, struct ox_error *err)
{
	memset(obj_r, 0, sizeof(*obj_r));
	struct ox_error perm;
	int scope = read_scope(s, actor, cal->folder_id, &perm);
	if (scope < 0 && perm.code != OX_ERR_PERM) {
		*err = perm;
		return -1;
	}
	int r = load(s, cal->folder_id, name, obj_r, err);
	if (r > 0 && (scope < 0 || !readable(s, actor, cal->folder_id, scope, name))) {
		pim_object_clear(obj_r);
		r = 0;
	}
	return r;
}

/* Streams rows of `st` (OBJECT_COLUMNS, then data) the actor may read and
 * that pass `q`. */
static int emit_rows(struct store *s, int64_t actor, const struct pim_calendar *cal,
                     struct store_stmt *st, const struct pim_query *q, pim_object_fn *fn, void *ctx,
                     struct ox_error *err)
{
	int scope = read_scope(s, actor, cal->folder_id, err);
	struct pim_zone *own_zone = NULL;
	/* Only a match reads times: a plain listing needs no zone. */
	if (scope >= 0 && q->zone == NULL && (q->filter != NULL || q->has_range) &&
	    pim_folder_zone(s, cal->folder_id, &own_zone, NULL, err) < 0)
		scope = -1;
	if (scope < 0) {
		store_stmt_done(&st);
		return -1;
	}
	const struct pim_zone *zone = q->zone != NULL ? q->zone : own_zone;
	/* Rows are collected first: the permission check and fn may use the
	 * store while a statement is open. */
	GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
	GArray *objs = g_array_new(FALSE, TRUE, sizeof(struct pim_object));
	int r;
	while ((r = store_step(st, err)) > 0) {
		struct pim_object obj = {0};
		read_object(st, &obj);
		g_array_append_val(objs, obj);
		const char *data = store_col_text(st, DATA_COLUMN);
		g_ptr_array_add(rows, data != NULL ? g_strdup(data) : NULL);
	}
	store_stmt_done(&st);
	for (guint i = 0; r == 0 && i < objs->len; i++) {
		struct pim_object *obj = &g_array_index(objs, struct pim_object, i);
		const char *data = g_ptr_array_index(rows, i);
		if (!readable(s, actor, cal->folder_id, scope, obj->name))
			continue;
		if (q->filter != NULL
		            ? !pim_ical_filter_match(data, zone, q->filter)
		            : q->has_range && !pim_ical_overlaps(data, zone, q->components,
		                                                 q->start, q->end))
			continue;
		if (fn(obj, data, ctx) < 0)
			r = ox_error_set(err, OX_ERR_INTERNAL, "object listing stopped");
	}
	for (guint i = 0; i < objs->len; i++)
		pim_object_clear(&g_array_index(objs, struct pim_object, i));
	g_array_free(objs, TRUE);
	g_ptr_array_unref(rows);
	pim_zone_free(&own_zone);
	return r < 0 ? -1 : 0;
}

int pim_object_list(struct store *s, int64_t actor, const struct pim_calendar *cal,
                    pim_object_fn *fn, void *ctx, struct ox_error *err)
{
	struct pim_query all = {0};
	return pim_object_query(s, actor, cal, &all, fn, ctx, err);
}

int pim_object_list_index(struct store *s, int64_t actor, const struct pim_calendar *cal,
                          pim_object_fn *fn, void *ctx, struct ox_error *err)
{
	/* A listing (PROPFIND Depth 1, an ETag per name) reads no object text:
	 * with real invitations of several KiB each, that text was most of
	 * what the listing copied. */
	struct store_stmt *st =
		store_prepare(s,
	                      "SELECT " OBJECT_COLUMNS ", NULL FROM calendar_objects "
	                      "WHERE folder_id = $1 ORDER BY name",
	                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, cal->folder_id);
	struct pim_query all = {0};
	return emit_rows(s, actor, cal, st, &all, fn, ctx, err);
}

int pim_object_query(struct store *s, int64_t actor, const struct pim_calendar *cal,
                     const struct pim_query *q, pim_object_fn *fn, void *ctx, struct ox_error *err)
{
	/* The index narrows the candidates; libical decides each one. */
	struct store_stmt *st = store_prepare(
		s,
		"SELECT " OBJECT_COLUMNS ", data FROM calendar_objects WHERE folder_id = $1 "
		"AND ($2 = 0 OR (component & $2) <> 0) AND ($3 = 0 OR "
		"((first_start IS NULL OR first_start < $5) AND (last_end IS NULL OR last_end >= "
		"$4))) "
		"ORDER BY name",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, cal->folder_id);
	store_bind_int(st, 2, q->components);
	store_bind_int(st, 3, q->has_range ? 1 : 0);
	/* The index reads floating times as UTC; the calendar's zone may move
	 * them by up to PIM_FLOATING_SLACK. */
	store_bind_int(st, 4, q->has_range ? pim_widen_down(q->start) : 0);
	store_bind_int(st, 5, q->has_range ? pim_widen_up(q->end) : 0);
	return emit_rows(s, actor, cal, st, q, fn, ctx, err);
}

int pim_object_read(struct store *s, int64_t actor, const struct pim_calendar *cal,
                    const struct pim_object *obj, char **data_r, size_t *len_r,
                    struct ox_error *err)
{
	*data_r = NULL;
	int scope = read_scope(s, actor, cal->folder_id, err);
	if (scope < 0)
		return -1;
	if (!readable(s, actor, cal->folder_id, scope, obj->name))
		return ox_error_set(err, OX_ERR_NOT_FOUND, "no such object");
	struct store_stmt *st = store_prepare(
		s, "SELECT data FROM calendar_objects WHERE folder_id = $1 AND id = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, cal->folder_id);
	store_bind_int(st, 2, obj->id);
	int r = store_step(st, err);
	if (r > 0) {
		*data_r = g_strdup(store_col_text(st, 0));
		*len_r = strlen(*data_r);
	}
	store_stmt_done(&st);
	if (r == 0)
		ox_error_set(err, OX_ERR_NOT_FOUND, "no such object");
	return r > 0 ? 0 : -1;
}

int pim_object_may_put(struct store *s, int64_t actor, const struct pim_calendar *cal,
                       const struct pim_object *existing, struct ox_error *err)
{
	if (existing == NULL)
		return folder_check(s, actor, cal->folder_id, FOLDER_CREATE_OBJECT, 0, err);
	int64_t creator = 0;
	if (change_object_creator(s, cal->folder_id, existing->name, &creator, err) < 0)
		return -1;
	return folder_check(s, actor, cal->folder_id, FOLDER_WRITE_OBJECT, creator, err);
}

/* Another object of the calendar with this UID: 1 (named in err), 0, -1. */
static int uid_taken(struct store *s, int64_t folder_id, const char *uid, const char *name,
                     struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s,
	                                      "SELECT name FROM calendar_objects WHERE "
	                                      "folder_id = $1 AND uid = $2 AND name <> $3",
	                                      err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, uid);
	store_bind_text(st, 3, name);
	int r = store_step(st, err);
	if (r > 0)
		ox_error_set(err, OX_ERR_CONFLICT, "UID %.100s is used by %.100s", uid,
		             store_col_text(st, 0));
	store_stmt_done(&st);
	return r;
}

static void bind_index(struct store_stmt *st, const struct pim_ical_index *idx, int first)
{
	if (idx->has_start)
		store_bind_int(st, first, idx->first_start);
	else
		store_bind_null(st, first);
	if (idx->has_end)
		store_bind_int(st, first + 1, idx->last_end);
	else
		store_bind_null(st, first + 1);
}

/* A fresh Schedule-Tag: an opaque quoted string (RFC 6638 8.2) that
 * never repeats, unlike an ETag, whose text may come back. */
static void new_schedule_tag(char tag[PIM_ETAG_MAX])
{
	g_snprintf(tag, PIM_ETAG_MAX, "\"%08x%08x%08x%08x\"", g_random_int(), g_random_int(),
	           g_random_int(), g_random_int());
}

/* schedule_tag: NULL or "" for none. */
static int write_row(struct store *s, const struct pim_calendar *cal, const char *name,
                     const char *text, size_t len, const struct pim_ical_index *idx,
                     const char *etag, const char *schedule_tag, bool exists, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		exists ? "UPDATE calendar_objects SET uid = $3, component = $4, first_start = $5, "
			 "last_end = $6, etag = $7, size = $8, data = $9, modified = $10, "
			 "schedule_tag = $11 WHERE folder_id = $1 AND name = $2"
		       : "INSERT INTO calendar_objects (folder_id, name, uid, component, "
			 "first_start, last_end, etag, size, data, created, modified, "
			 "schedule_tag) "
			 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, cal->folder_id);
	store_bind_text(st, 2, name);
	store_bind_text(st, 3, idx->uid);
	store_bind_int(st, 4, idx->component);
	bind_index(st, idx, 5);
	store_bind_text(st, 7, etag);
	store_bind_int(st, 8, (int64_t)len);
	store_bind_text(st, 9, text);
	store_bind_int(st, 10, now());
	if (schedule_tag != NULL && schedule_tag[0] != '\0')
		store_bind_text(st, 11, schedule_tag);
	else
		store_bind_null(st, 11);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r;
}

/* Checks and writes in one transaction; the caller has validated the
 * text. */
static int load_text(struct store *s, int64_t folder_id, const char *name, char **text_r,
                     struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT data FROM calendar_objects WHERE folder_id = $1 AND name = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, name);
	int r = store_step(st, err);
	if (r > 0)
		*text_r = g_strdup(store_col_text(st, 0));
	store_stmt_done(&st);
	return r;
}

static int put_txn(struct store *s, int64_t actor, const struct pim_calendar *cal, const char *name,
                   const char *text, size_t len, const struct pim_ical_index *idx, const char *etag,
                   bool *created_r, char **rewritten_r, enum pim_reject *reject_r,
                   struct ox_error *err)
{
	struct pim_object old = {0};
	int exists = load(s, cal->folder_id, name, &old, err);
	int r = exists < 0 ? -1 : pim_object_may_put(s, actor, cal, exists ? &old : NULL, err);
	pim_object_clear(&old);
	if (r < 0)
		return -1;
	int taken = uid_taken(s, cal->folder_id, idx->uid, name, err);
	if (taken != 0) {
		if (taken > 0)
			*reject_r = PIM_REJECT_UID;
		return -1;
	}
	char *old_text = NULL;
	if (exists > 0 && cal->owner_id != 0 &&
	    load_text(s, cal->folder_id, name, &old_text, err) < 0)
		return -1;
	/* Every client write of a scheduling object is one its calendar user
	 * made, so it gets a new Schedule-Tag (RFC 6638 3.2.10); objects
	 * outside a user's calendars are never scheduled and have none. */
	char tag[PIM_ETAG_MAX] = "";
	if (cal->owner_id != 0 && pim_schedule_candidate(text))
		new_schedule_tag(tag);
	r = write_row(s, cal, name, text, len, idx, etag, tag, exists > 0, err) < 0 ||
	                    change_record(s, cal->folder_id, name, actor, false, NULL, err) < 0
	            ? -1
	            : 0;
	if (r == 0 && cal->owner_id != 0 &&
	    (pim_schedule_candidate(text) ||
	     (old_text != NULL && pim_schedule_candidate(old_text))))
		r = pim_schedule_object(s, cal, old_text, text, rewritten_r, err);
	/* Scheduling changed the object (SCHEDULE-STATUS, a resource's
	 * answer): part of this write, so the tag just made stays. */
	if (r == 0 && *rewritten_r != NULL)
		r = pim_object_write_as(s, cal->folder_id, actor, name, *rewritten_r, PIM_TAG_KEEP,
		                        err);
	g_free(old_text);
	*created_r = exists == 0;
	return r;
}

int pim_object_put(struct store *s, int64_t actor, const struct pim_calendar *cal, const char *name,
                   const char *data, size_t len, bool *created_r, struct pim_object *obj_r,
                   enum pim_reject *reject_r, struct ox_error *err)
{
	memset(obj_r, 0, sizeof(*obj_r));
	*reject_r = PIM_REJECT_NONE;
	size_t nlen = name != NULL ? strlen(name) : 0;
	if (nlen == 0 || nlen > PIM_NAME_MAX || strchr(name, '/') != NULL)
		return ox_error_set(err, OX_ERR_INVALID, "an object name is 1 to %d bytes",
		                    PIM_NAME_MAX);
	/* RFC 6638 2.2: only the server delivers into a schedule inbox. */
	if (cal->inbox)
		return ox_error_set(err, OX_ERR_PERM, "the schedule inbox takes no PUT");
	if (len > PIM_OBJECT_MAX) {
		*reject_r = PIM_REJECT_SIZE;
		return ox_error_set(err, OX_ERR_LIMIT, "a calendar object is at most %d bytes",
		                    PIM_OBJECT_MAX);
	}
	struct pim_ical_index idx;
	if (pim_ical_index(data, len, &idx, reject_r, err) < 0)
		return -1;
	int ret = -1;
	if ((idx.component & cal->components) == 0) {
		*reject_r = PIM_REJECT_COMPONENT;
		ox_error_set(err, OX_ERR_INVALID, "this calendar does not take %s components",
		             idx.component == PIM_COMP_VTODO ? "VTODO" : "VEVENT");
		goto out;
	}
	char *text = g_strndup(data, len);
	char *hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
	char etag[PIM_ETAG_MAX];
	g_snprintf(etag, sizeof(etag), "\"%.32s\"", hash);
	g_free(hash);
	char *rewritten = NULL;
	if (store_begin(s, err) == 0) {
		if (put_txn(s, actor, cal, name, text, len, &idx, etag, created_r, &rewritten,
		            reject_r, err) == 0 &&
		    store_commit(s, err) == 0)
			ret = 0;
		else
			store_rollback(s);
	}
	g_free(text);
	if (ret == 0 && load(s, cal->folder_id, name, obj_r, err) <= 0)
		ret = -1;
	obj_r->altered = rewritten != NULL;
	g_free(rewritten);
out:
	pim_ical_index_clear(&idx);
	return ret;
}

int pim_object_delete(struct store *s, int64_t actor, const struct pim_calendar *cal,
                      const struct pim_object *obj, unsigned flags, struct ox_error *err)
{
	int64_t creator = 0;
	if (change_object_creator(s, cal->folder_id, obj->name, &creator, err) < 0 ||
	    folder_check(s, actor, cal->folder_id, FOLDER_DELETE_OBJECT, creator, err) < 0)
		return -1;
	/* COPY and MOVE remove an overwritten destination inside their own
	 * transaction: join it. */
	bool own = !store_in_transaction(s);
	if (own && store_begin(s, err) < 0)
		return -1;
	char *old_text = NULL;
	bool ok = cal->owner_id == 0 || cal->inbox ||
	          load_text(s, cal->folder_id, obj->name, &old_text, err) >= 0;
	struct store_stmt *st =
		ok ? store_prepare(s,
	                           "DELETE FROM calendar_objects WHERE folder_id = $1 AND id = $2",
	                           err)
		   : NULL;
	ok = st != NULL;
	if (ok) {
		store_bind_int(st, 1, cal->folder_id);
		store_bind_int(st, 2, obj->id);
		ok = store_run(st, err) == 0;
		store_stmt_done(&st);
	}
	ok = ok && change_record(s, cal->folder_id, obj->name, actor, true, NULL, err) == 0;
	if (ok && old_text != NULL && pim_schedule_candidate(old_text))
		ok = pim_schedule_removed(s, cal, old_text, (flags & PIM_DELETE_NO_REPLY) == 0,
		                          err) == 0;
	g_free(old_text);
	if (own && (!ok || store_commit(s, err) < 0)) {
		store_rollback(s);
		return -1;
	}
	return ok ? 0 : -1;
}

int pim_object_write_as(struct store *s, int64_t folder_id, int64_t as_user, const char *name,
                        const char *text, enum pim_tag_change tag, struct ox_error *err)
{
	size_t len = strlen(text);
	if (len > PIM_OBJECT_MAX)
		return ox_error_set(err, OX_ERR_LIMIT, "a calendar object is at most %d bytes",
		                    PIM_OBJECT_MAX);
	struct pim_ical_index idx;
	enum pim_reject why;
	if (pim_ical_index(text, len, &idx, &why, err) < 0)
		return -1;
	char *hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, len);
	char etag[PIM_ETAG_MAX];
	g_snprintf(etag, sizeof(etag), "\"%.32s\"", hash);
	g_free(hash);
	struct pim_calendar cal = {.folder_id = folder_id};
	struct pim_object old = {0};
	int exists = load(s, folder_id, name, &old, err);
	char schedule_tag[PIM_ETAG_MAX] = "";
	if (tag != PIM_TAG_NONE && pim_schedule_candidate(text)) {
		if (tag == PIM_TAG_KEEP && exists > 0 && old.schedule_tag[0] != '\0')
			g_strlcpy(schedule_tag, old.schedule_tag, sizeof(schedule_tag));
		else
			new_schedule_tag(schedule_tag);
	}
	pim_object_clear(&old);
	int r = exists < 0 ? -1 : uid_taken(s, folder_id, idx.uid, name, err);
	if (r == 0)
		r = write_row(s, &cal, name, text, len, &idx, etag, schedule_tag, exists > 0, err);
	if (r == 0)
		r = change_record(s, folder_id, name, as_user, false, NULL, err);
	pim_ical_index_clear(&idx);
	return r == 0 ? 0 : -1;
}

int pim_object_remove_as(struct store *s, int64_t folder_id, int64_t as_user, const char *name,
                         struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "DELETE FROM calendar_objects WHERE folder_id = $1 AND name = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, name);
	int r = store_run(st, err);
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	return change_record(s, folder_id, name, as_user, true, NULL, err);
}

struct change_entry {
	char *name;
	bool deleted;
};

static int collect_change(const char *object, int64_t modseq, bool deleted, void *ctx)
{
	struct change_entry e = {g_strdup(object), deleted};
	g_array_append_val(ctx, e);
	return 0;
}

static void change_entry_clear(gpointer p)
{
	g_free(((struct change_entry *)p)->name);
}

/* One change: the object when it is there and readable, else removed. */
static int emit_change(struct store *s, int64_t actor, const struct pim_calendar *cal, int scope,
                       const struct change_entry *e, bool initial, pim_change_fn *fn, void *ctx,
                       struct ox_error *err)
{
	struct pim_object obj = {0};
	int found = e->deleted ? 0 : load(s, cal->folder_id, e->name, &obj, err);
	if (found < 0)
		return -1;
	if (found > 0 && !readable(s, actor, cal->folder_id, scope, e->name)) {
		pim_object_clear(&obj);
		found = 0;
	}
	int r = 0;
	if (found > 0 || !initial)
		r = fn(e->name, found > 0 ? &obj : NULL, ctx);
	pim_object_clear(&obj);
	return r < 0 ? ox_error_set(err, OX_ERR_INTERNAL, "change listing stopped") : 0;
}

int pim_object_changes(struct store *s, int64_t actor, const struct pim_calendar *cal,
                       int64_t since, pim_change_fn *fn, void *ctx, int64_t *current_r,
                       struct ox_error *err)
{
	int scope = read_scope(s, actor, cal->folder_id, err);
	if (scope < 0)
		return -1;
	/* Collected first: fn and the checks use the store. */
	GArray *changes = g_array_new(FALSE, TRUE, sizeof(struct change_entry));
	g_array_set_clear_func(changes, change_entry_clear);
	int r = changes_since(s, cal->folder_id, since, collect_change, changes, current_r, err);
	for (guint i = 0; r == 0 && i < changes->len; i++)
		r = emit_change(s, actor, cal, scope,
		                &g_array_index(changes, struct change_entry, i), since == 0, fn,
		                ctx, err);
	g_array_free(changes, TRUE);
	return r;
}

static void prop_filter_clear(struct pim_prop_filter *p)
{
	g_free(p->name);
	if (p->match != NULL)
		g_free(p->match->text);
	g_free(p->match);
	for (size_t i = 0; i < p->nparams; i++) {
		g_free(p->params[i].name);
		if (p->params[i].match != NULL)
			g_free(p->params[i].match->text);
		g_free(p->params[i].match);
	}
	g_free(p->params);
}

static void comp_filter_clear(struct pim_comp_filter *f)
{
	g_free(f->name);
	for (size_t i = 0; i < f->nprops; i++)
		prop_filter_clear(&f->props[i]);
	g_free(f->props);
	for (size_t i = 0; i < f->ncomps; i++)
		comp_filter_clear(&f->comps[i]);
	g_free(f->comps);
}

void pim_comp_filter_free(struct pim_comp_filter **filter)
{
	if (*filter == NULL)
		return;
	comp_filter_clear(*filter);
	g_free(*filter);
	*filter = NULL;
}

/* --- COPY and MOVE --- */

/* Who holds a UID in a calendar: 1 with *name_r, 0, -1. */
static int uid_holder(struct store *s, int64_t folder_id, const char *uid, char **name_r,
                      struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT name FROM calendar_objects WHERE folder_id = $1 AND uid = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, uid);
	int r = store_step(st, err);
	if (r > 0)
		*name_r = g_strdup(store_col_text(st, 0));
	store_stmt_done(&st);
	return r;
}

/* Everything that needs no write: the rights, the names, the source's
 * text and index, what the destination takes. */
static int transfer_checks(struct store *s, int64_t actor, const struct pim_calendar *src_cal,
                           const struct pim_object *src, const struct pim_calendar *dst_cal,
                           const char *dst_name, bool move, char **text_r,
                           struct pim_ical_index *idx, enum pim_reject *reject_r,
                           struct ox_error *err)
{
	size_t nlen = dst_name != NULL ? strlen(dst_name) : 0, len = 0;
	if (nlen == 0 || nlen > PIM_NAME_MAX || strchr(dst_name, '/') != NULL)
		return ox_error_set(err, OX_ERR_INVALID, "an object name is 1 to %d bytes",
		                    PIM_NAME_MAX);
	/* RFC 6638 2.2: only the server delivers into a schedule inbox, and
	 * its messages are no calendar's objects. */
	if (src_cal->inbox || dst_cal->inbox)
		return ox_error_set(err, OX_ERR_PERM, "the schedule inbox takes no COPY or MOVE");
	if (folder_check(s, actor, dst_cal->folder_id, FOLDER_CREATE_OBJECT, 0, err) < 0 ||
	    pim_object_read(s, actor, src_cal, src, text_r, &len, err) < 0)
		return -1;
	int64_t creator = 0;
	if (move &&
	    (change_object_creator(s, src_cal->folder_id, src->name, &creator, err) < 0 ||
	     folder_check(s, actor, src_cal->folder_id, FOLDER_DELETE_OBJECT, creator, err) < 0))
		return -1;
	if (pim_ical_index(*text_r, len, idx, reject_r, err) < 0)
		return -1;
	if ((idx->component & dst_cal->components) == 0) {
		*reject_r = PIM_REJECT_COMPONENT;
		return ox_error_set(err, OX_ERR_INVALID,
		                    "this calendar does not take %s components",
		                    idx->component == PIM_COMP_VTODO ? "VTODO" : "VEVENT");
	}
	if (pim_schedule_candidate(*text_r) && (!move || src_cal->owner_id != dst_cal->owner_id)) {
		*reject_r = PIM_REJECT_SCHEDULING;
		return ox_error_set(err, OX_ERR_PERM,
		                    "a scheduling object (with an ORGANIZER) is not copied, and "
		                    "moves only between calendars of its owner");
	}
	return 0;
}

static int remove_source(struct store *s, int64_t actor, const struct pim_calendar *cal,
                         const char *name, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "DELETE FROM calendar_objects WHERE folder_id = $1 AND name = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, cal->folder_id);
	store_bind_text(st, 2, name);
	int r = store_run(st, err);
	store_stmt_done(&st);
	return r < 0 ? -1 : change_record(s, cal->folder_id, name, actor, true, NULL, err);
}

static int transfer_txn(struct store *s, int64_t actor, const struct pim_calendar *src_cal,
                        const struct pim_object *src, const struct pim_calendar *dst_cal,
                        const char *dst_name, bool move, const char *text,
                        const struct pim_ical_index *idx, enum pim_reject *reject_r,
                        char **conflict_r, struct ox_error *err)
{
	/* The source goes first: an object moved to another name of its own
	 * calendar keeps its UID. */
	if (move && remove_source(s, actor, src_cal, src->name, err) < 0)
		return -1;
	char *holder = NULL;
	int taken = uid_holder(s, dst_cal->folder_id, idx->uid, &holder, err);
	if (taken > 0) {
		*reject_r = PIM_REJECT_UID;
		ox_error_set(err, OX_ERR_CONFLICT, "UID %.100s is used by another object there",
		             idx->uid);
		/* Named only to whoever may read it. */
		struct ox_error ignored;
		int scope = read_scope(s, actor, dst_cal->folder_id, &ignored);
		if (conflict_r != NULL && scope >= 0 &&
		    readable(s, actor, dst_cal->folder_id, scope, holder))
			*conflict_r = g_strdup(holder);
		g_free(holder);
		return -1;
	}
	if (taken < 0)
		return -1;
	size_t len = strlen(text);
	char *hash = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, len);
	char etag[PIM_ETAG_MAX];
	g_snprintf(etag, sizeof(etag), "\"%.32s\"", hash);
	g_free(hash);
	/* A move keeps the resource's Schedule-Tag; a copy is a new resource
	 * (and never one of scheduling). */
	if (write_row(s, dst_cal, dst_name, text, len, idx, etag, move ? src->schedule_tag : NULL,
	              false, err) < 0)
		return -1;
	return change_record(s, dst_cal->folder_id, dst_name, actor, false, NULL, err);
}

int pim_object_transfer(struct store *s, int64_t actor, const struct pim_calendar *src_cal,
                        const struct pim_object *src, const struct pim_calendar *dst_cal,
                        const char *dst_name, bool move, enum pim_reject *reject_r,
                        char **conflict_r, struct ox_error *err)
{
	*reject_r = PIM_REJECT_NONE;
	if (conflict_r != NULL)
		*conflict_r = NULL;
	char *text = NULL;
	struct pim_ical_index idx = {0};
	int r = transfer_checks(s, actor, src_cal, src, dst_cal, dst_name, move, &text, &idx,
	                        reject_r, err);
	bool own = r == 0 && !store_in_transaction(s);
	if (own)
		r = store_begin(s, err);
	if (r == 0)
		r = transfer_txn(s, actor, src_cal, src, dst_cal, dst_name, move, text, &idx,
		                 reject_r, conflict_r, err);
	if (own && r == 0)
		r = store_commit(s, err);
	else if (own)
		store_rollback(s);
	pim_ical_index_clear(&idx);
	g_free(text);
	return r < 0 ? -1 : 0;
}
