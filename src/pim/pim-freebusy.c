/* What a calendar says as a whole: its busy time (RFC 4791 7.10), for
 * anyone who may see the calendar, and all of it as one iCalendar stream
 * (GET on a calendar), for those who may read its objects. */
#include "core/error.h"
#include "pim/pim-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

#define PIM_EXPORT_ZONES_MAX 1000
#define PRODID "PRODID:-//Open-Xchange//OX Server//EN\r\n"

struct period {
	int64_t start, end;
	bool tentative;
};

static int add_period(int64_t start, int64_t end, bool tentative, void *ctx)
{
	GArray *periods = ctx;
	if (periods->len >= PIM_BUSY_MAX)
		return -1;
	struct period p = {start, end, tentative};
	g_array_append_val(periods, p);
	return 0;
}

static gint by_kind_then_start(gconstpointer a, gconstpointer b)
{
	const struct period *x = a, *y = b;
	if (x->tentative != y->tentative)
		return x->tentative ? 1 : -1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The texts of the calendar's events that may be busy in [start, end). */
static GPtrArray *candidates(struct store *s, int64_t folder_id, const char *skip_uid,
                             int64_t start, int64_t end, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"SELECT data FROM calendar_objects WHERE folder_id = $1 AND (component & $2) <> 0 "
		"AND (first_start IS NULL OR first_start < $4) AND (last_end IS NULL OR "
		"last_end >= $3) AND uid <> $5",
		err);
	if (st == NULL)
		return NULL;
	store_bind_int(st, 1, folder_id);
	store_bind_int(st, 2, PIM_COMP_VEVENT);
	/* The index reads floating times as UTC; a calendar's zone moves them
	 * by less than PIM_FLOATING_SLACK. */
	store_bind_int(st, 3, pim_widen_down(start));
	store_bind_int(st, 4, pim_widen_up(end));
	store_bind_text(st, 5, skip_uid != NULL ? skip_uid : "");
	GPtrArray *texts = g_ptr_array_new_with_free_func(g_free);
	int r;
	while ((r = store_step(st, err)) > 0)
		g_ptr_array_add(texts, g_strdup(store_col_text(st, 0)));
	store_stmt_done(&st);
	if (r < 0) {
		g_ptr_array_unref(texts);
		return NULL;
	}
	return texts;
}

/* Merges overlapping periods of one kind and hands them to fn. */
static int emit_merged(GArray *periods, pim_busy_fn *fn, void *ctx, struct ox_error *err)
{
	g_array_sort(periods, by_kind_then_start);
	for (guint i = 0; i < periods->len;) {
		struct period cur = g_array_index(periods, struct period, i);
		for (i++; i < periods->len; i++) {
			const struct period *next = &g_array_index(periods, struct period, i);
			if (next->tentative != cur.tentative || next->start > cur.end)
				break;
			cur.end = MAX(cur.end, next->end);
		}
		if (fn(cur.start, cur.end, cur.tentative, ctx) < 0)
			return ox_error_set(err, OX_ERR_INTERNAL, "busy listing stopped");
	}
	return 0;
}

int pim_busy_folders(struct store *s, const int64_t *folder_ids, size_t n, const char *skip_uid,
                     int64_t start, int64_t end, pim_busy_fn *fn, void *ctx, struct ox_error *err)
{
	if (start >= end)
		return ox_error_set(err, OX_ERR_INVALID, "the range must start before it ends");
	GArray *periods = g_array_new(FALSE, FALSE, sizeof(struct period));
	int r = 0;
	for (size_t f = 0; r == 0 && f < n; f++) {
		/* Each calendar reads floating times in its own zone. */
		struct pim_zone *zone = NULL;
		GPtrArray *texts =
			pim_folder_zone(s, folder_ids[f], &zone, NULL, err) < 0
				? NULL
				: candidates(s, folder_ids[f], skip_uid, start, end, err);
		if (texts == NULL) {
			pim_zone_free(&zone);
			r = -1;
			break;
		}
		for (guint i = 0; r == 0 && i < texts->len; i++) {
			if (pim_ical_busy_in(g_ptr_array_index(texts, i), zone, start, end,
			                     add_period, periods) < 0)
				r = ox_error_set(err, OX_ERR_LIMIT, "more than %d busy periods",
				                 PIM_BUSY_MAX);
		}
		g_ptr_array_unref(texts);
		pim_zone_free(&zone);
	}
	if (r == 0)
		r = emit_merged(periods, fn, ctx, err);
	g_array_free(periods, TRUE);
	return r;
}

int pim_calendar_busy(struct store *s, int64_t actor, const struct pim_calendar *cal, int64_t start,
                      int64_t end, pim_busy_fn *fn, void *ctx, struct ox_error *err)
{
	/* Free/busy reveals times, not contents: seeing the calendar is enough. */
	if (folder_check(s, actor, cal->folder_id, FOLDER_SEE, 0, err) < 0)
		return -1;
	return pim_busy_folders(s, &cal->folder_id, 1, NULL, start, end, fn, ctx, err);
}

/* --- export --- */

struct export
{
	GHashTable *seen; /* TZIDs already taken */
	GPtrArray *zones; /* their texts, in the order first seen */
	pim_write_fn *fn;
	void *ctx;
};

static int take_zone(const char *tzid, const char *text, void *ctx)
{
	struct export *x = ctx;
	if (g_hash_table_contains(x->seen, tzid) || x->zones->len >= PIM_EXPORT_ZONES_MAX)
		return 0;
	g_hash_table_add(x->seen, g_strdup(tzid));
	g_ptr_array_add(x->zones, g_strdup(text));
	return 0;
}

static int zones_of(const struct pim_object *obj, const char *data, void *ctx)
{
	/* Most objects have no zone: skip parsing those. */
	if (strstr(data, "BEGIN:VTIMEZONE") == NULL)
		return 0;
	return pim_ical_parts(data, true, take_zone, ctx);
}

static int write_part(const char *tzid, const char *text, void *ctx)
{
	struct export *x = ctx;
	return x->fn(text, strlen(text), x->ctx);
}

static int components_of(const struct pim_object *obj, const char *data, void *ctx)
{
	return pim_ical_parts(data, false, write_part, ctx);
}

static int write_text(struct export *x, const char *text)
{
	return x->fn(text, strlen(text), x->ctx);
}

int pim_calendar_export(struct store *s, int64_t actor, const struct pim_calendar *cal,
                        pim_write_fn *fn, void *ctx, struct ox_error *err)
{
	struct export x = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
	                   g_ptr_array_new_with_free_func(g_free), fn, ctx};
	/* Zones first, so that readers meet each TZID's definition before its
	 * use: one pass to gather them, one to stream the rest. */
	int r = pim_object_list(s, actor, cal, zones_of, &x, err);
	if (r == 0 && write_text(&x, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" PRODID) < 0)
		r = ox_error_set(err, OX_ERR_TEMP, "the export stopped");
	for (guint i = 0; r == 0 && i < x.zones->len; i++) {
		if (write_text(&x, g_ptr_array_index(x.zones, i)) < 0)
			r = ox_error_set(err, OX_ERR_TEMP, "the export stopped");
	}
	if (r == 0)
		r = pim_object_list(s, actor, cal, components_of, &x, err);
	if (r == 0 && write_text(&x, "END:VCALENDAR\r\n") < 0)
		r = ox_error_set(err, OX_ERR_TEMP, "the export stopped");
	g_hash_table_unref(x.seen);
	g_ptr_array_unref(x.zones);
	return r;
}
