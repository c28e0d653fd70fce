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
/* A group attendee is expanded up to this many members; a larger one
 * would make one PUT write that many calendars (CalendarServer bounds
 * attendees per meeting to 100 for the same reason). */
#define GROUP_MEMBERS_MAX 100

/* SCHEDULE-STATUS values (RFC 6638 3.2.9, 4.2). */
#define STATUS_PENDING "1.0"   /* handed to the iMIP hook, which only queues it */
#define STATUS_DELIVERED "1.2" /* in the recipient's inbox (and calendar) */
#define STATUS_ANSWERED "2.0"  /* the attendee's REPLY came in */
#define STATUS_INVALID "3.7"   /* an address of the context that names nobody */
#define STATUS_NO_ROUTE "5.2"  /* outside the server, and no iMIP hook to send it */
#define STATUS_REFUSED "5.3"   /* a group larger than GROUP_MEMBERS_MAX */

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
	/* An address in a mail domain of the context that names no enabled
	 * principal of it: nobody to deliver to, here or by mail. */
	bool invalid;
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

/* Whether the address's domain is a mail domain of the context: 1, 0, -1. */
static int in_context_domain(struct store *s, int64_t context_id, const char *address,
                             struct ox_error *err)
{
	const char *at = strrchr(address, '@');
	if (at == NULL)
		return 0;
	struct store_stmt *st = store_prepare(
		s, "SELECT 1 FROM mail_domains WHERE domain = $1 AND context_id = $2", err);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, at + 1);
	store_bind_int(st, 2, context_id);
	int r = store_step(st, err);
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
	if (r < 0)
		return -1;
	int64_t ctx = 0;
	bool enabled = false;
	if (r > 0 && principal_context(s, id, &ctx, &enabled, err) < 0)
		return -1;
	if (r > 0 && ctx == context_id && enabled) {
		u->id = id;
		u->context_id = ctx;
		u->kind = kind;
		return 0;
	}
	r = in_context_domain(s, context_id, address, err);
	u->invalid = r > 0;
	return r < 0 ? -1 : 0;
}

static void cal_user_clear(struct cal_user *u)
{
	g_free(u->address);
	memset(u, 0, sizeof(*u));
}

/* The group of the context an attendee's address names: one whose
 * principal has the address or, as groups have no mailbox, whose name is
 * the local part of an address in one of the context's domains. 1, 0,
 * -1. */
static int find_group(struct store *s, int64_t context_id, const char *address, int64_t *group_r,
                      struct ox_error *err)
{
	struct cal_user u;
	int r = resolve(s, context_id, address, &u, err);
	if (r == 0 && u.id != 0) {
		*group_r = u.id;
		r = u.kind == PRINCIPAL_GROUP;
	} else if (r == 0 && u.invalid) {
		char *local = g_strndup(address, (gsize)(strrchr(address, '@') - address));
		struct store_stmt *st = store_prepare(s,
		                                      "SELECT id FROM principals WHERE "
		                                      "context_id = $1 AND kind = $2 AND name = $3",
		                                      err);
		r = -1;
		if (st != NULL) {
			store_bind_int(st, 1, context_id);
			store_bind_int(st, 2, PRINCIPAL_GROUP);
			store_bind_text(st, 3, local);
			r = store_step(st, err);
			if (r > 0)
				*group_r = store_col_int(st, 0);
			store_stmt_done(&st);
		}
		g_free(local);
	}
	cal_user_clear(&u);
	return r;
}

/* The primary addresses of a group's enabled members but `skip` (the
 * organizer), NULL-terminated in *members_r: their number, which may be
 * over GROUP_MEMBERS_MAX (then *members_r is NULL), or -1. */
static int group_members(struct store *s, int64_t group, int64_t skip, char ***members_r,
                         struct ox_error *err)
{
	*members_r = NULL;
	struct group_info info;
	int r = group_lookup_id(s, group, &info, err);
	if (r <= 0)
		return r;
	int n = 0;
	for (int64_t *m = info.members; *m != 0; m++)
		n++;
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
	for (int64_t *m = info.members; n <= GROUP_MEMBERS_MAX && *m != 0; m++) {
		struct user_info user;
		if (*m == skip)
			continue;
		r = user_lookup_id(s, *m, &user, err);
		if (r < 0)
			break;
		if (r > 0 && user.enabled && user.addresses != NULL && user.addresses[0] != NULL)
			g_ptr_array_add(found, g_ascii_strdown(user.addresses[0], -1));
		if (r > 0)
			user_info_clear(&user);
	}
	group_info_clear(&info);
	if (r < 0 || n > GROUP_MEMBERS_MAX) {
		g_ptr_array_unref(found);
		return r < 0 ? -1 : n;
	}
	g_ptr_array_add(found, NULL);
	*members_r = (char **)(void *)g_ptr_array_free(found, FALSE);
	return n;
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
	r = pim_object_write_as(s, inbox, user, name, message, PIM_TAG_NONE, err);
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

/* A message for a calendar user outside the server goes to the iMIP hook;
 * *status_r says what became of it. */
static int external(struct store *s, int64_t sender, const char *recipient, const char *method,
                    const char *itip, const char **status_r, struct ox_error *err)
{
	if (imip_hook != NULL) {
		*status_r = STATUS_PENDING;
		return imip_hook(s, sender, recipient, method, itip, err);
	}
	ox_log_kv(OX_LOG_INFO, "imip_not_sent", "method", method, "recipient", recipient, NULL);
	*status_r = STATUS_NO_ROUTE;
	return 0;
}

/* --- the organizer's side (RFC 6638 3.2.1) --- */

struct organizer_run {
	struct store *s;
	const struct pim_calendar *cal;
	int64_t context_id;
	struct pim_itip *it; /* of the new text, or of the old on removal */
	const char *text;    /* the organizer's object as it is being stored */
	char *copy;          /* text as attendees keep it (made at first use) */
	char *request;       /* text as a REQUEST (made at first use) */
	GHashTable *answers; /* address → PARTSTAT decided by a resource */
	GHashTable *status;  /* address → SCHEDULE-STATUS of this delivery */
};

/* What an attendee's calendar gets: the organizer's object without what
 * only steers the organizer's server. NULL with err. */
static const char *attendee_copy(struct organizer_run *o, struct ox_error *err)
{
	if (o->copy == NULL)
		o->copy = pim_itip_message(o->text, PIM_ITIP_NONE);
	if (o->copy == NULL)
		ox_error_set(err, OX_ERR_INTERNAL, "cannot build the invitation");
	return o->copy;
}

static const char *request_message(struct organizer_run *o, struct ox_error *err)
{
	if (o->request == NULL)
		o->request = pim_itip_message(o->text, PIM_ITIP_REQUEST);
	if (o->request == NULL)
		ox_error_set(err, OX_ERR_INTERNAL, "cannot build the invitation");
	return o->request;
}

static void note_status(struct organizer_run *o, const char *address, const char *status)
{
	g_hash_table_replace(o->status, g_strdup(address), (gpointer)status);
}

/* The attendee's updated copy: the organizer's object with their own
 * answer and the status of their last REPLY (on the ORGANIZER) kept. */
static char *updated_copy(const char *copy, const char *address, const char *old_copy)
{
	struct pim_itip mine;
	if (pim_itip_parse(old_copy, &mine) < 0)
		return pim_itip_with_partstat(copy, address, "NEEDS-ACTION", PIM_ITIP_NONE);
	const struct pim_itip_attendee *a = pim_itip_attendee(&mine, address);
	char *text = pim_itip_with_partstat(copy, address, a != NULL ? a->partstat : "NEEDS-ACTION",
	                                    PIM_ITIP_NONE);
	if (text != NULL && mine.organizer_status != NULL) {
		char *next = pim_itip_with_status(text, NULL, mine.organizer_status);
		g_free(text);
		text = next;
	}
	pim_itip_clear(&mine);
	return text;
}

/* An attendee who is a user gets the invitation in their inbox and their
 * copy updated (their own answer kept) or, if they want it, added. Either
 * is a change by the organizer: a new Schedule-Tag. */
static int request_user(struct organizer_run *o, const struct cal_user *u, struct ox_error *err)
{
	const char *message = request_message(o, err);
	const char *copy = message != NULL ? attendee_copy(o, err) : NULL;
	if (copy == NULL)
		return -1;
	int r = deliver_message(o->s, u->id, o->it->uid, message, err);
	int64_t folder = 0;
	char *name = NULL, *old_copy = NULL;
	if (r == 0)
		r = find_copy(o->s, u->id, o->it->uid, &folder, &name, &old_copy, err);
	if (r > 0) {
		char *text = updated_copy(copy, u->address, old_copy);
		r = pim_object_write_as(o->s, folder, u->id, name, text != NULL ? text : copy,
		                        PIM_TAG_NEW, err);
		g_free(text);
	} else if (r == 0) {
		bool on = false;
		r = auto_add(o->s, u->id, &on, err);
		int64_t calendar;
		if (r == 0 && on &&
		    (r = folder_by_role(o->s, u->id, "calendar", &calendar, err)) > 0) {
			name = copy_name(o->s, calendar, o->it->uid, err);
			r = name != NULL ? pim_object_write_as(o->s, calendar, u->id, name, copy,
			                                       PIM_TAG_NEW, err)
			                 : -1;
		}
	}
	g_free(name);
	g_free(old_copy);
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
	/* The index reads floating times as UTC: widened, the window holds
	 * them in any zone. */
	int64_t start = idx.has_start ? pim_widen_down(idx.first_start) : now;
	int64_t end = idx.has_end ? pim_widen_up(idx.last_end) : MAX(start, now) + BOOKING_HORIZON;
	pim_ical_index_clear(&idx);
	if (start >= end)
		return 0;
	/* The organizer's floating times are in the organizer's calendar's
	 * zone (RFC 4791 9.9), as the room's own are in the room's. */
	struct pim_zone *zone = NULL;
	if (pim_folder_zone(o->s, o->cal->folder_id, &zone, NULL, err) < 0)
		return -1;
	GArray *periods = g_array_new(FALSE, FALSE, sizeof(int64_t));
	int r = 0;
	if (pim_ical_busy_in(o->text, zone, start, end, add_busy, periods) < 0)
		r = ox_error_set(err, OX_ERR_LIMIT, "too many instances to book a resource");
	pim_zone_free(&zone);
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
	const char *copy = attendee_copy(o, err);
	if (copy == NULL)
		return -1;
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
	char *name = NULL, *old_copy = NULL;
	r = find_copy(o->s, u->id, o->it->uid, &folder, &name, &old_copy, err);
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
	char *text = pim_itip_with_partstat(copy, u->address, partstat, PIM_ITIP_NONE);
	if (r == 0) {
		folder = calendar;
		name = copy_name(o->s, calendar, o->it->uid, err);
	}
	r = name != NULL ? pim_object_write_as(o->s, folder, u->id, name,
	                                       text != NULL ? text : copy, PIM_TAG_NEW, err)
	                 : -1;
	g_free(text);
	if (r == 0 && booking == BOOKING_MANAGER && manager != 0) {
		const char *message = request_message(o, err);
		r = message != NULL ? deliver_message(o->s, manager, o->it->uid, message, err) : -1;
	}
out:
	g_free(name);
	g_free(old_copy);
	return r < 0 ? -1 : 0;
}

/* RFC 6638 3.2.1.2 / 3.2.1.3: the attendee's copy goes, a CANCEL tells
 * them. `text` is the object as the attendee last knew it. */
static int cancel_attendee(struct organizer_run *o, const struct cal_user *u, const char *text,
                           struct ox_error *err)
{
	if (u->invalid) {
		note_status(o, u->address, STATUS_INVALID);
		return 0;
	}
	char *message = pim_itip_message(text, PIM_ITIP_CANCEL);
	if (message == NULL)
		return 0;
	int r = 0;
	if (u->id == 0) {
		const char *status = NULL;
		r = external(o->s, o->cal->owner_id, u->address, "CANCEL", message, &status, err);
		note_status(o, u->address, status);
		g_free(message);
		return r;
	}
	int64_t folder = 0;
	char *name = NULL, *copy = NULL;
	r = find_copy(o->s, u->id, o->it->uid, &folder, &name, &copy, err);
	if (r > 0)
		r = pim_object_remove_as(o->s, folder, u->id, name, err);
	if (r == 0 && u->kind == PRINCIPAL_USER)
		r = deliver_message(o->s, u->id, o->it->uid, message, err);
	note_status(o, u->address, STATUS_DELIVERED);
	g_free(message);
	g_free(name);
	g_free(copy);
	return r < 0 ? -1 : 0;
}

static int request_attendee(struct organizer_run *o, const struct cal_user *u, struct ox_error *err)
{
	if (u->invalid) {
		note_status(o, u->address, STATUS_INVALID);
		return 0;
	}
	if (u->id == 0) {
		const char *message = request_message(o, err);
		const char *status = NULL;
		int r = message != NULL ? external(o->s, o->cal->owner_id, u->address, "REQUEST",
		                                   message, &status, err)
		                        : -1;
		note_status(o, u->address, status);
		return r;
	}
	int r = 0;
	if (u->kind == PRINCIPAL_RESOURCE)
		r = request_resource(o, u, err);
	else if (u->kind == PRINCIPAL_USER)
		r = request_user(o, u, err);
	/* A group without CUTYPE=GROUP has no inbox of its own. */
	note_status(o, u->address, u->kind == PRINCIPAL_GROUP ? STATUS_INVALID : STATUS_DELIVERED);
	return r;
}

/* Whether the attendee is the organizer's own calendar user. */
static bool is_owner(const struct cal_user *u, int64_t owner)
{
	return u->id != 0 && u->id == owner;
}

/* RFC 6638 leaves groups to the server: a CUTYPE=GROUP attendee that is
 * a group of the organizer's context brings its members in as attendees
 * (as Apple's and SOGo's servers do), so that each is invited; members
 * already invited stay as they are. The group itself gets no message.
 * *text_io is replaced when someone was added (*changed_r). */
static int expand_groups(struct organizer_run *o, const struct pim_itip *it, char **text_io,
                         bool *changed_r, struct ox_error *err)
{
	*changed_r = false;
	for (size_t i = 0; i < it->nattendees; i++) {
		const struct pim_itip_attendee *a = &it->attendees[i];
		int64_t group = 0;
		int r = a->group && !a->by_client
		                ? find_group(o->s, o->context_id, a->address, &group, err)
		                : 0;
		if (r <= 0) {
			if (r < 0)
				return -1;
			continue;
		}
		char **members = NULL;
		int n = group_members(o->s, group, o->cal->owner_id, &members, err);
		if (n < 0)
			return -1;
		note_status(o, a->address, members != NULL ? STATUS_DELIVERED : STATUS_REFUSED);
		char *next = members != NULL ? pim_itip_with_members(*text_io, a->address, members)
		                             : NULL;
		g_strfreev(members);
		if (next != NULL) {
			g_free(*text_io);
			*text_io = next;
			*changed_r = true;
		}
	}
	return 0;
}

/* The attendees' answers and delivery statuses written into the
 * organizer's object. */
static char *annotate(struct organizer_run *o, const char *text)
{
	char *out = g_strdup(text);
	GHashTableIter iter;
	gpointer address, partstat;
	g_hash_table_iter_init(&iter, o->answers);
	while (g_hash_table_iter_next(&iter, &address, &partstat)) {
		const struct pim_itip_attendee *a = pim_itip_attendee(o->it, address);
		if (a != NULL && strcmp(a->partstat, partstat) == 0)
			continue;
		char *next = pim_itip_with_partstat(out, address, partstat, PIM_ITIP_NONE);
		if (next != NULL) {
			g_free(out);
			out = next;
		}
	}
	if (g_hash_table_size(o->status) > 0) {
		char *next = pim_itip_with_status(out, o->status, NULL);
		if (next != NULL) {
			g_free(out);
			out = next;
		}
	}
	return out;
}

/* Cancels those no longer invited, or everyone when the object is
 * deleted or cancelled, then invites the others. */
static int deliver_all(struct organizer_run *o, const struct pim_itip *old,
                       const struct pim_itip *new, const char *old_text, struct ox_error *err)
{
	int r = 0;
	for (size_t i = 0; r == 0 && old != NULL && i < old->nattendees; i++) {
		const struct pim_itip_attendee *a = &old->attendees[i];
		bool still = new != NULL &&pim_itip_attendee(new, a->address) != NULL;
		if (a->by_client || still)
			continue;
		struct cal_user u;
		r = resolve(o->s, o->context_id, a->address, &u, err);
		if (r == 0 && !is_owner(&u, o->cal->owner_id))
			r = cancel_attendee(o, &u, new != NULL ? o->text : old_text, err);
		cal_user_clear(&u);
	}
	for (size_t i = 0; r == 0 && new != NULL &&i < new->nattendees; i++) {
		const struct pim_itip_attendee *a = &new->attendees[i];
		/* Groups were expanded already. */
		if (a->by_client || g_hash_table_contains(o->status, a->address))
			continue;
		struct cal_user u;
		r = resolve(o->s, o->context_id, a->address, &u, err);
		if (r == 0 && !is_owner(&u, o->cal->owner_id))
			r = new->cancelled ? cancel_attendee(o, &u, o->text, err)
			                   : request_attendee(o, &u, err);
		cal_user_clear(&u);
	}
	return r;
}

/* new_text NULL: the object was deleted. *rewritten_r gets the
 * organizer's object when scheduling changed it: client SCHEDULE-STATUS
 * and SCHEDULE-FORCE-SEND taken out, group members added, resources'
 * answers and every delivery's SCHEDULE-STATUS (RFC 6638 3.2.9) put in. */
static int as_organizer(struct store *s, const struct pim_calendar *cal, int64_t context_id,
                        struct pim_itip *old, struct pim_itip *new, const char *old_text,
                        const char *new_text, char **rewritten_r, struct ox_error *err)
{
	struct organizer_run o = {
		.s = s, .cal = cal, .context_id = context_id, .it = new != NULL ? new : old};
	o.answers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	o.status = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char *text = new_text != NULL ? pim_itip_scrub(new_text) : NULL;
	if (new_text != NULL && text == NULL)
		text = g_strdup(new_text);
	struct pim_itip expanded = {0};
	bool changed = false;
	int r = new != NULL ? expand_groups(&o, new, &text, &changed, err) : 0;
	if (r == 0 && changed) {
		if (pim_itip_parse(text, &expanded) < 0)
			r = ox_error_set(err, OX_ERR_INTERNAL, "cannot read the expanded object");
		else
			new = o.it = &expanded;
	}
	o.text = text;
	if (r == 0)
		r = deliver_all(&o, old, new, old_text, err);
	if (r == 0 && text != NULL) {
		char *annotated = annotate(&o, text);
		if (strcmp(annotated, new_text) != 0)
			*rewritten_r = annotated;
		else
			g_free(annotated);
	}
	if (changed)
		pim_itip_clear(&expanded);
	g_free(text);
	g_free(o.copy);
	g_free(o.request);
	g_hash_table_unref(o.answers);
	g_hash_table_unref(o.status);
	return r;
}

/* --- the attendee's side (RFC 6638 3.2.2) --- */

/* The attendee's answer reaches the organizer: their copy's PARTSTAT
 * (with SCHEDULE-STATUS 2.0, RFC 6638 4.2: an answer merged in, so the
 * copy keeps its Schedule-Tag), and a REPLY in their inbox. *status_r
 * gets what became of the REPLY. */
static int reply(struct store *s, const struct pim_calendar *cal, int64_t context_id,
                 const struct pim_itip *it, const char *address, const char *partstat,
                 const char *text, const char **status_r, struct ox_error *err)
{
	char *answered = pim_itip_with_partstat(text, address, partstat, PIM_ITIP_NONE);
	char *message = answered != NULL ? pim_itip_reply(answered, address) : NULL;
	g_free(answered);
	if (message == NULL)
		return 0;
	struct cal_user org;
	int r = resolve(s, context_id, it->organizer, &org, err);
	*status_r = STATUS_INVALID;
	if (r == 0 && org.id == 0 && !org.invalid) {
		r = external(s, cal->owner_id, it->organizer, "REPLY", message, status_r, err);
	} else if (r == 0 && org.id != 0 && org.kind == PRINCIPAL_USER) {
		int64_t folder = 0;
		char *name = NULL, *copy = NULL;
		r = find_copy(s, org.id, it->uid, &folder, &name, &copy, err);
		if (r > 0) {
			GHashTable *answered_status = g_hash_table_new(g_str_hash, g_str_equal);
			g_hash_table_insert(answered_status, (gpointer)address,
			                    (gpointer)STATUS_ANSWERED);
			char *merged =
				pim_itip_with_partstat(copy, address, partstat, PIM_ITIP_NONE);
			char *updated =
				merged != NULL ? pim_itip_with_status(merged, answered_status, NULL)
					       : NULL;
			/* An organizer's copy that no longer names them keeps
			 * its own answer list (RFC 6638 3.2.2.1: ignore). */
			r = updated != NULL ? pim_object_write_as(s, folder, org.id, name, updated,
			                                          PIM_TAG_KEEP, err)
			                    : 0;
			g_free(merged);
			g_free(updated);
			g_hash_table_unref(answered_status);
		}
		if (r == 0)
			r = deliver_message(s, org.id, it->uid, message, err);
		*status_r = STATUS_DELIVERED;
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

/* new NULL: the copy was deleted. *rewritten_r gets the attendee's copy
 * when the server changes it: the ORGANIZER's SCHEDULE-STATUS is the
 * server's (that of the REPLY just sent, else the one kept before, never
 * the client's: RFC 6638 3.2.9) and SCHEDULE-FORCE-SEND is never kept. */
static int as_attendee(struct store *s, const struct pim_calendar *cal, int64_t context_id,
                       struct pim_itip *old, struct pim_itip *new, const char *old_text,
                       const char *new_text, char **rewritten_r, struct ox_error *err)
{
	const char *status = NULL;
	if (new == NULL) {
		/* RFC 6638 3.2.2.3: removing an invitation declines it. */
		const struct pim_itip_attendee *me = owner_attendee(s, old, cal->owner_id);
		if (me == NULL || me->by_client || old->organizer_by_client ||
		    strcmp(me->partstat, "DECLINED") == 0)
			return 0;
		return reply(s, cal, context_id, old, me->address, "DECLINED", old_text, &status,
		             err);
	}
	const struct pim_itip_attendee *me = owner_attendee(s, new, cal->owner_id);
	if (me == NULL || me->by_client || new->organizer_by_client)
		return 0;
	const struct pim_itip_attendee *before =
		old != NULL ? pim_itip_attendee(old, me->address) : NULL;
	const char *was = before != NULL ? before->partstat : "NEEDS-ACTION";
	int r = 0;
	/* RFC 6638 3.2.11: SCHEDULE-FORCE-SEND=REPLY answers again unchanged. */
	if (new->force_reply || strcmp(was, me->partstat) != 0)
		r = reply(s, cal, context_id, new, me->address, me->partstat, new_text, &status,
		          err);
	const char *keep = status;
	if (keep == NULL && old != NULL)
		keep = old->organizer_status;
	if (r == 0 && (new->has_force_send || g_strcmp0(keep, new->organizer_status) != 0))
		*rewritten_r = pim_itip_with_status(new_text, NULL, keep != NULL ? keep : "");
	return r;
}

static int schedule_object(struct store *s, const struct pim_calendar *cal, const char *old_data,
                           const char *new_data, bool attendee_replies, char **rewritten_r,
                           struct ox_error *err)
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
		                 old_data, has_new ? new_data : NULL, rewritten_r, err);
	else if (!organizing && attendee_replies)
		r = as_attendee(s, cal, context_id, has_old ? &old : NULL, has_new ? &new : NULL,
		                old_data, new_data, rewritten_r, err);
out:
	if (has_old)
		pim_itip_clear(&old);
	if (has_new)
		pim_itip_clear(&new);
	if (r < 0) {
		g_free(*rewritten_r);
		*rewritten_r = NULL;
	}
	return r;
}

int pim_schedule_object(struct store *s, const struct pim_calendar *cal, const char *old_data,
                        const char *new_data, char **rewritten_r, struct ox_error *err)
{
	return schedule_object(s, cal, old_data, new_data, true, rewritten_r, err);
}

int pim_schedule_removed(struct store *s, const struct pim_calendar *cal, const char *old_data,
                         bool attendee_replies, struct ox_error *err)
{
	char *unused = NULL;
	int r = schedule_object(s, cal, old_data, NULL, attendee_replies, &unused, err);
	g_free(unused);
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
