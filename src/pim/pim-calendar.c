/* Calendars: calendar and task folders with what CalDAV adds to them (the
 * segment a client chose, a display name, the components taken), kept in
 * the `calendars` table; default folders have no row there. */
#include "core/error.h"
#include "directory/directory.h"
#include "pim/pim-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

void pim_calendar_clear(struct pim_calendar *cal)
{
	g_free(cal->segment);
	g_free(cal->display_name);
	memset(cal, 0, sizeof(*cal));
}

static bool segment_valid(const char *seg)
{
	size_t len = strlen(seg);
	if (len == 0 || len > PIM_NAME_MAX || strspn(seg, "0123456789") == len || seg[0] == '.')
		return false;
	/* The scheduling collections' names in every home (RFC 6638 2). */
	if (strcmp(seg, "inbox") == 0 || strcmp(seg, "outbox") == 0)
		return false;
	for (const char *p = seg; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("-_.@", *p) == NULL)
			return false;
	}
	return true;
}

static bool is_calendar_module(enum folder_module m)
{
	return m == FOLDER_CALENDAR || m == FOLDER_TASKS;
}

/* The row of `calendars` for a folder, when it has one: 1, 0, -1. */
static int load_row(struct store *s, int64_t folder_id, struct pim_calendar *cal,
                    struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT segment, display_name, components FROM calendars WHERE folder_id = $1",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	if (r > 0) {
		cal->segment = g_strdup(store_col_text(st, 0));
		cal->display_name = g_strdup(store_col_text(st, 1));
		cal->components = (unsigned)store_col_int(st, 2);
	}
	store_stmt_done(&st);
	return r;
}

static int noop_change(const char *object, int64_t modseq, bool deleted, void *ctx)
{
	return 0;
}

/* Describes a calendar folder as seen in owner's home. */
static int describe(struct store *s, int64_t owner, const struct folder_info *f,
                    struct pim_calendar *cal, struct ox_error *err)
{
	memset(cal, 0, sizeof(*cal));
	cal->folder_id = f->id;
	cal->owner_id = f->owner_id;
	cal->shared = f->owner_id != owner;
	cal->rights = f->rights;
	if (load_row(s, f->id, cal, err) < 0)
		return -1;
	if (cal->shared) {
		g_free(cal->segment);
		cal->segment = g_strdup_printf("%" G_GINT64_FORMAT, f->id);
	} else if (cal->segment == NULL) {
		cal->segment = f->role != NULL ? g_strdup(f->role)
		                               : g_strdup_printf("%" G_GINT64_FORMAT, f->id);
	}
	if (cal->display_name == NULL)
		cal->display_name = g_strdup(f->name);
	if (cal->components == 0)
		cal->components = f->module == FOLDER_TASKS ? PIM_COMP_VTODO : PIM_COMP_VEVENT;
	/* The newest change to its objects or to the folder: a client's
	 * cue to sync again. */
	return changes_since(s, f->id, INT64_MAX, noop_change, NULL, &cal->modseq, err);
}

/* Whether owner's home, as actor sees it, holds the folder: owner's
 * calendars, and in one's own home also those shared with one; never the
 * scheduling inbox, which has a collection of its own. */
static bool listed(const struct folder_info *f, int64_t actor, int64_t owner)
{
	return is_calendar_module(f->module) &&
	       (f->role == NULL || strcmp(f->role, "schedule-inbox") != 0) &&
	       (f->owner_id == owner || (actor == owner && f->owner_id != actor));
}

int pim_calendar_list(struct store *s, int64_t actor, int64_t owner, pim_calendar_fn *fn, void *ctx,
                      struct ox_error *err)
{
	struct folder_info **list = NULL;
	if (folder_list(s, actor, 0, &list, err) < 0)
		return -1;
	int ret = 0;
	for (struct folder_info **f = list; ret == 0 && *f != NULL; f++) {
		if (!listed(*f, actor, owner))
			continue;
		struct pim_calendar cal;
		ret = describe(s, owner, *f, &cal, err);
		if (ret == 0 && fn(&cal, ctx) < 0)
			ret = ox_error_set(err, OX_ERR_INTERNAL, "calendar listing stopped");
		pim_calendar_clear(&cal);
	}
	folder_list_free(&list);
	return ret;
}

struct find_ctx {
	const char *segment;
	struct pim_calendar *cal;
	bool found;
};

static int find_one(const struct pim_calendar *cal, void *ctx)
{
	struct find_ctx *c = ctx;
	if (c->found || strcmp(cal->segment, c->segment) != 0)
		return 0;
	*c->cal = *cal;
	c->cal->segment = g_strdup(cal->segment);
	c->cal->display_name = g_strdup(cal->display_name);
	c->found = true;
	return 0;
}

int pim_calendar_find(struct store *s, int64_t actor, int64_t owner, const char *segment,
                      struct pim_calendar *cal_r, struct ox_error *err)
{
	memset(cal_r, 0, sizeof(*cal_r));
	if (actor == FOLDER_SYSTEM_ACTOR) {
		/* The system sees what a listing of its (public) folders shows. */
		struct find_ctx c = {segment, cal_r, false};
		if (pim_calendar_list(s, actor, owner, find_one, &c, err) < 0) {
			pim_calendar_clear(cal_r);
			return -1;
		}
		return c.found ? 1 : 0;
	}
	/* Every request names its calendar: one candidate folder, checked as
	 * pim_calendar_list() would list it, instead of the whole listing. */
	int64_t id = 0;
	int r = pim_segment_folder(s, PIM_SEGMENT_CALENDARS, owner, segment, &id, err);
	if (r <= 0)
		return r;
	struct folder_info f;
	r = folder_get(s, actor, id, &f, err);
	if (r <= 0)
		return r;
	if (listed(&f, actor, owner)) {
		r = describe(s, owner, &f, cal_r, err) < 0 ? -1 : 1;
		if (r > 0 && strcmp(cal_r->segment, segment) != 0)
			r = 0;
	} else {
		r = 0;
	}
	if (r <= 0)
		pim_calendar_clear(cal_r);
	folder_info_clear(&f);
	return r;
}

/* A top-level folder name for a new calendar: the display name, or with a
 * number when a sibling has it already. */
static int create_folder(struct store *s, int64_t actor, int64_t context_id,
                         enum folder_module module, const char *name, const char *segment,
                         int64_t *id_r, struct ox_error *err)
{
	for (int i = 1; i <= 10; i++) {
		char *try = i == 1    ? g_strdup(name)
		            : i == 10 ? g_strdup(segment)
		                      : g_strdup_printf("%.240s (%d)", name, i);
		int r = folder_create(s, actor, context_id, 0, false, module, try, id_r, err);
		g_free(try);
		if (r == 0 || err->code != OX_ERR_EXISTS)
			return r;
	}
	return -1;
}

/* Stores (or replaces) the text of a calendar's time zone, which the
 * caller has validated; NULL removes it. Joins the caller's transaction. */
static int store_zone(struct store *s, int64_t folder_id, const char *text, size_t len,
                      struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "DELETE FROM calendar_timezones WHERE folder_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_run(st, err);
	store_stmt_done(&st);
	if (r < 0 || text == NULL)
		return r;
	st = store_prepare(
		s, "INSERT INTO calendar_timezones (folder_id, vtimezone) VALUES ($1, $2)", err);
	if (st == NULL)
		return -1;
	char *copy = g_strndup(text, len);
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, copy);
	r = store_run(st, err);
	store_stmt_done(&st);
	g_free(copy);
	return r;
}

/* A time zone text the caller gave, checked before anything is written. */
static int zone_valid(const char *text, size_t len, struct ox_error *err)
{
	struct pim_zone *zone = NULL;
	int r = pim_zone_parse(text, len, &zone, err);
	pim_zone_free(&zone);
	return r;
}

int pim_calendar_create(struct store *s, int64_t actor, const char *segment,
                        const char *display_name, unsigned components, struct pim_calendar *cal_r,
                        struct ox_error *err)
{
	struct pim_calendar_spec spec = {segment, display_name, components, NULL, 0};
	return pim_calendar_make(s, actor, &spec, cal_r, err);
}

int pim_calendar_make(struct store *s, int64_t actor, const struct pim_calendar_spec *spec,
                      struct pim_calendar *cal_r, struct ox_error *err)
{
	const char *segment = spec->segment, *display_name = spec->display_name;
	unsigned components = spec->components;
	memset(cal_r, 0, sizeof(*cal_r));
	if (spec->zone != NULL && zone_valid(spec->zone, spec->zone_len, err) < 0)
		return -1;
	if (!segment_valid(segment))
		return ox_error_set(err, OX_ERR_INVALID,
		                    "a calendar name is 1 to %d letters, digits, '-', '_', '.' or "
		                    "'@', not only digits",
		                    PIM_NAME_MAX);
	if (components == 0)
		components = PIM_COMP_ALL;
	if ((components & ~(unsigned)PIM_COMP_ALL) != 0)
		return ox_error_set(err, OX_ERR_INVALID, "unsupported calendar components");
	const char *name = display_name != NULL && *display_name != '\0' ? display_name : segment;
	int found = pim_calendar_find(s, actor, actor, segment, cal_r, err);
	pim_calendar_clear(cal_r);
	if (found != 0)
		return found < 0 ? -1 : ox_error_set(err, OX_ERR_EXISTS, "the calendar exists");
	struct user_info user;
	int r = user_lookup_id(s, actor, &user, err);
	if (r <= 0)
		return r < 0 ? -1 : ox_error_set(err, OX_ERR_PERM, "only users have calendars");
	int64_t context_id = user.context_id;
	user_info_clear(&user);
	if (store_begin(s, err) < 0)
		return -1;
	enum folder_module module = components == PIM_COMP_VTODO ? FOLDER_TASKS : FOLDER_CALENDAR;
	int64_t id = 0;
	bool ok = create_folder(s, actor, context_id, module, name, segment, &id, err) == 0;
	struct store_stmt *st =
		ok ? store_prepare(s,
	                           "INSERT INTO calendars (folder_id, owner_id, segment, "
	                           "display_name, components) VALUES ($1, $2, $3, $4, $5)",
	                           err)
		   : NULL;
	if (st != NULL) {
		store_bind_int(st, 1, id);
		store_bind_int(st, 2, actor);
		store_bind_text(st, 3, segment);
		store_bind_text(st, 4, name);
		store_bind_int(st, 5, components);
		ok = store_run(st, err) == 0;
		store_stmt_done(&st);
	} else {
		ok = false;
	}
	if (ok && spec->zone != NULL)
		ok = store_zone(s, id, spec->zone, spec->zone_len, err) == 0;
	if (!ok || store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	return pim_calendar_find(s, actor, actor, segment, cal_r, err) > 0 ? 0 : -1;
}

static bool display_name_valid(const char *name)
{
	size_t len = strlen(name);
	return len > 0 && len <= PIM_NAME_MAX && g_utf8_validate(name, (gssize)len, NULL);
}

/* The display name, inside the caller's transaction. */
static int rename_calendar(struct store *s, int64_t actor, int64_t folder_id,
                           const char *display_name, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "UPDATE calendars SET display_name = $2 WHERE folder_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	store_bind_text(st, 2, display_name);
	int r = store_run(st, err);
	bool row = r == 0 && store_changes(st) > 0;
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	/* A default folder has no row: its folder name is its display name. */
	return row ? 0 : folder_rename(s, actor, folder_id, display_name, err);
}

int pim_calendar_rename(struct store *s, int64_t actor, struct pim_calendar *cal,
                        const char *display_name, struct ox_error *err)
{
	struct pim_calendar_change change = {.display_name =
	                                             display_name != NULL ? display_name : ""};
	return pim_calendar_change(s, actor, cal, &change, err);
}

int pim_calendar_change(struct store *s, int64_t actor, struct pim_calendar *cal,
                        const struct pim_calendar_change *change, struct ox_error *err)
{
	const char *name = change->display_name;
	if (name != NULL && !display_name_valid(name))
		return ox_error_set(err, OX_ERR_INVALID, "a display name is 1 to %d bytes of UTF-8",
		                    PIM_NAME_MAX);
	if (change->change_zone && change->zone != NULL &&
	    zone_valid(change->zone, change->zone_len, err) < 0)
		return -1;
	if (folder_check(s, actor, cal->folder_id, FOLDER_ADMIN, 0, err) < 0 ||
	    store_begin(s, err) < 0)
		return -1;
	bool ok = name == NULL || rename_calendar(s, actor, cal->folder_id, name, err) == 0;
	if (ok && change->change_zone)
		ok = store_zone(s, cal->folder_id, change->zone, change->zone_len, err) == 0;
	if (!ok || store_commit(s, err) < 0) {
		store_rollback(s);
		return -1;
	}
	if (name != NULL) {
		g_free(cal->display_name);
		cal->display_name = g_strdup(name);
	}
	return 0;
}

int pim_calendar_delete(struct store *s, int64_t actor, const struct pim_calendar *cal,
                        struct ox_error *err)
{
	return folder_delete(s, actor, cal->folder_id, err);
}

/* The text set on a folder: 1 with *text_r, 0 when none, -1. */
static int load_zone_text(struct store *s, int64_t folder_id, char **text_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT vtimezone FROM calendar_timezones WHERE folder_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	if (r > 0)
		*text_r = g_strdup(store_col_text(st, 0));
	store_stmt_done(&st);
	return r;
}

/* The owner's time zone in the directory (RFC 4791 5.2.2 leaves the
 * default to the server: a user's calendars read floating times where
 * the user lives), UTC for public folders. */
static int owner_zone(struct store *s, int64_t folder_id, struct pim_zone **zone_r,
                      struct ox_error *err)
{
	struct store_stmt *st = store_prepare(s, "SELECT owner_id FROM folders WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, folder_id);
	int r = store_step(st, err);
	int64_t owner = r > 0 ? store_col_int(st, 0) : 0;
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	struct user_info user = {0};
	r = owner != 0 ? user_lookup_id(s, owner, &user, err) : 0;
	if (r < 0)
		return -1;
	*zone_r = pim_zone_named(r > 0 ? user.time_zone : NULL);
	user_info_clear(&user);
	return 0;
}

int pim_folder_zone(struct store *s, int64_t folder_id, struct pim_zone **zone_r, bool *is_set_r,
                    struct ox_error *err)
{
	*zone_r = NULL;
	char *text = NULL;
	int r = load_zone_text(s, folder_id, &text, err);
	if (r < 0)
		return -1;
	struct ox_error ignored;
	/* A stored text was valid when it was set; should libical ever read
	 * it differently, the owner's zone serves rather than no answer. */
	bool set = r > 0 && pim_zone_parse(text, strlen(text), zone_r, &ignored) == 0;
	g_free(text);
	if (is_set_r != NULL)
		*is_set_r = set;
	return set ? 0 : owner_zone(s, folder_id, zone_r, err);
}

int pim_calendar_zone(struct store *s, int64_t actor, const struct pim_calendar *cal,
                      struct pim_zone **zone_r, bool *is_set_r, struct ox_error *err)
{
	*zone_r = NULL;
	if (folder_check(s, actor, cal->folder_id, FOLDER_SEE, 0, err) < 0)
		return -1;
	return pim_folder_zone(s, cal->folder_id, zone_r, is_set_r, err);
}
