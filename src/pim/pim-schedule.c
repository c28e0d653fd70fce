/* Implicit scheduling inside the server (RFC 6638 3.2): what a change to
 * a scheduling object in a user's calendar does to the calendars and
 * schedule inboxes of the other calendar users it names. Everything runs
 * in the transaction of the change that caused it, so a failure leaves
 * nobody's calendar half-updated.
 *
 * The calendar user is the calendar's owner, whoever wrote the object (a
 * delegate with write rights acts for the owner). Copies made for others
 * are written as their owner; writing them schedules nothing again. */
#include "core/error.h"
#include "core/log.h"
#include "directory/directory.h"
#include "pim/pim-itip.h"
#include "pim/pim-private.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

#define INBOX_ROLE "schedule-inbox"
#define INBOX_NAME "Scheduling Inbox"
#define INBOX_SEGMENT "inbox"
/* How far ahead a resource looks for conflicts of an open-ended series. */
#define BOOKING_HORIZON (366 * 24 * 3600)

static pim_imip_hook *imip_hook;

void pim_schedule_set_imip_hook(pim_imip_hook *hook)
{
	imip_hook = hook;
}

bool pim_schedule_candidate(const char *text)
{
	/* Property names are case-insensitive (RFC 5545 3.1). */
	for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++) {
		if (g_ascii_strncasecmp(p + 1, "ORGANIZER", 9) == 0 &&
		    (p[10] == ';' || p[10] == ':'))
			return true;
	}
	return false;
}

/* --- calendar users --- */

/* A calendar user of the server, as an address resolves. */
struct cal_user {
	int64_t id; /* 0: not of this server (external) */
	int64_t context_id;
	enum principal_kind kind;
	char *address;
};

static int principal_context(struct store *s, int64_t id, int64_t *context_r, bool *enabled_r,
                             struct ox_error *err)
{
	struct store_stmt *st =
		store_prepare(s, "SELECT context_id, enabled FROM principals WHERE id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, id);
	int r = store_step(st, err);
	if (r > 0) {
		*context_r = store_col_int(st, 0);
		*enabled_r = store_col_int(st, 1) != 0;
	}
	store_stmt_done(&st);
	return r;
}

/* Resolves an address within a context: users and resources of other
 * contexts are external to it, as they are to each other's mail. */
static int resolve(struct store *s, int64_t context_id, const char *address, struct cal_user *u,
                   struct ox_error *err)
{
	memset(u, 0, sizeof(*u));
	u->address = g_strdup(address);
	int64_t id = 0;
	enum principal_kind kind;
	int r = principal_by_address(s, address, &id, &kind, err);
	if (r <= 0)
		return r;
	int64_t ctx = 0;
	bool enabled = false;
	r = principal_context(s, id, &ctx, &enabled, err);
	if (r < 0)
		return -1;
	if (r > 0 && ctx == context_id && enabled) {
		u->id = id;
		u->context_id = ctx;
		u->kind = kind;
	}
	return 0;
}

static void cal_user_clear(struct cal_user *u)
{
	g_free(u->address);
	memset(u, 0, sizeof(*u));
}

/* --- inboxes and copies --- */

static int inbox_folder(struct store *s, int64_t owner, int64_t *id_r, struct ox_error *err)
{
	return folder_by_role_or_create(s, owner, FOLDER_CALENDAR, INBOX_ROLE, INBOX_NAME, id_r,
	                                err);
}

int pim_schedule_inbox(struct store *s, int64_t actor, int64_t owner, struct pim_calendar *cal_r,
                       struct ox_error *err)
{
	memset(cal_r, 0, sizeof(*cal_r));
	if (actor != owner && actor != FOLDER_SYSTEM_ACTOR)
		return 0;
	struct user_info user;
	int r = user_lookup_id(s, owner, &user, err);
	if (r <= 0)
		return r;
	user_info_clear(&user);
	int64_t id;
	if (inbox_folder(s, owner, &id, err) < 0)
		return -1;
	cal_r->folder_id = id;
	cal_r->owner_id = owner;
	cal_r->segment = g_strdup(INBOX_SEGMENT);
	cal_r->display_name = g_strdup(INBOX_NAME);
	cal_r->components = PIM_COMP_ALL;
	cal_r->inbox = true;
	cal_r->rights = (struct folder_perm){PERM_FOLDER_ALL, PERM_OBJECTS_ADMIN,
	                                     PERM_OBJECTS_ADMIN, PERM_OBJECTS_ADMIN, true};
	return 1;
}

/* A copy of the object `uid` in one of the owner's calendars (never the
 * inbox): 1 with its folder, name and text, 0, -1. */
static int find_copy(struct store *s, int64_t owner, const char *uid, int64_t *folder_r,
                     char **name_r, char **text_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s,
		"SELECT o.folder_id, o.name, o.data FROM calendar_objects o "
		"JOIN folders f ON f.id = o.folder_id WHERE o.uid = $1 AND f.owner_id = $2 AND "
		"(f.role IS NULL OR f.role <> '" INBOX_ROLE "') ORDER BY o.id LIMIT 1",
		err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, uid);
	store_bind_int(st, 2, owner);
	int r = store_step(st, err);
	if (r > 0) {
		*folder_r = store_col_int(st, 0);
		*name_r = g_strdup(store_col_text(st, 1));
		*text_r = g_strdup(store_col_text(st, 2));
	}
	store_stmt_done(&st);
	return r;
}

/* The inbox message about `uid`, if one is there: 1 with its name, 0, -1. */
static int find_message(struct store *s, int64_t inbox, const char *uid, char **name_r,
                        struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT name FROM calendar_objects WHERE folder_id = $1 AND uid = $2", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, inbox);
	store_bind_text(st, 2, uid);
	int r = store_step(st, err);
	if (r > 0)
		*name_r = g_strdup(store_col_text(st, 0));
	store_stmt_done(&st);
	return r;
}

static char *random_name(void)
{
	char *random = g_uuid_string_random();
	char *name = g_strconcat(random, ".ics", NULL);
	g_free(random);
	return name;
}

/* A resource name for a new copy in `folder`: the UID when it is a plain
 * one and free, so a client that stores its answer under UID.ics (as
 * many do) replaces the copy instead of clashing with it. NULL on a
 * store error. */
static char *copy_name(struct store *s, int64_t folder, const char *uid, struct ox_error *err)
{
	size_t len = strlen(uid);
	bool plain = len > 0 && len <= 200 && uid[0] != '.';
	for (const char *p = uid; plain && *p != '\0'; p++)
		plain = g_ascii_isalnum(*p) || strchr("-_.@", *p) != NULL;
	if (!plain)
		return random_name();
	char *name = g_strconcat(uid, ".ics", NULL);
	struct store_stmt *st = store_prepare(
		s, "SELECT 1 FROM calendar_objects WHERE folder_id = $1 AND name = $2", err);
	int r = -1;
	if (st != NULL) {
		store_bind_int(st, 1, folder);
		store_bind_text(st, 2, name);
		r = store_step(st, err);
		store_stmt_done(&st);
	}
	if (r != 0) {
		g_free(name);
		name = r > 0 ? random_name() : NULL;
	}
	return name;
}

/* Puts an iTIP message into the user's inbox; the newest message about
 * an object replaces the older one (one object per UID per collection). */
static int deliver_message(struct store *s, int64_t user, const char *uid, const char *message,
                           struct ox_error *err)
{
	int64_t inbox;
	if (inbox_folder(s, user, &inbox, err) < 0)
		return -1;
	char *name = NULL;
	int r = find_message(s, inbox, uid, &name, err);
	if (r < 0)
		return -1;
	if (r == 0)
		name = random_name();
	r = pim_object_write_as(s, inbox, user, name, message, err);
	g_free(name);
	return r;
}

static int auto_add(struct store *s, int64_t user, bool *on_r, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "SELECT schedule_auto_add FROM users WHERE principal_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, user);
	int r = store_step(st, err);
	*on_r = r > 0 && store_col_int(st, 0) != 0;
	store_stmt_done(&st);
	return r < 0 ? -1 : 0;
}

int pim_schedule_set_auto_add(struct store *s, int64_t user, bool on, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		s, "UPDATE users SET schedule_auto_add = $2 WHERE principal_id = $1", err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, user);
	store_bind_int(st, 2, on ? 1 : 0);
	int r = store_run(st, err);
	bool changed = r == 0 && store_changes(st) > 0;
	store_stmt_done(&st);
	if (r < 0)
		return -1;
	return changed ? 0 : ox_error_set(err, OX_ERR_NOT_FOUND, "no such user");
}

static int external(struct store *s, int64_t sender, const char *recipient, const char *method,
                    const char *itip, struct ox_error *err)
{
	if (imip_hook != NULL)
		return imip_hook(s, sender, recipient, method, itip, err);
	/* RFC 6638 3.2.9 would record 5.x in SCHEDULE-STATUS; until mail
	 * can carry it, the organizer's copy is left as written. */
	ox_log_kv(OX_LOG_INFO, "imip_not_sent", "method", method, "recipient", recipient, NULL);
	return 0;
}

/* --- the organizer's side (RFC 6638 3.2.1) --- */

struct organizer_run {
	struct store *s;
	const struct pim_calendar *cal;
	struct pim_itip *it; /* of the new text, or of the old on removal */
	const char *text;    /* the organizer's object as stored now */
	GHashTable *answers; /* address → PARTSTAT decided by a resource */
};

/* An attendee who is a user gets the invitation in their inbox and their
 * copy updated (their own answer kept) or, if they want it, added. */
static int request_user(struct organizer_run *o, const struct cal_user *u, struct ox_error *err)
{
	char *message = pim_itip_message(o->text, PIM_ITIP_REQUEST);
	if (message == NULL)
		return ox_error_set(err, OX_ERR_INTERNAL, "cannot build the invitation");
	int r = deliver_message(o->s, u->id, o->it->uid, message, err);
	g_free(message);
	int64_t folder = 0;
	char *name = NULL, *copy = NULL;
	if (r == 0)
		r = find_copy(o->s, u->id, o->it->uid, &folder, &name, &copy, err);
	if (r > 0) {
		struct pim_itip mine;
		const char *partstat = "NEEDS-ACTION";
		bool parsed = pim_itip_parse(copy, &mine) == 0;
		const struct pim_itip_attendee *a =
			parsed ? pim_itip_attendee(&mine, u->address) : NULL;
		if (a != NULL)
			partstat = a->partstat;
		char *text = pim_itip_with_partstat(o->text, u->address, partstat, PIM_ITIP_NONE);
		r = pim_object_write_as(o->s, folder, u->id, name, text != NULL ? text : o->text,
		                        err);
		g_free(text);
		if (parsed)
			pim_itip_clear(&mine);
	} else if (r == 0) {
		bool on = false;
		r = auto_add(o->s, u->id, &on, err);
		int64_t calendar;
		if (r == 0 && on &&
		    (r = folder_by_role(o->s, u->id, "calendar", &calendar, err)) > 0) {
			name = copy_name(o->s, calendar, o->it->uid, err);
			r = name != NULL
			            ? pim_object_write_as(o->s, calendar, u->id, name, o->text, err)
			            : -1;
		}
	}
	g_free(name);
	g_free(copy);
	return r < 0 ? -1 : 0;
}

static int add_busy(int64_t start, int64_t end, bool tentative, void *ctx)
{
	GArray *periods = ctx;
	if (periods->len >= 2 * PIM_BUSY_MAX)
		return -1;
	g_array_append_val(periods, start);
	g_array_append_val(periods, end);
	return 0;
}

static int conflict_found(int64_t start, int64_t end, bool tentative, void *ctx)
{
	*(bool *)ctx = true;
	return -1; /* one is enough */
}

/* Whether the resource is busy at any instance of the object, other
 * objects with its UID aside: 1, 0, -1. */
static int resource_busy(struct organizer_run *o, int64_t calendar, struct ox_error *err)
{
	struct pim_ical_index idx;
	enum pim_reject why;
	if (pim_ical_index(o->text, strlen(o->text), &idx, &why, err) < 0)
		return -1;
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	int64_t start = idx.has_start ? idx.first_start : now;
	int64_t end = idx.has_end ? idx.last_end : MAX(start, now) + BOOKING_HORIZON;
	pim_ical_index_clear(&idx);
	if (start >= end)
		return 0;
	GArray *periods = g_array_new(FALSE, FALSE, sizeof(int64_t));
	int r = 0;
	if (pim_ical_busy(o->text, start, end, add_busy, periods) < 0)
		r = ox_error_set(err, OX_ERR_LIMIT, "too many instances to book a resource");
	bool busy = false;
	for (guint i = 0; r == 0 && !busy && i + 1 < periods->len; i += 2) {
		int64_t ps = g_array_index(periods, int64_t, i);
		int64_t pe = g_array_index(periods, int64_t, i + 1);
		if (ps >= pe)
			continue;
		struct ox_error stop;
		if (pim_busy_folders(o->s, &calendar, 1, o->it->uid, ps, pe, conflict_found, &busy,
		                     &stop) < 0 &&
		    !busy) {
			*err = stop;
			r = -1;
		}
	}
	g_array_free(periods, TRUE);
	return r < 0 ? -1 : busy;
}

/* RFC 6638 3.2.1 leaves resources to the server: one with the
 * auto-accept policy accepts when free and declines when busy; one with
 * a manager holds the booking as NEEDS-ACTION and invites the manager. */
static int request_resource(struct organizer_run *o, const struct cal_user *u, struct ox_error *err)
{
	struct store_stmt *st = store_prepare(
		o->s,
		"SELECT booking, COALESCE(manager_id, 0) FROM resources WHERE principal_id = $1",
		err);
	if (st == NULL)
		return -1;
	store_bind_int(st, 1, u->id);
	int r = store_step(st, err);
	enum resource_booking booking = BOOKING_AUTO_ACCEPT;
	int64_t manager = 0;
	if (r > 0) {
		booking = (enum resource_booking)store_col_int(st, 0);
		manager = store_col_int(st, 1);
	}
	store_stmt_done(&st);
	if (r <= 0)
		return r;
	int64_t calendar;
	if (folder_by_role_or_create(o->s, u->id, FOLDER_CALENDAR, "calendar", "Calendar",
	                             &calendar, err) < 0)
		return -1;
	int64_t folder = 0;
	char *name = NULL, *copy = NULL;
	r = find_copy(o->s, u->id, o->it->uid, &folder, &name, &copy, err);
	if (r < 0)
		return -1;
	const char *partstat = "NEEDS-ACTION";
	if (booking == BOOKING_AUTO_ACCEPT) {
		int busy = resource_busy(o, calendar, err);
		if (busy < 0) {
			r = -1;
			goto out;
		}
		partstat = busy ? "DECLINED" : "ACCEPTED";
	}
	g_hash_table_replace(o->answers, g_strdup(u->address), g_strdup(partstat));
	if (strcmp(partstat, "DECLINED") == 0) {
		/* A declined booking holds no time. */
		r = r > 0 ? pim_object_remove_as(o->s, folder, u->id, name, err) : 0;
		goto out;
	}
	char *text = pim_itip_with_partstat(o->text, u->address, partstat, PIM_ITIP_NONE);
	if (r == 0) {
		folder = calendar;
		name = copy_name(o->s, calendar, o->it->uid, err);
	}
	r = name != NULL ? pim_object_write_as(o->s, folder, u->id, name,
	                                       text != NULL ? text : o->text, err)
	                 : -1;
	g_free(text);
	if (r == 0 && booking == BOOKING_MANAGER && manager != 0) {
		char *message = pim_itip_message(o->text, PIM_ITIP_REQUEST);
		r = message != NULL ? deliver_message(o->s, manager, o->it->uid, message, err) : 0;
		g_free(message);
	}
out:
	g_free(name);
	g_free(copy);
	return r < 0 ? -1 : 0;
}

/* RFC 6638 3.2.1.2 / 3.2.1.3: the attendee's copy goes, a CANCEL tells
 * them. `text` is the object as the attendee last knew it. */
static int cancel_attendee(struct organizer_run *o, const struct cal_user *u, const char *text,
                           struct ox_error *err)
{
	if (u->id == 0) {
		char *message = pim_itip_message(text, PIM_ITIP_CANCEL);
		int r = message != NULL ? external(o->s, o->cal->owner_id, u->address, "CANCEL",
		                                   message, err)
		                        : 0;
		g_free(message);
		return r;
	}
	int64_t folder = 0;
	char *name = NULL, *copy = NULL;
	int r = find_copy(o->s, u->id, o->it->uid, &folder, &name, &copy, err);
	if (r > 0)
		r = pim_object_remove_as(o->s, folder, u->id, name, err);
	if (r == 0 && u->kind == PRINCIPAL_USER) {
		char *message = pim_itip_message(text, PIM_ITIP_CANCEL);
		r = message != NULL ? deliver_message(o->s, u->id, o->it->uid, message, err) : 0;
		g_free(message);
	}
	g_free(name);
	g_free(copy);
	return r < 0 ? -1 : 0;
}

static int request_attendee(struct organizer_run *o, const struct cal_user *u, struct ox_error *err)
{
	if (u->id == 0) {
		char *message = pim_itip_message(o->text, PIM_ITIP_REQUEST);
		int r = message != NULL ? external(o->s, o->cal->owner_id, u->address, "REQUEST",
		                                   message, err)
		                        : 0;
		g_free(message);
		return r;
	}
	if (u->kind == PRINCIPAL_RESOURCE)
		return request_resource(o, u, err);
	if (u->kind == PRINCIPAL_USER)
		return request_user(o, u, err);
	return 0; /* groups are not expanded */
}

/* Whether the attendee is the organizer's own calendar user. */
static bool is_owner(const struct cal_user *u, int64_t owner)
{
	return u->id != 0 && u->id == owner;
}

static int as_organizer(struct store *s, const struct pim_calendar *cal, int64_t context_id,
                        struct pim_itip *old, struct pim_itip *new, const char *old_text,
                        const char *new_text, char **rewritten_r, struct ox_error *err)
{
	struct organizer_run o = {s, cal, new != NULL ? new : old, new_text, NULL};
	o.answers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	int r = 0;
	/* Those no longer invited, or everyone when it is deleted or
	 * cancelled. */
	for (size_t i = 0; r == 0 && old != NULL && i < old->nattendees; i++) {
		const struct pim_itip_attendee *a = &old->attendees[i];
		bool still = new != NULL &&pim_itip_attendee(new, a->address) != NULL;
		if (a->by_client || still)
			continue;
		struct cal_user u;
		r = resolve(s, context_id, a->address, &u, err);
		if (r == 0 && !is_owner(&u, cal->owner_id))
			r = cancel_attendee(&o, &u, new != NULL ? new_text : old_text, err);
		cal_user_clear(&u);
	}
	for (size_t i = 0; r == 0 && new != NULL &&i < new->nattendees; i++) {
		const struct pim_itip_attendee *a = &new->attendees[i];
		if (a->by_client)
			continue;
		struct cal_user u;
		r = resolve(s, context_id, a->address, &u, err);
		if (r == 0 && !is_owner(&u, cal->owner_id))
			r = new->cancelled ? cancel_attendee(&o, &u, new_text, err)
			                   : request_attendee(&o, &u, err);
		cal_user_clear(&u);
	}
	/* The resources' answers go into the organizer's copy. */
	char *text = NULL;
	GHashTableIter iter;
	gpointer address, partstat;
	g_hash_table_iter_init(&iter, o.answers);
	while (r == 0 && g_hash_table_iter_next(&iter, &address, &partstat)) {
		const struct pim_itip_attendee *a = pim_itip_attendee(new, address);
		if (a != NULL && strcmp(a->partstat, partstat) == 0)
			continue;
		char *next = pim_itip_with_partstat(text != NULL ? text : new_text, address,
		                                    partstat, PIM_ITIP_NONE);
		if (next != NULL) {
			g_free(text);
			text = next;
		}
	}
	g_hash_table_unref(o.answers);
	*rewritten_r = text;
	return r;
}

/* --- the attendee's side (RFC 6638 3.2.2) --- */

/* The attendee's answer reaches the organizer: their copy's PARTSTAT,
 * and a REPLY in their inbox. */
static int reply(struct store *s, const struct pim_calendar *cal, int64_t context_id,
                 const struct pim_itip *it, const char *address, const char *partstat,
                 const char *text, struct ox_error *err)
{
	char *answered = pim_itip_with_partstat(text, address, partstat, PIM_ITIP_NONE);
	char *message = answered != NULL ? pim_itip_reply(answered, address) : NULL;
	g_free(answered);
	if (message == NULL)
		return 0;
	struct cal_user org;
	int r = resolve(s, context_id, it->organizer, &org, err);
	if (r == 0 && org.id == 0) {
		r = external(s, cal->owner_id, it->organizer, "REPLY", message, err);
	} else if (r == 0 && org.kind == PRINCIPAL_USER) {
		int64_t folder = 0;
		char *name = NULL, *copy = NULL;
		r = find_copy(s, org.id, it->uid, &folder, &name, &copy, err);
		if (r > 0) {
			char *updated =
				pim_itip_with_partstat(copy, address, partstat, PIM_ITIP_NONE);
			/* An organizer's copy that no longer names them keeps
			 * its own answer list (RFC 6638 3.2.2.1: ignore). */
			r = updated != NULL
			            ? pim_object_write_as(s, folder, org.id, name, updated, err)
			            : 0;
			g_free(updated);
		}
		if (r == 0)
			r = deliver_message(s, org.id, it->uid, message, err);
		g_free(name);
		g_free(copy);
	}
	cal_user_clear(&org);
	g_free(message);
	return r < 0 ? -1 : 0;
}

/* Which of the owner's addresses the object names as an attendee. */
static const struct pim_itip_attendee *owner_attendee(struct store *s, const struct pim_itip *it,
                                                      int64_t owner)
{
	for (size_t i = 0; i < it->nattendees; i++) {
		int64_t id = 0;
		enum principal_kind kind;
		struct ox_error err;
		if (principal_by_address(s, it->attendees[i].address, &id, &kind, &err) > 0 &&
		    id == owner)
			return &it->attendees[i];
	}
	return NULL;
}

static int as_attendee(struct store *s, const struct pim_calendar *cal, int64_t context_id,
                       struct pim_itip *old, struct pim_itip *new, const char *old_text,
                       const char *new_text, struct ox_error *err)
{
	if (new == NULL) {
		/* RFC 6638 3.2.2.3: removing an invitation declines it. */
		const struct pim_itip_attendee *me = owner_attendee(s, old, cal->owner_id);
		if (me == NULL || me->by_client || old->organizer_by_client ||
		    strcmp(me->partstat, "DECLINED") == 0)
			return 0;
		return reply(s, cal, context_id, old, me->address, "DECLINED", old_text, err);
	}
	const struct pim_itip_attendee *me = owner_attendee(s, new, cal->owner_id);
	if (me == NULL || me->by_client || new->organizer_by_client)
		return 0;
	const struct pim_itip_attendee *before =
		old != NULL ? pim_itip_attendee(old, me->address) : NULL;
	const char *was = before != NULL ? before->partstat : "NEEDS-ACTION";
	if (strcmp(was, me->partstat) == 0)
		return 0;
	return reply(s, cal, context_id, new, me->address, me->partstat, new_text, err);
}

int pim_schedule_object(struct store *s, const struct pim_calendar *cal, const char *old_data,
                        const char *new_data, char **rewritten_r, struct ox_error *err)
{
	*rewritten_r = NULL;
	if (cal->owner_id == 0 || cal->inbox)
		return 0;
	struct pim_itip old = {0}, new = {0};
	bool has_old = old_data != NULL && pim_itip_parse(old_data, &old) == 0;
	bool has_new = new_data != NULL && pim_itip_parse(new_data, &new) == 0;
	const char *organizer = has_new && new.organizer != NULL  ? new.organizer
	                        : has_old &&old.organizer != NULL ? old.organizer
	                                                          : NULL;
	int r = 0;
	if (organizer == NULL)
		goto out;
	int64_t context_id = 0;
	bool enabled;
	if (principal_context(s, cal->owner_id, &context_id, &enabled, err) <= 0) {
		r = -1;
		goto out;
	}
	struct cal_user org;
	r = resolve(s, context_id, organizer, &org, err);
	bool organizing = r == 0 && org.id == cal->owner_id;
	cal_user_clear(&org);
	if (r < 0)
		goto out;
	if (organizing && !(has_new ? new.organizer_by_client : old.organizer_by_client))
		r = as_organizer(s, cal, context_id, has_old ? &old : NULL, has_new ? &new : NULL,
		                 old_data, new_data, rewritten_r, err);
	else if (!organizing)
		r = as_attendee(s, cal, context_id, has_old ? &old : NULL, has_new ? &new : NULL,
		                old_data, new_data, err);
out:
	if (has_old)
		pim_itip_clear(&old);
	if (has_new)
		pim_itip_clear(&new);
	return r;
}

/* --- free/busy across users (RFC 6638 3.3 / 5.1) --- */

int pim_schedule_busy(struct store *s, int64_t actor, const char *address, int64_t start,
                      int64_t end, pim_busy_fn *fn, void *ctx, struct ox_error *err)
{
	int64_t context_id = 0;
	bool enabled;
	int r = principal_context(s, actor, &context_id, &enabled, err);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	struct cal_user u;
	r = resolve(s, context_id, address, &u, err);
	int64_t who = u.id;
	bool groupish = u.kind == PRINCIPAL_GROUP;
	cal_user_clear(&u);
	if (r < 0)
		return -1;
	if (who == 0 || groupish)
		return 0;
	int64_t calendar = 0;
	if (folder_by_role(s, who, "calendar", &calendar, err) < 0)
		return -1;
	/* The owner's other calendars count where the actor may see them. */
	struct folder_info **list = NULL;
	if (folder_list(s, actor, 0, &list, err) < 0)
		return -1;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (calendar != 0)
		g_array_append_val(ids, calendar);
	for (struct folder_info **f = list; *f != NULL; f++) {
		if ((*f)->owner_id == who && (*f)->module == FOLDER_CALENDAR &&
		    (*f)->id != calendar &&
		    ((*f)->role == NULL || strcmp((*f)->role, INBOX_ROLE) != 0))
			g_array_append_val(ids, (*f)->id);
	}
	folder_list_free(&list);
	r = pim_busy_folders(s, (const int64_t *)(void *)ids->data, ids->len, NULL, start, end, fn,
	                     ctx, err);
	g_array_free(ids, TRUE);
	return r < 0 ? -1 : 1;
}

static bool printable(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return g_utf8_validate(text, -1, NULL);
}

int pim_schedule_freebusy(struct store *s, int64_t actor, const char *data, size_t len,
                          pim_fb_answer_fn *fn, void *ctx, struct ox_error *err)
{
	if (len == 0 || len > PIM_OBJECT_MAX || memchr(data, '\0', len) != NULL ||
	    !g_utf8_validate(data, (gssize)len, NULL))
		return ox_error_set(err, OX_ERR_INVALID, "a free/busy request is iCalendar text");
	char *text = g_strndup(data, len);
	struct pim_itip_fb fb;
	int r = pim_itip_fb_parse(text, &fb);
	g_free(text);
	if (r < 0)
		return ox_error_set(err, OX_ERR_INVALID,
		                    "not a VFREEBUSY request with ORGANIZER, DTSTART, DTEND and "
		                    "ATTENDEE");
	/* RFC 6638 5.1: the organizer is the one asking. */
	int64_t id = 0;
	enum principal_kind kind;
	r = principal_by_address(s, fb.organizer, &id, &kind, err);
	if (r >= 0 && id != actor)
		r = ox_error_set(err, OX_ERR_PERM, "the ORGANIZER is not one of your addresses");
	GString *reply = g_string_new(NULL);
	for (char **a = fb.attendees; r >= 0 && *a != NULL; a++) {
		char *address = pim_itip_address(*a);
		g_string_truncate(reply, 0);
		struct pim_fb_answer answer = {*a, "3.7;Invalid calendar user", NULL};
		int found = address != NULL && printable(*a) ? 0 : -2;
		if (found == 0) {
			pim_itip_fb_begin(reply, &fb, *a);
			found = pim_schedule_busy(s, actor, address, fb.start, fb.end,
			                          pim_itip_fb_period, reply, err);
		}
		if (found > 0) {
			pim_itip_fb_end(reply);
			answer.status = "2.0;Success";
			answer.calendar_data = reply->str;
		}
		g_free(address);
		if (found == -1 && err->code != OX_ERR_LIMIT)
			r = -1;
		else if (fn(&answer, ctx) < 0)
			r = ox_error_set(err, OX_ERR_TEMP, "the client went away");
	}
	g_string_free(reply, TRUE);
	pim_itip_fb_clear(&fb);
	return r < 0 ? -1 : 0;
}
